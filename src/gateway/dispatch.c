/*
 * The request pipeline: route table, query check, bearer authentication,
 * per-token rate limits, the handler, and errors as
 * {"error":{"code","message"}} with their HTTP status; the request id. Untrusted host code;
 * independent of the HTTP library (http.c adapts libmicrohttpd to it).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"

const gw_route GW_ROUTES[] = {
    {"GET", "/healthz", gw_h_healthz, GW_AUTH_NONE, GW_LIMIT_NONE, NULL},
    {"GET", "/readyz", gw_h_readyz, GW_AUTH_NONE, GW_LIMIT_NONE, NULL},
    {"GET", "/metrics", gw_h_metrics, GW_AUTH_NONE, GW_LIMIT_NONE, NULL},
    {"GET", "/v1/attestation", gw_h_attestation, GW_AUTH_TENANT, GW_LIMIT_ATTESTATION, "nonce"},
    {"GET", "/v1/attestation/boots/{}", gw_h_boot, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"POST", "/v1/keys", gw_h_keys_import, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"GET", "/v1/keys", gw_h_keys_list, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"DELETE", "/v1/keys/{}", gw_h_keys_delete, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"POST", "/v1/sign", gw_h_sign, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"PUT", "/v1/keys/{}/policy", gw_h_key_policy, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"PUT", "/v1/keys/{}/credentials", gw_h_key_credentials, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"POST", "/v1/keys/{}/rewrap", gw_h_key_rewrap, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"GET", "/v1/audit", gw_h_audit, GW_AUTH_TENANT, GW_LIMIT_API, "since,limit"},
    {"POST", "/v1/keys/{}/revoke", gw_h_key_revoke, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"POST", "/v1/keys/{}/disable", gw_h_key_disable, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"POST", "/v1/keys/{}/enable", gw_h_key_enable, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
};
const size_t GW_NROUTES = SIGIL_ARRAY_LEN(GW_ROUTES);
/* Metric labels, by route index. */
const char *const GW_ROUTE_NAMES[] = {
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /v1/attestation",
    "GET /v1/attestation/boots/{boot_id}",
    "POST /v1/keys",
    "GET /v1/keys",
    "DELETE /v1/keys/{key_id}",
    "POST /v1/sign",
    "PUT /v1/keys/{key_id}/policy",
    "PUT /v1/keys/{key_id}/credentials",
    "POST /v1/keys/{key_id}/rewrap",
    "GET /v1/audit",
    "POST /v1/keys/{key_id}/revoke",
    "POST /v1/keys/{key_id}/disable",
    "POST /v1/keys/{key_id}/enable",
    NULL,
};
_Static_assert(SIGIL_ARRAY_LEN(GW_ROUTES) < GW_METRIC_ROUTES, "too many routes for the metrics");

uint64_t gw_deadline(const gw_server *g, const gw_req *rq)
{
    return rq->start_mono_us + g->deadline_ms * 1000u;
}

/* ---- per-thread scratch ---- */
static pthread_key_t g_work_key;
static pthread_once_t g_work_once = PTHREAD_ONCE_INIT;

static void work_key_init(void)
{
    (void)pthread_key_create(&g_work_key, free);
}

gw_work *gw_work_get(void)
{
    (void)pthread_once(&g_work_once, work_key_init);
    gw_work *w = pthread_getspecific(g_work_key);
    if (w == NULL) {
        w = malloc(sizeof(*w));
        if (w != NULL && pthread_setspecific(g_work_key, w) != 0) {
            free(w);
            w = NULL;
        }
    }
    return w;
}

/* ---- pipeline ---- */
/* Whether name is one of the route's comma-separated query parameters. */
static bool query_allowed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return true;
        p = end != NULL ? end + 1 : NULL;
    }
    return false;
}

static int check_query(const gw_route *r, const gw_req *rq)
{
    ENSURE(!rq->query_overflow, SIGIL_E_BAD_REQUEST, "query: too many parameters");
    for (size_t i = 0; i < rq->nquery; i++) {
        const char *name = rq->query[i].name;
        ENSURE(query_allowed(r->query, name), SIGIL_E_BAD_REQUEST,
               "query: unknown parameter (allowed: %s)", r->query != NULL ? r->query : "none");
        for (size_t j = 0; j < i; j++)
            ENSURE(strcmp(rq->query[j].name, name) != 0, SIGIL_E_DUPLICATE_KEY,
                   "query: %.32s given twice", name);
    }
    return 0;
}

static int authenticate(gw_server *g, gw_req *rq)
{
    sigil_token tok;
    sigil_token_record rec;
    const char *h = rq->authorization;
    ENSURE(rq->authorization_count <= 1, SIGIL_E_UNAUTHORIZED,
           "more than one Authorization header");
    GUARD(sigil_token_from_header(&tok, h, h != NULL ? strnlen(h, 4096) : 0));
    uint64_t now = (uint64_t)sigil_store_now_ms();
    size_t len = sizeof(rec);
    if (!gw_cache_get(g->token_cache, tok.id, &rec, &len, now) || len != sizeof(rec)) {
        if (g->store->ops->token_get(g->store, tok.id, &rec) != 0) {
            if (sigil_errno() == SIGIL_E_NOT_FOUND)
                BAIL(SIGIL_E_UNAUTHORIZED, "unknown bearer token");
            return -1;
        }
        gw_cache_put(g->token_cache, tok.id, &rec, sizeof(rec), now);
    }
    GUARD(sigil_token_verify(&rec, &tok));
    memcpy(rq->tenant, rec.tenant, sizeof(rq->tenant));
    memcpy(rq->token_id, rec.id, sizeof(rq->token_id));
    return 0;
}

static int rate_limit(gw_server *g, const gw_route *r, gw_req *rq, gw_resp *rs)
{
    gw_limiter *l = r->limit == GW_LIMIT_ATTESTATION ? &g->attestation_limiter : &g->api_limiter;
    uint32_t retry = 1;
    if (r->limit == GW_LIMIT_NONE)
        return 0;
    if (gw_limiter_take(l, rq->token_id, (int64_t)(gw_mono_us() / 1000u), &retry))
        return 0;
    gw_metrics_rate_limited();
    rs->retry_after = retry;
    BAIL(SIGIL_E_RATE_LIMITED, "too many requests for this token; retry after %u s", retry);
}

static int run_route(gw_server *g, const gw_route *r, gw_req *rq, gw_resp *rs)
{
    GUARD(check_query(r, rq));
    if (r->auth == GW_AUTH_TENANT)
        GUARD(authenticate(g, rq));
    GUARD(rate_limit(g, r, rq, rs));
    if (strcmp(rq->method, "POST") != 0 && strcmp(rq->method, "PUT") != 0)
        ENSURE(rq->body_len == 0, SIGIL_E_BAD_REQUEST, "body: %s %s takes no body", rq->method,
               r->pattern);
    return r->handler(g, rq, rs);
}

static void route_and_run(gw_server *g, gw_req *rq, gw_resp *rs, size_t *route)
{
    size_t idx = 0;
    gw_match m = gw_route_match(GW_ROUTES, GW_NROUTES, rq->method, rq->path, &idx, &rq->param,
                                rs->allow, sizeof(rs->allow));
    switch (m) {
    case GW_MATCH_OK:
        *route = idx;
        if (run_route(g, &GW_ROUTES[idx], rq, rs) != 0)
            gw_error_response(rs);
        return;
    case GW_MATCH_NO_METHOD:
        (void)sigil_fail(SIGIL_E_BAD_REQUEST, "method %.16s not allowed here (allowed: %s)",
                         rq->method, rs->allow);
        gw_error_response(rs);
        rs->status = 405;
        return;
    case GW_MATCH_NO_ROUTE:
        (void)sigil_fail(SIGIL_E_NOT_FOUND, "no such route");
        gw_error_response(rs);
        return;
    default:
        (void)sigil_fail(SIGIL_E_INTERNAL, "route matching failed");
        gw_error_response(rs);
        return;
    }
}

/* The request id is assigned first and is on every log line this thread
 * writes until the request is answered; the error code of a failed
 * request is kept for its log line. */
void gw_dispatch(gw_server *g, gw_req *rq, gw_resp *rs, size_t *route)
{
    *route = GW_METRIC_ROUTES - 1;
    sigil_clear_error();
    gw_request_id_assign(rq);
    gw_log_set_request(rq->request_id);
    route_and_run(g, rq, rs, route);
    gw_log_set_request(NULL);
    if (rs->status >= 400 && sigil_errno() != SIGIL_OK)
        rq->error_code = sigil_err_code(sigil_errno());
}
