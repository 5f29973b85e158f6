/*
 * Deribit inspection (libsigil-core, untrusted input): private methods by
 * path, their parameters in the query (GET) or the JSON body (POST; the
 * params of a JSON-RPC body). amount is in the instrument's units (USD for
 * inverse perpetuals and futures, the coin for linear ones, contracts of
 * the coin for options).
 */
#include "policy/inspect_internal.h"

static const insp_fields ORDER_FIELDS = {
    .symbol = "instrument_name",
    .qty = "amount",
    .price = "price",
    .reduce_only = "reduce_only",
};
static const insp_fields EDIT_FIELDS = {.qty = "amount", .price = "price"};
static const insp_fields EDIT_LABEL_FIELDS = {
    .symbol = "instrument_name", .qty = "amount", .price = "price"};
static const insp_fields CANCEL_FIELDS = {.symbol = "instrument_name"};

/* type defaults to limit; market, stop_market, take_market and
 * market_limit fill at the market. */
static const char *const PRICED[] = {"limit", "stop_limit", "take_limit"};

/* Withdrawals (address) and transfers to sub-accounts or users
 * (destination). */
static const char *const DESTINATIONS[] = {"address", "destination"};

/* contracts instead of amount: not in the units caps are written in. */
static int fix_order(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value v;
    (void)parent;
    GUARD(insp_price_only_for(o, s, "type", PRICED, SIGIL_ARRAY_LEN(PRICED)));
    GUARD(insp_get(&v, s, "contracts"));
    c->unknown = c->unknown || (v.type != 0 && !o->has_qty);
    return 0;
}

static int fix_buy(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    o->side = SIGIL_SIDE_BUY;
    return fix_order(c, o, s, parent);
}

static int fix_sell(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    o->side = SIGIL_SIDE_SELL;
    return fix_order(c, o, s, parent);
}

#define P "/api/v2/private/"
#define CANCEL(name) INSP_ONE(CANCEL, ANY, P name, &CANCEL_FIELDS, NULL)
static const insp_route ROUTES[] = {
    INSP_ONE(ORDER, ANY, P "buy", &ORDER_FIELDS, fix_buy),
    INSP_ONE(ORDER, ANY, P "sell", &ORDER_FIELDS, fix_sell),
    INSP_ONE(ORDER, ANY, P "close_position", &CANCEL_FIELDS, insp_fix_reduce_only),
    INSP_ONE(MODIFY, ANY, P "edit", &EDIT_FIELDS, fix_order),
    INSP_ONE(MODIFY, ANY, P "edit_by_label", &EDIT_LABEL_FIELDS, fix_order),
    CANCEL("cancel"),
    CANCEL("cancel_all"),
    CANCEL("cancel_all_by_currency"),
    CANCEL("cancel_all_by_currency_pair"),
    CANCEL("cancel_all_by_instrument"),
    CANCEL("cancel_all_by_kind_or_type"),
    CANCEL("cancel_by_label"),
    CANCEL("cancel_quotes"),
};
#undef CANCEL
#undef P

static const insp_venue DERIBIT = {INSP_LIST(ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};

int insp_deribit(insp_ctx *c)
{
    if (insp_has_member(c, "jsonrpc")) /* WebSocket public/auth */
        return 0;
    GUARD(insp_cex_load(c, INSP_BODY_JSON));
    if (c->body != NULL) { /* a JSON-RPC body carries the parameters in params */
        uint32_t params = sigil_json_get(c->body, 0, "params");
        if (params != 0 && sigil_json_type_of(c->body, params) == SIGIL_JSON_OBJECT) {
            c->body_root = params;
            c->body_where = "request.body.params";
        }
    }
    return insp_by_action(c, &DERIBIT);
}
