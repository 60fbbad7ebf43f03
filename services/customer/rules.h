/* SPDX-License-Identifier: Apache-2.0 */
/* rules: the shapes of a customer's fields (the unified social credit code with its check
 * digit, phone numbers, email, website, WeChat id, times) and the folded forms of a name that
 * the keyword search and the duplicate rule compare. Pure functions, no database. */
#ifndef CUSTOMER_RULES_H
#define CUSTOMER_RULES_H

#include <stdbool.h>
#include <stddef.h>

#define RULES_NAME_BYTES 256 /* room for a folded name of 60 characters (4 bytes each) */
#define RULES_GRAMS_MAX  64  /* distinct bigrams kept of one name */
#define RULES_GRAM_BYTES 9   /* two UTF-8 characters and the NUL */
#define RULES_TIME_BYTES 96  /* a DATETIME text (24), with room the compiler can prove */

/* 统一社会信用代码 (GB 32100-2015): 18 characters of 0-9 A-H J-N P-R T U W-Y whose last is the
 * check character of the first 17 (weights 3^i mod 31). Upper case only. */
bool rules_credit_code_valid(const char *s);

/* A mainland mobile number: 11 digits starting with 13 to 19. */
bool rules_mobile_valid(const char *s);
/* A fixed-line number: an area code (0 and 2 or 3 digits, a '-' optional) and 7 or 8 digits,
 * an extension '-1234' optional; or a 400/800 service number. */
bool rules_telephone_valid(const char *s);
bool rules_email_valid(const char *s);
/* A host name with a dot, "http://" or "https://" optional, no spaces. */
bool rules_website_valid(const char *s);
/* A WeChat id (a letter, then 5 to 19 letters, digits, '_' or '-') or a mobile number. */
bool rules_wechat_valid(const char *s);

/* The digits of 's' into 'out' (at most 'outlen' - 1 of them). */
void rules_digits(const char *s, char *out, size_t outlen);

/* An RFC 3339 time (2026-12-03T08:00:00Z, fractions and an offset allowed) or, when
 * 'date_ok', a date (2026-12-03, midnight UTC), as a UTC DATETIME "2026-12-03 08:00:00.000"
 * into 'out'. False when it is neither or not a real time. */
bool rules_time_parse(const char *s, bool date_ok, char out[RULES_TIME_BYTES]);

/* A birthday: month and day, the year when known (0 when not). */
struct rules_birthday {
    int year, month, day;
};
/* A birthday "MM-DD" (the year not known: 02-29 allowed) or "YYYY-MM-DD" (a real date of a
 * year from 1900 to 'this_year') into 'out'. False when it is neither. */
bool rules_birthday_parse(const char *s, int this_year, struct rules_birthday *out);

/* The name folded for search: full width as half width (（ as (, Ａ as a), ASCII letters in
 * lower case, every space gone. Valid UTF-8 in, 'out' of RULES_NAME_BYTES. */
void rules_name_fold(const char *name, char out[RULES_NAME_BYTES]);
/* A folded name as the duplicate rule compares it: 有限责任公司, 股份有限公司 and (股份)有限公司
 * are all 有限公司. */
void rules_name_norm(const char *folded, char out[RULES_NAME_BYTES]);

/* The distinct bigrams (two consecutive characters) of 'folded', in order of first
 * appearance, at most RULES_GRAMS_MAX; returns how many. */
size_t rules_bigrams(const char *folded, char grams[][RULES_GRAM_BYTES], size_t max);
/* Characters (code points) of valid UTF-8 's'. */
size_t rules_chars(const char *s);

#endif
