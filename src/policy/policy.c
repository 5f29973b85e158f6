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

static _Thread_local uint8_t tl_msg[SIGIL_POLICY_SIG_PREFIX_LEN + (size_t)SIGIL_POLICY_MAX_BYTES];

int policy_signed_message(sigil_slice *msg, const char *json, size_t len)
{
    sigil_buf b;
    ENSURE(len <= (size_t)SIGIL_POLICY_MAX_BYTES, SIGIL_E_TOO_LARGE, "policy: larger than %d bytes",
           SIGIL_POLICY_MAX_BYTES);
    sigil_buf_init(&b, tl_msg, sizeof(tl_msg));
    GUARD(sigil_buf_put(&b, SIGIL_POLICY_SIG_PREFIX, SIGIL_POLICY_SIG_PREFIX_LEN));
    GUARD(sigil_json_canonicalize(&b, json, len));
    msg->p = (const char *)b.data;
    msg->len = b.len;
    return 0;
}

/* ---- schema: one parser per field ---- */

typedef int (*field_parse_fn)(sigil_policy *p, const sigil_json *d, uint32_t v);

typedef struct {
    const char *name;
    bool required;
    field_parse_fn parse;
} policy_field;

static int get_uint(uint64_t *out, const sigil_json *d, uint32_t v, const char *field, uint64_t min)
{
    char what[48];
    (void)snprintf(what, sizeof(what), "policy.%s", field);
    GUARD(sigil_json_tok_u64(d, v, out, what));
    ENSURE(*out >= min && *out <= SIGIL_JSON_MAX_SAFE_INT, SIGIL_E_OUT_OF_RANGE,
           "%s: must be in [%" PRIu64 ", 2^53-1]", what, min);
    return 0;
}

/* A string member decoded into dst (NUL-terminated, at most cap - 1 bytes). */
static int get_str(char *dst, size_t cap, const sigil_json *d, uint32_t v, const char *field)
{
    sigil_buf b;
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_STRING, "policy", field));
    sigil_buf_init(&b, dst, cap - 1);
    if (sigil_json_str(d, v, &b) != 0)
        BAIL(SIGIL_E_BAD_FIELD, "policy.%s: longer than %zu bytes", field, cap - 1);
    dst[b.len] = '\0';
    ENSURE(b.len > 0, SIGIL_E_BAD_FIELD, "policy.%s: empty", field);
    ENSURE(memchr(dst, '\0', b.len) == NULL, SIGIL_E_BAD_FIELD, "policy.%s: contains NUL", field);
    return 0;
}

static int parse_version(sigil_policy *p, const sigil_json *d, uint32_t v)
{
    return get_uint(&p->version, d, v, "version", 1);
}

static int parse_tenant(sigil_policy *p, const sigil_json *d, uint32_t v)
{
    GUARD(get_str(p->tenant, sizeof(p->tenant), d, v, "tenant"));
    for (const char *c = p->tenant; *c != '\0'; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
        ENSURE(ok, SIGIL_E_BAD_FIELD, "policy.tenant: only a-z, 0-9, '_' and '-' are allowed");
    }
    return 0;
}

static int parse_venue(sigil_policy *p, const sigil_json *d, uint32_t v)
{
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_STRING, "policy", "venue"));
    bool ok = get_str(p->venue, sizeof(p->venue), d, v, "venue") == 0 &&
              sigil_policy_venue_known(p->venue);
    ENSURE(ok, SIGIL_E_UNKNOWN_VENUE, "policy.venue: unknown venue");
    return 0;
}

static int parse_network(sigil_policy *p, const sigil_json *d, uint32_t v)
{
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_STRING, "policy", "network"));
    if (sigil_json_str_eq(d, v, "mainnet"))
        p->network = SIGIL_NET_MAINNET;
    else if (sigil_json_str_eq(d, v, "testnet"))
        p->network = SIGIL_NET_TESTNET;
    else
        BAIL(SIGIL_E_BAD_FIELD, "policy.network: expected \"mainnet\" or \"testnet\"");
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

static int parse_actions(sigil_policy *p, const sigil_json *d, uint32_t v)
{
    uint32_t mask = 0;
    bool star = false;
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_ARRAY, "policy", "actions"));
    uint32_t n = d->toks[v].size;
    ENSURE(n >= 1 && n <= SIGIL_POLICY_MAX_ACTIONS, SIGIL_E_BAD_FIELD,
           "policy.actions: expected 1 to %d actions", SIGIL_POLICY_MAX_ACTIONS);
    unsigned idx = 0;
    for (uint32_t t = sigil_json_first(d, v); t != 0; t = sigil_json_sibling(d, v, t))
        GUARD(parse_action_item(&mask, &star, d, t, idx++));
    ENSURE(!star || n == 1, SIGIL_E_BAD_FIELD,
           "policy.actions: \"*\" must be the only entry when given");
    p->actions = star ? SIGIL_ACTIONS_ALL : mask;
    return 0;
}

static int parse_not_before(sigil_policy *p, const sigil_json *d, uint32_t v)
{
    return get_uint(&p->not_before, d, v, "not_before", 0);
}

static int parse_not_after(sigil_policy *p, const sigil_json *d, uint32_t v)
{
    return get_uint(&p->not_after, d, v, "not_after", 1);
}

/* The schema. A later rule is one line here and one parser above. */
static const policy_field FIELDS[] = {
    {"version", true, parse_version},     {"tenant", true, parse_tenant},
    {"venue", true, parse_venue},         {"network", true, parse_network},
    {"actions", true, parse_actions},     {"not_before", false, parse_not_before},
    {"not_after", true, parse_not_after},
};

static _Thread_local sigil_json_tok tl_toks[SIGIL_CANON_MAX_TOKENS];

static int parse_members(sigil_policy *p, const sigil_json *d)
{
    uint64_t seen = 0;
    for (uint32_t k = sigil_json_first(d, 0); k != 0; k = sigil_json_sibling(d, 0, k)) {
        size_t i = 0;
        while (i < SIGIL_ARRAY_LEN(FIELDS) && !sigil_json_str_eq(d, k, FIELDS[i].name))
            i++;
        if (i == SIGIL_ARRAY_LEN(FIELDS)) {
            char name[48];
            sigil_json_key_for_message(d, k, name, sizeof(name));
            BAIL(SIGIL_E_UNKNOWN_FIELD, "policy.%s: unknown field", name);
        }
        GUARD(FIELDS[i].parse(p, d, sigil_json_value(k)));
        seen |= 1ull << i;
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(FIELDS); i++)
        ENSURE(!FIELDS[i].required || (seen >> i & 1), SIGIL_E_MISSING_FIELD,
               "policy.%s: required field missing", FIELDS[i].name);
    return 0;
}

int sigil_policy_parse(sigil_policy *p, const char *json, size_t len)
{
    sigil_json d;
    sigil_policy tmp;
    sigil_slice msg;
    memset(&tmp, 0, sizeof(tmp));
    ENSURE(len <= (size_t)SIGIL_POLICY_MAX_BYTES, SIGIL_E_TOO_LARGE, "policy: larger than %d bytes",
           SIGIL_POLICY_MAX_BYTES);
    GUARD(sigil_json_parse(&d, json, len, tl_toks, SIGIL_CANON_MAX_TOKENS));
    GUARD(sigil_json_expect(&d, 0, SIGIL_JSON_OBJECT, "policy", NULL));
    GUARD(parse_members(&tmp, &d));
    ENSURE(tmp.not_before < tmp.not_after, SIGIL_E_BAD_FIELD,
           "policy.not_before: must be earlier than not_after");
    GUARD(policy_signed_message(&msg, json, len));
    sigil_sha256(tmp.hash, msg.p + SIGIL_POLICY_SIG_PREFIX_LEN,
                 msg.len - SIGIL_POLICY_SIG_PREFIX_LEN);
    *p = tmp;
    return 0;
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
