/*
 * Gate API v4 inspection (libsigil-core, untrusted input): spot orders
 * (amount in the base currency; a market buy's amount is quote), futures,
 * delivery and options orders (size in contracts, negative to sell).
 */
#include "policy/inspect_internal.h"

static const insp_fields SPOT_FIELDS = {
    .symbol = "currency_pair",
    .side = "side",
    .qty = "amount",
    .price = "price",
};
static const insp_fields SPOT_CANCEL_FIELDS = {.symbol = "currency_pair"};
static const insp_fields CONTRACT_FIELDS = {
    .symbol = "contract",
    .price = "price",
    .reduce_only = "reduce_only",
};
static const insp_fields CONTRACT_CANCEL_FIELDS = {.symbol = "contract"};
static const insp_fields NO_FIELDS = {0};

static const char *const PRICED[] = {"limit"};

/* Withdrawals (address, memo), UID transfers (receive_uid), account
 * transfers (to) and sub-account transfers (sub_account, sub_account_to). */
static const char *const DESTINATIONS[] = {"address", "memo",        "receive_uid",
                                           "to",      "sub_account", "sub_account_to"};

static int fix_spot(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value type;
    (void)c;
    (void)parent;
    GUARD(insp_price_only_for(o, s, "type", PRICED, SIGIL_ARRAY_LEN(PRICED)));
    GUARD(insp_get(&type, s, "type"));
    if (insp_is(&type, "market") && o->side == SIGIL_SIDE_BUY)
        insp_qty_is_quote(o);
    return 0;
}

/* size: signed contracts (0 with close: close the position); price "0" is
 * a market order. */
static int fix_contract(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    bool close;
    (void)c;
    (void)parent;
    GUARD(insp_signed_decimal(&o->has_qty, &o->qty, &o->side, s, "size"));
    if (o->has_price && sigil_dec_is_zero(&o->price))
        o->has_price = false;
    GUARD(insp_flag(&close, s, "close"));
    o->reduce_only = o->reduce_only || close;
    return 0;
}

/* Cancels name the pair or contract in the query when they name one;
 * batch_cancel_orders lists ids. */
#define V4 "/api/v4/"
static const insp_route ROUTES[] = {
    INSP_ONE(ORDER, POST, V4 "spot/orders", &SPOT_FIELDS, fix_spot),
    INSP_ARRAY(ORDER, POST, V4 "spot/batch_orders", &SPOT_FIELDS, fix_spot),
    INSP_ARRAY(CANCEL, POST, V4 "spot/cancel_batch_orders", &SPOT_CANCEL_FIELDS, NULL),
    INSP_ONE(CANCEL, DELETE, V4 "spot/orders/**", &SPOT_CANCEL_FIELDS, NULL),
    INSP_ONE(ORDER, POST, V4 "futures/*/orders", &CONTRACT_FIELDS, fix_contract),
    INSP_ARRAY(ORDER, POST, V4 "futures/*/batch_orders", &CONTRACT_FIELDS, fix_contract),
    INSP_ONE(MODIFY, PUT, V4 "futures/*/orders/*", &CONTRACT_FIELDS, fix_contract),
    INSP_ONE(CANCEL, DELETE, V4 "futures/*/orders/**", &CONTRACT_CANCEL_FIELDS, NULL),
    INSP_ONE(CANCEL, POST, V4 "futures/*/batch_cancel_orders", &NO_FIELDS, NULL),
    INSP_ONE(ORDER, POST, V4 "delivery/*/orders", &CONTRACT_FIELDS, fix_contract),
    INSP_ONE(CANCEL, DELETE, V4 "delivery/*/orders/**", &CONTRACT_CANCEL_FIELDS, NULL),
    INSP_ONE(ORDER, POST, V4 "options/orders", &CONTRACT_FIELDS, fix_contract),
    INSP_ONE(CANCEL, DELETE, V4 "options/orders/**", &CONTRACT_CANCEL_FIELDS, NULL),
};
#undef V4

static const insp_venue GATE = {INSP_LIST(ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};

int insp_gate(insp_ctx *c)
{
    GUARD(insp_cex_load(c, INSP_BODY_JSON));
    return insp_by_action(c, &GATE);
}
