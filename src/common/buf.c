/*
 * Bounded buffers, slices and cursors. Writers never reallocate: a write past
 * the capacity fails with too_large and leaves the buffer unchanged.
 */
#include <string.h>

#include "sigil/common.h"

void sigil_buf_init(sigil_buf *b, void *mem, size_t cap)
{
    b->data = mem;
    b->len = 0;
    b->cap = cap;
}

int sigil_buf_put(sigil_buf *b, const void *p, size_t n)
{
    ENSURE(n <= b->cap - b->len, SIGIL_E_TOO_LARGE, "output exceeds %zu bytes", b->cap);
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int sigil_buf_puts(sigil_buf *b, const char *s)
{
    return sigil_buf_put(b, s, strlen(s));
}

int sigil_buf_putc(sigil_buf *b, char c)
{
    return sigil_buf_put(b, &c, 1);
}

int sigil_buf_put_u64(sigil_buf *b, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return sigil_buf_put(b, tmp + i, sizeof(tmp) - i);
}

int sigil_buf_put_hex(sigil_buf *b, const uint8_t *p, size_t n)
{
    static const char HEX[] = "0123456789abcdef";
    ENSURE(n <= (b->cap - b->len) / 2, SIGIL_E_TOO_LARGE, "output exceeds %zu bytes", b->cap);
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = (uint8_t)HEX[p[i] >> 4];
        b->data[b->len++] = (uint8_t)HEX[p[i] & 15];
    }
    return 0;
}

int sigil_buf_cstr(sigil_buf *b)
{
    ENSURE(b->len < b->cap, SIGIL_E_TOO_LARGE, "output exceeds %zu bytes", b->cap);
    b->data[b->len] = 0;
    return 0;
}

int sigil_slice_eq(sigil_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

void sigil_cursor_init(sigil_cursor *c, const void *p, size_t len)
{
    c->p = p;
    c->len = len;
    c->off = 0;
}

size_t sigil_cursor_remaining(const sigil_cursor *c)
{
    return c->len - c->off;
}

int sigil_cursor_read(sigil_cursor *c, void *out, size_t n)
{
    ENSURE(n <= c->len - c->off, SIGIL_E_BAD_REQUEST, "input truncated at byte %zu", c->off);
    memcpy(out, c->p + c->off, n);
    c->off += n;
    return 0;
}

int sigil_cursor_read_u8(sigil_cursor *c, uint8_t *out)
{
    return sigil_cursor_read(c, out, 1);
}

int sigil_cursor_read_be32(sigil_cursor *c, uint32_t *out)
{
    uint8_t b[4];
    GUARD(sigil_cursor_read(c, b, sizeof(b)));
    *out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 0;
}

int sigil_cursor_read_be64(sigil_cursor *c, uint64_t *out)
{
    uint32_t hi, lo;
    ENSURE(sigil_cursor_remaining(c) >= 8, SIGIL_E_BAD_REQUEST, "input truncated at byte %zu",
           c->off);
    GUARD(sigil_cursor_read_be32(c, &hi));
    GUARD(sigil_cursor_read_be32(c, &lo));
    *out = (uint64_t)hi << 32 | lo;
    return 0;
}
