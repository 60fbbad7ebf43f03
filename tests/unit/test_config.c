/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of config loading: defaults, file, environment, and errors that name the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

struct cfg {
    struct config_addr listen;
    long workers;
    bool debug;
    char *name;
    char *dir;
};

static const struct config_entry table[] = {
    {"listen", CONFIG_ADDR, offsetof(struct cfg, listen), "127.0.0.1:7000", 0, 0, NULL},
    {"workers", CONFIG_INT, offsetof(struct cfg, workers), "4", 1, 64, NULL},
    {"debug", CONFIG_BOOL, offsetof(struct cfg, debug), "false", 0, 0, NULL},
    {"name", CONFIG_STRING, offsetof(struct cfg, name), NULL, 0, 0, "required"},
    {"dir", CONFIG_DIR, offsetof(struct cfg, dir), "/tmp", 0, 0, NULL},
    CONFIG_END,
};

static char path[64];

static void write_file(const char *text)
{
    strcpy(path, "/tmp/crm-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int load(const char *text, struct cfg *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    write_file(text);
    int rc = config_load(table, c, path, err, errlen);
    unlink(path);
    return rc;
}

static void test_defaults_file_env(void **state)
{
    struct cfg c;
    char err[256] = "";
    (void)state;
    setenv("CRM_WORKERS", "8", 1);
    assert_int_equal(load("# comment\nname = crm-test\n listen = 0.0.0.0:9000 \ndebug=yes\n", &c,
                          err, sizeof(err)),
                     0);
    unsetenv("CRM_WORKERS");
    assert_string_equal(c.listen.host, "0.0.0.0");
    assert_int_equal(c.listen.port, 9000);
    assert_int_equal(c.workers, 8); /* the environment wins over the file */
    assert_true(c.debug);
    assert_string_equal(c.name, "crm-test");
    assert_string_equal(c.dir, "/tmp");
    config_free(table, &c);
}

static void expect_error(const char *text, const char *key_fragment)
{
    struct cfg c;
    char err[256] = "";
    assert_int_equal(load(text, &c, err, sizeof(err)), -1);
    if (strstr(err, key_fragment) == NULL)
        fail_msg("error '%s' does not mention '%s'", err, key_fragment);
    config_free(table, &c);
}

static void test_errors_name_the_key(void **state)
{
    (void)state;
    expect_error("name = x\nworkers = 0\n", "'workers'");
    expect_error("name = x\nworkers = 4x\n", "'workers'");
    expect_error("name = x\nlisten = nowhere\n", "'listen'");
    expect_error("name = x\nlisten = 1.2.3.4:70000\n", "'listen'");
    expect_error("name = x\ndebug = perhaps\n", "'debug'");
    expect_error("name = x\ndir = /nonexistent/dir\n", "'dir'");
    expect_error("name = x\nbogus = 1\n", "'bogus'");
    expect_error("workers = 2\n", "'name'");
    expect_error("name = x\nname = y\n", "'name'");
    expect_error("name = x\njust words\n", "line 2");
}

static void test_env_error_names_variable(void **state)
{
    struct cfg c;
    char err[256] = "";
    (void)state;
    setenv("CRM_DEBUG", "maybe", 1);
    assert_int_equal(load("name = x\n", &c, err, sizeof(err)), -1);
    unsetenv("CRM_DEBUG");
    assert_non_null(strstr(err, "CRM_DEBUG"));
    config_free(table, &c);
}

static void test_env_overrides_a_bad_path_in_the_file(void **state)
{
    struct cfg c;
    char err[256] = "";
    (void)state;
    setenv("CRM_DIR", "/tmp", 1);
    int rc = load("name = x\ndir = /nonexistent/dir\n", &c, err, sizeof(err));
    unsetenv("CRM_DIR");
    assert_int_equal(rc, 0);
    assert_string_equal(c.dir, "/tmp");
    config_free(table, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_file_env),
        cmocka_unit_test(test_errors_name_the_key),
        cmocka_unit_test(test_env_error_names_variable),
        cmocka_unit_test(test_env_overrides_a_bad_path_in_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
