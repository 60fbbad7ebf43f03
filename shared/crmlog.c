/* SPDX-License-Identifier: Apache-2.0 */
/* crmlog: one JSON object per line on stderr with ts, level, svc, request_id, msg. */
#include "crmlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Process-wide sink settings, written once before threads start, read-only afterwards. */
static char log_svc[32] = "crm";
static enum crmlog_level log_min = CRMLOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void crmlog_init(const char *svc, enum crmlog_level min_level)
{
    snprintf(log_svc, sizeof(log_svc), "%s", svc);
    log_min = min_level;
}

int crmlog_parse_level(const char *s, enum crmlog_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum crmlog_level)i;
            return 0;
        }
    }
    return -1;
}

void crmlog_json_escape(char *out, size_t cap, size_t *len, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = *len;
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else if (c < 0x20) {
            memcpy(out + n, "\\u00", 4);
            out[n + 4] = hex[c >> 4];
            out[n + 5] = hex[c & 15];
            n += 6;
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    *len = n;
}

void crmlog_write(enum crmlog_level level, const char *request_id, const char *fmt, ...)
{
    char msg[2048];
    char line[4096];
    size_t len = 0;
    struct timeval tv;
    struct tm tm;
    va_list ap;

    if (level < log_min)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    len = (size_t)snprintf(line, sizeof(line),
                           "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\","
                           "\"svc\":\"%s\",\"request_id\":",
                           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                           tm.tm_sec, (long)(tv.tv_usec / 1000), level_names[level], log_svc);
    if (request_id) {
        line[len++] = '"';
        crmlog_json_escape(line, sizeof(line) - 16, &len, request_id);
        line[len++] = '"';
    } else {
        memcpy(line + len, "null", 4);
        len += 4;
    }
    memcpy(line + len, ",\"msg\":\"", 8);
    len += 8;
    crmlog_json_escape(line, sizeof(line) - 4, &len, msg);
    memcpy(line + len, "\"}\n", 3);
    len += 3;
    (void)!write(STDERR_FILENO, line, len);
}
