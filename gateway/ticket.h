/* SPDX-License-Identifier: Apache-2.0 */
/* ticket: one-use, short-lived tickets for the notice stream's URL, in the gateway's memory.
 * EventSource cannot send an Authorization header, and an access token in a URL ends up in
 * logs and histories: the console asks for a ticket with its token (POST
 * /api/v1/notices/ticket), then opens /api/v1/notices/stream?ticket=...; the gateway swaps the
 * ticket for the token it stands for, once, from the same client address, within the ticket's
 * life. The stream then lives as long as that token (its expiry and revocation end it). */
#ifndef CRM_TICKET_H
#define CRM_TICKET_H

#include <stdint.h>

#define GW_TICKET_LEN 64 /* hex characters */

struct gw_tickets;

/* At most 'max' tickets live at once, each for 'ttl_ms'. */
struct gw_tickets *gw_tickets_new(long max, long ttl_ms);
void gw_tickets_free(struct gw_tickets *t);

/* A new ticket for the request header value 'authorization' from client address 'ip', at
 * 'now_ms', into 'out' (GW_TICKET_LEN + 1 bytes). 0, or -1 when 'max' tickets are live. */
int gw_ticket_issue(struct gw_tickets *t, const char *authorization, const char *ip,
                    uint64_t now_ms, char out[GW_TICKET_LEN + 1])
    __attribute__((warn_unused_result));

/* The Authorization value 'ticket' stands for (the caller frees it), or NULL when it is
 * unknown, used, expired or presented from another address. The ticket is gone afterwards. */
char *gw_ticket_take(struct gw_tickets *t, const char *ticket, const char *ip, uint64_t now_ms);

/* Drop expired tickets (once a second). */
void gw_tickets_prune(struct gw_tickets *t, uint64_t now_ms);
long gw_tickets_live(const struct gw_tickets *t);
/* The tickets' life, in seconds (for the answer). */
long gw_tickets_ttl_s(const struct gw_tickets *t);

#endif
