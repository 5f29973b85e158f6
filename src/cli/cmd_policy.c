/*
 * `sigil policy lint FILE` and `sigil policy sign`: an owner's tools for
 * policies (docs/POLICY.md). lint parses strictly and explains risky or
 * self-defeating settings; sign makes the body of a policy update
 * (PUT /v1/keys/{key_id}/policy). Client-side code: sign holds the owner's
 * seed, in locked memory only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "sigil/policy.h"

#define OUTPUT_MAX ((size_t)16 * 1024)
#define DAY_S (24ull * 60 * 60)
#define LONG_VALIDITY_S (90 * DAY_S)
#define LARGE_SKEW_MS 60000u

/* The policy being linted or signed: large, so not on the stack. */
typedef struct {
    char text[SIGIL_POLICY_MAX_BYTES];
    size_t len;
    sigil_policy p;
} policy_file;

/* Reads and strictly parses FILE; errors name the field (policy.actions[2]: …). */
static int load_policy(policy_file *f, const char *path, const char *opt)
{
    GUARD(cli_read_public_file(f->text, sizeof(f->text), &f->len, path, opt));
    return sigil_policy_parse(&f->p, f->text, f->len);
}

static const char *network_name(sigil_network n)
{
    return n == SIGIL_NET_TESTNET ? "testnet" : "mainnet";
}

/* ---- lint checks: one row each ---- */

typedef struct {
    const sigil_policy *p;
    uint64_t now_s;
} lint_input;

static bool allows(const sigil_policy *p, sigil_action a)
{
    return (p->actions >> a & 1u) != 0;
}

static bool venue_in(const char *venue, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(venue, *list) == 0)
            return true;
    return false;
}

static bool all_actions(const lint_input *in)
{
    return in->p->actions == SIGIL_ACTIONS_ALL;
}

static bool money_without_destinations(const lint_input *in)
{
    return (allows(in->p, SIGIL_ACTION_WITHDRAW) || allows(in->p, SIGIL_ACTION_TRANSFER)) &&
           in->p->n_destinations == 0;
}

static bool agent_without_agents(const lint_input *in)
{
    static const char *const WALLET_AGENT_VENUES[] = {"hyperliquid", "aster", NULL};
    return allows(in->p, SIGIL_ACTION_AGENT) && in->p->n_agents == 0 &&
           venue_in(in->p->venue, WALLET_AGENT_VENUES);
}

static bool order_without_symbols(const lint_input *in)
{
    return allows(in->p, SIGIL_ACTION_ORDER) && !in->p->has_symbols;
}

static bool symbols_unused(const lint_input *in)
{
    return in->p->has_symbols && !allows(in->p, SIGIL_ACTION_ORDER) &&
           !allows(in->p, SIGIL_ACTION_MODIFY) && !allows(in->p, SIGIL_ACTION_CANCEL);
}

static bool expired(const lint_input *in)
{
    return in->p->not_after <= in->now_s;
}

static bool long_validity(const lint_input *in)
{
    return in->p->not_after > in->now_s + LONG_VALIDITY_S;
}

static bool no_limits(const lint_input *in)
{
    const sigil_policy *p = in->p;
    return p->requests_per_minute == 0 && p->orders_per_minute == 0 && !p->has_daily_notional;
}

static bool large_skew(const lint_input *in)
{
    return in->p->skew_ms > LARGE_SKEW_MS;
}

/* http given: some rule narrows methods or paths. */
static bool path_rules_unbound(const lint_input *in)
{
    static const char *const PATH_UNSIGNED_VENUES[] = {"binance", "bybit", "aster", NULL};
    const sigil_policy *p = in->p;
    bool has_http = (p->methods != 0 && p->methods != SIGIL_METHODS_ALL) || p->has_allow_paths ||
                    p->n_deny_paths > 0;
    return has_http && venue_in(p->venue, PATH_UNSIGNED_VENUES);
}

typedef struct {
    const char *code;
    bool (*applies)(const lint_input *in);
    const char *message;
} lint_check;

static const lint_check CHECKS[] = {
    {"all_actions", all_actions,
     "actions is \"*\": every action is allowed, including withdraw, transfer and agent; list "
     "only the actions the key needs"},
    {"no_destinations", money_without_destinations,
     "withdraw or transfer is allowed but destinations is empty or absent: every such request "
     "will be denied; list the addresses funds may go to, or drop the action"},
    {"no_agents", agent_without_agents,
     "agent is allowed but agents is empty or absent: every request granting authority to an "
     "address will be denied; list the agent addresses, or drop the action"},
    {"order_without_symbols", order_without_symbols,
     "order is allowed without symbols: any instrument, any side, any size, with no quantity or "
     "notional cap; add symbols with max_qty (and max_notional)"},
    {"symbols_unused", symbols_unused,
     "symbols is given but none of order, modify and cancel is allowed: the symbol rules have no "
     "effect"},
    {"expired", expired, "not_after is in the past: the enclave refuses this policy"},
    {"long_validity", long_validity,
     "not_after is more than 90 days ahead: after an enclave restart a host can present an "
     "older blob of this key until it expires (docs/POLICY.md); keep not_after short and "
     "re-sign with a higher version"},
    {"no_limits", no_limits,
     "no limits: no cap on requests or orders per minute or on daily notional; add limits"},
    {"large_skew", large_skew,
     "skew_ms is above 60000: a request's timestamp may be more than a minute away from the "
     "enclave clock, so a withheld request stays signable for longer"},
    {"path_rules_unbound", path_rules_unbound,
     "http rules on a venue whose signature does not bind the path (binance, bybit, aster): a "
     "signed request is valid on any endpoint taking the same parameters, so path rules are "
     "weaker here and the action classes matter more (docs/POLICY.md)"},
};

static int put_warnings(sigil_jw *w, const lint_input *in)
{
    GUARD(sigil_jw_arr_begin(w));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CHECKS); i++) {
        if (!CHECKS[i].applies(in))
            continue;
        GUARD(sigil_jw_obj_begin(w));
        GUARD(sigil_jw_key(w, "code"));
        GUARD(sigil_jw_str(w, CHECKS[i].code));
        GUARD(sigil_jw_key(w, "message"));
        GUARD(sigil_jw_str(w, CHECKS[i].message));
        GUARD(sigil_jw_obj_end(w));
    }
    return sigil_jw_arr_end(w);
}

/* ---- policy lint ---- */

typedef struct {
    const char *file, *venue, *network;
} lint_args;

static int parse_lint_args(lint_args *a, int argc, char **argv)
{
    static const char USAGE[] =
        "usage: sigil policy lint FILE [--venue V] [--network mainnet|testnet]";
    const cli_opt OPTS[] = {{"venue", &a->venue, NULL, false},
                            {"network", &a->network, NULL, false}};
    int rest;
    GUARD(cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), &rest, USAGE, "policy lint"));
    ENSURE(argc - rest == 1, SIGIL_E_USAGE, "%s", USAGE);
    a->file = argv[rest];
    return 0;
}

/* --venue and --network, when given, must be the policy's. */
static int check_target(const sigil_policy *p, const lint_args *a)
{
    sigil_network net;
    ENSURE(a->venue == NULL || strcmp(a->venue, p->venue) == 0, SIGIL_E_BAD_FIELD,
           "policy.venue: the policy is for %s, not --venue %s", p->venue, a->venue);
    if (a->network == NULL)
        return 0;
    GUARD(sigil_network_parse(&net, a->network));
    ENSURE(net == p->network, SIGIL_E_BAD_FIELD, "policy.network: the policy is for %s, not %s",
           network_name(p->network), network_name(net));
    return 0;
}

static int print_lint(const sigil_policy *p)
{
    char out[OUTPUT_MAX], hash_hex[65];
    sigil_buf b;
    sigil_jw w;
    lint_input in = {p, (uint64_t)time(NULL)};
    sigil_buf_init(&b, out, sizeof(out));
    sigil_jw_init(&w, &b);
    sigil_hex_encode(hash_hex, p->hash, sizeof(p->hash));
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "ok"));
    GUARD(sigil_jw_bool(&w, true));
    GUARD(sigil_jw_key(&w, "policy_hash"));
    GUARD(sigil_jw_str(&w, hash_hex));
    GUARD(sigil_jw_key(&w, "version"));
    GUARD(sigil_jw_u64(&w, p->version));
    GUARD(sigil_jw_key(&w, "venue"));
    GUARD(sigil_jw_str(&w, p->venue));
    GUARD(sigil_jw_key(&w, "network"));
    GUARD(sigil_jw_str(&w, network_name(p->network)));
    GUARD(sigil_jw_key(&w, "warnings"));
    GUARD(put_warnings(&w, &in));
    GUARD(sigil_jw_obj_end(&w));
    return cli_write_line(out, b.len);
}

static int policy_lint(int argc, char **argv)
{
    static policy_file f;
    lint_args a;
    if (parse_lint_args(&a, argc, argv) != 0 || load_policy(&f, a.file, "policy file") != 0 ||
        check_target(&f.p, &a) != 0 || print_lint(&f.p) != 0)
        return cli_report_error();
    return CLI_EXIT_OK;
}

/* ---- policy sign ---- */

typedef struct {
    const char *policy, *owner_key, *key_id;
} sign_args;

static int parse_sign_args(sign_args *a, int argc, char **argv)
{
    static const char USAGE[] =
        "usage: sigil policy sign --policy FILE --owner-key FILE --key-id ID";
    const cli_opt OPTS[] = {
        {"policy", &a->policy, NULL, true},
        {"owner-key", &a->owner_key, NULL, true},
        {"key-id", &a->key_id, NULL, true},
    };
    GUARD(cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, USAGE, "policy sign"));
    if (sigil_key_id_valid(a->key_id, strlen(a->key_id)) != 0)
        BAIL(SIGIL_E_USAGE, "--key-id: expected %d lowercase hex digits", SIGIL_KEY_ID_HEX);
    return 0;
}

/* {"policy":<the file's object, whitespace removed>,"policy_signature":"<128 hex>"} */
static int print_update(const policy_file *f, const uint8_t sig[64])
{
    static char out[SIGIL_POLICY_MAX_BYTES + 256];
    sigil_buf b;
    sigil_jw w;
    sigil_buf_init(&b, out, sizeof(out));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "policy"));
    GUARD(cli_copy_json_object(&w, f->text, f->len, "policy"));
    GUARD(sigil_jw_key(&w, "policy_signature"));
    GUARD(sigil_jw_hex(&w, sig, 64));
    GUARD(sigil_jw_obj_end(&w));
    return cli_write_line(out, b.len);
}

static int sign_update(const sign_args *a)
{
    static policy_file f;
    SIGIL_SECRET(seed);
    uint8_t owner_pk[32], sig[64];
    GUARD(cli_key_pair_load(owner_pk, &seed, a->owner_key, "--owner-key"));
    GUARD(load_policy(&f, a->policy, "--policy"));
    ENSURE(f.p.not_after > (uint64_t)time(NULL), SIGIL_E_BAD_FIELD,
           "policy.not_after: already in the past");
    GUARD(sigil_policy_sign(sig, &f.p, f.text, f.len, a->key_id, seed.p));
    GUARD(sigil_policy_verify(&f.p, f.text, f.len, a->key_id, sig, owner_pk));
    return print_update(&f, sig);
}

static int policy_sign(int argc, char **argv)
{
    sign_args a;
    if (parse_sign_args(&a, argc, argv) != 0 || sign_update(&a) != 0)
        return cli_report_error();
    return CLI_EXIT_OK;
}

/* ---- dispatch ---- */

static const cli_command SUBCOMMANDS[] = {
    {"lint", "lint FILE [--venue V] [--network N]", policy_lint},
    {"sign", "sign --policy FILE --owner-key FILE --key-id ID", policy_sign},
};

int cmd_policy(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < SIGIL_ARRAY_LEN(SUBCOMMANDS); i++)
            if (strcmp(argv[1], SUBCOMMANDS[i].name) == 0)
                return SUBCOMMANDS[i].run(argc - 1, argv + 1);
    }
    (void)sigil_fail(SIGIL_E_USAGE, "usage: sigil policy lint FILE [--venue V] [--network N] | "
                                    "sigil policy sign --policy FILE --owner-key FILE --key-id ID");
    return cli_report_error();
}
