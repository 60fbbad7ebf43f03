/* SPDX-License-Identifier: Apache-2.0 */
/* config: one table per process; values from a file and CRM_* environment variables, validated. */
#ifndef CRM_CONFIG_H
#define CRM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum config_type {
    CONFIG_STRING, /* char * (malloc'd), any text; "" allowed only when the default is "" */
    CONFIG_INT,    /* long, within [min, max] */
    CONFIG_BOOL,   /* bool: true/false/yes/no/on/off/1/0 */
    CONFIG_ADDR,   /* struct config_addr: "host:port", IPv4 literal or "localhost" */
    CONFIG_FILE,   /* char *: path of a readable file; "" when optional and unset */
    CONFIG_DIR,    /* char *: path of an existing directory; "" when optional and unset */
};

struct config_addr {
    char host[64];
    int port;
};

struct config_entry {
    const char *key; /* lower_snake; env override is CRM_<KEY> upper-cased */
    enum config_type type;
    size_t offset;    /* offsetof the field in the caller's struct */
    const char *def;  /* default, as text; NULL means the key is required */
    long min, max;    /* CONFIG_INT bounds */
    const char *help; /* one line for --help and error messages */
};

#define CONFIG_END                                                                                 \
    {                                                                                              \
        NULL, CONFIG_STRING, 0, NULL, 0, 0, NULL                                                   \
    }

/*
 * Fill 'target' from the NULL-keyed 'table': defaults, then the file at 'path' (may be NULL),
 * then the environment. Unknown keys in the file, malformed lines and invalid values fail with
 * a message naming the key in 'err'. Returns 0 or -1.
 */
int config_load(const struct config_entry *table, void *target, const char *path, char *err,
                size_t errlen) __attribute__((warn_unused_result));

/* Any number of tables from one file: 'tables' and 'targets' are NULL-terminated and parallel. */
int config_loadv(const struct config_entry *const *tables, void *const *targets, const char *path,
                 char *err, size_t errlen) __attribute__((warn_unused_result));

/* Free the strings 'config_load' put into 'target'. */
void config_free(const struct config_entry *table, void *target);

/* Parse "host:port" into 'out'. */
int config_parse_addr(const char *s, struct config_addr *out) __attribute__((warn_unused_result));

#endif
