/*
 * Strict query strings and x-www-form-urlencoded bodies (untrusted input).
 * The venue and the policy must read the same parameters, so anything two
 * readers could disagree on is refused: malformed percent-encoding, encoded
 * bytes that are not UTF-8, empty names, and names that repeat, whether
 * literally, once decoded, or once case-folded.
 */
#include <stdio.h>
#include <string.h>

#include "sigil/codec.h"

#define NAME_MAX_DECODED 128

static int hexdig(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sigil_pct_decode(sigil_buf *out, const char *src, size_t len, bool plus_is_space,
                     const char *what)
{
    sigil_utf8_state st = {0};
    size_t run = 0; /* start of the pending run of bytes copied as they are */
    if (memchr(src, '%', len) == NULL && (!plus_is_space || memchr(src, '+', len) == NULL)) {
        /* Nothing to decode: the text is its own value. */
        ENSURE(sigil_utf8_valid((const uint8_t *)src, len), SIGIL_E_BAD_ENCODING, "%s: not UTF-8",
               what);
        return out == NULL ? 0 : sigil_buf_put(out, src, len);
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)src[i];
        if (c < 0x80 && c != '%' && c != '+' && st.need == 0)
            continue;
        if (out != NULL)
            GUARD(sigil_buf_put(out, src + run, i - run));
        if (c == '%') {
            int hi = i + 2 < len ? hexdig(src[i + 1]) : -1;
            int lo = i + 2 < len ? hexdig(src[i + 2]) : -1;
            ENSURE(hi >= 0 && lo >= 0, SIGIL_E_BAD_ENCODING,
                   "%s: malformed percent-encoding at byte %zu", what, i);
            c = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (plus_is_space && c == '+') {
            c = ' ';
        }
        ENSURE(sigil_utf8_feed(&st, c), SIGIL_E_BAD_ENCODING, "%s: not UTF-8 near byte %zu", what,
               i);
        if (out != NULL)
            GUARD(sigil_buf_putc(out, (char)c));
        run = i + 1;
    }
    if (out != NULL)
        GUARD(sigil_buf_put(out, src + run, len - run));
    ENSURE(st.need == 0, SIGIL_E_BAD_ENCODING, "%s: truncated UTF-8 sequence", what);
    return 0;
}

int sigil_pct_encode(sigil_buf *out, const char *src, size_t len)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)src[i];
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
        if (unreserved) {
            GUARD(sigil_buf_putc(out, (char)c));
        } else {
            char esc[3] = {'%', HEX[c >> 4], HEX[c & 15]};
            GUARD(sigil_buf_put(out, esc, sizeof(esc)));
        }
    }
    return 0;
}

/* Decoded name; ASCII-lowercased too when fold (duplicate detection). */
static char ascii_lower(char c)
{
    if (c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
    return c;
}

static int decode_name(sigil_slice raw, char *out, size_t *out_len, bool fold, const char *what)
{
    sigil_buf b;
    sigil_buf_init(&b, out, NAME_MAX_DECODED);
    ENSURE(raw.len <= (size_t)3 * NAME_MAX_DECODED, SIGIL_E_BAD_REQUEST,
           "%s: parameter name longer than %d bytes", what, NAME_MAX_DECODED);
    if (sigil_pct_decode(&b, raw.p, raw.len, true, what) != 0) {
        if (sigil_errno() == SIGIL_E_TOO_LARGE)
            BAIL(SIGIL_E_BAD_REQUEST, "%s: parameter name longer than %d bytes", what,
                 NAME_MAX_DECODED);
        return -1;
    }
    for (size_t i = 0; fold && i < b.len; i++)
        out[i] = ascii_lower(out[i]);
    *out_len = b.len;
    return 0;
}

/* A name without '%' or '+' decodes to itself: compare it raw, folding ASCII case. */
static bool plain_name(sigil_slice k)
{
    return k.len <= NAME_MAX_DECODED && memchr(k.p, '%', k.len) == NULL &&
           memchr(k.p, '+', k.len) == NULL;
}

static bool ascii_case_eq(sigil_slice a, sigil_slice b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++) {
        if (ascii_lower(a.p[i]) != ascii_lower(b.p[i]))
            return false;
    }
    return true;
}

static int check_unique_decoded(const sigil_query *q, const char *what)
{
    char a[NAME_MAX_DECODED], b[NAME_MAX_DECODED];
    size_t na, nb;
    for (size_t i = 0; i < q->n; i++) {
        GUARD(decode_name(q->params[i].key, a, &na, true, what));
        for (size_t j = 0; j < i; j++) {
            GUARD(decode_name(q->params[j].key, b, &nb, true, what));
            ENSURE(na != nb || memcmp(a, b, na) != 0, SIGIL_E_DUPLICATE_KEY,
                   "%s: parameter %zu repeats parameter %zu (names equal once decoded or "
                   "case-folded)",
                   what, i + 1, j + 1);
        }
    }
    return 0;
}

static int check_unique(const sigil_query *q, const char *what)
{
    for (size_t i = 0; i < q->n; i++)
        if (!q->params[i].plain)
            return check_unique_decoded(q, what);
    for (size_t i = 0; i < q->n; i++)
        for (size_t j = 0; j < i; j++)
            ENSURE(!ascii_case_eq(q->params[i].key, q->params[j].key), SIGIL_E_DUPLICATE_KEY,
                   "%s: parameter %zu repeats parameter %zu (names equal once decoded or "
                   "case-folded)",
                   what, i + 1, j + 1);
    return 0;
}

/* Adds which parameter an error is in (its offsets are within that part);
 * formatted only on failure, so parsing stays cheap. */
static int locate_error(const char *part, size_t index)
{
    char why[200];
    snprintf(why, sizeof(why), "%s", sigil_errmsg());
    BAIL(sigil_errno(), "%s (in the %s of parameter %zu)", why, part, index);
}

/* Text with no '%' and only ASCII decodes to itself: nothing to validate
 * per parameter. */
static bool ascii_without_escapes(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((uint8_t)text[i] >= 0x80 || text[i] == '%')
            return false;
    }
    return true;
}

int sigil_query_parse(sigil_query *q, const char *text, size_t len, const char *what)
{
    q->n = 0;
    if (len == 0)
        return 0;
    bool trivial = ascii_without_escapes(text, len);
    size_t i = 0;
    for (;;) {
        const char *amp = memchr(text + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - text) : len;
        const char *eq = memchr(text + i, '=', end - i);
        ENSURE(q->n < SIGIL_QUERY_MAX_PARAMS, SIGIL_E_TOO_LARGE, "%s: more than %d parameters",
               what, SIGIL_QUERY_MAX_PARAMS);
        sigil_query_param *p = &q->params[q->n];
        size_t kend = eq ? (size_t)(eq - text) : end;
        p->key = (sigil_slice){text + i, kend - i};
        p->value = eq ? (sigil_slice){eq + 1, end - kend - 1} : (sigil_slice){text + end, 0};
        ENSURE(p->key.len > 0, SIGIL_E_BAD_REQUEST, "%s: empty parameter name at byte %zu", what,
               i);
        p->plain = plain_name(p->key);
        if (!trivial && sigil_pct_decode(NULL, p->key.p, p->key.len, true, what) != 0)
            return locate_error("name", q->n + 1);
        if (!trivial && sigil_pct_decode(NULL, p->value.p, p->value.len, true, what) != 0)
            return locate_error("value", q->n + 1);
        q->n++;
        if (amp == NULL)
            break;
        i = end + 1;
    }
    return check_unique(q, what);
}

const sigil_query_param *sigil_query_find_folded(const sigil_query *q, const char *name)
{
    char a[NAME_MAX_DECODED];
    size_t na, want = strlen(name);
    for (size_t i = 0; i < q->n; i++) {
        if (q->params[i].plain) {
            if (ascii_case_eq(q->params[i].key, (sigil_slice){name, want}))
                return &q->params[i];
            continue;
        }
        if (decode_name(q->params[i].key, a, &na, true, "query") != 0 || na != want)
            continue;
        size_t k = 0;
        while (k < na && a[k] == ascii_lower(name[k]))
            k++;
        if (k == na)
            return &q->params[i];
    }
    return NULL;
}

const sigil_query_param *sigil_query_find(const sigil_query *q, const char *name)
{
    char a[NAME_MAX_DECODED];
    size_t na, want = strlen(name);
    for (size_t i = 0; i < q->n; i++) {
        sigil_slice k = q->params[i].key;
        if (q->params[i].plain) {
            if (k.len == want && memcmp(k.p, name, want) == 0)
                return &q->params[i];
            continue;
        }
        if (decode_name(k, a, &na, false, "query") == 0 && na == want && memcmp(a, name, na) == 0)
            return &q->params[i];
    }
    return NULL;
}

int sigil_query_get(const sigil_query_param **out, const sigil_query *q, const char *name,
                    const char *what)
{
    const sigil_query_param *folded = sigil_query_find_folded(q, name);
    *out = sigil_query_find(q, name);
    ENSURE(folded == *out, SIGIL_E_BAD_FIELD,
           "%s: a parameter spelled like %s but in other letter case is not allowed", what, name);
    return 0;
}

/* Same name once decoded and case-folded (plain names compared raw). */
static int same_name(bool *same, const sigil_query_param *a, const sigil_query_param *b,
                     const char *what)
{
    char x[NAME_MAX_DECODED], y[NAME_MAX_DECODED];
    size_t nx, ny;
    if (a->plain && b->plain) {
        *same = ascii_case_eq(a->key, b->key);
        return 0;
    }
    GUARD(decode_name(a->key, x, &nx, true, what));
    GUARD(decode_name(b->key, y, &ny, true, what));
    *same = nx == ny && memcmp(x, y, nx) == 0;
    return 0;
}

int sigil_query_check_disjoint(const sigil_query *a, const sigil_query *b, const char *what)
{
    for (size_t i = 0; i < a->n; i++) {
        for (size_t j = 0; j < b->n; j++) {
            bool same;
            GUARD(same_name(&same, &a->params[i], &b->params[j], what));
            ENSURE(!same, SIGIL_E_DUPLICATE_KEY,
                   "%s: query parameter %zu and body parameter %zu have the same name (the "
                   "venue would read only one of them)",
                   what, i + 1, j + 1);
        }
    }
    return 0;
}
