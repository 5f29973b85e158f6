/*
 * Prometheus metrics of the gateway (docs/OBSERVABILITY.md): requests by
 * route and status, signing decisions by venue, decision and error code,
 * latency histograms (sign, enclave round trip, audit write, key-service
 * credential fetch), the enclave request pool, group-commit batch sizes.
 * Untrusted host code. Lock-free counters on the request path; labels never
 * carry tenants, tokens or key ids, and every label set is bounded.
 *
 * The families, in exposition order:
 *   sigil_http_requests_total{route,status}                 counter
 *   sigil_sign_decisions_total{venue,decision,code}         counter
 *   sigil_sign_duration_seconds                             histogram
 *   sigil_enclave_call_duration_seconds{op}                 histogram
 *   sigil_audit_write_duration_seconds                      histogram
 *   sigil_audit_batch_records                               histogram
 *   sigil_key_service_fetch_duration_seconds                histogram
 *   sigil_enclave_connections                               gauge
 *   sigil_http_requests_in_flight                           gauge
 *   sigil_rate_limited_total                                counter
 *   sigil_enclave_pool_in_use                               gauge
 *   sigil_enclave_pool_in_use_max                           gauge
 *   sigil_enclave_pool_capacity                             gauge
 *   sigil_enclave_pool_full_total                           counter
 *   sigil_audit_write_failures_total                        counter
 *   sigil_key_service_fetch_failures_total                  counter
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gateway.h"

static const unsigned STATUSES[] = {200, 201, 204, 400, 401, 403, 404, 405, 409,
                                    410, 413, 422, 429, 500, 502, 503, 504};
#define NSTATUS (SIGIL_ARRAY_LEN(STATUSES) + 1) /* + "other" */

/* Upper bounds of the latency buckets, in microseconds. */
static const uint64_t LATENCY_US[] = {100,    250,    500,     1000,    2500,
                                      5000,   10000,  25000,   50000,   100000,
                                      250000, 500000, 1000000, 2500000, 5000000};
#define NLAT (SIGIL_ARRAY_LEN(LATENCY_US) + 1) /* + "+Inf" */

/* Upper bounds of the group-commit batch size buckets, in records. */
static const uint64_t BATCH[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
#define NBATCH (SIGIL_ARRAY_LEN(BATCH) + 1)

typedef struct {
    atomic_uint_fast64_t bucket[NLAT]; /* per bucket, not cumulative */
    atomic_uint_fast64_t sum;          /* microseconds, or records */
} hist;

/* ---- signing decisions: venue x decision x error code ---- */
#define VENUES 32 /* distinct venue labels; more are "overflow" */
#define VENUE_OVERFLOW VENUES
#define VENUE_NONE (VENUES + 1) /* the key was never loaded */
#define NVENUE (VENUES + 2)
static const char *const DECISIONS[] = {"allow", "deny", "error"};
#define NDECISION SIGIL_ARRAY_LEN(DECISIONS)

typedef struct {
    char name[SIGIL_VENUE_MAX + 1];
    atomic_bool ready; /* name written; set once, under g_venue_mu */
} venue_label;

static venue_label g_venues[VENUES];
static pthread_mutex_t g_venue_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t g_sign[NVENUE][NDECISION][SIGIL_E_COUNT_];

/* ---- enclave round trips by op ---- */
static const char *const OPS[] = {"sign",        "import", "policy", "revoke",
                                  "attestation", "ping",   "unknown"};
#define NOPS SIGIL_ARRAY_LEN(OPS)

static atomic_uint_fast64_t g_requests[GW_METRIC_ROUTES][NSTATUS];
static hist g_sign_latency;
static hist g_enclave[NOPS];
static hist g_audit;
static hist g_batch;
static hist g_key_service;
static atomic_uint_fast64_t g_audit_failures;
static atomic_uint_fast64_t g_audit_failed_at;
static atomic_uint_fast64_t g_key_service_failures;
static atomic_uint_fast64_t g_rate_limited;
static atomic_uint_fast64_t g_pool_full;
static atomic_uint_fast64_t g_pool_in_use;
static atomic_uint_fast64_t g_pool_max;
static atomic_uint_fast64_t g_pool_capacity;
static atomic_int g_inflight;
static atomic_int g_enclave_conns;

static size_t status_index(unsigned status)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(STATUSES); i++)
        if (STATUSES[i] == status)
            return i;
    return NSTATUS - 1;
}

static void observe(hist *h, const uint64_t *bounds, size_t nbounds, uint64_t v)
{
    size_t i = 0;
    while (i < nbounds && v > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

static void observe_us(hist *h, uint64_t us)
{
    observe(h, LATENCY_US, SIGIL_ARRAY_LEN(LATENCY_US), us);
}

void gw_metrics_request(size_t route, unsigned status)
{
    if (route >= GW_METRIC_ROUTES)
        route = GW_METRIC_ROUTES - 1;
    atomic_fetch_add_explicit(&g_requests[route][status_index(status)], 1, memory_order_relaxed);
}

void gw_metrics_sign_latency(uint64_t us)
{
    observe_us(&g_sign_latency, us);
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

/* A venue label: [a-z0-9_], 1..SIGIL_VENUE_MAX bytes (venue names are). */
static bool venue_name_ok(const char *v)
{
    size_t n = strnlen(v, SIGIL_VENUE_MAX + 1);
    if (n == 0 || n > SIGIL_VENUE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '_'))
            return false;
    return true;
}

static size_t venue_find(const char *v)
{
    for (size_t i = 0; i < VENUES && atomic_load(&g_venues[i].ready); i++)
        if (strcmp(g_venues[i].name, v) == 0)
            return i;
    return VENUES;
}

/* The label slot of venue v: lock-free once it is known; the first sight of
 * a venue takes a mutex (a few times per process). */
static size_t venue_index(const char *v)
{
    if (v == NULL || v[0] == '\0')
        return VENUE_NONE;
    if (!venue_name_ok(v))
        return VENUE_OVERFLOW;
    size_t i = venue_find(v);
    if (i < VENUES)
        return i;
    (void)pthread_mutex_lock(&g_venue_mu);
    i = venue_find(v);
    if (i == VENUES) {
        i = 0; /* slots fill in order: the first one not ready is free */
        while (i < VENUES && atomic_load(&g_venues[i].ready))
            i++;
        if (i < VENUES) {
            memcpy(g_venues[i].name, v, strlen(v) + 1);
            atomic_store(&g_venues[i].ready, true);
        } else {
            i = VENUE_OVERFLOW;
        }
    }
    (void)pthread_mutex_unlock(&g_venue_mu);
    return i;
}

static size_t name_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return n;
}

void gw_metrics_sign_outcome(const char *venue, const char *decision, sigil_err code)
{
    size_t d = name_index(DECISIONS, NDECISION, decision);
    if (d == NDECISION)
        d = NDECISION - 1; /* "error" */
    if ((unsigned)code >= SIGIL_E_COUNT_)
        code = SIGIL_E_INTERNAL;
    atomic_fetch_add_explicit(&g_sign[venue_index(venue)][d][code], 1, memory_order_relaxed);
}

void gw_metrics_enclave_call(const char *op, uint64_t us)
{
    size_t i = name_index(OPS, NOPS - 1, op); /* else the last, "unknown" */
    observe_us(&g_enclave[i], us);
}

void gw_metrics_enclave_pool(size_t in_use, size_t capacity)
{
    uint64_t max = atomic_load_explicit(&g_pool_max, memory_order_relaxed);
    atomic_store_explicit(&g_pool_in_use, in_use, memory_order_relaxed);
    atomic_store_explicit(&g_pool_capacity, capacity, memory_order_relaxed);
    while (in_use > max && !atomic_compare_exchange_weak(&g_pool_max, &max, in_use))
        ;
}

void gw_metrics_enclave_pool_full(void)
{
    atomic_fetch_add(&g_pool_full, 1);
}

void gw_metrics_audit_write(uint64_t start_us, uint64_t end_us, bool ok)
{
    observe_us(&g_audit, end_us - start_us);
    if (ok) {
        if (atomic_load_explicit(&g_audit_failed_at, memory_order_relaxed) != 0)
            atomic_store(&g_audit_failed_at, 0);
        return;
    }
    atomic_fetch_add(&g_audit_failures, 1);
    atomic_store(&g_audit_failed_at, end_us != 0 ? end_us : 1);
}

uint64_t gw_metrics_audit_failed_at(void)
{
    return atomic_load(&g_audit_failed_at);
}

void gw_metrics_audit_batch(size_t n)
{
    observe(&g_batch, BATCH, SIGIL_ARRAY_LEN(BATCH), n);
}

void gw_metrics_key_service(uint64_t us, bool ok)
{
    observe_us(&g_key_service, us);
    if (!ok)
        atomic_fetch_add(&g_key_service_failures, 1);
}

/* ---- exposition ---- */
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

static int header(sigil_buf *out, const char *name, const char *type, const char *help)
{
    return put(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram series; labels is "" or `name="value",` (with the comma).
 * scale converts the sum and bounds to the unit (1e6: us to seconds). */
typedef struct {
    const char *name;
    const uint64_t *bounds;
    size_t nbounds;
    double scale;
} hist_shape;

static int render_hist(sigil_buf *out, const hist_shape *sh, const char *labels, const hist *h)
{
    uint64_t cum = 0;
    size_t n = strlen(labels);
    for (size_t i = 0; i <= sh->nbounds; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        if (i < sh->nbounds)
            GUARD(put(out, "%s_bucket{%sle=\"%g\"} %llu\n", sh->name, labels,
                      (double)sh->bounds[i] / sh->scale, (unsigned long long)cum));
        else
            GUARD(put(out, "%s_bucket{%sle=\"+Inf\"} %llu\n", sh->name, labels,
                      (unsigned long long)cum));
    }
    /* labels without the trailing comma for _sum and _count */
    int ln = n > 0 ? (int)n - 1 : 0;
    const char *open = n > 0 ? "{" : "", *close = n > 0 ? "}" : "";
    GUARD(put(out, "%s_sum%s%.*s%s %.6f\n", sh->name, open, ln, labels, close,
              (double)atomic_load_explicit(&h->sum, memory_order_relaxed) / sh->scale));
    return put(out, "%s_count%s%.*s%s %llu\n", sh->name, open, ln, labels, close,
               (unsigned long long)cum);
}

static int render_requests(sigil_buf *out, const char *const *names, size_t n)
{
    GUARD(
        header(out, "sigil_http_requests_total", "counter", "HTTP requests by route and status."));
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

static const char *venue_label_of(size_t v)
{
    if (v == VENUE_OVERFLOW)
        return "overflow";
    if (v == VENUE_NONE)
        return "none";
    return atomic_load(&g_venues[v].ready) ? g_venues[v].name : NULL;
}

static int render_sign(sigil_buf *out)
{
    GUARD(header(out, "sigil_sign_decisions_total", "counter",
                 "POST /v1/sign outcomes by venue, decision and error code."));
    for (size_t v = 0; v < NVENUE; v++) {
        const char *venue = venue_label_of(v);
        for (size_t d = 0; venue != NULL && d < NDECISION; d++)
            for (size_t c = 0; c < SIGIL_E_COUNT_; c++) {
                uint64_t n = atomic_load_explicit(&g_sign[v][d][c], memory_order_relaxed);
                if (n == 0)
                    continue;
                GUARD(put(out,
                          "sigil_sign_decisions_total{venue=\"%s\",decision=\"%s\",code=\"%s\"} "
                          "%llu\n",
                          venue, DECISIONS[d], c == SIGIL_OK ? "none" : sigil_err_code(c),
                          (unsigned long long)n));
            }
    }
    return 0;
}

static int render_histograms(sigil_buf *out)
{
    static const hist_shape SIGN = {"sigil_sign_duration_seconds", LATENCY_US,
                                    SIGIL_ARRAY_LEN(LATENCY_US), 1e6};
    static const hist_shape ENCLAVE = {"sigil_enclave_call_duration_seconds", LATENCY_US,
                                       SIGIL_ARRAY_LEN(LATENCY_US), 1e6};
    static const hist_shape AUDIT = {"sigil_audit_write_duration_seconds", LATENCY_US,
                                     SIGIL_ARRAY_LEN(LATENCY_US), 1e6};
    static const hist_shape BATCHES = {"sigil_audit_batch_records", BATCH, SIGIL_ARRAY_LEN(BATCH),
                                       1};
    static const hist_shape KEYSVC = {"sigil_key_service_fetch_duration_seconds", LATENCY_US,
                                      SIGIL_ARRAY_LEN(LATENCY_US), 1e6};
    char labels[32];
    GUARD(header(out, SIGN.name, "histogram", "Time to answer POST /v1/sign."));
    GUARD(render_hist(out, &SIGN, "", &g_sign_latency));
    GUARD(header(out, ENCLAVE.name, "histogram",
                 "Enclave round trips by op (slot taken to response), whatever the outcome."));
    for (size_t i = 0; i < NOPS; i++) {
        snprintf(labels, sizeof(labels), "op=\"%s\",", OPS[i]);
        GUARD(render_hist(out, &ENCLAVE, labels, &g_enclave[i]));
    }
    GUARD(header(out, AUDIT.name, "histogram",
                 "Audit writes: group-commit wait and commit, successful or not."));
    GUARD(render_hist(out, &AUDIT, "", &g_audit));
    GUARD(header(out, BATCHES.name, "histogram", "Audit records per group commit."));
    GUARD(render_hist(out, &BATCHES, "", &g_batch));
    GUARD(header(out, KEYSVC.name, "histogram",
                 "Key-service credential fetches by the gateway (IMDS)."));
    return render_hist(out, &KEYSVC, "", &g_key_service);
}

typedef struct {
    const char *name;
    const char *type;
    const char *help;
    long long (*value)(void);
} scalar;

#define LOAD_FN(fn, var)                                                                           \
    static long long fn(void)                                                                      \
    {                                                                                              \
        return (long long)atomic_load(&(var));                                                     \
    }
LOAD_FN(v_conns, g_enclave_conns)
LOAD_FN(v_inflight, g_inflight)
LOAD_FN(v_rate_limited, g_rate_limited)
LOAD_FN(v_pool_in_use, g_pool_in_use)
LOAD_FN(v_pool_max, g_pool_max)
LOAD_FN(v_pool_capacity, g_pool_capacity)
LOAD_FN(v_pool_full, g_pool_full)
LOAD_FN(v_audit_failures, g_audit_failures)
LOAD_FN(v_ks_failures, g_key_service_failures)

static const scalar SCALARS[] = {
    {"sigil_enclave_connections", "gauge", "Enclave connections that are booted and ready.",
     v_conns},
    {"sigil_http_requests_in_flight", "gauge", "Requests being handled.", v_inflight},
    {"sigil_rate_limited_total", "counter", "Requests refused with 429.", v_rate_limited},
    {"sigil_enclave_pool_in_use", "gauge", "Enclave request slots in use.", v_pool_in_use},
    {"sigil_enclave_pool_in_use_max", "gauge", "Most enclave request slots in use at once.",
     v_pool_max},
    {"sigil_enclave_pool_capacity", "gauge", "Enclave request slots in all.", v_pool_capacity},
    {"sigil_enclave_pool_full_total", "counter",
     "Enclave calls refused because every slot was in use.", v_pool_full},
    {"sigil_audit_write_failures_total", "counter",
     "Audit writes that failed (the response was withheld: 503 audit_unavailable).",
     v_audit_failures},
    {"sigil_key_service_fetch_failures_total", "counter",
     "Key-service credential fetches by the gateway that failed.", v_ks_failures},
};

int gw_metrics_render(sigil_buf *out, const char *const *names, size_t n)
{
    GUARD(render_requests(out, names, n));
    GUARD(render_sign(out));
    GUARD(render_histograms(out));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SCALARS); i++) {
        const scalar *s = &SCALARS[i];
        GUARD(header(out, s->name, s->type, s->help));
        GUARD(put(out, "%s %lld\n", s->name, s->value()));
    }
    return 0;
}
