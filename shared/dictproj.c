/* SPDX-License-Identifier: Apache-2.0 */
/* dictproj: the projection of the data dictionary from crm:stream:auth. */
#include "dictproj.h"
#include "events.h"

#include <string.h>

const struct migrate_unit dictproj_migration = {
    "dict_projection.1",
    "CREATE TABLE IF NOT EXISTS dict_items_proj ("
    " dict VARCHAR(64) NOT NULL,"
    " value VARCHAR(64) NOT NULL,"
    " label_zh VARCHAR(64) NOT NULL DEFAULT '',"
    " label_en VARCHAR(96) NOT NULL DEFAULT '',"
    " enabled TINYINT(1) NOT NULL DEFAULT 1,"
    " PRIMARY KEY (dict, value)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
};

int dictproj_apply(struct db *db, json_t *event)
{
    const char *type = json_string_value(json_object_get(event, "type"));
    json_t *data = json_object_get(event, "data");
    json_t *dict = json_object_get(data, "dict"), *value = json_object_get(data, "value");
    if (type == NULL || !json_is_string(dict) || !json_is_string(value))
        return 0; /* not about a dictionary item */
    if (strcmp(type, "dict.item_created") == 0) {
        json_t *en = json_object_get(data, "enabled");
        struct db_param p[] = {db_param_json_str(dict), db_param_json_str(value),
                               db_param_json_str(json_object_get(data, "label_zh")),
                               db_param_json_str(json_object_get(data, "label_en")),
                               DBP_INT(en == NULL || json_is_true(en))};
        return db_exec(db,
                       "INSERT INTO dict_items_proj (dict, value, label_zh, label_en, enabled)"
                       " VALUES (?,?,?,?,?) ON DUPLICATE KEY UPDATE label_zh = VALUES(label_zh),"
                       " label_en = VALUES(label_en), enabled = VALUES(enabled)",
                       p, 5, NULL, NULL);
    }
    if (strcmp(type, "dict.item_updated") == 0) {
        json_t *zh = events_changed(data, "label_zh"), *en = events_changed(data, "label_en"),
               *on = events_changed(data, "enabled");
        struct db_param p[] = {DBP_INT(zh != NULL),     db_param_json_str(zh),
                               DBP_INT(en != NULL),     db_param_json_str(en),
                               DBP_INT(on != NULL),     DBP_INT(json_is_true(on)),
                               db_param_json_str(dict), db_param_json_str(value)};
        return db_exec(db,
                       "UPDATE dict_items_proj SET label_zh = IF(?, ?, label_zh),"
                       " label_en = IF(?, ?, label_en), enabled = IF(?, ?, enabled)"
                       " WHERE dict = ? AND value = ?",
                       p, 8, NULL, NULL);
    }
    return 0;
}

int dictproj_valid(struct db *db, const char *dict, const char *value, bool *valid)
{
    json_t *row = NULL;
    struct db_param p[] = {DBP_STR(dict), DBP_STR(value)};
    int rc = db_query_one(db,
                          "SELECT 1 AS ok FROM dict_items_proj WHERE dict = ? AND value = ?"
                          " AND enabled = 1",
                          p, 2, &row);
    *valid = row != NULL;
    json_decref(row);
    return rc;
}
