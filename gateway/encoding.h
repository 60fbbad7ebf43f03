/* SPDX-License-Identifier: Apache-2.0 */
/* encoding: content codings of the gateway's answers: what a client's Accept-Encoding allows,
 * and gzip of an answer body (zlib). */
#ifndef CRM_ENCODING_H
#define CRM_ENCODING_H

#include <event2/buffer.h>
#include <stdbool.h>

/* The codings the gateway can send; a set of them is a mask of (1u << coding). */
enum gw_encoding { GW_ENCODING_IDENTITY = 0, GW_ENCODING_GZIP, GW_ENCODING_BR, GW_ENCODINGS };

/* The Content-Encoding value of 'e' (NULL for identity) and the ETag suffix of its variant. */
const char *gw_encoding_name(enum gw_encoding e);
const char *gw_encoding_etag_suffix(enum gw_encoding e);

/* The coding to send, given 'accept' (the request's Accept-Encoding, NULL when absent) and
 * 'offered' (a mask of the non-identity codings available): among the offered ones the client
 * accepts with q > 0 (named, or through '*'), the one with the highest q, br before gzip on a
 * tie. Identity otherwise, also when absent: no Accept-Encoding means no compression. Identity
 * is never refused ("identity;q=0" still gets it: an answer beats a 406). */
enum gw_encoding gw_encoding_choose(const char *accept, unsigned offered);

/* Append to 'out' the gzip stream (RFC 1952) of the bytes of 'in' at zlib 'level' (1-9); 'in'
 * is left as it was. 0, or -1 when zlib fails, and then 'out' holds a partial stream that the
 * caller must throw away. */
int gw_encoding_gzip(struct evbuffer *in, int level, struct evbuffer *out)
    __attribute__((warn_unused_result));

/* Whether the If-None-Match value 'inm' (may be NULL) names 'etag': "*", or one entry of the
 * list equal to it by the weak comparison (a W/ prefix ignored) that RFC 9110 asks for. */
bool gw_encoding_etag_match(const char *inm, const char *etag);

#endif
