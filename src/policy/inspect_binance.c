/*
 * Binance (REST and WebSocket API) and Aster inspection (libsigil-core,
 * untrusted input). Their signatures bind the parameters, not the endpoint
 * (docs/POLICY.md), so orders, destinations and agents are read from the
 * parameters whatever the path: the signature fits any endpoint taking them.
 */
#include <stdio.h>
#include <string.h>

#include "policy/inspect_internal.h"

static const insp_fields ORDER_FIELDS = {
    .symbol = "symbol",
    .side = "side",
    .qty = "quantity",
    .price = "price",
    .reduce_only = "reduceOnly",
    .quote_qty = "quoteOrderQty",
};

/* Types whose price is a limit price. The others (MARKET, STOP_LOSS,
 * TAKE_PROFIT, STOP_MARKET, TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET) fill
 * at the market once triggered. TAKE_PROFIT is a market order on spot and a
 * limit on futures; the signature does not say which, so it has no price. */
static const char *const PRICED[] = {"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT",
                                     "STOP"};

/* The parameters naming where money goes: withdrawals (address, memo),
 * Aster's withdrawal and send (receiver, toAddress), sub-account and
 * universal transfers (toEmail, email, toAccountType, type), Aster's
 * spot/futures transfer (kindType). */
static const char *const DESTINATIONS[] = {
    "address", "addressTag",    "toAddress", "receiver", "toEmail",
    "email",   "toAccountType", "type",      "kindType",
};
static const char *const AGENTS[] = {"agentAddress", "builder"};

/* A parameter that makes the top level an order of its own. */
static const char *const ORDER_PARAMS[] = {"symbol",        "side",   "quantity",
                                           "quoteOrderQty", "newQty", "price"};

static int fix_order(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value v;
    bool has, close;
    sigil_dec q;
    (void)c;
    (void)parent;
    GUARD(insp_decimal(&has, &q, s, "newQty")); /* order amend (keep priority) */
    if (has) {
        ENSURE(!o->has_qty, SIGIL_E_BAD_REQUEST,
               "%s: both quantity and newQty (the venue's reading depends on the endpoint)",
               s->where);
        o->has_qty = true;
        o->qty = q;
    }
    GUARD(insp_price_only_for(o, s, "type", PRICED, SIGIL_ARRAY_LEN(PRICED)));
    /* The venue chooses the price: priceMatch (futures), pegPriceType (spot). */
    GUARD(insp_get(&v, s, "priceMatch"));
    if (v.type != 0 && !insp_is(&v, "NONE"))
        o->has_price = false;
    GUARD(insp_get(&v, s, "pegPriceType"));
    if (v.type != 0)
        o->has_price = false;
    GUARD(insp_flag(&close, s, "closePosition")); /* closes the position: reduces only */
    o->reduce_only = o->reduce_only || close;
    return 0;
}

/* batchOrders (a JSON array in one parameter) and the top-level order; both
 * when both are given, as either endpoint could receive the signature. */
static int read_params(insp_ctx *c, const insp_src *s)
{
    sigil_slice text;
    bool batch, top;
    sigil_order *o;
    GUARD(insp_get_long(&text, &batch, s, "batchOrders"));
    if (batch) {
        sigil_json nd;
        insp_src items;
        char what[INSP_WHERE_MAX + 16];
        insp_what(what, sizeof(what), s, "batchOrders");
        GUARD(insp_json_nested(&nd, text.p, text.len, what));
        insp_src_json(&items, &nd, 0, what);
        GUARD(insp_order_items(c, &items, NULL, &ORDER_FIELDS, fix_order));
        GUARD(insp_any_present(&top, s, ORDER_PARAMS, SIGIL_ARRAY_LEN(ORDER_PARAMS)));
        if (!top)
            return 0;
    }
    GUARD(insp_order_read(&o, c, s, &ORDER_FIELDS));
    return fix_order(c, o, s, s);
}

/* ---- REST: query and form body, read as one parameter set ---- */

static int rest_orders(insp_ctx *c)
{
    insp_src s;
    insp_src_cex(&s, c);
    return read_params(c, &s);
}

static const insp_route ROUTES[] = {INSP_READ(INSP_TRADE, ANY, NULL, rest_orders)};
static const insp_venue BINANCE = {INSP_LIST(ROUTES), INSP_LIST(DESTINATIONS), INSP_LIST(AGENTS)};

static int check_disjoint(const insp_ctx *c)
{
    if (c->form == NULL || sigil_query_check_disjoint(c->query, c->form, "request") == 0)
        return 0;
    char why[200];
    (void)snprintf(why, sizeof(why), "%s", sigil_errmsg());
    BAIL(SIGIL_E_BAD_REQUEST, "%s", why);
}

/* ---- WebSocket API: the params object, read like the REST parameters ---- */

static int ws_inspect(insp_ctx *c)
{
    uint32_t params = sigil_json_get(c->req, 0, "params");
    GUARD(sigil_json_expect(c->req, params, SIGIL_JSON_OBJECT, "request", "params"));
    c->body = c->req;
    c->body_root = params;
    c->body_where = "request.params";
    return insp_by_action(c, &BINANCE);
}

int insp_binance(insp_ctx *c)
{
    if (insp_has_member(c, "params"))
        return ws_inspect(c);
    GUARD(insp_cex_load(c, INSP_BODY_FORM));
    GUARD(check_disjoint(c));
    return insp_by_action(c, &BINANCE);
}

/* Aster signs the query only (docs/CLI.md): the same parameters as binance. */
int insp_aster(insp_ctx *c)
{
    GUARD(insp_cex_load(c, INSP_BODY_FORM));
    c->form = NULL;
    c->body = NULL;
    return insp_by_action(c, &BINANCE);
}
