/*
 * The enclave's frame loop (trusted; the peer is not). A fixed pool of
 * workers shares one epoll set with one-shot events: the worker woken for a
 * connection reads its frames, re-arms it so that other workers can take
 * the next ones, and runs what it took. So many requests are in flight per
 * connection, a slow key-service call does not stall the others, and a
 * request costs no hand-off between threads. A malformed frame closes that
 * connection only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "enclave/enclave.h"

#define SEND_TIMEOUT_S 5

typedef struct conn {
    int fd;
    sigil_frame_reader reader;
    pthread_mutex_t write_lock;
    int refs; /* the loop's, plus one per queued or running job */
    bool closed;
    uint64_t version; /* 0 until the hello */
} conn;

/* A frame taken off a connection, processed by the worker that read it. */
typedef struct {
    uint8_t *payload;
    size_t len;
} job;

#define BATCH_MAX 64

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;

static void conn_unref(conn *c)
{
    pthread_mutex_lock(&conn_lock);
    int left = --c->refs;
    pthread_mutex_unlock(&conn_lock);
    if (left > 0)
        return;
    close(c->fd);
    sigil_frame_reader_free(&c->reader);
    pthread_mutex_destroy(&c->write_lock);
    free(c);
}

static void conn_ref(conn *c)
{
    pthread_mutex_lock(&conn_lock);
    c->refs++;
    pthread_mutex_unlock(&conn_lock);
}

/* Writes one response; a failed write closes the connection for everyone. */
static void conn_send(conn *c, const sigil_buf *frame)
{
    pthread_mutex_lock(&c->write_lock);
    if (!c->closed && sigil_frame_write_all(c->fd, frame->data, frame->len) != 0) {
        c->closed = true;
        shutdown(c->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&c->write_lock);
}

static void conn_close(conn *c, const char *why)
{
    pthread_mutex_lock(&c->write_lock);
    if (!c->closed) {
        fprintf(stderr, "sigil-enclave: closing connection %d: %s\n", c->fd, why);
        c->closed = true;
        shutdown(c->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&c->write_lock);
}

static int reply_now(conn *c, uint64_t version, uint64_t id, sigil_err code, const char *msg)
{
    uint8_t mem[1024];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    GUARD(sigil_frame_error(&b, version, id, code, msg));
    conn_send(c, &b);
    return 0;
}

/* The hello: picks the highest version both sides speak. */
static int hello(conn *c, const sigil_frame *f, const enclave_state *st)
{
    size_t n, nkeys;
    uint64_t best = 0;
    sigil_cursor cur = f->body;
    ENSURE(sigil_cbor_text_eq(f->op, f->op_len, "hello"), SIGIL_E_PROTOCOL,
           "the first frame must be hello");
    GUARD(sigil_cbor_get_map(&cur, &nkeys, "hello args"));
    const char *k;
    size_t klen;
    ENSURE(nkeys == 1, SIGIL_E_PROTOCOL, "hello: expected {versions}");
    GUARD(sigil_cbor_get_text(&cur, &k, &klen, "hello key"));
    ENSURE(sigil_cbor_text_eq(k, klen, "versions"), SIGIL_E_PROTOCOL, "hello: expected versions");
    GUARD(sigil_cbor_get_array(&cur, &n, "hello versions"));
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        GUARD(sigil_cbor_get_uint(&cur, &v, "hello version"));
        if (v >= SIGIL_FRAME_VERSION_MIN && v <= SIGIL_FRAME_VERSION && v > best)
            best = v;
    }
    if (best == 0) {
        (void)reply_now(c, f->version, f->id, SIGIL_E_PROTOCOL, "no common protocol version");
        BAIL(SIGIL_E_PROTOCOL, "hello: no common protocol version");
    }
    uint8_t mem[256];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    GUARD(sigil_frame_begin_result(&b, best, f->id, 2));
    GUARD(sigil_cbor_put_cstr(&b, "version"));
    GUARD(sigil_cbor_put_uint(&b, best));
    GUARD(sigil_cbor_put_cstr(&b, "mode"));
    GUARD(sigil_cbor_put_cstr(&b, st->cfg->mode));
    GUARD(sigil_frame_finish(&b));
    c->version = best;
    conn_send(c, &b);
    return 0;
}

/* Reads what the connection sent and takes its frames out (copied, so
 * that the connection can be re-armed for other workers at once). Returns
 * -1 when the connection must close; frames taken before that still run. */
static int conn_take(conn *c, const enclave_state *st, job *jobs, size_t *n)
{
    const uint8_t *payload;
    size_t len;
    *n = 0;
    int rc = sigil_frame_reader_fill(&c->reader, c->fd);
    while (*n < BATCH_MAX && sigil_frame_reader_next(&c->reader, &payload, &len) == 1) {
        sigil_frame f;
        GUARD(sigil_frame_parse(&f, payload, len));
        ENSURE(f.kind == SIGIL_FRAME_REQUEST, SIGIL_E_PROTOCOL, "expected a request frame");
        if (c->version == 0) {
            GUARD(hello(c, &f, st));
            continue;
        }
        ENSURE(f.version == c->version, SIGIL_E_PROTOCOL, "frame version %llu, negotiated %llu",
               (unsigned long long)f.version, (unsigned long long)c->version);
        uint8_t *copy = malloc(len);
        ENSURE(copy != NULL, SIGIL_E_NO_MEMORY, "frame: out of memory");
        memcpy(copy, payload, len);
        jobs[(*n)++] = (job){copy, len};
    }
    return rc;
}

static void run_job(enclave_state *st, conn *c, job *j, sigil_buf *out)
{
    sigil_frame f;
    out->len = 0;
    if (sigil_frame_parse(&f, j->payload, j->len) == 0 &&
        enclave_dispatch(st, c->version, &f, out) == 0)
        conn_send(c, out);
    else
        conn_close(c, sigil_errmsg());
    sigil_wipe(j->payload, j->len);
    free(j->payload);
}

typedef struct {
    enclave_state *st;
    int ep;
    int lfd;
} loop_ctx;

static void accept_all(int ep, int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return;
        conn *c = calloc(1, sizeof(*c));
        if (c == NULL || sigil_frame_reader_init(&c->reader) != 0) {
            free(c);
            close(fd);
            continue;
        }
        struct timeval tv = {.tv_sec = SEND_TIMEOUT_S};
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        c->fd = fd;
        c->refs = 1;
        pthread_mutex_init(&c->write_lock, NULL);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
            conn_unref(c);
    }
}

/* One worker: waits on the shared epoll set (one-shot, so a connection is
 * read by one worker at a time), takes the frames, re-arms the connection
 * for the others and runs the frames itself. */
static void *worker_main(void *arg)
{
    const loop_ctx *lc = arg;
    uint8_t *mem = malloc(4 + SIGIL_FRAME_MAX);
    job *jobs = malloc(sizeof(job) * BATCH_MAX);
    if (mem == NULL || jobs == NULL) {
        fprintf(stderr, "sigil-enclave: worker out of memory\n");
        exit(1);
    }
    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(lc->ep, &ev, 1, -1);
        if (n <= 0)
            continue;
        conn *c = ev.data.ptr;
        if (c == NULL) {
            accept_all(lc->ep, lc->lfd);
            struct epoll_event lev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = NULL};
            (void)epoll_ctl(lc->ep, EPOLL_CTL_MOD, lc->lfd, &lev);
            continue;
        }
        size_t njobs;
        int rc = conn_take(c, lc->st, jobs, &njobs);
        conn_ref(c);
        if (rc == 0) {
            struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.ptr = c};
            if (epoll_ctl(lc->ep, EPOLL_CTL_MOD, c->fd, &cev) != 0)
                rc = sigil_fail(SIGIL_E_IO, "epoll: %s", strerror(errno));
        }
        char why[256] = "";
        if (rc != 0)
            snprintf(why, sizeof(why), "%s", sigil_errmsg());
        sigil_buf out;
        sigil_buf_init(&out, mem, 4 + SIGIL_FRAME_MAX);
        for (size_t i = 0; i < njobs; i++)
            run_job(lc->st, c, &jobs[i], &out);
        if (rc != 0) { /* no one else holds this connection's event now */
            conn_close(c, why);
            (void)epoll_ctl(lc->ep, EPOLL_CTL_DEL, c->fd, NULL);
            conn_unref(c); /* the epoll set's reference */
        }
        /* The analyzer assumes refs was <= 0 on entry; the epoll set holds a reference
         * while c is registered, so the first unref above never frees c. */
        conn_unref(c); // NOLINT(clang-analyzer-unix.Malloc): false positive, see above
    }
    return NULL;
}

int enclave_serve(enclave_state *st, int lfd)
{
    static loop_ctx lc;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ENSURE(ep >= 0, SIGIL_E_IO, "epoll: %s", strerror(errno));
    int fl = fcntl(lfd, F_GETFL);
    ENSURE(fl >= 0 && fcntl(lfd, F_SETFL, fl | O_NONBLOCK) == 0, SIGIL_E_IO, "listen socket: %s",
           strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = NULL};
    ENSURE(epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == 0, SIGIL_E_IO, "epoll: %s", strerror(errno));
    lc = (loop_ctx){.st = st, .ep = ep, .lfd = lfd};
    for (unsigned i = 1; i < st->cfg->workers; i++) {
        pthread_t t;
        ENSURE(pthread_create(&t, NULL, worker_main, &lc) == 0, SIGIL_E_INTERNAL,
               "cannot start worker %u", i);
        pthread_detach(t);
    }
    worker_main(&lc);
    return 0;
}
