/*
 * Sigil common layer: error codes, guard macros, bounded buffers and cursors,
 * secure memory for secrets. Everything else in Sigil builds on this header.
 */
#ifndef SIGIL_COMMON_H
#define SIGIL_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define SIGIL_WARN_UNUSED_RESULT __attribute__((warn_unused_result))

/* Stable error codes. The string of each (sigil_err_code) is part of the
 * public contract: CLI errors, HTTP errors and SDKs carry it verbatim. */
typedef enum {
    SIGIL_OK = 0,
    SIGIL_E_BAD_REQUEST,      /* request well-formed JSON but not acceptable */
    SIGIL_E_BAD_JSON,         /* not strict JSON */
    SIGIL_E_TOO_LARGE,        /* input or output over a size limit */
    SIGIL_E_DUPLICATE_KEY,    /* a JSON key or query parameter appears twice */
    SIGIL_E_MISSING_FIELD,    /* required field absent */
    SIGIL_E_UNKNOWN_FIELD,    /* field not in the schema */
    SIGIL_E_BAD_FIELD,        /* field present with a wrong type or value */
    SIGIL_E_OUT_OF_RANGE,     /* number outside the allowed range */
    SIGIL_E_BAD_ENCODING,     /* malformed hex, base64, percent-encoding, UTF-8 */
    SIGIL_E_UNKNOWN_VENUE,    /* venue name not in the table */
    SIGIL_E_UNKNOWN_KEY_TYPE, /* key_type not supported by the venue */
    SIGIL_E_BAD_CREDENTIALS,  /* credentials malformed (never echoes them) */
    SIGIL_E_BAD_ADDRESS,      /* malformed or mismatched address */
    SIGIL_E_USAGE,            /* command-line misuse */
    SIGIL_E_IO,               /* file or stream error */
    SIGIL_E_NO_MEMORY,        /* allocation or memory locking failed */
    SIGIL_E_CRYPTO,           /* a cryptographic primitive failed */
    SIGIL_E_INTERNAL,         /* a bug: should not happen */
    /* Service errors (gateway, enclave, key service, attestation). */
    SIGIL_E_UNAUTHORIZED,      /* missing, unknown or revoked bearer token */
    SIGIL_E_FORBIDDEN,         /* authenticated but not allowed (e.g. tenant mismatch) */
    SIGIL_E_NOT_FOUND,         /* no such key, boot or route (other tenants' keys too) */
    SIGIL_E_CONFLICT,          /* Idempotency-Key reused with a different request */
    SIGIL_E_POLICY_DENIED,     /* the key's policy does not allow this request */
    SIGIL_E_STALE_REQUEST,     /* timestamp/nonce outside the enclave's freshness window */
    SIGIL_E_BAD_SIGNATURE,     /* a signature (policy, client, COSE) does not verify */
    SIGIL_E_ATTESTATION,       /* an attestation document failed verification */
    SIGIL_E_ACCESS_DENIED,     /* the key service refused to release a key */
    SIGIL_E_KEY_SERVICE,       /* the key service failed or is unreachable */
    SIGIL_E_UNAVAILABLE,       /* the enclave (or a dependency) is not available */
    SIGIL_E_RATE_LIMITED,      /* too many requests */
    SIGIL_E_TIMEOUT,           /* a deadline passed */
    SIGIL_E_PROTOCOL,          /* a peer broke the frame/NSM/HTTP protocol */
    SIGIL_E_AUDIT_UNAVAILABLE, /* the audit record could not be written: nothing released */
    SIGIL_E_REVOKED,           /* the key was revoked by its owner (docs/POLICY.md) */
    SIGIL_E_KEY_DISABLED,      /* the key is disabled by its tenant (reversible) */
    SIGIL_E_COUNT_
} sigil_err;

/* Library initialisation (libsodium, secp256k1 context). Idempotent. */
SIGIL_WARN_UNUSED_RESULT int sigil_init(void);

/* Records an error for this thread and returns -1. The message must name the
 * offending field or place and must never contain secret material. */
int sigil_fail(sigil_err code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
sigil_err sigil_errno(void);
const char *sigil_errmsg(void);
const char *sigil_err_code(sigil_err code);
/* Inverse of sigil_err_code (for errors carried across processes);
 * unknown strings map to SIGIL_E_INTERNAL. */
sigil_err sigil_err_from_code(const char *code, size_t len);
void sigil_clear_error(void);

/* Guard macros: keep the happy path flat. */
#define GUARD(x)                                                                                   \
    do {                                                                                           \
        if ((x) != 0)                                                                              \
            return -1;                                                                             \
    } while (0)
#define GUARD_GOTO(x, label)                                                                       \
    do {                                                                                           \
        if ((x) != 0)                                                                              \
            goto label;                                                                            \
    } while (0)
/* sigil_fail always returns -1; the macros return -1 themselves so that
 * static analysers see the early exit. */
#define ENSURE(cond, code, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            (void)sigil_fail((code), __VA_ARGS__);                                                 \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
#define BAIL(code, ...)                                                                            \
    do {                                                                                           \
        (void)sigil_fail((code), __VA_ARGS__);                                                     \
        return -1;                                                                                 \
    } while (0)

#define SIGIL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Bounded output buffer: never grows past cap, fails atomically. ---- */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} sigil_buf;

void sigil_buf_init(sigil_buf *b, void *mem, size_t cap);
SIGIL_WARN_UNUSED_RESULT int sigil_buf_put(sigil_buf *b, const void *p, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_buf_puts(sigil_buf *b, const char *s);
SIGIL_WARN_UNUSED_RESULT int sigil_buf_putc(sigil_buf *b, char c);
SIGIL_WARN_UNUSED_RESULT int sigil_buf_put_u64(sigil_buf *b, uint64_t v);
SIGIL_WARN_UNUSED_RESULT int sigil_buf_put_hex(sigil_buf *b, const uint8_t *p, size_t n);
/* NUL-terminates without counting the terminator in len. */
SIGIL_WARN_UNUSED_RESULT int sigil_buf_cstr(sigil_buf *b);

/* A read-only slice of bytes (not NUL-terminated). */
typedef struct {
    const char *p;
    size_t len;
} sigil_slice;

int sigil_slice_eq(sigil_slice s, const char *lit);

/* ---- Cursor over untrusted bytes: every read is bounds-checked. ---- */
typedef struct {
    const uint8_t *p;
    size_t len;
    size_t off;
} sigil_cursor;

void sigil_cursor_init(sigil_cursor *c, const void *p, size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_cursor_read(sigil_cursor *c, void *out, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_cursor_read_u8(sigil_cursor *c, uint8_t *out);
SIGIL_WARN_UNUSED_RESULT int sigil_cursor_read_be32(sigil_cursor *c, uint32_t *out);
SIGIL_WARN_UNUSED_RESULT int sigil_cursor_read_be64(sigil_cursor *c, uint64_t *out);
size_t sigil_cursor_remaining(const sigil_cursor *c);

/* ---- Secure memory: locked, guarded, non-dumpable, wiped on free. ---- */
typedef struct {
    uint8_t *p;
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
} sigil_secret;

SIGIL_WARN_UNUSED_RESULT int sigil_secret_alloc(sigil_secret *s, size_t cap);
void sigil_secret_free(sigil_secret *s);
void sigil_wipe(void *p, size_t n);
/* Constant-time comparison; returns 1 when equal. */
int sigil_ct_eq(const void *a, const void *b, size_t n);

/* cleanup attribute helper: SIGIL_SECRET(name) declares a secret that is
 * wiped and freed on every path out of the scope. */
void sigil_secret_cleanup(sigil_secret *s);
#define SIGIL_SECRET(name) sigil_secret name __attribute__((cleanup(sigil_secret_cleanup))) = {0}

/* Process hardening for processes that hold secrets: no core dumps,
 * not ptrace-able, memory locked. A no-op under SIGIL_NO_HARDENING. */
SIGIL_WARN_UNUSED_RESULT int sigil_harden_process(void);

#endif
