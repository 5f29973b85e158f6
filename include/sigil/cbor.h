/*
 * Strict CBOR (RFC 8949) reader and writer for the protocols Sigil speaks:
 * NSM messages, COSE_Sign1 attestation documents and gateway<->enclave frames.
 * libsigil-core, untrusted-input layer. The reader never allocates: text and
 * byte strings are slices of the input. Definite lengths only; floats,
 * undefined and reserved encodings are refused (none of these protocols uses
 * them). Integers in non-shortest form are accepted because real attestation
 * documents use them (the 9-byte timestamp); the writer always emits the
 * shortest form unless a width is forced.
 */
#ifndef SIGIL_CBOR_H
#define SIGIL_CBOR_H

#include <stdbool.h>

#include "sigil/common.h"

typedef enum {
    SIGIL_CBOR_UINT = 0,
    SIGIL_CBOR_NINT = 1, /* value is -1 - val */
    SIGIL_CBOR_BYTES = 2,
    SIGIL_CBOR_TEXT = 3,  /* UTF-8 validated */
    SIGIL_CBOR_ARRAY = 4, /* val = number of items that follow */
    SIGIL_CBOR_MAP = 5,   /* val = number of pairs that follow */
    SIGIL_CBOR_TAG = 6,   /* val = tag number; the tagged item follows */
    SIGIL_CBOR_FALSE = 20,
    SIGIL_CBOR_TRUE = 21,
    SIGIL_CBOR_NULL = 22,
} sigil_cbor_type;

typedef struct {
    sigil_cbor_type type;
    uint64_t val;       /* uint/nint argument, string length, item/pair count or tag */
    const uint8_t *ptr; /* BYTES/TEXT: the content (val bytes) inside the input */
} sigil_cbor_item;

/* Nesting limit for sigil_cbor_skip: at most 16 levels of items, so 16
 * arrays around a scalar are refused. */
#define SIGIL_CBOR_MAX_DEPTH 16

/* ---- Reader: every function consumes atomically or fails with
 * SIGIL_E_BAD_ENCODING (malformed), SIGIL_E_BAD_FIELD (wrong type) or
 * SIGIL_E_OUT_OF_RANGE (get_int beyond int64). ---- */

/* Reads one head; byte and text strings are consumed with their content. */
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_next(sigil_cursor *c, sigil_cbor_item *out);
/* Looks at the next head without consuming. */
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_peek(const sigil_cursor *c, sigil_cbor_item *out);
/* Skips one whole data item (nested up to SIGIL_CBOR_MAX_DEPTH). */
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_skip(sigil_cursor *c);

/* Typed getters; `what` names the field in the error message. */
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_get_uint(sigil_cursor *c, uint64_t *out, const char *what);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_get_int(sigil_cursor *c, int64_t *out, const char *what);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_get_bool(sigil_cursor *c, bool *out, const char *what);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_get_bytes(sigil_cursor *c, const uint8_t **p, size_t *len,
                                                  const char *what);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_get_text(sigil_cursor *c, const char **p, size_t *len,
                                                 const char *what);
/* Byte string or null (p = NULL, len = 0). */
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_get_bytes_or_null(sigil_cursor *c, const uint8_t **p,
                                                          size_t *len, const char *what);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_get_array(sigil_cursor *c, size_t *count, const char *what);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_get_map(sigil_cursor *c, size_t *count, const char *what);
/* True when the next item is null; consumes it then. */
bool sigil_cbor_take_null(sigil_cursor *c);
/* Text-string equality helper for map keys. */
bool sigil_cbor_text_eq(const char *p, size_t len, const char *lit);

/* ---- Writer: appends to a bounded buffer; fails with SIGIL_E_TOO_LARGE. ---- */
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_head(sigil_buf *b, unsigned major, uint64_t arg);
/* Head with a forced argument width of 1, 2, 4 or 8 bytes (e.g. the 9-byte
 * timestamp and 3-byte payload length of real attestation documents). */
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_head_wide(sigil_buf *b, unsigned major, uint64_t arg,
                                                      unsigned width);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_uint(sigil_buf *b, uint64_t v);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_int(sigil_buf *b, int64_t v);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_bytes(sigil_buf *b, const void *p, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_text(sigil_buf *b, const char *p, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_cstr(sigil_buf *b, const char *s);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_array(sigil_buf *b, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_map(sigil_buf *b, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_bool(sigil_buf *b, bool v);
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_null(sigil_buf *b);
/* Byte string, or null when p is NULL. */
SIGIL_WARN_UNUSED_RESULT int sigil_cbor_put_bytes_or_null(sigil_buf *b, const void *p, size_t n);

#endif
