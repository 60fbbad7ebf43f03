/* SPDX-License-Identifier: Apache-2.0 */
/* oplog: the operation log of state-changing API requests, sent to crm:stream:gateway. */
#ifndef CRM_OPLOG_H
#define CRM_OPLOG_H

#include <event2/event.h>
#include <stdint.h>

#include "http.h"

struct gw_oplog;

/* Sends asynchronously on the loop; while Redis is away, entries wait in memory (at most
 * 'max_queued', the oldest dropped and counted past that). Once the stream holds more than
 * 'trim_above' entries, those every consumer group is done with are trimmed (EVENTS_TRIM_LUA). */
struct gw_oplog *gw_oplog_new(struct event_base *base, const char *host, int port, long max_queued,
                              long trim_above);
void gw_oplog_free(struct gw_oplog *o);

/* Record 'req' when it changed state (POST, PUT, PATCH, DELETE under /api/). Never blocks. */
void gw_oplog_record(struct gw_oplog *o, const struct http_request *req, const char *user_id);

void gw_oplog_stats(const struct gw_oplog *o, uint64_t *sent, uint64_t *queued, uint64_t *dropped);

#endif
