/* SPDX-License-Identifier: Apache-2.0 */
/* rules: field shapes and folded names of customers (see rules.h). */
#include "rules.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- the unified social credit code ---- */

static const char credit_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY"; /* 31, no I O S V Z */

bool rules_credit_code_valid(const char *s)
{
    long sum = 0, weight = 1;
    if (s == NULL || strlen(s) != 18)
        return false;
    for (int i = 0; i < 18; i++) {
        const char *p = s[i] ? strchr(credit_alphabet, s[i]) : NULL;
        if (p == NULL)
            return false;
        if (i < 17) {
            sum += (long)(p - credit_alphabet) * weight;
            weight = weight * 3 % 31;
        }
    }
    long check = (31 - sum % 31) % 31;
    return s[17] == credit_alphabet[check];
}

/* ---- phones, email, web ---- */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

bool rules_mobile_valid(const char *s)
{
    return s && strlen(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' && all_digits(s, 11);
}

/* The length of the run of digits at 's'. */
static size_t digit_run(const char *s)
{
    size_t n = 0;
    while (isdigit((unsigned char)s[n]))
        n++;
    return n;
}

bool rules_telephone_valid(const char *s)
{
    if (s == NULL)
        return false;
    size_t n = digit_run(s);
    if ((strncmp(s, "400", 3) == 0 || strncmp(s, "800", 3) == 0)) {
        char d[16];
        rules_digits(s, d, sizeof(d));
        bool shape = strspn(s, "0123456789-") == strlen(s);
        return shape && strlen(d) == 10;
    }
    const char *p = s;
    if (s[0] == '0') { /* an area code, then '-' or straight on */
        if (s[n] == '-') {
            if (n < 3 || n > 4)
                return false;
            p = s + n + 1;
            n = digit_run(p);
        } else if (n >= 10 && n <= 12) {
            return s[n] == '\0' ||
                   (s[n] == '-' && digit_run(s + n + 1) >= 1 && digit_run(s + n + 1) <= 6 &&
                    s[n + 1 + digit_run(s + n + 1)] == '\0');
        } else {
            return false;
        }
    }
    if (n < 7 || n > 8 || p[0] == '0')
        return false;
    p += n;
    if (*p == '\0')
        return true;
    if (*p != '-')
        return false;
    size_t ext = digit_run(p + 1);
    return ext >= 1 && ext <= 6 && p[1 + ext] == '\0';
}

bool rules_email_valid(const char *s)
{
    const char *at = s ? strchr(s, '@') : NULL;
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL)
        return false;
    for (const char *c = s; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == ',' || *c == ';' || *c == '<' || *c == '>')
            return false;
    }
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] != '\0' && strstr(at, "..") == NULL;
}

bool rules_website_valid(const char *s)
{
    if (s == NULL)
        return false;
    if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncmp(s, "http://", 7) == 0)
        s += 7;
    size_t host = strcspn(s, "/?#");
    if (host == 0 || memchr(s, '.', host) == NULL || s[0] == '.' || s[host - 1] == '.')
        return false;
    for (const char *c = s; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == '"' || *c == '<' || *c == '>')
            return false;
    }
    for (size_t i = 0; i < host; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != ':' &&
            (unsigned char)s[i] < 0x80)
            return false;
    }
    return true;
}

bool rules_wechat_valid(const char *s)
{
    if (rules_mobile_valid(s))
        return true;
    size_t n = s ? strlen(s) : 0;
    if (n < 6 || n > 20 || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    }
    return true;
}

void rules_digits(const char *s, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *c = s; c && *c && n + 1 < outlen; c++) {
        if (isdigit((unsigned char)*c))
            out[n++] = *c;
    }
    if (outlen)
        out[n] = '\0';
}

/* ---- times ---- */

bool rules_time_parse(const char *s, bool date_ok, char out[RULES_TIME_BYTES])
{
    return util_time_parse(s, date_ok, out, RULES_TIME_BYTES);
}

bool rules_birthday_parse(const char *s, int this_year, struct rules_birthday *out)
{
    size_t len = s ? strlen(s) : 0;
    const char *md = len == 10 ? s + 5 : s;
    if ((len != 5 && len != 10) || (len == 10 && s[4] != '-') || md[2] != '-')
        return false;
    int y = len == 10 ? util_digits_at(s, 4) : 0, m = util_digits_at(md, 2),
        d = util_digits_at(md + 3, 2);
    if ((len == 10 && (y < 1900 || y > this_year)) || m < 1 || m > 12 || d < 1 ||
        d > util_days_in_month(y ? y : 2000, m)) /* no year: any year, a leap one included */
        return false;
    out->year = y;
    out->month = m;
    out->day = d;
    return true;
}

/* ---- folded names ---- */

/* The code point at 's' and its length in bytes (valid UTF-8 is assumed: jsonv checked it). */
static uint32_t utf8_next(const unsigned char *s, size_t *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0 && s[1]) {
        *len = 2;
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if ((s[0] & 0xF0) == 0xE0 && s[1] && s[2]) {
        *len = 3;
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    if ((s[0] & 0xF8) == 0xF0 && s[1] && s[2] && s[3]) {
        *len = 4;
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
    *len = 1;
    return 0xFFFD;
}

static size_t utf8_put(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

void rules_name_fold(const char *name, char out[RULES_NAME_BYTES])
{
    size_t n = 0, len = 0;
    for (const unsigned char *s = (const unsigned char *)name; s && *s; s += len) {
        uint32_t c = utf8_next(s, &len);
        if (c == 0x3000 || c == 0x00A0 || c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue; /* spaces, full width ones included */
        if (c >= 0xFF01 && c <= 0xFF5E)
            c -= 0xFEE0; /* full width ASCII */
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (n + 4 >= RULES_NAME_BYTES)
            break;
        n += utf8_put(c, out + n);
    }
    out[n] = '\0';
}

/* Replace every 'from' in 'buf' (NUL-terminated, shrinking only) by 'to'. */
static void replace_all(char *buf, const char *from, const char *to)
{
    size_t lf = strlen(from), lt = strlen(to);
    char *p = buf;
    while ((p = strstr(p, from)) != NULL) {
        memmove(p + lt, p + lf, strlen(p + lf) + 1);
        memcpy(p, to, lt);
        p += lt;
    }
}

void rules_name_norm(const char *folded, char out[RULES_NAME_BYTES])
{
    snprintf(out, RULES_NAME_BYTES, "%s", folded);
    replace_all(out, "有限责任公司", "有限公司");
    replace_all(out, "(股份)", "");
    replace_all(out, "股份有限公司", "有限公司");
}

size_t rules_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

size_t rules_bigrams(const char *folded, char grams[][RULES_GRAM_BYTES], size_t max)
{
    size_t n = 0, l1 = 0, l2 = 0;
    const unsigned char *s = (const unsigned char *)folded;
    if (s == NULL || *s == '\0')
        return 0;
    utf8_next(s, &l1);
    for (; s[l1] != '\0' && n < max; s += l1, l1 = l2) {
        utf8_next(s + l1, &l2);
        char g[RULES_GRAM_BYTES];
        memcpy(g, s, l1 + l2);
        g[l1 + l2] = '\0';
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp(grams[i], g) == 0;
        if (!seen)
            memcpy(grams[n++], g, l1 + l2 + 1);
    }
    return n;
}
