/* SPDX-License-Identifier: Apache-2.0 */
/* static: serve the built web front end (web/dist) with content types, caching, fallback and the
 * precompressed .gz/.br files of the build chosen by Accept-Encoding. */
#ifndef CRM_STATIC_H
#define CRM_STATIC_H

#include "http.h"

struct gw_static;

struct gw_static *gw_static_new(const char *root);
void gw_static_free(struct gw_static *st);

/* Answer a GET/HEAD for a web path: the file, index.html for browser routes (no extension), or
 * 404. Hashed files under /assets/ are immutable for a year; index.html must revalidate. A file
 * with a precompressed x.br or x.gz beside it is sent in the coding Accept-Encoding allows (br
 * first), with Content-Encoding, its own ETag and Vary; x.br and x.gz asked for by name are 404. */
void gw_static_serve(struct gw_static *st, struct http_request *req);

#endif
