/*
 * Gateway <-> enclave frames (docs/FRAMES.md) and the stream layer under
 * them. libsigil-core, untrusted-input layer: both ends treat the peer's
 * bytes as hostile. A frame is a u32 big-endian length (1..SIGIL_FRAME_MAX)
 * followed by exactly one CBOR map with small unsigned keys.
 */
#ifndef SIGIL_FRAME_H
#define SIGIL_FRAME_H

#include <stdbool.h>

#include "sigil/cbor.h"

#define SIGIL_FRAME_MAX (1u << 20) /* bytes of CBOR after the length */
#define SIGIL_FRAME_VERSION 1u     /* the highest version this build speaks */
#define SIGIL_FRAME_VERSION_MIN 1u /* the lowest */

/* Top-level map keys. Any other key, or a missing one, is a protocol error. */
enum {
    SIGIL_FK_VERSION = 0, /* uint: protocol version (every frame) */
    SIGIL_FK_ID = 1,      /* uint 1..2^63-1: request id, echoed by the response */
    SIGIL_FK_OP = 2,      /* text: operation (requests) */
    SIGIL_FK_ARGS = 3,    /* map with text keys (requests) */
    SIGIL_FK_RESULT = 4,  /* map with text keys (success responses) */
    SIGIL_FK_ERROR = 5,   /* map {"code", "message", "receipt"?: text} (error responses) */
};

typedef enum {
    SIGIL_FRAME_REQUEST,
    SIGIL_FRAME_RESULT,
    SIGIL_FRAME_ERROR,
} sigil_frame_kind;

/* A parsed frame: slices into the payload it was parsed from. */
typedef struct {
    sigil_frame_kind kind;
    uint64_t version;
    uint64_t id;
    const char *op; /* REQUEST */
    size_t op_len;
    /* REQUEST: the args map; RESULT: the result map. Positioned at the map
     * head and bounded to exactly that item. */
    sigil_cursor body;
    sigil_err err; /* ERROR: the code, mapped back with sigil_err_from_code */
    const char *message;
    size_t message_len;
    const char *receipt; /* ERROR: the decision's receipt JSON, or NULL */
    size_t receipt_len;
} sigil_frame;

/* Parses one frame payload (without the length prefix). Trailing bytes,
 * unknown or duplicate keys, wrong types and an id of 0 are
 * SIGIL_E_PROTOCOL. */
SIGIL_WARN_UNUSED_RESULT int sigil_frame_parse(sigil_frame *f, const uint8_t *p, size_t len);

/* Writing: begin (reserves the length prefix and writes the header keys),
 * then the caller writes exactly `n` key/value pairs of args or result with
 * the sigil_cbor_put_* functions (text keys), then finish patches the
 * length. b must be empty when begin is called. */
SIGIL_WARN_UNUSED_RESULT int sigil_frame_begin_request(sigil_buf *b, uint64_t version, uint64_t id,
                                                       const char *op, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_frame_begin_result(sigil_buf *b, uint64_t version, uint64_t id,
                                                      size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_frame_finish(sigil_buf *b);
/* A complete error frame (no finish needed). The message must not contain
 * secrets (it crosses into the untrusted host). */
SIGIL_WARN_UNUSED_RESULT int sigil_frame_error(sigil_buf *b, uint64_t version, uint64_t id,
                                               sigil_err code, const char *message);
/* The same with the receipt of a denied decision (receipt NULL: none). */
SIGIL_WARN_UNUSED_RESULT int sigil_frame_error_receipt(sigil_buf *b, uint64_t version, uint64_t id,
                                                       sigil_err code, const char *message,
                                                       const char *receipt, size_t receipt_len);

/* Reads a map of text keys from a frame body: calls fn(ctx, key, keylen,
 * cursor) once per key with the cursor at the value; fn must consume exactly
 * the value. Duplicate keys are a protocol error. */
typedef int (*sigil_frame_field_fn)(void *ctx, const char *key, size_t key_len, sigil_cursor *c);
SIGIL_WARN_UNUSED_RESULT int sigil_frame_read_map(sigil_cursor *c, sigil_frame_field_fn fn,
                                                  void *ctx);

/* Reads a body map against a spec: every field required (a _OR_NULL field
 * may be null), each at most once, no other key. An unknown key fails with
 * `unknown` (the enclave answers bad_request and keeps the connection; the
 * gateway treats it as protocol_error); a wrong type or length names the
 * field. */
typedef enum {
    SIGIL_FF_TEXT,
    SIGIL_FF_TEXT_OR_NULL,
    SIGIL_FF_BYTES,
    SIGIL_FF_BYTES_OR_NULL,
    SIGIL_FF_BOOL,
    SIGIL_FF_UINT,
    SIGIL_FF_MAP, /* kept as a cursor over the whole map */
} sigil_frame_ftype;

typedef struct {
    const char *name;
    sigil_frame_ftype type;
    size_t exact; /* BYTES: required length, 0 = any */
} sigil_frame_field;

typedef struct {
    const uint8_t *p; /* TEXT/BYTES content (NULL for null) */
    size_t len;
    uint64_t u;
    sigil_cursor map;
    bool present;
    bool null;
    bool b;
} sigil_frame_value;

SIGIL_WARN_UNUSED_RESULT int sigil_frame_fields(sigil_cursor body, const sigil_frame_field *spec,
                                                size_t n, sigil_frame_value *vals,
                                                sigil_err unknown);

/* ---- Incremental reader for (non-blocking) stream sockets. ---- */
typedef struct {
    uint8_t *buf; /* 4 + SIGIL_FRAME_MAX bytes */
    size_t len;   /* bytes buffered */
    size_t used;  /* bytes of the current frame already handed out */
} sigil_frame_reader;

SIGIL_WARN_UNUSED_RESULT int sigil_frame_reader_init(sigil_frame_reader *r);
void sigil_frame_reader_free(sigil_frame_reader *r);
/* Reads what the socket has (never blocks: MSG_DONTWAIT), stopping at the first read that does
 * not fill the buffer: the caller polls level-triggered, so bytes that arrive later are reported
 * again. Returns 0 (more may come; EAGAIN included) or -1: SIGIL_E_IO when the peer closed or the
 * read failed, SIGIL_E_PROTOCOL when a length prefix is 0 or over SIGIL_FRAME_MAX. Frames that
 * arrived before the end are still buffered after -1: drain them with next() first. */
SIGIL_WARN_UNUSED_RESULT int sigil_frame_reader_fill(sigil_frame_reader *r, int fd);
/* For a thread that owns a blocking socket: waits for bytes and buffers what one read returns
 * (often several frames). Returns 0, or -1 as fill() does. Drain next() before each wait. */
SIGIL_WARN_UNUSED_RESULT int sigil_frame_reader_wait(sigil_frame_reader *r, int fd);
/* Forgets everything buffered (a new connection on the same reader). */
void sigil_frame_reader_reset(sigil_frame_reader *r);
/* 1 and the payload of the next complete frame (valid until the next call
 * to fill or next), or 0 when no complete frame is buffered. */
int sigil_frame_reader_next(sigil_frame_reader *r, const uint8_t **payload, size_t *len);

/* Blocking helpers: write all bytes (MSG_NOSIGNAL; EINTR retried), or read
 * exactly one frame payload into b (b->cap >= SIGIL_FRAME_MAX). */
SIGIL_WARN_UNUSED_RESULT int sigil_frame_write_all(int fd, const uint8_t *p, size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_frame_read_one(int fd, sigil_buf *b);

/* ---- Transports: "unix:/path" (dev) or "vsock:CID:PORT" (nitro). ---- */
typedef enum {
    SIGIL_TRANSPORT_UNIX,
    SIGIL_TRANSPORT_VSOCK,
} sigil_transport_kind;

typedef struct {
    sigil_transport_kind kind;
    char path[108]; /* UNIX: socket path */
    uint32_t cid;   /* VSOCK */
    uint32_t port;  /* VSOCK */
} sigil_addr;

SIGIL_WARN_UNUSED_RESULT int sigil_addr_parse(sigil_addr *a, const char *s);
/* Listening socket (CLOEXEC; a stale unix socket file is replaced). */
SIGIL_WARN_UNUSED_RESULT int sigil_transport_listen(const sigil_addr *a, int *fd);
/* Connected stream socket (CLOEXEC, blocking). */
SIGIL_WARN_UNUSED_RESULT int sigil_transport_connect(const sigil_addr *a, int *fd);

#endif
