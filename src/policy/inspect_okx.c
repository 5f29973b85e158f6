/*
 * OKX V5 inspection (libsigil-core, untrusted input): the trade endpoints'
 * JSON bodies (one order, or an array for the batch endpoints).
 */
#include <string.h>

#include "policy/inspect_internal.h"

static const insp_fields ORDER_FIELDS = {
    .symbol = "instId",
    .side = "side",
    .qty = "sz",
    .price = "px",
    .reduce_only = "reduceOnly",
};
static const insp_fields AMEND_FIELDS = {.symbol = "instId", .qty = "newSz", .price = "newPx"};
static const insp_fields CANCEL_FIELDS = {.symbol = "instId"};
static const insp_fields NO_FIELDS = {0};

/* Order types whose px is a limit price (market and optimal_limit_ioc fill
 * at the market). */
static const char *const PRICED[] = {"limit", "post_only", "fok",
                                     "ioc",   "mmp",       "mmp_and_post_only"};

/* Withdrawals (toAddr) and transfers (account type, sub-account). */
static const char *const DESTINATIONS[] = {"toAddr", "to", "subAcct", "toSubAccount"};

/* A spot instrument is BASE-QUOTE (one '-'); swaps, futures and options
 * have more parts. */
static bool is_spot(const char *inst)
{
    const char *dash = strchr(inst, '-');
    return dash != NULL && strchr(dash + 1, '-') == NULL;
}

/* A spot market order's sz is in the quote currency for a buy and the base
 * for a sell unless tgtCcy says otherwise. */
static int fix_order(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value type, tgt;
    (void)c;
    (void)parent;
    GUARD(insp_price_only_for(o, s, "ordType", PRICED, SIGIL_ARRAY_LEN(PRICED)));
    GUARD(insp_get(&type, s, "ordType"));
    if (!insp_is(&type, "market") || !is_spot(o->symbol))
        return 0;
    GUARD(insp_get(&tgt, s, "tgtCcy"));
    bool quote =
        o->side == SIGIL_SIDE_SELL ? insp_is(&tgt, "quote_ccy") : !insp_is(&tgt, "base_ccy");
    if (quote)
        insp_qty_is_quote(o);
    return 0;
}

#define TRADE "/api/v5/trade/"
static const insp_route ROUTES[] = {
    INSP_ONE(ORDER, POST, TRADE "order", &ORDER_FIELDS, fix_order),
    INSP_ARRAY(ORDER, POST, TRADE "batch-orders", &ORDER_FIELDS, fix_order),
    INSP_ONE(ORDER, POST, TRADE "close-position", &CANCEL_FIELDS, insp_fix_reduce_only),
    INSP_ONE(MODIFY, POST, TRADE "amend-order", &AMEND_FIELDS, NULL),
    INSP_ARRAY(MODIFY, POST, TRADE "amend-batch-orders", &AMEND_FIELDS, NULL),
    INSP_ONE(CANCEL, POST, TRADE "cancel-order", &CANCEL_FIELDS, NULL),
    INSP_ARRAY(CANCEL, POST, TRADE "cancel-batch-orders", &CANCEL_FIELDS, NULL),
    /* mass-cancel names an instrument family, not an instrument */
    INSP_ONE(CANCEL, POST, TRADE "mass-cancel", &NO_FIELDS, NULL),
};
#undef TRADE

static const insp_venue OKX = {INSP_LIST(ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};

int insp_okx(insp_ctx *c)
{
    if (insp_has_member(c, "op")) /* WebSocket login */
        return 0;
    GUARD(insp_cex_load(c, INSP_BODY_JSON));
    return insp_by_action(c, &OKX);
}
