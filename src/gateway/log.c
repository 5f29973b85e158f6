/*
 * Gateway log lines and clocks. One JSON object per line on stderr
 * (docs/OBSERVABILITY.md): time, level, event, request_id, then the
 * message or the request's fields. Untrusted host code: callers pass only
 * methods, routes, statuses, latencies, tenant names, key ids and error
 * codes; every string is escaped, so no input can forge a line or a field.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/gateway.h"

/* Log lines go through a 64 KiB stdio buffer flushed every 100 ms by a
 * small thread, not one write(2) per request; a crash loses at most the
 * last 100 ms of log lines (never audit records: those are in the store). */
#define LOG_FLUSH_MS 100
#define MSG_MAX 512
#define LOG_LINE_MAX 4096 /* > 6 x every bounded field: lines are never cut */
#define EVENT_MAX 16

static _Thread_local const char *tl_request_id;

static void *log_flusher(void *arg)
{
    (void)arg;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = LOG_FLUSH_MS * 1000000L};
    for (;;) {
        (void)nanosleep(&ts, NULL);
        (void)fflush(stderr);
    }
    return NULL;
}

int gw_log_start(void)
{
    static char buf[1 << 16];
    pthread_t t;
    ENSURE(setvbuf(stderr, buf, _IOFBF, sizeof(buf)) == 0, SIGIL_E_INTERNAL, "log: setvbuf");
    ENSURE(pthread_create(&t, NULL, log_flusher, NULL) == 0, SIGIL_E_INTERNAL,
           "log: cannot start the flusher");
    (void)pthread_detach(t);
    return 0;
}

void gw_log_set_request(const char *request_id)
{
    tl_request_id = request_id;
}

/* ---- one line ---- */
typedef struct {
    char p[LOG_LINE_MAX];
    size_t len;
} log_line;

static void put_raw(log_line *l, const char *s, size_t n)
{
    if (n > sizeof(l->p) - 3 - l->len) /* room for "}\n" and the NUL */
        n = sizeof(l->p) - 3 - l->len;
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

/* A JSON string of at most max bytes of s: '"', '\\' and control bytes
 * escaped; bytes >= 0x80 as \u00XX, so any input makes valid JSON. */
static void put_str(log_line *l, const char *s, size_t max)
{
    static const char HEX[] = "0123456789abcdef";
    put_raw(l, "\"", 1);
    for (size_t i = 0; i < max && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15]};
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            put_raw(l, esc, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            put_raw(l, esc, sizeof(esc));
        } else {
            put_raw(l, (const char *)&c, 1);
        }
    }
    put_raw(l, "\"", 1);
}

static void put_field(log_line *l, const char *key, const char *value, size_t max)
{
    put_raw(l, ",\"", 2);
    put_raw(l, key, strlen(key));
    put_raw(l, "\":", 2);
    put_str(l, value, max);
}

/* {"time":"…","level":"…","event":"…"[,"request_id":"…"] */
static void begin(log_line *l, const char *level, const char *event, const char *request_id)
{
    char t[64];
    struct timespec ts;
    struct tm tm;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    (void)gmtime_r(&ts.tv_sec, &tm);
    snprintf(t, sizeof(t), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    l->len = 0;
    put_raw(l, "{\"time\":\"", 9);
    put_raw(l, t, strlen(t));
    put_raw(l, "\"", 1);
    put_field(l, "level", level, 8);
    put_field(l, "event", event, EVENT_MAX);
    if (request_id != NULL && request_id[0] != '\0')
        put_field(l, "request_id", request_id, GW_REQUEST_ID_MAX);
}

static void end(log_line *l)
{
    memcpy(l->p + l->len, "}\n", 2);
    l->len += 2;
    (void)fwrite(l->p, 1, l->len, stderr);
}

/* The event of a message: its "word:" prefix ([a-z_], 1..16), else
 * "gateway". */
static void event_of(char *out, const char *msg)
{
    size_t n = 0;
    while (n < EVENT_MAX && ((msg[n] >= 'a' && msg[n] <= 'z') || msg[n] == '_'))
        n++;
    if (n == 0 || msg[n] != ':') {
        memcpy(out, "gateway", sizeof("gateway"));
        return;
    }
    memcpy(out, msg, n);
    out[n] = '\0';
}

void gw_logv(const char *level, const char *fmt, va_list ap)
{
    static _Thread_local log_line l;
    char msg[MSG_MAX], event[EVENT_MAX + 1];
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive, callers va_start(ap)
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n') /* libmicrohttpd ends its messages with one */
        msg[--n] = '\0';
    event_of(event, msg);
    begin(&l, level, event, tl_request_id);
    put_field(&l, "msg", msg, sizeof(msg));
    end(&l);
}

void gw_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_logv("info", fmt, ap);
    va_end(ap);
}

void gw_log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_logv("warn", fmt, ap);
    va_end(ap);
}

void gw_log_enclave_failure(const char *op)
{
    static const sigil_err FAILURES[] = {
        SIGIL_E_UNAVAILABLE, SIGIL_E_TIMEOUT,     SIGIL_E_PROTOCOL,     SIGIL_E_TOO_LARGE,
        SIGIL_E_INTERNAL,    SIGIL_E_KEY_SERVICE, SIGIL_E_ACCESS_DENIED};
    sigil_err e = sigil_errno();
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(FAILURES); i++)
        if (FAILURES[i] == e) {
            gw_log_warn("enclave: %.16s call failed (%s): %s", op, sigil_err_code(e),
                        sigil_errmsg());
            return;
        }
}

void gw_log_request(const gw_req *rq, size_t route, unsigned status, uint64_t us)
{
    static _Thread_local log_line l;
    char num[48];
    begin(&l, status >= 500 ? "warn" : "info", "request", rq->request_id);
    put_field(&l, "method", rq->method != NULL ? rq->method : "", 16);
    put_field(&l, "route", route < GW_NROUTES ? GW_ROUTE_NAMES[route] : "unmatched", 64);
    snprintf(num, sizeof(num), ",\"status\":%u,\"duration_ms\":%llu.%03llu", status,
             (unsigned long long)(us / 1000u), (unsigned long long)(us % 1000u));
    put_raw(&l, num, strlen(num));
    static const struct {
        const char *key;
        size_t off;
        size_t max;
    } TEXTS[] = {
        {"tenant", offsetof(gw_req, tenant), SIGIL_TENANT_MAX},
        {"key_id", offsetof(gw_req, key_id), SIGIL_KEY_ID_MAX},
        {"venue", offsetof(gw_req, venue), SIGIL_VENUE_MAX},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(TEXTS); i++) {
        const char *v = (const char *)rq + TEXTS[i].off;
        if (v[0] != '\0')
            put_field(&l, TEXTS[i].key, v, TEXTS[i].max);
    }
    if (status >= 400 && rq->error_code != NULL)
        put_field(&l, "error", rq->error_code, SIGIL_AUDIT_ERROR_CODE_MAX);
    end(&l);
}

uint64_t gw_mono_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
