/*
 * Internals shared by src/attest/ (libsigil-core): the NSM transport
 * vtable and small error helpers. Not installed.
 */
#ifndef SIGIL_ATTEST_INTERNAL_H
#define SIGIL_ATTEST_INTERNAL_H

#include <pthread.h>

#include "sigil/attest.h"

/* One back-end of the NSM seam. xfer is called with the handle's mutex held. */
typedef struct {
    const char *name;
    int (*xfer)(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t resp_cap,
                size_t *resp_len);
    void (*close)(void *ctx);
} nsm_backend;

struct sigil_nsm {
    const nsm_backend *be;
    void *ctx;
    pthread_mutex_t lock;
};

/* Wraps a back-end context in a handle; closes ctx on failure. */
SIGIL_WARN_UNUSED_RESULT int nsm_handle_new(sigil_nsm **n, const nsm_backend *be, void *ctx);

/* module_id rule of documents: 1..127 printable ASCII, no spaces. Fails
 * with code, the message prefixed by where. */
SIGIL_WARN_UNUSED_RESULT int attest_check_module_id(const char *m, size_t *len, sigil_err code,
                                                    const char *where);

/* Re-raises the current error under another code, prefixing its message. */
int attest_recode(sigil_err code, const char *prefix);

#endif
