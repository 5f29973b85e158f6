/*
 * What a request asks for (libsigil-core, untrusted input): the venue table
 * of inspectors, the request-level helpers they share (endpoint, query and
 * body, per-thread arena and nested JSON, routes) and the per-action reading
 * of path-bound venues. Nothing is allocated; strings that need decoding go
 * to a per-thread arena reset for each request.
 */
#include <stdio.h>
#include <string.h>

#include "policy/inspect_internal.h"

#define ARENA_BYTES (256 * 1024)
#define NESTED_TOKENS 8192

static _Thread_local char tl_arena[ARENA_BYTES];
static _Thread_local size_t tl_arena_len;
static _Thread_local sigil_json_tok tl_nested_toks[NESTED_TOKENS];
static _Thread_local sigil_query tl_query, tl_form;
static _Thread_local sigil_json tl_body;

/* ---- per-thread arena ---- */

/* The rest of the arena as a buffer; arena_commit keeps what was written. */
static void arena_buf(sigil_buf *b)
{
    sigil_buf_init(b, tl_arena + tl_arena_len, (size_t)ARENA_BYTES - tl_arena_len);
}

static const char *arena_commit(const sigil_buf *b)
{
    const char *p = tl_arena + tl_arena_len;
    tl_arena_len += b->len;
    return p;
}

int insp_pct_decode(sigil_slice *out, sigil_slice raw, const char *what)
{
    sigil_buf b;
    arena_buf(&b);
    GUARD(sigil_pct_decode(&b, raw.p, raw.len, true, what));
    out->len = b.len;
    out->p = arena_commit(&b);
    return 0;
}

int insp_json_text(sigil_slice *out, const sigil_json *d, uint32_t t)
{
    sigil_buf b;
    if (sigil_json_str_is_plain(d, t)) {
        *out = sigil_json_raw(d, t);
        return 0;
    }
    arena_buf(&b);
    GUARD(sigil_json_str(d, t, &b));
    out->len = b.len;
    out->p = arena_commit(&b);
    return 0;
}

int insp_json_nested(sigil_json *out, const char *text, size_t len, const char *what)
{
    if (sigil_json_parse(out, text, len, tl_nested_toks, NESTED_TOKENS) == 0)
        return 0;
    char why[160];
    (void)snprintf(why, sizeof(why), "%s", sigil_errmsg());
    BAIL(sigil_errno(), "%s: %s", what, why);
}

/* ---- the request ---- */

bool insp_has_member(const insp_ctx *c, const char *key)
{
    return sigil_json_get(c->req, 0, key) != 0;
}

/* A top-level string member's value ("" when absent). */
static int request_text(sigil_slice *out, const insp_ctx *c, const char *key)
{
    uint32_t t;
    *out = (sigil_slice){"", 0};
    GUARD(sigil_json_get_str(c->req, 0, key, false, &t, "request"));
    return t == 0 ? 0 : insp_json_text(out, c->req, t);
}

static int load_body(insp_ctx *c, insp_body_kind kind)
{
    sigil_slice body;
    GUARD(request_text(&body, c, "body"));
    if (body.len == 0)
        return 0;
    if (kind == INSP_BODY_KRAKEN) /* kraken: JSON when it starts with '{' (docs/CLI.md) */
        kind = body.p[0] == '{' ? INSP_BODY_JSON : INSP_BODY_FORM;
    if (kind == INSP_BODY_FORM) {
        GUARD(sigil_query_parse(&tl_form, body.p, body.len, "request.body"));
        c->form = &tl_form;
        return 0;
    }
    GUARD(insp_json_nested(&tl_body, body.p, body.len, "request.body"));
    c->body = &tl_body;
    return 0;
}

int insp_cex_load(insp_ctx *c, insp_body_kind body)
{
    sigil_request_info *o = c->out;
    sigil_slice query;
    size_t n;
    GUARD(policy_request_endpoint(&o->method, o->path, sizeof(o->path) - 1, &n, c->req));
    ENSURE(o->method != 0, SIGIL_E_BAD_FIELD, "request.method: expected GET, POST, PUT or DELETE");
    o->has_path = true;
    GUARD(request_text(&query, c, "query"));
    GUARD(sigil_query_parse(&tl_query, query.p, query.len, "request.query"));
    c->query = &tl_query;
    return load_body(c, body);
}

/* ---- routes ---- */

static char fold(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return (char)(ch - 'A' + 'a');
    return ch;
}

/* '*' is one non-empty segment; a final "**" segment is anything below (or
 * nothing). */
static bool route_matches(const char *path, const char *pattern)
{
    if (pattern == NULL)
        return true;
    while (*pattern != '\0') {
        if (strcmp(pattern, "/**") == 0)
            return *path == '\0' || *path == '/';
        if (*pattern == '*') {
            if (*path == '\0' || *path == '/')
                return false;
            while (*path != '\0' && *path != '/')
                path++;
            pattern++;
            continue;
        }
        if (*path == '\0' || fold(*pattern) != fold(*path))
            return false;
        pattern++;
        path++;
    }
    return *path == '\0';
}

const insp_route *insp_route_find(const insp_ctx *c, const insp_route *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool action = (routes[i].actions >> c->action) & 1u;
        bool endpoint = c->out->has_path ? (routes[i].methods & c->out->method) &&
                                               route_matches(c->out->path, routes[i].pattern)
                                         : routes[i].pattern == NULL;
        if (action && endpoint)
            return &routes[i];
    }
    return NULL;
}

/* ---- per action ---- */

typedef int (*action_fn)(insp_ctx *c, const insp_venue *v);

static int read_orders(insp_ctx *c, const insp_venue *v)
{
    const insp_route *r = insp_route_find(c, v->routes, v->n_routes);
    if (r == NULL)
        return 0;
    GUARD(insp_route_read(c, r));
    c->out->orders_known = !c->unknown;
    if (c->unknown)
        c->out->n_orders = 0;
    return 0;
}

static int read_destinations(insp_ctx *c, const insp_venue *v)
{
    insp_src s;
    insp_src_cex(&s, c);
    return insp_read_names(c, &s, v->destinations, v->n_destinations, false);
}

static int read_agents(insp_ctx *c, const insp_venue *v)
{
    insp_src s;
    insp_src_cex(&s, c);
    return insp_read_names(c, &s, v->agents, v->n_agents, true);
}

/* Actions not listed read nothing beyond the path. */
static const action_fn BY_ACTION[SIGIL_ACTION_COUNT_] = {
    [SIGIL_ACTION_ORDER] = read_orders,          [SIGIL_ACTION_MODIFY] = read_orders,
    [SIGIL_ACTION_CANCEL] = read_orders,         [SIGIL_ACTION_WITHDRAW] = read_destinations,
    [SIGIL_ACTION_TRANSFER] = read_destinations, [SIGIL_ACTION_AGENT] = read_agents,
};

int insp_by_action(insp_ctx *c, const insp_venue *v)
{
    action_fn f = BY_ACTION[c->action];
    return f == NULL ? 0 : f(c, v);
}

/* ---- the venue table ---- */

static int insp_nothing(insp_ctx *c)
{
    (void)c;
    return 0;
}

typedef struct {
    const char *name;
    insp_fn inspect;
} venue_inspector;

int insp_paradex(insp_ctx *c); /* inspect_paradex.c */

static const venue_inspector VENUES[] = {
    {"binance", insp_binance},
    {"aster", insp_aster},
    {"eip712", insp_nothing},
    {"eip191", insp_nothing},
    {"bybit", insp_bybit},
    {"okx", insp_okx},
    {"kucoinfutures", insp_kucoinfutures},
    {"kucoin", insp_kucoin},
    {"hyperliquid", insp_hyperliquid},
    {"kraken", insp_kraken},
    {"bitget", insp_bitget},
    {"gate", insp_gate},
    {"deribit", insp_deribit},
    {"bitfinex", insp_bitfinex},
    {"coinbase", insp_coinbase},
    {"paradex", insp_paradex},
    {"dydx", insp_dydx},
};

int sigil_request_inspect(sigil_request_info *out, const char *venue, sigil_action action,
                          const char *request, size_t len)
{
    sigil_json d;
    const venue_inspector *v = NULL;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; venue != NULL && i < SIGIL_ARRAY_LEN(VENUES); i++)
        if (strcmp(VENUES[i].name, venue) == 0)
            v = &VENUES[i];
    ENSURE(v != NULL, SIGIL_E_UNKNOWN_VENUE, "venue: no inspector for this venue");
    ENSURE((unsigned)action < SIGIL_ACTION_COUNT_, SIGIL_E_INTERNAL, "inspect: bad action");
    GUARD(policy_request_parse(&d, request, len));
    tl_arena_len = 0;
    insp_ctx c = {.out = out, .action = action, .req = &d};
    if (v->inspect(&c) == 0)
        return 0;
    sigil_err e = sigil_errno();
    char why[200];
    (void)snprintf(why, sizeof(why), "%s", sigil_errmsg());
    memset(out, 0, sizeof(*out)); /* nothing half-read reaches the policy */
    BAIL(e, "%s", why);
}
