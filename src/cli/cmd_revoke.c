/*
 * `sigil revoke sign`: the owner's revocation of one key (docs/POLICY.md
 * "Revocation"), printed as the body of POST /v1/keys/{key_id}/revoke.
 * Client-side code: it holds the owner's seed, in locked memory only.
 */
#include <string.h>

#include "cli/cli.h"
#include "sigil/policy.h"

static const char USAGE[] = "usage: sigil revoke sign --owner-key FILE --tenant T --key-id ID";

typedef struct {
    const char *owner_key, *tenant, *key_id;
} revoke_args;

static int parse_args(revoke_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"owner-key", &a->owner_key, NULL, true},
        {"tenant", &a->tenant, NULL, true},
        {"key-id", &a->key_id, NULL, true},
    };
    return cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, USAGE, "revoke sign");
}

/* {"signature":"<128 hex>"} */
static int print_body(const uint8_t sig[64])
{
    char out[160];
    sigil_buf b;
    sigil_jw w;
    sigil_buf_init(&b, out, sizeof(out));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "signature"));
    GUARD(sigil_jw_hex(&w, sig, 64));
    GUARD(sigil_jw_obj_end(&w));
    return cli_write_line(out, b.len);
}

static int sign_revocation(const revoke_args *a)
{
    SIGIL_SECRET(seed);
    uint8_t owner_pk[32], sig[64];
    GUARD(cli_key_pair_load(owner_pk, &seed, a->owner_key, "--owner-key"));
    GUARD(sigil_revoke_sign(sig, a->tenant, a->key_id, seed.p));
    GUARD(sigil_revoke_verify(sig, a->tenant, a->key_id, owner_pk));
    return print_body(sig);
}

int cmd_revoke(int argc, char **argv)
{
    revoke_args a;
    if (argc < 2 || strcmp(argv[1], "sign") != 0) {
        (void)sigil_fail(SIGIL_E_USAGE, "%s", USAGE);
        return cli_report_error();
    }
    if (parse_args(&a, argc - 1, argv + 1) != 0 || sign_revocation(&a) != 0)
        return cli_report_error();
    return CLI_EXIT_OK;
}
