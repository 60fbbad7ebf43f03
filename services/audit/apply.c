/* SPDX-License-Identifier: Apache-2.0 */
/* apply: one event becomes an audit entry (chained to the previous one), and, for logins and
 * gateway operations, a row of the login or operation log. */
#include "audit.h"
#include "crmlog.h"
#include "util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool secret_name(const char *k)
{
    static const char *const words[] = {"password", "token", "secret", "hash", "credential"};
    char lower[128];
    size_t i = 0;
    for (; k[i] && i + 1 < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)k[i]);
    lower[i] = '\0';
    for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
        if (strstr(lower, words[w]))
            return true;
    }
    return false;
}

void audit_redact(json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, x)
        {
            if (secret_name(k))
                json_object_del(v, k);
            else
                audit_redact(x);
        }
    } else if (json_is_array(v)) {
        /* a change list names its field: drop changes of secret fields whole */
        for (size_t i = json_array_size(v); i-- > 0;) {
            json_t *e = json_array_get(v, i);
            const char *field = json_string_value(json_object_get(e, "field"));
            if (field && secret_name(field))
                json_array_remove(v, i);
            else
                audit_redact(e);
        }
    }
}

/* The field-level change of an event: its own "changes" list, or every field of its data as
 * set (before null) for creations and other events. */
static json_t *changes_of(json_t *data)
{
    json_t *given = json_object_get(data, "changes");
    if (json_is_array(given))
        return json_deep_copy(given);
    json_t *out = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v)
    {
        json_array_append_new(out, json_pack("{s:s, s:n, s:O}", "field", k, "before", "after", v));
    }
    return out;
}

static const char *str_or(json_t *o, const char *k, const char *def)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : def;
}

int audit_hash(json_t *row, const char *prev, const unsigned char *key, size_t keylen,
               char out[AUDIT_HASH_HEX])
{
    static const char *const fields[] = {
        "event_id",     "event_type", "producer", "actor_user_id", "actor_ip",
        "subject_type", "subject_id", "changes",  "request_id",    "occurred_at"};
    size_t n = strlen(prev), at = 0;
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    int rc = -1;

    /* the message: prev, then per field a unit separator and its text (NUL for NULL, which is
     * not the empty string) */
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        json_t *v = json_object_get(row, fields[i]);
        n += 1 + (json_is_string(v) ? json_string_length(v) : 1);
    }
    unsigned char *msg = xmalloc(n ? n : 1);
    memcpy(msg, prev, strlen(prev));
    at = strlen(prev);
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        json_t *v = json_object_get(row, fields[i]);
        msg[at++] = 0x1f;
        if (json_is_string(v)) {
            memcpy(msg + at, json_string_value(v), json_string_length(v));
            at += json_string_length(v);
        } else {
            msg[at++] = 0x00;
        }
    }
    if (key != NULL) {
        if (HMAC(EVP_sha256(), key, (int)keylen, msg, at, h, &hlen) == NULL)
            goto out;
    } else {
        SHA256(msg, at, h);
        hlen = 32;
    }
    if (hlen != 32)
        goto out;
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
    rc = 0;
out:
    free(msg);
    return rc;
}

/* "2026-11-22T03:13:07.487Z" -> "2026-11-22 03:13:07.487" for DATETIME(3) columns. */
static void sql_time(const char *rfc, char *out, size_t outlen)
{
    snprintf(out, outlen, "%.23s", rfc ? rfc : "1970-01-01T00:00:00.000");
    if (strlen(out) > 10)
        out[10] = ' ';
    char *z = strchr(out, 'Z');
    if (z)
        *z = '\0';
}

/* Appends 'row' (the reference is taken) to '*rows'. */
static int stage(json_t **rows, json_t *row)
{
    if (*rows == NULL && (*rows = json_array()) == NULL) {
        json_decref(row);
        return -1;
    }
    return json_array_append_new(*rows, row) == 0 ? 0 : -1;
}

/* The gateway's operation log: a row of its own table, staged for audit_flush. */
static int apply_operation(struct audit_ctx *actx, json_t *ev, json_t *data, const char *when)
{
    json_t *row = json_pack(
        "{s:s, s:s, s:O?, s:s, s:s, s:s, s:O, s:O, s:s}", "event_id", str_or(ev, "id", ""),
        "request_id", str_or(data, "request_id", ""), "user_id", json_object_get(data, "user_id"),
        "ip", str_or(data, "ip", ""), "method", str_or(data, "method", ""), "path",
        str_or(data, "path", ""), "status", json_object_get(data, "status"), "duration_ms",
        json_object_get(data, "duration_ms"), "occurred_at", when);
    return row ? stage(&actx->staged_ops, row) : -1;
}

/* A login, failed login or logout: a row of the login log. */
static int apply_login(struct db *db, const char *type, json_t *ev, json_t *data, const char *when)
{
    json_t *actor = json_object_get(ev, "actor"), *subject = json_object_get(ev, "subject");
    const char *result = strcmp(type, "auth.login_succeeded") == 0 ? "success"
                         : strcmp(type, "auth.logout") == 0        ? "logout"
                                                                   : "failure";
    /* the subject is the account; for an unknown username there is none */
    bool known = strcmp(str_or(data, "reason", ""), "unknown_user") != 0;
    json_t *row = json_pack(
        "{s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:s}", "event_id", str_or(ev, "id", ""), "user_id",
        known ? str_or(subject, "id", NULL) : NULL, "username", str_or(data, "username", ""), "ip",
        str_or(data, "ip", str_or(actor, "ip", "")), "user_agent", str_or(data, "user_agent", ""),
        "result", result, "reason", str_or(data, "reason", ""), "occurred_at", when);
    int rc = row ? repo_login_insert(db, row) : -1;
    json_decref(row);
    return rc;
}

/* The after of field 'name' in the change list 'changes', or NULL. */
static const char *changed_to(json_t *changes, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        const char *f = json_string_value(json_object_get(c, "field"));
        if (f && strcmp(f, name) == 0)
            return json_string_value(json_object_get(c, "after"));
    }
    return NULL;
}

/* The names an event tells of its subject (a user's username and display name, a department's
 * or role's or customer's name, as set or changed) become a row of subject_names: the lists
 * show them instead of ids. Nothing when it tells none. */
static int apply_names(struct db *db, const char *type, json_t *ev, json_t *data)
{
    json_t *subject = json_object_get(ev, "subject"), *changes = json_object_get(data, "changes");
    const char *name = str_or(data, "display_name", str_or(data, "name", NULL));
    const char *username = str_or(data, "username", "");
    size_t tlen = strlen(type);
    bool created = tlen > 8 && strcmp(type + tlen - 8, ".created") == 0;
    if (name == NULL)
        name = changed_to(changes, "display_name");
    if (name == NULL)
        name = changed_to(changes, "name");
    if (*str_or(subject, "id", "") == '\0' ||
        ((name == NULL || *name == '\0') && !(created && *username)))
        return 0; /* no subject, or an update that renames nothing */
    return repo_name_insert(db, str_or(ev, "id", ""), str_or(subject, "type", ""),
                            str_or(subject, "id", ""), username, name ? name : "");
}

/* Every event of a service: one entry of the chain, linked to the head and staged. The chain
 * lock is taken and the head read once per transaction (audit_after lets both go). */
static int apply_chained(struct audit_ctx *actx, struct db *db, const char *type, json_t *ev,
                         json_t *data)
{
    json_t *actor = json_object_get(ev, "actor"), *subject = json_object_get(ev, "subject");
    json_t *changes = changes_of(data);
    char *changes_text = json_dumps(changes, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(changes);
    json_t *uid = json_object_get(actor, "user_id"), *ip = json_object_get(actor, "ip");
    json_t *rid = json_object_get(ev, "request_id");
    json_t *row = json_pack(
        "{s:s, s:s, s:s, s:O?, s:O?, s:s, s:s, s:s, s:O?, s:s}", "event_id", str_or(ev, "id", ""),
        "event_type", type, "producer", str_or(ev, "producer", ""), "actor_user_id",
        json_is_string(uid) ? uid : NULL, "actor_ip", json_is_string(ip) ? ip : NULL,
        "subject_type", str_or(subject, "type", ""), "subject_id", str_or(subject, "id", ""),
        "changes", changes_text ? changes_text : "[]", "request_id",
        json_is_string(rid) ? rid : NULL, "occurred_at", str_or(ev, "occurred_at", ""));
    free(changes_text);
    char hash[AUDIT_HASH_HEX];
    if (row == NULL)
        return -1;
    if (!actx->chain_locked) {
        if (repo_chain_lock(db) != 0) {
            json_decref(row);
            return -1;
        }
        actx->chain_locked = true;
        if (repo_chain_last_hash(db, actx->chain_head) != 0) {
            json_decref(row);
            return -1;
        }
    }
    if (audit_hash(row, actx->chain_head, actx->chain_key, actx->chain_key_len, hash) != 0) {
        json_decref(row);
        return -1;
    }
    json_object_set_new(row, "chain_version", json_integer(AUDIT_CHAIN_KEYED));
    json_object_set_new(row, "prev_hash", json_string(actx->chain_head));
    json_object_set_new(row, "hash", json_string(hash));
    memcpy(actx->chain_head, hash, AUDIT_HASH_HEX);
    return stage(&actx->staged_audit, row);
}

int audit_apply(struct db *db, const char *stream, const char *entry_id, json_t *ev, void *arg)
{
    struct audit_ctx *actx = arg;
    (void)stream;
    (void)entry_id;
    const char *type = str_or(ev, "type", "");
    json_t *data = json_deep_copy(json_object_get(ev, "data"));
    char when[40];
    int rc;
    if (!json_is_object(data)) {
        json_decref(data);
        data = json_object();
    }
    audit_redact(data);
    sql_time(str_or(ev, "occurred_at", NULL), when, sizeof(when));
    if (strcmp(type, "gateway.operation") == 0)
        rc = apply_operation(actx, ev, data, when);
    else if (strncmp(type, "auth.log", 8) == 0 && apply_login(db, type, ev, data, when) != 0)
        rc = -1;
    else
        rc = apply_names(db, type, ev, data) != 0 ? -1 : apply_chained(actx, db, type, ev, data);
    json_decref(data);
    return rc;
}

/* The rows of the open transaction, written by audit_flush just before the commit: a batch's
 * audit entries (and operation-log rows) then cost a few multi-row INSERTs instead of one
 * round trip each. The chain head moves with each staged row; if the transaction rolls back,
 * audit_after drops the lock, and the next transaction reads the head from the table again. */
int audit_flush(struct db *db, void *arg)
{
    struct audit_ctx *actx = arg;
    if (actx->staged_audit && repo_audit_insert(db, actx->staged_audit) != 0)
        return -1;
    if (actx->staged_ops && repo_operation_insert(db, actx->staged_ops) != 0)
        return -1;
    return 0;
}

void audit_after(struct db *db, void *arg)
{
    struct audit_ctx *actx = arg;
    json_decref(actx->staged_audit);
    json_decref(actx->staged_ops);
    actx->staged_audit = actx->staged_ops = NULL;
    if (actx->chain_locked)
        repo_chain_unlock(db);
    actx->chain_locked = false;
}
