/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: request counters by route and status and a latency histogram, in Prometheus text. */
#ifndef CRM_METRICS_H
#define CRM_METRICS_H

#include <event2/buffer.h>
#include <stdint.h>

struct metrics;

/* Updated and rendered on the event-loop thread only. 'svc' labels every series. */
struct metrics *metrics_new(const char *svc);
void metrics_free(struct metrics *m);

/* Count one finished request: 'route' is the matched pattern (bounded label set). */
void metrics_observe(struct metrics *m, const char *route, const char *method, int status,
                     uint64_t duration_us);

/* Append the request series in Prometheus text format 0.0.4. */
void metrics_render(struct metrics *m, struct evbuffer *out);

/* Helpers for callers adding their own gauges and counters. */
void metrics_render_gauge(struct evbuffer *out, const char *name, const char *help,
                          const char *labels, double value);

#endif
