/* SPDX-License-Identifier: Apache-2.0 */
/* jsonv: strict JSON request bodies on jansson, with field-level error messages. */
#ifndef CRM_JSONV_H
#define CRM_JSONV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JSONV_MAX_DEPTH 16

enum jsonv_kind {
    JSONV_STRING,
    JSONV_INT,
    JSONV_NUMBER,
    JSONV_BOOL,
    JSONV_OBJECT,
    JSONV_ARRAY,
};

struct jsonv_field {
    const char *name;
    enum jsonv_kind kind;
    bool required;
    bool nullable;
    long min, max;                 /* INT: value range; STRING/ARRAY: length range (0,0 = any) */
    const struct jsonv_field *sub; /* OBJECT: its fields (strict too); NULL = any object */
    enum jsonv_kind items;         /* ARRAY: kind of every item */
};

#define JSONV_END                                                                                  \
    {                                                                                              \
        NULL, JSONV_STRING, false, false, 0, 0, NULL, JSONV_STRING                                 \
    }

/*
 * Parse 'len' bytes of 'buf' as one JSON object and check it against 'fields'.
 * Rejects: invalid JSON or UTF-8, a top level that is not an object, duplicate keys, nesting
 * deeper than JSONV_MAX_DEPTH, unknown fields, missing required fields, wrong types and values
 * out of range. On success returns the object (caller owns it) and leaves '*errors' NULL; on
 * failure returns NULL and sets '*errors' to a new array of field errors (jsonv_error_add, caller
 * owns).
 */
json_t *jsonv_parse(const char *buf, size_t len, const struct jsonv_field *fields, json_t **errors);

/* Check an already parsed object against 'fields', appending to 'errors' under 'prefix'. */
void jsonv_check_object(json_t *obj, const struct jsonv_field *fields, const char *prefix,
                        json_t *errors);

/* The codes of field errors, from errcodes.def: JSONV_E_required, JSONV_E_length... */
enum jsonv_code {
#define FIELD_CODE(code, params) JSONV_E_##code,
#include "errcodes.def"
#undef FIELD_CODE
};

/* The stable name of 'code' ("required"), as the API sends it. */
const char *jsonv_code_name(enum jsonv_code code);

/* Append one {"field","code","params":{},"message"} to 'errors'; 'message' is the English
 * sentence for API users, the console shows 'code' in the user's language. */
void jsonv_error_add(json_t *errors, const char *field, enum jsonv_code code, const char *message);

/* The same with the parameters 'params' (an object, taken; NULL = none) that errcodes.def lists
 * for 'code'. */
void jsonv_error_addp(json_t *errors, const char *field, enum jsonv_code code, json_t *params,
                      const char *message);

/* {"min": 'min', "max": 'max'}: the params of a range (new reference). */
json_t *jsonv_range(long min, long max);

/* Nesting depth of raw JSON text, without parsing it (strings are skipped). */
int jsonv_depth(const char *buf, size_t len);

#endif
