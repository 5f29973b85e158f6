/*
 * Strict JSON reader (untrusted input). libjsmn tokenizes; a second pass walks
 * the tokens against the text and enforces RFC 8259 exactly (separators,
 * literals, number grammar, escapes, UTF-8, no control characters), one
 * top-level value, depth and member limits, and unique keys. Key order and the
 * exact text of numbers are kept; nothing is allocated.
 */
#define JSMN_STRICT
#include <jsmn.h>
#include <sodium.h>
#include <string.h>

#include "codec/swar.h"
#include "sigil/codec.h"

#define JSON_MAX_TOKENS 8192
#define JSON_MAX_MEMBERS 1024
#define JSON_MAX_TEXT (1u << 20)

/* Fixed scratch for the tokenizer: one per thread, sized at start. */
static _Thread_local jsmntok_t tl_scratch[JSON_MAX_TOKENS];

typedef struct {
    sigil_json *doc;
    const jsmntok_t *jt;
    uint32_t njt;
    size_t pos;
} walker;

/* ---- decoded-string iteration (for key comparison and unescaping) ---- */
typedef struct {
    const char *p;
    size_t i, end;
    uint8_t pend[4];
    uint8_t npend, ipend;
} str_iter;

static unsigned hexval(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (unsigned)(c - 'A' + 10);
    return 16;
}

static int read_u4(const char *p, size_t avail, uint32_t *out)
{
    uint32_t v = 0;
    if (avail < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        unsigned h = hexval(p[k]);
        if (h > 15)
            return -1;
        v = v << 4 | h;
    }
    *out = v;
    return 0;
}

static uint8_t utf8_put(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

size_t sigil_json_decode_escape(const char *p, size_t i, size_t end, uint8_t o[4], uint8_t *no)
{
    /* The single-character escapes, indexed by the character after '\\'. */
    static const uint8_t SIMPLE[128] = {['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
                                        ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t'};
    if (i + 1 >= end)
        return 0;
    uint8_t e = (uint8_t)p[i + 1];
    if (e < 128 && SIMPLE[e] != 0) {
        o[0] = SIMPLE[e];
        *no = 1;
        return 2;
    }
    if (p[i + 1] != 'u')
        return 0;
    uint32_t hi, lo;
    if (read_u4(p + i + 2, end - i - 2, &hi) != 0)
        return 0;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return 0; /* lone low surrogate */
    if (hi < 0xD800 || hi > 0xDBFF) {
        *no = utf8_put(o, hi);
        return 6;
    }
    if (i + 12 > end || p[i + 6] != '\\' || p[i + 7] != 'u' ||
        read_u4(p + i + 8, end - i - 8, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
        return 0; /* high surrogate without its pair */
    *no = utf8_put(o, 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
    return 12;
}

static void iter_init(str_iter *it, const sigil_json *d, uint32_t t)
{
    it->p = d->text;
    it->i = d->toks[t].start;
    it->end = d->toks[t].end;
    it->npend = it->ipend = 0;
}

/* Next decoded byte, or -1 at the end. Only used on validated strings. */
static int iter_next(str_iter *it)
{
    if (it->ipend < it->npend)
        return it->pend[it->ipend++];
    if (it->i >= it->end)
        return -1;
    if (it->p[it->i] != '\\')
        return (uint8_t)it->p[it->i++];
    size_t k = sigil_json_decode_escape(it->p, it->i, it->end, it->pend, &it->npend);
    if (k == 0)
        return -1; /* cannot happen on a validated string */
    it->i += k;
    it->ipend = 1;
    return it->pend[0];
}

/* Decoded strings may be secrets (credentials files): iterators are wiped. */
static void iter_wipe(str_iter *it)
{
    sodium_memzero(it->pend, sizeof(it->pend));
}

static bool str_tok_eq(const sigil_json *d, uint32_t a, uint32_t b)
{
    str_iter x, y;
    int cx, cy;
    if (sigil_json_str_is_plain(d, a) && sigil_json_str_is_plain(d, b)) {
        const sigil_json_tok *ta = &d->toks[a], *tb = &d->toks[b];
        return ta->end - ta->start == tb->end - tb->start &&
               memcmp(d->text + ta->start, d->text + tb->start, ta->end - ta->start) == 0;
    }
    iter_init(&x, d, a);
    iter_init(&y, d, b);
    do {
        cx = iter_next(&x);
        cy = iter_next(&y);
    } while (cx == cy && cx >= 0);
    iter_wipe(&x);
    iter_wipe(&y);
    return cx == cy;
}

/* FNV-1a of a decoded key: duplicate checks compare hashes first, so an
 * object of many escaped keys costs integer compares, not unescaping. */
static uint32_t key_hash(const sigil_json *d, uint32_t t)
{
    str_iter it;
    uint32_t h = 2166136261u;
    int c;
    if (!d->toks[t].escaped) { /* the raw text is the value */
        for (uint32_t i = d->toks[t].start; i < d->toks[t].end; i++)
            h = (h ^ (uint8_t)d->text[i]) * 16777619u;
        return h;
    }
    iter_init(&it, d, t);
    while ((c = iter_next(&it)) >= 0)
        h = (h ^ (uint32_t)c) * 16777619u;
    iter_wipe(&it);
    return h;
}

void sigil_json_key_for_message(const sigil_json *d, uint32_t k, char *out, size_t cap)
{
    sigil_slice s = sigil_json_raw(d, k);
    size_t n = 0;
    for (size_t i = 0; i < s.len && n + 1 < cap; i++) {
        char c = s.p[i];
        if (c < 0x20 || c >= 0x7f || c == '"')
            c = '?';
        out[n++] = c;
    }
    out[n] = '\0';
}

/* Names the repeated key (printable ASCII, truncated) and where it is. */
static int dup_key_error(const sigil_json *d, uint32_t key)
{
    char name[41];
    sigil_json_key_for_message(d, key, name, sizeof(name));
    BAIL(SIGIL_E_DUPLICATE_KEY, "duplicate key \"%s\" at byte %u", name, d->toks[key].start);
}

/* ---- validation walk ---- */
static void skip_ws(walker *w)
{
    const char *t = w->doc->text;
    while (w->pos < w->doc->len &&
           (t[w->pos] == ' ' || t[w->pos] == '\t' || t[w->pos] == '\n' || t[w->pos] == '\r'))
        w->pos++;
}

static int expect_char(walker *w, char c)
{
    skip_ws(w);
    ENSURE(w->pos < w->doc->len && w->doc->text[w->pos] == c, SIGIL_E_BAD_JSON,
           "expected '%c' at byte %zu", c, w->pos);
    w->pos++;
    return 0;
}

/* Validates a string's text; records whether it holds escapes. */
static int check_string(walker *w, sigil_json_tok *t, size_t start, size_t end)
{
    const char *p = w->doc->text;
    uint8_t tmp[4], n;
    bool ascii = true;
    for (size_t i = start; i < end;) {
        if (end - i >= 8) { /* eight plain ASCII bytes at a time */
            uint64_t wd = swar_load(p + i);
            if (((wd & SWAR_HIGH) | swar_below(wd, 0x20) | swar_eq(wd, '\\')) == 0) {
                i += 8;
                continue;
            }
        }
        uint8_t c = (uint8_t)p[i];
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            i++;
            continue;
        }
        ascii = ascii && c < 0x80;
        ENSURE(c >= 0x20, SIGIL_E_BAD_JSON, "control character in string at byte %zu", i);
        if (c == '\\') {
            size_t k = sigil_json_decode_escape(p, i, end, tmp, &n);
            ENSURE(k != 0, SIGIL_E_BAD_JSON, "invalid escape in string at byte %zu", i);
            t->escaped = 1;
            i += k;
        } else {
            i++;
        }
    }
    sodium_memzero(tmp, sizeof(tmp));
    ENSURE(ascii || sigil_utf8_valid((const uint8_t *)p + start, end - start), SIGIL_E_BAD_JSON,
           "string at byte %zu is not valid UTF-8", start);
    return 0;
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool number_ok(const char *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (p[i] == '0') {
        i++;
    } else if (p[i] >= '1' && p[i] <= '9') {
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    } else {
        return false;
    }
    if (i < n && p[i] == '.') {
        size_t s = ++i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == s)
            return false;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t s = i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == s)
            return false;
    }
    return i == n;
}

static int classify_primitive(walker *w, const jsmntok_t *jt, sigil_json_tok *out)
{
    const char *p = w->doc->text + jt->start;
    size_t n = (size_t)(jt->end - jt->start);
    static const struct {
        const char *lit;
        sigil_json_type type;
    } LITERALS[] = {
        {"true", SIGIL_JSON_TRUE}, {"false", SIGIL_JSON_FALSE}, {"null", SIGIL_JSON_NULL}};
    for (size_t k = 0; k < SIGIL_ARRAY_LEN(LITERALS); k++) {
        if (n == strlen(LITERALS[k].lit) && memcmp(p, LITERALS[k].lit, n) == 0) {
            out->type = (uint8_t)LITERALS[k].type;
            return 0;
        }
    }
    ENSURE(number_ok(p, n), SIGIL_E_BAD_JSON, "invalid literal or number at byte %d", jt->start);
    out->type = SIGIL_JSON_NUMBER;
    return 0;
}

static int walk_value(walker *w, uint32_t depth);

static int walk_container(walker *w, uint32_t self, const jsmntok_t *jt, uint32_t depth)
{
    bool is_obj = jt->type == JSMN_OBJECT;
    sigil_json *d = w->doc;
    ENSURE(!is_obj || jt->size <= JSON_MAX_MEMBERS, SIGIL_E_TOO_LARGE,
           "object at byte %d has more than %d members", jt->start, JSON_MAX_MEMBERS);
    w->pos++; /* '{' or '[' */
    for (int k = 0; k < jt->size; k++) {
        if (k > 0)
            GUARD(expect_char(w, ','));
        if (is_obj) {
            uint32_t key = d->ntoks;
            skip_ws(w);
            ENSURE(key < w->njt && w->jt[key].type == JSMN_STRING, SIGIL_E_BAD_JSON,
                   "object key expected at byte %zu", w->pos);
            GUARD(walk_value(w, depth + 1));
            d->toks[key].hash = key_hash(d, key);
            for (uint32_t prev = self + 1; prev < key; prev = d->toks[prev + 1].next) {
                if (d->toks[prev].hash == d->toks[key].hash && str_tok_eq(d, prev, key))
                    return dup_key_error(d, key);
            }
            GUARD(expect_char(w, ':'));
        }
        GUARD(walk_value(w, depth + 1));
    }
    GUARD(expect_char(w, is_obj ? '}' : ']'));
    ENSURE(w->pos == (size_t)jt->end, SIGIL_E_BAD_JSON, "malformed container at byte %d",
           jt->start);
    return 0;
}

static int walk_value(walker *w, uint32_t depth)
{
    sigil_json *d = w->doc;
    uint32_t self = d->ntoks;
    ENSURE(self < w->njt, SIGIL_E_BAD_JSON, "value expected at byte %zu", w->pos);
    ENSURE(self < d->cap, SIGIL_E_TOO_LARGE, "more than %u JSON tokens", d->cap);
    const jsmntok_t *jt = &w->jt[self];
    sigil_json_tok *t = &d->toks[self];
    d->ntoks++;
    skip_ws(w);
    size_t expect_at = (size_t)jt->start - (jt->type == JSMN_STRING ? 1 : 0);
    ENSURE(w->pos == expect_at, SIGIL_E_BAD_JSON, "unexpected character at byte %zu", w->pos);
    memset(t, 0, sizeof(*t));
    t->start = (uint32_t)jt->start;
    t->end = (uint32_t)jt->end;
    t->size = (uint32_t)jt->size;
    t->depth = (uint8_t)depth;
    switch (jt->type) {
    case JSMN_STRING:
        t->type = SIGIL_JSON_STRING;
        t->size = 0; /* jsmn counts a key's value as its child */
        GUARD(check_string(w, t, (size_t)jt->start, (size_t)jt->end));
        w->pos = (size_t)jt->end + 1;
        break;
    case JSMN_PRIMITIVE:
        GUARD(classify_primitive(w, jt, t));
        w->pos = (size_t)jt->end;
        break;
    case JSMN_OBJECT:
    case JSMN_ARRAY:
        ENSURE(depth < SIGIL_JSON_MAX_DEPTH, SIGIL_E_TOO_LARGE,
               "more than %d nested objects or arrays at byte %d", SIGIL_JSON_MAX_DEPTH, jt->start);
        t->type = jt->type == JSMN_OBJECT ? SIGIL_JSON_OBJECT : SIGIL_JSON_ARRAY;
        GUARD(walk_container(w, self, jt, depth));
        break;
    default:
        BAIL(SIGIL_E_BAD_JSON, "unexpected token at byte %d", jt->start);
    }
    d->toks[self].next = d->ntoks;
    return 0;
}

int sigil_json_parse(sigil_json *doc, const char *text, size_t len, sigil_json_tok *toks,
                     uint32_t cap)
{
    jsmn_parser parser;
    walker w = {.doc = doc, .jt = tl_scratch, .pos = 0};
    doc->text = text;
    doc->len = len;
    doc->toks = toks;
    doc->ntoks = 0;
    doc->cap = cap;
    ENSURE(len <= JSON_MAX_TEXT, SIGIL_E_TOO_LARGE, "JSON larger than %u bytes", JSON_MAX_TEXT);
    ENSURE(memchr(text, '\0', len) == NULL, SIGIL_E_BAD_JSON, "NUL byte in JSON text");
    jsmn_init(&parser);
    int r = jsmn_parse(&parser, text, len, tl_scratch, JSON_MAX_TOKENS);
    if (r == JSMN_ERROR_NOMEM)
        BAIL(SIGIL_E_TOO_LARGE, "JSON has more than %d tokens", JSON_MAX_TOKENS);
    if (r == JSMN_ERROR_PART)
        BAIL(SIGIL_E_BAD_JSON, "JSON text is truncated");
    ENSURE(r > 0, SIGIL_E_BAD_JSON, "malformed JSON near byte %u", parser.pos);
    /* Sigil documents are objects or arrays; jsmn's strict mode cannot end a
     * document on a bare scalar anyway, so refuse them all alike. */
    ENSURE(tl_scratch[0].type == JSMN_OBJECT || tl_scratch[0].type == JSMN_ARRAY, SIGIL_E_BAD_JSON,
           "expected an object or array at the top level");
    w.njt = (uint32_t)r;
    GUARD(walk_value(&w, 0));
    skip_ws(&w);
    ENSURE(w.pos == len && doc->ntoks == w.njt, SIGIL_E_BAD_JSON,
           "unexpected data after the JSON value at byte %zu", w.pos);
    return 0;
}

/* ---- accessors ---- */
const char *sigil_json_type_name(sigil_json_type t)
{
    static const char *const NAMES[] = {"?",      "object",  "array",   "string",
                                        "number", "boolean", "boolean", "null"};
    return (unsigned)t < SIGIL_ARRAY_LEN(NAMES) ? NAMES[t] : "?";
}

uint32_t sigil_json_first(const sigil_json *d, uint32_t t)
{
    return d->toks[t].size > 0 ? t + 1 : 0;
}

uint32_t sigil_json_sibling(const sigil_json *d, uint32_t parent, uint32_t t)
{
    uint32_t n = d->toks[t].next;
    if (d->toks[parent].type == SIGIL_JSON_OBJECT)
        n = d->toks[n].next; /* skip the member's value */
    return n < d->toks[parent].next ? n : 0;
}

uint32_t sigil_json_get(const sigil_json *d, uint32_t obj, const char *key)
{
    if (d->toks[obj].type != SIGIL_JSON_OBJECT)
        return 0;
    for (uint32_t k = sigil_json_first(d, obj); k != 0; k = sigil_json_sibling(d, obj, k)) {
        if (sigil_json_str_eq(d, k, key))
            return k + 1;
    }
    return 0;
}

sigil_slice sigil_json_raw(const sigil_json *d, uint32_t t)
{
    sigil_slice s = {d->text + d->toks[t].start, d->toks[t].end - d->toks[t].start};
    return s;
}

bool sigil_json_str_is_plain(const sigil_json *d, uint32_t t)
{
    return d->toks[t].escaped == 0;
}

int sigil_json_str(const sigil_json *d, uint32_t t, sigil_buf *out)
{
    const char *p = d->text;
    size_t i = d->toks[t].start, end = d->toks[t].end, mark = out->len;
    uint8_t dec[4]; /* may hold bytes of a secret: wiped on the way out */
    while (i < end) {
        const char *bs = memchr(p + i, '\\', end - i);
        size_t run_end = bs ? (size_t)(bs - p) : end;
        uint8_t n = 0;
        if (sigil_buf_put(out, p + i, run_end - i) != 0)
            goto fail;
        if (run_end == end)
            break;
        i = run_end + sigil_json_decode_escape(p, run_end, end, dec, &n); /* validated at parse */
        if (n == 0 || sigil_buf_put(out, dec, n) != 0)
            goto fail;
    }
    sodium_memzero(dec, sizeof(dec));
    return 0;
fail:
    sodium_memzero(dec, sizeof(dec));
    out->len = mark;
    if (sigil_errno() != SIGIL_E_TOO_LARGE)
        BAIL(SIGIL_E_INTERNAL, "string token was not validated");
    return -1;
}

bool sigil_json_str_eq(const sigil_json *d, uint32_t t, const char *lit)
{
    str_iter it;
    size_t i = 0;
    int c;
    if (d->toks[t].type != SIGIL_JSON_STRING)
        return false;
    if (!d->toks[t].escaped) {
        size_t n = d->toks[t].end - d->toks[t].start;
        return strncmp(d->text + d->toks[t].start, lit, n) == 0 && lit[n] == '\0';
    }
    iter_init(&it, d, t);
    while ((c = iter_next(&it)) >= 0 && lit[i] != '\0' && (uint8_t)lit[i] == c)
        i++;
    iter_wipe(&it);
    return c < 0 && lit[i] == '\0';
}

bool sigil_json_is_integer(const sigil_json *d, uint32_t t)
{
    sigil_slice s = sigil_json_raw(d, t);
    return d->toks[t].type == SIGIL_JSON_NUMBER && memchr(s.p, '.', s.len) == NULL &&
           memchr(s.p, 'e', s.len) == NULL && memchr(s.p, 'E', s.len) == NULL;
}
