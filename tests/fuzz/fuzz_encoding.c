/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the gateway's Accept-Encoding and If-None-Match parsers (client header values). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    for (unsigned offered = 0; offered < (1u << GW_ENCODINGS); offered += 2) {
        enum gw_encoding e = gw_encoding_choose(s, offered);
        /* only what is offered, identity always (abort: the fuzz build defines NDEBUG) */
        if (e != GW_ENCODING_IDENTITY && !(offered & (1u << e)))
            abort();
    }
    (void)gw_encoding_etag_match(s, "\"5f-1a2b-3c4d-br\"");
    (void)gw_encoding_etag_match(s, "W/\"x\"");
    free(s);
    return 0;
}
