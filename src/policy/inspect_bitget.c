/*
 * Bitget V2 inspection (libsigil-core, untrusted input): spot and mix
 * (futures) trade endpoints with JSON bodies. Spot sizes are base coins
 * (a market buy's size is quote coins); mix sizes are base coins.
 */
#include "policy/inspect_internal.h"

static const insp_fields ORDER_FIELDS = {
    .symbol = "symbol",
    .side = "side",
    .qty = "size",
    .price = "price",
};
static const insp_fields MODIFY_FIELDS = {
    .symbol = "symbol", .qty = "newSize", .price = "newPrice"};
static const insp_fields CANCEL_FIELDS = {.symbol = "symbol"};

static const char *const PRICED[] = {"limit"};

/* Withdrawals (address, tag; an internal one names a uid, email or mobile
 * in address) and transfers (toType, toUserId). */
static const char *const DESTINATIONS[] = {"address", "tag", "toType", "toUserId"};

static int fix_spot(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value type;
    (void)c;
    (void)parent;
    GUARD(insp_price_only_for(o, s, "orderType", PRICED, SIGIL_ARRAY_LEN(PRICED)));
    GUARD(insp_get(&type, s, "orderType"));
    if (insp_is(&type, "market") && o->side == SIGIL_SIDE_BUY)
        insp_qty_is_quote(o);
    return 0;
}

/* reduceOnly is "YES"/"NO". In hedge mode tradeSide "close" closes the
 * position of the given side, so the order trades the other way: a close of
 * a long is "buy" + "close" and sells. */
static int fix_mix(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value reduce, trade_side;
    (void)c;
    (void)parent;
    GUARD(insp_price_only_for(o, s, "orderType", PRICED, SIGIL_ARRAY_LEN(PRICED)));
    GUARD(insp_get(&reduce, s, "reduceOnly"));
    GUARD(insp_get(&trade_side, s, "tradeSide"));
    o->reduce_only = insp_is(&reduce, "YES");
    if (!insp_is(&trade_side, "close"))
        return 0;
    o->reduce_only = true;
    o->side = o->side == SIGIL_SIDE_BUY    ? SIGIL_SIDE_SELL
              : o->side == SIGIL_SIDE_SELL ? SIGIL_SIDE_BUY
                                           : SIGIL_SIDE_NONE;
    return 0;
}

/* batch cancels list orders with their symbols (spot) or ids only (mix). */
static int cancel_batch(insp_ctx *c)
{
    insp_src s;
    uint32_t list = 0;
    insp_src_cex(&s, c);
    if (s.d != NULL)
        GUARD(insp_get_container(&list, &s, "orderList", SIGIL_JSON_ARRAY));
    if (list == 0)
        return insp_body_order(c, &CANCEL_FIELDS, NULL);
    return insp_body_batch(c, "orderList", &CANCEL_FIELDS, NULL);
}

#define SPOT "/api/v2/spot/trade/"
#define MIX "/api/v2/mix/order/"
static const insp_route ROUTES[] = {
    INSP_ONE(ORDER, POST, SPOT "place-order", &ORDER_FIELDS, fix_spot),
    INSP_ITEMS(ORDER, POST, SPOT "batch-orders", "orderList", &ORDER_FIELDS, fix_spot),
    INSP_ONE(MODIFY, POST, SPOT "cancel-replace-order", &ORDER_FIELDS, fix_spot),
    INSP_ITEMS(MODIFY, POST, SPOT "batch-cancel-replace-order", "orderList", &ORDER_FIELDS,
               fix_spot),
    INSP_ONE(CANCEL, POST, SPOT "cancel-order", &CANCEL_FIELDS, NULL),
    INSP_READ(INSP_A(CANCEL), POST, SPOT "batch-cancel-order", cancel_batch),
    INSP_ONE(CANCEL, POST, SPOT "cancel-symbol-order", &CANCEL_FIELDS, NULL),
    INSP_ONE(ORDER, POST, MIX "place-order", &ORDER_FIELDS, fix_mix),
    INSP_ITEMS(ORDER, POST, MIX "batch-place-order", "orderList", &ORDER_FIELDS, fix_mix),
    INSP_ONE(MODIFY, POST, MIX "modify-order", &MODIFY_FIELDS, NULL),
    INSP_ONE(CANCEL, POST, MIX "cancel-order", &CANCEL_FIELDS, NULL),
    INSP_READ(INSP_A(CANCEL), POST, MIX "batch-cancel-orders", cancel_batch),
    INSP_ONE(CANCEL, POST, MIX "cancel-all-orders", &CANCEL_FIELDS, NULL),
};
#undef SPOT
#undef MIX

static const insp_venue BITGET = {INSP_LIST(ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};

int insp_bitget(insp_ctx *c)
{
    GUARD(insp_cex_load(c, INSP_BODY_JSON));
    return insp_by_action(c, &BITGET);
}
