/* SPDX-License-Identifier: Apache-2.0 */
/* ownerproj: the customer_owners projection (ownerproj.h). */
#include "ownerproj.h"
#include "events.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

const struct migrate_unit ownerproj_migration = {
    "customer_owners.1",
    /* the customers' owners and what a hand-over or a care plan selects them by; 'version' is
     * the customer's, 'transfer_id' the last transfer applied here */
    "CREATE TABLE IF NOT EXISTS customer_owners ("
    " customer_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,"
    " name VARCHAR(60) NOT NULL DEFAULT '',"
    " manager_id BIGINT UNSIGNED NOT NULL,"
    " industry VARCHAR(64) NOT NULL DEFAULT '',"
    " source VARCHAR(64) NOT NULL DEFAULT '',"
    " level VARCHAR(64) NOT NULL DEFAULT '',"
    " status VARCHAR(16) NOT NULL DEFAULT '',"
    " province VARCHAR(32) NOT NULL DEFAULT '',"
    " city VARCHAR(32) NOT NULL DEFAULT '',"
    " deleted TINYINT(1) NOT NULL DEFAULT 0,"
    " version INT UNSIGNED NOT NULL DEFAULT 0,"
    " transfer_id BIGINT UNSIGNED NOT NULL DEFAULT 0,"
    " KEY ix_customer_owners_manager (manager_id, deleted, customer_id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
};

/* customer.created: the customer as the API shows it, under data.customer. */
static int owner_created(struct db *db, long long id, json_t *c)
{
    struct db_param p[] = {
        DBP_INT(id),
        db_param_json_str(json_object_get(c, "name")),
        db_param_json_int(json_object_get(c, "manager_id")),
        db_param_json_str(json_object_get(c, "industry")),
        db_param_json_str(json_object_get(c, "source")),
        db_param_json_str(json_object_get(c, "level")),
        db_param_json_str(json_object_get(c, "status")),
        db_param_json_str(json_object_get(c, "province")),
        db_param_json_str(json_object_get(c, "city")),
        db_param_json_int(json_object_get(c, "version")),
    };
    if (p[2].type == DB_NULL)
        return 0; /* not a customer this service can place */
    return db_exec(db,
                   "INSERT IGNORE INTO customer_owners (customer_id, name, manager_id, industry,"
                   " source, level, status, province, city, version)"
                   " VALUES (?,?,?,?,?,?,?,?,?,COALESCE(?, 1))",
                   p, ARRAY_LEN(p), NULL, NULL);
}

/* The value of 'field' after an update: the change's, else what the row has (NULL: keep). */
static struct db_param changed_str(json_t *data, const char *field)
{
    json_t *v = events_changed(data, field);
    return v ? db_param_json_str(v) : DBP_NULL;
}

static int owner_updated(struct db *db, long long id, json_t *data)
{
    json_t *version = json_object_get(data, "version");
    if (!json_is_integer(version))
        return 0;
    json_t *seen = json_object_get(data, "transfer_id"); /* a change the transfer made */
    struct db_param name = db_param_json_str(json_object_get(data, "name")),
                    manager = db_param_json_int(json_object_get(data, "manager_id")),
                    ver = DBP_INT(json_integer_value(version));
    struct db_param p[] = {
        name,
        name,
        manager,
        DBP_INT(json_is_integer(seen) ? json_integer_value(seen) : 0),
        manager,
        changed_str(data, "industry"),
        changed_str(data, "source"),
        changed_str(data, "level"),
        changed_str(data, "status"),
        changed_str(data, "province"),
        changed_str(data, "city"),
        ver,
        DBP_INT(id),
        ver,
    };
    return db_exec(db,
                   "UPDATE customer_owners SET name = IF(? = '', name, ?),"
                   " manager_id = IF(? IS NOT NULL AND ? >= transfer_id, ?, manager_id),"
                   " industry = COALESCE(?, industry), source = COALESCE(?, source),"
                   " level = COALESCE(?, level), status = COALESCE(?, status),"
                   " province = COALESCE(?, province), city = COALESCE(?, city), version = ?"
                   " WHERE customer_id = ? AND version < ?",
                   p, ARRAY_LEN(p), NULL, NULL);
}

static int owner_deleted(struct db *db, long long id, json_t *data, bool deleted)
{
    json_t *version = json_object_get(data, "version");
    struct db_param p[] = {DBP_INT(deleted), DBP_INT(json_integer_value(version)), DBP_INT(id),
                           DBP_INT(json_integer_value(version))};
    if (!json_is_integer(version))
        return 0;
    return db_exec(db,
                   "UPDATE customer_owners SET deleted = ?, version = ?"
                   " WHERE customer_id = ? AND version < ?",
                   p, ARRAY_LEN(p), NULL, NULL);
}

int ownerproj_apply(struct db *db, json_t *event)
{
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *sid = json_string_value(json_object_get(json_object_get(event, "subject"), "id"));
    json_t *data = json_object_get(event, "data");
    long id = 0;
    if (type == NULL || sid == NULL || strncmp(type, "customer.", 9) != 0 ||
        util_parse_long(sid, 1, (long)(~0UL >> 1), &id) != 0)
        return 0;
    if (strcmp(type, "customer.created") == 0)
        return owner_created(db, id, json_object_get(data, "customer"));
    if (strcmp(type, "customer.updated") == 0)
        return owner_updated(db, id, data);
    if (strcmp(type, "customer.deleted") == 0)
        return owner_deleted(db, id, data, true);
    if (strcmp(type, "customer.restored") == 0)
        return owner_deleted(db, id, data, false);
    return 0;
}

int ownerproj_move(struct db *db, long long customer_id, long long to, long long transfer_id,
                   bool *moved)
{
    uint64_t affected = 0;
    struct db_param p[] = {DBP_INT(to), DBP_INT(transfer_id), DBP_INT(customer_id),
                           DBP_INT(transfer_id)};
    int rc = db_exec(db,
                     "UPDATE customer_owners SET manager_id = ?, transfer_id = ?"
                     " WHERE customer_id = ? AND transfer_id < ?",
                     p, ARRAY_LEN(p), &affected, NULL);
    if (moved)
        *moved = affected > 0;
    return rc;
}

int ownerproj_move_rows(struct db *db, const long long *moves, size_t n, long long transfer_id)
{
    if (n == 0)
        return 0;
    /* the pairs as one JSON text: one statement for any number of customers */
    char *pairs = db_json_ints(moves, 2, n);
    struct db_param p[] = {DBP_STR(pairs), DBP_INT(transfer_id), DBP_INT(transfer_id)};
    int rc = db_exec(db,
                     "UPDATE customer_owners o JOIN JSON_TABLE(?, '$[*]' COLUMNS ("
                     "customer_id BIGINT UNSIGNED PATH '$[0]',"
                     " manager_id BIGINT UNSIGNED PATH '$[1]')) m"
                     " ON m.customer_id = o.customer_id"
                     " SET o.manager_id = m.manager_id, o.transfer_id = ? WHERE o.transfer_id < ?",
                     p, ARRAY_LEN(p), NULL, NULL);
    free(pairs);
    return rc;
}
