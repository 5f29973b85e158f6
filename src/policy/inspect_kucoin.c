/*
 * KuCoin spot/margin and KuCoin Futures inspection (libsigil-core, untrusted
 * input). Both APIs place orders at /api/v1/orders; the venue name says
 * whose sizes are base currency (spot: size, or funds in the quote) and
 * whose are lots (futures: size, or valueQty in the quote).
 */
#include "policy/inspect_internal.h"

static const insp_fields SPOT_FIELDS = {
    .symbol = "symbol",
    .side = "side",
    .qty = "size",
    .price = "price",
    .quote_qty = "funds",
};
static const insp_fields FUTURES_FIELDS = {
    .symbol = "symbol",
    .side = "side",
    .qty = "size",
    .price = "price",
    .reduce_only = "reduceOnly",
    .quote_qty = "valueQty",
};
static const insp_fields ALTER_FIELDS = {.symbol = "symbol", .qty = "newSize", .price = "newPrice"};
static const insp_fields CANCEL_FIELDS = {.symbol = "symbol"};

/* type defaults to limit; market orders have no price. */
static const char *const PRICED[] = {"limit"};

/* Withdrawals (v1 address, v3 toAddress, memo) and transfers (inner: to;
 * universal: toAccountType, toUserId; sub-account: subUserId; futures
 * transfer-out: recAccountType). */
static const char *const DESTINATIONS[] = {
    "address",       "toAddress", "memo",      "to",
    "toAccountType", "toUserId",  "subUserId", "recAccountType",
};

static int fix_spot(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    (void)c;
    (void)parent;
    return insp_price_only_for(o, s, "type", PRICED, SIGIL_ARRAY_LEN(PRICED));
}

/* Futures: closeOrder closes the position; qty (base currency) is not in
 * the lots the caps are written in, so such an order is not read. */
static int fix_futures(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value v;
    bool close;
    GUARD(fix_spot(c, o, s, parent));
    GUARD(insp_flag(&close, s, "closeOrder"));
    o->reduce_only = o->reduce_only || close;
    GUARD(insp_get(&v, s, "qty"));
    c->unknown = c->unknown || v.type != 0;
    return 0;
}

/* Cancels name the symbol in the query (or body) when they name one. */
#define CANCEL_ANY INSP_ONE(CANCEL, POST_DELETE, "/**", &CANCEL_FIELDS, NULL)
#define SPOT_ONE(p) INSP_ONE(ORDER, POST, p, &SPOT_FIELDS, fix_spot)
#define SPOT_LIST(p) INSP_ITEMS(ORDER, POST, p, "orderList", &SPOT_FIELDS, fix_spot)
static const insp_route SPOT_ROUTES[] = {
    SPOT_ONE("/api/v1/orders"),
    SPOT_ONE("/api/v1/orders/test"),
    SPOT_ONE("/api/v1/hf/orders"),
    SPOT_ONE("/api/v1/hf/orders/sync"),
    SPOT_ONE("/api/v1/hf/orders/test"),
    SPOT_ONE("/api/v1/margin/order"),
    SPOT_ONE("/api/v1/margin/order/test"),
    SPOT_ONE("/api/v3/hf/margin/order"),
    SPOT_ONE("/api/v3/hf/margin/order/test"),
    SPOT_ONE("/api/v1/stop-order"),
    SPOT_LIST("/api/v1/orders/multi"),
    SPOT_LIST("/api/v1/hf/orders/multi"),
    SPOT_LIST("/api/v1/hf/orders/multi/sync"),
    INSP_ONE(MODIFY, POST, "/api/v1/hf/orders/alter", &ALTER_FIELDS, NULL),
    CANCEL_ANY,
};

#define FUTURES_ONE(p) INSP_ONE(ORDER, POST, p, &FUTURES_FIELDS, fix_futures)
static const insp_route FUTURES_ROUTES[] = {
    FUTURES_ONE("/api/v1/orders"),
    FUTURES_ONE("/api/v1/orders/test"),
    FUTURES_ONE("/api/v1/st-orders"),
    INSP_ARRAY(ORDER, POST, "/api/v1/orders/multi", &FUTURES_FIELDS, fix_futures),
    CANCEL_ANY,
};
#undef CANCEL_ANY
#undef SPOT_ONE
#undef SPOT_LIST
#undef FUTURES_ONE

static const insp_venue SPOT = {INSP_LIST(SPOT_ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};
static const insp_venue FUTURES = {INSP_LIST(FUTURES_ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};

int insp_kucoin(insp_ctx *c)
{
    GUARD(insp_cex_load(c, INSP_BODY_JSON));
    return insp_by_action(c, &SPOT);
}

int insp_kucoinfutures(insp_ctx *c)
{
    GUARD(insp_cex_load(c, INSP_BODY_JSON));
    return insp_by_action(c, &FUTURES);
}
