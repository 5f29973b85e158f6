/*
 * NSM back-end for dev mode: a stream socket inherited from sigil-launch.
 * Each message, both ways, is a u32 big-endian length and the same CBOR
 * /dev/nsm takes (request <= 4096, reply <= 0x3000). libsigil-core. The
 * launcher is the enclave's NSM here, so a broken stream is final: every
 * later request fails rather than resynchronising on guessed boundaries.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attest/attest_internal.h"

#define NSM_SOCKET_TIMEOUT_MS 120000 /* the driver's own timeout */

typedef struct {
    int fd;
    bool broken;
} nsm_socket;

static int wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int rc;
    do {
        rc = poll(&p, 1, NSM_SOCKET_TIMEOUT_MS);
    } while (rc < 0 && errno == EINTR);
    ENSURE(rc != 0, SIGIL_E_TIMEOUT, "nsm socket: no progress within %d ms", NSM_SOCKET_TIMEOUT_MS);
    ENSURE(rc > 0, SIGIL_E_UNAVAILABLE, "nsm socket: poll failed: %s", strerror(errno));
    return 0;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            GUARD(wait_fd(fd, POLLOUT));
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        ENSURE(w > 0, SIGIL_E_UNAVAILABLE, "nsm socket: send failed: %s",
               w < 0 ? strerror(errno) : "closed");
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int recv_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            GUARD(wait_fd(fd, POLLIN));
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        ENSURE(r != 0, SIGIL_E_UNAVAILABLE, "nsm socket: the launcher closed the connection");
        ENSURE(r > 0, SIGIL_E_UNAVAILABLE, "nsm socket: receive failed: %s", strerror(errno));
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int socket_exchange(nsm_socket *s, const uint8_t *req, size_t req_len, uint8_t *resp,
                           size_t resp_cap, size_t *resp_len)
{
    uint8_t hdr[4] = {(uint8_t)(req_len >> 24), (uint8_t)(req_len >> 16), (uint8_t)(req_len >> 8),
                      (uint8_t)req_len};
    GUARD(send_all(s->fd, hdr, sizeof(hdr)));
    GUARD(send_all(s->fd, req, req_len));
    GUARD(recv_all(s->fd, hdr, sizeof(hdr)));
    size_t n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    ENSURE(n > 0 && n <= SIGIL_NSM_RESPONSE_MAX, SIGIL_E_PROTOCOL,
           "nsm socket: reply length %zu out of range (1..%u)", n, SIGIL_NSM_RESPONSE_MAX);
    ENSURE(n <= resp_cap, SIGIL_E_TOO_LARGE,
           "nsm socket: reply of %zu bytes over the %zu-byte "
           "buffer",
           n, resp_cap);
    GUARD(recv_all(s->fd, resp, n));
    *resp_len = n;
    return 0;
}

static int socket_xfer(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp,
                       size_t resp_cap, size_t *resp_len)
{
    nsm_socket *s = ctx;
    ENSURE(!s->broken, SIGIL_E_UNAVAILABLE, "nsm socket: the connection broke earlier");
    if (socket_exchange(s, req, req_len, resp, resp_cap, resp_len) != 0) {
        s->broken = true;
        return -1;
    }
    return 0;
}

static void socket_close(void *ctx)
{
    nsm_socket *s = ctx;
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

static const nsm_backend SOCKET_BACKEND = {"socket", socket_xfer, socket_close};

int sigil_nsm_open_socket(sigil_nsm **n, int fd)
{
    int type = 0;
    socklen_t tl = sizeof(type);
    ENSURE(fd >= 0, SIGIL_E_USAGE, "nsm socket: bad file descriptor %d", fd);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM) {
        close(fd);
        BAIL(SIGIL_E_USAGE, "nsm socket: fd %d is not a stream socket", fd);
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC); /* not inherited by anything the enclave runs */
    nsm_socket *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        close(fd);
        BAIL(SIGIL_E_NO_MEMORY, "nsm socket: out of memory");
    }
    s->fd = fd;
    return nsm_handle_new(n, &SOCKET_BACKEND, s);
}
