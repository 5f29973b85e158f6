/*
 * Protobuf writer (libsigil-core, no secrets). Bytes are written in call
 * order, so a message's field order is its encoder's; every write is bounded
 * by the buffer and fails whole.
 */
#include <string.h>

#include "sigil/protobuf.h"

#define VARINT_MAX 10

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void varint_write(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p = (uint8_t)v;
}

int sigil_pb_varint(sigil_buf *b, uint64_t v)
{
    uint8_t tmp[VARINT_MAX];
    varint_write(tmp, v);
    return sigil_buf_put(b, tmp, varint_len(v));
}

int sigil_pb_tag(sigil_buf *b, uint32_t field, sigil_pb_wire wire)
{
    ENSURE(field >= 1 && field <= SIGIL_PB_FIELD_MAX, SIGIL_E_INTERNAL,
           "protobuf: field number %u out of range", field);
    return sigil_pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

int sigil_pb_uint_always(sigil_buf *b, uint32_t field, uint64_t v)
{
    size_t mark = b->len;
    if (sigil_pb_tag(b, field, SIGIL_PB_VARINT) != 0 || sigil_pb_varint(b, v) != 0) {
        b->len = mark;
        return -1;
    }
    return 0;
}

int sigil_pb_uint(sigil_buf *b, uint32_t field, uint64_t v)
{
    return v == 0 ? 0 : sigil_pb_uint_always(b, field, v);
}

int sigil_pb_fixed32_always(sigil_buf *b, uint32_t field, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    size_t mark = b->len;
    if (sigil_pb_tag(b, field, SIGIL_PB_FIXED32) != 0 || sigil_buf_put(b, le, 4) != 0) {
        b->len = mark;
        return -1;
    }
    return 0;
}

int sigil_pb_fixed32(sigil_buf *b, uint32_t field, uint32_t v)
{
    return v == 0 ? 0 : sigil_pb_fixed32_always(b, field, v);
}

int sigil_pb_bytes_always(sigil_buf *b, uint32_t field, const void *p, size_t n)
{
    size_t mark = b->len;
    if (sigil_pb_tag(b, field, SIGIL_PB_LEN) != 0 || sigil_pb_varint(b, n) != 0 ||
        sigil_buf_put(b, p, n) != 0) {
        b->len = mark;
        return -1;
    }
    return 0;
}

int sigil_pb_bytes(sigil_buf *b, uint32_t field, const void *p, size_t n)
{
    return n == 0 ? 0 : sigil_pb_bytes_always(b, field, p, n);
}

int sigil_pb_begin(sigil_buf *b, uint32_t field, sigil_pb_mark *m)
{
    GUARD(sigil_pb_tag(b, field, SIGIL_PB_LEN));
    m->start = b->len;
    return 0;
}

int sigil_pb_end(sigil_buf *b, const sigil_pb_mark *m)
{
    ENSURE(m->start <= b->len, SIGIL_E_INTERNAL, "protobuf: unbalanced nested message");
    size_t n = b->len - m->start, k = varint_len(n);
    ENSURE(b->cap - b->len >= k, SIGIL_E_TOO_LARGE, "protobuf: message larger than its buffer");
    memmove(b->data + m->start + k, b->data + m->start, n);
    varint_write(b->data + m->start, n);
    b->len += k;
    return 0;
}

int sigil_pb_any(sigil_buf *b, uint32_t field, const char *type_url, const void *value, size_t n)
{
    sigil_pb_mark m;
    size_t mark = b->len;
    if (sigil_pb_begin(b, field, &m) != 0 ||
        sigil_pb_bytes(b, 1, type_url, strlen(type_url)) != 0 ||
        sigil_pb_bytes(b, 2, value, n) != 0 || sigil_pb_end(b, &m) != 0) {
        b->len = mark;
        return -1;
    }
    return 0;
}
