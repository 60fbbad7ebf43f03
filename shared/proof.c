/* SPDX-License-Identifier: Apache-2.0 */
/* proof: the gateway's HMAC-SHA256 over what it vouches for in a forwarded request. */
#include "proof.h"
#include "util.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int proof_key_load(struct proof_key *out, const char *key_name, const char *path, char *err,
                   size_t errlen)
{
    size_t len = 0;
    char *text = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (path == NULL || path[0] == '\0') {
        rc = 0;
        goto out;
    }
    text = util_read_file(path, PROOF_KEY_MAX, &len);
    if (text == NULL) {
        snprintf(err, errlen, "config key '%s': cannot read '%s'", key_name, path);
        goto out;
    }
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len < PROOF_KEY_MIN) {
        snprintf(err, errlen, "config key '%s': '%s' holds fewer than %d bytes", key_name, path,
                 PROOF_KEY_MIN);
        goto out;
    }
    memcpy(out->bytes, text, len);
    out->len = len;
    rc = 0;
out:
    if (text != NULL) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
    return rc;
}

/* Append 's' to 'ctx' as "<length>:<bytes>\n", so no two field lists hash alike. */
static void proof_field(EVP_MAC_CTX *ctx, const char *s)
{
    char len[24];
    size_t n = s ? strlen(s) : 0;
    int ll = snprintf(len, sizeof(len), "%zu:", n);
    EVP_MAC_update(ctx, (const unsigned char *)len, (size_t)ll);
    if (n)
        EVP_MAC_update(ctx, (const unsigned char *)s, n);
    EVP_MAC_update(ctx, (const unsigned char *)"\n", 1);
}

/* The 64 hex digits of the HMAC of 'f' at 't' into 'hex' (65 bytes); false when OpenSSL fails. */
static bool proof_sign(const struct proof_key *k, int64_t t, const struct proof_fields *f,
                       char *hex)
{
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    unsigned char sum[SHA256_DIGEST_LENGTH], out[EVP_MAX_MD_SIZE];
    char auth_hex[2 * SHA256_DIGEST_LENGTH + 1], ts[24];
    size_t outlen = 0;
    bool ok = false;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};

    const char *a = f->authorization ? f->authorization : "";
    SHA256((const unsigned char *)a, strlen(a), sum);
    for (size_t i = 0; i < sizeof(sum); i++)
        snprintf(auth_hex + 2 * i, 3, "%02x", sum[i]);
    snprintf(ts, sizeof(ts), "%" PRId64, t);

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (ctx == NULL || EVP_MAC_init(ctx, k->bytes, k->len, params) != 1)
        goto out;
    proof_field(ctx, "crm-proof-v1");
    proof_field(ctx, ts);
    proof_field(ctx, f->method);
    proof_field(ctx, f->target);
    proof_field(ctx, f->request_id);
    proof_field(ctx, f->client_ip);
    proof_field(ctx, f->proto);
    proof_field(ctx, f->client_request_id);
    proof_field(ctx, auth_hex);
    if (EVP_MAC_final(ctx, out, &outlen, sizeof(out)) != 1 || outlen != 32)
        goto out;
    for (size_t i = 0; i < outlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    ok = true;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok;
}

void proof_make(const struct proof_key *k, int64_t now, const struct proof_fields *f, char *out)
{
    char hex[65];
    if (k->len == 0 || !proof_sign(k, now, f, hex))
        snprintf(hex, sizeof(hex), "none"); /* checks nowhere: the service sees no gateway */
    snprintf(out, PROOF_VALUE_MAX, "v1 t=%" PRId64 " sig=%s", now, hex);
}

bool proof_check(const struct proof_key *k, int64_t now, const char *value,
                 const struct proof_fields *f)
{
    char want[65], got[65];
    long long t = 0;
    int used = 0;

    if (k->len == 0 || value == NULL ||
        sscanf(value, "v1 t=%18lld sig=%64[0-9a-f]%n", &t, got, &used) != 2 ||
        value[used] != '\0' || strlen(got) != 64)
        return false;
    if (t < now - PROOF_MAX_AGE_S || t > now + PROOF_MAX_AGE_S)
        return false;
    if (!proof_sign(k, (int64_t)t, f, want))
        return false;
    return CRYPTO_memcmp(want, got, 64) == 0;
}
