/*
 * Bybit V5 inspection (libsigil-core, untrusted input). Bybit signs the
 * query (GET) or the JSON body (POST), never the path (docs/POLICY.md), so
 * orders are read from the body whatever the path, like binance's.
 */
#include "policy/inspect_internal.h"

static const insp_fields ORDER_FIELDS = {
    .symbol = "symbol",
    .side = "side",
    .qty = "qty",
    .price = "price",
    .reduce_only = "reduceOnly",
};

static const char *const PRICED[] = {"Limit"};
static const char *const ORDER_PARAMS[] = {"symbol", "side", "qty", "price"};

/* Withdrawals (address, tag) and transfers (member, account type). */
static const char *const DESTINATIONS[] = {"address", "tag", "toMemberId", "toAccountType"};

/* Market orders have no price. A spot market order's qty is in the quote
 * coin for a buy and the base coin for a sell unless marketUnit says
 * otherwise; category is on the batch when the order is in one. */
static int fix_order(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value type, category, unit;
    (void)c;
    GUARD(insp_price_only_for(o, s, "orderType", PRICED, SIGIL_ARRAY_LEN(PRICED)));
    GUARD(insp_get(&type, s, "orderType"));
    GUARD(insp_get(&category, parent, "category"));
    if (!insp_is(&type, "Market") || !insp_is(&category, "spot"))
        return 0;
    GUARD(insp_get(&unit, s, "marketUnit"));
    bool quote =
        o->side == SIGIL_SIDE_SELL ? insp_is(&unit, "quoteCoin") : !insp_is(&unit, "baseCoin");
    if (quote)
        insp_qty_is_quote(o);
    return 0;
}

/* The batch endpoints' request array and the top-level order; both when
 * both are given, as either endpoint could receive the signature. */
static int body_orders(insp_ctx *c)
{
    insp_src s;
    uint32_t batch;
    bool top;
    insp_src_cex(&s, c);
    if (s.d == NULL) { /* no JSON object: nothing the order endpoints read */
        c->unknown = true;
        return 0;
    }
    GUARD(insp_get_container(&batch, &s, "request", SIGIL_JSON_ARRAY));
    if (batch != 0) {
        GUARD(insp_order_items(c, &s, "request", &ORDER_FIELDS, fix_order));
        GUARD(insp_any_present(&top, &s, ORDER_PARAMS, SIGIL_ARRAY_LEN(ORDER_PARAMS)));
        if (!top)
            return 0;
    }
    return insp_body_order(c, &ORDER_FIELDS, fix_order);
}

static const insp_route ROUTES[] = {INSP_READ(INSP_TRADE, POST, NULL, body_orders)};
static const insp_venue BYBIT = {INSP_LIST(ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};

int insp_bybit(insp_ctx *c)
{
    if (insp_has_member(c, "op")) /* WebSocket authentication */
        return 0;
    GUARD(insp_cex_load(c, INSP_BODY_JSON));
    return insp_by_action(c, &BYBIT);
}
