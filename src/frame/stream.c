/*
 * The stream layer under frames: an incremental reader for event loops and
 * blocking read/write helpers for threads. Untrusted-input layer: a length
 * prefix is checked before a single payload byte is buffered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sigil/frame.h"

#define FRAME_HDR 4u

static uint32_t frame_len_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int frame_len_check(uint32_t n)
{
    ENSURE(n != 0 && n <= SIGIL_FRAME_MAX, SIGIL_E_PROTOCOL, "frame: length %u outside 1..%u", n,
           SIGIL_FRAME_MAX);
    return 0;
}

int sigil_frame_reader_init(sigil_frame_reader *r)
{
    memset(r, 0, sizeof(*r));
    r->buf = malloc(FRAME_HDR + SIGIL_FRAME_MAX);
    ENSURE(r->buf != NULL, SIGIL_E_NO_MEMORY, "frame: reader buffer");
    return 0;
}

void sigil_frame_reader_free(sigil_frame_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

/* Drops the frame handed out last, keeping what follows it. */
static void reader_compact(sigil_frame_reader *r)
{
    if (r->used == 0)
        return;
    memmove(r->buf, r->buf + r->used, r->len - r->used);
    r->len -= r->used;
    r->used = 0;
}

/* One recv into the buffer's free space (flags: MSG_DONTWAIT or 0).
 * Returns the byte count, 0 on EAGAIN, -1 on close or failure. */
static ssize_t reader_recv(sigil_frame_reader *r, int fd, int flags)
{
    size_t cap = FRAME_HDR + SIGIL_FRAME_MAX;
    for (;;) {
        ssize_t n = recv(fd, r->buf + r->len, cap - r->len, flags);
        if (n > 0) {
            r->len += (size_t)n;
            if (r->len >= FRAME_HDR)
                GUARD(frame_len_check(frame_len_at(r->buf)));
            return n;
        }
        if (n == 0)
            BAIL(SIGIL_E_IO, "frame: peer closed the connection");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        BAIL(SIGIL_E_IO, "frame: read failed: %s", strerror(errno));
    }
}

int sigil_frame_reader_fill(sigil_frame_reader *r, int fd)
{
    reader_compact(r);
    size_t cap = FRAME_HDR + SIGIL_FRAME_MAX;
    if (r->len >= FRAME_HDR)
        GUARD(frame_len_check(frame_len_at(r->buf)));
    while (r->len < cap) {
        size_t room = cap - r->len;
        ssize_t n = reader_recv(r, fd, MSG_DONTWAIT);
        GUARD(n < 0 ? -1 : 0);
        if ((size_t)n < room)
            return 0; /* drained for now (or EAGAIN): the poll reports the rest */
    }
    return 0;
}

int sigil_frame_reader_wait(sigil_frame_reader *r, int fd)
{
    reader_compact(r);
    if (r->len >= FRAME_HDR)
        GUARD(frame_len_check(frame_len_at(r->buf)));
    ENSURE(r->len < FRAME_HDR + SIGIL_FRAME_MAX, SIGIL_E_PROTOCOL, "frame: reader buffer full");
    ssize_t n;
    do {
        n = reader_recv(r, fd, 0);
    } while (n == 0); /* a blocking socket: EAGAIN only after a receive timeout */
    return n < 0 ? -1 : 0;
}

void sigil_frame_reader_reset(sigil_frame_reader *r)
{
    r->len = 0;
    r->used = 0;
}

int sigil_frame_reader_next(sigil_frame_reader *r, const uint8_t **payload, size_t *len)
{
    reader_compact(r);
    if (r->len < FRAME_HDR)
        return 0;
    uint32_t n = frame_len_at(r->buf);
    if (n == 0 || n > SIGIL_FRAME_MAX || r->len - FRAME_HDR < n)
        return 0;
    *payload = r->buf + FRAME_HDR;
    *len = n;
    r->used = FRAME_HDR + n;
    return 1;
}

int sigil_frame_write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        ENSURE(n > 0, SIGIL_E_IO, "frame: write failed: %s", n < 0 ? strerror(errno) : "closed");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_exact(int fd, uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        ENSURE(n != 0, SIGIL_E_IO, "frame: peer closed the connection");
        ENSURE(n > 0, SIGIL_E_IO, "frame: read failed: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sigil_frame_read_one(int fd, sigil_buf *b)
{
    uint8_t hdr[FRAME_HDR];
    GUARD(read_exact(fd, hdr, sizeof(hdr)));
    uint32_t n = frame_len_at(hdr);
    GUARD(frame_len_check(n));
    ENSURE(n <= b->cap, SIGIL_E_TOO_LARGE, "frame: %u bytes do not fit the buffer", n);
    GUARD(read_exact(fd, b->data, n));
    b->len = n;
    return 0;
}
