/* SPDX-License-Identifier: Apache-2.0 */
/* proof: the gateway's HMAC-SHA256 over what it vouches for in a forwarded request. */
#ifndef CRM_PROOF_H
#define CRM_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The header the gateway adds (the client's own is dropped: the gateway strips X-Crm-*). */
#define PROOF_HEADER    "X-Crm-Proof"
#define PROOF_MAX_AGE_S 30 /* a proof older (or newer) than this is not believed */
#define PROOF_VALUE_MAX 96 /* "v1 t=<seconds> sig=<64 hex>" and its NUL */
#define PROOF_KEY_MIN   32 /* bytes of the shared secret at least */
#define PROOF_KEY_MAX   4096

struct proof_key {
    unsigned char bytes[PROOF_KEY_MAX];
    size_t len; /* 0: no key, nothing is proven */
};

/* What the proof binds: the request as the gateway forwards it and what it says about it.
 * 'authorization' is the Authorization header value (NULL: none); it enters as its SHA-256, so
 * a proof is good for that one token only. Any field may be NULL (taken as empty). */
struct proof_fields {
    const char *method;
    const char *target;
    const char *request_id;
    const char *client_ip;
    const char *proto;
    const char *client_request_id;
    const char *authorization;
};

/* Read the secret of config key 'key_name' from 'path' (trailing whitespace cut). An empty
 * 'path' leaves 'out' without a key. 0, or -1 with the reason (naming the key) in 'err'. */
int proof_key_load(struct proof_key *out, const char *key_name, const char *path, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

/* The header value for 'f' at Unix time 'now' into 'out' (PROOF_VALUE_MAX bytes). */
void proof_make(const struct proof_key *k, int64_t now, const struct proof_fields *f, char *out);

/* True when 'value' is a proof by 'k' over 'f' made within PROOF_MAX_AGE_S of 'now'. */
bool proof_check(const struct proof_key *k, int64_t now, const char *value,
                 const struct proof_fields *f) __attribute__((warn_unused_result));

#endif
