/* SPDX-License-Identifier: Apache-2.0 */
/* config: one table per process; values from a file and CRM_* environment variables, validated. */
#include "config.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_FILE (256 * 1024)

int config_parse_addr(const char *s, struct config_addr *out)
{
    const char *colon = strrchr(s, ':');
    long port = 0;
    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(out->host))
        return -1;
    if (util_parse_long(colon + 1, 1, 65535, &port) != 0)
        return -1;
    memcpy(out->host, s, (size_t)(colon - s));
    out->host[colon - s] = '\0';
    for (const char *p = out->host; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != ':')
            return -1;
    }
    out->port = (int)port;
    return 0;
}

static int config_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Store 'value' for 'e' into 'target'; on a bad value write why into 'err'. Paths are only
 * checked on the final value ('check_paths'): the environment may still override the file. */
static int config_set_checked(const struct config_entry *e, void *target, const char *value,
                              const char *origin, bool check_paths, char *err, size_t errlen)
{
    char *field = (char *)target + e->offset;
    struct stat st;

    switch (e->type) {
    case CONFIG_INT: {
        long v;
        if (util_parse_long(value, e->min, e->max, &v) != 0) {
            snprintf(err, errlen, "config key '%s' (%s): '%s' is not an integer in [%ld, %ld]",
                     e->key, origin, value, e->min, e->max);
            return -1;
        }
        *(long *)field = v;
        return 0;
    }
    case CONFIG_BOOL:
        if (config_parse_bool(value, (bool *)field) != 0) {
            snprintf(err, errlen, "config key '%s' (%s): '%s' is not true or false", e->key, origin,
                     value);
            return -1;
        }
        return 0;
    case CONFIG_ADDR:
        if (config_parse_addr(value, (struct config_addr *)field) != 0) {
            snprintf(err, errlen, "config key '%s' (%s): '%s' is not host:port", e->key, origin,
                     value);
            return -1;
        }
        return 0;
    case CONFIG_FILE:
    case CONFIG_DIR:
        if (!check_paths)
            goto store;
        if (*value != '\0') {
            bool want_dir = e->type == CONFIG_DIR;
            if (stat(value, &st) != 0 || (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) ||
                access(value, R_OK) != 0) {
                snprintf(err, errlen, "config key '%s' (%s): '%s' is not a readable %s", e->key,
                         origin, value, want_dir ? "directory" : "file");
                return -1;
            }
        } else if (e->def == NULL || *e->def != '\0') {
            snprintf(err, errlen, "config key '%s' (%s): a path is required", e->key, origin);
            return -1;
        }
        /* fall through */
    case CONFIG_STRING:
    store:
        if (*value == '\0' && (e->def == NULL || *e->def != '\0')) {
            snprintf(err, errlen, "config key '%s' (%s): must not be empty", e->key, origin);
            return -1;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    }
    return -1;
}

static int config_set(const struct config_entry *e, void *target, const char *value,
                      const char *origin, char *err, size_t errlen)
{
    return config_set_checked(e, target, value, origin, false, err, errlen);
}

static const struct config_entry *config_find(const struct config_entry *const *tables,
                                              const char *key, size_t *which)
{
    for (size_t t = 0; tables[t]; t++) {
        for (const struct config_entry *e = tables[t]; e->key; e++) {
            if (strcmp(e->key, key) == 0) {
                *which = t;
                return e;
            }
        }
    }
    return NULL;
}

static char *config_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Apply the file's lines. A key given twice, an unknown key or a line without '=' fails. */
static int config_apply_file(const struct config_entry *const *tables, void *const *targets,
                             const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = util_read_file(path, CONFIG_MAX_FILE, &len);
    char *save = NULL;
    char seen[4096] = "";
    int lineno = 0;
    int rc = -1;

    if (text == NULL) {
        snprintf(err, errlen, "config file '%s' cannot be read", path);
        return -1;
    }
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *s = config_trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "config file '%s' line %d: expected 'key = value'", path, lineno);
            goto out;
        }
        *eq = '\0';
        char *key = config_trim(s);
        char *value = config_trim(eq + 1);
        size_t which = 0;
        const struct config_entry *e = config_find(tables, key, &which);
        if (e == NULL) {
            snprintf(err, errlen, "config key '%s' (file '%s' line %d) is unknown", key, path,
                     lineno);
            goto out;
        }
        char marker[80];
        snprintf(marker, sizeof(marker), "|%s|", key);
        if (strstr(seen, marker) != NULL) {
            snprintf(err, errlen, "config key '%s' is set twice in '%s'", key, path);
            goto out;
        }
        if (strlen(seen) + strlen(marker) < sizeof(seen))
            strcat(seen, marker);
        char origin[64];
        snprintf(origin, sizeof(origin), "file line %d", lineno);
        if (config_set(e, targets[which], value, origin, err, errlen) != 0)
            goto out;
    }
    rc = 0;
out:
    free(text);
    return rc;
}

int config_loadv(const struct config_entry *const *tables, void *const *targets, const char *path,
                 char *err, size_t errlen)
{
    void *target;
    /* Defaults first, so every field holds something valid or the key is required. */
    for (size_t t = 0; tables[t]; t++) {
        target = targets[t];
        for (const struct config_entry *e = tables[t]; e->key; e++) {
            if (e->def == NULL)
                continue;
            /* Defaults of paths are not checked until the value is final. */
            if ((e->type == CONFIG_FILE || e->type == CONFIG_DIR || e->type == CONFIG_STRING)) {
                char **field = (char **)((char *)target + e->offset);
                free(*field);
                *field = xstrdup(e->def);
            } else if (config_set(e, target, e->def, "default", err, errlen) != 0) {
                return -1;
            }
        }
    }
    if (path != NULL && config_apply_file(tables, targets, path, err, errlen) != 0)
        return -1;
    for (size_t t = 0; tables[t]; t++) {
        target = targets[t];
        for (const struct config_entry *e = tables[t]; e->key; e++) {
            char env[96] = "CRM_";
            size_t n = 4;
            for (const char *k = e->key; *k && n + 1 < sizeof(env); k++)
                env[n++] = (char)toupper((unsigned char)*k);
            env[n] = '\0';
            const char *v = getenv(env);
            if (v != NULL && config_set(e, target, v, env, err, errlen) != 0)
                return -1;
        }
    }
    /* Required keys and path defaults are checked last, on their final values. */
    for (size_t t = 0; tables[t]; t++) {
        target = targets[t];
        for (const struct config_entry *e = tables[t]; e->key; e++) {
            bool is_text =
                e->type == CONFIG_STRING || e->type == CONFIG_FILE || e->type == CONFIG_DIR;
            if (!is_text)
                continue;
            char **field = (char **)((char *)target + e->offset);
            if (*field == NULL) {
                snprintf(err, errlen, "config key '%s' is required (%s)", e->key,
                         e->help ? e->help : "no default");
                return -1;
            }
            if (e->type != CONFIG_STRING) {
                char *v = xstrdup(*field);
                int rc = config_set_checked(e, target, v, "final value", true, err, errlen);
                free(v);
                if (rc != 0)
                    return -1;
            }
        }
    }
    return 0;
}

int config_load(const struct config_entry *table, void *target, const char *path, char *err,
                size_t errlen)
{
    const struct config_entry *tables[] = {table, NULL};
    void *const targets[] = {target, NULL};
    return config_loadv(tables, targets, path, err, errlen);
}

void config_free(const struct config_entry *table, void *target)
{
    for (const struct config_entry *e = table; e->key; e++) {
        if (e->type == CONFIG_STRING || e->type == CONFIG_FILE || e->type == CONFIG_DIR) {
            char **field = (char **)((char *)target + e->offset);
            free(*field);
            *field = NULL;
        }
    }
}
