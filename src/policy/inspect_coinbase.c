/*
 * Coinbase Advanced Trade inspection (libsigil-core, untrusted input):
 * orders carry their size and limit price in the one member of
 * order_configuration (base_size in the base currency, quote_size in the
 * quote, limit_price).
 */
#include "policy/inspect_internal.h"

static const insp_fields ORDER_FIELDS = {.symbol = "product_id", .side = "side"};
static const insp_fields CONFIG_FIELDS = {
    .qty = "base_size", .price = "limit_price", .quote_qty = "quote_size"};
static const insp_fields EDIT_FIELDS = {.qty = "size", .price = "price"};
static const insp_fields CLOSE_FIELDS = {.symbol = "product_id", .qty = "size"};
static const insp_fields NO_FIELDS = {0};

/* v2 sends (to, destination_tag), fiat withdrawals (payment_method) and
 * portfolio moves (target_portfolio_uuid). */
static const char *const DESTINATIONS[] = {"to", "destination_tag", "payment_method",
                                           "target_portfolio_uuid"};

/* order_configuration: {"<kind>": {base_size | quote_size, limit_price?, …}};
 * market kinds have no limit_price. */
static int fix_order(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    uint32_t config;
    sigil_order sizes = {0};
    insp_src kind;
    (void)parent;
    GUARD(insp_get_container(&config, s, "order_configuration", SIGIL_JSON_OBJECT));
    ENSURE(config != 0, SIGIL_E_MISSING_FIELD,
           "request.body.order_configuration: required field missing");
    ENSURE(s->d->toks[config].size == 1, SIGIL_E_BAD_FIELD,
           "request.body.order_configuration: expected exactly one order kind");
    uint32_t value = sigil_json_value(sigil_json_first(s->d, config));
    GUARD(sigil_json_expect(s->d, value, SIGIL_JSON_OBJECT, "request.body.order_configuration",
                            NULL));
    insp_src_json(&kind, s->d, value, "request.body.order_configuration");
    (void)c;
    GUARD(insp_decimal(&sizes.has_qty, &sizes.qty, &kind, CONFIG_FIELDS.qty));
    GUARD(insp_decimal(&sizes.has_price, &sizes.price, &kind, CONFIG_FIELDS.price));
    GUARD(insp_decimal(&sizes.has_quote_qty, &sizes.quote_qty, &kind, CONFIG_FIELDS.quote_qty));
    o->has_qty = sizes.has_qty;
    o->qty = sizes.qty;
    o->has_price = sizes.has_price;
    o->price = sizes.price;
    o->has_quote_qty = sizes.has_quote_qty;
    o->quote_qty = sizes.quote_qty;
    return 0;
}

/* edit names the order id, batch_cancel order ids, not the product. */
#define O "/api/v3/brokerage/orders"
static const insp_route ROUTES[] = {
    INSP_ONE(ORDER, POST, O, &ORDER_FIELDS, fix_order),
    INSP_ONE(ORDER, POST, O "/preview", &ORDER_FIELDS, fix_order),
    INSP_ONE(ORDER, POST, O "/close_position", &CLOSE_FIELDS, insp_fix_reduce_only),
    INSP_ONE(MODIFY, POST, O "/edit", &EDIT_FIELDS, NULL),
    INSP_ONE(MODIFY, POST, O "/edit_preview", &EDIT_FIELDS, NULL),
    INSP_ONE(CANCEL, POST, O "/batch_cancel", &NO_FIELDS, NULL),
};
#undef O

static const insp_venue COINBASE = {INSP_LIST(ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};

int insp_coinbase(insp_ctx *c)
{
    GUARD(insp_cex_load(c, INSP_BODY_JSON));
    return insp_by_action(c, &COINBASE);
}
