/*
 * A small protobuf (proto3) writer into a bounded buffer (libsigil-core, no
 * secrets): varints, fixed32, length-delimited fields and nested messages,
 * written in the order called. Scalar helpers omit default values as proto3
 * encoders do; the *_always variants do not (oneof members, packed lists).
 */
#ifndef SIGIL_PROTOBUF_H
#define SIGIL_PROTOBUF_H

#include <stdbool.h>

#include "sigil/common.h"

typedef enum {
    SIGIL_PB_VARINT = 0,
    SIGIL_PB_FIXED64 = 1,
    SIGIL_PB_LEN = 2,
    SIGIL_PB_FIXED32 = 5,
} sigil_pb_wire;

#define SIGIL_PB_FIELD_MAX 536870911u /* 2^29 - 1 */

SIGIL_WARN_UNUSED_RESULT int sigil_pb_varint(sigil_buf *b, uint64_t v);
SIGIL_WARN_UNUSED_RESULT int sigil_pb_tag(sigil_buf *b, uint32_t field, sigil_pb_wire wire);

/* uint32/uint64/int32 (non-negative)/enum/bool as a varint; nothing when 0. */
SIGIL_WARN_UNUSED_RESULT int sigil_pb_uint(sigil_buf *b, uint32_t field, uint64_t v);
SIGIL_WARN_UNUSED_RESULT int sigil_pb_uint_always(sigil_buf *b, uint32_t field, uint64_t v);
/* fixed32, little-endian; nothing when 0. */
SIGIL_WARN_UNUSED_RESULT int sigil_pb_fixed32(sigil_buf *b, uint32_t field, uint32_t v);
SIGIL_WARN_UNUSED_RESULT int sigil_pb_fixed32_always(sigil_buf *b, uint32_t field, uint32_t v);
/* string/bytes; nothing when empty. */
SIGIL_WARN_UNUSED_RESULT int sigil_pb_bytes(sigil_buf *b, uint32_t field, const void *p, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_pb_bytes_always(sigil_buf *b, uint32_t field, const void *p,
                                                   size_t n);

/* A nested message (or packed list): begin writes the tag and records where
 * the content starts; end prefixes the content with its length. Nest freely;
 * the content is moved once per level by the length's size (1-5 bytes). */
typedef struct {
    size_t start;
} sigil_pb_mark;

SIGIL_WARN_UNUSED_RESULT int sigil_pb_begin(sigil_buf *b, uint32_t field, sigil_pb_mark *m);
SIGIL_WARN_UNUSED_RESULT int sigil_pb_end(sigil_buf *b, const sigil_pb_mark *m);

/* google.protobuf.Any{type_url = 1, value = 2} around bytes already encoded. */
SIGIL_WARN_UNUSED_RESULT int sigil_pb_any(sigil_buf *b, uint32_t field, const char *type_url,
                                          const void *value, size_t n);

#endif
