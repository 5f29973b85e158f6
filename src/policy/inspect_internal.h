/*
 * Shared by the request inspectors (src/policy/inspect*.c, libsigil-core,
 * untrusted input): the inspection context, named-value sources over a query,
 * a form body or a JSON object, the typed readers every venue uses, and one
 * inspector per venue. docs/POLICY-ORDERS.md describes what each one reads.
 */
#ifndef SIGIL_INSPECT_INTERNAL_H
#define SIGIL_INSPECT_INTERNAL_H

#include "policy/policy_internal.h"

/* The longest value read (a symbol, a decimal, a destination fits). */
#define INSP_VALUE_MAX 256
#define INSP_WHERE_MAX 96

typedef struct {
    sigil_request_info *out;
    sigil_action action;
    const sigil_json *req; /* the request document */
    /* CEX requests, after insp_cex_load: */
    const sigil_query *query; /* request.query (no parameters when absent) */
    const sigil_query *form;  /* request.body as a form (binance, kraken), else NULL */
    const sigil_json *body;   /* request.body as JSON, else NULL */
    uint32_t body_root;       /* the object of body that holds the parameters (0: the root) */
    const char *body_where;   /* its name in messages (NULL: "request.body") */
    bool unknown;             /* a part no reader understands: orders_known stays false */
} insp_ctx;

typedef int (*insp_fn)(insp_ctx *c);

/* The inspectors of the venue table (inspect.c). */
int insp_binance(insp_ctx *c);
int insp_aster(insp_ctx *c);
int insp_bybit(insp_ctx *c);
int insp_okx(insp_ctx *c);
int insp_kucoin(insp_ctx *c);
int insp_kucoinfutures(insp_ctx *c);
int insp_kraken(insp_ctx *c);
int insp_bitget(insp_ctx *c);
int insp_gate(insp_ctx *c);
int insp_deribit(insp_ctx *c);
int insp_bitfinex(insp_ctx *c);
int insp_coinbase(insp_ctx *c);
int insp_hyperliquid(insp_ctx *c);
int insp_dydx(insp_ctx *c);
/* dYdX's classifier (inspect_dydx.c), for the table of request_class.c. */
int policy_dydx_classify(sigil_action *out, const sigil_json *d);

/* ---- requests (inspect.c) ---- */

typedef enum { INSP_BODY_JSON, INSP_BODY_FORM, INSP_BODY_KRAKEN } insp_body_kind;

/* Whether the request has this top-level member (WebSocket markers). */
bool insp_has_member(const insp_ctx *c, const char *key);
/* Reads method and path into c->out, parses request.query and request.body
 * (JSON, form, or kraken's either-by-first-byte). */
SIGIL_WARN_UNUSED_RESULT int insp_cex_load(insp_ctx *c, insp_body_kind body);
/* Parses JSON text into the per-thread nested document (one at a time: a
 * CEX body, binance's batchOrders, hyperliquid's signers). */
SIGIL_WARN_UNUSED_RESULT int insp_json_nested(sigil_json *out, const char *text, size_t len,
                                              const char *what);
/* Percent-decodes (form rules) into the per-thread arena (reset for each
 * request; a request needing more than it holds is refused). */
SIGIL_WARN_UNUSED_RESULT int insp_pct_decode(sigil_slice *out, sigil_slice raw, const char *what);
/* A JSON string token's value: its raw text, or unescaped into the arena. */
SIGIL_WARN_UNUSED_RESULT int insp_json_text(sigil_slice *out, const sigil_json *d, uint32_t t);

/* ---- named values and orders (inspect_read.c) ---- */

/* Where values are read: a query and a form body (one parameter set, as
 * binance reads them) and/or the members of a JSON object. A name present
 * in more than one is refused: the venue's reading would be ambiguous. */
typedef struct {
    const sigil_query *query;
    const sigil_query *form;
    const sigil_json *d;
    uint32_t obj; /* a JSON object token of d */
    char where[INSP_WHERE_MAX];
} insp_src;

typedef struct {
    uint8_t type; /* 0 when absent, else a sigil_json_type (query values: STRING) */
    uint32_t tok; /* JSON values: the token */
    size_t len;
    char text[INSP_VALUE_MAX + 1]; /* decoded, NUL-terminated */
} insp_value;

/* Sources: the request's CEX parameters (JSON body object and query), a
 * JSON object, or the query and the form body. */
void insp_src_cex(insp_src *s, const insp_ctx *c);
void insp_src_json(insp_src *s, const sigil_json *d, uint32_t obj, const char *where);
void insp_src_item(insp_src *s, const insp_src *parent, const char *member, size_t i, uint32_t obj);

SIGIL_WARN_UNUSED_RESULT int insp_get(insp_value *v, const insp_src *s, const char *name);
/* A string value of any length (a nested JSON text), decoded into the arena. */
SIGIL_WARN_UNUSED_RESULT int insp_get_long(sigil_slice *out, bool *present, const insp_src *s,
                                           const char *name);
/* The text of a present value equals lit up to ASCII case. */
bool insp_is(const insp_value *v, const char *lit);
/* One of a table of literals (up to ASCII case). */
bool insp_is_one_of(const insp_value *v, const char *const *lits, size_t n);
/* "where.name" for messages. */
const char *insp_what(char *buf, size_t cap, const insp_src *s, const char *name);

/* A JSON array or object member of s (0 when absent); other types refused. */
SIGIL_WARN_UNUSED_RESULT int insp_get_container(uint32_t *out, const insp_src *s, const char *name,
                                                sigil_json_type type);

/* Typed readers; each names "where.name" in its errors. */
SIGIL_WARN_UNUSED_RESULT int insp_decimal_value(sigil_dec *out, const insp_value *v,
                                                const char *what);
SIGIL_WARN_UNUSED_RESULT int insp_decimal(bool *has, sigil_dec *out, const insp_src *s,
                                          const char *name);
/* A signed amount (bitfinex, gate futures): negative sells; the magnitude. */
SIGIL_WARN_UNUSED_RESULT int insp_signed_decimal(bool *has, sigil_dec *out, sigil_side *side,
                                                 const insp_src *s, const char *name);
SIGIL_WARN_UNUSED_RESULT int insp_side_value(sigil_side *out, const insp_value *v,
                                             const char *what);
/* true only for JSON true or the text "true" (any case): anything else is
 * the less privileged reading, not reduce-only. */
SIGIL_WARN_UNUSED_RESULT int insp_flag(bool *out, const insp_src *s, const char *name);
SIGIL_WARN_UNUSED_RESULT int insp_symbol_text(sigil_order *o, const char *text, size_t len,
                                              const char *what);

/* The fields of one order; NULL names are not read. */
typedef struct {
    const char *symbol;
    const char *side;
    const char *qty;
    const char *price;
    const char *reduce_only;
    const char *quote_qty;
} insp_fields;

/* Venue rules applied to each order read (types without a price, quote
 * sizes); parent is the batch's object (the order's own source when single). */
typedef int (*insp_fix_fn)(insp_ctx *c, sigil_order *o, const insp_src *item,
                           const insp_src *parent);

/* Appends an order (SIGIL_E_BAD_REQUEST past SIGIL_MAX_ORDERS). */
SIGIL_WARN_UNUSED_RESULT int insp_order_new(sigil_order **o, insp_ctx *c);
/* Appends an order read from s through f. */
SIGIL_WARN_UNUSED_RESULT int insp_order_read(sigil_order **o, insp_ctx *c, const insp_src *s,
                                             const insp_fields *f);
/* Calls fn for each object item of an array member (or of the array
 * s->obj itself when member is NULL); missing or empty arrays are refused. */
typedef int (*insp_item_fn)(insp_ctx *c, const insp_src *item, void *arg);
SIGIL_WARN_UNUSED_RESULT int insp_each_item(insp_ctx *c, const insp_src *s, const char *member,
                                            insp_item_fn fn, void *arg);
/* The items of an array (as insp_each_item) as orders through f; an item
 * without a symbol takes the parent object's. */
SIGIL_WARN_UNUSED_RESULT int insp_order_items(insp_ctx *c, const insp_src *s, const char *member,
                                              const insp_fields *f, insp_fix_fn fix);
/* One order from the CEX parameters (JSON body object and query). */
SIGIL_WARN_UNUSED_RESULT int insp_body_order(insp_ctx *c, const insp_fields *f, insp_fix_fn fix);
/* Orders from the items of the JSON body (an array when member is NULL, else
 * the body's array member). */
SIGIL_WARN_UNUSED_RESULT int insp_body_batch(insp_ctx *c, const char *member, const insp_fields *f,
                                             insp_fix_fn fix);
/* Whether any of the names is present. */
SIGIL_WARN_UNUSED_RESULT int insp_any_present(bool *out, const insp_src *s,
                                              const char *const *names, size_t n);
/* Clears the price when the order type is not one that carries a limit
 * price (market and market-on-trigger orders fill at any price). */
SIGIL_WARN_UNUSED_RESULT int insp_price_only_for(sigil_order *o, const insp_src *s,
                                                 const char *type_name, const char *const *priced,
                                                 size_t n);
/* For endpoints that only close positions. */
int insp_fix_reduce_only(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent);
/* The order's size is in the quote currency (a market buy's funds). */
void insp_qty_is_quote(sigil_order *o);

/* Reads every present name of the list into destinations or agents. */
SIGIL_WARN_UNUSED_RESULT int insp_read_names(insp_ctx *c, const insp_src *s,
                                             const char *const *names, size_t n, bool agents);
/* Adds a destination or an agent (SIGIL_E_BAD_REQUEST past the limit). */
SIGIL_WARN_UNUSED_RESULT int insp_name_add(insp_ctx *c, bool agent, const char *text, size_t len,
                                           const char *what);

/* ---- routes and actions (inspect.c) ---- */

/* How a route's orders are laid out in the body: one order in the
 * parameters, the items of the JSON body array, or the items of an array
 * member of the body (an item without a symbol takes the body's). */
typedef enum { INSP_SHAPE_ONE, INSP_SHAPE_ARRAY, INSP_SHAPE_MEMBER } insp_shape;

/* Endpoints: the actions a route serves, method bits, and a path where '*'
 * stands for one segment and a final "**" segment for anything below, matched
 * case-insensitively (as the classifier matches); NULL matches any path,
 * and is the only pattern a request without a path (WebSocket) matches. The
 * orders are read by read when set, else through fields, fix and shape. */
typedef struct {
    uint16_t actions; /* 1u << sigil_action bits */
    uint8_t methods;
    uint8_t shape; /* insp_shape */
    const char *pattern;
    insp_fn read;
    const insp_fields *fields;
    insp_fix_fn fix;
    const char *member; /* INSP_SHAPE_MEMBER */
} insp_route;

#define INSP_A(a) (1u << SIGIL_ACTION_##a)
#define INSP_TRADE (INSP_A(ORDER) | INSP_A(MODIFY) | INSP_A(CANCEL))

/* Method sets for the route macros. */
#define INSP_M_GET SIGIL_METHOD_GET
#define INSP_M_POST SIGIL_METHOD_POST
#define INSP_M_PUT SIGIL_METHOD_PUT
#define INSP_M_DELETE SIGIL_METHOD_DELETE
#define INSP_M_POST_DELETE (SIGIL_METHOD_POST | SIGIL_METHOD_DELETE)
#define INSP_M_ANY SIGIL_METHODS_ALL

#define INSP_ONE(a, m, p, f, x)                                                                    \
    {                                                                                              \
        .actions = INSP_A(a), .methods = INSP_M_##m, .pattern = (p), .fields = (f), .fix = (x)     \
    }
#define INSP_ARRAY(a, m, p, f, x)                                                                  \
    {                                                                                              \
        .actions = INSP_A(a), .methods = INSP_M_##m, .shape = INSP_SHAPE_ARRAY, .pattern = (p),    \
        .fields = (f), .fix = (x)                                                                  \
    }
#define INSP_ITEMS(a, m, p, mem, f, x)                                                             \
    {                                                                                              \
        .actions = INSP_A(a), .methods = INSP_M_##m, .shape = INSP_SHAPE_MEMBER, .pattern = (p),   \
        .fields = (f), .fix = (x), .member = (mem)                                                 \
    }
#define INSP_READ(a, m, p, fn)                                                                     \
    {                                                                                              \
        .actions = (a), .methods = INSP_M_##m, .pattern = (p), .read = (fn)                        \
    }

const insp_route *insp_route_find(const insp_ctx *c, const insp_route *routes, size_t n);
/* A route's orders, by its reader or its fields and shape (inspect_read.c). */
SIGIL_WARN_UNUSED_RESULT int insp_route_read(insp_ctx *c, const insp_route *r);

/* What a CEX venue reads: routes for orders, names for money and authority. */
typedef struct {
    const insp_route *routes;
    size_t n_routes;
    const char *const *destinations;
    size_t n_destinations;
    const char *const *agents;
    size_t n_agents;
} insp_venue;

#define INSP_LIST(a) (a), SIGIL_ARRAY_LEN(a)
#define INSP_EMPTY NULL, 0

/* By action: order/modify/cancel through the route the request takes (no
 * route: orders unknown); withdraw/transfer and agent through the name
 * lists, read from the JSON body and the query. */
SIGIL_WARN_UNUSED_RESULT int insp_by_action(insp_ctx *c, const insp_venue *v);

#endif
