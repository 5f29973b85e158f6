/*
 * Unit tests for the Solidity ABI codec (src/codec/abi.c). Call, return and
 * revert data are compared with viem's encodings (tests/vectors/abi/, written
 * by contracts/tools/gen_abi_vectors.mjs), never with Sigil's own output;
 * malformed data derived from them must be refused with the right code and a
 * message naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/abi.h"
#include "sigil/codec.h"
#include "sigil/crypto.h"
#include "test_util.h"

#define FILE_MAX (256 * 1024)
#define TOKS_MAX 32768u
#define DATA_MAX 8192

#define EXPECT_ERR(call, code, needle)                                                             \
    do {                                                                                           \
        assert_int_equal((call), -1);                                                              \
        if (sigil_errno() != (code))                                                               \
            fail_msg("error %s (%s), expected %s", sigil_err_code(sigil_errno()), sigil_errmsg(),  \
                     sigil_err_code(code));                                                        \
        if (strstr(sigil_errmsg(), (needle)) == NULL)                                              \
            fail_msg("error message \"%s\" does not name \"%s\"", sigil_errmsg(), (needle));       \
    } while (0)

static char g_text[FILE_MAX];
static sigil_json_tok g_toks[TOKS_MAX];
static sigil_json g_doc;

static void load(const char *name)
{
    test_load_vectors(name, g_text, sizeof(g_text), &g_doc, g_toks, TOKS_MAX);
}

static uint32_t member(uint32_t obj, const char *key)
{
    uint32_t t = sigil_json_get(&g_doc, obj, key);
    if (t == 0)
        fail_msg("vector without \"%s\"", key);
    return t;
}

/* A string member, unescaped and NUL-terminated, into out. */
static const char *str_member(char *out, size_t cap, uint32_t obj, const char *key)
{
    sigil_buf b;
    sigil_buf_init(&b, out, cap);
    assert_int_equal(sigil_json_str(&g_doc, member(obj, key), &b), 0);
    assert_int_equal(sigil_buf_cstr(&b), 0);
    return out;
}

/* A hex string member ("0x…") decoded into out. */
static size_t hex_member(uint8_t *out, size_t cap, uint32_t obj, const char *key)
{
    size_t n;
    sigil_slice s = sigil_json_raw(&g_doc, member(obj, key));
    if (sigil_hex_decode(out, cap, &n, s.p, s.len, true, key) != 0)
        fail_msg("%s: %s", key, sigil_errmsg());
    return n;
}

static sigil_abi_type type_of(const char *name)
{
    static const sigil_abi_type ALL[] = {SIGIL_ABI_ADDRESS, SIGIL_ABI_BOOL,    SIGIL_ABI_UINT64,
                                         SIGIL_ABI_UINT256, SIGIL_ABI_BYTES32, SIGIL_ABI_BYTES,
                                         SIGIL_ABI_STRING};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(ALL); i++)
        if (strcmp(sigil_abi_type_name(ALL[i]), name) == 0)
            return ALL[i];
    fail_msg("unknown type %s", name);
    return SIGIL_ABI_BOOL;
}

/* Storage for the bytes of the values of one vector. */
static uint8_t g_pool[SIGIL_ABI_MAX_PARAMS][DATA_MAX];

/* {type, value} of the vectors into a value (bytes into g_pool[slot]). */
static sigil_abi_value value_of(uint32_t v, size_t slot)
{
    char type[16], text[64];
    uint8_t w[32];
    sigil_abi_type t = type_of(str_member(type, sizeof(type), v, "type"));
    uint32_t val = member(v, "value");
    switch (t) {
    case SIGIL_ABI_ADDRESS: {
        uint8_t a[20];
        sigil_slice s = sigil_json_raw(&g_doc, val);
        assert_int_equal(sigil_eth_address_parse(a, s.p, s.len, "address"), 0);
        return sigil_abi_address(a);
    }
    case SIGIL_ABI_BOOL:
        return sigil_abi_bool(sigil_json_type_of(&g_doc, val) == SIGIL_JSON_TRUE);
    case SIGIL_ABI_UINT64:
        str_member(text, sizeof(text), v, "value");
        return sigil_abi_uint64(strtoull(text, NULL, 10));
    case SIGIL_ABI_UINT256:
        assert_int_equal(hex_member(w, 32, v, "value"), 32);
        return sigil_abi_uint256(w);
    case SIGIL_ABI_BYTES32:
        assert_int_equal(hex_member(w, 32, v, "value"), 32);
        return sigil_abi_bytes32(w);
    case SIGIL_ABI_BYTES:
        return sigil_abi_bytes(g_pool[slot], hex_member(g_pool[slot], DATA_MAX, v, "value"));
    case SIGIL_ABI_STRING:
        return sigil_abi_string((const char *)g_pool[slot],
                                hex_member(g_pool[slot], DATA_MAX, v, "value"));
    default:
        fail_msg("type");
    }
    return sigil_abi_bool(false);
}

static size_t values_of(sigil_abi_value *out, uint32_t arr)
{
    size_t n = 0;
    for (uint32_t t = sigil_json_first(&g_doc, arr); t != 0; t = sigil_json_sibling(&g_doc, arr, t))
        out[n] = value_of(t, n), n++;
    return n;
}

static void assert_value_equal(const sigil_abi_value *got, const sigil_abi_value *want)
{
    assert_int_equal(got->type, want->type);
    if (want->type == SIGIL_ABI_BYTES || want->type == SIGIL_ABI_STRING) {
        assert_int_equal(got->len, want->len);
        if (want->len > 0)
            assert_memory_equal(got->p, want->p, want->len);
        return;
    }
    assert_memory_equal(got->word, want->word, 32);
    if (want->type == SIGIL_ABI_BOOL || want->type == SIGIL_ABI_UINT64)
        assert_true(got->u == want->u);
}

/* ---- selectors ---- */

static void test_selectors(void **state)
{
    (void)state;
    static const sigil_abi_param STR[] = {{SIGIL_ABI_STRING, "message"}};
    static const sigil_abi_param U256[] = {{SIGIL_ABI_UINT256, "code"}};
    static const sigil_abi_function BUILTIN[] = {{"Error", STR, 1, NULL, 0},
                                                 {"Panic", U256, 1, NULL, 0}};
    unsigned checked = 0;
    load("abi/calls.json");
    uint32_t sels = member(0, "selectors");
    for (uint32_t k = sigil_json_first(&g_doc, sels); k != 0;
         k = sigil_json_sibling(&g_doc, sels, k)) {
        char key[64], *name;
        uint8_t want[4], got[4];
        size_t n;
        sigil_buf b;
        sigil_buf_init(&b, key, sizeof(key));
        assert_int_equal(sigil_json_str(&g_doc, k, &b), 0);
        assert_int_equal(sigil_buf_cstr(&b), 0);
        sigil_slice s = sigil_json_raw(&g_doc, sigil_json_value(k));
        assert_int_equal(sigil_hex_decode(want, 4, &n, s.p, s.len, true, "selector"), 0);
        name = strchr(key, ' ') + 1;
        const sigil_abi_function *f = strncmp(key, "function", 8) == 0
                                          ? sigil_registry_function(name)
                                          : sigil_registry_error(name);
        for (size_t i = 0; f == NULL && i < SIGIL_ARRAY_LEN(BUILTIN); i++)
            if (strcmp(BUILTIN[i].name, name) == 0)
                f = &BUILTIN[i];
        if (f == NULL)
            fail_msg("no table entry for %s", key);
        assert_int_equal(sigil_abi_selector(got, f->name, f->inputs, f->ninputs), 0);
        if (memcmp(got, want, 4) != 0)
            fail_msg("%s: selector differs", key);
        checked++;
    }
    assert_int_equal(checked, 13);
    char sig[SIGIL_ABI_SIGNATURE_MAX];
    const sigil_abi_function *g = sigil_registry_function("getEntry");
    assert_int_equal(sigil_abi_signature(sig, g->name, g->inputs, g->ninputs), 0);
    assert_string_equal(sig, "getEntry(address,bytes)");
    assert_null(sigil_registry_function("transfer"));
    assert_null(sigil_registry_error("Error"));
}

/* ---- call data ---- */

static uint64_t word_u64(const uint8_t w[32])
{
    uint64_t x = 0;
    for (int i = 24; i < 32; i++)
        x = (x << 8) | w[i];
    return x;
}

static bool zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* The typed helper for the call, when one applies: 1 = none applies. */
static int typed_call(sigil_buf *t, const char *name, const sigil_abi_value *args, size_t nargs)
{
    bool m48 = nargs == 2 && args[1].type == SIGIL_ABI_BYTES && args[1].len == 48;
    if (strcmp(name, "isActive") == 0 && m48)
        return sigil_registry_call_is_active(t, args[0].word + 12, args[1].p);
    if (strcmp(name, "getEntry") == 0 && m48)
        return sigil_registry_call_get_entry(t, args[0].word + 12, args[1].p);
    if (strcmp(name, "historyLength") == 0)
        return sigil_registry_call_history_length(t, args[0].word + 12);
    if (strcmp(name, "historyAt") == 0 && zero(args[1].word, 24))
        return sigil_registry_call_history_at(t, args[0].word + 12, word_u64(args[1].word));
    return 1;
}

static void test_calls(void **state)
{
    (void)state;
    static uint8_t want[DATA_MAX], got[DATA_MAX], typed[DATA_MAX];
    unsigned n = 0, n_typed = 0;
    load("abi/calls.json");
    uint32_t calls = member(0, "calls");
    for (uint32_t c = sigil_json_first(&g_doc, calls); c != 0;
         c = sigil_json_sibling(&g_doc, calls, c), n++) {
        char name[32];
        sigil_abi_value args[SIGIL_ABI_MAX_PARAMS];
        sigil_buf b, t;
        const sigil_abi_function *fn =
            sigil_registry_function(str_member(name, sizeof(name), c, "function"));
        assert_non_null(fn);
        size_t nargs = values_of(args, member(c, "args"));
        size_t wlen = hex_member(want, sizeof(want), c, "data");
        sigil_buf_init(&b, got, sizeof(got));
        if (sigil_abi_encode_call(&b, fn, args, nargs) != 0)
            fail_msg("call %u (%s): %s", n, name, sigil_errmsg());
        if (b.len != wlen || memcmp(got, want, wlen) != 0)
            fail_msg("call %u (%s): call data differs from viem's", n, name);
        sigil_buf_init(&t, typed, sizeof(typed));
        int rc = typed_call(&t, name, args, nargs);
        if (rc == 1)
            continue;
        assert_int_equal(rc, 0);
        n_typed++;
        if (t.len != wlen || memcmp(typed, want, wlen) != 0)
            fail_msg("call %u (%s): typed helper differs from viem's", n, name);
    }
    print_message("abi: %u call vectors (%u also through the typed helpers)\n", n, n_typed);
    assert_true(n >= 60);
    assert_true(n_typed >= 30);
}

/* ---- return data ---- */

static void check_typed_return(const char *name, const sigil_abi_value *v, const uint8_t *data,
                               size_t len)
{
    if (strcmp(name, "isActive") == 0) {
        bool active;
        assert_int_equal(sigil_registry_decode_is_active(&active, data, len), 0);
        assert_int_equal(active, v[0].u);
    } else if (strcmp(name, "getEntry") == 0) {
        sigil_registry_entry e;
        if (sigil_registry_decode_get_entry(&e, data, len) != 0)
            fail_msg("getEntry: %s", sigil_errmsg());
        assert_int_equal(e.exists, v[0].u);
        assert_int_equal(e.active, v[1].u);
        assert_memory_equal(e.build_hash, v[2].word, 32);
        assert_int_equal(e.description_len, v[3].len);
        assert_true(e.description == data + (len - ((v[3].len + 31) / 32 * 32)) || v[3].len == 0);
        assert_true(e.registered_at == v[4].u && e.deprecated_at == v[5].u);
    } else if (strcmp(name, "historyLength") == 0) {
        uint64_t n;
        assert_int_equal(sigil_registry_decode_history_length(&n, data, len), 0);
        assert_true(n == word_u64(v[0].word));
    } else if (strcmp(name, "historyAt") == 0) {
        sigil_registry_history_item h;
        if (sigil_registry_decode_history_at(&h, data, len) != 0)
            fail_msg("historyAt: %s", sigil_errmsg());
        assert_memory_equal(h.measurement, v[0].p, 48);
        assert_memory_equal(h.build_hash, v[1].word, 32);
        assert_int_equal(h.description_len, v[2].len);
        assert_true(h.registered_at == v[3].u && h.deprecated_at == v[4].u);
    } else {
        fail_msg("no typed decoder for %s", name);
    }
}

static void test_returns(void **state)
{
    (void)state;
    static uint8_t data[DATA_MAX], again[DATA_MAX];
    unsigned n = 0;
    load("abi/returns.json");
    uint32_t rets = member(0, "returns");
    for (uint32_t r = sigil_json_first(&g_doc, rets); r != 0;
         r = sigil_json_sibling(&g_doc, rets, r), n++) {
        char name[32];
        sigil_abi_value want[SIGIL_ABI_MAX_PARAMS], got[SIGIL_ABI_MAX_PARAMS];
        sigil_buf b;
        const sigil_abi_function *fn =
            sigil_registry_function(str_member(name, sizeof(name), r, "function"));
        assert_non_null(fn);
        size_t nv = values_of(want, member(r, "values"));
        assert_int_equal(nv, fn->noutputs);
        size_t len = hex_member(data, sizeof(data), r, "data");
        if (sigil_abi_decode(got, fn->outputs, fn->noutputs, data, len, name) != 0)
            fail_msg("return %u (%s): %s", n, name, sigil_errmsg());
        for (size_t i = 0; i < nv; i++)
            assert_value_equal(&got[i], &want[i]);
        /* Canonical: re-encoding what was decoded gives the same bytes. */
        sigil_buf_init(&b, again, sizeof(again));
        assert_int_equal(sigil_abi_encode(&b, got, nv), 0);
        assert_int_equal(b.len, len);
        assert_memory_equal(again, data, len);
        check_typed_return(name, want, data, len);
    }
    print_message("abi: %u return-data vectors\n", n);
    assert_true(n >= 20);
}

/* A typed decoder by function name. */
static int typed_decode(const char *name, const uint8_t *data, size_t len)
{
    bool active;
    sigil_registry_entry e;
    uint64_t n;
    sigil_registry_history_item h;
    if (strcmp(name, "isActive") == 0)
        return sigil_registry_decode_is_active(&active, data, len);
    if (strcmp(name, "getEntry") == 0)
        return sigil_registry_decode_get_entry(&e, data, len);
    if (strcmp(name, "historyLength") == 0)
        return sigil_registry_decode_history_length(&n, data, len);
    if (strcmp(name, "historyAt") == 0)
        return sigil_registry_decode_history_at(&h, data, len);
    fail_msg("no typed decoder for %s", name);
    return 0;
}

static sigil_err code_of(uint32_t obj)
{
    char code[32];
    str_member(code, sizeof(code), obj, "code");
    return sigil_err_from_code(code, strlen(code));
}

static void test_malformed_returns(void **state)
{
    (void)state;
    static uint8_t data[DATA_MAX];
    unsigned n = 0, registry_level = 0;
    load("abi/malformed.json");
    uint32_t arr = member(0, "malformed");
    for (uint32_t m = sigil_json_first(&g_doc, arr); m != 0;
         m = sigil_json_sibling(&g_doc, arr, m), n++) {
        char name[80], fname[32], level[16], msg[128];
        sigil_abi_value got[SIGIL_ABI_MAX_PARAMS];
        str_member(name, sizeof(name), m, "name");
        const sigil_abi_function *fn =
            sigil_registry_function(str_member(fname, sizeof(fname), m, "function"));
        assert_non_null(fn);
        str_member(level, sizeof(level), m, "level");
        str_member(msg, sizeof(msg), m, "message");
        sigil_err code = code_of(m);
        size_t len = hex_member(data, sizeof(data), m, "data");
        int rc = sigil_abi_decode(got, fn->outputs, fn->noutputs, data, len, "return data");
        if (strcmp(level, "abi") == 0) {
            if (rc == 0)
                fail_msg("%s: accepted", name);
        } else {
            if (rc != 0)
                fail_msg("%s: the ABI decoder refused (%s)", name, sigil_errmsg());
            registry_level++;
        }
        sigil_clear_error();
        rc = typed_decode(fname, data, len);
        if (rc == 0)
            fail_msg("%s: accepted by the typed decoder", name);
        if (sigil_errno() != code || strstr(sigil_errmsg(), msg) == NULL)
            fail_msg("%s: got %s \"%s\", expected %s naming \"%s\"", name,
                     sigil_err_code(sigil_errno()), sigil_errmsg(), sigil_err_code(code), msg);
    }
    print_message("abi: %u malformed return-data vectors (%u refused only by the typed "
                  "decoders)\n",
                  n, registry_level);
    assert_true(n >= 40);
}

/* ---- revert data ---- */

static const struct {
    const char *name;
    sigil_abi_revert_kind kind;
} KINDS[] = {
    {"custom", SIGIL_ABI_REVERT_CUSTOM},   {"error", SIGIL_ABI_REVERT_ERROR},
    {"panic", SIGIL_ABI_REVERT_PANIC},     {"empty", SIGIL_ABI_REVERT_EMPTY},
    {"unknown", SIGIL_ABI_REVERT_UNKNOWN},
};

static void test_reverts(void **state)
{
    (void)state;
    static uint8_t data[DATA_MAX];
    static char text[DATA_MAX];
    unsigned n = 0, bad = 0;
    load("abi/reverts.json");
    uint32_t arr = member(0, "reverts");
    for (uint32_t r = sigil_json_first(&g_doc, arr); r != 0;
         r = sigil_json_sibling(&g_doc, arr, r), n++) {
        char kind[16], want[1024];
        sigil_abi_revert rv;
        sigil_buf b;
        str_member(kind, sizeof(kind), r, "kind");
        str_member(want, sizeof(want), r, "description");
        size_t len = hex_member(data, sizeof(data), r, "data");
        if (sigil_abi_decode_revert(&rv, data, len) != 0)
            fail_msg("revert %u: %s", n, sigil_errmsg());
        size_t k = 0;
        while (k < SIGIL_ARRAY_LEN(KINDS) && strcmp(KINDS[k].name, kind) != 0)
            k++;
        assert_true(k < SIGIL_ARRAY_LEN(KINDS));
        assert_int_equal(rv.kind, KINDS[k].kind);
        uint32_t nm = member(r, "name");
        if (sigil_json_type_of(&g_doc, nm) == SIGIL_JSON_NULL)
            assert_null(rv.name);
        else
            assert_true(rv.name != NULL && sigil_json_str_eq(&g_doc, nm, rv.name));
        sigil_buf_init(&b, text, sizeof(text));
        assert_int_equal(sigil_abi_revert_describe(&b, &rv), 0);
        assert_int_equal(sigil_buf_cstr(&b), 0);
        if (strcmp(text, want) != 0)
            fail_msg("revert %u: \"%s\", expected \"%s\"", n, text, want);
    }
    arr = member(0, "malformed");
    for (uint32_t m = sigil_json_first(&g_doc, arr); m != 0;
         m = sigil_json_sibling(&g_doc, arr, m), bad++) {
        char name[80], msg[128];
        sigil_abi_revert rv;
        str_member(name, sizeof(name), m, "name");
        str_member(msg, sizeof(msg), m, "message");
        size_t len = hex_member(data, sizeof(data), m, "data");
        sigil_clear_error();
        if (sigil_abi_decode_revert(&rv, data, len) == 0)
            fail_msg("%s: accepted", name);
        if (sigil_errno() != code_of(m) || strstr(sigil_errmsg(), msg) == NULL)
            fail_msg("%s: got %s \"%s\", expected naming \"%s\"", name,
                     sigil_err_code(sigil_errno()), sigil_errmsg(), msg);
    }
    print_message("abi: %u revert vectors, %u malformed\n", n, bad);
    assert_true(n >= 15 && bad >= 5);
}

/* ---- the encoder's own refusals ---- */

static void test_encoder_limits(void **state)
{
    (void)state;
    static uint8_t mem[8192], big[SIGIL_ABI_DYNAMIC_MAX + 1];
    uint8_t owner[20] = {1}, m[48] = {2};
    sigil_buf b;
    const sigil_abi_function *fn = sigil_registry_function("isActive");

    /* Atomic: a buffer one byte short is left as it was. */
    sigil_buf_init(&b, mem, 4 + 4 * 32 + 32 - 1);
    EXPECT_ERR(sigil_registry_call_is_active(&b, owner, m), SIGIL_E_TOO_LARGE, "isActive");
    assert_int_equal(b.len, 0);
    sigil_buf_init(&b, mem, 4 + 5 * 32);
    assert_int_equal(sigil_registry_call_is_active(&b, owner, m), 0);
    assert_int_equal(b.len, 4 + 5 * 32);

    /* Wrong argument count or type. */
    sigil_abi_value one[] = {sigil_abi_address(owner)};
    sigil_buf_init(&b, mem, sizeof(mem));
    EXPECT_ERR(sigil_abi_encode_call(&b, fn, one, 1), SIGIL_E_BAD_FIELD, "takes 2 arguments");
    sigil_abi_value swapped[] = {sigil_abi_bytes(m, 48), sigil_abi_address(owner)};
    EXPECT_ERR(sigil_abi_encode_call(&b, fn, swapped, 2), SIGIL_E_BAD_FIELD,
               "isActive.owner: expected address");
    assert_int_equal(b.len, 0);

    /* A dynamic value over the bound, and a value without a type. */
    sigil_abi_value huge[] = {sigil_abi_bytes(big, sizeof(big))};
    EXPECT_ERR(sigil_abi_encode(&b, huge, 1), SIGIL_E_TOO_LARGE, "over 4096");
    sigil_abi_value untyped[1];
    memset(untyped, 0, sizeof(untyped));
    EXPECT_ERR(sigil_abi_encode(&b, untyped, 1), SIGIL_E_INTERNAL, "no type");
    assert_int_equal(b.len, 0);
    assert_null(sigil_abi_type_name((sigil_abi_type)0));
    assert_null(sigil_abi_type_name((sigil_abi_type)99));

    /* The biggest dynamic value round-trips. */
    sigil_abi_value max[] = {sigil_abi_bytes(big, SIGIL_ABI_DYNAMIC_MAX)};
    static const sigil_abi_param P[] = {{SIGIL_ABI_BYTES, "b"}};
    sigil_abi_value out[1];
    assert_int_equal(sigil_abi_encode(&b, max, 1), 0);
    assert_int_equal(sigil_abi_decode(out, P, 1, mem, b.len, "max"), 0);
    assert_int_equal(out[0].len, SIGIL_ABI_DYNAMIC_MAX);

    /* An empty tuple is the empty string and nothing else. */
    assert_int_equal(sigil_abi_decode(out, P, 0, mem, 0, "empty"), 0);
    EXPECT_ERR(sigil_abi_decode(out, P, 0, mem, 1, "empty"), SIGIL_E_BAD_ENCODING, "trailing");
}

static void test_describe_atomic(void **state)
{
    (void)state;
    static const uint8_t PANIC[] = {0x4e, 0x48, 0x7b, 0x71, [35] = 0x32};
    char mem[64];
    sigil_abi_revert r;
    sigil_buf b;
    assert_int_equal(sigil_abi_decode_revert(&r, PANIC, sizeof(PANIC)), 0);
    assert_int_equal(r.kind, SIGIL_ABI_REVERT_PANIC);
    sigil_buf_init(&b, mem, 10);
    assert_int_equal(sigil_abi_revert_describe(&b, &r), -1);
    assert_int_equal(b.len, 0);
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_abi_revert_describe(&b, &r), 0);
    assert_int_equal(sigil_buf_cstr(&b), 0);
    assert_string_equal(mem, "Panic(0x32: array index out of bounds)");
}

int main(void)
{
    assert_int_equal(sigil_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selectors),       cmocka_unit_test(test_calls),
        cmocka_unit_test(test_returns),         cmocka_unit_test(test_malformed_returns),
        cmocka_unit_test(test_reverts),         cmocka_unit_test(test_encoder_limits),
        cmocka_unit_test(test_describe_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
