/*
 * Evaluation of every policy rule against an inspected request (libsigil-core).
 * Deny by default: the checks run in the documented order (docs/POLICY.md
 * "Evaluation") and the first that does not allow names itself in a
 * SIGIL_E_POLICY_DENIED message. Decimal arithmetic is exact.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/policy_internal.h"

typedef int (*rule_fn)(const sigil_policy *p, const sigil_policy_input *in,
                       sigil_policy_cost *cost);

static bool is_trade(sigil_action a)
{
    return a == SIGIL_ACTION_ORDER || a == SIGIL_ACTION_MODIFY || a == SIGIL_ACTION_CANCEL;
}

static bool places(sigil_action a)
{
    return a == SIGIL_ACTION_ORDER || a == SIGIL_ACTION_MODIFY;
}

/* ---- 1-3: venue, network, validity, action ---- */

static int rule_basics(const sigil_policy *p, const sigil_policy_input *in, sigil_policy_cost *cost)
{
    (void)cost;
    return sigil_policy_check(p, in->venue, in->network, in->action, in->now_ms / 1000u);
}

/* ---- 4: http ---- */

/* Boundary-safe: equal, or a prefix ending in '/' or followed by '/'. An
 * entry ending in '/' also names the path without it ("/a/" covers "/a",
 * which is how the normalised path of "/a/" reads). */
static bool path_under(const char *path, const char *prefix, bool fold)
{
    size_t n = strlen(prefix);
    if (n == 1)
        return true; /* "/": every path */
    bool slash = prefix[n - 1] == '/';
    size_t m = slash ? n - 1 : n;
    int c = fold ? strncasecmp(path, prefix, m) : strncmp(path, prefix, m);
    if (c != 0)
        return false;
    return path[m] == '\0' || path[m] == '/';
}

static int rule_http(const sigil_policy *p, const sigil_policy_input *in, sigil_policy_cost *cost)
{
    const sigil_request_info *r = in->info;
    (void)cost;
    if (!r->has_path)
        return 0;
    ENSURE(p->methods & r->method, SIGIL_E_POLICY_DENIED, "policy: method %s not allowed",
           policy_method_name(r->method));
    for (unsigned i = 0; i < p->n_deny_paths; i++)
        ENSURE(!path_under(r->path, p->deny_paths[i].v, true), SIGIL_E_POLICY_DENIED,
               "policy: path %.200s denied by %s", r->path, p->deny_paths[i].v);
    if (!p->has_allow_paths)
        return 0;
    for (unsigned i = 0; i < p->n_allow_paths; i++)
        if (path_under(r->path, p->allow_paths[i].v, false))
            return 0;
    BAIL(SIGIL_E_POLICY_DENIED, "policy: path %.200s not in allow_paths", r->path);
}

/* ---- 5-8: hyperliquid kinds and vaults, destinations, agents ---- */

static bool listed(const sigil_policy_name *names, unsigned n, const char *v)
{
    for (unsigned i = 0; i < n; i++)
        if (policy_name_eq(names[i].v, v))
            return true;
    return false;
}

static int rule_user_actions(const sigil_policy *p, const sigil_policy_input *in,
                             sigil_policy_cost *cost)
{
    const sigil_request_info *r = in->info;
    (void)cost;
    if (!p->has_user_actions || !r->user_signed)
        return 0;
    ENSURE(listed(p->user_actions, p->n_user_actions, r->kind), SIGIL_E_POLICY_DENIED,
           "policy: user action %s not in hyperliquid.user_actions", r->kind);
    return 0;
}

static int rule_vault(const sigil_policy *p, const sigil_policy_input *in, sigil_policy_cost *cost)
{
    const sigil_request_info *r = in->info;
    (void)cost;
    if (!r->has_vault)
        return 0;
    ENSURE(listed(p->vaults, p->n_vaults, r->vault), SIGIL_E_POLICY_DENIED,
           "policy: vault %s not allowed", r->vault);
    return 0;
}

static int rule_destinations(const sigil_policy *p, const sigil_policy_input *in,
                             sigil_policy_cost *cost)
{
    const sigil_request_info *r = in->info;
    (void)cost;
    if (in->action != SIGIL_ACTION_WITHDRAW && in->action != SIGIL_ACTION_TRANSFER)
        return 0;
    ENSURE(r->n_destinations > 0, SIGIL_E_POLICY_DENIED,
           "policy: %s destination unknown for this request (only listed destinations are "
           "allowed)",
           sigil_action_name(in->action));
    for (size_t i = 0; i < r->n_destinations; i++)
        ENSURE(listed(p->destinations, p->n_destinations, r->destinations[i].v),
               SIGIL_E_POLICY_DENIED, "policy: destination %s not allowed", r->destinations[i].v);
    return 0;
}

static int rule_agents(const sigil_policy *p, const sigil_policy_input *in, sigil_policy_cost *cost)
{
    const sigil_request_info *r = in->info;
    (void)cost;
    ENSURE(in->action != SIGIL_ACTION_AGENT || r->n_agents > 0, SIGIL_E_POLICY_DENIED,
           "policy: agent request names no address to grant (only listed agents are allowed)");
    for (size_t i = 0; i < r->n_agents; i++)
        ENSURE(listed(p->agents, p->n_agents, r->agents[i].v), SIGIL_E_POLICY_DENIED,
               "policy: agent %s not allowed", r->agents[i].v);
    return 0;
}

/* ---- 9: symbols and caps; the cost for the limits ---- */

static const sigil_policy_symbol *find_symbol(const sigil_policy *p, const char *name)
{
    for (unsigned i = 0; i < p->n_symbols; i++)
        if (strcmp(p->symbols[i].name, name) == 0)
            return &p->symbols[i];
    return NULL;
}

static const char *fmt(char *buf, size_t cap, const sigil_dec *d)
{
    if (sigil_dec_format(buf, cap, d) != 0)
        (void)snprintf(buf, cap, "(too long)");
    return buf;
}

/* qty x multiplier x price, or the quote quantity; *known false without a price. */
static int order_notional(sigil_dec *out, bool *known, const sigil_order *o,
                          const sigil_policy_symbol *s)
{
    *known = false;
    if (o->has_quote_qty) {
        *out = o->quote_qty;
        *known = true;
        return 0;
    }
    if (!o->has_qty || !o->has_price)
        return 0;
    GUARD(sigil_dec_mul(out, &o->qty, &o->price));
    if (s != NULL && s->has_multiplier)
        GUARD(sigil_dec_mul(out, out, &s->multiplier));
    *known = true;
    return 0;
}

/* An amendment without a new quantity keeps one of at most max_qty: the
 * notional is bounded with that. */
static int worst_notional(sigil_dec *out, bool *known, const sigil_order *o,
                          const sigil_policy_symbol *s)
{
    sigil_order w = *o;
    if (!w.has_qty && !w.has_quote_qty) {
        w.qty = s->max_qty;
        w.has_qty = true;
    }
    return order_notional(out, known, &w, s);
}

static int check_side(const sigil_policy_symbol *s, const sigil_order *o, sigil_action action)
{
    bool both = s->sides == (SIGIL_SIDES_BUY | SIGIL_SIDES_SELL);
    if (o->side == SIGIL_SIDE_NONE) {
        /* an amendment keeps its order's side */
        ENSURE(both || action == SIGIL_ACTION_MODIFY, SIGIL_E_POLICY_DENIED,
               "policy: %s order names no side (sides are restricted)", s->name);
        return 0;
    }
    ENSURE(s->sides & (1u << o->side), SIGIL_E_POLICY_DENIED, "policy: %s side %s not allowed",
           s->name, o->side == SIGIL_SIDE_BUY ? "buy" : "sell");
    return 0;
}

static int check_caps(const sigil_policy_symbol *s, const sigil_order *o, sigil_action action)
{
    char a[80], b[80];
    GUARD(check_side(s, o, action));
    ENSURE(!s->reduce_only || o->reduce_only, SIGIL_E_POLICY_DENIED,
           "policy: %s allows reduce-only orders only", s->name);
    ENSURE(o->has_qty || action == SIGIL_ACTION_MODIFY, SIGIL_E_POLICY_DENIED,
           "policy: %s order has no quantity to check against max_qty", s->name);
    if (o->has_qty) {
        ENSURE(sigil_dec_cmp(&o->qty, &s->max_qty) <= 0, SIGIL_E_POLICY_DENIED,
               "policy: %s quantity %s over max_qty %s", s->name, fmt(a, sizeof(a), &o->qty),
               fmt(b, sizeof(b), &s->max_qty));
        ENSURE(s->size_decimals < 0 ||
                   sigil_dec_fraction_digits(&o->qty) <= (unsigned)s->size_decimals,
               SIGIL_E_POLICY_DENIED, "policy: %s quantity %s has more than %d decimals", s->name,
               fmt(a, sizeof(a), &o->qty), s->size_decimals);
    }
    if (!s->has_max_notional)
        return 0;
    sigil_dec n;
    bool known;
    GUARD(worst_notional(&n, &known, o, s));
    ENSURE(known, SIGIL_E_POLICY_DENIED,
           "policy: %s order has no price (max_notional needs one; market orders are denied)",
           s->name);
    ENSURE(sigil_dec_cmp(&n, &s->max_notional) <= 0, SIGIL_E_POLICY_DENIED,
           "policy: %s notional %s over max_notional %s", s->name, fmt(a, sizeof(a), &n),
           fmt(b, sizeof(b), &s->max_notional));
    return 0;
}

static int check_order(const sigil_policy *p, const sigil_order *o, sigil_action action)
{
    if (o->symbol[0] == '\0') {
        ENSURE(action == SIGIL_ACTION_CANCEL, SIGIL_E_POLICY_DENIED,
               "policy: the order names no symbol");
        return 0;
    }
    const sigil_policy_symbol *s = find_symbol(p, o->symbol);
    ENSURE(s != NULL, SIGIL_E_POLICY_DENIED, "policy: symbol %.64s not allowed", o->symbol);
    return places(action) ? check_caps(s, o, action) : 0;
}

static int rule_symbols(const sigil_policy *p, const sigil_policy_input *in,
                        sigil_policy_cost *cost)
{
    const sigil_request_info *r = in->info;
    (void)cost;
    if (!p->has_symbols || !is_trade(in->action))
        return 0;
    ENSURE(r->orders_known, SIGIL_E_POLICY_DENIED,
           "policy: cannot read the orders of this request (symbols are restricted)");
    for (size_t i = 0; i < r->n_orders; i++)
        GUARD(check_order(p, &r->orders[i], in->action));
    return 0;
}

/* What the request costs against the per-key limits (sigil_limits_admit). */
static int rule_cost(const sigil_policy *p, const sigil_policy_input *in, sigil_policy_cost *cost)
{
    const sigil_request_info *r = in->info;
    memset(cost, 0, sizeof(*cost));
    if (!places(in->action))
        return 0;
    ENSURE(r->orders_known || p->orders_per_minute == 0, SIGIL_E_POLICY_DENIED,
           "policy: cannot count the orders of this request (orders_per_minute is set)");
    cost->orders = r->orders_known ? (uint32_t)r->n_orders : 0;
    for (size_t i = 0; i < r->n_orders; i++) {
        sigil_dec n;
        bool known;
        const sigil_order *o = &r->orders[i];
        GUARD(order_notional(&n, &known, o, p->has_symbols ? find_symbol(p, o->symbol) : NULL));
        ENSURE(known || !p->has_daily_notional, SIGIL_E_POLICY_DENIED,
               "policy: order has no price (daily_notional needs one; market orders are denied)");
        if (known) {
            GUARD(sigil_dec_add(&cost->notional, &cost->notional, &n));
            cost->has_notional = true;
        }
    }
    ENSURE(r->orders_known || !p->has_daily_notional, SIGIL_E_POLICY_DENIED,
           "policy: cannot read the orders of this request (daily_notional is set)");
    return 0;
}

static const rule_fn RULES[] = {
    rule_basics,       rule_http,   rule_user_actions, rule_vault,
    rule_destinations, rule_agents, rule_symbols,      rule_cost,
};

int sigil_policy_evaluate(const sigil_policy *p, const sigil_policy_input *in,
                          sigil_policy_cost *cost)
{
    ENSURE(p != NULL && in != NULL && in->info != NULL, SIGIL_E_POLICY_DENIED, "policy: no policy");
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(RULES); i++)
        GUARD(RULES[i](p, in, cost));
    return 0;
}
