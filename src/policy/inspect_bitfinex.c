/*
 * Bitfinex v2 inspection (libsigil-core, untrusted input): order submit,
 * update, cancel and multi-op bodies. amount is signed: negative sells; its
 * magnitude is the size in the base currency.
 */
#include <stdio.h>
#include <string.h>

#include "policy/inspect_internal.h"

#define FLAG_REDUCE_ONLY 1024u

static const insp_fields SUBMIT_FIELDS = {.symbol = "symbol"};
static const insp_fields NO_FIELDS = {0};

/* Withdrawals (address, payment_id memo, lightning invoice) and transfers
 * (wallet, or another user by email or id). */
static const char *const DESTINATIONS[] = {"address", "to",        "payment_id",
                                           "invoice", "email_dst", "user_id_dst"};

/* The member holding the limit price, per type; market, stop (market once
 * triggered) and trailing-stop (an offset) orders have none. */
static const struct {
    const char *type;
    const char *price;
} LIMIT_PRICE[] = {
    {"LIMIT", "price"},
    {"EXCHANGE LIMIT", "price"},
    {"FOK", "price"},
    {"EXCHANGE FOK", "price"},
    {"IOC", "price"},
    {"EXCHANGE IOC", "price"},
    {"STOP LIMIT", "price_aux_limit"},
    {"EXCHANGE STOP LIMIT", "price_aux_limit"},
};

static int read_flags(uint64_t *out, const insp_src *s)
{
    insp_value v;
    char what[INSP_WHERE_MAX + 16];
    *out = 0;
    GUARD(insp_get(&v, s, "flags"));
    if (v.type == 0)
        return 0;
    insp_what(what, sizeof(what), s, "flags");
    ENSURE(v.type == SIGIL_JSON_NUMBER, SIGIL_E_BAD_FIELD, "%s: expected an integer", what);
    return sigil_json_tok_u64(s->d, v.tok, out, what);
}

static int fix_submit(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value type;
    uint64_t flags;
    (void)c;
    (void)parent;
    GUARD(insp_signed_decimal(&o->has_qty, &o->qty, &o->side, s, "amount"));
    GUARD(insp_get(&type, s, "type"));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(LIMIT_PRICE); i++)
        if (insp_is(&type, LIMIT_PRICE[i].type))
            GUARD(insp_decimal(&o->has_price, &o->price, s, LIMIT_PRICE[i].price));
    GUARD(read_flags(&flags, s));
    o->reduce_only = (flags & FLAG_REDUCE_ONLY) != 0;
    return 0;
}

/* update: the type is not in the request, so the price (a limit or a
 * trigger) is not read; delta changes the amount by an unknown base. */
static int fix_update(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value delta;
    (void)parent;
    GUARD(insp_signed_decimal(&o->has_qty, &o->qty, &o->side, s, "amount"));
    GUARD(insp_get(&delta, s, "delta"));
    c->unknown = c->unknown || delta.type != 0;
    return 0;
}

/* order/multi: ops [[op, {...}], ...] with op on (submit), ou (update), oc
 * and oc_multi (cancel). */
static int multi_op(insp_ctx *c, const sigil_json *d, uint32_t op, const char *where)
{
    static const struct {
        const char *op;
        const insp_fields *fields;
        insp_fix_fn fix;
    } OPS[] = {{"on", &SUBMIT_FIELDS, fix_submit},
               {"ou", &NO_FIELDS, fix_update},
               {"oc", &NO_FIELDS, NULL},
               {"oc_multi", &NO_FIELDS, NULL}};
    uint32_t name = sigil_json_first(d, op);
    uint32_t body = name == 0 ? 0 : sigil_json_sibling(d, op, name);
    ENSURE(d->toks[op].size == 2 && sigil_json_type_of(d, name) == SIGIL_JSON_STRING &&
               sigil_json_type_of(d, body) == SIGIL_JSON_OBJECT,
           SIGIL_E_BAD_FIELD, "%s: expected [op, {…}]", where);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(OPS); i++) {
        if (!sigil_json_str_eq(d, name, OPS[i].op))
            continue;
        insp_src s;
        sigil_order *o;
        insp_src_json(&s, d, body, where);
        GUARD(insp_order_read(&o, c, &s, OPS[i].fields));
        return OPS[i].fix == NULL ? 0 : OPS[i].fix(c, o, &s, &s);
    }
    c->unknown = true;
    return 0;
}

static int multi(insp_ctx *c)
{
    insp_src s;
    uint32_t ops;
    size_t i = 0;
    insp_src_cex(&s, c);
    ENSURE(s.d != NULL, SIGIL_E_MISSING_FIELD, "request.body.ops: required field missing");
    GUARD(insp_get_container(&ops, &s, "ops", SIGIL_JSON_ARRAY));
    ENSURE(ops != 0, SIGIL_E_MISSING_FIELD, "request.body.ops: required field missing");
    ENSURE(s.d->toks[ops].size > 0, SIGIL_E_BAD_REQUEST, "request.body.ops: an empty batch");
    for (uint32_t t = sigil_json_first(s.d, ops); t != 0; t = sigil_json_sibling(s.d, ops, t)) {
        char where[INSP_WHERE_MAX];
        (void)snprintf(where, sizeof(where), "request.body.ops[%zu]", i++);
        GUARD(sigil_json_expect(s.d, t, SIGIL_JSON_ARRAY, where, NULL));
        GUARD(multi_op(c, s.d, t, where));
    }
    return 0;
}

/* update and cancels name order ids, not symbols. */
#define W "/v2/auth/w/order/"
static const insp_route ROUTES[] = {
    INSP_ONE(ORDER, POST, W "submit", &SUBMIT_FIELDS, fix_submit),
    INSP_ONE(MODIFY, POST, W "update", &NO_FIELDS, fix_update),
    INSP_ONE(CANCEL, POST, W "cancel", &NO_FIELDS, NULL),
    INSP_ONE(CANCEL, POST, W "cancel/multi", &NO_FIELDS, NULL),
    INSP_READ(INSP_A(ORDER), POST, W "multi", multi),
};
#undef W

static const insp_venue BITFINEX = {INSP_LIST(ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};

int insp_bitfinex(insp_ctx *c)
{
    if (insp_has_member(c, "event")) /* WebSocket authentication */
        return 0;
    GUARD(insp_cex_load(c, INSP_BODY_JSON));
    return insp_by_action(c, &BITFINEX);
}
