/*
 * NSM back-end for a real Nitro enclave: /dev/nsm and the raw ioctl of the
 * upstream driver (include/uapi/linux/nsm.h, nitro.md §1.2). libsigil-core.
 * A protocol-level error still arrives as an {"Error": ...} reply; errno
 * only reports transport failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "attest/attest_internal.h"

struct nsm_iovec {
    uint64_t addr;
    uint64_t len;
};
struct nsm_raw {
    struct nsm_iovec request;
    struct nsm_iovec response;
};
_Static_assert(sizeof(struct nsm_raw) == 32, "struct nsm_raw is 32 bytes in the uapi");
#define NSM_IOCTL_RAW 0xC0200A00UL /* _IOWR(0x0A, 0, struct nsm_raw) */

typedef struct {
    int fd;
} nsm_device;

typedef struct {
    int err;
    sigil_err code;
    const char *what;
} errno_map;

static const errno_map IOCTL_ERRORS[] = {
    {EMSGSIZE, SIGIL_E_TOO_LARGE, "request over 4096 bytes"},
    {ETIMEDOUT, SIGIL_E_TIMEOUT, "no reply within the driver's timeout"},
    {ENODATA, SIGIL_E_UNAVAILABLE, "no reply from the device"},
    {EIO, SIGIL_E_UNAVAILABLE, "device I/O error"},
    {EFAULT, SIGIL_E_INTERNAL, "bad buffer address"},
    {EINVAL, SIGIL_E_INTERNAL, "ioctl refused (EINVAL)"},
    {ENOTTY, SIGIL_E_UNAVAILABLE, "not an NSM device"},
};

static int fail_errno(int err)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(IOCTL_ERRORS); i++)
        if (IOCTL_ERRORS[i].err == err)
            BAIL(IOCTL_ERRORS[i].code, "nsm device: %s", IOCTL_ERRORS[i].what);
    BAIL(SIGIL_E_UNAVAILABLE, "nsm device: ioctl failed: %s", strerror(err));
}

static int device_xfer(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp,
                       size_t resp_cap, size_t *resp_len)
{
    nsm_device *d = ctx;
    struct nsm_raw m = {
        .request = {(uint64_t)(uintptr_t)req, req_len},
        .response = {(uint64_t)(uintptr_t)resp, resp_cap},
    };
    int rc;
    do {
        rc = ioctl(d->fd, NSM_IOCTL_RAW, &m);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0)
        return fail_errno(errno);
    ENSURE(m.response.len > 0 && m.response.len <= resp_cap, SIGIL_E_PROTOCOL,
           "nsm device: reply length %llu out of range", (unsigned long long)m.response.len);
    *resp_len = (size_t)m.response.len;
    return 0;
}

static void device_close(void *ctx)
{
    nsm_device *d = ctx;
    if (d == NULL)
        return;
    if (d->fd >= 0)
        close(d->fd);
    free(d);
}

static const nsm_backend DEVICE_BACKEND = {"device", device_xfer, device_close};

int sigil_nsm_open_device(sigil_nsm **n)
{
    nsm_device *d = calloc(1, sizeof(*d));
    ENSURE(d != NULL, SIGIL_E_NO_MEMORY, "nsm device: out of memory");
    d->fd = open("/dev/nsm", O_RDWR | O_CLOEXEC);
    if (d->fd < 0) {
        int err = errno;
        free(d);
        ENSURE(err != ENOENT, SIGIL_E_UNAVAILABLE,
               "nsm device: /dev/nsm does not exist (not a Nitro enclave; use sigil-launch)");
        BAIL(SIGIL_E_UNAVAILABLE, "nsm device: cannot open /dev/nsm: %s", strerror(err));
    }
    return nsm_handle_new(n, &DEVICE_BACKEND, d);
}
