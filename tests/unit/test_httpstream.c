/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the HTTP server's streaming answers (http_stream_*): the head without a length,
 * pieces written later, the cap on open streams (503), the client's close noticed and told
 * once, the owner's end delivered before the close. A real server on a loopback port, driven
 * by the test's own loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"
#include "router.h"
#include "util.h"

struct fixture {
    struct event_base *base;
    struct router router;
    struct metrics *metrics;
    struct http_server *srv;
    int port;
    struct http_stream *st; /* the last stream opened */
    int closed;             /* on_close calls */
};

static void on_close(struct http_stream *st, void *arg)
{
    struct fixture *f = arg;
    if (f->st == st)
        f->st = NULL;
    f->closed++;
}

static void handler(struct http_request *req, void *arg)
{
    struct fixture *f = arg;
    struct http_stream *st = http_stream_start(req, 200, "text/event-stream", on_close, f);
    if (st)
        f->st = st;
}

/* A free loopback port (bound and released: the race with another process is theirs). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

static int client(struct fixture *f, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)f->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    char req[128];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    return fd;
}

/* Run the loop and read 'fd' into 'buf' until it holds 'want' (or the peer closed, when 'want'
 * is NULL), for at most 2 s. Returns true when it happened; '*eof' says whether it closed. */
static bool pump(struct fixture *f, int fd, char *buf, size_t cap, const char *want, bool *eof)
{
    size_t len = strlen(buf);
    for (int i = 0; i < 2000; i++) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        if (fd >= 0) {
            ssize_t n = read(fd, buf + len, cap - 1 - len);
            if (n > 0) {
                len += (size_t)n;
                buf[len] = '\0';
            } else if (n == 0) {
                if (eof)
                    *eof = true;
                return want == NULL || strstr(buf, want) != NULL;
            }
        }
        if (want && strstr(buf, want))
            return true;
        usleep(1000);
    }
    return false;
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    struct http_limits lim = {.max_header_bytes = 8192,
                              .max_body_bytes = 8192,
                              .max_public_body_bytes = 8192,
                              .max_buffered_bytes = 1 << 20,
                              .header_timeout_ms = 200, /* idle timers must not end a stream */
                              .body_timeout_ms = 200,
                              .write_timeout_ms = 1000,
                              .max_connections = 100,
                              .drain_timeout_ms = 100,
                              .max_streams = 1};
    f->base = event_base_new();
    router_init(&f->router);
    assert_int_equal(router_add(&f->router, "GET", "/s", handler, f, NULL, ROUTE_PUBLIC), 0);
    f->metrics = metrics_new("test");
    f->srv = http_server_new(f->base, "test", &lim, &f->router, f->metrics);
    f->port = free_port();
    struct config_addr addr;
    snprintf(addr.host, sizeof(addr.host), "127.0.0.1");
    addr.port = f->port;
    assert_int_equal(http_server_listen(f->srv, &addr, NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    http_server_free(f->srv);
    router_cleanup(&f->router);
    metrics_free(f->metrics);
    event_base_free(f->base);
    free(f);
    return 0;
}

static void test_stream(void **state)
{
    struct fixture *f = *state;
    char a[4096] = "", b[4096] = "";
    bool eof = false;

    int ca = client(f, "/s");
    assert_true(pump(f, ca, a, sizeof(a), "\r\n\r\n", NULL));
    assert_non_null(f->st);
    assert_true(strncmp(a, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_null(strcasestr(a, "Content-Length"));
    assert_non_null(strstr(a, "Cache-Control: no-cache\r\n"));
    assert_non_null(strstr(a, "X-Accel-Buffering: no\r\n"));
    assert_non_null(strstr(a, "Connection: close\r\n"));
    assert_non_null(strstr(a, "Content-Type: text/event-stream\r\n"));
    assert_int_equal(http_server_streams(f->srv), 1);

    /* idle past the header timeout, then a piece: it arrives */
    assert_false(pump(f, ca, a, sizeof(a), "never", &eof));
    assert_false(eof);
    assert_int_equal(http_stream_write(f->st, "data: 1\n\n", 9), 0);
    assert_true(pump(f, ca, a, sizeof(a), "data: 1\n\n", NULL));

    /* the cap: a second stream is refused with 503 */
    int cb = client(f, "/s");
    assert_true(pump(f, cb, b, sizeof(b), "too_many_streams", NULL));
    assert_true(strncmp(b, "HTTP/1.1 503 ", 13) == 0);
    assert_non_null(strstr(b, "\"code\":\"too_many_streams\""));
    assert_non_null(strstr(b, "Retry-After:"));
    close(cb);

    /* the client goes: told once, the count drops */
    close(ca);
    assert_false(pump(f, -1, a, sizeof(a), "never", NULL));
    assert_int_equal(f->closed, 1);
    assert_null(f->st);
    assert_int_equal(http_server_streams(f->srv), 0);

    /* a new stream, ended by its owner: what was written arrives, then the close; no on_close */
    char c[4096] = "";
    eof = false;
    int cc = client(f, "/s");
    assert_true(pump(f, cc, c, sizeof(c), "\r\n\r\n", NULL));
    assert_non_null(f->st);
    assert_int_equal(http_stream_write(f->st, "data: last\n\n", 12), 0);
    http_stream_end(f->st);
    f->st = NULL;
    assert_true(pump(f, cc, c, sizeof(c), NULL, &eof));
    assert_true(eof);
    assert_non_null(strstr(c, "data: last\n\n"));
    assert_int_equal(f->closed, 1);
    assert_int_equal(http_server_streams(f->srv), 0);
    close(cc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
