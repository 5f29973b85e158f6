/*
 * Strict CBOR reader and writer (RFC 8949 subset: definite lengths, no
 * floats). Untrusted-input layer: every read is bounds-checked through the
 * cursor and consumes atomically (the cursor only moves on success).
 */
#include <string.h>

#include "sigil/cbor.h"
#include "sigil/codec.h"

#define CBOR_AI_1 24u
#define CBOR_AI_8 27u
#define CBOR_SIMPLE_FALSE 20u
#define CBOR_SIMPLE_NULL 22u

/* Decodes one head at c->off without moving the cursor; *used = head bytes
 * plus string content. */
static int cbor_decode(const sigil_cursor *c, sigil_cbor_item *out, size_t *used)
{
    size_t avail = sigil_cursor_remaining(c);
    const uint8_t *p = c->p + c->off;
    ENSURE(avail >= 1, SIGIL_E_BAD_ENCODING, "cbor: truncated item");
    unsigned major = p[0] >> 5, ai = p[0] & 0x1fu;
    uint64_t arg = ai;
    size_t head = 1;
    if (ai >= CBOR_AI_1) {
        ENSURE(ai <= CBOR_AI_8, SIGIL_E_BAD_ENCODING,
               "cbor: indefinite or reserved length at offset %zu", c->off);
        size_t width = (size_t)1 << (ai - CBOR_AI_1);
        ENSURE(avail >= 1 + width, SIGIL_E_BAD_ENCODING, "cbor: truncated head");
        arg = 0;
        for (size_t i = 0; i < width; i++)
            arg = (arg << 8) | p[1 + i];
        head += width;
    }
    out->val = arg;
    out->ptr = NULL;
    switch (major) {
    case SIGIL_CBOR_UINT:
    case SIGIL_CBOR_NINT:
    case SIGIL_CBOR_ARRAY:
    case SIGIL_CBOR_MAP:
    case SIGIL_CBOR_TAG:
        out->type = (sigil_cbor_type)major;
        break;
    case SIGIL_CBOR_BYTES:
    case SIGIL_CBOR_TEXT:
        ENSURE(arg <= avail - head, SIGIL_E_BAD_ENCODING, "cbor: string runs past the end");
        out->type = (sigil_cbor_type)major;
        out->ptr = p + head;
        if (major == SIGIL_CBOR_TEXT)
            ENSURE(sigil_utf8_valid(out->ptr, (size_t)arg), SIGIL_E_BAD_ENCODING,
                   "cbor: text string is not UTF-8");
        head += (size_t)arg;
        break;
    case 7:
        ENSURE(ai >= CBOR_SIMPLE_FALSE && ai <= CBOR_SIMPLE_NULL, SIGIL_E_BAD_ENCODING,
               "cbor: unsupported simple value or float at offset %zu", c->off);
        out->type = (sigil_cbor_type)ai;
        break;
    default:
        BAIL(SIGIL_E_INTERNAL, "cbor: impossible major type");
    }
    *used = head;
    return 0;
}

int sigil_cbor_peek(const sigil_cursor *c, sigil_cbor_item *out)
{
    size_t used;
    return cbor_decode(c, out, &used);
}

int sigil_cbor_next(sigil_cursor *c, sigil_cbor_item *out)
{
    size_t used;
    GUARD(cbor_decode(c, out, &used));
    c->off += used;
    return 0;
}

static int cbor_skip_depth(sigil_cursor *c, unsigned depth)
{
    sigil_cbor_item it;
    ENSURE(depth < SIGIL_CBOR_MAX_DEPTH, SIGIL_E_BAD_ENCODING, "cbor: nested too deeply");
    GUARD(sigil_cbor_next(c, &it));
    uint64_t children = 0;
    if (it.type == SIGIL_CBOR_ARRAY)
        children = it.val;
    else if (it.type == SIGIL_CBOR_MAP)
        children = it.val * 2;
    else if (it.type == SIGIL_CBOR_TAG)
        children = 1;
    /* Every child needs at least one byte: refuse counts the input cannot hold. */
    ENSURE(children <= sigil_cursor_remaining(c) &&
               (it.type != SIGIL_CBOR_MAP || it.val <= SIZE_MAX / 2),
           SIGIL_E_BAD_ENCODING, "cbor: item count exceeds the input");
    for (uint64_t i = 0; i < children; i++)
        GUARD(cbor_skip_depth(c, depth + 1));
    return 0;
}

int sigil_cbor_skip(sigil_cursor *c)
{
    size_t start = c->off;
    if (cbor_skip_depth(c, 0) != 0) {
        c->off = start;
        return -1;
    }
    return 0;
}

/* Reads one item of the wanted type; the cursor moves only on success. */
static int cbor_expect(sigil_cursor *c, sigil_cbor_item *it, sigil_cbor_type want, const char *what,
                       const char *type_name)
{
    size_t used;
    GUARD(cbor_decode(c, it, &used));
    ENSURE(it->type == want, SIGIL_E_BAD_FIELD, "%s: expected %s", what, type_name);
    c->off += used;
    return 0;
}

int sigil_cbor_get_uint(sigil_cursor *c, uint64_t *out, const char *what)
{
    sigil_cbor_item it;
    GUARD(cbor_expect(c, &it, SIGIL_CBOR_UINT, what, "an unsigned integer"));
    *out = it.val;
    return 0;
}

int sigil_cbor_get_int(sigil_cursor *c, int64_t *out, const char *what)
{
    sigil_cbor_item it;
    size_t used;
    GUARD(cbor_decode(c, &it, &used));
    ENSURE(it.type == SIGIL_CBOR_UINT || it.type == SIGIL_CBOR_NINT, SIGIL_E_BAD_FIELD,
           "%s: expected an integer", what);
    ENSURE(it.val <= (uint64_t)INT64_MAX, SIGIL_E_OUT_OF_RANGE, "%s: integer out of range", what);
    *out = it.type == SIGIL_CBOR_UINT ? (int64_t)it.val : -1 - (int64_t)it.val;
    c->off += used;
    return 0;
}

int sigil_cbor_get_bool(sigil_cursor *c, bool *out, const char *what)
{
    sigil_cbor_item it;
    size_t used;
    GUARD(cbor_decode(c, &it, &used));
    ENSURE(it.type == SIGIL_CBOR_TRUE || it.type == SIGIL_CBOR_FALSE, SIGIL_E_BAD_FIELD,
           "%s: expected a boolean", what);
    *out = it.type == SIGIL_CBOR_TRUE;
    c->off += used;
    return 0;
}

int sigil_cbor_get_bytes(sigil_cursor *c, const uint8_t **p, size_t *len, const char *what)
{
    sigil_cbor_item it;
    GUARD(cbor_expect(c, &it, SIGIL_CBOR_BYTES, what, "a byte string"));
    *p = it.ptr;
    *len = (size_t)it.val;
    return 0;
}

int sigil_cbor_get_text(sigil_cursor *c, const char **p, size_t *len, const char *what)
{
    sigil_cbor_item it;
    GUARD(cbor_expect(c, &it, SIGIL_CBOR_TEXT, what, "a text string"));
    *p = (const char *)it.ptr;
    *len = (size_t)it.val;
    return 0;
}

int sigil_cbor_get_bytes_or_null(sigil_cursor *c, const uint8_t **p, size_t *len, const char *what)
{
    if (sigil_cbor_take_null(c)) {
        *p = NULL;
        *len = 0;
        return 0;
    }
    return sigil_cbor_get_bytes(c, p, len, what);
}

int sigil_cbor_get_array(sigil_cursor *c, size_t *count, const char *what)
{
    sigil_cbor_item it;
    size_t start = c->off;
    GUARD(cbor_expect(c, &it, SIGIL_CBOR_ARRAY, what, "an array"));
    if (it.val > sigil_cursor_remaining(c)) {
        c->off = start;
        BAIL(SIGIL_E_BAD_ENCODING, "%s: item count exceeds the input", what);
    }
    *count = (size_t)it.val;
    return 0;
}

int sigil_cbor_get_map(sigil_cursor *c, size_t *count, const char *what)
{
    sigil_cbor_item it;
    size_t start = c->off;
    GUARD(cbor_expect(c, &it, SIGIL_CBOR_MAP, what, "a map"));
    if (it.val > sigil_cursor_remaining(c) / 2) {
        c->off = start;
        BAIL(SIGIL_E_BAD_ENCODING, "%s: pair count exceeds the input", what);
    }
    *count = (size_t)it.val;
    return 0;
}

bool sigil_cbor_take_null(sigil_cursor *c)
{
    if (sigil_cursor_remaining(c) >= 1 && c->p[c->off] == 0xf6) {
        c->off++;
        return true;
    }
    return false;
}

bool sigil_cbor_text_eq(const char *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return n == len && memcmp(p, lit, n) == 0;
}

/* ---- Writer ---- */

int sigil_cbor_put_head_wide(sigil_buf *b, unsigned major, uint64_t arg, unsigned width)
{
    uint8_t h[9];
    unsigned ai;
    ENSURE(major <= 7, SIGIL_E_INTERNAL, "cbor: bad major type %u", major);
    switch (width) {
    case 1:
        ai = 24;
        break;
    case 2:
        ai = 25;
        break;
    case 4:
        ai = 26;
        break;
    case 8:
        ai = 27;
        break;
    default:
        BAIL(SIGIL_E_INTERNAL, "cbor: bad head width %u", width);
    }
    ENSURE(width == 8 || arg < ((uint64_t)1 << (8 * width)), SIGIL_E_INTERNAL,
           "cbor: argument does not fit the forced width");
    h[0] = (uint8_t)((major << 5) | ai);
    for (unsigned i = 0; i < width; i++)
        h[1 + i] = (uint8_t)(arg >> (8 * (width - 1 - i)));
    return sigil_buf_put(b, h, 1 + width);
}

int sigil_cbor_put_head(sigil_buf *b, unsigned major, uint64_t arg)
{
    ENSURE(major <= 7, SIGIL_E_INTERNAL, "cbor: bad major type %u", major);
    if (arg < 24) {
        uint8_t h = (uint8_t)((major << 5) | arg);
        return sigil_buf_put(b, &h, 1);
    }
    unsigned width = arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffffu ? 4 : 8;
    return sigil_cbor_put_head_wide(b, major, arg, width);
}

int sigil_cbor_put_uint(sigil_buf *b, uint64_t v)
{
    return sigil_cbor_put_head(b, SIGIL_CBOR_UINT, v);
}

int sigil_cbor_put_int(sigil_buf *b, int64_t v)
{
    if (v >= 0)
        return sigil_cbor_put_head(b, SIGIL_CBOR_UINT, (uint64_t)v);
    return sigil_cbor_put_head(b, SIGIL_CBOR_NINT, (uint64_t)(-1 - v));
}

static int cbor_put_string(sigil_buf *b, unsigned major, const void *p, size_t n)
{
    size_t mark = b->len;
    if (sigil_cbor_put_head(b, major, n) != 0 || sigil_buf_put(b, p, n) != 0) {
        b->len = mark;
        return -1;
    }
    return 0;
}

int sigil_cbor_put_bytes(sigil_buf *b, const void *p, size_t n)
{
    return cbor_put_string(b, SIGIL_CBOR_BYTES, p, n);
}

int sigil_cbor_put_text(sigil_buf *b, const char *p, size_t n)
{
    return cbor_put_string(b, SIGIL_CBOR_TEXT, p, n);
}

int sigil_cbor_put_cstr(sigil_buf *b, const char *s)
{
    return sigil_cbor_put_text(b, s, strlen(s));
}

int sigil_cbor_put_array(sigil_buf *b, size_t n)
{
    return sigil_cbor_put_head(b, SIGIL_CBOR_ARRAY, n);
}

int sigil_cbor_put_map(sigil_buf *b, size_t n)
{
    return sigil_cbor_put_head(b, SIGIL_CBOR_MAP, n);
}

int sigil_cbor_put_bool(sigil_buf *b, bool v)
{
    uint8_t x = v ? 0xf5 : 0xf4;
    return sigil_buf_put(b, &x, 1);
}

int sigil_cbor_put_null(sigil_buf *b)
{
    uint8_t x = 0xf6;
    return sigil_buf_put(b, &x, 1);
}

int sigil_cbor_put_bytes_or_null(sigil_buf *b, const void *p, size_t n)
{
    return p == NULL ? sigil_cbor_put_null(b) : sigil_cbor_put_bytes(b, p, n);
}
