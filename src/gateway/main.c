/*
 * sigil-gateway: the HTTP API in front of the enclave. Untrusted host
 * process: it holds bearer-token hashes, sealed blobs, the audit log and the
 * key-service credentials it passes to the enclave at boot, never a tenant's
 * plaintext secret. Links libsigil-core only (tests check its symbols).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/harden.h"
#include "gateway/http.h"
#include "gateway/store_group.h"
#include "gateway/store_pg.h"

typedef struct {
    const char *home;
    const char *store;
    const char *listen;
    const char *enclave;
    const char *ready_file;
    const char *kms_credentials;
    const char *imds;
    const char *tls_cert;
    const char *tls_key;
    const char *mode;
    const char *audit_sync;
    uint64_t threads;
    uint64_t conns;
    uint64_t rate;
    uint64_t burst;
    uint64_t body_limit;
    uint64_t deadline_ms;
    uint64_t peer_usage_ms;
} options;

typedef struct {
    const char *flag;
    size_t off;
    bool numeric;
    uint64_t min, max;
} option_def;

#define STR_OPT(f, m)                                                                              \
    {                                                                                              \
        f, offsetof(options, m), false, 0, 0                                                       \
    }
#define NUM_OPT(f, m, lo, hi)                                                                      \
    {                                                                                              \
        f, offsetof(options, m), true, lo, hi                                                      \
    }
static const option_def OPTIONS[] = {
    STR_OPT("--home", home),
    STR_OPT("--store", store),
    STR_OPT("--listen", listen),
    STR_OPT("--enclave", enclave),
    STR_OPT("--ready-file", ready_file),
    STR_OPT("--kms-credentials", kms_credentials),
    STR_OPT("--imds", imds),
    STR_OPT("--tls-cert", tls_cert),
    STR_OPT("--tls-key", tls_key),
    STR_OPT("--mode", mode),
    STR_OPT("--audit-sync", audit_sync),
    NUM_OPT("--threads", threads, 1, 1024),
    NUM_OPT("--enclave-conns", conns, 1, 64),
    NUM_OPT("--rate", rate, 1, 1000000),
    NUM_OPT("--burst", burst, 1, 1000000000),
    NUM_OPT("--body-limit", body_limit, 64, 16u << 20),
    NUM_OPT("--deadline-ms", deadline_ms, 1, 600000),
    NUM_OPT("--peer-usage-ms", peer_usage_ms, 0, 60000),
};

#define ATTESTATION_RATE 5
#define ATTESTATION_BURST 10
#define LIMITER_SLOTS 65536

static const char USAGE[] =
    "usage: sigil-gateway --enclave unix:PATH|vsock:CID:PORT [--home DIR] [--listen HOST:PORT]\n"
    "  [--store postgresql://...|sqlite:PATH]\n"
    "  [--ready-file FILE] [--kms-credentials FILE|imds [--imds http://HOST[:PORT]]]\n"
    "  [--tls-cert PEM --tls-key PEM]\n"
    "  [--threads N] [--enclave-conns N] [--rate PER_SEC] [--burst N] [--body-limit BYTES]\n"
    "  [--deadline-ms N] [--mode dev|nitro]\n  [--audit-sync full|normal] [--peer-usage-ms N]\n";

static int parse_u64(uint64_t *out, const char *s, const option_def *d)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    ENSURE(s[0] >= '0' && s[0] <= '9' && errno == 0 && end != s && *end == '\0' && v >= d->min &&
               v <= d->max,
           SIGIL_E_USAGE, "%s: expected an integer in %llu..%llu", d->flag,
           (unsigned long long)d->min, (unsigned long long)d->max);
    *out = v;
    return 0;
}

static int parse_args(options *o, int argc, char **argv)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (options){.listen = "127.0.0.1:0",
                   .mode = "dev",
                   .audit_sync = "full",
                   /* A handler thread waits for the enclave, so the pool is
                    * sized for requests in flight, not for CPUs. */
                   .threads = n > 0 && 8 * (uint64_t)n > 16 ? 8 * (uint64_t)n : 16,
                   .conns = 2,
                   .rate = 1000,
                   .burst = 2000,
                   .body_limit = 65536,
                   .deadline_ms = 5000,
                   .peer_usage_ms = GW_PEER_USAGE_MS};
    for (int i = 1; i < argc; i += 2) {
        size_t k = 0;
        while (k < SIGIL_ARRAY_LEN(OPTIONS) && strcmp(argv[i], OPTIONS[k].flag) != 0)
            k++;
        ENSURE(k < SIGIL_ARRAY_LEN(OPTIONS), SIGIL_E_USAGE, "unknown option (see --help)");
        ENSURE(i + 1 < argc, SIGIL_E_USAGE, "%s: missing value", OPTIONS[k].flag);
        char *field = (char *)o + OPTIONS[k].off;
        if (OPTIONS[k].numeric)
            GUARD(parse_u64((uint64_t *)(void *)field, argv[i + 1], &OPTIONS[k]));
        else
            *(const char **)(void *)field = argv[i + 1];
    }
    ENSURE(o->enclave != NULL, SIGIL_E_USAGE, "--enclave: required");
    ENSURE(strcmp(o->mode, "dev") == 0 || strcmp(o->mode, "nitro") == 0, SIGIL_E_USAGE,
           "--mode: must be dev or nitro");
    ENSURE(strcmp(o->audit_sync, "full") == 0 || strcmp(o->audit_sync, "normal") == 0,
           SIGIL_E_USAGE, "--audit-sync: must be full or normal");
    ENSURE((o->tls_cert == NULL) == (o->tls_key == NULL), SIGIL_E_USAGE,
           "--tls-cert and --tls-key go together");
    bool imds = o->kms_credentials != NULL && strcmp(o->kms_credentials, "imds") == 0;
    ENSURE(o->imds == NULL || imds, SIGIL_E_USAGE, "--imds: only with --kms-credentials imds");
    if (o->imds != NULL)
        GUARD(gw_imds_check_url(o->imds));
    return 0;
}

/* "127.0.0.1:8080" or "[::1]:8080" */
static int parse_listen(gw_http_config *h, const char *s)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    ENSURE(colon != NULL && colon != s, SIGIL_E_USAGE, "--listen: expected HOST:PORT");
    size_t hl = (size_t)(colon - s);
    char *end = NULL;
    unsigned long port = strtoul(colon + 1, &end, 10);
    ENSURE(colon[1] != '\0' && *end == '\0' && port <= 65535, SIGIL_E_USAGE, "--listen: bad port");
    bool v6 = s[0] == '[' && hl >= 2 && s[hl - 1] == ']';
    if (v6) {
        s++;
        hl -= 2;
    }
    ENSURE(hl < sizeof(host), SIGIL_E_USAGE, "--listen: host too long");
    memcpy(host, s, hl);
    host[hl] = '\0';
    memset(&h->addr, 0, sizeof(h->addr));
    h->ipv6 = v6;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&h->addr;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        ENSURE(inet_pton(AF_INET6, host, &a->sin6_addr) == 1, SIGIL_E_USAGE,
               "--listen: bad IPv6 address");
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)&h->addr;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    ENSURE(inet_pton(AF_INET, host, &a->sin_addr) == 1, SIGIL_E_USAGE,
           "--listen: bad IPv4 address (use [v6] for IPv6)");
    return 0;
}

/* {"url":"http://HOST:PORT"} written to FILE.tmp, then renamed. */
static int write_ready(const char *path, const gw_http_config *h, bool tls, uint16_t port)
{
    char host[INET6_ADDRSTRLEN], tmp[4096];
    const void *src = h->ipv6 ? (const void *)&((const struct sockaddr_in6 *)&h->addr)->sin6_addr
                              : (const void *)&((const struct sockaddr_in *)&h->addr)->sin_addr;
    ENSURE(inet_ntop(h->ipv6 ? AF_INET6 : AF_INET, src, host, sizeof(host)) != NULL,
           SIGIL_E_INTERNAL, "ready file: address");
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    ENSURE(n > 0 && (size_t)n < sizeof(tmp), SIGIL_E_USAGE, "--ready-file: path too long");
    FILE *f = fopen(tmp, "w");
    ENSURE(f != NULL, SIGIL_E_IO, "--ready-file: cannot write");
    fprintf(f, "{\"url\":\"%s://%s%s%s:%u\"}\n", tls ? "https" : "http", h->ipv6 ? "[" : "", host,
            h->ipv6 ? "]" : "", port);
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    ENSURE(ok && rename(tmp, path) == 0, SIGIL_E_IO, "--ready-file: cannot write");
    return 0;
}

typedef struct {
    sigil_store *store;
    gw_keeper *keeper;
    gw_server srv;
    gw_http *http;
} gateway;

static int start(gateway *gw, const options *o)
{
    gw_http_config hc = {.threads = (unsigned)o->threads,
                         .body_limit = o->body_limit,
                         .tls_cert = o->tls_cert,
                         .tls_key = o->tls_key};
    gw_enclave_config ec = {.conns = (unsigned)o->conns,
                            .kms_credentials = o->kms_credentials,
                            .imds_url = o->imds,
                            .mode = o->mode};
    uint16_t port = 0;
    GUARD(parse_listen(&hc, o->listen));
    GUARD(sigil_addr_parse(&ec.addr, o->enclave));
    GUARD(sigil_store_open_url(&gw->store, o->store, o->home, strcmp(o->audit_sync, "full") == 0));
    GUARD(gw_keeper_start(&gw->keeper, gw->store));
    ec.store = gw->store;
    gw->srv.store = gw->store;
    gw->srv.mode = o->mode;
    gw->srv.deadline_ms = o->deadline_ms;
    (void)pthread_mutex_init(&gw->srv.ready_mu, NULL);
    GUARD(gw_cache_init(&gw->srv.token_cache, 1024, sizeof(sigil_token_record), GW_CACHE_TTL_MS));
    GUARD(gw_cache_init(&gw->srv.key_cache, 1024, 4096, GW_CACHE_TTL_MS));
    GUARD(gw_cache_init(&gw->srv.peer_cache, 256, GW_PEERS_MAX, o->peer_usage_ms));
    GUARD(gw_limiter_init(&gw->srv.api_limiter, (gw_rate){o->rate, o->burst}, LIMITER_SLOTS));
    GUARD(gw_limiter_init(&gw->srv.attestation_limiter,
                          (gw_rate){ATTESTATION_RATE, ATTESTATION_BURST}, LIMITER_SLOTS));
    GUARD(gw_enclave_start(&gw->srv.enclave, &ec));
    GUARD(gw_http_start(&gw->http, &gw->srv, &hc, &port));
    GUARD(gw_harden_seccomp(strcmp(o->mode, "dev") == 0));
    if (o->ready_file != NULL)
        GUARD(write_ready(o->ready_file, &hc, o->tls_cert != NULL, port));
    gw_log("listening on port %u (%s mode, %s)", port, o->mode,
           o->tls_cert != NULL ? "https" : "http");
    return 0;
}

static void stop(gateway *gw)
{
    gw_http_stop(gw->http);
    gw_enclave_stop(gw->srv.enclave);
    gw_keeper_stop(gw->keeper);
    gw_limiter_free(&gw->srv.api_limiter);
    gw_cache_free(gw->srv.token_cache);
    gw_cache_free(gw->srv.key_cache);
    gw_cache_free(gw->srv.peer_cache);
    gw_limiter_free(&gw->srv.attestation_limiter);
    if (gw->store != NULL)
        gw->store->ops->close(gw->store);
}

static int report(void)
{
    char mem[512];
    sigil_buf b;
    sigil_jw w;
    sigil_buf_init(&b, mem, sizeof(mem) - 1);
    sigil_jw_init(&w, &b);
    if (sigil_jw_obj_begin(&w) || sigil_jw_key(&w, "error") || sigil_jw_obj_begin(&w) ||
        sigil_jw_key(&w, "code") || sigil_jw_str(&w, sigil_err_code(sigil_errno())) ||
        sigil_jw_key(&w, "message") || sigil_jw_str(&w, sigil_errmsg()) || sigil_jw_obj_end(&w) ||
        sigil_jw_obj_end(&w))
        b.len = 0;
    mem[b.len] = '\0';
    fprintf(stderr, "%s\n", mem);
    return sigil_errno() == SIGIL_E_USAGE ? 2 : 1;
}

#define GW_MALLOC_ARENAS 2

int main(int argc, char **argv)
{
    options o;
    gateway gw = {0};
    sigset_t sigs;
    int sig = 0;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(USAGE, stdout);
        return 0;
    }
    /* Signals are taken by sigwait below, in this thread only. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    (void)pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    /* glibc gives each new thread its own malloc arena, up to 8 per CPU.
     * With 16+ handler threads each allocating and freeing connection
     * pools and bodies in its own arena, freed memory is scattered over
     * arenas that seldom reuse or return it: RSS climbed steadily (23 to
     * 58 MB in two minutes of stalled clients, docs/SOAK.md). Two
     * arenas keep it flat; the per-thread tcache still serves the small
     * allocations without a lock. */
    (void)mallopt(M_ARENA_MAX, GW_MALLOC_ARENAS);
    if (sigil_init() != 0 || parse_args(&o, argc, argv) != 0 || gw_log_start() != 0)
        return report();
    sigil_group_batch_hook = gw_metrics_audit_batch;
    if (start(&gw, &o) != 0) {
        int rc = report();
        stop(&gw);
        return rc;
    }
    (void)sigwait(&sigs, &sig);
    gw_log("signal %d: stopping", sig);
    stop(&gw);
    (void)fflush(stderr);
    return 0;
}
