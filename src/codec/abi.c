/*
 * Solidity ABI for the measurement registry: selectors, call data, strict
 * return-data and revert-data decoding. Public data only; the bytes decoded
 * here come from an RPC node and are untrusted.
 */
#include <stdio.h>
#include <string.h>

#include "sigil/abi.h"
#include "sigil/codec.h"
#include "sigil/crypto.h"

#define W SIGIL_ABI_WORD

/* ---- types ---- */

typedef struct {
    const char *name;
    bool dynamic;
    size_t zero_prefix; /* leading bytes of the word that must be zero */
} abi_type_info;

static const abi_type_info TYPES[] = {
    [SIGIL_ABI_ADDRESS] = {"address", false, 12}, [SIGIL_ABI_BOOL] = {"bool", false, 31},
    [SIGIL_ABI_UINT64] = {"uint64", false, 24},   [SIGIL_ABI_UINT256] = {"uint256", false, 0},
    [SIGIL_ABI_BYTES32] = {"bytes32", false, 0},  [SIGIL_ABI_BYTES] = {"bytes", true, 0},
    [SIGIL_ABI_STRING] = {"string", true, 0},
};

static const abi_type_info *type_info(sigil_abi_type t)
{
    if ((unsigned)t >= SIGIL_ARRAY_LEN(TYPES) || TYPES[t].name == NULL)
        return NULL;
    return &TYPES[t];
}

const char *sigil_abi_type_name(sigil_abi_type t)
{
    const abi_type_info *ti = type_info(t);
    return ti == NULL ? NULL : ti->name;
}

/* ---- value constructors ---- */

static void put_u64_word(uint8_t w[32], uint64_t v)
{
    memset(w, 0, 32);
    for (int i = 0; i < 8; i++)
        w[31 - i] = (uint8_t)(v >> (8 * i));
}

static uint64_t word_u64(const uint8_t w[32])
{
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = (v << 8) | w[i];
    return v;
}

sigil_abi_value sigil_abi_address(const uint8_t addr[static 20])
{
    sigil_abi_value v = {.type = SIGIL_ABI_ADDRESS};
    memcpy(v.word + 12, addr, 20);
    return v;
}

sigil_abi_value sigil_abi_bool(bool b)
{
    sigil_abi_value v = {.type = SIGIL_ABI_BOOL, .u = b ? 1u : 0u};
    v.word[31] = b ? 1u : 0u;
    return v;
}

sigil_abi_value sigil_abi_uint64(uint64_t x)
{
    sigil_abi_value v = {.type = SIGIL_ABI_UINT64, .u = x};
    put_u64_word(v.word, x);
    return v;
}

sigil_abi_value sigil_abi_uint256(const uint8_t be[static 32])
{
    sigil_abi_value v = {.type = SIGIL_ABI_UINT256};
    memcpy(v.word, be, 32);
    return v;
}

sigil_abi_value sigil_abi_bytes32(const uint8_t b[static 32])
{
    sigil_abi_value v = {.type = SIGIL_ABI_BYTES32};
    memcpy(v.word, b, 32);
    return v;
}

sigil_abi_value sigil_abi_bytes(const uint8_t *p, size_t len)
{
    return (sigil_abi_value){.type = SIGIL_ABI_BYTES, .p = p, .len = len};
}

sigil_abi_value sigil_abi_string(const char *p, size_t len)
{
    return (sigil_abi_value){.type = SIGIL_ABI_STRING, .p = (const uint8_t *)p, .len = len};
}

/* ---- the registry's interface ---- */

#define P(t, n)                                                                                    \
    {                                                                                              \
        SIGIL_ABI_##t, n                                                                           \
    }
#define FN(name, in, out)                                                                          \
    {                                                                                              \
        name, in, SIGIL_ARRAY_LEN(in), out, SIGIL_ARRAY_LEN(out)                                   \
    }
#define ERR(name, in)                                                                              \
    {                                                                                              \
        name, in, SIGIL_ARRAY_LEN(in), NULL, 0                                                     \
    }

static const sigil_abi_param IN_REGISTER[] = {P(BYTES, "measurement"), P(BYTES32, "buildHash"),
                                              P(STRING, "description")};
static const sigil_abi_param IN_MEASUREMENT[] = {P(BYTES, "measurement")};
static const sigil_abi_param IN_OWNER_MEASUREMENT[] = {P(ADDRESS, "owner"),
                                                       P(BYTES, "measurement")};
static const sigil_abi_param IN_OWNER[] = {P(ADDRESS, "owner")};
static const sigil_abi_param IN_OWNER_INDEX[] = {P(ADDRESS, "owner"), P(UINT256, "index")};
static const sigil_abi_param OUT_IS_ACTIVE[] = {P(BOOL, "active")};
static const sigil_abi_param OUT_GET_ENTRY[] = {
    P(BOOL, "exists"),        P(BOOL, "active"),         P(BYTES32, "buildHash"),
    P(STRING, "description"), P(UINT64, "registeredAt"), P(UINT64, "deprecatedAt")};
static const sigil_abi_param OUT_HISTORY_LENGTH[] = {P(UINT256, "length")};
static const sigil_abi_param OUT_HISTORY_AT[] = {
    P(BYTES, "measurement"), P(BYTES32, "buildHash"), P(STRING, "description"),
    P(UINT64, "registeredAt"), P(UINT64, "deprecatedAt")};

static const sigil_abi_function FUNCTIONS[] = {
    {"register", IN_REGISTER, SIGIL_ARRAY_LEN(IN_REGISTER), NULL, 0},
    {"deprecate", IN_MEASUREMENT, SIGIL_ARRAY_LEN(IN_MEASUREMENT), NULL, 0},
    FN("isActive", IN_OWNER_MEASUREMENT, OUT_IS_ACTIVE),
    FN("getEntry", IN_OWNER_MEASUREMENT, OUT_GET_ENTRY),
    FN("historyLength", IN_OWNER, OUT_HISTORY_LENGTH),
    FN("historyAt", IN_OWNER_INDEX, OUT_HISTORY_AT),
};

static const sigil_abi_param E_LENGTH[] = {P(UINT256, "length")};
static const sigil_abi_param E_LENGTH_MAX[] = {P(UINT256, "length"), P(UINT256, "max")};
static const sigil_abi_param E_OWNER_MEASUREMENT[] = {P(ADDRESS, "owner"), P(BYTES, "measurement")};
static const sigil_abi_param E_STRING[] = {P(STRING, "message")};
static const sigil_abi_param E_PANIC[] = {P(UINT256, "code")};

static const sigil_abi_function ERRORS[] = {
    ERR("BadMeasurementLength", E_LENGTH),         ERR("DescriptionTooLong", E_LENGTH_MAX),
    ERR("AlreadyRegistered", E_OWNER_MEASUREMENT), ERR("NotRegistered", E_OWNER_MEASUREMENT),
    ERR("AlreadyDeprecated", E_OWNER_MEASUREMENT),
};
/* Solidity's built-in errors, matched before the custom ones. */
static const sigil_abi_function ERROR_STRING = ERR("Error", E_STRING);
static const sigil_abi_function ERROR_PANIC = ERR("Panic", E_PANIC);

#undef P
#undef FN
#undef ERR

static const sigil_abi_function *find_named(const sigil_abi_function *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

const sigil_abi_function *sigil_registry_function(const char *name)
{
    return find_named(FUNCTIONS, SIGIL_ARRAY_LEN(FUNCTIONS), name);
}

const sigil_abi_function *sigil_registry_error(const char *name)
{
    return find_named(ERRORS, SIGIL_ARRAY_LEN(ERRORS), name);
}

/* ---- signatures and selectors ---- */

int sigil_abi_signature(char out[static SIGIL_ABI_SIGNATURE_MAX], const char *name,
                        const sigil_abi_param *params, size_t n)
{
    sigil_buf b;
    sigil_buf_init(&b, out, SIGIL_ABI_SIGNATURE_MAX);
    GUARD(sigil_buf_puts(&b, name));
    GUARD(sigil_buf_putc(&b, '('));
    for (size_t i = 0; i < n; i++) {
        const char *t = sigil_abi_type_name(params[i].type);
        ENSURE(t != NULL, SIGIL_E_INTERNAL, "abi: %s: parameter %zu has no type", name, i);
        if (i > 0)
            GUARD(sigil_buf_putc(&b, ','));
        GUARD(sigil_buf_puts(&b, t));
    }
    GUARD(sigil_buf_putc(&b, ')'));
    return sigil_buf_cstr(&b);
}

int sigil_abi_selector(uint8_t out[static 4], const char *name, const sigil_abi_param *params,
                       size_t n)
{
    char sig[SIGIL_ABI_SIGNATURE_MAX];
    uint8_t h[32];
    GUARD(sigil_abi_signature(sig, name, params, n));
    sigil_keccak256(h, sig, strlen(sig));
    memcpy(out, h, 4);
    return 0;
}

/* ---- encoding ---- */

static size_t padded(size_t n)
{
    return (n + W - 1) / W * W;
}

/* Bytes the tuple takes; 0 with an error when a value is unusable. */
static int encoded_size(size_t *out, const sigil_abi_value *vals, size_t n)
{
    size_t total = n * W;
    for (size_t i = 0; i < n; i++) {
        const abi_type_info *ti = type_info(vals[i].type);
        ENSURE(ti != NULL, SIGIL_E_INTERNAL, "abi: value %zu has no type", i);
        if (!ti->dynamic)
            continue;
        ENSURE(vals[i].len <= SIGIL_ABI_DYNAMIC_MAX && (vals[i].p != NULL || vals[i].len == 0),
               SIGIL_E_TOO_LARGE, "abi: value %zu: %s over %u bytes", i, ti->name,
               SIGIL_ABI_DYNAMIC_MAX);
        total += W + padded(vals[i].len);
    }
    *out = total;
    return 0;
}

static void encode_into(uint8_t *o, const sigil_abi_value *vals, size_t n)
{
    size_t tail = n * W;
    for (size_t i = 0; i < n; i++) {
        const sigil_abi_value *v = &vals[i];
        if (!TYPES[v->type].dynamic) {
            memcpy(o + i * W, v->word, W);
            continue;
        }
        put_u64_word(o + i * W, tail);
        put_u64_word(o + tail, v->len);
        memset(o + tail + W, 0, padded(v->len));
        if (v->len > 0)
            memcpy(o + tail + W, v->p, v->len);
        tail += W + padded(v->len);
    }
}

int sigil_abi_encode(sigil_buf *out, const sigil_abi_value *vals, size_t n)
{
    size_t total;
    GUARD(encoded_size(&total, vals, n));
    ENSURE(total <= out->cap - out->len, SIGIL_E_TOO_LARGE, "abi: encoding needs %zu bytes", total);
    encode_into(out->data + out->len, vals, n);
    out->len += total;
    return 0;
}

int sigil_abi_encode_call(sigil_buf *out, const sigil_abi_function *fn, const sigil_abi_value *args,
                          size_t n)
{
    uint8_t sel[4];
    size_t total;
    ENSURE(n == fn->ninputs, SIGIL_E_BAD_FIELD, "abi: %s takes %zu arguments, not %zu", fn->name,
           fn->ninputs, n);
    for (size_t i = 0; i < n; i++)
        ENSURE(args[i].type == fn->inputs[i].type, SIGIL_E_BAD_FIELD, "abi: %s.%s: expected %s",
               fn->name, fn->inputs[i].name, TYPES[fn->inputs[i].type].name);
    GUARD(sigil_abi_selector(sel, fn->name, fn->inputs, fn->ninputs));
    GUARD(encoded_size(&total, args, n));
    ENSURE(total + 4 <= out->cap - out->len, SIGIL_E_TOO_LARGE, "abi: %s call data needs %zu bytes",
           fn->name, total + 4);
    memcpy(out->data + out->len, sel, 4);
    encode_into(out->data + out->len + 4, args, n);
    out->len += total + 4;
    return 0;
}

/* ---- strict decoding ---- */

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t next; /* where the next dynamic item must start (canonical layout) */
    const char *what;
    const char *param;
} decoder;

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* A word that must hold a small unsigned integer (offset or length). */
static int small_word(size_t *out, const decoder *d, const uint8_t *w, const char *role)
{
    ENSURE(all_zero(w, 24), SIGIL_E_BAD_ENCODING, "%s: %s: %s out of range", d->what, d->param,
           role);
    uint64_t v = word_u64(w);
    ENSURE(v <= SIZE_MAX / 2, SIGIL_E_BAD_ENCODING, "%s: %s: %s out of range", d->what, d->param,
           role);
    *out = (size_t)v;
    return 0;
}

static int decode_static(sigil_abi_value *v, const decoder *d, const uint8_t *w)
{
    const abi_type_info *ti = &TYPES[v->type];
    memcpy(v->word, w, W);
    if (v->type == SIGIL_ABI_UINT64)
        ENSURE(all_zero(w, ti->zero_prefix), SIGIL_E_OUT_OF_RANGE, "%s: %s: does not fit in uint64",
               d->what, d->param);
    ENSURE(all_zero(w, ti->zero_prefix), SIGIL_E_BAD_ENCODING, "%s: %s: non-zero padding in %s",
           d->what, d->param, ti->name);
    if (v->type == SIGIL_ABI_BOOL)
        ENSURE(w[31] <= 1, SIGIL_E_BAD_ENCODING, "%s: %s: bool is %u (0 or 1 expected)", d->what,
               d->param, (unsigned)w[31]);
    v->u = word_u64(w);
    return 0;
}

static int decode_dynamic(sigil_abi_value *v, decoder *d, const uint8_t *head)
{
    size_t off, n;
    GUARD(small_word(&off, d, head, "offset"));
    ENSURE(off % W == 0, SIGIL_E_BAD_ENCODING, "%s: %s: offset %zu is not a multiple of 32",
           d->what, d->param, off);
    ENSURE(off <= d->len && d->len - off >= W, SIGIL_E_BAD_ENCODING,
           "%s: %s: offset %zu out of range (%zu bytes of data)", d->what, d->param, off, d->len);
    ENSURE(off == d->next, SIGIL_E_BAD_ENCODING,
           "%s: %s: offset %zu is not canonical (expected %zu)", d->what, d->param, off, d->next);
    GUARD(small_word(&n, d, d->data + off, "length"));
    ENSURE(n <= SIGIL_ABI_DYNAMIC_MAX, SIGIL_E_TOO_LARGE, "%s: %s: length %zu over %u bytes",
           d->what, d->param, n, SIGIL_ABI_DYNAMIC_MAX);
    size_t body = off + W;
    ENSURE(d->len - body >= padded(n), SIGIL_E_BAD_ENCODING,
           "%s: %s: truncated (%zu bytes announced, %zu present)", d->what, d->param, n,
           d->len - body);
    ENSURE(all_zero(d->data + body + n, padded(n) - n), SIGIL_E_BAD_ENCODING,
           "%s: %s: non-zero padding after the %s", d->what, d->param, TYPES[v->type].name);
    v->p = d->data + body;
    v->len = n;
    d->next = body + padded(n);
    return 0;
}

int sigil_abi_decode(sigil_abi_value *out, const sigil_abi_param *params, size_t n,
                     const uint8_t *data, size_t len, const char *what)
{
    ENSURE(n <= SIGIL_ABI_MAX_PARAMS, SIGIL_E_INTERNAL, "abi: %s: too many parameters", what);
    ENSURE(len >= n * W, SIGIL_E_BAD_ENCODING, "%s: truncated (%zu bytes, the head needs %zu)",
           what, len, n * W);
    decoder d = {data, len, n * W, what, NULL};
    for (size_t i = 0; i < n; i++) {
        const abi_type_info *ti = type_info(params[i].type);
        ENSURE(ti != NULL, SIGIL_E_INTERNAL, "abi: %s: parameter %zu has no type", what, i);
        memset(&out[i], 0, sizeof(out[i]));
        out[i].type = params[i].type;
        d.param = params[i].name;
        if (ti->dynamic)
            GUARD(decode_dynamic(&out[i], &d, data + i * W));
        else
            GUARD(decode_static(&out[i], &d, data + i * W));
    }
    ENSURE(d.next == len, SIGIL_E_BAD_ENCODING, "%s: %zu trailing bytes after the encoding", what,
           len - d.next);
    return 0;
}

/* ---- revert data ---- */

static bool selector_is(const uint8_t sel[4], const sigil_abi_function *e)
{
    uint8_t s[4];
    return sigil_abi_selector(s, e->name, e->inputs, e->ninputs) == 0 && memcmp(s, sel, 4) == 0;
}

static const sigil_abi_function *find_error(const uint8_t sel[4], sigil_abi_revert_kind *kind)
{
    static const struct {
        const sigil_abi_function *e;
        sigil_abi_revert_kind kind;
    } BUILTIN[] = {{&ERROR_STRING, SIGIL_ABI_REVERT_ERROR}, {&ERROR_PANIC, SIGIL_ABI_REVERT_PANIC}};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BUILTIN); i++) {
        if (selector_is(sel, BUILTIN[i].e)) {
            *kind = BUILTIN[i].kind;
            return BUILTIN[i].e;
        }
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(ERRORS); i++) {
        if (selector_is(sel, &ERRORS[i])) {
            *kind = SIGIL_ABI_REVERT_CUSTOM;
            return &ERRORS[i];
        }
    }
    *kind = SIGIL_ABI_REVERT_UNKNOWN;
    return NULL;
}

int sigil_abi_decode_revert(sigil_abi_revert *r, const uint8_t *data, size_t len)
{
    char what[64];
    memset(r, 0, sizeof(*r));
    r->data_len = len;
    if (len == 0) {
        r->kind = SIGIL_ABI_REVERT_EMPTY;
        return 0;
    }
    ENSURE(len >= 4, SIGIL_E_BAD_ENCODING, "revert data: %zu bytes, shorter than a selector", len);
    memcpy(r->selector, data, 4);
    const sigil_abi_function *e = find_error(r->selector, &r->kind);
    if (e == NULL)
        return 0;
    (void)snprintf(what, sizeof(what), "revert data %s", e->name);
    GUARD(sigil_abi_decode(r->args, e->inputs, e->ninputs, data + 4, len - 4, what));
    r->name = e->name;
    r->error = e;
    r->nargs = e->ninputs;
    return 0;
}

/* uint256: decimal when it fits in 64 bits, else 0x and 64 hex digits. */
static int put_uint256(sigil_buf *b, const uint8_t w[32])
{
    if (all_zero(w, 24))
        return sigil_buf_put_u64(b, word_u64(w));
    GUARD(sigil_buf_puts(b, "0x"));
    return sigil_buf_put_hex(b, w, 32);
}

/* Printable ASCII only: the text is the contract's (or a node's) to choose. */
static int put_printable(sigil_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = (char)((p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') ? p[i] : '?');
        GUARD(sigil_buf_putc(b, c));
    }
    return 0;
}

static int put_value(sigil_buf *b, const sigil_abi_value *v)
{
    char cs[43];
    switch (v->type) {
    case SIGIL_ABI_ADDRESS:
        sigil_eth_address_checksum(cs, v->word + 12);
        return sigil_buf_puts(b, cs);
    case SIGIL_ABI_BOOL:
        return sigil_buf_puts(b, v->u ? "true" : "false");
    case SIGIL_ABI_UINT64:
    case SIGIL_ABI_UINT256:
        return put_uint256(b, v->word);
    case SIGIL_ABI_BYTES32:
        GUARD(sigil_buf_puts(b, "0x"));
        return sigil_buf_put_hex(b, v->word, 32);
    case SIGIL_ABI_BYTES:
        GUARD(sigil_buf_puts(b, "0x"));
        return sigil_buf_put_hex(b, v->p, v->len);
    case SIGIL_ABI_STRING:
        GUARD(sigil_buf_putc(b, '"'));
        GUARD(put_printable(b, v->p, v->len));
        return sigil_buf_putc(b, '"');
    default:
        BAIL(SIGIL_E_INTERNAL, "abi: value without a type");
    }
}

static const char *panic_reason(const uint8_t w[32])
{
    static const struct {
        uint8_t code;
        const char *text;
    } PANICS[] = {
        {0x00, "generic compiler panic"},
        {0x01, "assertion failed"},
        {0x11, "arithmetic overflow or underflow"},
        {0x12, "division or modulo by zero"},
        {0x21, "invalid enum value"},
        {0x22, "corrupt storage byte array"},
        {0x31, "pop on an empty array"},
        {0x32, "array index out of bounds"},
        {0x41, "out of memory"},
        {0x51, "call to a zero-initialised function"},
    };
    if (!all_zero(w, 31))
        return "unknown panic code";
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(PANICS); i++)
        if (PANICS[i].code == w[31])
            return PANICS[i].text;
    return "unknown panic code";
}

/* Panic codes read as Solidity writes them: 0x32. */
static int put_panic_code(sigil_buf *b, const uint8_t w[32])
{
    char hex[24];
    if (!all_zero(w, 24))
        return put_uint256(b, w);
    (void)snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)word_u64(w));
    return sigil_buf_puts(b, hex);
}

static int describe_args(sigil_buf *b, const sigil_abi_revert *r)
{
    GUARD(sigil_buf_puts(b, r->name));
    GUARD(sigil_buf_putc(b, '('));
    for (size_t i = 0; i < r->nargs; i++) {
        if (i > 0)
            GUARD(sigil_buf_puts(b, ", "));
        if (r->kind == SIGIL_ABI_REVERT_CUSTOM) {
            GUARD(sigil_buf_puts(b, r->error->inputs[i].name));
            GUARD(sigil_buf_putc(b, '='));
        }
        if (r->kind == SIGIL_ABI_REVERT_PANIC) {
            GUARD(put_panic_code(b, r->args[i].word));
            GUARD(sigil_buf_puts(b, ": "));
            GUARD(sigil_buf_puts(b, panic_reason(r->args[i].word)));
        } else {
            GUARD(put_value(b, &r->args[i]));
        }
    }
    return sigil_buf_putc(b, ')');
}

int sigil_abi_revert_describe(sigil_buf *out, const sigil_abi_revert *r)
{
    size_t mark = out->len;
    int rc;
    switch (r->kind) {
    case SIGIL_ABI_REVERT_EMPTY:
        rc = sigil_buf_puts(out, "no revert data");
        break;
    case SIGIL_ABI_REVERT_UNKNOWN:
        rc = sigil_buf_puts(out, "unknown error 0x");
        if (rc == 0)
            rc = sigil_buf_put_hex(out, r->selector, 4);
        if (rc == 0)
            rc = sigil_buf_puts(out, " (");
        if (rc == 0)
            rc = sigil_buf_put_u64(out, r->data_len);
        if (rc == 0)
            rc = sigil_buf_puts(out, " bytes)");
        break;
    case SIGIL_ABI_REVERT_ERROR:
    case SIGIL_ABI_REVERT_PANIC:
    case SIGIL_ABI_REVERT_CUSTOM:
        rc = describe_args(out, r);
        break;
    default:
        rc = sigil_fail(SIGIL_E_INTERNAL, "abi: unknown revert kind");
        break;
    }
    if (rc != 0)
        out->len = mark;
    return rc;
}

/* ---- the registry's calls ---- */

static int registry_call(sigil_buf *out, const char *name, const sigil_abi_value *args, size_t n)
{
    const sigil_abi_function *fn = sigil_registry_function(name);
    ENSURE(fn != NULL, SIGIL_E_INTERNAL, "abi: no registry function %s", name);
    return sigil_abi_encode_call(out, fn, args, n);
}

int sigil_registry_call_is_active(sigil_buf *out, const uint8_t owner[static 20],
                                  const uint8_t measurement[static 48])
{
    const sigil_abi_value args[] = {sigil_abi_address(owner),
                                    sigil_abi_bytes(measurement, SIGIL_REGISTRY_MEASUREMENT_LEN)};
    return registry_call(out, "isActive", args, SIGIL_ARRAY_LEN(args));
}

int sigil_registry_call_get_entry(sigil_buf *out, const uint8_t owner[static 20],
                                  const uint8_t measurement[static 48])
{
    const sigil_abi_value args[] = {sigil_abi_address(owner),
                                    sigil_abi_bytes(measurement, SIGIL_REGISTRY_MEASUREMENT_LEN)};
    return registry_call(out, "getEntry", args, SIGIL_ARRAY_LEN(args));
}

int sigil_registry_call_history_length(sigil_buf *out, const uint8_t owner[static 20])
{
    const sigil_abi_value args[] = {sigil_abi_address(owner)};
    return registry_call(out, "historyLength", args, SIGIL_ARRAY_LEN(args));
}

int sigil_registry_call_history_at(sigil_buf *out, const uint8_t owner[static 20], uint64_t index)
{
    uint8_t w[32];
    put_u64_word(w, index);
    const sigil_abi_value args[] = {sigil_abi_address(owner), sigil_abi_uint256(w)};
    return registry_call(out, "historyAt", args, SIGIL_ARRAY_LEN(args));
}

/* Decodes the return data of a registry function into out. */
static int registry_return(sigil_abi_value *out, const char *name, const uint8_t *data, size_t len)
{
    char what[64];
    const sigil_abi_function *fn = sigil_registry_function(name);
    ENSURE(fn != NULL, SIGIL_E_INTERNAL, "abi: no registry function %s", name);
    (void)snprintf(what, sizeof(what), "%s return data", name);
    return sigil_abi_decode(out, fn->outputs, fn->noutputs, data, len, what);
}

int sigil_registry_decode_is_active(bool *active, const uint8_t *data, size_t len)
{
    sigil_abi_value v[1] = {0};
    GUARD(registry_return(v, "isActive", data, len));
    *active = v[0].u != 0;
    return 0;
}

static int check_description(size_t len, const char *fn)
{
    ENSURE(len <= SIGIL_REGISTRY_DESCRIPTION_MAX, SIGIL_E_TOO_LARGE,
           "%s return data: description: %zu bytes, the contract allows %u", fn, len,
           SIGIL_REGISTRY_DESCRIPTION_MAX);
    return 0;
}

/* What getEntry can return: all zero for an unknown entry; otherwise a
 * registration time, and a deprecation time exactly when not active. */
static int check_entry(const sigil_registry_entry *e)
{
    static const char WHAT[] = "getEntry return data";
    if (!e->exists) {
        ENSURE(!e->active && all_zero(e->build_hash, 32) && e->description_len == 0 &&
                   e->registered_at == 0 && e->deprecated_at == 0,
               SIGIL_E_BAD_FIELD, "%s: exists is false but other fields are set", WHAT);
        return 0;
    }
    ENSURE(e->registered_at != 0, SIGIL_E_BAD_FIELD, "%s: registeredAt is 0 for an entry", WHAT);
    ENSURE(!e->active || e->deprecated_at == 0, SIGIL_E_BAD_FIELD,
           "%s: active but deprecatedAt is set", WHAT);
    ENSURE(e->active || e->deprecated_at != 0, SIGIL_E_BAD_FIELD,
           "%s: not active but deprecatedAt is 0", WHAT);
    return 0;
}

int sigil_registry_decode_get_entry(sigil_registry_entry *e, const uint8_t *data, size_t len)
{
    sigil_abi_value v[6] = {0};
    GUARD(registry_return(v, "getEntry", data, len));
    GUARD(check_description(v[3].len, "getEntry"));
    sigil_registry_entry r = {
        .exists = v[0].u != 0,
        .active = v[1].u != 0,
        .description = v[3].p,
        .description_len = v[3].len,
        .registered_at = v[4].u,
        .deprecated_at = v[5].u,
    };
    memcpy(r.build_hash, v[2].word, 32);
    GUARD(check_entry(&r));
    *e = r;
    return 0;
}

int sigil_registry_decode_history_length(uint64_t *n, const uint8_t *data, size_t len)
{
    sigil_abi_value v[1] = {0};
    GUARD(registry_return(v, "historyLength", data, len));
    ENSURE(all_zero(v[0].word, 24), SIGIL_E_OUT_OF_RANGE,
           "historyLength return data: length does not fit in uint64");
    *n = word_u64(v[0].word);
    return 0;
}

int sigil_registry_decode_history_at(sigil_registry_history_item *h, const uint8_t *data,
                                     size_t len)
{
    sigil_abi_value v[5] = {0};
    GUARD(registry_return(v, "historyAt", data, len));
    ENSURE(v[0].len == SIGIL_REGISTRY_MEASUREMENT_LEN, SIGIL_E_BAD_FIELD,
           "historyAt return data: measurement is %zu bytes, not %u", v[0].len,
           SIGIL_REGISTRY_MEASUREMENT_LEN);
    GUARD(check_description(v[2].len, "historyAt"));
    ENSURE(v[3].u != 0, SIGIL_E_BAD_FIELD, "historyAt return data: registeredAt is 0");
    memcpy(h->measurement, v[0].p, SIGIL_REGISTRY_MEASUREMENT_LEN);
    memcpy(h->build_hash, v[1].word, 32);
    h->description = v[2].p;
    h->description_len = v[2].len;
    h->registered_at = v[3].u;
    h->deprecated_at = v[4].u;
    return 0;
}
