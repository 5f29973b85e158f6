/*
 * Prometheus metrics of the gateway: requests by route and status, sign
 * latency, enclave connections, requests in flight, rate-limited requests.
 * Untrusted host code. Lock-free counters; labels never carry tenants,
 * tokens or key ids.
 */
#include <stdio.h>

#include "gateway/gateway.h"

static const unsigned STATUSES[] = {200, 201, 204, 400, 401, 403, 404, 405,
                                    409, 413, 422, 429, 500, 502, 503, 504};
#define NSTATUS (SIGIL_ARRAY_LEN(STATUSES) + 1) /* + "other" */

/* Upper bounds of the sign latency buckets, in microseconds. */
static const uint64_t LATENCY_US[] = {500,    1000,   2500,   5000,    10000,   25000,  50000,
                                      100000, 250000, 500000, 1000000, 2500000, 5000000};
#define NLAT (SIGIL_ARRAY_LEN(LATENCY_US) + 1) /* + "+Inf" */

static atomic_uint_fast64_t g_requests[GW_METRIC_ROUTES][NSTATUS];
static atomic_uint_fast64_t g_latency[NLAT];
static atomic_uint_fast64_t g_latency_sum_us;
static atomic_uint_fast64_t g_rate_limited;
static atomic_int g_inflight;
static atomic_int g_enclave_conns;

static size_t status_index(unsigned status)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(STATUSES); i++)
        if (STATUSES[i] == status)
            return i;
    return NSTATUS - 1;
}

void gw_metrics_request(size_t route, unsigned status)
{
    if (route >= GW_METRIC_ROUTES)
        route = GW_METRIC_ROUTES - 1;
    atomic_fetch_add(&g_requests[route][status_index(status)], 1);
}

void gw_metrics_sign_latency(uint64_t us)
{
    size_t i = 0;
    while (i < SIGIL_ARRAY_LEN(LATENCY_US) && us > LATENCY_US[i])
        i++;
    atomic_fetch_add(&g_latency[i], 1);
    atomic_fetch_add(&g_latency_sum_us, us);
}

void gw_metrics_rate_limited(void)
{
    atomic_fetch_add(&g_rate_limited, 1);
}

void gw_metrics_inflight(int delta)
{
    atomic_fetch_add(&g_inflight, delta);
}

void gw_metrics_enclave_conns(int delta)
{
    atomic_fetch_add(&g_enclave_conns, delta);
}

static int put(sigil_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put(sigil_buf *out, const char *fmt, ...)
{
    va_list ap;
    size_t room = out->cap - out->len;
    va_start(ap, fmt);
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive, va_start(ap) above
    int n = vsnprintf((char *)out->data + out->len, room, fmt, ap);
    va_end(ap);
    ENSURE(n >= 0 && (size_t)n < room, SIGIL_E_TOO_LARGE, "metrics: output too large");
    out->len += (size_t)n;
    return 0;
}

static int render_requests(sigil_buf *out, const char *const *names, size_t n)
{
    GUARD(put(out, "# HELP sigil_http_requests_total HTTP requests by route and status.\n"
                   "# TYPE sigil_http_requests_total counter\n"));
    for (size_t r = 0; r < GW_METRIC_ROUTES; r++) {
        const char *name = r < n ? names[r] : (r == GW_METRIC_ROUTES - 1 ? "unmatched" : NULL);
        for (size_t s = 0; name != NULL && s < NSTATUS; s++) {
            uint64_t v = atomic_load(&g_requests[r][s]);
            if (v == 0)
                continue;
            if (s < SIGIL_ARRAY_LEN(STATUSES))
                GUARD(put(out, "sigil_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n", name,
                          STATUSES[s], (unsigned long long)v));
            else
                GUARD(put(out, "sigil_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                          name, (unsigned long long)v));
        }
    }
    return 0;
}

static int render_latency(sigil_buf *out)
{
    uint64_t cum = 0;
    GUARD(put(out, "# HELP sigil_sign_duration_seconds Time to answer POST /v1/sign.\n"
                   "# TYPE sigil_sign_duration_seconds histogram\n"));
    for (size_t i = 0; i < NLAT; i++) {
        cum += atomic_load(&g_latency[i]);
        if (i < SIGIL_ARRAY_LEN(LATENCY_US))
            GUARD(put(out, "sigil_sign_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      (double)LATENCY_US[i] / 1e6, (unsigned long long)cum));
        else
            GUARD(put(out, "sigil_sign_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                      (unsigned long long)cum));
    }
    GUARD(put(out, "sigil_sign_duration_seconds_sum %.6f\n",
              (double)atomic_load(&g_latency_sum_us) / 1e6));
    return put(out, "sigil_sign_duration_seconds_count %llu\n", (unsigned long long)cum);
}

int gw_metrics_render(sigil_buf *out, const char *const *names, size_t n)
{
    GUARD(render_requests(out, names, n));
    GUARD(render_latency(out));
    GUARD(put(out,
              "# HELP sigil_enclave_connections Enclave connections that are booted and ready.\n"
              "# TYPE sigil_enclave_connections gauge\nsigil_enclave_connections %d\n",
              atomic_load(&g_enclave_conns)));
    GUARD(put(out,
              "# HELP sigil_http_requests_in_flight Requests being handled.\n"
              "# TYPE sigil_http_requests_in_flight gauge\nsigil_http_requests_in_flight %d\n",
              atomic_load(&g_inflight)));
    return put(out,
               "# HELP sigil_rate_limited_total Requests refused with 429.\n"
               "# TYPE sigil_rate_limited_total counter\nsigil_rate_limited_total %llu\n",
               (unsigned long long)atomic_load(&g_rate_limited));
}
