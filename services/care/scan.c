/* SPDX-License-Identifier: Apache-2.0 */
/* scan: the care service's background round (svc_def.tasks "scan", every minute and when
 * woken) and what it shares with the handlers:
 *   - the daily birthday scan: once the local scan time has come, each local day not scanned
 *     yet (back to CARE_CATCH_UP_DAYS, so a scan missed while the service was down is made up
 *     at its start) makes one birthday task per contact whose birthday is that day plus
 *     lead_days, for the customer's current owner; 29 February is kept on 28 February in
 *     other years. One transaction per day, with the day's row in care_scan_days; the tasks'
 *     unique key (one birthday task per contact per year) makes a second run of a day make
 *     only the tasks of contacts added since.
 *   - care.due: each pending task whose day has come is announced once (due_notified).
 *   - repeating plans: the next occurrence's tasks when its day comes.
 * Times: the process runs in scan_tz (TZ, set at start); the database holds UTC. */
#include "care.h"
#include "crmlog.h"
#include "notices.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* states and days                                                                             */

static const char *const status_names[] = {
    [CARE_PENDING] = "pending", [CARE_DONE] = "done", [CARE_CANCELLED] = "cancelled"};

const char *care_status_name(enum care_status s)
{
    return status_names[s];
}

int care_status_parse(const char *s, enum care_status *out)
{
    for (size_t i = 0; s && i < ARRAY_LEN(status_names); i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum care_status)i;
            return 0;
        }
    }
    return -1;
}

int care_transition(enum care_status from, enum care_action action, enum care_status *to)
{
    switch (action) {
    case CARE_RECORD:
        if (from != CARE_PENDING)
            return -1;
        *to = CARE_PENDING;
        return 0;
    case CARE_FEEDBACK: /* the feedback often comes after the care is done */
        if (from == CARE_CANCELLED)
            return -1;
        *to = from;
        return 0;
    case CARE_COMPLETE:
    case CARE_CANCEL:
        if (from != CARE_PENDING)
            return -1;
        *to = action == CARE_COMPLETE ? CARE_DONE : CARE_CANCELLED;
        return 0;
    case CARE_REOPEN:
        if (from != CARE_CANCELLED)
            return -1;
        *to = CARE_PENDING;
        return 0;
    }
    return -1;
}

static void utc_text(time_t t, char out[32])
{
    struct tm u;
    gmtime_r(&t, &u);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S.000", &u);
}

void care_now_text(char out[32])
{
    utc_text(time(NULL), out);
}

/* local midnight of 'lt' (normalised) and the next one, as UTC texts; the day into 'day' */
static void bounds_of(struct tm *lt, char day[16], char start[32], char end[32])
{
    lt->tm_hour = lt->tm_min = lt->tm_sec = 0;
    lt->tm_isdst = -1;
    time_t s = mktime(lt);
    struct tm next = *lt;
    next.tm_mday++;
    next.tm_isdst = -1;
    time_t e = mktime(&next);
    if (day)
        strftime(day, 16, "%Y-%m-%d", lt);
    utc_text(s, start);
    utc_text(e, end);
}

void care_local_day(int days_ahead, char day[16], char start[32], char end[32])
{
    time_t now = time(NULL);
    struct tm lt;
    localtime_r(&now, &lt);
    lt.tm_mday += days_ahead;
    bounds_of(&lt, day, start, end);
}

bool care_day_bounds(const char *day, char start[32], char end[32])
{
    int y, m, d;
    char rest;
    if (day == NULL || sscanf(day, "%4d-%2d-%2d%c", &y, &m, &d, &rest) != 3 || y < 1900 ||
        y > 9999 || m < 1 || m > 12 || d < 1 || d > util_days_in_month(y, m))
        return false;
    struct tm lt = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    bounds_of(&lt, NULL, start, end);
    return true;
}

/* 'day' + 'n' days as "YYYY-MM-DD" and its parts */
static void day_plus(const char *day, int n, char out[16], int *y, int *m, int *d)
{
    struct tm lt = {.tm_hour = 12};
    sscanf(day, "%d-%d-%d", &lt.tm_year, &lt.tm_mon, &lt.tm_mday);
    lt.tm_year -= 1900;
    lt.tm_mon -= 1;
    lt.tm_mday += n;
    time_t t = timegm(&lt);
    struct tm u;
    gmtime_r(&t, &u);
    strftime(out, 16, "%Y-%m-%d", &u);
    *y = u.tm_year + 1900;
    *m = u.tm_mon + 1;
    *d = u.tm_mday;
}

json_t *care_task_event_data(json_t *row)
{
    static const char *const copied[] = {
        "kind",       "plan_id",      "occurrence", "customer_id", "customer_name",
        "contact_id", "contact_name", "manager_id", "care_type",   "title",
        "planned_at", "status",       "version",
    };
    json_t *data = json_pack("{s:O}", "task_id", json_object_get(row, "id"));
    for (size_t i = 0; i < ARRAY_LEN(copied); i++)
        json_object_set(data, copied[i], json_object_get(row, copied[i]));
    return data;
}

/* Event 'type' of task 'id' (re-read) with 'actor', in the open transaction. */
static int task_event(struct db *db, long long id, const char *type,
                      const struct events_actor *actor, json_t *extra)
{
    json_t *row = NULL;
    char sid[24];
    snprintf(sid, sizeof(sid), "%lld", id);
    if (repo_task_get(db, NULL, id, false, &row) != 0 || row == NULL) {
        json_decref(extra);
        return -1;
    }
    json_t *data = care_task_event_data(row);
    if (extra)
        json_object_update(data, extra);
    json_decref(extra);
    json_decref(row);
    return events_outbox_add(db, "care", type, actor, "care_task", sid, data, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* the birthday scan                                                                           */

int care_scan_day(struct svc_worker *w, const struct care_app *app, const char *day,
                  long long *made, bool *already)
{
    static const struct events_actor system = {NULL, NULL};
    char target[16], start[32], end[32];
    int y, m, d;
    json_t *done = NULL, *rows = NULL;
    int rc = -1;
    *made = 0;
    *already = false;
    day_plus(day, (int)app->cfg->lead_days, target, &y, &m, &d);
    if (!care_day_bounds(target, start, end))
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    bool feb29_too = m == 2 && d == 28 && !leap;
    if (db_begin(&w->db) != 0 ||
        db_query_one(&w->db, "SELECT day FROM care_scan_days WHERE day = ? FOR UPDATE",
                     &DBP_STR(day), 1, &done) != 0)
        goto out;
    *already = done != NULL; /* scanned before: only contacts added since get a task */
    json_t *top = NULL;
    if (db_query_one(&w->db, "SELECT COALESCE(MAX(id), 0) AS top FROM care_tasks", NULL, 0, &top) !=
        0)
        goto out;
    long long before = json_integer_value(json_object_get(top, "top"));
    json_decref(top);
    /* one statement: the day's contacts (one range of ix_care_contacts_birthday) with their
     * customers' owners; a task that exists already (its unique key) is left alone */
    struct db_param p[] = {DBP_INT(y), DBP_STR(CARE_BIRTHDAY_TYPE), DBP_STR(start), DBP_INT(m),
                           DBP_INT(d), DBP_INT(feb29_too)};
    if (db_exec(&w->db,
                "INSERT IGNORE INTO care_tasks (kind, birthday_year, customer_id, contact_id,"
                " manager_id, care_type, title, planned_at)"
                " SELECT 'birthday', ?, cc.customer_id, cc.contact_id, o.manager_id, ?, cc.name, ?"
                " FROM care_contacts cc JOIN customer_owners o ON o.customer_id = cc.customer_id"
                " WHERE cc.deleted = 0 AND o.deleted = 0 AND ((cc.birth_month = ?"
                " AND cc.birth_day = ?) OR (? AND cc.birth_month = 2 AND cc.birth_day = 29))",
                p, ARRAY_LEN(p), NULL, NULL) != 0)
        goto out;
    struct db_param q[] = {DBP_INT(before), DBP_INT(y), DBP_STR(start)};
    if (db_query(&w->db,
                 "SELECT id FROM care_tasks WHERE id > ? AND kind = 'birthday'"
                 " AND birthday_year = ? AND planned_at = ? ORDER BY id",
                 q, ARRAY_LEN(q), &rows) != 0)
        goto out;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (task_event(&w->db, json_integer_value(json_object_get(r, "id")), "care.created",
                       &system, NULL) != 0)
            goto out;
    }
    *made = (long long)json_array_size(rows);
    struct db_param s[] = {DBP_STR(day), DBP_INT(*made)};
    if (db_exec(&w->db,
                "INSERT INTO care_scan_days (day, tasks) VALUES (?, ?) ON DUPLICATE KEY UPDATE"
                " tasks = tasks + VALUES(tasks), ran_at = CURRENT_TIMESTAMP(3)",
                s, 2, NULL, NULL) != 0 ||
        db_commit(&w->db) != 0)
        goto out;
    svc_events_committed(w->svc);
    log_info(NULL, "birthday scan of %s (birthdays of %s): %lld tasks", day, target, *made);
    rc = 0;
out:
    if (rc != 0)
        db_rollback(&w->db);
    json_decref(done);
    json_decref(rows);
    return rc;
}

/* The days to scan now, once the local time is past scan_time and today is not scanned yet:
 * from the last day scanned (again: a contact added after that scan, born that day, gets its
 * task now) to today, at most CARE_CATCH_UP_DAYS back; none scanned yet: today. So a scan
 * missed while the service was down is made up when it starts. */
static int scan_due_days(struct svc_worker *w, const struct care_app *app)
{
    time_t now = time(NULL);
    struct tm lt;
    localtime_r(&now, &lt);
    int hh = 0, mm = 0;
    sscanf(app->cfg->scan_time, "%d:%d", &hh, &mm);
    if (lt.tm_hour * 60 + lt.tm_min < hh * 60 + mm)
        return 0; /* not yet today: yesterday was done yesterday (or is caught up below then) */
    char today[16], start[32], end[32];
    care_local_day(0, today, start, end);
    json_t *last = NULL;
    if (db_query_one(&w->db, "SELECT DATE_FORMAT(MAX(day), '%Y-%m-%d') AS last FROM care_scan_days",
                     NULL, 0, &last) != 0)
        return -1;
    const char *l = json_string_value(json_object_get(last, "last"));
    int first = l ? -CARE_CATCH_UP_DAYS : 0;
    bool due = l == NULL || strcmp(l, today) < 0;
    for (int back = CARE_CATCH_UP_DAYS; due && l && back > 0; back--) {
        char day[16];
        int y, m, d;
        day_plus(today, -back, day, &y, &m, &d);
        if (strcmp(day, l) >= 0) {
            first = -back;
            break;
        }
    }
    json_decref(last);
    for (int k = first; due && k <= 0; k++) {
        char day[16];
        int y, m, d;
        long long made = 0;
        bool already = false;
        day_plus(today, k, day, &y, &m, &d);
        if (care_scan_day(w, app, day, &made, &already) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* care.due                                                                                    */

#define DUE_BATCH 500 /* the LIMIT below */

/* The bell of the task's manager: one notice per manager and day, its count growing with the
 * tasks falling due that day (a birthday scan makes many at once), naming the latest. */
static int due_notice(struct db *db, long long id, const char *day)
{
    json_t *row = NULL;
    char group[32];
    if (repo_task_get(db, NULL, id, false, &row) != 0 || row == NULL)
        return -1;
    json_t *data = json_pack(
        "{s:O, s:O, s:O, s:O, s:O, s:O, s:s}", "task_id", json_object_get(row, "id"), "title",
        json_object_get(row, "title"), "care_type", json_object_get(row, "care_type"), "kind",
        json_object_get(row, "kind"), "customer_name", json_object_get(row, "customer_name"),
        "contact_name", json_object_get(row, "contact_name"), "due_on", day);
    snprintf(group, sizeof(group), "due:%s", day);
    int rc = notice_bump(db, json_integer_value(json_object_get(row, "manager_id")),
                         NOTICE_CARE_DUE, group, data, "/care?view=today");
    json_decref(data);
    json_decref(row);
    return rc;
}

/* Announce the pending tasks whose local day has come; 1 when a full batch went (more). */
static int due_pass(struct svc_worker *w)
{
    static const struct events_actor system = {NULL, NULL};
    char today[16], start[32], end[32];
    json_t *rows = NULL;
    int rc = -1;
    care_local_day(0, today, start, end);
    if (db_begin(&w->db) != 0 ||
        db_query(&w->db,
                 "SELECT id FROM care_tasks WHERE status = 'pending' AND due_notified = 0"
                 " AND planned_at < ? ORDER BY id LIMIT 500 FOR UPDATE",
                 &DBP_STR(end), 1, &rows) != 0)
        goto out;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        long long id = json_integer_value(json_object_get(r, "id"));
        if (db_exec(&w->db, "UPDATE care_tasks SET due_notified = 1 WHERE id = ?", &DBP_INT(id), 1,
                    NULL, NULL) != 0 ||
            task_event(&w->db, id, "care.due", &system, json_pack("{s:s}", "due_on", today)) != 0 ||
            due_notice(&w->db, id, today) != 0)
            goto out;
    }
    if (db_commit(&w->db) != 0)
        goto out;
    if (json_array_size(rows) > 0) {
        svc_events_committed(w->svc);
        notices_committed();
    }
    rc = json_array_size(rows) == DUE_BATCH ? 1 : 0;
out:
    if (rc < 0)
        db_rollback(&w->db);
    json_decref(rows);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* plans                                                                                       */

int care_plan_occurrence(struct svc_worker *w, json_t *plan, long long occurrence, const char *at,
                         const struct events_actor *actor, long long *made)
{
    struct scope sc = {.user_id = json_integer_value(json_object_get(plan, "created_by")),
                       .src = &scope_projection};
    json_t *targets = NULL;
    int rc = -1;
    *made = 0;
    if (scope_parse(json_string_value(json_object_get(plan, "creator_scope")), &sc.kind) != 0)
        sc.kind = SCOPE_SELF;
    json_t *filter = json_object_get(plan, "filter");
    if (json_is_object(filter)) {
        if (repo_contacts_matching(&w->db, &sc, filter, CARE_PLAN_CONTACTS, &targets) != 0)
            goto out;
    } else {
        targets = json_array();
        size_t i;
        json_t *id;
        json_array_foreach(json_object_get(plan, "contact_ids"), i, id)
        {
            json_t *c = NULL;
            if (repo_contact_get(&w->db, &sc, json_integer_value(id), &c) != 0)
                goto out;
            if (c) /* a contact gone, or no longer in the scope, gets no task */
                json_array_append_new(targets, c);
        }
    }
    size_t i;
    json_t *c;
    json_array_foreach(targets, i, c)
    {
        long long id = 0;
        json_t *v = json_pack(
            "{s:s, s:O, s:I, s:O, s:O, s:O, s:O, s:O, s:s, s:O}", "kind", "plan", "plan_id",
            json_object_get(plan, "id"), "occurrence", (json_int_t)occurrence, "customer_id",
            json_object_get(c, "customer_id"), "contact_id", json_object_get(c, "contact_id"),
            "manager_id", json_object_get(c, "manager_id"), "care_type",
            json_object_get(plan, "care_type"), "title", json_object_get(plan, "title"),
            "planned_at", at, "created_by", json_object_get(plan, "created_by"));
        int irc = repo_task_insert(&w->db, v, &id);
        json_decref(v);
        if (irc != 0 || (id && task_event(&w->db, id, "care.created", actor, NULL) != 0))
            goto out;
        *made += id ? 1 : 0;
    }
    rc = 0;
out:
    json_decref(targets);
    return rc;
}

/* The plan's row with its JSON texts as JSON and its next time as a DATETIME text. */
static int plan_locked(struct db *db, long long id, json_t **plan)
{
    if (db_query_one(db,
                     "SELECT id, title, care_type, content, contact_ids, filter, repeat_unit,"
                     " repeat_every, until, occurrences, status, created_by, creator_scope,"
                     " DATE_FORMAT(next_at, '%Y-%m-%d %H:%i:%s.%f') AS next_at_text"
                     " FROM care_plans WHERE id = ? FOR UPDATE",
                     &DBP_INT(id), 1, plan) != 0)
        return -1;
    static const char *const json_cols[] = {"contact_ids", "filter"};
    for (size_t i = 0; *plan && i < ARRAY_LEN(json_cols); i++) {
        const char *t = json_string_value(json_object_get(*plan, json_cols[i]));
        json_t *v = t ? json_loads(t, 0, NULL) : NULL;
        json_object_set_new(*plan, json_cols[i], v ? v : json_null());
    }
    return 0;
}

int care_plan_advance(struct svc_worker *w, long long plan_id, const struct events_actor *actor,
                      long long *made)
{
    json_t *plan = NULL;
    long long n = 0;
    int rc = -1;
    if (made)
        *made = 0;
    if (plan_locked(&w->db, plan_id, &plan) != 0)
        goto out;
    const char *at = json_string_value(json_object_get(plan, "next_at_text"));
    if (plan == NULL || at == NULL ||
        strcmp(json_string_value(json_object_get(plan, "status")), "active") != 0) {
        rc = 0;
        goto out;
    }
    long long occ = json_integer_value(json_object_get(plan, "occurrences")) + 1;
    if (care_plan_occurrence(w, plan, occ, at, actor, &n) != 0)
        goto out;
    /* the next time by the repeat (a quarter is three months); past 'until', none: ended */
    if (db_exec(&w->db,
                "UPDATE care_plans SET occurrences = ?, next_at = CASE repeat_unit"
                " WHEN 'day' THEN next_at + INTERVAL repeat_every DAY"
                " WHEN 'week' THEN next_at + INTERVAL repeat_every WEEK"
                " WHEN 'month' THEN next_at + INTERVAL repeat_every MONTH"
                " WHEN 'quarter' THEN next_at + INTERVAL 3 * repeat_every MONTH ELSE NULL END,"
                " version = version + 1 WHERE id = ?",
                (struct db_param[]){DBP_INT(occ), DBP_INT(plan_id)}, 2, NULL, NULL) != 0 ||
        db_exec(&w->db,
                "UPDATE care_plans SET next_at = NULL, status = 'ended' WHERE id = ?"
                " AND (next_at IS NULL OR (until IS NOT NULL AND DATE(next_at) > until))",
                &DBP_INT(plan_id), 1, NULL, NULL) != 0)
        goto out;
    if (made)
        *made = n;
    rc = 0;
out:
    json_decref(plan);
    return rc;
}

/* Make the occurrences of repeating plans whose day has come; 1 when there may be more. */
static int plan_pass(struct svc_worker *w)
{
    static const struct events_actor system = {NULL, NULL};
    char today[16], start[32], end[32];
    json_t *rows = NULL;
    int rc = -1;
    care_local_day(0, today, start, end);
    if (db_begin(&w->db) != 0 ||
        db_query(&w->db,
                 "SELECT id FROM care_plans WHERE status = 'active' AND next_at IS NOT NULL"
                 " AND next_at < ? ORDER BY id LIMIT 20 FOR UPDATE",
                 &DBP_STR(end), 1, &rows) != 0)
        goto out;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (care_plan_advance(w, json_integer_value(json_object_get(r, "id")), &system, NULL) != 0)
            goto out;
    }
    if (db_commit(&w->db) != 0)
        goto out;
    if (json_array_size(rows) > 0)
        svc_events_committed(w->svc);
    rc = json_array_size(rows) == 20 ? 1 : 0;
out:
    if (rc < 0)
        db_rollback(&w->db);
    json_decref(rows);
    return rc;
}

int care_round(struct svc_worker *w, void *arg)
{
    const struct care_app *app = arg;
    int more = 0, r;
    if (scan_due_days(w, app) != 0) {
        log_warn(NULL, "birthday scan failed: %s", w->db.last_error);
        db_rollback(&w->db);
        return -1;
    }
    if ((r = plan_pass(w)) < 0 || (more |= r, (r = due_pass(w)) < 0)) {
        log_warn(NULL, "care round failed: %s", w->db.last_error);
        return -1;
    }
    return more | r;
}
