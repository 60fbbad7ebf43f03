/* SPDX-License-Identifier: Apache-2.0 */
/* util: allocation that aborts in one place, clocks, random ids, base64url, small string helpers.
 */
#ifndef CRM_UTIL_H
#define CRM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WUR          __attribute__((warn_unused_result))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Out of memory is not recoverable for a service: these abort in one place. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Milliseconds / microseconds of CLOCK_MONOTONIC, and seconds of the wall clock. */
uint64_t util_now_ms(void);
uint64_t util_now_us(void);
int64_t util_wall_s(void);
/* RFC 3339 UTC ("2026-11-22T02:14:00Z") of 'secs' into 'out' (at least 21 bytes). */
void util_format_time(int64_t secs, char *out, size_t outlen);

/* An RFC 3339 time (2026-12-03T08:00:00Z, fractions and an offset allowed) or, when
 * 'date_ok', a date (2026-12-03, midnight UTC), as a UTC DATETIME "2026-12-03 08:00:00.000"
 * into 'out' (at least 24 bytes). False when it is neither or not a real time (years 1900 to
 * 9999). */
bool util_time_parse(const char *s, bool date_ok, char *out, size_t outlen);
/* Days of month 'm' (1-12) of year 'y'. */
int util_days_in_month(int y, int m);
/* 'n' decimal digits at 's' as a number, or -1 when one is not a digit. */
int util_digits_at(const char *s, int n);

/* Whether 'v' (NULL: no) is one of 'set' (ends with NULL). */
bool util_one_of(const char *v, const char *const *set);

/* Fill 'buf' with 'n' cryptographically random bytes; aborts if the kernel cannot. */
void util_random_bytes(void *buf, size_t n);
/* A 32-hex-character random id (request ids, event ids) into 'out' (33 bytes). */
void util_random_hex(char *out, size_t nbytes_hex);

/* base64url without padding. Decode returns a malloc'd buffer and its length, NULL on bad input. */
char *util_b64url_encode(const unsigned char *in, size_t len);
unsigned char *util_b64url_decode(const char *in, size_t len, size_t *outlen) WUR;

/* Read a whole file (at most 'max' bytes) into a NUL-terminated malloc'd buffer. */
char *util_read_file(const char *path, size_t max, size_t *outlen) WUR;

/* The SHA-256 of 'len' bytes of 'data' as 64 lower-case hex digits and a NUL into 'out'. */
void util_sha256_hex(const void *data, size_t len, char out[65]);

/* True when 's' is a safe request id: 1..64 chars of [A-Za-z0-9._-]. */
bool util_valid_request_id(const char *s);

/* Parse a decimal integer strictly (whole string, range checked). */
int util_parse_long(const char *s, long min, long max, long *out) WUR;

#endif
