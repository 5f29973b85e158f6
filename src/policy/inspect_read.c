/*
 * Named values of a request (libsigil-core, untrusted input) read the way the
 * venue reads them: a parameter is looked up in the query, the form body and
 * the JSON body, and one given twice (in two places, or in other letter
 * case) is refused, so the policy checks exactly the value the venue uses.
 * Typed readers for symbols, sides, decimals, flags, orders and names.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/inspect_internal.h"

#define KEY_MAX 128

/* ---- sources ---- */

void insp_src_cex(insp_src *s, const insp_ctx *c)
{
    bool object = c->body != NULL && sigil_json_type_of(c->body, c->body_root) == SIGIL_JSON_OBJECT;
    const char *body_where = c->body_where != NULL ? c->body_where : "request.body";
    memset(s, 0, sizeof(*s));
    s->query = c->query;
    s->form = c->form;
    s->d = object ? c->body : NULL;
    s->obj = c->body_root;
    (void)snprintf(s->where, sizeof(s->where), "%s",
                   c->form != NULL ? "request"
                   : object        ? body_where
                                   : "request.query");
}

void insp_src_json(insp_src *s, const sigil_json *d, uint32_t obj, const char *where)
{
    memset(s, 0, sizeof(*s));
    s->d = d;
    s->obj = obj;
    (void)snprintf(s->where, sizeof(s->where), "%s", where);
}

void insp_src_item(insp_src *s, const insp_src *parent, const char *member, size_t i, uint32_t obj)
{
    memset(s, 0, sizeof(*s));
    s->d = parent->d;
    s->obj = obj;
    (void)snprintf(s->where, sizeof(s->where), "%.60s%s%s[%zu]", parent->where,
                   member != NULL ? "." : "", member != NULL ? member : "", i);
}

const char *insp_what(char *buf, size_t cap, const insp_src *s, const char *name)
{
    (void)snprintf(buf, cap, "%s.%s", s->where, name);
    return buf;
}

/* ---- lookup ---- */

/* The member named exactly name (0 when absent or null); a member spelled
 * like it in other letter case is refused (a venue might read that one). */
static int json_member(uint32_t *out, const insp_src *s, const char *name)
{
    char what[INSP_WHERE_MAX + KEY_MAX];
    size_t n = strlen(name);
    *out = 0;
    if (sigil_json_type_of(s->d, s->obj) != SIGIL_JSON_OBJECT)
        return 0; /* an array has no members */
    for (uint32_t k = sigil_json_first(s->d, s->obj); k != 0;
         k = sigil_json_sibling(s->d, s->obj, k)) {
        char key[KEY_MAX];
        sigil_buf b;
        sigil_buf_init(&b, key, sizeof(key));
        if (sigil_json_str(s->d, k, &b) != 0 || b.len != n || strncasecmp(key, name, n) != 0)
            continue;
        ENSURE(memcmp(key, name, n) == 0, SIGIL_E_BAD_FIELD,
               "%s: a member spelled like %s but in other letter case is not allowed",
               insp_what(what, sizeof(what), s, name), name);
        uint32_t v = sigil_json_value(k);
        *out = sigil_json_type_of(s->d, v) == SIGIL_JSON_NULL ? 0 : v;
    }
    sigil_clear_error();
    return 0;
}

static int value_text(insp_value *v, const char *p, size_t n, const char *what)
{
    ENSURE(n <= INSP_VALUE_MAX, SIGIL_E_BAD_FIELD, "%s: longer than %d bytes", what,
           INSP_VALUE_MAX);
    ENSURE(memchr(p, '\0', n) == NULL, SIGIL_E_BAD_FIELD, "%s: contains NUL", what);
    memcpy(v->text, p, n);
    v->text[n] = '\0';
    v->len = n;
    return 0;
}

static int query_value(insp_value *v, const sigil_query_param *p, const char *what)
{
    char buf[INSP_VALUE_MAX];
    sigil_buf b;
    sigil_buf_init(&b, buf, sizeof(buf));
    if (sigil_pct_decode(&b, p->value.p, p->value.len, true, what) != 0) {
        ENSURE(sigil_errno() != SIGIL_E_TOO_LARGE, SIGIL_E_BAD_FIELD, "%s: longer than %d bytes",
               what, INSP_VALUE_MAX);
        return -1;
    }
    v->type = SIGIL_JSON_STRING;
    return value_text(v, buf, b.len, what);
}

static int json_value(insp_value *v, const sigil_json *d, uint32_t t, const char *what)
{
    sigil_json_type type = sigil_json_type_of(d, t);
    sigil_slice text = {"", 0};
    v->type = (uint8_t)type;
    v->tok = t;
    if (type == SIGIL_JSON_STRING) {
        char buf[INSP_VALUE_MAX];
        sigil_buf b;
        sigil_buf_init(&b, buf, sizeof(buf));
        ENSURE(sigil_json_str(d, t, &b) == 0, SIGIL_E_BAD_FIELD, "%s: longer than %d bytes", what,
               INSP_VALUE_MAX);
        return value_text(v, buf, b.len, what);
    }
    if (type == SIGIL_JSON_NUMBER)
        text = sigil_json_raw(d, t);
    else if (type == SIGIL_JSON_TRUE || type == SIGIL_JSON_FALSE)
        text = (sigil_slice){type == SIGIL_JSON_TRUE ? "true" : "false",
                             type == SIGIL_JSON_TRUE ? 4u : 5u};
    return value_text(v, text.p, text.len, what);
}

/* Where name is: at most one of query, form and JSON. */
static int locate(const sigil_query_param **qp, uint32_t *tok, const insp_src *s, const char *name)
{
    const sigil_query_param *a = NULL, *b = NULL;
    char what[INSP_WHERE_MAX + KEY_MAX];
    *tok = 0;
    insp_what(what, sizeof(what), s, name);
    if (s->query != NULL)
        GUARD(sigil_query_get(&a, s->query, name, what));
    if (s->form != NULL)
        GUARD(sigil_query_get(&b, s->form, name, what));
    if (s->d != NULL)
        GUARD(json_member(tok, s, name));
    int found = (a != NULL) + (b != NULL) + (*tok != 0);
    ENSURE(found <= 1, SIGIL_E_BAD_REQUEST,
           "%s: given both in the query and in the body (the venue's reading is ambiguous)", what);
    *qp = a != NULL ? a : b;
    return 0;
}

int insp_get(insp_value *v, const insp_src *s, const char *name)
{
    const sigil_query_param *p;
    uint32_t t;
    char what[INSP_WHERE_MAX + KEY_MAX];
    v->type = 0;
    v->tok = 0;
    v->len = 0;
    v->text[0] = '\0';
    GUARD(locate(&p, &t, s, name));
    insp_what(what, sizeof(what), s, name);
    if (p != NULL)
        return query_value(v, p, what);
    return t == 0 ? 0 : json_value(v, s->d, t, what);
}

int insp_get_long(sigil_slice *out, bool *present, const insp_src *s, const char *name)
{
    const sigil_query_param *p;
    uint32_t t;
    char what[INSP_WHERE_MAX + KEY_MAX];
    *present = false;
    GUARD(locate(&p, &t, s, name));
    insp_what(what, sizeof(what), s, name);
    if (p != NULL) {
        *present = true;
        return insp_pct_decode(out, p->value, what);
    }
    if (t == 0)
        return 0;
    GUARD(sigil_json_expect(s->d, t, SIGIL_JSON_STRING, what, NULL));
    *present = true;
    return insp_json_text(out, s->d, t);
}

int insp_get_container(uint32_t *out, const insp_src *s, const char *name, sigil_json_type type)
{
    const sigil_query_param *p;
    char what[INSP_WHERE_MAX + KEY_MAX];
    GUARD(locate(&p, out, s, name));
    insp_what(what, sizeof(what), s, name);
    ENSURE(p == NULL, SIGIL_E_BAD_FIELD, "%s: expected %s", what, sigil_json_type_name(type));
    return *out == 0 ? 0 : sigil_json_expect(s->d, *out, type, what, NULL);
}

bool insp_is(const insp_value *v, const char *lit)
{
    return v->type != 0 && strcasecmp(v->text, lit) == 0;
}

bool insp_is_one_of(const insp_value *v, const char *const *lits, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (insp_is(v, lits[i]))
            return true;
    return false;
}

/* ---- typed readers ---- */

int insp_decimal_value(sigil_dec *out, const insp_value *v, const char *what)
{
    ENSURE(v->type == SIGIL_JSON_STRING || v->type == SIGIL_JSON_NUMBER, SIGIL_E_BAD_FIELD,
           "%s: expected a decimal", what);
    return sigil_dec_parse(out, v->text, v->len, what);
}

int insp_decimal(bool *has, sigil_dec *out, const insp_src *s, const char *name)
{
    insp_value v;
    char what[INSP_WHERE_MAX + KEY_MAX];
    GUARD(insp_get(&v, s, name));
    *has = v.type != 0;
    return *has ? insp_decimal_value(out, &v, insp_what(what, sizeof(what), s, name)) : 0;
}

int insp_signed_decimal(bool *has, sigil_dec *out, sigil_side *side, const insp_src *s,
                        const char *name)
{
    insp_value v;
    char what[INSP_WHERE_MAX + KEY_MAX];
    GUARD(insp_get(&v, s, name));
    *has = v.type != 0;
    if (!*has)
        return 0;
    insp_what(what, sizeof(what), s, name);
    ENSURE(v.type == SIGIL_JSON_STRING || v.type == SIGIL_JSON_NUMBER, SIGIL_E_BAD_FIELD,
           "%s: expected a decimal", what);
    bool negative = v.len > 0 && v.text[0] == '-';
    GUARD(sigil_dec_parse(out, v.text + negative, v.len - negative, what));
    *side = sigil_dec_is_zero(out) ? SIGIL_SIDE_NONE : negative ? SIGIL_SIDE_SELL : SIGIL_SIDE_BUY;
    return 0;
}

int insp_side_value(sigil_side *out, const insp_value *v, const char *what)
{
    static const struct {
        const char *name;
        sigil_side side;
    } SIDES[] = {{"buy", SIGIL_SIDE_BUY}, {"sell", SIGIL_SIDE_SELL}};
    for (size_t i = 0; v->type == SIGIL_JSON_STRING && i < SIGIL_ARRAY_LEN(SIDES); i++) {
        if (insp_is(v, SIDES[i].name)) {
            *out = SIDES[i].side;
            return 0;
        }
    }
    BAIL(SIGIL_E_BAD_FIELD, "%s: expected buy or sell", what);
}

int insp_flag(bool *out, const insp_src *s, const char *name)
{
    insp_value v;
    GUARD(insp_get(&v, s, name));
    *out = v.type == SIGIL_JSON_TRUE || (v.type == SIGIL_JSON_STRING && insp_is(&v, "true"));
    return 0;
}

int insp_symbol_text(sigil_order *o, const char *text, size_t len, const char *what)
{
    ENSURE(len <= SIGIL_POLICY_MAX_SYMBOL_BYTES, SIGIL_E_BAD_FIELD, "%s: longer than %d bytes",
           what, SIGIL_POLICY_MAX_SYMBOL_BYTES);
    ENSURE(memchr(text, '\0', len) == NULL, SIGIL_E_BAD_FIELD, "%s: contains NUL", what);
    memcpy(o->symbol, text, len);
    o->symbol[len] = '\0';
    return 0;
}

/* ---- orders ---- */

int insp_order_new(sigil_order **o, insp_ctx *c)
{
    sigil_request_info *r = c->out;
    ENSURE(r->n_orders < SIGIL_MAX_ORDERS, SIGIL_E_BAD_REQUEST,
           "request: more than %d orders in one request", SIGIL_MAX_ORDERS);
    *o = &r->orders[r->n_orders++];
    memset(*o, 0, sizeof(**o));
    return 0;
}

static int read_symbol(sigil_order *o, const insp_src *s, const char *name)
{
    insp_value v;
    char what[INSP_WHERE_MAX + KEY_MAX];
    GUARD(insp_get(&v, s, name));
    if (v.type == 0)
        return 0;
    insp_what(what, sizeof(what), s, name);
    ENSURE(v.type == SIGIL_JSON_STRING, SIGIL_E_BAD_FIELD, "%s: expected a string", what);
    return insp_symbol_text(o, v.text, v.len, what);
}

static int read_side(sigil_order *o, const insp_src *s, const char *name)
{
    insp_value v;
    char what[INSP_WHERE_MAX + KEY_MAX];
    GUARD(insp_get(&v, s, name));
    return v.type == 0 ? 0 : insp_side_value(&o->side, &v, insp_what(what, sizeof(what), s, name));
}

int insp_order_read(sigil_order **out, insp_ctx *c, const insp_src *s, const insp_fields *f)
{
    sigil_order *o;
    GUARD(insp_order_new(&o, c));
    *out = o;
    if (f->symbol != NULL)
        GUARD(read_symbol(o, s, f->symbol));
    if (f->side != NULL)
        GUARD(read_side(o, s, f->side));
    if (f->qty != NULL)
        GUARD(insp_decimal(&o->has_qty, &o->qty, s, f->qty));
    if (f->price != NULL)
        GUARD(insp_decimal(&o->has_price, &o->price, s, f->price));
    if (f->quote_qty != NULL)
        GUARD(insp_decimal(&o->has_quote_qty, &o->quote_qty, s, f->quote_qty));
    if (f->reduce_only != NULL)
        GUARD(insp_flag(&o->reduce_only, s, f->reduce_only));
    return 0;
}

int insp_each_item(insp_ctx *c, const insp_src *s, const char *member, insp_item_fn fn, void *arg)
{
    uint32_t arr = s->obj;
    char what[INSP_WHERE_MAX + KEY_MAX];
    if (member != NULL) {
        GUARD(insp_get_container(&arr, s, member, SIGIL_JSON_ARRAY));
        ENSURE(arr != 0, SIGIL_E_MISSING_FIELD, "%s: required field missing",
               insp_what(what, sizeof(what), s, member));
    }
    GUARD(sigil_json_expect(s->d, arr, SIGIL_JSON_ARRAY, s->where, member));
    ENSURE(s->d->toks[arr].size > 0, SIGIL_E_BAD_REQUEST, "%s: an empty batch",
           member != NULL ? insp_what(what, sizeof(what), s, member) : s->where);
    size_t i = 0;
    for (uint32_t t = sigil_json_first(s->d, arr); t != 0; t = sigil_json_sibling(s->d, arr, t)) {
        insp_src item;
        insp_src_item(&item, s, member, i++, t);
        GUARD(sigil_json_expect(s->d, t, SIGIL_JSON_OBJECT, item.where, NULL));
        GUARD(fn(c, &item, arg));
    }
    return 0;
}

typedef struct {
    const insp_src *parent;
    const insp_fields *fields;
    insp_fix_fn fix;
    sigil_order parent_order; /* the symbol items fall back to */
} order_items;

static int order_item(insp_ctx *c, const insp_src *item, void *arg)
{
    order_items *a = arg;
    sigil_order *o;
    GUARD(insp_order_read(&o, c, item, a->fields));
    if (o->symbol[0] == '\0')
        memcpy(o->symbol, a->parent_order.symbol, sizeof(o->symbol));
    return a->fix == NULL ? 0 : a->fix(c, o, item, a->parent);
}

int insp_order_items(insp_ctx *c, const insp_src *s, const char *member, const insp_fields *f,
                     insp_fix_fn fix)
{
    order_items a = {.parent = s, .fields = f, .fix = fix};
    if (member != NULL && f->symbol != NULL)
        GUARD(read_symbol(&a.parent_order, s, f->symbol));
    return insp_each_item(c, s, member, order_item, &a);
}

int insp_price_only_for(sigil_order *o, const insp_src *s, const char *type_name,
                        const char *const *priced, size_t n)
{
    insp_value v;
    GUARD(insp_get(&v, s, type_name));
    if (v.type != 0 && !insp_is_one_of(&v, priced, n))
        o->has_price = false;
    return 0;
}

/* ---- destinations and agents ---- */

int insp_name_add(insp_ctx *c, bool agent, const char *text, size_t len, const char *what)
{
    sigil_request_info *r = c->out;
    size_t *n = agent ? &r->n_agents : &r->n_destinations;
    sigil_policy_name *names = agent ? r->agents : r->destinations;
    ENSURE(len <= SIGIL_POLICY_MAX_NAME_BYTES, SIGIL_E_BAD_FIELD,
           "%s: longer than %d bytes (no policy can list it)", what, SIGIL_POLICY_MAX_NAME_BYTES);
    ENSURE(memchr(text, '\0', len) == NULL, SIGIL_E_BAD_FIELD, "%s: contains NUL", what);
    ENSURE(*n < SIGIL_MAX_REQUEST_NAMES, SIGIL_E_BAD_REQUEST, "request: more than %d %s",
           SIGIL_MAX_REQUEST_NAMES, agent ? "agents" : "destinations");
    memcpy(names[*n].v, text, len);
    names[*n].v[len] = '\0';
    (*n)++;
    return 0;
}

int insp_read_names(insp_ctx *c, const insp_src *s, const char *const *names, size_t n, bool agents)
{
    for (size_t i = 0; i < n; i++) {
        insp_value v;
        char what[INSP_WHERE_MAX + KEY_MAX];
        GUARD(insp_get(&v, s, names[i]));
        if (v.type == 0)
            continue;
        insp_what(what, sizeof(what), s, names[i]);
        ENSURE(v.type != SIGIL_JSON_OBJECT && v.type != SIGIL_JSON_ARRAY, SIGIL_E_BAD_FIELD,
               "%s: expected a string", what);
        GUARD(insp_name_add(c, agents, v.text, v.len, what));
    }
    return 0;
}

/* ---- CEX bodies ---- */

int insp_body_order(insp_ctx *c, const insp_fields *f, insp_fix_fn fix)
{
    insp_src s;
    sigil_order *o;
    insp_src_cex(&s, c);
    GUARD(insp_order_read(&o, c, &s, f));
    return fix == NULL ? 0 : fix(c, o, &s, &s);
}

int insp_body_batch(insp_ctx *c, const char *member, const insp_fields *f, insp_fix_fn fix)
{
    insp_src s;
    if (member != NULL) {
        insp_src_cex(&s, c);
        ENSURE(s.d != NULL, SIGIL_E_MISSING_FIELD, "request.body.%s: required field missing",
               member);
    } else {
        ENSURE(c->body != NULL, SIGIL_E_MISSING_FIELD, "request.body: required field missing");
        insp_src_json(&s, c->body, 0, "request.body");
    }
    return insp_order_items(c, &s, member, f, fix);
}

int insp_route_read(insp_ctx *c, const insp_route *r)
{
    if (r->read != NULL)
        return r->read(c);
    if (r->shape == INSP_SHAPE_ONE)
        return insp_body_order(c, r->fields, r->fix);
    return insp_body_batch(c, r->shape == INSP_SHAPE_MEMBER ? r->member : NULL, r->fields, r->fix);
}

int insp_any_present(bool *out, const insp_src *s, const char *const *names, size_t n)
{
    *out = false;
    for (size_t i = 0; i < n; i++) {
        insp_value v;
        GUARD(insp_get(&v, s, names[i]));
        *out = *out || v.type != 0;
    }
    return 0;
}

void insp_qty_is_quote(sigil_order *o)
{
    if (!o->has_qty)
        return;
    o->quote_qty = o->qty;
    o->has_quote_qty = true;
    o->has_qty = false;
    memset(&o->qty, 0, sizeof(o->qty));
}

int insp_fix_reduce_only(insp_ctx *c, sigil_order *o, const insp_src *s, const insp_src *parent)
{
    (void)c;
    (void)s;
    (void)parent;
    o->reduce_only = true;
    return 0;
}
