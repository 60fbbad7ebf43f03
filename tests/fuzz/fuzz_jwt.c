/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the JWT wrapper: no input may crash it or pass verification without our key. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwtv.h"
#include "util.h"

static struct jwtv v;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    PEM_write_bio_PUBKEY(b, k);
    long n = BIO_get_mem_data(b, &p);
    char *pem = xstrndup(p, (size_t)n);
    jwtv_init(&v, "crm-auth", "crm", 0);
    if (jwtv_add_key(&v, "k1", pem, NULL) != 0)
        abort();
    free(pem);
    BIO_free(b);
    EVP_PKEY_free(k);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tok = malloc(size + 1);
    memcpy(tok, data, size);
    tok[size] = '\0';
    json_t *claims = NULL;
    /* The key was made at random in this run: no fuzzed input can carry its signature. */
    if (jwtv_verify(&v, tok, 1800000000, &claims) == JWTV_OK)
        __builtin_trap();
    json_decref(claims);
    free(tok);
    return 0;
}
