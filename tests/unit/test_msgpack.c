/*
 * msgpack encoder: every encoding boundary against Python's msgpack.packb
 * (expected bytes produced with msgpack 1.x packb), refusals, atomic
 * failure, and the msgpack_action_hex of every Hyperliquid vector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#include "sigil/codec.h"

#define TOK_CAP 8192
#define BIG (1u << 18)

static sigil_json_tok g_toks[TOK_CAP];
static uint8_t g_out[BIG];
static char g_text[BIG];

static void hex_of(char *dst, const uint8_t *p, size_t n)
{
    sigil_hex_encode(dst, p, n);
}

/* Parses json and encodes it with where = "v"; returns the encoder's result. */
static int pack_text(sigil_buf *out, const char *json, size_t len)
{
    sigil_json d;
    if (sigil_json_parse(&d, json, len, g_toks, TOK_CAP) != 0)
        fail_msg("parse %s: %s", json, sigil_errmsg());
    sigil_buf_init(out, g_out, sizeof(g_out));
    return sigil_msgpack_from_json(out, &d, 0, "v");
}

static void expect_hex(const char *json, const char *want)
{
    sigil_buf out;
    char got[512];
    if (pack_text(&out, json, strlen(json)) != 0)
        fail_msg("%s: %s", json, sigil_errmsg());
    assert_true(out.len * 2 < sizeof(got));
    hex_of(got, out.data, out.len);
    if (strcmp(got, want) != 0)
        fail_msg("%s: expected %s, got %s", json, want, got);
}

static void expect_refused(const char *json, sigil_err code, const char *msg_prefix)
{
    sigil_buf out;
    sigil_clear_error();
    assert_int_equal(pack_text(&out, json, strlen(json)), -1);
    assert_int_equal(sigil_errno(), code);
    assert_int_equal(out.len, 0);
    if (strncmp(sigil_errmsg(), msg_prefix, strlen(msg_prefix)) != 0)
        fail_msg("%s: message %s does not start with %s", json, sigil_errmsg(), msg_prefix);
}

static void test_unsigned_boundaries(void **state)
{
    (void)state;
    /* Top-level JSON is an object or array: each scalar is wrapped in [ ]. */
    expect_hex("[0]", "9100");
    expect_hex("[127]", "917f");
    expect_hex("[128]", "91cc80");
    expect_hex("[255]", "91ccff");
    expect_hex("[256]", "91cd0100");
    expect_hex("[65535]", "91cdffff");
    expect_hex("[65536]", "91ce00010000");
    expect_hex("[4294967295]", "91ceffffffff");
    expect_hex("[4294967296]", "91cf0000000100000000");
    expect_hex("[100000000000]", "91cf000000174876e800");
    expect_hex("[18446744073709551615]", "91cfffffffffffffffff");
}

static void test_signed_boundaries(void **state)
{
    (void)state;
    expect_hex("[-0]", "9100");
    expect_hex("[-1]", "91ff");
    expect_hex("[-32]", "91e0");
    expect_hex("[-33]", "91d0df");
    expect_hex("[-128]", "91d080");
    expect_hex("[-129]", "91d1ff7f");
    expect_hex("[-32768]", "91d18000");
    expect_hex("[-32769]", "91d2ffff7fff");
    expect_hex("[-2147483648]", "91d280000000");
    expect_hex("[-2147483649]", "91d3ffffffff7fffffff");
    expect_hex("[-9223372036854775808]", "91d38000000000000000");
}

static void test_integer_out_of_range(void **state)
{
    (void)state;
    expect_refused("[18446744073709551616]", SIGIL_E_OUT_OF_RANGE, "v[0]:");
    expect_refused("[-9223372036854775809]", SIGIL_E_OUT_OF_RANGE, "v[0]:");
}

static void test_floats_refused(void **state)
{
    (void)state;
    static const char *const FLOATS[] = {"[1.5]", "[1.0]", "[1e3]", "[1E-2]", "[-0.0]", "[0.1e1]"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(FLOATS); i++)
        expect_refused(FLOATS[i], SIGIL_E_BAD_FIELD, "v[0]: numbers with a fraction");
}

static void test_literals(void **state)
{
    (void)state;
    expect_hex("[true,false,null]", "93c3c2c0");
    expect_hex("[]", "90");
    expect_hex("{}", "80");
}

/* A JSON array holding one string of n copies of c; returns its length. */
static size_t string_doc(char *dst, size_t n, char c)
{
    dst[0] = '[';
    dst[1] = '"';
    memset(dst + 2, c, n);
    dst[n + 2] = '"';
    dst[n + 3] = ']';
    return n + 4;
}

static void expect_str_header(size_t n, const uint8_t *hdr, size_t hlen)
{
    sigil_buf out;
    size_t len = string_doc(g_text, n, 'x');
    if (pack_text(&out, g_text, len) != 0)
        fail_msg("string of %zu: %s", n, sigil_errmsg());
    assert_int_equal(out.len, 1 + hlen + n);
    assert_int_equal(out.data[0], 0x91);
    assert_memory_equal(out.data + 1, hdr, hlen);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out.data[1 + hlen + i], 'x');
}

static void test_string_lengths(void **state)
{
    (void)state;
    expect_str_header(0, (const uint8_t *)"\xa0", 1);
    expect_str_header(31, (const uint8_t *)"\xbf", 1);
    expect_str_header(32, (const uint8_t *)"\xd9\x20", 2);
    expect_str_header(255, (const uint8_t *)"\xd9\xff", 2);
    expect_str_header(256, (const uint8_t *)"\xda\x01\x00", 3);
    expect_str_header(65535, (const uint8_t *)"\xda\xff\xff", 3);
    expect_str_header(65536, (const uint8_t *)"\xdb\x00\x01\x00\x00", 5);
}

static void test_unicode_escapes_decoded(void **state)
{
    (void)state;
    expect_hex("[\"\\u00e9\"]", "91a2c3a9");
    expect_hex("[\"\xc3\xa9\"]", "91a2c3a9"); /* raw UTF-8: same bytes */
    expect_hex("[\"\\ud83d\\ude00\"]", "91a4f09f9880");
    expect_hex("[\"a\\nb\"]", "91a3610a62");
    expect_hex("[\"\\u0000\"]", "91a100");
    expect_hex("[\"\\\"\\\\\\/\"]", "91a3225c2f");
    expect_hex("{\"\\u0061\":1}", "81a16101"); /* keys are unescaped too */
}

/* Escaped strings whose decoded length crosses a header size: the bytes are
 * decoded ahead of the header and moved down behind it. */
static void expect_escaped_len(size_t copies, const uint8_t *hdr, size_t hlen)
{
    sigil_buf out;
    size_t n = 0;
    g_text[n++] = '[';
    g_text[n++] = '"';
    for (size_t i = 0; i < copies; i++) {
        memcpy(g_text + n, "\\u00e9", 6);
        n += 6;
    }
    g_text[n++] = '"';
    g_text[n++] = ']';
    if (pack_text(&out, g_text, n) != 0)
        fail_msg("%zu escapes: %s", copies, sigil_errmsg());
    assert_int_equal(out.len, 1 + hlen + 2 * copies);
    assert_memory_equal(out.data + 1, hdr, hlen);
    for (size_t i = 0; i < copies; i++) {
        assert_int_equal(out.data[1 + hlen + 2 * i], 0xc3);
        assert_int_equal(out.data[1 + hlen + 2 * i + 1], 0xa9);
    }
}

static void test_escaped_string_lengths(void **state)
{
    (void)state;
    expect_escaped_len(15, (const uint8_t *)"\xbe", 1);
    expect_escaped_len(16, (const uint8_t *)"\xd9\x20", 2);
    expect_escaped_len(128, (const uint8_t *)"\xda\x01\x00", 3);
    expect_escaped_len(32768, (const uint8_t *)"\xdb\x00\x01\x00\x00", 5);
}

/* {"0":0,…} or [0,…] with n members, and the expected header. */
static void expect_container_header(bool obj, size_t n, const char *hdr_hex)
{
    sigil_buf out, b;
    char hex[16];
    sigil_buf_init(&b, g_text, sizeof(g_text));
    assert_int_equal(sigil_buf_putc(&b, obj ? '{' : '['), 0);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            assert_int_equal(sigil_buf_putc(&b, ','), 0);
        if (obj) {
            assert_int_equal(sigil_buf_putc(&b, '"'), 0);
            assert_int_equal(sigil_buf_put_u64(&b, i), 0);
            assert_int_equal(sigil_buf_puts(&b, "\":"), 0);
        }
        assert_int_equal(sigil_buf_put_u64(&b, i % 100), 0);
    }
    assert_int_equal(sigil_buf_putc(&b, obj ? '}' : ']'), 0);
    if (pack_text(&out, g_text, b.len) != 0)
        fail_msg("container of %zu: %s", n, sigil_errmsg());
    size_t hlen = strlen(hdr_hex) / 2;
    hex_of(hex, out.data, hlen);
    assert_string_equal(hex, hdr_hex);
    /* first member or item follows the header */
    assert_int_equal(out.data[hlen], obj ? 0xa1 : 0x00);
}

static void test_container_headers_from_json(void **state)
{
    (void)state;
    expect_container_header(false, 15, "9f");
    expect_container_header(false, 16, "dc0010");
    expect_container_header(true, 15, "8f");
    expect_container_header(true, 16, "de0010");
}

static void expect_put(int rc, sigil_buf *b, const char *want)
{
    char got[64];
    assert_int_equal(rc, 0);
    hex_of(got, b->data, b->len);
    assert_string_equal(got, want);
    b->len = 0;
}

static void test_container_headers_direct(void **state)
{
    (void)state;
    uint8_t mem[16];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    expect_put(sigil_msgpack_put_array_header(&b, 0), &b, "90");
    expect_put(sigil_msgpack_put_array_header(&b, 15), &b, "9f");
    expect_put(sigil_msgpack_put_array_header(&b, 16), &b, "dc0010");
    expect_put(sigil_msgpack_put_array_header(&b, 65535), &b, "dcffff");
    expect_put(sigil_msgpack_put_array_header(&b, 65536), &b, "dd00010000");
    expect_put(sigil_msgpack_put_map_header(&b, 0), &b, "80");
    expect_put(sigil_msgpack_put_map_header(&b, 15), &b, "8f");
    expect_put(sigil_msgpack_put_map_header(&b, 16), &b, "de0010");
    expect_put(sigil_msgpack_put_map_header(&b, 65535), &b, "deffff");
    expect_put(sigil_msgpack_put_map_header(&b, 65536), &b, "df00010000");
    expect_put(sigil_msgpack_put_int(&b, -33), &b, "d0df");
    expect_put(sigil_msgpack_put_int(&b, 128), &b, "cc80");
    expect_put(sigil_msgpack_put_uint(&b, 4294967296u), &b, "cf0000000100000000");
    expect_put(sigil_msgpack_put_str(&b, "ab", 2), &b, "a26162");
}

static void test_nested_and_key_order(void **state)
{
    (void)state;
    expect_hex("{\"a\":[1,{\"b\":null}],\"c\":{},\"d\":[],\"e\":-5}",
               "84a161920181a162c0a16380a16490a165fb");
    expect_hex("{\"b\":1,\"a\":2}", "82a16201a16102");
}

static void test_error_names_the_path(void **state)
{
    (void)state;
    static const char DOC[] = "{\"type\":\"order\",\"orders\":[{\"a\":1,\"p\":\"1\"},"
                              "{\"a\":2,\"t\":{\"limit\":{\"px\":1.5}}}]}";
    sigil_json d;
    sigil_buf out;
    assert_int_equal(sigil_json_parse(&d, DOC, strlen(DOC), g_toks, TOK_CAP), 0);
    sigil_buf_init(&out, g_out, sizeof(g_out));
    assert_int_equal(sigil_msgpack_from_json(&out, &d, 0, "request.action"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "request.action.orders[1].t.limit.px: "));
}

static void test_too_small_is_atomic(void **state)
{
    (void)state;
    static const char PLAIN[] = "{\"ab\":\"cdef\"}";
    static const char ESCAPED[] = "{\"ab\":\"\\u00e9\\u00e9\"}";
    const char *docs[] = {PLAIN, ESCAPED};
    uint8_t mem[8];
    sigil_json d;
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(sigil_json_parse(&d, docs[k], strlen(docs[k]), g_toks, TOK_CAP), 0);
        for (size_t cap = 1; cap < sizeof(mem); cap++) {
            sigil_buf out;
            sigil_buf_init(&out, mem, cap);
            out.len = 1; /* earlier content must survive */
            mem[0] = 0x55;
            assert_int_equal(sigil_msgpack_from_json(&out, &d, 0, "v"), -1);
            assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
            assert_int_equal(out.len, 1);
            assert_int_equal(mem[0], 0x55);
        }
    }
    sigil_buf b;
    sigil_buf_init(&b, mem, 2);
    assert_int_equal(sigil_msgpack_put_str(&b, "abc", 3), -1);
    assert_int_equal(b.len, 0);
    assert_int_equal(sigil_msgpack_put_uint(&b, 1u << 20), -1);
    assert_int_equal(b.len, 0);
}

/* ---- the Hyperliquid vectors ---- */
static char g_vec_text[1u << 19];
static sigil_json_tok g_vec_toks[TOK_CAP];

static void load_vectors(sigil_json *d)
{
    test_load_vectors("hyperliquid.json", g_vec_text, sizeof(g_vec_text), d, g_vec_toks, TOK_CAP);
}

static size_t check_list(const sigil_json *d, const char *list)
{
    uint32_t arr = sigil_json_get(d, 0, list);
    size_t checked = 0;
    assert_true(arr != 0);
    for (uint32_t v = sigil_json_first(d, arr); v != 0; v = sigil_json_sibling(d, arr, v)) {
        uint32_t inputs = sigil_json_get(d, v, "inputs");
        uint32_t action = sigil_json_get(d, inputs, "action");
        uint32_t want = sigil_json_get(d, sigil_json_get(d, v, "expected"), "msgpack_action_hex");
        if (want == 0)
            continue; /* user-signed: no msgpack */
        sigil_buf out;
        sigil_slice w = sigil_json_raw(d, want),
                    name = sigil_json_raw(d, sigil_json_get(d, v, "name"));
        static char got[4096];
        sigil_buf_init(&out, g_out, sizeof(g_out));
        if (sigil_msgpack_from_json(&out, d, action, "action") != 0)
            fail_msg("%.*s: %s", (int)name.len, name.p, sigil_errmsg());
        assert_true(out.len * 2 < sizeof(got));
        hex_of(got, out.data, out.len);
        if (w.len != out.len * 2 || memcmp(got, w.p, w.len) != 0)
            fail_msg("%.*s: expected %.*s, got %s", (int)name.len, name.p, (int)w.len, w.p, got);
        checked++;
    }
    return checked;
}

static void test_hyperliquid_vectors(void **state)
{
    (void)state;
    sigil_json d;
    load_vectors(&d);
    size_t official = check_list(&d, "official_python_sdk_vectors");
    size_t generated = check_list(&d, "vectors");
    /* 15 official L1 vectors (2 more are user-signed), 20 generated L1 ones */
    assert_int_equal(official, 15);
    assert_int_equal(generated, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsigned_boundaries),
        cmocka_unit_test(test_signed_boundaries),
        cmocka_unit_test(test_integer_out_of_range),
        cmocka_unit_test(test_floats_refused),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_string_lengths),
        cmocka_unit_test(test_unicode_escapes_decoded),
        cmocka_unit_test(test_escaped_string_lengths),
        cmocka_unit_test(test_container_headers_from_json),
        cmocka_unit_test(test_container_headers_direct),
        cmocka_unit_test(test_nested_and_key_order),
        cmocka_unit_test(test_error_names_the_path),
        cmocka_unit_test(test_too_small_is_atomic),
        cmocka_unit_test(test_hyperliquid_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
