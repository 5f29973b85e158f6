/*
 * The dYdX request (trusted code, untrusted input), parsed strictly: unknown
 * members, duplicate keys, wrong types and out-of-range integers are refused
 * with typed errors; order fields are checked against the rules the chain
 * applies (order flags and their good-til field, sides, conditions), so an
 * order Sigil signs is one the chain can accept. Format: docs/CLI.md "dYdX v4".
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "venues/dydx_internal.h"

#define SUBACCOUNT_MAX 128000 /* x/subaccounts MaxSubaccountIdNumber */

static const char *const CHAIN_IDS[] = {
    [SIGIL_NET_MAINNET] = "dydx-mainnet-1",
    [SIGIL_NET_TESTNET] = "dydx-testnet-4",
};

const char *sigil_dydx_chain_id(sigil_network net)
{
    return (size_t)net < SIGIL_ARRAY_LEN(CHAIN_IDS) ? CHAIN_IDS[net] : NULL;
}

/* A member's value token; 0 when absent or null (null counts as absent). */
static uint32_t member(const sigil_json *d, uint32_t obj, const char *key)
{
    uint32_t t = sigil_json_get(d, obj, key);
    return t != 0 && sigil_json_type_of(d, t) == SIGIL_JSON_NULL ? 0 : t;
}

/* ---- integer members, by table ---- */

typedef enum { U32, U64, BOOL } num_kind;

typedef struct {
    const char *name;
    num_kind kind;
    size_t offset; /* in dydx_order */
    uint64_t min, max;
} num_field;

#define U32F(n, f, lo, hi)                                                                         \
    {                                                                                              \
        n, U32, offsetof(dydx_order, f), lo, hi                                                    \
    }
#define U64F(n, f, lo)                                                                             \
    {                                                                                              \
        n, U64, offsetof(dydx_order, f), lo, UINT64_MAX                                            \
    }

/* Members both messages carry (the order id). */
static const num_field ID_FIELDS[] = {
    U32F("subaccount_number", id.subaccount_number, 0, SUBACCOUNT_MAX),
    U32F("client_id", id.client_id, 0, UINT32_MAX),
    U32F("clob_pair_id", id.clob_pair_id, 0, UINT32_MAX),
    U32F("order_flags", id.order_flags, 0, UINT32_MAX),
    U32F("good_til_block", good_til_block, 1, UINT32_MAX),
    U32F("good_til_block_time", good_til_block_time, 1, UINT32_MAX),
};

static const num_field ORDER_FIELDS[] = {
    U32F("side", side, 1, 2),
    U64F("quantums", quantums, 1),
    U64F("subticks", subticks, 1),
    U32F("time_in_force", time_in_force, 0, 3),
    {"reduce_only", BOOL, offsetof(dydx_order, reduce_only), 0, 1},
    U32F("client_metadata", client_metadata, 0, UINT32_MAX),
    U32F("condition_type", condition_type, 0, 2),
    U64F("conditional_order_trigger_subticks", conditional_order_trigger_subticks, 1),
};

static int read_num(dydx_order *o, const sigil_json *d, uint32_t obj, const num_field *f,
                    const char *where)
{
    uint32_t t = member(d, obj, f->name);
    uint64_t v = 0;
    uint8_t *dst = (uint8_t *)o + f->offset;
    if (t == 0)
        return 0;
    if (f->kind == BOOL) {
        GUARD(sigil_json_expect(d, t, SIGIL_JSON_TRUE, where, f->name));
        bool b = sigil_json_type_of(d, t) == SIGIL_JSON_TRUE;
        memcpy(dst, &b, sizeof(b));
        return 0;
    }
    GUARD(sigil_json_get_u64(d, obj, f->name, true, &v, NULL, where));
    ENSURE(v >= f->min && v <= f->max, SIGIL_E_OUT_OF_RANGE, "%s.%s: must be %llu..%llu", where,
           f->name, (unsigned long long)f->min, (unsigned long long)f->max);
    if (f->kind == U32) {
        uint32_t w = (uint32_t)v;
        memcpy(dst, &w, sizeof(w));
    } else {
        memcpy(dst, &v, sizeof(v));
    }
    return 0;
}

static int read_nums(dydx_order *o, const sigil_json *d, uint32_t obj, const num_field *f, size_t n,
                     const char *where)
{
    for (size_t i = 0; i < n; i++)
        GUARD(read_num(o, d, obj, &f[i], where));
    return 0;
}

/* ---- strings ---- */

/* A decoded string member into dst (cap bytes and a NUL); *n = 0 when absent. */
static int read_text(char *dst, size_t cap, size_t *n, const sigil_json *d, uint32_t obj,
                     const char *key, bool required, const char *where)
{
    uint32_t t;
    sigil_buf b;
    *n = 0;
    dst[0] = '\0';
    GUARD(sigil_json_get_str(d, obj, key, required, &t, where));
    if (t == 0)
        return 0;
    sigil_buf_init(&b, dst, cap);
    if (sigil_json_str(d, t, &b) != 0)
        BAIL(SIGIL_E_OUT_OF_RANGE, "%s.%s: longer than %zu bytes", where, key, cap);
    dst[b.len] = '\0';
    *n = b.len;
    return 0;
}

static int read_address(char *dst, size_t *n, const sigil_json *d, uint32_t obj, const char *key,
                        bool required, const char *where)
{
    char what[64];
    (void)snprintf(what, sizeof(what), "%s.%s", where, key);
    GUARD(read_text(dst, DYDX_ADDR_MAX, n, d, obj, key, required, where));
    return *n == 0 && !required ? 0 : sigil_dydx_address_check(dst, *n, what);
}

/* ---- the order ---- */

/* Short-term orders expire by block height, stateful ones by time. */
static int check_good_til(const dydx_order *o, const char *where)
{
    bool short_term = o->id.order_flags == DYDX_FLAG_SHORT_TERM;
    ENSURE(short_term || o->id.order_flags == DYDX_FLAG_LONG_TERM ||
               o->id.order_flags == DYDX_FLAG_CONDITIONAL,
           SIGIL_E_BAD_FIELD,
           "%s.order_flags: expected 0 (short-term), 32 (conditional) or 64 (long-term)", where);
    if (short_term) {
        ENSURE(o->good_til_block != 0, SIGIL_E_MISSING_FIELD,
               "%s.good_til_block: required for short-term orders (order_flags 0)", where);
        ENSURE(o->good_til_block_time == 0, SIGIL_E_BAD_FIELD,
               "%s.good_til_block_time: not allowed for short-term orders", where);
    } else {
        ENSURE(o->good_til_block_time != 0, SIGIL_E_MISSING_FIELD,
               "%s.good_til_block_time: required for long-term and conditional orders", where);
        ENSURE(o->good_til_block == 0, SIGIL_E_BAD_FIELD,
               "%s.good_til_block: only for short-term orders (order_flags 0)", where);
    }
    return 0;
}

static int read_order_id(dydx_order *o, const sigil_json *d, uint32_t obj, const char *where)
{
    GUARD(read_address(o->id.owner, &o->id.owner_len, d, obj, "owner", true, where));
    GUARD(read_nums(o, d, obj, ID_FIELDS, SIGIL_ARRAY_LEN(ID_FIELDS), where));
    return check_good_til(o, where);
}

/* Conditional orders (flags 32) carry a condition and a trigger; others none. */
static int check_condition(const dydx_order *o, const char *where)
{
    bool conditional = o->id.order_flags == DYDX_FLAG_CONDITIONAL;
    bool has = o->condition_type != 0 || o->conditional_order_trigger_subticks != 0;
    ENSURE(conditional || !has, SIGIL_E_BAD_FIELD,
           "%s: condition_type and conditional_order_trigger_subticks are for conditional "
           "orders (order_flags 32)",
           where);
    ENSURE(!conditional || (o->condition_type != 0 && o->conditional_order_trigger_subticks != 0),
           SIGIL_E_MISSING_FIELD,
           "%s: a conditional order needs condition_type (1 stop loss, 2 take profit) and "
           "conditional_order_trigger_subticks",
           where);
    return 0;
}

static int read_builder(dydx_order *o, const sigil_json *d, uint32_t obj)
{
    static const sigil_json_field FIELDS[] = {{"builder_address", true}, {"fee_ppm", false}};
    const char *w = "request.place_order.builder_code";
    uint32_t t = member(d, obj, "builder_code");
    uint64_t fee = 0;
    if (t == 0)
        return 0;
    GUARD(sigil_json_check_fields(d, t, FIELDS, SIGIL_ARRAY_LEN(FIELDS), w));
    GUARD(read_address(o->builder_address, &o->builder_address_len, d, t, "builder_address", true,
                       w));
    GUARD(sigil_json_get_u64(d, t, "fee_ppm", false, &fee, NULL, w));
    ENSURE(fee <= UINT32_MAX, SIGIL_E_OUT_OF_RANGE, "%s.fee_ppm: must be 0..%u", w, UINT32_MAX);
    o->builder_fee_ppm = (uint32_t)fee;
    o->has_builder = true;
    return 0;
}

/* The members of MsgPlaceOrder; the first ORDER_ID_MEMBERS are also those
 * of MsgCancelOrder. */
#define ORDER_ID_MEMBERS 7
static const sigil_json_field PLACE_FIELDS[] = {
    {"owner", true},
    {"subaccount_number", true},
    {"client_id", true},
    {"clob_pair_id", true},
    {"order_flags", true},
    {"good_til_block", false},
    {"good_til_block_time", false},
    {"side", true},
    {"quantums", true},
    {"subticks", true},
    {"time_in_force", false},
    {"reduce_only", false},
    {"client_metadata", false},
    {"condition_type", false},
    {"conditional_order_trigger_subticks", false},
    {"builder_code", false},
    {"order_router_address", false},
};

static int parse_place(dydx_tx *tx, const sigil_json *d, uint32_t obj)
{
    const char *w = "request.place_order";
    dydx_order *o = &tx->order;
    GUARD(sigil_json_check_fields(d, obj, PLACE_FIELDS, SIGIL_ARRAY_LEN(PLACE_FIELDS), w));
    GUARD(read_order_id(o, d, obj, w));
    GUARD(read_nums(o, d, obj, ORDER_FIELDS, SIGIL_ARRAY_LEN(ORDER_FIELDS), w));
    GUARD(check_condition(o, w));
    GUARD(read_builder(o, d, obj));
    GUARD(read_address(o->order_router_address, &o->order_router_address_len, d, obj,
                       "order_router_address", false, w));
    tx->kind = DYDX_MSG_PLACE_ORDER;
    return 0;
}

static int parse_cancel(dydx_tx *tx, const sigil_json *d, uint32_t obj)
{
    const char *w = "request.cancel_order";
    GUARD(sigil_json_check_fields(d, obj, PLACE_FIELDS, ORDER_ID_MEMBERS, w));
    GUARD(read_order_id(&tx->order, d, obj, w));
    tx->kind = DYDX_MSG_CANCEL_ORDER;
    return 0;
}

typedef int (*parse_msg_fn)(dydx_tx *tx, const sigil_json *d, uint32_t obj);

static const struct {
    const char *member;
    parse_msg_fn parse;
} MSGS[] = {
    {"place_order", parse_place},
    {"cancel_order", parse_cancel},
};

static int parse_msg(dydx_tx *tx, const sigil_json *d, uint32_t root)
{
    size_t found = SIGIL_ARRAY_LEN(MSGS);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MSGS); i++) {
        if (member(d, root, MSGS[i].member) == 0)
            continue;
        ENSURE(found == SIGIL_ARRAY_LEN(MSGS), SIGIL_E_BAD_REQUEST,
               "request: exactly one of place_order and cancel_order (one message per "
               "transaction)");
        found = i;
    }
    ENSURE(found < SIGIL_ARRAY_LEN(MSGS), SIGIL_E_MISSING_FIELD,
           "request: place_order or cancel_order required");
    uint32_t obj = sigil_json_get(d, root, MSGS[found].member);
    return MSGS[found].parse(tx, d, obj);
}

/* ---- transaction envelope ---- */

/* The items of an optional array member, at most max, through fn. */
typedef int (*item_fn)(dydx_tx *tx, const sigil_json *d, uint32_t item, size_t i);

static int each_item(size_t *n, dydx_tx *tx, const sigil_json *d, uint32_t obj, const char *where,
                     const char *key, size_t max, item_fn fn)
{
    uint32_t arr = member(d, obj, key);
    *n = 0;
    if (arr == 0)
        return 0;
    GUARD(sigil_json_expect(d, arr, SIGIL_JSON_ARRAY, where, key));
    for (uint32_t t = sigil_json_first(d, arr); t != 0; t = sigil_json_sibling(d, arr, t)) {
        ENSURE(*n < max, SIGIL_E_OUT_OF_RANGE, "%s.%s: at most %zu items", where, key, max);
        GUARD(fn(tx, d, t, *n));
        ++*n;
    }
    return 0;
}

static int read_authenticator(dydx_tx *tx, const sigil_json *d, uint32_t item, size_t i)
{
    return sigil_json_tok_u64(d, item, &tx->authenticators[i], "request.authenticators[]");
}

/* Cosmos SDK denominations: [a-zA-Z][a-zA-Z0-9/:._-]{2,127}. */
static bool denom_ok(const char *s, size_t n)
{
    if (n < 3 || n > DYDX_DENOM_MAX || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("/:._-", c) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

static bool amount_ok(const char *s, size_t n)
{
    if (n == 0 || (s[0] == '0' && n > 1))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int read_coin(dydx_tx *tx, const sigil_json *d, uint32_t obj, size_t i)
{
    static const sigil_json_field FIELDS[] = {{"denom", true}, {"amount", true}};
    const char *w = "request.fee.amount[]";
    dydx_coin *c = &tx->fee[i];
    GUARD(sigil_json_check_fields(d, obj, FIELDS, SIGIL_ARRAY_LEN(FIELDS), w));
    GUARD(read_text(c->denom, DYDX_DENOM_MAX, &c->denom_len, d, obj, "denom", true, w));
    ENSURE(denom_ok(c->denom, c->denom_len), SIGIL_E_BAD_FIELD,
           "%s.denom: expected a Cosmos denomination ([a-zA-Z][a-zA-Z0-9/:._-]{2,127})", w);
    GUARD(read_text(c->amount, DYDX_AMOUNT_MAX, &c->amount_len, d, obj, "amount", true, w));
    ENSURE(amount_ok(c->amount, c->amount_len), SIGIL_E_BAD_FIELD,
           "%s.amount: expected a decimal integer string without leading zeros", w);
    return 0;
}

/* fee: {amount: [{denom, amount}], gas: n}; orders usually go with no fee. */
static int parse_fee(dydx_tx *tx, const sigil_json *d, uint32_t root)
{
    static const sigil_json_field FIELDS[] = {{"amount", false}, {"gas", false}};
    uint32_t fee = member(d, root, "fee");
    bool has_gas = false;
    tx->gas_limit = DYDX_DEFAULT_GAS;
    if (fee == 0)
        return 0;
    GUARD(sigil_json_check_fields(d, fee, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request.fee"));
    GUARD(sigil_json_get_u64(d, fee, "gas", false, &tx->gas_limit, &has_gas, "request.fee"));
    ENSURE(!has_gas || tx->gas_limit > 0, SIGIL_E_OUT_OF_RANGE, "request.fee.gas: must be > 0");
    if (!has_gas)
        tx->gas_limit = DYDX_DEFAULT_GAS;
    return each_item(&tx->n_fee, tx, d, fee, "request.fee", "amount", DYDX_COINS_MAX, read_coin);
}

static int parse_chain(dydx_tx *tx, const sigil_json *d, uint32_t root, sigil_network net)
{
    uint32_t t;
    tx->chain_id = sigil_dydx_chain_id(net);
    ENSURE(tx->chain_id != NULL, SIGIL_E_INTERNAL, "unexpected network");
    GUARD(sigil_json_get_str(d, root, "chain_id", true, &t, "request"));
    ENSURE(sigil_json_str_eq(d, t, tx->chain_id), SIGIL_E_BAD_FIELD,
           "request.chain_id: this key signs for %s (--network %s)", tx->chain_id,
           net == SIGIL_NET_MAINNET ? "mainnet" : "testnet");
    return 0;
}

int sigil_dydx_request_parse(dydx_tx *tx, const sigil_json *d, uint32_t root, sigil_network net)
{
    static const sigil_json_field FIELDS[] = {
        {"chain_id", true},        {"account_number", true}, {"sequence", true},
        {"authenticators", false}, {"memo", false},          {"fee", false},
        {"timestamp", false},      {"place_order", false},   {"cancel_order", false},
    };
    uint64_t ts;
    memset(tx, 0, sizeof(*tx));
    GUARD(sigil_json_check_fields(d, root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(parse_chain(tx, d, root, net));
    GUARD(
        sigil_json_get_u64(d, root, "account_number", true, &tx->account_number, NULL, "request"));
    GUARD(sigil_json_get_u64(d, root, "sequence", true, &tx->sequence, NULL, "request"));
    GUARD(sigil_request_timestamp(&ts, d, root)); /* not signed: the freshness check's */
    GUARD(each_item(&tx->n_authenticators, tx, d, root, "request", "authenticators", DYDX_AUTH_MAX,
                    read_authenticator));
    GUARD(read_text(tx->memo, DYDX_MEMO_MAX, &tx->memo_len, d, root, "memo", false, "request"));
    GUARD(parse_fee(tx, d, root));
    return parse_msg(tx, d, root);
}
