/* SPDX-License-Identifier: Apache-2.0 */
/* crm-care: customer care (客户关怀) on the service kit: care tasks and plans, the daily
 * birthday scan and care.due, the execution loop. Its line of shared/services.def gives it its
 * port, an outbox with its relay, and a consumer of the auth stream (the data scope), of the
 * customer stream (libcrm keeps who manages which customer; consume.c the contacts'
 * birthdays) and of the transfer stream (tasks follow their customer). The scan, the due tasks
 * and the repeating plans are its background round (scan.c). The bell's notices live here too
 * (notices.c). The process runs in the scan's time zone (TZ), so "today" is the manager's
 * today; the database holds UTC. */
#include "care.h"
#include "crmlog.h"
#include "notices.h"
#include "util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define K(field) offsetof(struct care_config, field)

static const struct config_entry care_config_table[] = {
    {"scan_time", CONFIG_STRING, K(scan_time), "06:00", 0, 0, "local time of the daily scan"},
    {"scan_tz", CONFIG_STRING, K(scan_tz), "Asia/Shanghai", 0, 0, "the scan's time zone"},
    {"lead_days", CONFIG_INT, K(lead_days), "0", 0, CARE_LEAD_DAYS_MAX,
     "birthdays this many days ahead get their task on the scan's day"},
    CONFIG_END,
};

static int care_setup(struct svc *s)
{
    struct care_app *app = xcalloc(1, sizeof(*app));
    const struct care_config *cfg = s->config;
    int hh = -1, mm = -1;
    char rest;
    app->svc = s;
    app->cfg = cfg;
    s->app = app;
    if (sscanf(cfg->scan_time, "%2d:%2d%c", &hh, &mm, &rest) != 2 || hh < 0 || hh > 23 || mm < 0 ||
        mm > 59) {
        log_error(NULL, "config key 'scan_time': '%s' is not a time such as 06:00", cfg->scan_time);
        return -1;
    }
    /* the zone of "today": before the background round and the consumer start */
    char zone[96];
    snprintf(zone, sizeof(zone), "/usr/share/zoneinfo/%s", cfg->scan_tz);
    if (strstr(cfg->scan_tz, "..") || access(zone, R_OK) != 0) {
        log_error(NULL, "config key 'scan_tz': '%s' is not a time zone of the system",
                  cfg->scan_tz);
        return -1;
    }
    setenv("TZ", cfg->scan_tz, 1);
    tzset();
    log_info(NULL, "care: scan at %s %s, birthdays %ld days ahead", cfg->scan_time, cfg->scan_tz,
             cfg->lead_days);
    return tasks_routes(s) || plans_routes(s) || notices_routes(s) ? -1 : 0;
}

static void care_teardown(struct svc *s)
{
    notices_teardown();
    free(s->app);
    s->app = NULL;
}

int main(int argc, char **argv)
{
    static const struct svc_task_def tasks[] = {
        {CARE_TASK_SCAN, 60000, care_round},
    };
    static const struct svc_def def = {
        .name = "care",
        .version = CRM_VERSION,
        .setup = care_setup,
        .teardown = care_teardown,
        .consume = {care_consume, NULL, care_consume_after, NULL},
        .customer_owners = true,
        /* a task's trail: its own events (history_parent_key: a task's events carry task_id) */
        .history_parent_type = "care_task",
        .history_parent_key = "task_id",
        .config = care_config_table,
        .config_size = sizeof(struct care_config),
        .tasks = tasks,
        .ntasks = 1,
    };
    return svc_main(argc, argv, &def);
}
