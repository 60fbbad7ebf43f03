/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: request counters by route and status and a latency histogram, in Prometheus text. */
#include "metrics.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX_SERIES 512

static const double bucket_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                  0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define NBUCKETS (sizeof(bucket_s) / sizeof(bucket_s[0]))

struct metrics_series {
    char route[96];
    char method[8];
    int status;
    uint64_t count;
    uint64_t buckets[NBUCKETS];
    double sum_s;
};

struct metrics {
    char svc[32];
    struct metrics_series series[METRICS_MAX_SERIES];
    size_t n;
};

struct metrics *metrics_new(const char *svc)
{
    struct metrics *m = xcalloc(1, sizeof(*m));
    snprintf(m->svc, sizeof(m->svc), "%s", svc);
    return m;
}

void metrics_free(struct metrics *m)
{
    free(m);
}

static struct metrics_series *metrics_find(struct metrics *m, const char *route, const char *method,
                                           int status)
{
    for (size_t i = 0; i < m->n; i++) {
        struct metrics_series *s = &m->series[i];
        if (s->status == status && strcmp(s->route, route) == 0 && strcmp(s->method, method) == 0)
            return s;
    }
    if (m->n == METRICS_MAX_SERIES) {
        /* The label set is bounded by the routes; past the cap everything is one 'other'. */
        return &m->series[METRICS_MAX_SERIES - 1];
    }
    struct metrics_series *s = &m->series[m->n++];
    snprintf(s->route, sizeof(s->route), "%s", route);
    snprintf(s->method, sizeof(s->method), "%s", method);
    s->status = status;
    return s;
}

void metrics_observe(struct metrics *m, const char *route, const char *method, int status,
                     uint64_t duration_us)
{
    struct metrics_series *s = metrics_find(m, route, method, status);
    double secs = (double)duration_us / 1e6;
    s->count++;
    s->sum_s += secs;
    for (size_t b = 0; b < NBUCKETS; b++) {
        if (secs <= bucket_s[b])
            s->buckets[b]++;
    }
}

void metrics_render_gauge(struct evbuffer *out, const char *name, const char *help,
                          const char *labels, double value)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s{%s} %.17g\n", name, help, name,
                        name, labels, value);
}

void metrics_render(struct metrics *m, struct evbuffer *out)
{
    evbuffer_add_printf(out, "# HELP crm_http_requests_total HTTP requests answered.\n"
                             "# TYPE crm_http_requests_total counter\n");
    for (size_t i = 0; i < m->n; i++) {
        struct metrics_series *s = &m->series[i];
        evbuffer_add_printf(out,
                            "crm_http_requests_total{svc=\"%s\",route=\"%s\",method=\"%s\","
                            "status=\"%d\"} %llu\n",
                            m->svc, s->route, s->method, s->status, (unsigned long long)s->count);
    }
    evbuffer_add_printf(out, "# HELP crm_http_request_duration_seconds Time to answer.\n"
                             "# TYPE crm_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n; i++) {
        struct metrics_series *s = &m->series[i];
        char labels[192];
        snprintf(labels, sizeof(labels), "svc=\"%s\",route=\"%s\",method=\"%s\",status=\"%d\"",
                 m->svc, s->route, s->method, s->status);
        for (size_t b = 0; b < NBUCKETS; b++) {
            evbuffer_add_printf(out,
                                "crm_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
                                labels, bucket_s[b], (unsigned long long)s->buckets[b]);
        }
        evbuffer_add_printf(out,
                            "crm_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n"
                            "crm_http_request_duration_seconds_sum{%s} %.6f\n"
                            "crm_http_request_duration_seconds_count{%s} %llu\n",
                            labels, (unsigned long long)s->count, labels, s->sum_s, labels,
                            (unsigned long long)s->count);
    }
}
