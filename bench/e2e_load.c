/*
 * sigil-load: a small closed-loop HTTP/1.1 load generator for `make bench-e2e`.
 * C connections (one thread each, keep-alive) send the same POST for D
 * seconds after a warm-up; prints one JSON line with requests/s and latency
 * percentiles. A benchmark tool, not part of the service.
 *
 *   sigil-load HOST PORT PATH TOKEN BODY_FILE CONNECTIONS SECONDS [WARMUP]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1u << 22)
#define RESP_MAX (1u << 20)

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
        size_t off = 0;
        while (off < w->req_len) {
            ssize_t n = write(fd, w->req + off, w->req_len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        int status = off == w->req_len ? read_response(fd, buf, RESP_MAX) : -1;
        double t1 = now_s();
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

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: sigil-load HOST PORT PATH TOKEN BODY_FILE CONNECTIONS SECONDS "
                        "[WARMUP]\n");
        return 2;
    }
    size_t body_len;
    char *body = read_file(argv[5], &body_len);
    int conns = atoi(argv[6]);
    if (body == NULL || conns < 1 || conns > 1024) {
        fprintf(stderr, "sigil-load: bad body file or connection count\n");
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
                         .warmup_s = argc > 8 ? atof(argv[8]) : 1.0,
                         .start = start,
                         .cap = MAX_SAMPLES / (size_t)conns};
        ws[i].lat_us = malloc(ws[i].cap * sizeof(uint32_t));
        pthread_create(&ts[i], NULL, run, &ws[i]);
    }
    size_t total = 0, errors = 0, non200 = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(ts[i], NULL);
        total += ws[i].n;
        errors += ws[i].errors;
        non200 += ws[i].non200;
    }
    uint32_t *all = malloc((total + 1) * sizeof(uint32_t));
    size_t k = 0;
    for (int i = 0; i < conns; i++)
        for (size_t j = 0; j < ws[i].n; j++)
            all[k++] = ws[i].lat_us[j];
    qsort(all, total, sizeof(uint32_t), cmp_u32);
    double run_s = atof(argv[7]);
    printf("{\"connections\":%d,\"requests\":%zu,\"req_per_s\":%.0f,\"p50_us\":%u,"
           "\"p99_us\":%u,\"errors\":%zu,\"non_200\":%zu}\n",
           conns, total, (double)total / run_s, total ? all[total / 2] : 0,
           total ? all[(size_t)((double)total * 0.99)] : 0, errors, non200);
    return errors == 0 && non200 == 0 ? 0 : 1;
}
