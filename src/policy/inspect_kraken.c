/*
 * Kraken spot inspection (libsigil-core, untrusted input): POST
 * /0/private/<Method> with a form or JSON body (docs/CLI.md). Sizes are
 * volumes in the base currency (the quote with oflags viqc).
 */
#include <string.h>

#include "policy/inspect_internal.h"

static const insp_fields ADD_FIELDS = {
    .symbol = "pair",
    .side = "type",
    .qty = "volume",
    .reduce_only = "reduce_only",
};
static const insp_fields EDIT_FIELDS = {.symbol = "pair", .qty = "volume"};
static const insp_fields AMEND_FIELDS = {.qty = "order_qty"};
static const insp_fields NO_FIELDS = {0};

/* Withdrawals name a withdrawal key (and optionally its address); wallet
 * and sub-account transfers name where to. */
static const char *const DESTINATIONS[] = {"key", "address", "to"};

/* The member holding the limit price, per order type. Market orders,
 * stop-loss and take-profit (market once triggered) and trailing stops
 * (offsets, not prices) have none. */
static const struct {
    const char *type;
    const char *price;
} LIMIT_PRICE[] = {
    {"limit", "price"},
    {"iceberg", "price"},
    {"stop-loss-limit", "price2"},
    {"take-profit-limit", "price2"},
};

/* A price member: relative prices (+, -, # prefix or % suffix) are offsets
 * from a price the request does not name, so they are no price. */
static int read_price(sigil_order *o, const insp_src *s, const char *name)
{
    insp_value v;
    char what[INSP_WHERE_MAX + 16];
    GUARD(insp_get(&v, s, name));
    if (v.type == 0 || v.len == 0)
        return 0;
    bool relative = strchr("+-#", v.text[0]) != NULL || v.text[v.len - 1] == '%';
    if (relative)
        return 0;
    GUARD(insp_decimal_value(&o->price, &v, insp_what(what, sizeof(what), s, name)));
    o->has_price = true;
    return 0;
}

static int fix_add(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    insp_value type, flags;
    (void)c;
    (void)parent;
    GUARD(insp_get(&type, s, "ordertype"));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(LIMIT_PRICE); i++)
        if (insp_is(&type, LIMIT_PRICE[i].type))
            GUARD(read_price(o, s, LIMIT_PRICE[i].price));
    GUARD(insp_get(&flags, s, "oflags")); /* comma-separated; viqc: volume in quote */
    for (const char *f = flags.text; flags.type != 0 && f != NULL; f = strchr(f, ',')) {
        f += *f == ',';
        if (strncmp(f, "viqc", 4) == 0 && (f[4] == ',' || f[4] == '\0'))
            insp_qty_is_quote(o);
    }
    return 0;
}

static int fix_amend(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    (void)c;
    (void)parent;
    return read_price(o, s, "limit_price");
}

/* AddOrderBatch: {pair, orders: [...]} in a JSON body; the form encoding
 * (orders[0][type]=…) is not read. */
static int add_batch(insp_ctx *c)
{
    if (c->body == NULL) {
        c->unknown = true;
        return 0;
    }
    return insp_body_batch(c, "orders", &ADD_FIELDS, fix_add);
}

/* EditOrder: the order type is not in the request, so its price (a limit or
 * a trigger) is not read; AmendOrder names limit_price. Cancels name order
 * ids, not pairs. */
#define M "/0/private/"
static const insp_route ROUTES[] = {
    INSP_ONE(ORDER, POST, M "AddOrder", &ADD_FIELDS, fix_add),
    INSP_READ(INSP_A(ORDER), POST, M "AddOrderBatch", add_batch),
    INSP_ONE(MODIFY, POST, M "EditOrder", &EDIT_FIELDS, NULL),
    INSP_ONE(MODIFY, POST, M "AmendOrder", &AMEND_FIELDS, fix_amend),
    INSP_ONE(CANCEL, POST, M "CancelOrder", &NO_FIELDS, NULL),
    INSP_ONE(CANCEL, POST, M "CancelAll", &NO_FIELDS, NULL),
    INSP_ONE(CANCEL, POST, M "CancelAllOrdersAfter", &NO_FIELDS, NULL),
    INSP_ONE(CANCEL, POST, M "CancelOrderBatch", &NO_FIELDS, NULL),
};
#undef M

static const insp_venue KRAKEN = {INSP_LIST(ROUTES), INSP_LIST(DESTINATIONS), INSP_EMPTY};

int insp_kraken(insp_ctx *c)
{
    GUARD(insp_cex_load(c, INSP_BODY_KRAKEN));
    return insp_by_action(c, &KRAKEN);
}
