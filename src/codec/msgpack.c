/*
 * msgpack encoding of strict JSON values, byte-identical to Python's
 * msgpack.packb (what Hyperliquid hashes). Untrusted input, public data.
 * msgpack-c's packer does the encoding: it already picks the smallest
 * integer form (fixint/uint8..uint64, negative fixint/int8..int64) and uses
 * str8 (0xd9), so only the JSON walk and the refusal of floats are ours. Its
 * write callback appends to a bounded sigil_buf, so nothing is allocated.
 */
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "sigil/codec.h"

#define PATH_MAX_CHARS 160
#define KEY_SHOW_MAX 40
#define STR_HEADER_MAX 5 /* 0xdb + 32-bit length */

static int buf_write(void *data, const char *p, size_t n)
{
    return sigil_buf_put((sigil_buf *)data, p, n);
}

/* The value's place for error messages: "request.action.orders[0].p". */
typedef struct {
    msgpack_packer pk;
    sigil_buf *out;
    const sigil_json *d;
    char path[PATH_MAX_CHARS];
    size_t plen;
} encoder;

/* Appends to the path; a path that does not fit ends in "…" (truncated). */
static void path_push(encoder *e, const char *s, size_t n)
{
    size_t room = sizeof(e->path) - 1 - e->plen;
    if (n > room)
        n = room;
    memcpy(e->path + e->plen, s, n);
    e->plen += n;
    e->path[e->plen] = '\0';
}

static void path_push_key(encoder *e, uint32_t key)
{
    char show[KEY_SHOW_MAX + 1];
    sigil_slice k = sigil_json_raw(e->d, key);
    size_t n = 0;
    for (size_t i = 0; i < k.len && n < KEY_SHOW_MAX; i++) {
        char c = k.p[i];
        if (c <= 0x20 || c >= 0x7f || c == '"')
            c = '?';
        show[n++] = c;
    }
    path_push(e, ".", 1);
    path_push(e, show, n);
}

static void path_push_index(encoder *e, uint32_t i)
{
    char idx[16];
    int n = snprintf(idx, sizeof(idx), "[%u]", i);
    path_push(e, idx, (size_t)n);
}

static void path_pop(encoder *e, size_t mark)
{
    e->plen = mark;
    e->path[mark] = '\0';
}

/* A JSON string as msgpack str of its unescaped UTF-8 bytes. Escaped text
 * is decoded into the free tail of out, STR_HEADER_MAX bytes ahead, then the
 * header is written and the bytes moved down behind it. */
static int put_json_string(encoder *e, uint32_t t)
{
    sigil_buf *out = e->out;
    if (sigil_json_str_is_plain(e->d, t)) {
        sigil_slice s = sigil_json_raw(e->d, t);
        return msgpack_pack_str_with_body(&e->pk, s.p, s.len);
    }
    ENSURE(out->cap - out->len >= STR_HEADER_MAX, SIGIL_E_TOO_LARGE, "output exceeds %zu bytes",
           out->cap);
    sigil_buf tail;
    sigil_buf_init(&tail, out->data + out->len + STR_HEADER_MAX,
                   out->cap - out->len - STR_HEADER_MAX);
    GUARD(sigil_json_str(e->d, t, &tail));
    GUARD(msgpack_pack_str(&e->pk, tail.len));
    memmove(out->data + out->len, tail.data, tail.len);
    out->len += tail.len;
    return 0;
}

static int put_json_number(encoder *e, uint32_t t)
{
    ENSURE(sigil_json_is_integer(e->d, t), SIGIL_E_BAD_FIELD,
           "%s: numbers with a fraction or exponent cannot be signed (Hyperliquid sends "
           "prices and sizes as strings)",
           e->path);
    if (sigil_json_raw(e->d, t).p[0] == '-') {
        int64_t v;
        GUARD(sigil_json_tok_i64(e->d, t, &v, e->path));
        return msgpack_pack_int64(&e->pk, v);
    }
    uint64_t u;
    GUARD(sigil_json_tok_u64(e->d, t, &u, e->path));
    return msgpack_pack_uint64(&e->pk, u);
}

static int put_json_value(encoder *e, uint32_t t)
{
    const sigil_json *d = e->d;
    size_t mark = e->plen;
    uint32_t i = 0;
    switch (sigil_json_type_of(d, t)) {
    case SIGIL_JSON_OBJECT:
        GUARD(msgpack_pack_map(&e->pk, d->toks[t].size));
        for (uint32_t k = sigil_json_first(d, t); k != 0; k = sigil_json_sibling(d, t, k)) {
            path_push_key(e, k);
            GUARD(put_json_string(e, k));
            GUARD(put_json_value(e, sigil_json_value(k)));
            path_pop(e, mark);
        }
        return 0;
    case SIGIL_JSON_ARRAY:
        GUARD(msgpack_pack_array(&e->pk, d->toks[t].size));
        for (uint32_t c = sigil_json_first(d, t); c != 0; c = sigil_json_sibling(d, t, c)) {
            path_push_index(e, i++);
            GUARD(put_json_value(e, c));
            path_pop(e, mark);
        }
        return 0;
    case SIGIL_JSON_STRING:
        return put_json_string(e, t);
    case SIGIL_JSON_NUMBER:
        return put_json_number(e, t);
    case SIGIL_JSON_TRUE:
        return msgpack_pack_true(&e->pk);
    case SIGIL_JSON_FALSE:
        return msgpack_pack_false(&e->pk);
    case SIGIL_JSON_NULL:
        return msgpack_pack_nil(&e->pk);
    default:
        BAIL(SIGIL_E_INTERNAL, "%s: unknown JSON token type", e->path);
    }
}

int sigil_msgpack_from_json(sigil_buf *out, const sigil_json *d, uint32_t t, const char *where)
{
    encoder e = {.out = out, .d = d, .plen = 0};
    size_t mark = out->len;
    e.path[0] = '\0';
    path_push(&e, where, strlen(where));
    msgpack_packer_init(&e.pk, out, buf_write);
    if (put_json_value(&e, t) != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

/* ---- single items: each fails atomically ---- */
#define PACK_ATOMIC(out, call)                                                                     \
    do {                                                                                           \
        msgpack_packer pk;                                                                         \
        size_t mark_ = (out)->len;                                                                 \
        msgpack_packer_init(&pk, (out), buf_write);                                                \
        if ((call) != 0) {                                                                         \
            (out)->len = mark_;                                                                    \
            return -1;                                                                             \
        }                                                                                          \
        return 0;                                                                                  \
    } while (0)

int sigil_msgpack_put_int(sigil_buf *out, int64_t v)
{
    PACK_ATOMIC(out, msgpack_pack_int64(&pk, v));
}

int sigil_msgpack_put_uint(sigil_buf *out, uint64_t v)
{
    PACK_ATOMIC(out, msgpack_pack_uint64(&pk, v));
}

int sigil_msgpack_put_str(sigil_buf *out, const void *p, size_t n)
{
    ENSURE(n <= UINT32_MAX, SIGIL_E_TOO_LARGE, "msgpack string longer than 2^32-1 bytes");
    PACK_ATOMIC(out, msgpack_pack_str_with_body(&pk, p, n));
}

int sigil_msgpack_put_array_header(sigil_buf *out, uint32_t n)
{
    PACK_ATOMIC(out, msgpack_pack_array(&pk, n));
}

int sigil_msgpack_put_map_header(sigil_buf *out, uint32_t n)
{
    PACK_ATOMIC(out, msgpack_pack_map(&pk, n));
}
