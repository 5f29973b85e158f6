/*
 * EIP-712 typed-data hashing (libsigil-core; untrusted input, public data):
 * type tables from JSON or C, encodeType/typeHash, encodeData for atomic
 * types, arrays and structs, and the full {domain, types, primaryType,
 * message} digest. Behaviour follows ethers 6.17 TypedDataEncoder except
 * where ethers is lenient in ways two readers could disagree on; those
 * places refuse (see the notes at each encoder). Nothing is allocated: the
 * tables are the caller's, and recursion follows the JSON nesting.
 */
#include <stdio.h>
#include <string.h>

#include "sigil/codec.h"
#include "sigil/crypto.h"

#define NAME_MAX_LEN 64      /* type and field names (identifiers) */
#define ARRAY_MAX_FIXED 8192 /* T[k]: k cannot exceed the JSON token bound */
#define INT_TEXT_MAX 128     /* "-0x" + 64 hex digits, with room for zeros */
#define STR_CHUNK 1024       /* raw bytes of a JSON string unescaped at once */
#define PATH_MAX_LEN 192
#define ENC_MAX_DEPTH (SIGIL_JSON_MAX_DEPTH + 2)
#define JS_SAFE_BITS 53 /* JSON numbers: |v| <= 2^53-1, as a JS wallet reads them */
#define DOC_KEYS 4      /* domain, types, primaryType, message */
#define EXTRA_KEYS_MAX 4

#define SL(lit) ((sigil_slice){(lit), sizeof(lit) - 1})

/* ---- type names ---- */
typedef enum { K_STRUCT, K_BOOL, K_ADDRESS, K_STRING, K_BYTES, K_BYTESN, K_UINT, K_INT } kind;

typedef struct {
    kind k;
    unsigned size; /* bits for K_UINT/K_INT, bytes for K_BYTESN */
} atom;

static const struct {
    const char *name;
    kind k;
} EXACT_ATOMS[] = {
    {"bool", K_BOOL},
    {"address", K_ADDRESS},
    {"string", K_STRING},
    {"bytes", K_BYTES},
};

static const struct {
    const char *prefix;
    kind k;
    unsigned min, max, step;
} SIZED_ATOMS[] = {
    {"uint", K_UINT, 8, 256, 8},
    {"int", K_INT, 8, 256, 8},
    {"bytes", K_BYTESN, 1, 32, 1},
};

static bool is_ident(sigil_slice s)
{
    if (s.len == 0 || s.len > NAME_MAX_LEN || (s.p[0] >= '0' && s.p[0] <= '9'))
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '$';
        if (!ok)
            return false;
    }
    return true;
}

static bool slice_eq(sigil_slice a, sigil_slice b)
{
    return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

static int slice_cmp(sigil_slice a, sigil_slice b)
{
    int r = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);
    return r != 0 ? r : (a.len > b.len) - (a.len < b.len);
}

/* Canonical decimal (no sign, no leading zero) up to max; 0 if not. */
static size_t parse_count(const char *p, size_t n, size_t max)
{
    size_t v = 0;
    if (n == 0 || p[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > max / 10)
            return 0;
        v = v * 10 + (size_t)(p[i] - '0');
    }
    return v <= max ? v : 0;
}

/* 1: atomic (filled in), 0: a struct name, -1: looks atomic but is invalid
 * ("uint7", "bytes33", or the bare "uint"/"int" that ethers silently
 * rewrites to uint256/int256 while other wallets hash it as written). */
static int classify(sigil_slice base, atom *a)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(EXACT_ATOMS); i++) {
        if (sigil_slice_eq(base, EXACT_ATOMS[i].name)) {
            *a = (atom){EXACT_ATOMS[i].k, 0};
            return 1;
        }
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SIZED_ATOMS); i++) {
        size_t pl = strlen(SIZED_ATOMS[i].prefix);
        if (base.len < pl || memcmp(base.p, SIZED_ATOMS[i].prefix, pl) != 0)
            continue;
        const char *digits = base.p + pl;
        size_t nd = base.len - pl, k;
        for (k = 0; k < nd && digits[k] >= '0' && digits[k] <= '9'; k++)
            ;
        if (k != nd)
            continue; /* "uintFoo", "int8x": an ordinary struct name */
        size_t w = parse_count(digits, nd, SIZED_ATOMS[i].max);
        if (w < SIZED_ATOMS[i].min || w % SIZED_ATOMS[i].step != 0)
            return -1;
        *a = (atom){SIZED_ATOMS[i].k, (unsigned)w};
        return 1;
    }
    return 0;
}

/* "Person[2][]" → "Person" */
static sigil_slice base_of(sigil_slice type)
{
    const char *br = memchr(type.p, '[', type.len);
    return (sigil_slice){type.p, br ? (size_t)(br - type.p) : type.len};
}

static int find_type(const sigil_eip712_types *t, sigil_slice name)
{
    for (size_t i = 0; i < t->ntypes; i++) {
        if (slice_eq(t->types[i].name, name))
            return (int)i;
    }
    return -1;
}

/* Index of the struct a field type refers to (through any arrays), or -1. */
static int struct_of(const sigil_eip712_types *t, sigil_slice type)
{
    atom a;
    sigil_slice base = base_of(type);
    return classify(base, &a) == 0 ? find_type(t, base) : -1;
}

/* The array dimensions after the base: "[k]" with canonical k >= 1, or "[]". */
static bool dims_ok(sigil_slice type, size_t from)
{
    size_t i = from;
    while (i < type.len) {
        const char *close = memchr(type.p + i, ']', type.len - i);
        if (type.p[i] != '[' || close == NULL)
            return false;
        size_t start = i + 1, n = (size_t)(close - type.p) - start;
        if (n > 0 && parse_count(type.p + start, n, ARRAY_MAX_FIXED) == 0)
            return false;
        i = start + n + 1;
    }
    return true;
}

/* ---- validation of a type table (from JSON or built in C) ---- */
static int check_type_string(const sigil_eip712_types *t, size_t ti, size_t fi)
{
    const sigil_eip712_type *ty = &t->types[ti];
    sigil_slice type = ty->fields[fi].type, base = base_of(type);
    atom a;
    int cls = classify(base, &a);
    ENSURE(type.len <= (size_t)4 * NAME_MAX_LEN && is_ident(base) && dims_ok(type, base.len),
           SIGIL_E_BAD_FIELD, "types.%.*s[%zu].type: malformed type", (int)ty->name.len, ty->name.p,
           fi);
    ENSURE(cls >= 0, SIGIL_E_BAD_FIELD,
           "types.%.*s[%zu].type: invalid atomic type %.*s (sizes: uint8..uint256, "
           "int8..int256, bytes1..bytes32; write uint256, not uint)",
           (int)ty->name.len, ty->name.p, fi, (int)base.len, base.p);
    ENSURE(cls == 1 || find_type(t, base) >= 0, SIGIL_E_BAD_FIELD,
           "types.%.*s[%zu].type: unknown type %.*s", (int)ty->name.len, ty->name.p, fi,
           (int)base.len, base.p);
    return 0;
}

static int check_fields_of(const sigil_eip712_types *t, size_t ti)
{
    const sigil_eip712_type *ty = &t->types[ti];
    ENSURE(ty->nfields <= SIGIL_EIP712_MAX_FIELDS, SIGIL_E_TOO_LARGE,
           "types.%.*s: more than %d fields", (int)ty->name.len, ty->name.p,
           SIGIL_EIP712_MAX_FIELDS);
    for (size_t fi = 0; fi < ty->nfields; fi++) {
        sigil_slice name = ty->fields[fi].name;
        ENSURE(is_ident(name), SIGIL_E_BAD_FIELD,
               "types.%.*s[%zu].name: expected an identifier of at most %d characters",
               (int)ty->name.len, ty->name.p, fi, NAME_MAX_LEN);
        for (size_t j = 0; j < fi; j++)
            ENSURE(!slice_eq(ty->fields[j].name, name), SIGIL_E_BAD_FIELD,
                   "types.%.*s: duplicate field name %.*s", (int)ty->name.len, ty->name.p,
                   (int)name.len, name.p);
        GUARD(check_type_string(t, ti, fi));
    }
    return 0;
}

/* Depth-first search for a reference cycle (state: 0 new, 1 open, 2 done).
 * Recursive types are valid EIP-712 in principle, but ethers refuses them
 * and so do we: a cycle has no finite encodeType. */
static int check_cycles(const sigil_eip712_types *t, size_t ti, uint8_t *state)
{
    const sigil_eip712_type *ty = &t->types[ti];
    state[ti] = 1;
    for (size_t fi = 0; fi < ty->nfields; fi++) {
        int j = struct_of(t, ty->fields[fi].type);
        ENSURE(j < 0 || state[j] != 1, SIGIL_E_BAD_FIELD,
               "types.%.*s: circular reference through field %.*s", (int)ty->name.len, ty->name.p,
               (int)ty->fields[fi].name.len, ty->fields[fi].name.p);
        if (j >= 0 && state[j] == 0)
            GUARD(check_cycles(t, (size_t)j, state));
    }
    state[ti] = 2;
    return 0;
}

static int validate_types(const sigil_eip712_types *t)
{
    uint8_t state[SIGIL_EIP712_MAX_TYPES] = {0};
    atom a;
    ENSURE(t->ntypes <= SIGIL_EIP712_MAX_TYPES, SIGIL_E_TOO_LARGE, "types: more than %d types",
           SIGIL_EIP712_MAX_TYPES);
    for (size_t i = 0; i < t->ntypes; i++) {
        sigil_slice name = t->types[i].name;
        ENSURE(is_ident(name), SIGIL_E_BAD_FIELD,
               "types: type %zu: name must be an identifier of at most %d characters", i,
               NAME_MAX_LEN);
        ENSURE(classify(name, &a) == 0, SIGIL_E_BAD_FIELD,
               "types.%.*s: an atomic type name cannot name a struct", (int)name.len, name.p);
        ENSURE(find_type(t, name) == (int)i, SIGIL_E_BAD_FIELD, "types.%.*s: defined twice",
               (int)name.len, name.p);
    }
    for (size_t i = 0; i < t->ntypes; i++)
        GUARD(check_fields_of(t, i));
    for (size_t i = 0; i < t->ntypes; i++) {
        if (state[i] == 0)
            GUARD(check_cycles(t, i, state));
    }
    return 0;
}

/* ---- encodeType and typeHash ---- */
static void collect_deps(const sigil_eip712_types *t, size_t ti, uint32_t *mask)
{
    const sigil_eip712_type *ty = &t->types[ti];
    for (size_t fi = 0; fi < ty->nfields; fi++) {
        int j = struct_of(t, ty->fields[fi].type);
        if (j >= 0 && !(*mask & (1u << j))) {
            *mask |= 1u << j;
            collect_deps(t, (size_t)j, mask);
        }
    }
}

static void absorb_type(sigil_keccak_ctx *k, const sigil_eip712_type *ty)
{
    sigil_keccak256_update(k, ty->name.p, ty->name.len);
    sigil_keccak256_update(k, "(", 1);
    for (size_t fi = 0; fi < ty->nfields; fi++) {
        if (fi > 0)
            sigil_keccak256_update(k, ",", 1);
        sigil_keccak256_update(k, ty->fields[fi].type.p, ty->fields[fi].type.len);
        sigil_keccak256_update(k, " ", 1);
        sigil_keccak256_update(k, ty->fields[fi].name.p, ty->fields[fi].name.len);
    }
    sigil_keccak256_update(k, ")", 1);
}

/* keccak(encodeType): the primary type, then every struct it references
 * transitively, sorted by name. Expects a validated table. */
static void type_hash_of(uint8_t out[static 32], const sigil_eip712_types *t, size_t primary)
{
    sigil_keccak_ctx k;
    uint32_t deps = 0;
    collect_deps(t, primary, &deps);
    deps &= ~(1u << primary);
    sigil_keccak256_init(&k);
    absorb_type(&k, &t->types[primary]);
    while (deps != 0) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < t->ntypes; i++) {
            if ((deps & (1u << i)) &&
                (best == SIZE_MAX || slice_cmp(t->types[i].name, t->types[best].name) < 0))
                best = i;
        }
        if (best == SIZE_MAX)
            break; /* unreachable: deps only holds indexes below ntypes */
        absorb_type(&k, &t->types[best]);
        deps &= ~(1u << best);
    }
    sigil_keccak256_final(&k, out);
}

/* ---- encodeData ---- */
typedef struct {
    const sigil_eip712_types *t;
    const sigil_json *d;
    uint8_t type_hash[SIGIL_EIP712_MAX_TYPES][32];
    uint32_t have_hash;
    unsigned depth;
    char path[PATH_MAX_LEN];
    size_t path_len;
} enc_ctx;

static void enc_init(enc_ctx *c, const sigil_eip712_types *t, const sigil_json *d, const char *root)
{
    c->t = t;
    c->d = d;
    c->have_hash = 0;
    c->depth = 0;
    c->path_len = (size_t)snprintf(c->path, sizeof(c->path), "%s", root);
}

/* Error paths ("message.items[2].owner"), truncated when full. Each push
 * returns the length to restore with path_pop. */
static size_t path_grew(enc_ctx *c, size_t old, int n)
{
    size_t room = sizeof(c->path) - old;
    c->path_len = n < 0 ? old : (size_t)n < room ? old + (size_t)n : sizeof(c->path) - 1;
    c->path[c->path_len] = '\0';
    return old;
}

static size_t path_push_field(enc_ctx *c, sigil_slice name)
{
    size_t old = c->path_len;
    return path_grew(
        c, old, snprintf(c->path + old, sizeof(c->path) - old, ".%.*s", (int)name.len, name.p));
}

static size_t path_push_index(enc_ctx *c, size_t i)
{
    size_t old = c->path_len;
    return path_grew(c, old, snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i));
}

static void path_pop(enc_ctx *c, size_t old)
{
    c->path_len = old;
    c->path[old] = '\0';
}

static const uint8_t *struct_type_hash(enc_ctx *c, size_t ti)
{
    /* ti < ntypes <= SIGIL_EIP712_MAX_TYPES (32): the mask only spells it. */
    uint32_t bit = 1u << (ti & 31);
    if (!(c->have_hash & bit)) {
        type_hash_of(c->type_hash[ti], c->t, ti);
        c->have_hash |= bit;
    }
    return c->type_hash[ti];
}

static int expect_tok(const enc_ctx *c, uint32_t tok, sigil_json_type want, const char *what)
{
    sigil_json_type got = sigil_json_type_of(c->d, tok);
    bool ok = got == want || (want == SIGIL_JSON_TRUE && got == SIGIL_JSON_FALSE);
    ENSURE(ok, SIGIL_E_BAD_FIELD, "%s: expected %s, got %s", c->path, what,
           sigil_json_type_name(got));
    return 0;
}

/* Feeds the unescaped bytes of a JSON string to fn in bounded chunks, cut
 * only between escape sequences (strings were validated by the parser). */
typedef int (*chunk_fn)(void *arg, const uint8_t *p, size_t n);

static size_t escape_len(const char *p, size_t i)
{
    if (p[i] != '\\')
        return 1;
    if (p[i + 1] != 'u')
        return 2;
    bool high = (p[i + 2] == 'd' || p[i + 2] == 'D') && strchr("89abAB", p[i + 3]) != NULL;
    return high ? 12 : 6;
}

static int json_str_chunks(const sigil_json *d, uint32_t tok, chunk_fn fn, void *arg)
{
    /* A one-token view of the document whose string spans just the chunk,
     * so the reader's own unescaper decodes it. */
    sigil_json_tok sub_tok = d->toks[tok];
    sigil_json sub = *d;
    uint8_t mem[STR_CHUNK + 12];
    sub.toks = &sub_tok;
    sub.ntoks = 1;
    if (sigil_json_str_is_plain(d, tok))
        return fn(arg, (const uint8_t *)d->text + sub_tok.start, sub_tok.end - sub_tok.start);
    for (size_t i = d->toks[tok].start, end = d->toks[tok].end; i < end;) {
        size_t j = i;
        while (j < end && j - i < STR_CHUNK)
            j += escape_len(d->text, j);
        sigil_buf b;
        sigil_buf_init(&b, mem, sizeof(mem));
        sub_tok.start = (uint32_t)i;
        sub_tok.end = (uint32_t)j;
        GUARD(sigil_json_str(&sub, 0, &b));
        GUARD(fn(arg, b.data, b.len));
        i = j;
    }
    return 0;
}

/* A short string value, unescaped into out (NUL-terminated). */
static int small_str(const enc_ctx *c, uint32_t tok, char *out, size_t cap, size_t *len,
                     const char *what)
{
    sigil_buf b;
    GUARD(expect_tok(c, tok, SIGIL_JSON_STRING, what));
    sigil_buf_init(&b, out, cap - 1);
    if (sigil_json_str(c->d, tok, &b) != 0)
        BAIL(SIGIL_E_BAD_FIELD, "%s: expected %s (too long)", c->path, what);
    out[b.len] = '\0';
    *len = b.len;
    return 0;
}

static int keccak_chunk(void *arg, const uint8_t *p, size_t n)
{
    sigil_keccak256_update(arg, p, n);
    return 0;
}

/* Hex digits of a "bytes" value, decoded and hashed as they stream in. */
typedef struct {
    const enc_ctx *c;
    sigil_keccak_ctx k;
    size_t pos; /* characters seen */
    int hi;     /* pending high nibble, or -1 */
} hex_sink;

static int nibble(char ch)
{
    static const char DIGITS[] = "0123456789abcdef";
    char lower = ch;
    if (ch >= 'A' && ch <= 'F')
        lower = (char)(ch - 'A' + 'a');
    const char *p = lower != '\0' ? strchr(DIGITS, lower) : NULL;
    return p ? (int)(p - DIGITS) : -1;
}

static int hex_chunk(void *arg, const uint8_t *p, size_t n)
{
    hex_sink *s = arg;
    for (size_t i = 0; i < n; i++, s->pos++) {
        if (s->pos < 2) {
            ENSURE(p[i] == (uint8_t) "0x"[s->pos], SIGIL_E_BAD_ENCODING,
                   "%s: expected 0x-prefixed hex", s->c->path);
            continue;
        }
        int v = nibble((char)p[i]);
        ENSURE(v >= 0, SIGIL_E_BAD_ENCODING, "%s: not hexadecimal", s->c->path);
        if (s->hi < 0) {
            s->hi = v;
        } else {
            uint8_t byte = (uint8_t)(s->hi << 4 | v);
            sigil_keccak256_update(&s->k, &byte, 1);
            s->hi = -1;
        }
    }
    return 0;
}

/* ---- atomic encoders ---- */
typedef int (*atom_fn)(enc_ctx *c, uint8_t out[static 32], const atom *a, uint32_t tok);

/* bool: JSON true/false only (ethers takes any JS truthiness: "false" is true). */
static int enc_bool(enc_ctx *c, uint8_t out[static 32], const atom *a, uint32_t tok)
{
    (void)a;
    GUARD(expect_tok(c, tok, SIGIL_JSON_TRUE, "true or false"));
    out[31] = sigil_json_type_of(c->d, tok) == SIGIL_JSON_TRUE;
    return 0;
}

/* address: "0x" + 40 hex, mixed case must be EIP-55 (ethers also takes no
 * prefix and ICAP; we do not). */
static int enc_address(enc_ctx *c, uint8_t out[static 32], const atom *a, uint32_t tok)
{
    char s[48];
    size_t n;
    (void)a;
    GUARD(small_str(c, tok, s, sizeof(s), &n, "an address"));
    return sigil_eth_address_parse(out + 12, s, n, c->path);
}

static int enc_string(enc_ctx *c, uint8_t out[static 32], const atom *a, uint32_t tok)
{
    sigil_keccak_ctx k;
    (void)a;
    GUARD(expect_tok(c, tok, SIGIL_JSON_STRING, "a string"));
    sigil_keccak256_init(&k);
    GUARD(json_str_chunks(c->d, tok, keccak_chunk, &k));
    sigil_keccak256_final(&k, out);
    return 0;
}

static int enc_bytes(enc_ctx *c, uint8_t out[static 32], const atom *a, uint32_t tok)
{
    hex_sink s = {.c = c, .pos = 0, .hi = -1};
    (void)a;
    GUARD(expect_tok(c, tok, SIGIL_JSON_STRING, "0x-prefixed hex"));
    sigil_keccak256_init(&s.k);
    GUARD(json_str_chunks(c->d, tok, hex_chunk, &s));
    ENSURE(s.pos >= 2, SIGIL_E_BAD_ENCODING, "%s: expected 0x-prefixed hex", c->path);
    ENSURE(s.hi < 0, SIGIL_E_BAD_ENCODING, "%s: hex has an odd number of digits", c->path);
    sigil_keccak256_final(&s.k, out);
    return 0;
}

/* bytesN: exactly N bytes, right-padded with zeros. */
static int enc_bytesn(enc_ctx *c, uint8_t out[static 32], const atom *a, uint32_t tok)
{
    char s[72];
    size_t n;
    GUARD(small_str(c, tok, s, sizeof(s), &n, "0x-prefixed hex"));
    ENSURE(n >= 2 && s[0] == '0' && s[1] == 'x', SIGIL_E_BAD_ENCODING,
           "%s: expected 0x-prefixed hex", c->path);
    ENSURE(n - 2 == (size_t)2 * a->size, SIGIL_E_BAD_FIELD, "%s: bytes%u needs exactly %u bytes",
           c->path, a->size, a->size);
    return sigil_hex_decode_exact(out, a->size, s + 2, n - 2, false, c->path);
}

/* ---- integers: 256-bit magnitude and sign ---- */
typedef struct {
    uint8_t mag[32]; /* big-endian */
    bool neg;
} bigint;

/* mag = mag * base + digit; -1 when the result needs more than 256 bits. */
static int mul_add(uint8_t mag[static 32], unsigned base, unsigned digit)
{
    unsigned carry = digit;
    for (int i = 31; i >= 0; i--) {
        unsigned v = mag[i] * base + carry;
        mag[i] = (uint8_t)v;
        carry = v >> 8;
    }
    return carry == 0 ? 0 : -1;
}

static unsigned bit_length(const uint8_t mag[static 32])
{
    for (unsigned i = 0; i < 32; i++) {
        if (mag[i] != 0) {
            unsigned b = 8;
            while (!(mag[i] & (1u << (b - 1))))
                b--;
            return (31 - i) * 8 + b;
        }
    }
    return 0;
}

static bool is_pow2(const uint8_t mag[static 32])
{
    unsigned ones = 0;
    for (unsigned i = 0; i < 32; i++)
        ones += (unsigned)__builtin_popcount(mag[i]);
    return ones == 1;
}

static void negate(uint8_t v[static 32])
{
    unsigned carry = 1;
    for (int i = 31; i >= 0; i--) {
        unsigned x = (uint8_t)~v[i] + carry;
        v[i] = (uint8_t)x;
        carry = x >> 8;
    }
}

/* -?(0|[1-9][0-9]*) or, for strings, -?0[xX][0-9a-fA-F]+ (ethers passes
 * strings to BigInt, which also takes 0x hex; it takes "007", " 7", "+7",
 * 0b and 0o as well, which we refuse: readers differ on them). */
static int parse_int_text(const enc_ctx *c, bigint *v, const char *p, size_t n, bool allow_hex)
{
    memset(v, 0, sizeof(*v));
    v->neg = n > 0 && p[0] == '-';
    p += v->neg;
    n -= v->neg;
    bool hex = allow_hex && n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    size_t i = hex ? 2 : 0;
    unsigned base = hex ? 16 : 10;
    ENSURE(n > i && (hex || p[0] != '0' || n == 1), SIGIL_E_BAD_FIELD,
           "%s: expected a decimal integer%s", c->path, allow_hex ? " or 0x hex" : "");
    for (; i < n; i++) {
        int dv = nibble(p[i]);
        ENSURE(dv >= 0 && (unsigned)dv < base, SIGIL_E_BAD_FIELD,
               "%s: expected a decimal integer%s", c->path, allow_hex ? " or 0x hex" : "");
        ENSURE(mul_add(v->mag, base, (unsigned)dv) == 0, SIGIL_E_OUT_OF_RANGE,
               "%s: integer does not fit in 256 bits", c->path);
    }
    if (bit_length(v->mag) == 0)
        v->neg = false; /* "-0" is 0, as in ethers */
    return 0;
}

/* JSON numbers must be integers a JS wallet reads exactly (|v| <= 2^53-1,
 * as ethers checks); larger values go as decimal strings. Fractions and
 * exponents are refused even when integral ("1e3"), unlike ethers. */
static int read_integer(const enc_ctx *c, bigint *v, uint32_t tok)
{
    char s[INT_TEXT_MAX];
    size_t n;
    if (sigil_json_type_of(c->d, tok) == SIGIL_JSON_NUMBER) {
        sigil_slice raw = sigil_json_raw(c->d, tok);
        ENSURE(sigil_json_is_integer(c->d, tok), SIGIL_E_BAD_FIELD,
               "%s: expected an integer (no fraction or exponent)", c->path);
        GUARD(parse_int_text(c, v, raw.p, raw.len, false));
        ENSURE(bit_length(v->mag) <= JS_SAFE_BITS, SIGIL_E_OUT_OF_RANGE,
               "%s: JSON number beyond 2^53-1 (pass it as a decimal string)", c->path);
        return 0;
    }
    GUARD(small_str(c, tok, s, sizeof(s), &n, "an integer number or string"));
    return parse_int_text(c, v, s, n, true);
}

static int enc_integer(enc_ctx *c, uint8_t out[static 32], const atom *a, uint32_t tok)
{
    bigint v;
    GUARD(read_integer(c, &v, tok));
    unsigned bits = bit_length(v.mag), n = a->size;
    bool sig = a->k == K_INT;
    bool ok =
        sig ? (bits <= n - 1 || (v.neg && bits == n && is_pow2(v.mag))) : (!v.neg && bits <= n);
    ENSURE(ok, SIGIL_E_OUT_OF_RANGE, "%s: value out of range for %s%u", c->path,
           sig ? "int" : "uint", n);
    memcpy(out, v.mag, 32);
    if (v.neg)
        negate(out); /* two's complement over 256 bits */
    return 0;
}

static const atom_fn ATOM_ENCODERS[] = {
    [K_BOOL] = enc_bool,   [K_ADDRESS] = enc_address, [K_STRING] = enc_string,
    [K_BYTES] = enc_bytes, [K_BYTESN] = enc_bytesn,   [K_UINT] = enc_integer,
    [K_INT] = enc_integer,
};

/* ---- structs and arrays ---- */
static int encode_value(enc_ctx *c, uint8_t out[static 32], sigil_slice type, uint32_t tok);

static int field_value(const enc_ctx *c, uint32_t obj, sigil_slice name, uint32_t *out)
{
    char key[NAME_MAX_LEN + 1];
    memcpy(key, name.p, name.len);
    key[name.len] = '\0';
    *out = sigil_json_get(c->d, obj, key);
    ENSURE(*out != 0 && sigil_json_type_of(c->d, *out) != SIGIL_JSON_NULL, SIGIL_E_MISSING_FIELD,
           "%s: required field missing", c->path);
    return 0;
}

/* hashStruct: keccak(typeHash ‖ enc(field)…). Members of the value that the
 * type does not declare are ignored, as in ethers; missing ones are refused
 * (ethers would encode a missing bool as false). */
static int hash_struct_at(enc_ctx *c, uint8_t out[static 32], size_t ti, uint32_t tok)
{
    const sigil_eip712_type *ty = &c->t->types[ti];
    sigil_keccak_ctx k;
    GUARD(expect_tok(c, tok, SIGIL_JSON_OBJECT, "an object"));
    sigil_keccak256_init(&k);
    sigil_keccak256_update(&k, struct_type_hash(c, ti), 32);
    for (size_t fi = 0; fi < ty->nfields; fi++) {
        uint8_t enc[32];
        uint32_t v;
        size_t mark = path_push_field(c, ty->fields[fi].name);
        GUARD(field_value(c, tok, ty->fields[fi].name, &v));
        GUARD(encode_value(c, enc, ty->fields[fi].type, v));
        sigil_keccak256_update(&k, enc, 32);
        path_pop(c, mark);
    }
    sigil_keccak256_final(&k, out);
    return 0;
}

/* T[] or T[k]: keccak of the concatenated encodings of the items. */
static int encode_array(enc_ctx *c, uint8_t out[static 32], sigil_slice type, uint32_t tok)
{
    const char *open = type.p + type.len - 1;
    while (*open != '[')
        open--;
    sigil_slice elem = {type.p, (size_t)(open - type.p)};
    size_t want = parse_count(open + 1, (size_t)(type.p + type.len - 1 - (open + 1)), SIZE_MAX);
    GUARD(expect_tok(c, tok, SIGIL_JSON_ARRAY, "an array"));
    size_t got = c->d->toks[tok].size, i = 0;
    ENSURE(want == 0 || got == want, SIGIL_E_BAD_FIELD, "%s: expected %zu items, got %zu", c->path,
           want, got);
    sigil_keccak_ctx k;
    sigil_keccak256_init(&k);
    for (uint32_t it = sigil_json_first(c->d, tok); it != 0;
         it = sigil_json_sibling(c->d, tok, it), i++) {
        uint8_t enc[32];
        size_t mark = path_push_index(c, i);
        GUARD(encode_value(c, enc, elem, it));
        sigil_keccak256_update(&k, enc, 32);
        path_pop(c, mark);
    }
    sigil_keccak256_final(&k, out);
    return 0;
}

/* The 32-byte encoding of one value; structs are hashed (hashStruct). */
static int encode_value(enc_ctx *c, uint8_t out[static 32], sigil_slice type, uint32_t tok)
{
    atom a;
    int rc;
    ENSURE(c->depth < ENC_MAX_DEPTH, SIGIL_E_TOO_LARGE, "%s: nested too deeply", c->path);
    c->depth++;
    memset(out, 0, 32);
    if (type.len > 0 && type.p[type.len - 1] == ']')
        rc = encode_array(c, out, type, tok);
    else if (classify(type, &a) == 1)
        rc = ATOM_ENCODERS[a.k](c, out, &a, tok);
    else
        rc = hash_struct_at(c, out, (size_t)find_type(c->t, type), tok);
    c->depth--;
    return rc;
}

/* ---- public entry points ---- */
static int primary_index(const sigil_eip712_types *t, sigil_slice primary, size_t *out)
{
    int i = find_type(t, primary);
    ENSURE(i >= 0, SIGIL_E_BAD_FIELD, "primaryType: unknown type %.*s",
           (int)(primary.len < NAME_MAX_LEN ? primary.len : NAME_MAX_LEN), primary.p);
    *out = (size_t)i;
    return 0;
}

int sigil_eip712_type_hash(uint8_t out[static 32], const sigil_eip712_types *t, sigil_slice primary)
{
    size_t ti = 0;
    GUARD(validate_types(t));
    GUARD(primary_index(t, primary, &ti));
    type_hash_of(out, t, ti);
    return 0;
}

int sigil_eip712_hash_struct(uint8_t out[static 32], const sigil_eip712_types *t,
                             sigil_slice primary, const sigil_json *d, uint32_t value)
{
    enc_ctx c;
    size_t ti = 0;
    GUARD(validate_types(t));
    GUARD(primary_index(t, primary, &ti));
    enc_init(&c, t, d, "message");
    return hash_struct_at(&c, out, ti, value);
}

/* {"Name": [{"name": "...", "type": "..."}, ...], ...} → fields of one type. */
static int read_type_fields(sigil_eip712_type *ty, sigil_eip712_field *mem, size_t cap,
                            const sigil_json *d, uint32_t arr)
{
    static const sigil_json_field FIELD_KEYS[] = {{"name", true}, {"type", true}};
    char where[NAME_MAX_LEN + 32];
    snprintf(where, sizeof(where), "types.%.*s", (int)ty->name.len, ty->name.p);
    GUARD(sigil_json_expect(d, arr, SIGIL_JSON_ARRAY, where, NULL));
    ENSURE(d->toks[arr].size <= cap, SIGIL_E_TOO_LARGE, "types: more than %d fields in all",
           SIGIL_EIP712_MAX_FIELDS);
    ty->fields = mem;
    ty->nfields = 0;
    for (uint32_t it = sigil_json_first(d, arr); it != 0; it = sigil_json_sibling(d, arr, it)) {
        uint32_t nt, tt;
        snprintf(where, sizeof(where), "types.%.*s[%zu]", (int)ty->name.len, ty->name.p,
                 ty->nfields);
        GUARD(sigil_json_check_fields(d, it, FIELD_KEYS, 2, where));
        GUARD(sigil_json_get_str(d, it, "name", true, &nt, where));
        GUARD(sigil_json_get_str(d, it, "type", true, &tt, where));
        ENSURE(sigil_json_str_is_plain(d, nt) && sigil_json_str_is_plain(d, tt), SIGIL_E_BAD_FIELD,
               "%s: names and types must be written without escapes", where);
        mem[ty->nfields].name = sigil_json_raw(d, nt);
        mem[ty->nfields].type = sigil_json_raw(d, tt);
        ty->nfields++;
    }
    return 0;
}

int sigil_eip712_types_from_json(sigil_eip712_types *out, sigil_eip712_type *type_mem,
                                 size_t type_cap, sigil_eip712_field *field_mem, size_t field_cap,
                                 const sigil_json *d, uint32_t types_obj)
{
    size_t nfields = 0;
    out->types = type_mem;
    out->ntypes = 0;
    GUARD(sigil_json_expect(d, types_obj, SIGIL_JSON_OBJECT, "types", NULL));
    for (uint32_t k = sigil_json_first(d, types_obj); k != 0;
         k = sigil_json_sibling(d, types_obj, k)) {
        ENSURE(out->ntypes < type_cap && out->ntypes < SIGIL_EIP712_MAX_TYPES, SIGIL_E_TOO_LARGE,
               "types: more than %zu types", type_cap);
        sigil_eip712_type *ty = &type_mem[out->ntypes];
        ty->name = sigil_json_raw(d, k);
        ENSURE(sigil_json_str_is_plain(d, k) && is_ident(ty->name), SIGIL_E_BAD_FIELD,
               "types: type %zu: name must be an identifier of at most %d characters", out->ntypes,
               NAME_MAX_LEN);
        GUARD(
            read_type_fields(ty, field_mem + nfields, field_cap - nfields, d, sigil_json_value(k)));
        nfields += ty->nfields;
        out->ntypes++;
    }
    return validate_types(out);
}

/* ---- the full typed-data document ---- */
static const sigil_eip712_field DOMAIN_FIELDS[] = {
    {SL("name"), SL("string")},     {SL("version"), SL("string")},
    {SL("chainId"), SL("uint256")}, {SL("verifyingContract"), SL("address")},
    {SL("salt"), SL("bytes32")},
};

/* Is key (a member name token) one of the fields of ty? */
static bool is_field_of(const sigil_json *d, uint32_t key, const sigil_eip712_type *ty)
{
    char name[NAME_MAX_LEN + 1];
    for (size_t i = 0; i < ty->nfields; i++) {
        memcpy(name, ty->fields[i].name.p, ty->fields[i].name.len);
        name[ty->fields[i].name.len] = '\0';
        if (sigil_json_str_eq(d, key, name))
            return true;
    }
    return false;
}

/* Every domain member must be hashed: a member outside the domain type
 * would be shown to a user but not signed (ethers refuses it too). */
static int check_domain_members(const sigil_json *d, uint32_t dom, const sigil_eip712_type *ty)
{
    GUARD(sigil_json_expect(d, dom, SIGIL_JSON_OBJECT, "domain", NULL));
    size_t i = 0;
    for (uint32_t k = sigil_json_first(d, dom); k != 0; k = sigil_json_sibling(d, dom, k), i++) {
        sigil_slice raw = sigil_json_raw(d, k);
        bool show = sigil_json_str_is_plain(d, k) && is_ident(raw);
        ENSURE(is_field_of(d, k, ty), SIGIL_E_UNKNOWN_FIELD,
               "domain.%.*s: not a field of EIP712Domain (member %zu)", show ? (int)raw.len : 1,
               show ? raw.p : "?", i);
    }
    return 0;
}

/* Without an EIP712Domain type: the domain's non-null members, in the
 * canonical order name, version, chainId, verifyingContract, salt (ethers). */
static int derive_domain_type(sigil_eip712_type *ty, sigil_eip712_field *mem, const sigil_json *d,
                              uint32_t dom)
{
    sigil_eip712_type all = {SL("EIP712Domain"), DOMAIN_FIELDS, SIGIL_ARRAY_LEN(DOMAIN_FIELDS)};
    GUARD(check_domain_members(d, dom, &all));
    *ty = (sigil_eip712_type){SL("EIP712Domain"), mem, 0};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(DOMAIN_FIELDS); i++) {
        uint32_t v = sigil_json_get(d, dom, DOMAIN_FIELDS[i].name.p); /* a literal */
        if (v != 0 && sigil_json_type_of(d, v) != SIGIL_JSON_NULL)
            mem[ty->nfields++] = DOMAIN_FIELDS[i];
    }
    return 0;
}

static int hash_domain(uint8_t out[static 32], const sigil_eip712_types *t, const sigil_json *d,
                       uint32_t dom)
{
    enc_ctx c;
    int di = find_type(t, SL("EIP712Domain"));
    if (di >= 0) {
        GUARD(check_domain_members(d, dom, &t->types[di]));
        enc_init(&c, t, d, "domain");
        return hash_struct_at(&c, out, (size_t)di, dom);
    }
    sigil_eip712_field mem[SIGIL_ARRAY_LEN(DOMAIN_FIELDS)];
    sigil_eip712_type ty;
    GUARD(derive_domain_type(&ty, mem, d, dom));
    sigil_eip712_types dt = {&ty, 1};
    enc_init(&c, &dt, d, "domain");
    return hash_struct_at(&c, out, 0, dom);
}

/* Every type must be reachable from primaryType (or be the domain type):
 * ethers derives the primary type as the one root and refuses unused types,
 * so a document it would reject cannot be signed here either. */
static int check_primary(const sigil_eip712_types *t, sigil_slice primary, size_t *out)
{
    GUARD(primary_index(t, primary, out));
    ENSURE(!sigil_slice_eq(primary, "EIP712Domain"), SIGIL_E_BAD_FIELD,
           "primaryType: must not be EIP712Domain");
    uint32_t used = 1u << *out;
    collect_deps(t, *out, &used);
    int di = find_type(t, SL("EIP712Domain"));
    if (di >= 0) {
        used |= 1u << di;
        collect_deps(t, (size_t)di, &used);
    }
    for (size_t i = 0; i < t->ntypes; i++)
        ENSURE(used & (1u << i), SIGIL_E_BAD_FIELD, "types.%.*s: not used by primaryType",
               (int)t->types[i].name.len, t->types[i].name.p);
    return 0;
}

int sigil_eip712_hash_typed_data(uint8_t digest[static 32], uint8_t domain_separator[static 32],
                                 const sigil_json *d, uint32_t root, const sigil_json_field *extra,
                                 size_t n_extra)
{
    sigil_json_field keys[DOC_KEYS + EXTRA_KEYS_MAX] = {
        {"domain", true}, {"types", true}, {"primaryType", true}, {"message", true}};
    sigil_eip712_type type_mem[SIGIL_EIP712_MAX_TYPES];
    sigil_eip712_field field_mem[SIGIL_EIP712_MAX_FIELDS];
    sigil_eip712_types t;
    uint8_t struct_hash[32];
    uint32_t pt;
    size_t ti = 0;
    enc_ctx c;
    ENSURE(n_extra <= EXTRA_KEYS_MAX, SIGIL_E_INTERNAL, "typed data: more than %d extra members",
           EXTRA_KEYS_MAX);
    if (n_extra > 0)
        memcpy(keys + DOC_KEYS, extra, n_extra * sizeof(*extra));
    GUARD(sigil_json_check_fields(d, root, keys, DOC_KEYS + n_extra, "typed data"));
    GUARD(sigil_eip712_types_from_json(&t, type_mem, SIGIL_EIP712_MAX_TYPES, field_mem,
                                       SIGIL_EIP712_MAX_FIELDS, d,
                                       sigil_json_get(d, root, "types")));
    GUARD(sigil_json_get_str(d, root, "primaryType", true, &pt, "typed data"));
    ENSURE(sigil_json_str_is_plain(d, pt), SIGIL_E_BAD_FIELD,
           "primaryType: must be written without escapes");
    GUARD(check_primary(&t, sigil_json_raw(d, pt), &ti));
    GUARD(hash_domain(domain_separator, &t, d, sigil_json_get(d, root, "domain")));
    enc_init(&c, &t, d, "message");
    GUARD(hash_struct_at(&c, struct_hash, ti, sigil_json_get(d, root, "message")));
    sigil_eip712_digest(digest, domain_separator, struct_hash);
    return 0;
}
