/*
 * The enclave's frame loop (trusted; the peer is not). One epoll thread
 * accepts connections, reads frames and answers the version hello; a fixed
 * pool of workers runs the operations, so many requests are in flight per
 * connection and a slow key-service call does not stall the others.
 * A malformed frame closes that connection only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "enclave/enclave.h"

#define QUEUE_MAX 4096u
#define EVENTS_MAX 64
#define SEND_TIMEOUT_S 5

typedef struct conn {
    int fd;
    sigil_frame_reader reader;
    pthread_mutex_t write_lock;
    int refs; /* the loop's, plus one per queued or running job */
    bool closed;
    uint64_t version; /* 0 until the hello */
} conn;

typedef struct {
    conn *c;
    uint8_t *payload;
    size_t len;
} job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    job items[QUEUE_MAX];
    size_t head, count;
} queue = {.lock = PTHREAD_MUTEX_INITIALIZER, .nonempty = PTHREAD_COND_INITIALIZER};

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

static void *worker_main(void *arg)
{
    enclave_state *st = arg;
    uint8_t *mem = malloc(4 + SIGIL_FRAME_MAX);
    if (mem == NULL) {
        fprintf(stderr, "sigil-enclave: worker out of memory\n");
        exit(1);
    }
    for (;;) {
        pthread_mutex_lock(&queue.lock);
        while (queue.count == 0)
            pthread_cond_wait(&queue.nonempty, &queue.lock);
        job j = queue.items[queue.head];
        queue.head = (queue.head + 1) % QUEUE_MAX;
        queue.count--;
        pthread_mutex_unlock(&queue.lock);

        sigil_frame f;
        sigil_buf out;
        sigil_buf_init(&out, mem, 4 + SIGIL_FRAME_MAX);
        /* The loop parsed this frame already; parse again on our copy. */
        if (sigil_frame_parse(&f, j.payload, j.len) == 0 &&
            enclave_dispatch(st, j.c->version, &f, &out) == 0)
            conn_send(j.c, &out);
        else
            conn_close(j.c, sigil_errmsg());
        sigil_wipe(j.payload, j.len);
        free(j.payload);
        conn_unref(j.c);
    }
    return NULL;
}

static int reply_now(conn *c, uint64_t version, uint64_t id, sigil_err code, const char *msg)
{
    uint8_t mem[512];
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

static int enqueue(conn *c, const sigil_frame *f, const uint8_t *payload, size_t len)
{
    uint8_t *copy = malloc(len);
    ENSURE(copy != NULL, SIGIL_E_NO_MEMORY, "queue: out of memory");
    memcpy(copy, payload, len);
    pthread_mutex_lock(&queue.lock);
    if (queue.count == QUEUE_MAX) {
        pthread_mutex_unlock(&queue.lock);
        free(copy);
        return reply_now(c, c->version, f->id, SIGIL_E_UNAVAILABLE, "enclave: queue full");
    }
    conn_ref(c);
    queue.items[(queue.head + queue.count) % QUEUE_MAX] = (job){c, copy, len};
    queue.count++;
    pthread_cond_signal(&queue.nonempty);
    pthread_mutex_unlock(&queue.lock);
    return 0;
}

/* Everything the connection has sent; -1 closes it. */
static int conn_readable(conn *c, const enclave_state *st)
{
    const uint8_t *payload;
    size_t len;
    int rc = sigil_frame_reader_fill(&c->reader, c->fd);
    while (sigil_frame_reader_next(&c->reader, &payload, &len) == 1) {
        sigil_frame f;
        GUARD(sigil_frame_parse(&f, payload, len));
        ENSURE(f.kind == SIGIL_FRAME_REQUEST, SIGIL_E_PROTOCOL, "expected a request frame");
        if (c->version == 0) {
            GUARD(hello(c, &f, st));
            continue;
        }
        ENSURE(f.version == c->version, SIGIL_E_PROTOCOL, "frame version %llu, negotiated %llu",
               (unsigned long long)f.version, (unsigned long long)c->version);
        GUARD(enqueue(c, &f, payload, len));
    }
    return rc;
}

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
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            conn_unref(c);
            continue;
        }
        /* One at a time: the listening socket is level-triggered. */
        return;
    }
}

int enclave_serve(enclave_state *st, int lfd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ENSURE(ep >= 0, SIGIL_E_IO, "epoll: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    ENSURE(epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == 0, SIGIL_E_IO, "epoll: %s", strerror(errno));
    for (unsigned i = 0; i < st->cfg->workers; i++) {
        pthread_t t;
        ENSURE(pthread_create(&t, NULL, worker_main, st) == 0, SIGIL_E_INTERNAL,
               "cannot start worker %u", i);
        pthread_detach(t);
    }
    struct epoll_event evs[EVENTS_MAX];
    for (;;) {
        int n = epoll_wait(ep, evs, EVENTS_MAX, -1);
        if (n < 0 && errno == EINTR)
            continue;
        ENSURE(n >= 0, SIGIL_E_IO, "epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c == NULL) {
                accept_all(ep, lfd);
                continue;
            }
            if (conn_readable(c, st) != 0) {
                conn_close(c, sigil_errmsg());
                (void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                conn_unref(c);
            }
        }
    }
}
