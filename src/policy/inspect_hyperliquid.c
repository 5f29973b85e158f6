/*
 * Hyperliquid inspection (libsigil-core, untrusted input): the action's type,
 * whether it is user-signed, the vault it trades for, and per type the
 * orders (asset index, side, size, price), destinations or agents it names.
 * Field names follow the exchange's wire format (venues.md §5).
 */
#include <stdio.h>
#include <string.h>

#include "policy/inspect_internal.h"

/* The user-signed types (HyperliquidTransaction:*, as
 * src/venues/hyperliquid_user.c signs them), and multiSig and
 * sendToEvmWithData, user-signed on the exchange though Sigil refuses them. */
static const char *const USER_SIGNED[] = {
    "usdSend",
    "spotSend",
    "withdraw3",
    "approveAgent",
    "approveBuilderFee",
    "usdClassTransfer",
    "sendAsset",
    "tokenDelegate",
    "convertToMultiSigUser",
    "userDexAbstraction",
    "userSetAbstraction",
    "cDeposit",
    "cWithdraw",
    "linkStakingUser",
    "userPortfolioMargin",
    "multiSig",
    "sendToEvmWithData",
};

/* ---- one order ---- */

/* The asset index: a non-negative JSON integer, as decimal text. */
static int read_asset(sigil_order *o, const insp_src *s, const char *name)
{
    insp_value v;
    uint64_t a;
    char what[INSP_WHERE_MAX + 16], text[24];
    insp_what(what, sizeof(what), s, name);
    GUARD(insp_get(&v, s, name));
    ENSURE(v.type != 0, SIGIL_E_MISSING_FIELD, "%s: required field missing", what);
    ENSURE(v.type == SIGIL_JSON_NUMBER, SIGIL_E_BAD_FIELD, "%s: expected an integer", what);
    GUARD(sigil_json_tok_u64(s->d, v.tok, &a, what));
    int n = snprintf(text, sizeof(text), "%llu", (unsigned long long)a);
    return insp_symbol_text(o, text, (size_t)n, what);
}

static int read_is_buy(sigil_order *o, const insp_src *s)
{
    insp_value v;
    char what[INSP_WHERE_MAX + 16];
    GUARD(insp_get(&v, s, "b"));
    ENSURE(v.type == SIGIL_JSON_TRUE || v.type == SIGIL_JSON_FALSE, SIGIL_E_BAD_FIELD,
           "%s: expected true or false", insp_what(what, sizeof(what), s, "b"));
    o->side = v.type == SIGIL_JSON_TRUE ? SIGIL_SIDE_BUY : SIGIL_SIDE_SELL;
    return 0;
}

/* {a, b, p, s, r, t}: p is the limit price, and also the worst price of a
 * market trigger order (the exchange requires one), so it is kept. */
static int read_order(insp_ctx *c, const insp_src *s, void *arg)
{
    sigil_order *o;
    (void)arg;
    GUARD(insp_order_new(&o, c));
    GUARD(read_asset(o, s, "a"));
    GUARD(read_is_buy(o, s));
    GUARD(insp_decimal(&o->has_qty, &o->qty, s, "s"));
    GUARD(insp_decimal(&o->has_price, &o->price, s, "p"));
    return insp_flag(&o->reduce_only, s, "r");
}

/* An object member, as a source. */
static int member_object(insp_src *out, const insp_src *s, const char *name)
{
    uint32_t t;
    char what[INSP_WHERE_MAX + 16];
    GUARD(insp_get_container(&t, s, name, SIGIL_JSON_OBJECT));
    ENSURE(t != 0, SIGIL_E_MISSING_FIELD, "%s: required field missing",
           insp_what(what, sizeof(what), s, name));
    insp_src_json(out, s->d, t, insp_what(what, sizeof(what), s, name));
    return 0;
}

/* ---- per type ---- */

typedef int (*hl_reader)(insp_ctx *c, const insp_src *action, const char *member);

static int hl_orders(insp_ctx *c, const insp_src *a, const char *member)
{
    return insp_each_item(c, a, member, read_order, NULL);
}

/* twapOrder: {twap: {a, b, s, r, m, t}}: no price (it trades at the market). */
static int hl_twap(insp_ctx *c, const insp_src *a, const char *member)
{
    insp_src t;
    sigil_order *o;
    GUARD(member_object(&t, a, member));
    GUARD(insp_order_new(&o, c));
    GUARD(read_asset(o, &t, "a"));
    GUARD(read_is_buy(o, &t));
    GUARD(insp_decimal(&o->has_qty, &o->qty, &t, "s"));
    return insp_flag(&o->reduce_only, &t, "r");
}

/* modify: {oid, order}: the new order. */
static int hl_modify(insp_ctx *c, const insp_src *a, const char *member)
{
    insp_src o;
    GUARD(member_object(&o, a, member));
    return read_order(c, &o, NULL);
}

static int modify_item(insp_ctx *c, const insp_src *item, void *arg)
{
    (void)arg;
    return hl_modify(c, item, "order");
}

static int hl_batch_modify(insp_ctx *c, const insp_src *a, const char *member)
{
    return insp_each_item(c, a, member, modify_item, NULL);
}

/* A cancel names its asset: "a" (cancel) or "asset" (cancelByCloid). */
static int cancel_item(insp_ctx *c, const insp_src *item, void *arg)
{
    sigil_order *o;
    GUARD(insp_order_new(&o, c));
    return read_asset(o, item, arg);
}

static int hl_cancels(insp_ctx *c, const insp_src *a, const char *member)
{
    return insp_each_item(c, a, member, cancel_item, (void *)"a");
}

static int hl_cancels_by_cloid(insp_ctx *c, const insp_src *a, const char *member)
{
    return insp_each_item(c, a, member, cancel_item, (void *)"asset");
}

/* twapCancel: {a, t}. */
static int hl_twap_cancel(insp_ctx *c, const insp_src *a, const char *member)
{
    return cancel_item(c, a, (void *)member);
}

/* scheduleCancel: every open order, no symbol. */
static int hl_cancel_all(insp_ctx *c, const insp_src *a, const char *member)
{
    sigil_order *o;
    (void)a;
    (void)member;
    return insp_order_new(&o, c);
}

static int hl_destination(insp_ctx *c, const insp_src *a, const char *member)
{
    return insp_read_names(c, a, &member, 1, false);
}

static int hl_agent(insp_ctx *c, const insp_src *a, const char *member)
{
    return insp_read_names(c, a, &member, 1, true);
}

/* usdClassTransfer moves USDC between the user's own spot and perp balances. */
static int hl_class_transfer(insp_ctx *c, const insp_src *a, const char *member)
{
    insp_value v;
    char what[INSP_WHERE_MAX + 16];
    insp_what(what, sizeof(what), a, member);
    GUARD(insp_get(&v, a, member));
    ENSURE(v.type == SIGIL_JSON_TRUE || v.type == SIGIL_JSON_FALSE, SIGIL_E_BAD_FIELD,
           "%s: expected true or false", what);
    return insp_name_add(c, false, v.type == SIGIL_JSON_TRUE ? "perp" : "spot", 4, what);
}

/* convertToMultiSigUser: signers is JSON text {"authorizedUsers": [...],
 * "threshold": n}, or "null" to convert back; every authorised user gains
 * authority over the account. */
static int hl_multisig(insp_ctx *c, const insp_src *a, const char *member)
{
    sigil_slice text;
    bool present;
    sigil_json d;
    uint32_t users;
    char what[INSP_WHERE_MAX + 16];
    insp_what(what, sizeof(what), a, member);
    GUARD(insp_get_long(&text, &present, a, member));
    ENSURE(present, SIGIL_E_MISSING_FIELD, "%s: required field missing", what);
    if (text.len == 4 && memcmp(text.p, "null", 4) == 0)
        return 0;
    GUARD(insp_json_nested(&d, text.p, text.len, what));
    GUARD(sigil_json_expect(&d, 0, SIGIL_JSON_OBJECT, what, NULL));
    users = sigil_json_get(&d, 0, "authorizedUsers");
    GUARD(sigil_json_expect(&d, users, SIGIL_JSON_ARRAY, what, "authorizedUsers"));
    for (uint32_t t = sigil_json_first(&d, users); t != 0; t = sigil_json_sibling(&d, users, t)) {
        sigil_slice u;
        GUARD(sigil_json_expect(&d, t, SIGIL_JSON_STRING, what, "authorizedUsers[]"));
        GUARD(insp_json_text(&u, &d, t));
        GUARD(insp_name_add(c, true, u.p, u.len, what));
    }
    return 0;
}

typedef struct {
    const char *type;
    uint16_t actions; /* the classes it is read for (its class, docs/POLICY.md) */
    hl_reader read;
    const char *member;
} hl_kind;

#define MONEY (INSP_A(TRANSFER) | INSP_A(WITHDRAW))
static const hl_kind KINDS[] = {
    {"order", INSP_TRADE, hl_orders, "orders"},
    {"twapOrder", INSP_TRADE, hl_twap, "twap"},
    {"modify", INSP_TRADE, hl_modify, "order"},
    {"batchModify", INSP_TRADE, hl_batch_modify, "modifies"},
    {"cancel", INSP_TRADE, hl_cancels, "cancels"},
    {"cancelByCloid", INSP_TRADE, hl_cancels_by_cloid, "cancels"},
    {"twapCancel", INSP_TRADE, hl_twap_cancel, "a"},
    {"scheduleCancel", INSP_TRADE, hl_cancel_all, NULL},
    {"usdSend", MONEY, hl_destination, "destination"},
    {"spotSend", MONEY, hl_destination, "destination"},
    {"withdraw3", MONEY, hl_destination, "destination"},
    {"sendAsset", MONEY, hl_destination, "destination"},
    {"vaultTransfer", MONEY, hl_destination, "vaultAddress"},
    {"subAccountTransfer", MONEY, hl_destination, "subAccountUser"},
    {"subAccountSpotTransfer", MONEY, hl_destination, "subAccountUser"},
    {"tokenDelegate", MONEY, hl_destination, "validator"},
    {"usdClassTransfer", MONEY, hl_class_transfer, "toPerp"},
    {"approveAgent", INSP_A(AGENT), hl_agent, "agentAddress"},
    {"approveBuilderFee", INSP_A(AGENT), hl_agent, "builder"},
    {"linkStakingUser", INSP_A(AGENT), hl_agent, "user"},
    {"convertToMultiSigUser", INSP_A(AGENT), hl_multisig, "signers"},
};
#undef MONEY

/* ---- the request ---- */

static bool is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static int read_vault(insp_ctx *c)
{
    uint32_t t;
    sigil_slice v;
    sigil_request_info *o = c->out;
    GUARD(sigil_json_get_str(c->req, 0, "vault_address", false, &t, "request"));
    if (t == 0)
        return 0;
    GUARD(insp_json_text(&v, c->req, t));
    ENSURE(v.len == sizeof(o->vault) - 1, SIGIL_E_BAD_FIELD,
           "request.vault_address: expected 0x and 40 hex digits");
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.p[i];
        if (ch >= 'A' && ch <= 'F')
            ch = (char)(ch - 'A' + 'a');
        bool ok = i == 0 ? ch == '0' : i == 1 ? ch == 'x' : is_hex(ch);
        ENSURE(ok, SIGIL_E_BAD_FIELD, "request.vault_address: expected 0x and 40 hex digits");
        o->vault[i] = ch;
    }
    o->vault[v.len] = '\0';
    o->has_vault = true;
    return 0;
}

static int read_kind(insp_ctx *c, const insp_src *a)
{
    insp_value v;
    sigil_request_info *o = c->out;
    GUARD(insp_get(&v, a, "type"));
    ENSURE(v.type == SIGIL_JSON_STRING, SIGIL_E_MISSING_FIELD,
           "request.action.type: required string missing");
    ENSURE(v.len < sizeof(o->kind), SIGIL_E_BAD_FIELD, "request.action.type: longer than %zu bytes",
           sizeof(o->kind) - 1);
    memcpy(o->kind, v.text, v.len + 1);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(USER_SIGNED); i++)
        o->user_signed = o->user_signed || strcmp(o->kind, USER_SIGNED[i]) == 0;
    return 0;
}

int insp_hyperliquid(insp_ctx *c)
{
    insp_src a;
    uint32_t action = sigil_json_get(c->req, 0, "action");
    ENSURE(action != 0, SIGIL_E_MISSING_FIELD, "request.action: required field missing");
    GUARD(sigil_json_expect(c->req, action, SIGIL_JSON_OBJECT, "request", "action"));
    insp_src_json(&a, c->req, action, "request.action");
    GUARD(read_kind(c, &a));
    GUARD(read_vault(c));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(KINDS); i++) {
        const hl_kind *k = &KINDS[i];
        if (strcmp(k->type, c->out->kind) != 0 || !((k->actions >> c->action) & 1u))
            continue;
        GUARD(k->read(c, &a, k->member));
        c->out->orders_known = (INSP_TRADE >> c->action) & 1u;
        return 0;
    }
    return 0;
}
