/* SPDX-License-Identifier: Apache-2.0 */
/* password: argon2id hashes and the password policy. */
#include "auth.h"
#include "jsonv.h"
#include "util.h"

#include <argon2.h>
#include <ctype.h>
#include <string.h>

/* The longest password accepted (characters), whatever the configured minimum. */
#define PASSWORD_MAX 128

#define SALT_LEN 16
#define HASH_LEN 32

int password_hash(const struct auth_ctx *a, const char *pw, char *out, size_t outlen)
{
    unsigned char salt[SALT_LEN];
    util_random_bytes(salt, sizeof(salt));
    int rc = argon2id_hash_encoded((uint32_t)a->cfg->argon2_iterations,
                                   (uint32_t)a->cfg->argon2_memory_kib, 1, pw, strlen(pw), salt,
                                   sizeof(salt), HASH_LEN, out, outlen);
    return rc == ARGON2_OK ? 0 : -1;
}

bool password_verify(const char *encoded, const char *pw)
{
    return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* 'text' lowered (ASCII letters only: a name in Chinese is compared as it is) into 'out'. */
static void lower_ascii(const char *text, char *out, size_t outlen)
{
    size_t i = 0;
    for (; text[i] && i + 1 < outlen; i++)
        out[i] = (char)tolower((unsigned char)text[i]);
    out[i] = '\0';
}

/* Whether 'lower_pw' contains 'name' or, for a name of several words, one of its words of 4
 * bytes or more ("John Smith": "smith"). Names shorter than 3 bytes are not looked for: a
 * password may contain "li". */
static bool contains_name(const char *lower_pw, const char *name)
{
    char lower[260], *save = NULL;
    if (name == NULL)
        return false;
    lower_ascii(name, lower, sizeof(lower));
    if (strlen(lower) >= 3 && strstr(lower_pw, lower) != NULL)
        return true;
    for (char *w = strtok_r(lower, " \t._-", &save); w; w = strtok_r(NULL, " \t._-", &save)) {
        if (strlen(w) >= 4 && strstr(lower_pw, w) != NULL)
            return true;
    }
    return false;
}

bool password_policy(const struct auth_ctx *a, const char *pw, const char *username,
                     const char *display_name, const char *field, json_t *errors)
{
    char msg[96], lower[520];
    size_t n = utf8_len(pw);
    bool all_same = true;
    if ((long)n < a->cfg->password_min_length || n > PASSWORD_MAX) {
        snprintf(msg, sizeof(msg), "must be %ld to %d characters long", a->cfg->password_min_length,
                 PASSWORD_MAX);
        jsonv_error_addp(errors, field, JSONV_E_password_length,
                         jsonv_range(a->cfg->password_min_length, PASSWORD_MAX), msg);
        return false;
    }
    lower_ascii(pw, lower, sizeof(lower));
    if (json_object_get(a->common_passwords, lower) != NULL) {
        jsonv_error_add(errors, field, JSONV_E_password_common, "is too common; choose another");
        return false;
    }
    if (contains_name(lower, username) || contains_name(lower, display_name)) {
        jsonv_error_add(errors, field, JSONV_E_password_has_name,
                        "must not contain the username or the display name");
        return false;
    }
    for (size_t i = 1; pw[i]; i++)
        all_same = all_same && pw[i] == pw[0];
    if (all_same)
        jsonv_error_add(errors, field, JSONV_E_password_repeated, "must not repeat one character");
    return !all_same;
}
