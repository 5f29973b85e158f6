/*
 * sigil-load: a small closed-loop HTTP/1.1 load generator for `make bench-e2e`.
 * C connections (one thread each, keep-alive) send the same POST for D
 * seconds after a warm-up; prints one JSON line with requests/s and latency
 * percentiles. A benchmark tool, not part of the service.
 *
 *   sigil-load HOST PORT PATH TOKEN BODY_FILE CONNECTIONS SECONDS [WARMUP]
 *              [--client-seed HEX --key-id ID]
 *
 * With --client-seed (the 32-byte Ed25519 seed of the key's client key, as
 * `sigil keygen` writes it; a throw-away bench key) BODY_FILE holds the venue
 * request alone, and every request's /v1/sign body is
 *   {"key_id":ID,"request":<BODY_FILE>,"client":{"timestamp","nonce","signature"}}
 * signed afresh (docs/POLICY.md "Client-signed requests") with a nonce used
 * once: this run's random prefix, the connection and a counter. The request
 * text is the file's, byte for byte, so its hash (sigil_request_hash, once:
 * the text never changes) is the enclave's. Signing happens before a
 * request's clock starts; its mean cost is reported as client_sign_us.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sigil/codec.h"
#include "sigil/policy.h"

#define MAX_SAMPLES (1u << 22)
#define RESP_MAX (1u << 20)
#define HEADER_MAX 1024
#define RUN_ID_BYTES 8 /* the nonces' random prefix: 16 hex digits */
#define CLIENT_MSG_MAX                                                                             \
    (SIGIL_REQUEST_SIG_PREFIX_LEN + 4 + SIGIL_KEY_ID_HEX + 32 + 8 + 4 + SIGIL_CLIENT_NONCE_MAX)

/* Client-signing mode: what every request's signature is made from. */
typedef struct {
    const char *path, *host, *port, *token;
    const char *key_id;
    const char *request; /* the venue request's text (BODY_FILE) */
    size_t request_len;
    uint8_t request_hash[32];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    char run_id[2 * RUN_ID_BYTES + 1];
} client_mode;

typedef struct {
    const char *host;
    int port;
    const char *req;
    size_t req_len;
    double warmup_s, run_s;
    double start;
    uint32_t *lat_us; /* this thread's samples */
    size_t n, cap;
    size_t errors, non200;
    size_t answered; /* every answered request, warm-up included (for CPU per request) */
    /* client-signing mode (NULL: req is sent as is) */
    const client_mode *cm;
    int index;
    uint64_t counter;
    char *own_req; /* this thread's request, rebuilt before each send */
    size_t own_cap;
    double sign_s; /* time spent building signed requests */
    size_t signed_n;
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The body of a client-signed request: a fresh nonce, the clock, Ed25519. */
static int signed_body(char *out, size_t cap, worker *w)
{
    const client_mode *cm = w->cm;
    uint8_t mem[CLIENT_MSG_MAX], sig[crypto_sign_BYTES];
    char nonce[SIGIL_CLIENT_NONCE_MAX + 1], sig_hex[2 * crypto_sign_BYTES + 1];
    sigil_buf msg;
    uint64_t ts = wall_ms();
    int nl = snprintf(nonce, sizeof(nonce), "%s-%d-%llu", cm->run_id, w->index,
                      (unsigned long long)w->counter++);
    sigil_buf_init(&msg, mem, sizeof(mem));
    if (nl < 0 || (size_t)nl >= sizeof(nonce) ||
        sigil_client_message(&msg, cm->key_id, cm->request_hash, ts, nonce, (size_t)nl) != 0 ||
        crypto_sign_detached(sig, NULL, msg.data, msg.len, cm->sk) != 0)
        return -1;
    sigil_hex_encode(sig_hex, sig, sizeof(sig));
    return snprintf(out, cap,
                    "{\"key_id\":\"%s\",\"request\":%.*s,\"client\":{\"timestamp\":%llu,"
                    "\"nonce\":\"%s\",\"signature\":\"%s\"}}",
                    cm->key_id, (int)cm->request_len, cm->request, (unsigned long long)ts, nonce,
                    sig_hex);
}

/* Rebuilds w->own_req (headers and a freshly signed body); w->req points to it. */
static int build_signed(worker *w)
{
    const client_mode *cm = w->cm;
    double t0 = now_s();
    char *body = w->own_req + HEADER_MAX;
    int bn = signed_body(body, w->own_cap - HEADER_MAX, w);
    if (bn < 0 || (size_t)bn >= w->own_cap - HEADER_MAX)
        return -1;
    char head[HEADER_MAX];
    int hn = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                      cm->path, cm->host, cm->port, cm->token, bn);
    if (hn < 0 || hn >= HEADER_MAX)
        return -1;
    /* headers end right where the body starts */
    memcpy(body - hn, head, (size_t)hn);
    w->req = body - hn;
    w->req_len = (size_t)hn + (size_t)bn;
    w->sign_s += now_s() - t0;
    w->signed_n++;
    return 0;
}

/* Reads one response (Content-Length framing); returns the status or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL)
            continue;
        char *cl = strcasestr(buf, "content-length:");
        if (cl == NULL || cl > end)
            return -1;
        size_t body = strtoul(cl + 15, NULL, 10);
        size_t need = (size_t)(end + 4 - buf) + body;
        if (need >= cap)
            return -1;
        while (len < need) {
            n = read(fd, buf + len, need - len);
            if (n <= 0)
                return -1;
            len += (size_t)n;
        }
        return atoi(buf + 9);
    }
}

static void *run(void *arg)
{
    worker *w = arg;
    char *buf = malloc(RESP_MAX);
    int fd = connect_to(w->host, w->port);
    while (buf != NULL && fd >= 0) {
        double t0 = now_s();
        if (t0 - w->start > w->warmup_s + w->run_s)
            break;
        if (w->cm != NULL) {
            if (build_signed(w) != 0) {
                w->errors++;
                break;
            }
            t0 = now_s(); /* the client's signing is not the service's latency */
        }
        size_t off = 0;
        while (off < w->req_len) {
            ssize_t n = write(fd, w->req + off, w->req_len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        int status = off == w->req_len ? read_response(fd, buf, RESP_MAX) : -1;
        double t1 = now_s();
        if (status >= 0)
            w->answered++;
        if (t0 - w->start < w->warmup_s)
            continue;
        if (status < 0) {
            w->errors++;
            close(fd);
            fd = connect_to(w->host, w->port);
            continue;
        }
        if (status != 200)
            w->non200++;
        if (w->n < w->cap)
            w->lat_us[w->n++] = (uint32_t)((t1 - t0) * 1e6);
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *p = malloc(1 << 20);
    *len = p ? fread(p, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    return p;
}

/* Client-signing mode from the trailing options; 0 when there are none. */
static int client_setup(client_mode *cm, int argc, char **argv, int first, const char *body,
                        size_t body_len)
{
    const char *seed_hex = NULL;
    uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    if ((argc - first) % 2 != 0)
        return -1;
    for (int i = first; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--client-seed") == 0)
            seed_hex = argv[i + 1];
        else if (strcmp(argv[i], "--key-id") == 0)
            cm->key_id = argv[i + 1];
        else
            return -1;
    }
    if (seed_hex == NULL && cm->key_id == NULL)
        return 0;
    while (body_len > 0 && strchr(" \t\r\n", body[body_len - 1]) != NULL)
        body_len--;
    if (seed_hex == NULL || cm->key_id == NULL || sodium_init() < 0 ||
        sigil_key_id_valid(cm->key_id, strlen(cm->key_id)) != 0 ||
        sigil_hex_decode_exact(seed, sizeof(seed), seed_hex, strlen(seed_hex), false, "seed") !=
            0 ||
        sigil_request_hash(cm->request_hash, body, body_len) != 0)
        return -1;
    crypto_sign_seed_keypair(pk, cm->sk, seed);
    sodium_memzero(seed, sizeof(seed));
    uint8_t run_id[RUN_ID_BYTES];
    randombytes_buf(run_id, sizeof(run_id));
    sigil_hex_encode(cm->run_id, run_id, sizeof(run_id));
    cm->request = body;
    cm->request_len = body_len;
    cm->path = argv[3];
    cm->host = argv[1];
    cm->port = argv[2];
    cm->token = argv[4];
    return 1;
}

int main(int argc, char **argv)
{
    static client_mode cm;
    if (argc < 8) {
        fprintf(stderr, "usage: sigil-load HOST PORT PATH TOKEN BODY_FILE CONNECTIONS SECONDS "
                        "[WARMUP] [--client-seed HEX --key-id ID]\n");
        return 2;
    }
    size_t body_len;
    char *body = read_file(argv[5], &body_len);
    int conns = atoi(argv[6]);
    if (body == NULL || conns < 1 || conns > 1024) {
        fprintf(stderr, "sigil-load: bad body file or connection count\n");
        return 2;
    }
    /* WARMUP is optional: the options start at argv[8] or argv[9] */
    bool has_warmup = argc > 8 && strncmp(argv[8], "--", 2) != 0;
    int client = client_setup(&cm, argc, argv, has_warmup ? 9 : 8, body, body_len);
    if (client < 0) {
        fprintf(stderr,
                "sigil-load: client signing needs --client-seed <64 hex> and --key-id "
                "<32 hex>, and BODY_FILE must be the venue request (JSON)%s%s\n",
                sigil_errno() != SIGIL_OK ? ": " : "",
                sigil_errno() != SIGIL_OK ? sigil_errmsg() : "");
        return 2;
    }
    size_t cap = strlen(argv[3]) + strlen(argv[4]) + body_len + 512;
    char *req = malloc(cap);
    int n = snprintf(req, cap,
                     "POST %s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     argv[3], argv[1], argv[2], argv[4], body_len);
    memcpy(req + n, body, body_len);
    worker *ws = calloc((size_t)conns, sizeof(*ws));
    pthread_t *ts = calloc((size_t)conns, sizeof(*ts));
    double start = now_s();
    for (int i = 0; i < conns; i++) {
        ws[i] = (worker){.host = argv[1],
                         .port = atoi(argv[2]),
                         .req = req,
                         .req_len = (size_t)n + body_len,
                         .run_s = atof(argv[7]),
                         .warmup_s = has_warmup ? atof(argv[8]) : 1.0,
                         .start = start,
                         .cap = MAX_SAMPLES / (size_t)conns,
                         .index = i};
        ws[i].lat_us = malloc(ws[i].cap * sizeof(uint32_t));
        if (client) {
            ws[i].cm = &cm;
            ws[i].own_cap = HEADER_MAX + body_len + strlen(argv[4]) + 1024;
            ws[i].own_req = malloc(ws[i].own_cap);
        }
        pthread_create(&ts[i], NULL, run, &ws[i]);
    }
    size_t total = 0, errors = 0, non200 = 0, signed_n = 0, answered = 0;
    double sign_s = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(ts[i], NULL);
        total += ws[i].n;
        errors += ws[i].errors;
        non200 += ws[i].non200;
        answered += ws[i].answered;
        signed_n += ws[i].signed_n;
        sign_s += ws[i].sign_s;
        free(ws[i].own_req);
    }
    sodium_memzero(cm.sk, sizeof(cm.sk));
    uint32_t *all = malloc((total + 1) * sizeof(uint32_t));
    size_t k = 0;
    for (int i = 0; i < conns; i++)
        for (size_t j = 0; j < ws[i].n; j++)
            all[k++] = ws[i].lat_us[j];
    qsort(all, total, sizeof(uint32_t), cmp_u32);
    double run_s = atof(argv[7]);
    printf("{\"connections\":%d,\"requests\":%zu,\"req_per_s\":%.0f,\"p50_us\":%u,"
           "\"p99_us\":%u,\"errors\":%zu,\"non_200\":%zu,\"answered\":%zu",
           conns, total, (double)total / run_s, total ? all[total / 2] : 0,
           total ? all[(size_t)((double)total * 0.99)] : 0, errors, non200, answered);
    if (client)
        printf(",\"client_signed\":%zu,\"client_sign_us\":%.1f", signed_n,
               signed_n ? sign_s * 1e6 / (double)signed_n : 0.0);
    printf("}\n");
    return errors == 0 && non200 == 0 ? 0 : 1;
}
