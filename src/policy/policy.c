/*
 * Policy parsing and evaluation (libsigil-core; the policy is not secret but
 * arrives from the owner through the untrusted host, so it is parsed
 * strictly). The schema is a table of fields, each with its own parser;
 * evaluation denies by default and names the rule that denied.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy_internal.h"
#include "sigil/crypto.h"

static const char *const ACTION_NAMES[SIGIL_ACTION_COUNT_] = {
    [SIGIL_ACTION_ORDER] = "order",       [SIGIL_ACTION_CANCEL] = "cancel",
    [SIGIL_ACTION_MODIFY] = "modify",     [SIGIL_ACTION_LEVERAGE] = "leverage",
    [SIGIL_ACTION_READ] = "read",         [SIGIL_ACTION_TRANSFER] = "transfer",
    [SIGIL_ACTION_WITHDRAW] = "withdraw", [SIGIL_ACTION_AGENT] = "agent",
    [SIGIL_ACTION_AUTH] = "auth",         [SIGIL_ACTION_OTHER] = "other",
};

const char *sigil_action_name(sigil_action a)
{
    if ((unsigned)a >= SIGIL_ACTION_COUNT_)
        return "unknown";
    return ACTION_NAMES[a];
}

int sigil_action_parse(sigil_action *out, const char *name, size_t n)
{
    for (unsigned i = 0; i < SIGIL_ACTION_COUNT_; i++) {
        if (strlen(ACTION_NAMES[i]) == n && memcmp(ACTION_NAMES[i], name, n) == 0) {
            *out = (sigil_action)i;
            return 0;
        }
    }
    return -1;
}

/* ---- the signed message ---- */

static _Thread_local uint8_t
    tl_msg[SIGIL_POLICY_SIG_PREFIX_LEN + (size_t)2 * (4 + 64) + 8 + (size_t)SIGIL_POLICY_MAX_BYTES];

static int put_u32_str(sigil_buf *b, const char *s)
{
    size_t n = strlen(s);
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    GUARD(sigil_buf_put(b, len, sizeof(len)));
    return sigil_buf_put(b, s, n);
}

int policy_signed_message(sigil_slice *msg, const sigil_policy *p, const char *json, size_t len,
                          const char *key_id)
{
    sigil_buf b;
    uint8_t ver[8];
    ENSURE(len <= (size_t)SIGIL_POLICY_MAX_BYTES, SIGIL_E_TOO_LARGE, "policy: larger than %d bytes",
           SIGIL_POLICY_MAX_BYTES);
    GUARD(sigil_key_id_valid(key_id, strlen(key_id)));
    for (unsigned i = 0; i < 8; i++)
        ver[i] = (uint8_t)(p->version >> (56 - 8 * i));
    sigil_buf_init(&b, tl_msg, sizeof(tl_msg));
    GUARD(sigil_buf_put(&b, SIGIL_POLICY_SIG_PREFIX, SIGIL_POLICY_SIG_PREFIX_LEN));
    GUARD(put_u32_str(&b, p->tenant));
    GUARD(put_u32_str(&b, key_id));
    GUARD(sigil_buf_put(&b, ver, sizeof(ver)));
    GUARD(sigil_json_canonicalize(&b, json, len));
    msg->p = (const char *)b.data;
    msg->len = b.len;
    return 0;
}

static _Thread_local uint8_t tl_canon[SIGIL_POLICY_MAX_BYTES];

int policy_canonical(sigil_slice *out, const char *json, size_t len)
{
    sigil_buf b;
    sigil_buf_init(&b, tl_canon, sizeof(tl_canon));
    GUARD(sigil_json_canonicalize(&b, json, len));
    out->p = (const char *)b.data;
    out->len = b.len;
    return 0;
}

int sigil_key_id_valid(const char *key_id, size_t len)
{
    bool ok = len == SIGIL_KEY_ID_HEX;
    for (size_t i = 0; ok && i < len; i++)
        ok = (key_id[i] >= '0' && key_id[i] <= '9') || (key_id[i] >= 'a' && key_id[i] <= 'f');
    ENSURE(ok, SIGIL_E_BAD_FIELD, "key_id: must be %d lowercase hex digits", SIGIL_KEY_ID_HEX);
    return 0;
}

/* ---- schema: one parser per member ---- */

static int parse_version(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    return policy_get_uint(&((sigil_policy *)ctx)->version, d, v, path, 1, SIGIL_JSON_MAX_SAFE_INT);
}

static int parse_tenant(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    GUARD(policy_get_str(p->tenant, sizeof(p->tenant), d, v, path));
    for (const char *c = p->tenant; *c != '\0'; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
        ENSURE(ok, SIGIL_E_BAD_FIELD, "%s: only a-z, 0-9, '_' and '-' are allowed", path);
    }
    return 0;
}

static int parse_venue(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_STRING, path, NULL));
    bool ok = policy_get_str(p->venue, sizeof(p->venue), d, v, path) == 0 &&
              sigil_policy_venue_known(p->venue);
    ENSURE(ok, SIGIL_E_UNKNOWN_VENUE, "%s: unknown venue", path);
    return 0;
}

static int parse_network(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_STRING, path, NULL));
    if (sigil_json_str_eq(d, v, "mainnet"))
        p->network = SIGIL_NET_MAINNET;
    else if (sigil_json_str_eq(d, v, "testnet"))
        p->network = SIGIL_NET_TESTNET;
    else
        BAIL(SIGIL_E_BAD_FIELD, "%s: expected \"mainnet\" or \"testnet\"", path);
    return 0;
}

static int parse_action_item(uint32_t *mask, bool *star, const sigil_json *d, uint32_t t,
                             unsigned idx)
{
    char name[16];
    sigil_buf b;
    sigil_action a;
    ENSURE(sigil_json_type_of(d, t) == SIGIL_JSON_STRING, SIGIL_E_BAD_FIELD,
           "policy.actions[%u]: expected string, got %s", idx,
           sigil_json_type_name(sigil_json_type_of(d, t)));
    sigil_buf_init(&b, name, sizeof(name));
    bool fits = sigil_json_str(d, t, &b) == 0;
    if (fits && b.len == 1 && name[0] == '*') {
        *star = true;
        return 0;
    }
    ENSURE(fits && sigil_action_parse(&a, name, b.len) == 0, SIGIL_E_BAD_FIELD,
           "policy.actions[%u]: unknown action (expected order, cancel, modify, leverage, read, "
           "transfer, withdraw, agent, auth, other or \"*\")",
           idx);
    ENSURE(!(*mask >> a & 1u), SIGIL_E_BAD_FIELD, "policy.actions[%u]: duplicate action %s", idx,
           sigil_action_name(a));
    *mask |= 1u << a;
    return 0;
}

static int parse_actions(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    uint32_t mask = 0;
    bool star = false;
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_ARRAY, path, NULL));
    uint32_t n = d->toks[v].size;
    ENSURE(n >= 1 && n <= SIGIL_POLICY_MAX_ACTIONS, SIGIL_E_BAD_FIELD,
           "%s: expected 1 to %d actions", path, SIGIL_POLICY_MAX_ACTIONS);
    unsigned idx = 0;
    for (uint32_t t = sigil_json_first(d, v); t != 0; t = sigil_json_sibling(d, v, t))
        GUARD(parse_action_item(&mask, &star, d, t, idx++));
    ENSURE(!star || n == 1, SIGIL_E_BAD_FIELD, "%s: \"*\" must be the only entry when given", path);
    p->actions = star ? SIGIL_ACTIONS_ALL : mask;
    return 0;
}

static int parse_not_before(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    return policy_get_uint(&((sigil_policy *)ctx)->not_before, d, v, path, 0,
                           SIGIL_JSON_MAX_SAFE_INT);
}

static int parse_not_after(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    return policy_get_uint(&((sigil_policy *)ctx)->not_after, d, v, path, 1,
                           SIGIL_JSON_MAX_SAFE_INT);
}

static int parse_skew(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    return policy_get_uint(&((sigil_policy *)ctx)->skew_ms, d, v, path, 100,
                           SIGIL_POLICY_MAX_SKEW_MS);
}

/* The schema. A later rule is one line here and one parser. */
static const policy_member FIELDS[] = {
    {"version", true, parse_version},
    {"tenant", true, parse_tenant},
    {"venue", true, parse_venue},
    {"network", true, parse_network},
    {"actions", true, parse_actions},
    {"not_before", false, parse_not_before},
    {"not_after", true, parse_not_after},
    {"skew_ms", false, parse_skew},
    {"http", false, policy_parse_http},
    {"symbols", false, policy_parse_symbols},
    {"destinations", false, policy_parse_destinations},
    {"agents", false, policy_parse_agents},
    {"hyperliquid", false, policy_parse_hyperliquid},
    {"limits", false, policy_parse_limits},
};

/* Venues whose requests have no HTTP method and path. */
static bool venue_has_paths(const char *venue)
{
    static const char *const NO_PATHS[] = {"hyperliquid", "eip712", "eip191"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(NO_PATHS); i++)
        if (strcmp(venue, NO_PATHS[i]) == 0)
            return false;
    return true;
}

/* Rules that depend on more than one member. */
static int check_cross(const sigil_policy *p)
{
    ENSURE(p->not_before < p->not_after, SIGIL_E_BAD_FIELD,
           "policy.not_before: must be earlier than not_after");
    ENSURE(!p->has_http || venue_has_paths(p->venue), SIGIL_E_BAD_FIELD,
           "policy.http: %s requests have no HTTP method or path", p->venue);
    ENSURE(!p->has_hyperliquid || strcmp(p->venue, "hyperliquid") == 0, SIGIL_E_BAD_FIELD,
           "policy.hyperliquid: only for venue hyperliquid");
    return 0;
}

static _Thread_local sigil_json_tok tl_toks[SIGIL_CANON_MAX_TOKENS];

static int parse_into(sigil_policy *p, const char *json, size_t len)
{
    sigil_json d;
    sigil_slice canon;
    ENSURE(len <= (size_t)SIGIL_POLICY_MAX_BYTES, SIGIL_E_TOO_LARGE, "policy: larger than %d bytes",
           SIGIL_POLICY_MAX_BYTES);
    GUARD(sigil_json_parse(&d, json, len, tl_toks, SIGIL_CANON_MAX_TOKENS));
    GUARD(policy_parse_object(p, &d, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "policy"));
    GUARD(check_cross(p));
    GUARD(policy_canonical(&canon, json, len));
    sigil_sha256(p->hash, canon.p, canon.len);
    return 0;
}

/* Parsed in place (the struct is large: no copy); zeroed on failure. */
int sigil_policy_parse(sigil_policy *p, const char *json, size_t len)
{
    memset(p, 0, sizeof(*p));
    p->methods = SIGIL_METHODS_ALL;
    if (parse_into(p, json, len) == 0)
        return 0;
    memset(p, 0, sizeof(*p));
    return -1;
}

/* ---- evaluation: every rule must allow; the first that does not names itself ---- */

static const char *network_name(sigil_network n)
{
    return n == SIGIL_NET_MAINNET ? "mainnet" : n == SIGIL_NET_TESTNET ? "testnet" : "unknown";
}

int sigil_policy_check(const sigil_policy *p, const char *venue, sigil_network net,
                       sigil_action action, uint64_t now_s)
{
    ENSURE(p != NULL, SIGIL_E_POLICY_DENIED, "policy: no policy");
    ENSURE(venue != NULL && strncmp(p->venue, venue, sizeof(p->venue)) == 0, SIGIL_E_POLICY_DENIED,
           "policy: venue %s not allowed (policy is for %s)",
           venue != NULL && sigil_policy_venue_known(venue) ? venue : "(unknown)", p->venue);
    ENSURE(net == p->network, SIGIL_E_POLICY_DENIED,
           "policy: network %s not allowed (policy is for %s)", network_name(net),
           network_name(p->network));
    ENSURE(now_s >= p->not_before, SIGIL_E_POLICY_DENIED,
           "policy: not valid before %" PRIu64 " (now %" PRIu64 ")", p->not_before, now_s);
    ENSURE(now_s < p->not_after, SIGIL_E_POLICY_DENIED,
           "policy: expired at %" PRIu64 " (now %" PRIu64 ")", p->not_after, now_s);
    ENSURE((unsigned)action < SIGIL_ACTION_COUNT_, SIGIL_E_POLICY_DENIED,
           "policy: unknown action not allowed");
    ENSURE(p->actions >> action & 1u, SIGIL_E_POLICY_DENIED, "policy: action %s not allowed",
           sigil_action_name(action));
    return 0;
}
