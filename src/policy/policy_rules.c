/*
 * The policy's rule members (libsigil-core): http method and path lists,
 * symbols with their caps, destinations, agents, the hyperliquid rules and
 * the per-key limits. Each member is one parser in a table; nested objects
 * use the same table walker as the top level (policy.c), so unknown
 * members, duplicates, nulls and wrong types are refused everywhere with the
 * member's full path in the message.
 */
#include <stdio.h>
#include <string.h>

#include "policy/policy_internal.h"

/* ---- the table walker ---- */

/* out = a || b || c, cut to fit (member paths only name things in messages). */
static void path_join(char out[POLICY_PATH_MAX], const char *a, const char *b, const char *c)
{
    size_t n = 0;
    const char *parts[] = {a, b, c};
    for (size_t i = 0; i < 3; i++)
        for (const char *p = parts[i]; *p != '\0' && n + 1 < POLICY_PATH_MAX; p++)
            out[n++] = *p;
    out[n] = '\0';
}

int policy_parse_object(void *ctx, const sigil_json *d, uint32_t obj, const policy_member *members,
                        size_t n, const char *path)
{
    uint64_t seen = 0;
    char sub[POLICY_PATH_MAX];
    GUARD(sigil_json_expect(d, obj, SIGIL_JSON_OBJECT, path, NULL));
    for (uint32_t k = sigil_json_first(d, obj); k != 0; k = sigil_json_sibling(d, obj, k)) {
        size_t i = 0;
        while (i < n && !sigil_json_str_eq(d, k, members[i].name))
            i++;
        if (i == n) {
            char name[48];
            sigil_json_key_for_message(d, k, name, sizeof(name));
            BAIL(SIGIL_E_UNKNOWN_FIELD, "%s.%s: unknown field", path, name);
        }
        path_join(sub, path, ".", members[i].name);
        GUARD(members[i].parse(ctx, d, sigil_json_value(k), sub));
        seen |= 1ull << i;
    }
    for (size_t i = 0; i < n; i++)
        ENSURE(!members[i].required || (seen >> i & 1), SIGIL_E_MISSING_FIELD,
               "%s.%s: required field missing", path, members[i].name);
    ENSURE(seen != 0 || n == 0, SIGIL_E_BAD_FIELD, "%s: empty object", path);
    return 0;
}

/* ---- typed values ---- */

int policy_get_uint(uint64_t *out, const sigil_json *d, uint32_t v, const char *path, uint64_t min,
                    uint64_t max)
{
    GUARD(sigil_json_tok_u64(d, v, out, path));
    ENSURE(*out >= min && *out <= max, SIGIL_E_OUT_OF_RANGE, "%s: must be in [%llu, %llu]", path,
           (unsigned long long)min, (unsigned long long)max);
    return 0;
}

int policy_get_str(char *dst, size_t cap, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_buf b;
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_STRING, path, NULL));
    sigil_buf_init(&b, dst, cap - 1);
    if (sigil_json_str(d, v, &b) != 0)
        BAIL(SIGIL_E_BAD_FIELD, "%s: longer than %zu bytes", path, cap - 1);
    dst[b.len] = '\0';
    ENSURE(b.len > 0, SIGIL_E_BAD_FIELD, "%s: empty", path);
    ENSURE(memchr(dst, '\0', b.len) == NULL, SIGIL_E_BAD_FIELD, "%s: contains NUL", path);
    return 0;
}

static int get_printable(char *dst, size_t cap, const sigil_json *d, uint32_t v, const char *path)
{
    GUARD(policy_get_str(dst, cap, d, v, path));
    for (const char *c = dst; *c != '\0'; c++)
        ENSURE(*c > 0x20 && *c < 0x7f, SIGIL_E_BAD_FIELD, "%s: only printable ASCII is allowed",
               path);
    return 0;
}

static int get_decimal(sigil_dec *out, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_slice raw;
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_STRING, path, NULL));
    ENSURE(!d->toks[v].escaped, SIGIL_E_BAD_FIELD, "%s: not a decimal", path);
    raw = sigil_json_raw(d, v);
    return sigil_dec_parse(out, raw.p, raw.len, path);
}

static int get_bool(bool *out, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_json_type t = sigil_json_type_of(d, v);
    ENSURE(t == SIGIL_JSON_TRUE || t == SIGIL_JSON_FALSE, SIGIL_E_BAD_FIELD,
           "%s: expected true or false", path);
    *out = t == SIGIL_JSON_TRUE;
    return 0;
}

/* Arrays of distinct strings: each item through `item`, duplicates refused. */
typedef int (*item_fn)(void *ctx, unsigned idx, const sigil_json *d, uint32_t t, const char *path);

static int get_array(void *ctx, const sigil_json *d, uint32_t v, const char *path, unsigned min,
                     unsigned max, item_fn item)
{
    char sub[POLICY_PATH_MAX];
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_ARRAY, path, NULL));
    uint32_t n = d->toks[v].size;
    ENSURE(n >= min && n <= max, SIGIL_E_BAD_FIELD, "%s: expected %u to %u entries", path, min,
           max);
    unsigned idx = 0;
    for (uint32_t t = sigil_json_first(d, v); t != 0; t = sigil_json_sibling(d, v, t), idx++) {
        char index[16];
        (void)snprintf(index, sizeof(index), "[%u]", idx);
        path_join(sub, path, index, "");
        GUARD(item(ctx, idx, d, t, sub));
    }
    return 0;
}

/* ---- name lists (destinations, agents, vaults, user actions) ---- */

typedef struct {
    sigil_policy_name *names;
    unsigned *n;
} name_list;

static int name_item(void *ctx, unsigned idx, const sigil_json *d, uint32_t t, const char *path)
{
    name_list *l = ctx;
    sigil_policy_name *nm = &l->names[idx];
    GUARD(get_printable(nm->v, sizeof(nm->v), d, t, path));
    for (unsigned i = 0; i < idx; i++)
        ENSURE(!policy_name_eq(l->names[i].v, nm->v), SIGIL_E_BAD_FIELD, "%s: duplicate entry %s",
               path, nm->v);
    *l->n = idx + 1;
    return 0;
}

static int names(sigil_policy_name *out, unsigned *n, const sigil_json *d, uint32_t v,
                 const char *path, unsigned min)
{
    name_list l = {out, n};
    *n = 0;
    return get_array(&l, d, v, path, min, SIGIL_POLICY_MAX_NAMES, name_item);
}

int policy_parse_destinations(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    return names(p->destinations, &p->n_destinations, d, v, path, 0);
}

/* Each entry a 0x address of 40 hex digits. */
static int addresses(sigil_policy_name *out, unsigned *n, const sigil_json *d, uint32_t v,
                     const char *path)
{
    GUARD(names(out, n, d, v, path, 0));
    for (unsigned i = 0; i < *n; i++)
        ENSURE(policy_is_address(out[i].v), SIGIL_E_BAD_ADDRESS,
               "%s[%u]: expected a 0x address of 40 hex digits", path, i);
    return 0;
}

int policy_parse_agents(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    return addresses(p->agents, &p->n_agents, d, v, path);
}

/* ---- http ---- */

static const struct {
    const char *name;
    uint8_t bit;
} METHODS[] = {{"GET", SIGIL_METHOD_GET},
               {"POST", SIGIL_METHOD_POST},
               {"PUT", SIGIL_METHOD_PUT},
               {"DELETE", SIGIL_METHOD_DELETE}};

uint8_t policy_method_bit(const char *name)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(METHODS); i++)
        if (strcmp(name, METHODS[i].name) == 0)
            return METHODS[i].bit;
    return 0;
}

const char *policy_method_name(uint8_t bit)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(METHODS); i++)
        if (METHODS[i].bit == bit)
            return METHODS[i].name;
    return "?";
}

static int method_item(void *ctx, unsigned idx, const sigil_json *d, uint32_t t, const char *path)
{
    uint8_t *mask = ctx;
    char name[8];
    (void)idx;
    GUARD(policy_get_str(name, sizeof(name), d, t, path));
    uint8_t bit = policy_method_bit(name);
    ENSURE(bit != 0, SIGIL_E_BAD_FIELD, "%s: expected GET, POST, PUT or DELETE", path);
    ENSURE(!(*mask & bit), SIGIL_E_BAD_FIELD, "%s: duplicate method %s", path, name);
    *mask |= bit;
    return 0;
}

typedef struct {
    sigil_policy_path *paths;
    unsigned *n;
} path_list;

static int path_item(void *ctx, unsigned idx, const sigil_json *d, uint32_t t, const char *path)
{
    path_list *l = ctx;
    char *dst = l->paths[idx].v;
    GUARD(get_printable(dst, sizeof(l->paths[idx].v), d, t, path));
    ENSURE(dst[0] == '/', SIGIL_E_BAD_FIELD, "%s: must start with '/'", path);
    ENSURE(strpbrk(dst, "?#%") == NULL, SIGIL_E_BAD_FIELD,
           "%s: a path, without query, fragment or percent-escapes", path);
    for (unsigned i = 0; i < idx; i++)
        ENSURE(strcmp(l->paths[i].v, dst) != 0, SIGIL_E_BAD_FIELD, "%s: duplicate path %s", path,
               dst);
    *l->n = idx + 1;
    return 0;
}

static int parse_methods(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    p->methods = 0;
    return get_array(&p->methods, d, v, path, 1, 4, method_item);
}

static int parse_allow_paths(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    path_list l = {p->allow_paths, &p->n_allow_paths};
    p->has_allow_paths = true;
    return get_array(&l, d, v, path, 1, SIGIL_POLICY_MAX_PATHS, path_item);
}

static int parse_deny_paths(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    path_list l = {p->deny_paths, &p->n_deny_paths};
    return get_array(&l, d, v, path, 1, SIGIL_POLICY_MAX_PATHS, path_item);
}

static const policy_member HTTP[] = {
    {"methods", false, parse_methods},
    {"allow_paths", false, parse_allow_paths},
    {"deny_paths", false, parse_deny_paths},
};

int policy_parse_http(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    p->has_http = true;
    return policy_parse_object(p, d, v, HTTP, SIGIL_ARRAY_LEN(HTTP), path);
}

/* ---- symbols ---- */

static int sym_max_qty(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    return get_decimal(&((sigil_policy_symbol *)ctx)->max_qty, d, v, path);
}

static int sym_max_notional(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy_symbol *s = ctx;
    s->has_max_notional = true;
    return get_decimal(&s->max_notional, d, v, path);
}

static int sym_multiplier(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy_symbol *s = ctx;
    s->has_multiplier = true;
    GUARD(get_decimal(&s->multiplier, d, v, path));
    ENSURE(!sigil_dec_is_zero(&s->multiplier), SIGIL_E_OUT_OF_RANGE, "%s: must not be zero", path);
    return 0;
}

static int sym_size_decimals(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    uint64_t n;
    GUARD(policy_get_uint(&n, d, v, path, 0, 30));
    ((sigil_policy_symbol *)ctx)->size_decimals = (int)n;
    return 0;
}

static int side_item(void *ctx, unsigned idx, const sigil_json *d, uint32_t t, const char *path)
{
    uint8_t *sides = ctx;
    uint8_t bit = sigil_json_str_eq(d, t, "buy")    ? SIGIL_SIDES_BUY
                  : sigil_json_str_eq(d, t, "sell") ? SIGIL_SIDES_SELL
                                                    : 0;
    (void)idx;
    ENSURE(bit != 0, SIGIL_E_BAD_FIELD, "%s: expected \"buy\" or \"sell\"", path);
    ENSURE(!(*sides & bit), SIGIL_E_BAD_FIELD, "%s: duplicate side", path);
    *sides |= bit;
    return 0;
}

static int sym_sides(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy_symbol *s = ctx;
    s->sides = 0;
    return get_array(&s->sides, d, v, path, 1, 2, side_item);
}

static int sym_reduce_only(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    return get_bool(&((sigil_policy_symbol *)ctx)->reduce_only, d, v, path);
}

static const policy_member SYMBOL[] = {
    {"max_qty", true, sym_max_qty},        {"max_notional", false, sym_max_notional},
    {"multiplier", false, sym_multiplier}, {"size_decimals", false, sym_size_decimals},
    {"sides", false, sym_sides},           {"reduce_only", false, sym_reduce_only},
};

int policy_parse_symbols(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    char sub[POLICY_PATH_MAX];
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_OBJECT, path, NULL));
    uint32_t n = d->toks[v].size;
    ENSURE(n >= 1 && n <= SIGIL_POLICY_MAX_SYMBOLS, SIGIL_E_BAD_FIELD,
           "%s: expected 1 to %d symbols", path, SIGIL_POLICY_MAX_SYMBOLS);
    p->has_symbols = true;
    p->n_symbols = 0;
    for (uint32_t k = sigil_json_first(d, v); k != 0; k = sigil_json_sibling(d, v, k)) {
        sigil_policy_symbol *s = &p->symbols[p->n_symbols];
        memset(s, 0, sizeof(*s));
        s->size_decimals = -1;
        s->sides = SIGIL_SIDES_BUY | SIGIL_SIDES_SELL;
        path_join(sub, path, " (a symbol name)", "");
        GUARD(get_printable(s->name, sizeof(s->name), d, k, sub));
        path_join(sub, path, ".", s->name);
        GUARD(policy_parse_object(s, d, sigil_json_value(k), SYMBOL, SIGIL_ARRAY_LEN(SYMBOL), sub));
        p->n_symbols++;
    }
    return 0;
}

/* ---- hyperliquid ---- */

static int hl_vaults(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    return addresses(p->vaults, &p->n_vaults, d, v, path);
}

static int hl_user_actions(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    p->has_user_actions = true;
    return names(p->user_actions, &p->n_user_actions, d, v, path, 1);
}

static const policy_member HYPERLIQUID[] = {
    {"vaults", false, hl_vaults},
    {"user_actions", false, hl_user_actions},
};

int policy_parse_hyperliquid(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    p->has_hyperliquid = true;
    return policy_parse_object(p, d, v, HYPERLIQUID, SIGIL_ARRAY_LEN(HYPERLIQUID), path);
}

/* ---- limits ---- */

static int lim_rate(uint32_t *out, const sigil_json *d, uint32_t v, const char *path)
{
    uint64_t n;
    GUARD(policy_get_uint(&n, d, v, path, 1, 1000000));
    *out = (uint32_t)n;
    return 0;
}

static int lim_requests(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    return lim_rate(&((sigil_policy *)ctx)->requests_per_minute, d, v, path);
}

static int lim_orders(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    return lim_rate(&((sigil_policy *)ctx)->orders_per_minute, d, v, path);
}

static int lim_daily(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    sigil_policy *p = ctx;
    p->has_daily_notional = true;
    return get_decimal(&p->daily_notional, d, v, path);
}

static const policy_member LIMITS[] = {
    {"requests_per_minute", false, lim_requests},
    {"orders_per_minute", false, lim_orders},
    {"daily_notional", false, lim_daily},
};

int policy_parse_limits(void *ctx, const sigil_json *d, uint32_t v, const char *path)
{
    return policy_parse_object(ctx, d, v, LIMITS, SIGIL_ARRAY_LEN(LIMITS), path);
}

/* ---- names ---- */

bool policy_is_address(const char *s)
{
    if (strlen(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return false;
    for (size_t i = 2; i < 42; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

bool policy_name_eq(const char *a, const char *b)
{
    if (policy_is_address(a) && policy_is_address(b)) {
        for (size_t i = 2; i < 42; i++)
            if ((a[i] | 0x20) != (b[i] | 0x20))
                return false;
        return true;
    }
    return strcmp(a, b) == 0;
}
