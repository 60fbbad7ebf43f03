/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the strict JSON request parser with a schema that has every kind of field. */
#include <stddef.h>
#include <stdint.h>

#include "jsonv.h"

static const struct jsonv_field sub[] = {
    {"city", JSONV_STRING, true, false, 1, 20, NULL, JSONV_STRING},
    JSONV_END,
};
static const struct jsonv_field fields[] = {
    {"name", JSONV_STRING, true, false, 1, 50, NULL, JSONV_STRING},
    {"age", JSONV_INT, false, false, 0, 150, NULL, JSONV_STRING},
    {"score", JSONV_NUMBER, false, true, 0, 0, NULL, JSONV_STRING},
    {"vip", JSONV_BOOL, false, false, 0, 0, NULL, JSONV_STRING},
    {"address", JSONV_OBJECT, false, false, 0, 0, sub, JSONV_STRING},
    {"tags", JSONV_ARRAY, false, false, 0, 5, NULL, JSONV_STRING},
    JSONV_END,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *errors = NULL;
    json_t *o = jsonv_parse((const char *)data, size, fields, &errors);
    /* exactly one of the two is set */
    if ((o == NULL) == (errors == NULL))
        __builtin_trap();
    json_decref(o);
    json_decref(errors);
    return 0;
}
