/* SPDX-License-Identifier: Apache-2.0 */
/* crmlog: one JSON object per line on stderr with ts, level, svc, request_id, msg. */
#ifndef CRM_CRMLOG_H
#define CRM_CRMLOG_H

#include <stddef.h>

enum crmlog_level { CRMLOG_DEBUG, CRMLOG_INFO, CRMLOG_WARN, CRMLOG_ERROR };

/* Set once at start-up, before any thread exists: the process name and the lowest level shown. */
void crmlog_init(const char *svc, enum crmlog_level min_level);
int crmlog_parse_level(const char *s, enum crmlog_level *out) __attribute__((warn_unused_result));

/* Write one line. 'request_id' may be NULL. The message is JSON-escaped. Thread-safe:
 * each line is written with one write(2). */
void crmlog_write(enum crmlog_level level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(rid, ...) crmlog_write(CRMLOG_DEBUG, rid, __VA_ARGS__)
#define log_info(rid, ...)  crmlog_write(CRMLOG_INFO, rid, __VA_ARGS__)
#define log_warn(rid, ...)  crmlog_write(CRMLOG_WARN, rid, __VA_ARGS__)
#define log_error(rid, ...) crmlog_write(CRMLOG_ERROR, rid, __VA_ARGS__)

/* Append 's' JSON-escaped (without quotes) to 'out' of size 'cap' at '*len'; truncates safely. */
void crmlog_json_escape(char *out, size_t cap, size_t *len, const char *s);

#endif
