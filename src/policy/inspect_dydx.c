/*
 * dYdX v4 inspection, classification and request time (libsigil-core,
 * untrusted input). A request is one MsgPlaceOrder ("place_order": an order)
 * or MsgCancelOrder ("cancel_order": a cancel), docs/API.md. The order's
 * symbol is its clob pair id in decimal ("0" BTC-USD, "1" ETH-USD), its size
 * the integer quantums and its price the integer subticks, so caps are in
 * the chain's own units: max_qty in quantums, and with a symbol's
 * multiplier = 10^(quantum_conversion_exponent - 6) the notional
 * quantums x multiplier x subticks is in USDC (docs/POLICY-ORDERS.md).
 */
#include <stdio.h>
#include <string.h>

#include "policy/inspect_internal.h"

typedef struct {
    const char *member;
    sigil_action action;
    bool is_order; /* has side, size and price */
} dydx_msg;

static const dydx_msg MSGS[] = {
    {"place_order", SIGIL_ACTION_ORDER, true},
    {"cancel_order", SIGIL_ACTION_CANCEL, false},
};

/* The one message member present (a request with none or both is refused
 * here, as the signer refuses it). */
static int find_msg(const dydx_msg **out, uint32_t *obj, const sigil_json *d)
{
    *out = NULL;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MSGS); i++) {
        uint32_t t = sigil_json_get(d, 0, MSGS[i].member);
        if (t == 0 || sigil_json_type_of(d, t) == SIGIL_JSON_NULL)
            continue;
        ENSURE(*out == NULL, SIGIL_E_BAD_REQUEST,
               "request: exactly one of place_order and cancel_order");
        GUARD(sigil_json_expect(d, t, SIGIL_JSON_OBJECT, "request", MSGS[i].member));
        *out = &MSGS[i];
        *obj = t;
    }
    ENSURE(*out != NULL, SIGIL_E_MISSING_FIELD, "request: place_order or cancel_order required");
    return 0;
}

int policy_dydx_classify(sigil_action *out, const sigil_json *d)
{
    const dydx_msg *m;
    uint32_t obj = 0;
    GUARD(find_msg(&m, &obj, d));
    *out = m->action;
    return 0;
}

/* A required JSON integer member of the message, with its name in errors. */
static int read_u64(uint64_t *out, const sigil_json *d, uint32_t obj, const char *where,
                    const char *key)
{
    return sigil_json_get_u64(d, obj, key, true, out, NULL, where);
}

static int read_order(sigil_order *o, const sigil_json *d, uint32_t obj, const dydx_msg *m)
{
    char where[32], text[24];
    uint64_t clob, side, v;
    (void)snprintf(where, sizeof(where), "request.%s", m->member);
    GUARD(read_u64(&clob, d, obj, where, "clob_pair_id"));
    ENSURE(clob <= UINT32_MAX, SIGIL_E_OUT_OF_RANGE, "%s.clob_pair_id: beyond uint32", where);
    int n = snprintf(text, sizeof(text), "%llu", (unsigned long long)clob);
    GUARD(insp_symbol_text(o, text, (size_t)n, where));
    if (!m->is_order)
        return 0;
    GUARD(read_u64(&side, d, obj, where, "side"));
    ENSURE(side == SIGIL_SIDE_BUY || side == SIGIL_SIDE_SELL, SIGIL_E_OUT_OF_RANGE,
           "%s.side: expected 1 (buy) or 2 (sell)", where);
    o->side = (sigil_side)side;
    GUARD(read_u64(&v, d, obj, where, "quantums"));
    sigil_dec_from_u64(&o->qty, v);
    o->has_qty = true;
    /* Every dYdX order is a limit order (a "market" order is IOC at a worst
     * price), so subticks are always its price. */
    GUARD(read_u64(&v, d, obj, where, "subticks"));
    sigil_dec_from_u64(&o->price, v);
    o->has_price = true;
    uint32_t r = sigil_json_get(d, obj, "reduce_only");
    if (r != 0 && sigil_json_type_of(d, r) != SIGIL_JSON_NULL) {
        GUARD(sigil_json_expect(d, r, SIGIL_JSON_TRUE, where, "reduce_only"));
        o->reduce_only = sigil_json_type_of(d, r) == SIGIL_JSON_TRUE;
    }
    return 0;
}

int insp_dydx(insp_ctx *c)
{
    const dydx_msg *m;
    uint32_t obj = 0;
    sigil_order *o;
    GUARD(find_msg(&m, &obj, c->req));
    if (m->action != c->action)
        return 0; /* the classifier decided otherwise: nothing of this class to read */
    GUARD(insp_order_new(&o, c));
    GUARD(read_order(o, c->req, obj, m));
    c->out->orders_known = true;
    return 0;
}
