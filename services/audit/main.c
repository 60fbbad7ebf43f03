/* SPDX-License-Identifier: Apache-2.0 */
/* crm-audit: the append-only audit, login and operation logs, fed by every event stream (the
 * streams its line of shared/services.def names; the platform runs the consumer). */
#include "audit.h"
#include "crmlog.h"
#include "util.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdlib.h>

#define K(field) offsetof(struct audit_config, field)
static const struct config_entry audit_config_table[] = {
    {"verify_budget_ms", CONFIG_INT, K(verify_budget_ms), "2000", 100, 60000,
     "one /audit/verify call walks the chain this long, then says where to go on"},
    {"chain_key_file", CONFIG_FILE, K(chain_key_file), NULL, 0, 0,
     "the HMAC key of the audit chain (at least 32 bytes; never stored in the database)"},
    CONFIG_END,
};
#undef K

/* The chain key from chain_key_file, trailing whitespace cut, into 'a'; 0 or -1 (said). */
static int audit_read_chain_key(struct audit_ctx *a)
{
    size_t len = 0;
    char *key = util_read_file(a->cfg->chain_key_file, 4096, &len);
    int rc = -1;
    if (key == NULL) {
        log_error(NULL, "config key 'chain_key_file': cannot read '%s'", a->cfg->chain_key_file);
        goto out;
    }
    while (len > 0 && isspace((unsigned char)key[len - 1]))
        key[--len] = '\0';
    if (len < AUDIT_CHAIN_KEY_MIN) {
        log_error(NULL, "config key 'chain_key_file': the key in '%s' is shorter than %d bytes",
                  a->cfg->chain_key_file, AUDIT_CHAIN_KEY_MIN);
        goto out;
    }
    a->chain_key = (unsigned char *)key;
    a->chain_key_len = len;
    key = NULL;
    rc = 0;
out:
    if (key)
        OPENSSL_cleanse(key, len);
    free(key);
    return rc;
}

static int audit_setup(struct svc *s)
{
    struct audit_ctx *a = xcalloc(1, sizeof(*a));
    s->app = a;
    a->svc = s;
    a->cfg = s->config;
    if (audit_read_chain_key(a) != 0)
        return -1;
    return audit_routes(s);
}

static void audit_teardown(struct svc *s)
{
    struct audit_ctx *a = s->app;
    if (a && a->chain_key) {
        OPENSSL_cleanse(a->chain_key, a->chain_key_len);
        free(a->chain_key);
    }
    free(s->app);
    s->app = NULL;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "audit",
        .version = CRM_VERSION,
        .setup = audit_setup,
        .teardown = audit_teardown,
        .consume = {audit_apply, audit_flush, audit_after, NULL},
        .scope_source = &scope_unscoped, /* administrators' logs: no projection */
        .config = audit_config_table,
        .config_size = sizeof(struct audit_config),
    };
    return svc_main(argc, argv, &def);
}
