/* SPDX-License-Identifier: Apache-2.0 */
/* static: serve the built web front end (web/dist) with content types, caching and fallback. */
#ifndef CRM_STATIC_H
#define CRM_STATIC_H

#include "http.h"

struct gw_static;

struct gw_static *gw_static_new(const char *root);
void gw_static_free(struct gw_static *st);

/* Answer a GET/HEAD for a web path: the file, index.html for browser routes (no extension), or
 * 404. Hashed files under /assets/ are immutable for a year; index.html must revalidate. */
void gw_static_serve(struct gw_static *st, struct http_request *req);

#endif
