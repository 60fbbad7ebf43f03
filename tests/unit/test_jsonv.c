/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of strict JSON: duplicates, types, unknown fields, nesting, field messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "jsonv.h"

static const struct jsonv_field addr_fields[] = {
    {"city", JSONV_STRING, true, false, 1, 20, NULL, JSONV_STRING},
    JSONV_END,
};

static const struct jsonv_field fields[] = {
    {"name", JSONV_STRING, true, false, 1, 10, NULL, JSONV_STRING},
    {"age", JSONV_INT, false, false, 0, 150, NULL, JSONV_STRING},
    {"vip", JSONV_BOOL, false, false, 0, 0, NULL, JSONV_STRING},
    {"note", JSONV_STRING, false, true, 0, 0, NULL, JSONV_STRING},
    {"address", JSONV_OBJECT, false, false, 0, 0, addr_fields, JSONV_STRING},
    {"tags", JSONV_ARRAY, false, false, 0, 3, NULL, JSONV_STRING},
    JSONV_END,
};

/* The message for 'field' in 'errors', or NULL. */
static const char *msg_for(json_t *errors, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0)
            return json_string_value(json_object_get(e, "message"));
    }
    return NULL;
}

/* The error object for 'field' in 'errors', or NULL. */
static json_t *error_for(json_t *errors, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0)
            return e;
    }
    return NULL;
}

static json_t *parse(const char *s, json_t **errors)
{
    return jsonv_parse(s, strlen(s), fields, errors);
}

static void test_valid(void **state)
{
    json_t *errors = NULL;
    (void)state;
    json_t *o = parse("{\"name\":\"张三\",\"age\":30,\"vip\":true,\"note\":null,"
                      "\"address\":{\"city\":\"上海\"},\"tags\":[\"a\",\"b\"]}",
                      &errors);
    assert_non_null(o);
    assert_null(errors);
    assert_string_equal(json_string_value(json_object_get(o, "name")), "张三");
    json_decref(o);
}

static void test_duplicate_key(void **state)
{
    json_t *errors = NULL;
    (void)state;
    assert_null(parse("{\"name\":\"a\",\"name\":\"b\"}", &errors));
    assert_non_null(strstr(msg_for(errors, ""), "duplicate"));
    json_decref(errors);
}

static void test_wrong_types_named(void **state)
{
    json_t *errors = NULL;
    (void)state;
    assert_null(parse("{\"name\":5,\"age\":\"30\",\"vip\":1}", &errors));
    assert_string_equal(msg_for(errors, "name"), "must be a string");
    assert_string_equal(msg_for(errors, "age"), "must be an integer");
    assert_string_equal(msg_for(errors, "vip"), "must be true or false");
    json_decref(errors);
}

/* Every field error has its stable code and the params errcodes.def lists for it. */
static void test_codes_and_params(void **state)
{
    json_t *errors = NULL, *e;
    (void)state;
    assert_null(parse("{\"name\":\"12345678901\",\"age\":200,\"vip\":1,\"x\":1,"
                      "\"tags\":[1,2,3,4]}",
                      &errors));
    e = error_for(errors, "name");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "length");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "params"), "max")), 10);
    e = error_for(errors, "age");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "out_of_range");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "params"), "max")), 150);
    e = error_for(errors, "vip");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "wrong_type");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "params"), "type")),
                        "boolean");
    assert_string_equal(json_string_value(json_object_get(error_for(errors, "x"), "code")),
                        "unknown_field");
    e = error_for(errors, "tags");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "item_count");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "params"), "max")), 3);
    assert_string_equal(jsonv_code_name(JSONV_E_required), "required");
    json_decref(errors);
    assert_null(parse("{}", &errors));
    e = error_for(errors, "name");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "required");
    assert_true(json_is_object(json_object_get(e, "params")));
    json_decref(errors);
}

static void test_unknown_and_missing(void **state)
{
    json_t *errors = NULL;
    (void)state;
    assert_null(parse("{\"nmae\":\"x\"}", &errors));
    assert_string_equal(msg_for(errors, "nmae"), "is not a known field");
    assert_string_equal(msg_for(errors, "name"), "is required");
    json_decref(errors);
}

static void test_ranges_and_nested(void **state)
{
    json_t *errors = NULL;
    (void)state;
    assert_null(parse("{\"name\":\"12345678901\",\"age\":200,\"address\":{\"town\":1},"
                      "\"tags\":[1,\"x\",\"y\",\"z\"]}",
                      &errors));
    assert_string_equal(msg_for(errors, "name"), "must be 1 to 10 characters long");
    assert_string_equal(msg_for(errors, "age"), "must be between 0 and 150");
    assert_string_equal(msg_for(errors, "address.town"), "is not a known field");
    assert_string_equal(msg_for(errors, "address.city"), "is required");
    assert_string_equal(msg_for(errors, "tags"), "must have 0 to 3 items");
    json_decref(errors);
    assert_null(parse("{\"name\":\"ok\",\"tags\":[1]}", &errors));
    assert_string_equal(msg_for(errors, "tags[0]"), "must be a string");
    json_decref(errors);
}

static void test_null_only_when_nullable(void **state)
{
    json_t *errors = NULL;
    (void)state;
    assert_null(parse("{\"name\":null}", &errors));
    assert_string_equal(msg_for(errors, "name"), "must not be null");
    json_decref(errors);
}

static void test_not_object_and_garbage(void **state)
{
    json_t *errors = NULL;
    (void)state;
    assert_null(parse("[1,2]", &errors));
    json_decref(errors);
    assert_null(parse("{\"name\":\"a\"} trailing", &errors));
    json_decref(errors);
    assert_null(parse("", &errors));
    json_decref(errors);
    assert_null(parse("{\"name\":\"\xff\"}", &errors)); /* invalid UTF-8 */
    json_decref(errors);
    assert_null(parse("{\"name\":\"a\\u0000b\"}", &errors)); /* NUL inside a string */
    json_decref(errors);
}

static void test_deep_nesting(void **state)
{
    json_t *errors = NULL;
    (void)state;
    char buf[20100];
    size_t n = 0;
    buf[n++] = '{';
    memcpy(buf + n, "\"name\":", 7);
    n += 7;
    for (int i = 0; i < 10000; i++)
        buf[n++] = '[';
    for (int i = 0; i < 10000; i++)
        buf[n++] = ']';
    buf[n++] = '}';
    assert_null(jsonv_parse(buf, n, fields, &errors));
    assert_non_null(strstr(msg_for(errors, ""), "nested deeper"));
    json_decref(errors);
    /* brackets inside strings do not count */
    assert_int_equal(jsonv_depth("{\"a\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[[[\"}", 33), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_wrong_types_named),
        cmocka_unit_test(test_unknown_and_missing),
        cmocka_unit_test(test_ranges_and_nested),
        cmocka_unit_test(test_null_only_when_nullable),
        cmocka_unit_test(test_not_object_and_garbage),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_codes_and_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
