/*
 * Compact JSON writer into a bounded buffer. Strings are escaped minimally
 * (quote, backslash, control characters), so output is deterministic.
 */
#include <string.h>

#include "sigil/codec.h"

void sigil_jw_init(sigil_jw *w, sigil_buf *b)
{
    w->b = b;
    w->depth = 0;
    w->need_comma = 0;
}

/* Separator before a value or key at the current level. */
static int sep(sigil_jw *w)
{
    uint64_t bit = 1ull << w->depth;
    if (w->need_comma & bit)
        GUARD(sigil_buf_putc(w->b, ','));
    w->need_comma |= bit;
    return 0;
}

static int open_(sigil_jw *w, char c)
{
    ENSURE(w->depth < 63, SIGIL_E_TOO_LARGE, "output nesting too deep");
    GUARD(sep(w));
    GUARD(sigil_buf_putc(w->b, c));
    w->depth++;
    w->need_comma &= ~(1ull << w->depth);
    return 0;
}

static int close_(sigil_jw *w, char c)
{
    ENSURE(w->depth > 0, SIGIL_E_INTERNAL, "unbalanced JSON writer");
    w->depth--;
    return sigil_buf_putc(w->b, c);
}

int sigil_jw_obj_begin(sigil_jw *w)
{
    return open_(w, '{');
}
int sigil_jw_obj_end(sigil_jw *w)
{
    return close_(w, '}');
}
int sigil_jw_arr_begin(sigil_jw *w)
{
    return open_(w, '[');
}
int sigil_jw_arr_end(sigil_jw *w)
{
    return close_(w, ']');
}

/* Extra bytes a byte takes once escaped: 0 (as is), 1 (\" \\ \n \r \t) or 5
 * (\u00XX). */
#define U5(c) [c] = 5
static const uint8_t ESC_EXTRA[256] = {
    U5(0),   U5(1),    U5(2),  U5(3),  U5(4),    U5(5),     U5(6),      U5(7),  U5(8),
    [9] = 1, [10] = 1, U5(11), U5(12), [13] = 1, U5(14),    U5(15),     U5(16), U5(17),
    U5(18),  U5(19),   U5(20), U5(21), U5(22),   U5(23),    U5(24),     U5(25), U5(26),
    U5(27),  U5(28),   U5(29), U5(30), U5(31),   ['"'] = 1, ['\\'] = 1,
};
#undef U5

static inline size_t esc_len(uint8_t c)
{
    return 1u + ESC_EXTRA[c];
}

static uint8_t *put_escape(uint8_t *o, uint8_t c)
{
    static const char HEX[] = "0123456789abcdef";
    static const char SHORT[] = {
        ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
    *o++ = '\\';
    if (c < sizeof(SHORT) && SHORT[c] != 0) {
        *o++ = (uint8_t)SHORT[c];
        return o;
    }
    o[0] = 'u';
    o[1] = '0';
    o[2] = '0';
    o[3] = (uint8_t)HEX[c >> 4];
    o[4] = (uint8_t)HEX[c & 15];
    return o + 5;
}

/* Writes s quoted and escaped: one pass to size it, one to write it (plain
 * runs copied whole), so the room check is exact and done once; on failure
 * the buffer is unchanged. */
static int put_escaped(sigil_buf *b, const char *s, size_t n)
{
    const uint8_t *in = (const uint8_t *)s;
    size_t need = 2, i;
    for (i = 0; i < n; i++)
        need += esc_len(in[i]);
    ENSURE(need <= b->cap - b->len, SIGIL_E_TOO_LARGE, "output exceeds %zu bytes", b->cap);
    uint8_t *o = b->data + b->len;
    *o++ = '"';
    size_t run = 0;
    for (i = 0; i < n && need != n + 2; i++) {
        if (esc_len(in[i]) == 1)
            continue;
        memcpy(o, in + run, i - run);
        o = put_escape(o + (i - run), in[i]);
        run = i + 1;
    }
    memcpy(o, in + run, n - run);
    o += n - run;
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

int sigil_jw_key(sigil_jw *w, const char *key)
{
    GUARD(sep(w));
    GUARD(put_escaped(w->b, key, strlen(key)));
    GUARD(sigil_buf_putc(w->b, ':'));
    w->need_comma &= ~(1ull << w->depth); /* the value follows without comma */
    return 0;
}

int sigil_jw_strn(sigil_jw *w, const char *s, size_t n)
{
    GUARD(sep(w));
    return put_escaped(w->b, s, n);
}

int sigil_jw_str(sigil_jw *w, const char *s)
{
    return sigil_jw_strn(w, s, strlen(s));
}

int sigil_jw_u64(sigil_jw *w, uint64_t v)
{
    GUARD(sep(w));
    return sigil_buf_put_u64(w->b, v);
}

int sigil_jw_bool(sigil_jw *w, bool v)
{
    return sigil_jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

int sigil_jw_null(sigil_jw *w)
{
    return sigil_jw_raw(w, "null", 4);
}

int sigil_jw_hex(sigil_jw *w, const uint8_t *p, size_t n)
{
    GUARD(sep(w));
    GUARD(sigil_buf_put(w->b, "\"", 1));
    GUARD(sigil_buf_put_hex(w->b, p, n));
    return sigil_buf_put(w->b, "\"", 1);
}

int sigil_jw_raw(sigil_jw *w, const char *s, size_t n)
{
    GUARD(sep(w));
    return sigil_buf_put(w->b, s, n);
}

int sigil_jw_copy(sigil_jw *w, const sigil_json *d, uint32_t t)
{
    sigil_slice raw = sigil_json_raw(d, t);
    switch (sigil_json_type_of(d, t)) {
    case SIGIL_JSON_OBJECT:
    case SIGIL_JSON_ARRAY: {
        bool obj = sigil_json_type_of(d, t) == SIGIL_JSON_OBJECT;
        GUARD(obj ? sigil_jw_obj_begin(w) : sigil_jw_arr_begin(w));
        for (uint32_t c = sigil_json_first(d, t); c != 0; c = sigil_json_sibling(d, t, c)) {
            if (obj) {
                sigil_slice k = sigil_json_raw(d, c);
                GUARD(sep(w));
                GUARD(sigil_buf_putc(w->b, '"'));
                GUARD(sigil_buf_put(w->b, k.p, k.len));
                GUARD(sigil_buf_puts(w->b, "\":"));
                w->need_comma &= ~(1ull << w->depth);
                GUARD(sigil_jw_copy(w, d, sigil_json_value(c)));
            } else {
                GUARD(sigil_jw_copy(w, d, c));
            }
        }
        return obj ? sigil_jw_obj_end(w) : sigil_jw_arr_end(w);
    }
    case SIGIL_JSON_STRING:
        GUARD(sep(w));
        GUARD(sigil_buf_putc(w->b, '"'));
        GUARD(sigil_buf_put(w->b, raw.p, raw.len));
        return sigil_buf_putc(w->b, '"');
    case SIGIL_JSON_NUMBER:
    case SIGIL_JSON_TRUE:
    case SIGIL_JSON_FALSE:
    case SIGIL_JSON_NULL:
        return sigil_jw_raw(w, raw.p, raw.len);
    default:
        BAIL(SIGIL_E_INTERNAL, "unknown JSON token type");
    }
}
