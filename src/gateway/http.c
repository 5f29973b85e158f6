/*
 * libmicrohttpd front of the gateway: epoll, a worker pool, keep-alive,
 * TLS when a certificate is configured. Untrusted host code facing the
 * network: it collects at most --body-limit bytes of body (413 beyond),
 * hands the request to gw_dispatch and writes one log line per request
 * (never bodies, tokens or blobs).
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/http.h"

typedef struct {
    char *body;
    size_t len;
    size_t cap;
    bool too_large;
    bool responded;
    int64_t start_ms;
    uint64_t start_us;
} req_ctx;

struct gw_http {
    gw_server *g;
    size_t body_limit;
    struct MHD_Daemon *d;
    char *tls_cert;
    char *tls_key;
};

/* ---- responses ---- */
static enum MHD_Result send_resp(struct MHD_Connection *conn, const gw_resp *rs,
                                 const char *request_id)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rs->body.len, rs->body.data, MHD_RESPMEM_MUST_COPY);
    char retry[16];
    if (r == NULL)
        return MHD_NO;
    if (rs->body.len > 0)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                      rs->content_type != NULL ? rs->content_type
                                                               : "application/json");
    if (rs->retry_after > 0) {
        snprintf(retry, sizeof(retry), "%u", rs->retry_after);
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry);
    }
    if (rs->no_store)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (rs->allow[0] != '\0')
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
    (void)MHD_add_response_header(r, "X-Request-Id", request_id);
    enum MHD_Result ok = MHD_queue_response(conn, rs->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Ends a request: metrics, log line, response (with its request id). */
static enum MHD_Result respond(struct MHD_Connection *conn, req_ctx *rc, gw_req *rq,
                               const gw_resp *rs, size_t route)
{
    uint64_t us = gw_mono_us() - rc->start_us;
    rc->responded = true;
    if (rq->request_id[0] == '\0') /* answered before gw_dispatch (413) */
        gw_request_id_assign(rq);
    gw_metrics_request(route, rs->status);
    if (route < GW_NROUTES && GW_ROUTES[route].handler == gw_h_sign)
        gw_metrics_sign_latency(us);
    gw_log_request(rq, route, rs->status, us);
    return send_resp(conn, rs, rq->request_id);
}

static enum MHD_Result too_large(gw_http *h, struct MHD_Connection *conn, req_ctx *rc,
                                 const char *method, const char *url)
{
    uint8_t mem[256];
    gw_resp rs = {.status = 413};
    gw_req rq = {.method = method, .path = url};
    rq.request_id_hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    rq.request_id_count = rq.request_id_hdr != NULL;
    sigil_buf_init(&rs.body, mem, sizeof(mem));
    (void)sigil_fail(SIGIL_E_TOO_LARGE, "body: larger than %zu bytes", h->body_limit);
    gw_error_response(&rs);
    rq.error_code = sigil_err_code(SIGIL_E_TOO_LARGE);
    return respond(conn, rc, &rq, &rs, GW_METRIC_ROUTES - 1);
}

/* ---- request headers and query ---- */
static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    gw_req *rq = cls;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0) {
        rq->authorization = value;
        rq->authorization_count++;
    } else if (strcasecmp(key, "Idempotency-Key") == 0) {
        rq->idem_key = value;
        rq->idem_count++;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_TYPE) == 0) {
        rq->content_type = value;
        rq->content_type_count++;
    } else if (strcasecmp(key, "X-Request-Id") == 0) {
        rq->request_id_hdr = value;
        rq->request_id_count++;
    }
    return MHD_YES;
}

static enum MHD_Result query_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    gw_req *rq = cls;
    (void)kind;
    if (rq->nquery == GW_QUERY_MAX) {
        rq->query_overflow = true;
        return MHD_YES;
    }
    rq->query[rq->nquery].name = key;
    rq->query[rq->nquery].value = value;
    rq->nquery++;
    return MHD_YES;
}

static enum MHD_Result handle(gw_http *h, struct MHD_Connection *conn, req_ctx *rc,
                              const char *method, const char *url)
{
    gw_work *w = gw_work_get();
    gw_req rq = {
        .method = method, .path = url, .start_ms = rc->start_ms, .start_mono_us = rc->start_us};
    gw_resp rs = {.status = 500};
    size_t route = GW_METRIC_ROUTES - 1;
    if (w == NULL)
        return MHD_NO;
    rq.body = rc->body != NULL ? rc->body : "";
    rq.body_len = rc->len;
    (void)MHD_get_connection_values(conn, MHD_HEADER_KIND, header_cb, &rq);
    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_cb, &rq);
    sigil_buf_init(&rs.body, w->resp, sizeof(w->resp));
    gw_metrics_inflight(1);
    gw_dispatch(h->g, &rq, &rs, &route);
    gw_metrics_inflight(-1);
    return respond(conn, rc, &rq, &rs, route);
}

/* ---- body ---- */
static bool body_append(gw_http *h, req_ctx *rc, const char *p, size_t n)
{
    if (rc->too_large || n > h->body_limit - rc->len) {
        rc->too_large = true;
        return false;
    }
    if (rc->len + n > rc->cap) {
        size_t cap = rc->cap == 0 ? 4096 : rc->cap;
        while (cap < rc->len + n)
            cap *= 2;
        if (cap > h->body_limit)
            cap = h->body_limit;
        char *nb = realloc(rc->body, cap);
        if (nb == NULL)
            return false;
        rc->body = nb;
        rc->cap = cap;
    }
    memcpy(rc->body + rc->len, p, n);
    rc->len += n;
    return true;
}

static bool declared_too_large(gw_http *h, struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL)
        return false;
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    return end != cl && n > h->body_limit;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    gw_http *h = cls;
    req_ctx *rc = *con_cls;
    (void)version;
    if (rc == NULL) {
        rc = calloc(1, sizeof(*rc));
        if (rc == NULL)
            return MHD_NO;
        rc->start_ms = sigil_store_now_ms();
        rc->start_us = gw_mono_us();
        *con_cls = rc;
        if (declared_too_large(h, conn))
            return too_large(h, conn, rc, method, url);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        /* Over the limit: discard the rest of the upload and answer 413 at
         * the end (libmicrohttpd cannot queue a response mid-upload). */
        bool ok = rc->responded || rc->too_large ||
                  body_append(h, rc, upload_data, *upload_data_size) || rc->too_large;
        *upload_data_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    if (rc->responded)
        return MHD_YES;
    if (rc->too_large)
        return too_large(h, conn, rc, method, url);
    return handle(h, conn, rc, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req_ctx *rc = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (rc == NULL)
        return;
    free(rc->body);
    free(rc);
    *con_cls = NULL;
}

/* ---- lifecycle ---- */
static int read_pem(char **out, const char *path, const char *what)
{
    FILE *f = fopen(path, "rb");
    ENSURE(f != NULL, SIGIL_E_IO, "%s: cannot open the file", what);
    char *buf = calloc(1, 1u << 20);
    size_t n = buf != NULL ? fread(buf, 1, (1u << 20) - 1, f) : 0;
    fclose(f);
    ENSURE(buf != NULL, SIGIL_E_NO_MEMORY, "%s: out of memory", what);
    if (n == 0 || n == (1u << 20) - 1) {
        free(buf);
        BAIL(SIGIL_E_IO, "%s: empty or too large", what);
    }
    *out = buf;
    return 0;
}

void gw_http_stop(gw_http *h)
{
    if (h == NULL)
        return;
    if (h->d != NULL)
        MHD_stop_daemon(h->d);
    if (h->tls_key != NULL)
        explicit_bzero(h->tls_key, strlen(h->tls_key));
    free(h->tls_key);
    free(h->tls_cert);
    free(h);
}

/* libmicrohttpd's own messages, as JSON log lines. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    gw_logv("warn", fmt, ap);
}

/* Each connection's libmicrohttpd pool: above 32 KiB libmicrohttpd maps it
 * with mmap and unmaps it when the connection closes, so the memory of
 * thousands of short-lived or idle connections goes back to the system
 * instead of fragmenting the heap (at or below 32 KiB it is malloc'd, and
 * RSS climbed under connection churn: docs/SOAK.md). 40 KiB holds the
 * request line and headers; bodies are copied out as they arrive. */
#define GW_CONN_POOL_BYTES ((size_t)40 * 1024)
#define GW_CONN_TIMEOUT_S 30u
#define GW_CONN_LIMIT 4096u

static struct MHD_Daemon *start_daemon(gw_http *h, const gw_http_config *cfg)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (cfg->ipv6)
        flags |= MHD_USE_IPv6;
    /* MHD_OPTION_ARRAY: one pointer argument in ptr_value; a function and
     * its closure in value and ptr_value. */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, (void *)&cfg->addr},
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)GW_CONN_TIMEOUT_S, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)GW_CONN_LIMIT, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)GW_CONN_POOL_BYTES, NULL},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    size_t n = SIGIL_ARRAY_LEN(opts);
    if (h->tls_cert != NULL)
        flags |= MHD_USE_TLS;
    else
        opts[n - 3] = opts[n - 1]; /* no TLS: the list ends before the certificate */
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

int gw_http_start(gw_http **out, gw_server *g, const gw_http_config *cfg, uint16_t *port)
{
    gw_http *h = calloc(1, sizeof(*h));
    *out = NULL;
    ENSURE(h != NULL, SIGIL_E_NO_MEMORY, "http: out of memory");
    h->g = g;
    h->body_limit = cfg->body_limit;
    if (cfg->tls_cert != NULL && (read_pem(&h->tls_cert, cfg->tls_cert, "--tls-cert") != 0 ||
                                  read_pem(&h->tls_key, cfg->tls_key, "--tls-key") != 0)) {
        gw_http_stop(h);
        return -1;
    }
    h->d = start_daemon(h, cfg);
    if (h->d == NULL) {
        gw_http_stop(h);
        BAIL(SIGIL_E_IO, "http: cannot start the server on --listen (address in use?)");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        gw_http_stop(h);
        BAIL(SIGIL_E_IO, "http: cannot read the bound port");
    }
    *port = info->port;
    *out = h;
    return 0;
}
