/*
 * sigil-launch's NSM server side: frames requests off the enclave's socket,
 * hands them to the soft NSM and frames its replies back. Untrusted peer:
 * a malformed request gets an Error reply from the soft NSM; a broken
 * framing (length 0, or over 1 MiB) closes that socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launch/launch.h"

#define DISCARD_MAX ((size_t)1 << 20)

void nsm_conn_open(nsm_conn *c, int fd)
{
    memset(c->hdr, 0, sizeof(c->hdr));
    c->fd = fd;
    c->hdr_got = c->need = c->got = c->out_len = c->out_off = 0;
    c->discarding = false;
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void nsm_conn_close(nsm_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

short nsm_conn_events(const nsm_conn *c)
{
    if (c->fd < 0)
        return 0;
    return c->out_len > 0 ? POLLOUT : POLLIN;
}

/* 1: bytes read, 0: would block, -1: EOF or error (connection closed). */
static int read_some(nsm_conn *c, uint8_t *p, size_t n, size_t *got)
{
    ssize_t r = recv(c->fd, p, n, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (r <= 0) {
        if (r < 0)
            launch_log("nsm socket: read failed: %s", strerror(errno));
        nsm_conn_close(c);
        return -1;
    }
    *got += (size_t)r;
    return 1;
}

static void reply(nsm_conn *c, sigil_nsm_soft *soft, sigil_nsm_error forced)
{
    sigil_buf b;
    sigil_buf_init(&b, c->out + 4, SIGIL_NSM_RESPONSE_MAX);
    int rc = forced != SIGIL_NSM_SUCCESS ? sigil_nsm_reply_error(&b, forced)
                                         : sigil_nsm_soft_handle(soft, &b, c->req, c->need);
    if (rc != 0) {
        launch_log("nsm: cannot build a reply: %s", sigil_errmsg());
        nsm_conn_close(c);
        return;
    }
    c->out[0] = (uint8_t)(b.len >> 24);
    c->out[1] = (uint8_t)(b.len >> 16);
    c->out[2] = (uint8_t)(b.len >> 8);
    c->out[3] = (uint8_t)b.len;
    c->out_len = 4 + b.len;
    c->out_off = 0;
    c->hdr_got = c->got = c->need = 0;
    c->discarding = false;
}

static int start_body(nsm_conn *c)
{
    size_t n =
        (size_t)c->hdr[0] << 24 | (size_t)c->hdr[1] << 16 | (size_t)c->hdr[2] << 8 | c->hdr[3];
    if (n == 0 || n > DISCARD_MAX) {
        launch_log("nsm socket: bad request length %zu, closing", n);
        nsm_conn_close(c);
        return -1;
    }
    c->need = n;
    c->got = 0;
    c->discarding = n > SIGIL_NSM_REQUEST_MAX;
    return 0;
}

static void read_progress(nsm_conn *c, sigil_nsm_soft *soft)
{
    uint8_t sink[4096];
    for (;;) {
        int r;
        if (c->hdr_got < 4) {
            r = read_some(c, c->hdr + c->hdr_got, 4 - c->hdr_got, &c->hdr_got);
            if (r <= 0 || (c->hdr_got == 4 && start_body(c) != 0))
                return;
            continue;
        }
        if (c->got < c->need) {
            size_t want = c->need - c->got;
            if (c->discarding)
                r = read_some(c, sink, want < sizeof(sink) ? want : sizeof(sink), &c->got);
            else
                r = read_some(c, c->req + c->got, want, &c->got);
            if (r <= 0)
                return;
        }
        if (c->got == c->need) {
            reply(c, soft, c->discarding ? SIGIL_NSM_INPUT_TOO_LARGE : SIGIL_NSM_SUCCESS);
            return; /* one request at a time: the reply goes out first */
        }
    }
}

static void write_progress(nsm_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (w <= 0) {
            launch_log("nsm socket: write failed: %s", w < 0 ? strerror(errno) : "closed");
            nsm_conn_close(c);
            return;
        }
        c->out_off += (size_t)w;
    }
    c->out_len = c->out_off = 0;
}

void nsm_conn_service(nsm_conn *c, sigil_nsm_soft *soft, short revents)
{
    if (c->fd < 0 || revents == 0)
        return;
    if (c->out_len > 0) {
        if (revents & (POLLOUT | POLLERR | POLLHUP))
            write_progress(c);
        return;
    }
    if (revents & (POLLIN | POLLERR | POLLHUP))
        read_progress(c, soft);
    if (c->fd >= 0 && c->out_len > 0)
        write_progress(c); /* usually fits the socket buffer at once */
}
