/*
 * GET /v1/audit?since=SEQ&limit=N: the caller's own audit rows, with their
 * receipts and chain links, so a tenant can keep and check its records.
 * Untrusted host code: it reads the store and relays; the rows carry the
 * enclave's signed receipts, which clients verify themselves.
 */
#include <string.h>

#include "gateway/gateway.h"

#define AUDIT_LIMIT_DEFAULT 100u
#define AUDIT_LIMIT_MAX 1000u
#define AUDIT_RECEIPT_TOKS 128u /* a wire receipt has 18 members: 37 tokens */
#define AUDIT_TAIL_ROOM 64u     /* kept free for "],"next":SEQ}" after the rows */

typedef struct {
    uint64_t since;
    uint64_t limit;
} audit_query;

/* A decimal integer as the query carries it: digits only, no sign, no
 * leading zero, at most 20 digits and below 2^64. */
static int parse_u64(uint64_t *out, const char *v, const char *name)
{
    size_t n = v != NULL ? strnlen(v, 21) : 0;
    uint64_t x = 0;
    ENSURE(n >= 1 && n <= 20 && (v[0] != '0' || n == 1), SIGIL_E_BAD_FIELD,
           "%s: expected a decimal integer", name);
    for (size_t i = 0; i < n; i++) {
        ENSURE(v[i] >= '0' && v[i] <= '9', SIGIL_E_BAD_FIELD, "%s: expected a decimal integer",
               name);
        uint64_t d = (uint64_t)(v[i] - '0');
        ENSURE(x <= (UINT64_MAX - d) / 10, SIGIL_E_OUT_OF_RANGE, "%s: too large", name);
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

/* The route admits only since and limit, each at most once (dispatch). */
static int parse_query(audit_query *q, const gw_req *rq)
{
    q->since = 0;
    q->limit = AUDIT_LIMIT_DEFAULT;
    for (size_t i = 0; i < rq->nquery; i++) {
        const gw_kv *kv = &rq->query[i];
        if (strcmp(kv->name, "since") == 0)
            GUARD(parse_u64(&q->since, kv->value, "since"));
        else if (strcmp(kv->name, "limit") == 0)
            GUARD(parse_u64(&q->limit, kv->value, "limit"));
        else
            BAIL(SIGIL_E_BAD_REQUEST, "query: unknown parameter (allowed: since, limit)");
    }
    ENSURE(q->limit >= 1 && q->limit <= AUDIT_LIMIT_MAX, SIGIL_E_OUT_OF_RANGE,
           "limit: must be 1..%u", AUDIT_LIMIT_MAX);
    return 0;
}

typedef struct {
    sigil_jw *w;
    uint64_t limit, written, last_seq;
    bool more; /* rows remain after the last one written */
} audit_page;

static int opt_text(sigil_jw *w, const char *key, const char *v)
{
    GUARD(sigil_jw_key(w, key));
    return v[0] != '\0' ? sigil_jw_str(w, v) : sigil_jw_null(w);
}

static int opt_hash(sigil_jw *w, const char *key, const uint8_t *h, bool present)
{
    if (present)
        return gw_jw_hex(w, key, h, 32);
    GUARD(sigil_jw_key(w, key));
    return sigil_jw_null(w);
}

/* The receipt as the JSON object it is. A stored receipt that is not one
 * was altered outside the gateway: refuse rather than relay broken JSON. */
static int receipt_json(sigil_jw *w, const sigil_audit_row *r)
{
    sigil_json_tok toks[AUDIT_RECEIPT_TOKS];
    sigil_json doc;
    GUARD(sigil_jw_key(w, "receipt"));
    if (r->receipt_len == 0)
        return sigil_jw_null(w);
    if (sigil_json_parse(&doc, r->receipt, r->receipt_len, toks, AUDIT_RECEIPT_TOKS) != 0 ||
        sigil_json_type_of(&doc, 0) != SIGIL_JSON_OBJECT)
        BAIL(SIGIL_E_INTERNAL,
             "audit: the receipt of row %llu is not a JSON object (run `sigil audit verify`)",
             (unsigned long long)r->seq);
    return sigil_jw_raw(w, r->receipt, r->receipt_len);
}

static int row_json(sigil_jw *w, const sigil_audit_row *r)
{
    GUARD(sigil_jw_obj_begin(w));
    GUARD(sigil_jw_key(w, "seq"));
    GUARD(sigil_jw_u64(w, r->seq));
    GUARD(sigil_jw_key(w, "time"));
    GUARD(sigil_jw_u64(w, (uint64_t)r->time_ms));
    GUARD(opt_text(w, "tenant", r->tenant));
    GUARD(opt_text(w, "key_id", r->key_id));
    GUARD(opt_text(w, "op", r->op));
    GUARD(opt_text(w, "action", r->action));
    GUARD(opt_text(w, "decision", r->decision));
    GUARD(sigil_jw_key(w, "status"));
    GUARD(sigil_jw_u64(w, r->http_status));
    GUARD(opt_text(w, "code", r->error_code));
    GUARD(opt_hash(w, "request_hash", r->request_hash, r->has_request_hash));
    GUARD(opt_hash(w, "output_hash", r->output_hash, r->has_output_hash));
    GUARD(receipt_json(w, r));
    GUARD(gw_jw_hex(w, "prev", r->prev, sizeof(r->prev)));
    GUARD(gw_jw_hex(w, "hash", r->hash, sizeof(r->hash)));
    return sigil_jw_obj_end(w);
}

/* One row into the page; a row that does not fit in the response ends the
 * page early (the writer and buffer are restored), with next set. */
static int page_row(void *ctx, const sigil_audit_row *r)
{
    audit_page *p = ctx;
    if (p->more)
        return 0;
    if (p->written == p->limit) {
        p->more = true; /* the one row past the limit */
        return 0;
    }
    sigil_jw saved = *p->w;
    size_t mark = p->w->b->len;
    if (row_json(p->w, r) != 0) {
        if (sigil_errno() != SIGIL_E_TOO_LARGE || p->written == 0)
            return -1;
        *p->w = saved;
        p->w->b->len = mark;
        p->more = true;
        return 0;
    }
    p->written++;
    p->last_seq = r->seq;
    return 0;
}

int gw_h_audit(gw_server *g, gw_req *rq, gw_resp *rs)
{
    audit_query q;
    sigil_jw w;
    GUARD(parse_query(&q, rq));
    rs->status = 200;
    rs->body.len = 0;
    rs->no_store = true;
    sigil_jw_init(&w, &rs->body);
    audit_page page = {.w = &w, .limit = q.limit};
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "records"));
    GUARD(sigil_jw_arr_begin(&w));
    size_t cap = rs->body.cap;
    ENSURE(cap > AUDIT_TAIL_ROOM, SIGIL_E_INTERNAL, "audit: response buffer too small");
    rs->body.cap = cap - AUDIT_TAIL_ROOM;
    int rc = g->store->ops->audit_list(g->store, rq->tenant, q.since, (size_t)q.limit + 1, page_row,
                                       &page);
    rs->body.cap = cap;
    GUARD(rc);
    GUARD(sigil_jw_arr_end(&w));
    GUARD(sigil_jw_key(&w, "next"));
    GUARD(page.more ? sigil_jw_u64(&w, page.last_seq) : sigil_jw_null(&w));
    return sigil_jw_obj_end(&w);
}
