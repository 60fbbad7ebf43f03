/* SPDX-License-Identifier: Apache-2.0 */
/* jsonv: strict JSON request bodies on jansson, with field-level error messages. */
#include "jsonv.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
#define FIELD_CODE(code, params) #code,
#include "errcodes.def"
#undef FIELD_CODE
};

const char *jsonv_code_name(enum jsonv_code code)
{
    assert((size_t)code < sizeof(code_names) / sizeof(code_names[0]));
    return code_names[code];
}

void jsonv_error_addp(json_t *errors, const char *field, enum jsonv_code code, json_t *params,
                      const char *message)
{
    json_array_append_new(errors, json_pack("{s:s, s:s, s:o, s:s}", "field", field, "code",
                                            jsonv_code_name(code), "params",
                                            params ? params : json_object(), "message", message));
}

void jsonv_error_add(json_t *errors, const char *field, enum jsonv_code code, const char *message)
{
    jsonv_error_addp(errors, field, code, NULL, message);
}

json_t *jsonv_range(long min, long max)
{
    return json_pack("{s:I, s:I}", "min", (json_int_t)min, "max", (json_int_t)max);
}

int jsonv_depth(const char *buf, size_t len)
{
    int depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    }
    return n;
}

/* The English words for a kind ('words') and its name in the "type" param of wrong_type. */
static const char *kind_name(enum jsonv_kind k, bool words)
{
    switch (k) {
    case JSONV_STRING:
        return words ? "a string" : "string";
    case JSONV_INT:
        return words ? "an integer" : "integer";
    case JSONV_NUMBER:
        return words ? "a number" : "number";
    case JSONV_BOOL:
        return words ? "true or false" : "boolean";
    case JSONV_OBJECT:
        return words ? "an object" : "object";
    case JSONV_ARRAY:
        return words ? "an array" : "array";
    }
    return words ? "a value" : "value";
}

/* A wrong_type error at 'path' for kind 'k'. */
static void error_type(json_t *errors, const char *path, enum jsonv_kind k)
{
    char msg[64];
    snprintf(msg, sizeof(msg), "must be %s", kind_name(k, true));
    jsonv_error_addp(errors, path, JSONV_E_wrong_type,
                     json_pack("{s:s}", "type", kind_name(k, false)), msg);
}

static bool kind_matches(json_t *v, enum jsonv_kind k)
{
    switch (k) {
    case JSONV_STRING:
        return json_is_string(v);
    case JSONV_INT:
        return json_is_integer(v);
    case JSONV_NUMBER:
        return json_is_number(v);
    case JSONV_BOOL:
        return json_is_boolean(v);
    case JSONV_OBJECT:
        return json_is_object(v);
    case JSONV_ARRAY:
        return json_is_array(v);
    }
    return false;
}

/* Check one value 'v' against 'f'; 'path' names it in messages. */
static void jsonv_check_value(json_t *v, const struct jsonv_field *f, const char *path,
                              json_t *errors)
{
    char msg[160];
    if (json_is_null(v)) {
        if (!f->nullable)
            jsonv_error_add(errors, path, JSONV_E_not_null, "must not be null");
        return;
    }
    if (!kind_matches(v, f->kind)) {
        error_type(errors, path, f->kind);
        return;
    }
    if (f->kind == JSONV_INT && (f->min != 0 || f->max != 0)) {
        json_int_t i = json_integer_value(v);
        if (i < f->min || i > f->max) {
            snprintf(msg, sizeof(msg), "must be between %ld and %ld", f->min, f->max);
            jsonv_error_addp(errors, path, JSONV_E_out_of_range, jsonv_range(f->min, f->max), msg);
        }
    } else if (f->kind == JSONV_STRING && (f->min != 0 || f->max != 0)) {
        size_t n = utf8_chars(json_string_value(v));
        if ((long)n < f->min || (long)n > f->max) {
            snprintf(msg, sizeof(msg), "must be %ld to %ld characters long", f->min, f->max);
            jsonv_error_addp(errors, path, JSONV_E_length, jsonv_range(f->min, f->max), msg);
        }
    } else if (f->kind == JSONV_OBJECT && f->sub != NULL) {
        jsonv_check_object(v, f->sub, path, errors);
    } else if (f->kind == JSONV_ARRAY) {
        size_t n = json_array_size(v);
        if ((f->min != 0 || f->max != 0) && ((long)n < f->min || (long)n > f->max)) {
            snprintf(msg, sizeof(msg), "must have %ld to %ld items", f->min, f->max);
            jsonv_error_addp(errors, path, JSONV_E_item_count, jsonv_range(f->min, f->max), msg);
            return;
        }
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!kind_matches(item, f->items)) {
                char ipath[224];
                snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
                error_type(errors, ipath, f->items);
            }
        }
    }
}

void jsonv_check_object(json_t *obj, const struct jsonv_field *fields, const char *prefix,
                        json_t *errors)
{
    const char *key;
    json_t *v;
    char path[192];

    json_object_foreach(obj, key, v)
    {
        const struct jsonv_field *f = fields;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
        if (f->name == NULL) {
            jsonv_error_add(errors, path, JSONV_E_unknown_field, "is not a known field");
            continue;
        }
        jsonv_check_value(v, f, path, errors);
    }
    for (const struct jsonv_field *f = fields; f->name; f++) {
        if (f->required && json_object_get(obj, f->name) == NULL) {
            snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", f->name);
            jsonv_error_add(errors, path, JSONV_E_required, "is required");
        }
    }
}

json_t *jsonv_parse(const char *buf, size_t len, const struct jsonv_field *fields, json_t **errors)
{
    json_error_t jerr;
    json_t *errs = json_array();
    json_t *root = NULL;
    char msg[256];

    *errors = NULL;
    if (len == 0) {
        jsonv_error_add(errs, "", JSONV_E_body_required, "a JSON object body is required");
        goto fail;
    }
    if (jsonv_depth(buf, len) > JSONV_MAX_DEPTH) {
        snprintf(msg, sizeof(msg), "JSON is nested deeper than %d levels", JSONV_MAX_DEPTH);
        jsonv_error_addp(errs, "", JSONV_E_too_deep, json_pack("{s:i}", "max", JSONV_MAX_DEPTH),
                         msg);
        goto fail;
    }
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        jsonv_error_addp(errs, "", JSONV_E_invalid_json,
                         json_pack("{s:i, s:i}", "line", jerr.line, "column", jerr.column), msg);
        goto fail;
    }
    if (!json_is_object(root)) {
        jsonv_error_add(errs, "", JSONV_E_not_object, "the body must be a JSON object");
        goto fail;
    }
    if (fields != NULL)
        jsonv_check_object(root, fields, "", errs);
    if (json_array_size(errs) > 0)
        goto fail;
    json_decref(errs);
    return root;
fail:
    json_decref(root);
    *errors = errs;
    return NULL;
}
