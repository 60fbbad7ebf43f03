/* SPDX-License-Identifier: Apache-2.0 */
/* consume: the transfer service's view of who manages which customer (customer_owners), from
 * the customer service's events. Every write is guarded by the customer's version, so an event
 * delivered twice or late changes nothing; the owner follows an event only once that event has
 * seen this service's last transfer of the customer (data.transfer_id: the customer service
 * writes it on the customer.updated of a transfer it applied). */
#include "transfer.h"
#include "util.h"

#include <string.h>

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

int transfer_consume(struct db *db, const char *stream, const char *entry_id, json_t *event,
                     void *arg)
{
    (void)entry_id;
    (void)arg;
    if (strcmp(stream, "crm:stream:customer") != 0)
        return 0;
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
