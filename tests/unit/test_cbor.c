/*
 * Unit tests for the strict CBOR reader and writer (src/codec/cbor.c).
 * Every NSM message, attestation document and gateway<->enclave frame goes
 * through this code: the RFC 8949 Appendix A examples of the subset, every
 * refusal, atomic failure, typed getters, and a real Nitro attestation
 * document (fuzz/corpus/cbor/nitro_evervault_debug_20221012, sha256
 * 46591b92...a789, from /work/shared/vectors/nitro).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sigil/cbor.h"
#include "sigil/codec.h"
#include "test_util.h"

#define HEX_MAX 512

/* Test input decoded from hex into a static buffer (a fresh one per call
 * index so two inputs can be alive at once). */
static uint8_t g_in[2][HEX_MAX];

static size_t unhex(unsigned slot, const char *hex)
{
    char clean[2 * HEX_MAX + 1];
    size_t len = test_strip_spaces(clean, sizeof(clean), hex);
    size_t n;
    if (sigil_hex_decode(g_in[slot], HEX_MAX, &n, clean, len, false, "test") != 0)
        fail_msg("bad test hex %s: %s", hex, sigil_errmsg());
    return n;
}

static sigil_cursor cursor_of(const char *hex)
{
    sigil_cursor c;
    size_t n = unhex(0, hex);
    sigil_cursor_init(&c, g_in[0], n);
    return c;
}

static void expect_code(sigil_err code, const char *what)
{
    if (sigil_errno() != code)
        fail_msg("%s: expected %s, got %s (%s)", what, sigil_err_code(code),
                 sigil_err_code(sigil_errno()), sigil_errmsg());
}

/* Writer output as hex. */
static uint8_t g_out[HEX_MAX];
static char g_out_hex[2 * HEX_MAX + 1];

static void out_init(sigil_buf *b)
{
    sigil_buf_init(b, g_out, sizeof(g_out));
}

static void expect_out(const sigil_buf *b, const char *want, const char *what)
{
    sigil_hex_encode(g_out_hex, b->data, b->len);
    if (strcmp(g_out_hex, want) != 0)
        fail_msg("%s: expected %s, wrote %s", what, want, g_out_hex);
}

/* ---- RFC 8949 Appendix A: integers ---- */

static const struct {
    const char *hex;
    uint64_t val;
} APPENDIX_A_UINTS[] = {
    {"00", 0},
    {"01", 1},
    {"0a", 10},
    {"17", 23},
    {"1818", 24},
    {"1819", 25},
    {"1864", 100},
    {"1903e8", 1000},
    {"1a000f4240", 1000000},
    {"1b000000e8d4a51000", 1000000000000ull},
    {"1bffffffffffffffff", UINT64_MAX},
};

static void test_appendix_a_uints_read(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(APPENDIX_A_UINTS); i++) {
        sigil_cursor c = cursor_of(APPENDIX_A_UINTS[i].hex);
        uint64_t v = 0;
        if (sigil_cbor_get_uint(&c, &v, "n") != 0)
            fail_msg("%s: %s", APPENDIX_A_UINTS[i].hex, sigil_errmsg());
        assert_int_equal(v, APPENDIX_A_UINTS[i].val);
        assert_int_equal(sigil_cursor_remaining(&c), 0);
    }
}

static void test_appendix_a_uints_write(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(APPENDIX_A_UINTS); i++) {
        sigil_buf b;
        out_init(&b);
        assert_int_equal(sigil_cbor_put_uint(&b, APPENDIX_A_UINTS[i].val), 0);
        expect_out(&b, APPENDIX_A_UINTS[i].hex, "put_uint");
    }
}

static const struct {
    const char *hex;
    int64_t val;
} APPENDIX_A_INTS[] = {
    {"00", 0},
    {"17", 23},
    {"1864", 100},
    {"20", -1},
    {"29", -10},
    {"37", -24},
    {"3818", -25},
    {"3863", -100},
    {"3903e7", -1000},
    {"1b7fffffffffffffff", INT64_MAX},
    {"3b7fffffffffffffff", INT64_MIN},
};

static void test_appendix_a_ints_read_write(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(APPENDIX_A_INTS); i++) {
        sigil_cursor c = cursor_of(APPENDIX_A_INTS[i].hex);
        int64_t v = 0;
        if (sigil_cbor_get_int(&c, &v, "n") != 0)
            fail_msg("%s: %s", APPENDIX_A_INTS[i].hex, sigil_errmsg());
        assert_int_equal(v, APPENDIX_A_INTS[i].val);
        assert_int_equal(sigil_cursor_remaining(&c), 0);
        sigil_buf b;
        out_init(&b);
        assert_int_equal(sigil_cbor_put_int(&b, APPENDIX_A_INTS[i].val), 0);
        expect_out(&b, APPENDIX_A_INTS[i].hex, "put_int");
    }
}

/* -18446744073709551616 (3bffffffffffffffff) is well-formed CBOR but no
 * int64: next() reports it, get_int refuses it. */
static void test_nint_min_of_cbor(void **state)
{
    (void)state;
    sigil_cursor c = cursor_of("3bffffffffffffffff");
    sigil_cbor_item it;
    assert_int_equal(sigil_cbor_peek(&c, &it), 0);
    assert_int_equal(it.type, SIGIL_CBOR_NINT);
    assert_int_equal(it.val, UINT64_MAX);
    int64_t v = 7;
    sigil_clear_error();
    assert_int_equal(sigil_cbor_get_int(&c, &v, "amount"), -1);
    expect_code(SIGIL_E_OUT_OF_RANGE, "get_int -2^64");
    assert_non_null(strstr(sigil_errmsg(), "amount"));
    assert_int_equal(c.off, 0);
    assert_int_equal(v, 7);
}

static void test_get_int_range(void **state)
{
    (void)state;
    static const char *const OUT[] = {"1b8000000000000000", "1bffffffffffffffff",
                                      "3b8000000000000000"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(OUT); i++) {
        sigil_cursor c = cursor_of(OUT[i]);
        int64_t v = 7;
        sigil_clear_error();
        if (sigil_cbor_get_int(&c, &v, "n") == 0)
            fail_msg("%s accepted as int64 %lld", OUT[i], (long long)v);
        expect_code(SIGIL_E_OUT_OF_RANGE, OUT[i]);
        assert_int_equal(c.off, 0);
    }
}

/* The reader accepts arguments in a wider form than needed (real
 * attestation documents use them); the writer never emits them. */
static const struct {
    const char *hex;
    sigil_cbor_type type;
    uint64_t val;
    const char *shortest;
} NON_SHORTEST[] = {
    {"1800", SIGIL_CBOR_UINT, 0, "00"},
    {"1817", SIGIL_CBOR_UINT, 23, "17"},
    {"190000", SIGIL_CBOR_UINT, 0, "00"},
    {"1900ff", SIGIL_CBOR_UINT, 255, "18ff"},
    {"1a00000017", SIGIL_CBOR_UINT, 23, "17"},
    {"1a0000ffff", SIGIL_CBOR_UINT, 65535, "19ffff"},
    {"1b0000000000000001", SIGIL_CBOR_UINT, 1, "01"},
    {"1b00000000ffffffff", SIGIL_CBOR_UINT, 0xffffffffu, "1affffffff"},
    {"1b00000183cc75a701", SIGIL_CBOR_UINT, 1665582606081ull, "1b00000183cc75a701"},
    {"3800", SIGIL_CBOR_NINT, 0, "20"},
    {"390017", SIGIL_CBOR_NINT, 23, "37"},
    {"5800", SIGIL_CBOR_BYTES, 0, "40"},
    {"790000", SIGIL_CBOR_TEXT, 0, "60"},
    {"9800", SIGIL_CBOR_ARRAY, 0, "80"},
    {"ba00000000", SIGIL_CBOR_MAP, 0, "a0"},
    {"d80002", SIGIL_CBOR_TAG, 0, "c0"},
};

static void test_non_shortest_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(NON_SHORTEST); i++) {
        sigil_cursor c = cursor_of(NON_SHORTEST[i].hex);
        sigil_cbor_item it;
        if (sigil_cbor_next(&c, &it) != 0)
            fail_msg("%s: %s", NON_SHORTEST[i].hex, sigil_errmsg());
        assert_int_equal(it.type, NON_SHORTEST[i].type);
        assert_int_equal(it.val, NON_SHORTEST[i].val);
        sigil_cursor s = cursor_of(NON_SHORTEST[i].hex);
        assert_int_equal(sigil_cbor_skip(&s), 0);
        assert_int_equal(sigil_cursor_remaining(&s), 0);
        sigil_buf b;
        out_init(&b);
        assert_int_equal(sigil_cbor_put_head(&b, (unsigned)NON_SHORTEST[i].type, it.val), 0);
        expect_out(&b, NON_SHORTEST[i].shortest, "put_head shortest");
    }
}

/* ---- strings ---- */

static const struct {
    const char *hex;
    sigil_cbor_type type;
    const char *content_hex;
} APPENDIX_A_STRINGS[] = {
    {"40", SIGIL_CBOR_BYTES, ""},
    {"4401020304", SIGIL_CBOR_BYTES, "01020304"},
    {"60", SIGIL_CBOR_TEXT, ""},
    {"6161", SIGIL_CBOR_TEXT, "61"},
    {"6449455446", SIGIL_CBOR_TEXT, "49455446"}, /* "IETF" */
    {"62225c", SIGIL_CBOR_TEXT, "225c"},         /* "\"\\" */
    {"62c3bc", SIGIL_CBOR_TEXT, "c3bc"},         /* "ü" */
    {"63e6b0b4", SIGIL_CBOR_TEXT, "e6b0b4"},     /* "水" */
    {"64f0908591", SIGIL_CBOR_TEXT, "f0908591"}, /* "𐅑" */
    {"6100", SIGIL_CBOR_TEXT, "00"},             /* U+0000 is UTF-8 */
    {"64f48fbfbf", SIGIL_CBOR_TEXT, "f48fbfbf"}, /* U+10FFFF */
    {"63efbfbf", SIGIL_CBOR_TEXT, "efbfbf"},     /* U+FFFF */
};

static void test_appendix_a_strings(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(APPENDIX_A_STRINGS); i++) {
        sigil_cursor c = cursor_of(APPENDIX_A_STRINGS[i].hex);
        size_t want_len = unhex(1, APPENDIX_A_STRINGS[i].content_hex);
        const uint8_t *p = NULL;
        const char *t = NULL;
        size_t len = 99;
        int rc = APPENDIX_A_STRINGS[i].type == SIGIL_CBOR_BYTES
                     ? sigil_cbor_get_bytes(&c, &p, &len, "s")
                     : sigil_cbor_get_text(&c, &t, &len, "s");
        if (rc != 0)
            fail_msg("%s: %s", APPENDIX_A_STRINGS[i].hex, sigil_errmsg());
        if (t != NULL)
            p = (const uint8_t *)t;
        assert_int_equal(len, want_len);
        assert_non_null(p);
        /* A slice of the input, right after the head. */
        assert_true(p > g_in[0] && p <= g_in[0] + c.len);
        assert_memory_equal(p, g_in[1], len);
        assert_int_equal(sigil_cursor_remaining(&c), 0);

        sigil_buf b;
        out_init(&b);
        rc = APPENDIX_A_STRINGS[i].type == SIGIL_CBOR_BYTES
                 ? sigil_cbor_put_bytes(&b, g_in[1], want_len)
                 : sigil_cbor_put_text(&b, (const char *)g_in[1], want_len);
        assert_int_equal(rc, 0);
        expect_out(&b, APPENDIX_A_STRINGS[i].hex, "put string");
    }
}

static void test_next_consumes_string_content(void **state)
{
    (void)state;
    sigil_cursor c = cursor_of("4401020304 6161 f6");
    sigil_cbor_item it;
    assert_int_equal(sigil_cbor_peek(&c, &it), 0);
    assert_int_equal(c.off, 0); /* peek does not move */
    assert_int_equal(it.type, SIGIL_CBOR_BYTES);
    assert_int_equal(sigil_cbor_next(&c, &it), 0);
    assert_int_equal(c.off, 5);
    assert_int_equal(it.val, 4);
    assert_ptr_equal(it.ptr, g_in[0] + 1);
    assert_int_equal(sigil_cbor_next(&c, &it), 0);
    assert_int_equal(it.type, SIGIL_CBOR_TEXT);
    assert_int_equal(c.off, 7);
    assert_int_equal(sigil_cbor_next(&c, &it), 0);
    assert_int_equal(it.type, SIGIL_CBOR_NULL);
    assert_null(it.ptr);
    assert_int_equal(sigil_cursor_remaining(&c), 0);
}

static void test_string_head_widths(void **state)
{
    (void)state;
    /* 24-byte text needs a one-byte length; 256-byte bytes a two-byte one. */
    static uint8_t big[300];
    memset(big, 'x', sizeof(big));
    sigil_buf b;
    out_init(&b);
    assert_int_equal(sigil_cbor_put_text(&b, (const char *)big, 24), 0);
    assert_int_equal(b.len, 26);
    assert_int_equal(b.data[0], 0x78);
    assert_int_equal(b.data[1], 24);
    out_init(&b);
    assert_int_equal(sigil_cbor_put_bytes(&b, big, 256), 0);
    assert_int_equal(b.len, 259);
    assert_int_equal(b.data[0], 0x59);
    assert_int_equal(b.data[1], 0x01);
    assert_int_equal(b.data[2], 0x00);
    sigil_cursor c;
    sigil_cursor_init(&c, b.data, b.len);
    const uint8_t *p;
    size_t len;
    assert_int_equal(sigil_cbor_get_bytes(&c, &p, &len, "big"), 0);
    assert_int_equal(len, 256);
    assert_ptr_equal(p, b.data + 3);
    out_init(&b);
    assert_int_equal(sigil_cbor_put_cstr(&b, "IETF"), 0);
    expect_out(&b, "6449455446", "put_cstr");
}

/* ---- arrays, maps, nesting ---- */

static const char *const APPENDIX_A_CONTAINERS[] = {
    "80",
    "83010203",
    "8301820203820405",
    "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
    "a0",
    "a201020304",
    "a26161016162820203",
    "826161a161626163",
    "a56161614161626142616361436164614461656145",
};

static void test_appendix_a_containers_skip(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(APPENDIX_A_CONTAINERS); i++) {
        sigil_cursor c = cursor_of(APPENDIX_A_CONTAINERS[i]);
        if (sigil_cbor_skip(&c) != 0)
            fail_msg("%s: %s", APPENDIX_A_CONTAINERS[i], sigil_errmsg());
        assert_int_equal(sigil_cursor_remaining(&c), 0);
    }
}

/* [1, [2, 3], [4, 5]] and {"a": 1, "b": [2, 3]} read with the typed getters. */
static void test_nested_walk(void **state)
{
    (void)state;
    sigil_cursor c = cursor_of("8301820203820405");
    size_t n;
    uint64_t v;
    assert_int_equal(sigil_cbor_get_array(&c, &n, "outer"), 0);
    assert_int_equal(n, 3);
    assert_int_equal(sigil_cbor_get_uint(&c, &v, "x"), 0);
    assert_int_equal(v, 1);
    for (uint64_t k = 0; k < 2; k++) {
        assert_int_equal(sigil_cbor_get_array(&c, &n, "inner"), 0);
        assert_int_equal(n, 2);
        assert_int_equal(sigil_cbor_get_uint(&c, &v, "x"), 0);
        assert_int_equal(v, 2 + 2 * k);
        assert_int_equal(sigil_cbor_get_uint(&c, &v, "x"), 0);
        assert_int_equal(v, 3 + 2 * k);
    }
    assert_int_equal(sigil_cursor_remaining(&c), 0);

    c = cursor_of("a26161016162820203");
    const char *k;
    size_t klen;
    assert_int_equal(sigil_cbor_get_map(&c, &n, "m"), 0);
    assert_int_equal(n, 2);
    assert_int_equal(sigil_cbor_get_text(&c, &k, &klen, "key"), 0);
    assert_true(sigil_cbor_text_eq(k, klen, "a"));
    assert_int_equal(sigil_cbor_get_uint(&c, &v, "a"), 0);
    assert_int_equal(v, 1);
    assert_int_equal(sigil_cbor_get_text(&c, &k, &klen, "key"), 0);
    assert_true(sigil_cbor_text_eq(k, klen, "b"));
    assert_int_equal(sigil_cbor_skip(&c), 0);
    assert_int_equal(sigil_cursor_remaining(&c), 0);
}

static void test_containers_write(void **state)
{
    (void)state;
    sigil_buf b;
    out_init(&b);
    /* [1, [2, 3], [4, 5]] */
    assert_int_equal(sigil_cbor_put_array(&b, 3), 0);
    assert_int_equal(sigil_cbor_put_uint(&b, 1), 0);
    for (uint64_t k = 0; k < 2; k++) {
        assert_int_equal(sigil_cbor_put_array(&b, 2), 0);
        assert_int_equal(sigil_cbor_put_uint(&b, 2 + 2 * k), 0);
        assert_int_equal(sigil_cbor_put_uint(&b, 3 + 2 * k), 0);
    }
    expect_out(&b, "8301820203820405", "nested arrays");

    /* {"a": "A", ..., "e": "E"} */
    out_init(&b);
    assert_int_equal(sigil_cbor_put_map(&b, 5), 0);
    for (char ch = 'a'; ch <= 'e'; ch++) {
        char up = (char)(ch - 'a' + 'A');
        assert_int_equal(sigil_cbor_put_text(&b, &ch, 1), 0);
        assert_int_equal(sigil_cbor_put_text(&b, &up, 1), 0);
    }
    expect_out(&b, "a56161614161626142616361436164614461656145", "map");

    /* 25-item array: the count takes a one-byte argument. */
    out_init(&b);
    assert_int_equal(sigil_cbor_put_array(&b, 25), 0);
    for (uint64_t k = 1; k <= 25; k++)
        assert_int_equal(sigil_cbor_put_uint(&b, k), 0);
    expect_out(&b, "98190102030405060708090a0b0c0d0e0f101112131415161718181819", "array 25");

    out_init(&b);
    assert_int_equal(sigil_cbor_put_map(&b, 0), 0);
    assert_int_equal(sigil_cbor_put_array(&b, 0), 0);
    expect_out(&b, "a080", "empty containers");
}

/* ---- tags ---- */

static const struct {
    const char *hex;
    uint64_t tag;
    sigil_cbor_type inner;
} APPENDIX_A_TAGS[] = {
    {"c074323031332d30332d32315432303a30343a30305a", 0, SIGIL_CBOR_TEXT},
    {"c11a514b67b0", 1, SIGIL_CBOR_UINT},
    {"c249010000000000000000", 2, SIGIL_CBOR_BYTES},
    {"d74401020304", 23, SIGIL_CBOR_BYTES},
    {"d818456449455446", 24, SIGIL_CBOR_BYTES},
    {"d82076687474703a2f2f7777772e6578616d706c652e636f6d", 32, SIGIL_CBOR_TEXT},
    {"d28444a1013822a0f6f6", 18, SIGIL_CBOR_ARRAY}, /* COSE_Sign1 tag */
};

static void test_appendix_a_tags(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(APPENDIX_A_TAGS); i++) {
        sigil_cursor c = cursor_of(APPENDIX_A_TAGS[i].hex);
        sigil_cbor_item it;
        assert_int_equal(sigil_cbor_next(&c, &it), 0);
        assert_int_equal(it.type, SIGIL_CBOR_TAG);
        assert_int_equal(it.val, APPENDIX_A_TAGS[i].tag);
        assert_int_equal(sigil_cbor_peek(&c, &it), 0);
        assert_int_equal(it.type, APPENDIX_A_TAGS[i].inner);
        /* skip takes the tag and its item together */
        sigil_cursor s = cursor_of(APPENDIX_A_TAGS[i].hex);
        if (sigil_cbor_skip(&s) != 0)
            fail_msg("%s: %s", APPENDIX_A_TAGS[i].hex, sigil_errmsg());
        assert_int_equal(sigil_cursor_remaining(&s), 0);
    }
    sigil_buf b;
    out_init(&b);
    assert_int_equal(sigil_cbor_put_head(&b, SIGIL_CBOR_TAG, 1), 0);
    assert_int_equal(sigil_cbor_put_uint(&b, 1363896240), 0);
    assert_int_equal(sigil_cbor_put_head(&b, SIGIL_CBOR_TAG, 24), 0);
    expect_out(&b, "c11a514b67b0d818", "tags");
    /* A tag with nothing after it is not a whole item. */
    sigil_cursor c = cursor_of("c1");
    sigil_clear_error();
    assert_int_equal(sigil_cbor_skip(&c), -1);
    expect_code(SIGIL_E_BAD_ENCODING, "dangling tag");
    assert_int_equal(c.off, 0);
}

/* ---- simple values ---- */

static void test_true_false_null(void **state)
{
    (void)state;
    sigil_cursor c = cursor_of("f4f5f6");
    bool v = true;
    assert_int_equal(sigil_cbor_get_bool(&c, &v, "f"), 0);
    assert_false(v);
    assert_false(sigil_cbor_take_null(&c)); /* true is not null; nothing consumed */
    assert_int_equal(c.off, 1);
    assert_int_equal(sigil_cbor_get_bool(&c, &v, "t"), 0);
    assert_true(v);
    assert_true(sigil_cbor_take_null(&c));
    assert_int_equal(sigil_cursor_remaining(&c), 0);
    assert_false(sigil_cbor_take_null(&c)); /* empty input */

    c = cursor_of("f6");
    sigil_cbor_item it;
    assert_int_equal(sigil_cbor_peek(&c, &it), 0);
    assert_int_equal(it.type, SIGIL_CBOR_NULL);

    sigil_buf b;
    out_init(&b);
    assert_int_equal(sigil_cbor_put_bool(&b, false), 0);
    assert_int_equal(sigil_cbor_put_bool(&b, true), 0);
    assert_int_equal(sigil_cbor_put_null(&b), 0);
    expect_out(&b, "f4f5f6", "simple values");
}

static void test_bytes_or_null(void **state)
{
    (void)state;
    sigil_cursor c = cursor_of("f643010203");
    const uint8_t *p = g_in[1];
    size_t len = 99;
    assert_int_equal(sigil_cbor_get_bytes_or_null(&c, &p, &len, "seed"), 0);
    assert_null(p);
    assert_int_equal(len, 0);
    assert_int_equal(sigil_cbor_get_bytes_or_null(&c, &p, &len, "seed"), 0);
    assert_ptr_equal(p, g_in[0] + 2);
    assert_int_equal(len, 3);
    /* Neither bytes nor null: a type error naming the field. */
    c = cursor_of("6161");
    sigil_clear_error();
    assert_int_equal(sigil_cbor_get_bytes_or_null(&c, &p, &len, "seed"), -1);
    expect_code(SIGIL_E_BAD_FIELD, "text for bytes_or_null");
    assert_non_null(strstr(sigil_errmsg(), "seed"));
    assert_int_equal(c.off, 0);

    sigil_buf b;
    out_init(&b);
    assert_int_equal(sigil_cbor_put_bytes_or_null(&b, NULL, 5), 0);
    assert_int_equal(sigil_cbor_put_bytes_or_null(&b, "\x01\x02", 2), 0);
    assert_int_equal(sigil_cbor_put_bytes_or_null(&b, "", 0), 0);
    expect_out(&b, "f642010240", "bytes_or_null");
}

static void test_text_eq(void **state)
{
    (void)state;
    assert_true(sigil_cbor_text_eq("abc", 3, "abc"));
    assert_false(sigil_cbor_text_eq("abc", 2, "abc"));
    assert_false(sigil_cbor_text_eq("abcd", 4, "abc"));
    assert_false(sigil_cbor_text_eq("abd", 3, "abc"));
    assert_true(sigil_cbor_text_eq("", 0, ""));
    assert_false(sigil_cbor_text_eq("a\0c", 3, "a"));
}

/* ---- refusals: every malformed input is SIGIL_E_BAD_ENCODING from next,
 * peek, skip and every getter, and the cursor does not move ---- */

static const struct {
    const char *hex;
    const char *why;
} MALFORMED[] = {
    {"", "empty input"},
    /* indefinite lengths and the break code */
    {"5f4101ff", "indefinite byte string"},
    {"7f6161ff", "indefinite text string"},
    {"9f01ff", "indefinite array"},
    {"bf0101ff", "indefinite map"},
    {"1f", "ai 31 on uint"},
    {"3f", "ai 31 on nint"},
    {"df01", "ai 31 on tag"},
    {"ff", "break"},
    /* reserved additional information 28..30 */
    {"1c", "ai 28"},
    {"1d", "ai 29"},
    {"1e", "ai 30"},
    {"3c", "ai 28 nint"},
    {"5d", "ai 29 bytes"},
    {"7e", "ai 30 text"},
    {"9c", "ai 28 array"},
    {"bd", "ai 29 map"},
    {"de", "ai 30 tag"},
    {"fc", "ai 28 simple"},
    {"fd", "ai 29 simple"},
    {"fe", "ai 30 simple"},
    /* floats (Appendix A) */
    {"f90000", "half 0.0"},
    {"f93c00", "half 1.0"},
    {"f97c00", "half infinity"},
    {"f97e00", "half NaN"},
    {"fa47c35000", "single 100000.0"},
    {"fa7f800000", "single infinity"},
    {"fb3ff199999999999a", "double 1.1"},
    {"fb7ff8000000000000", "double NaN"},
    /* undefined and other simple values */
    {"f7", "undefined"},
    {"e0", "simple(0)"},
    {"f0", "simple(16)"},
    {"f3", "simple(19)"},
    {"f818", "simple(24) two-byte form"},
    {"f820", "simple(32)"},
    {"f8ff", "simple(255)"},
    {"f814", "false in two-byte form"},
    /* truncated heads */
    {"18", "uint8 missing"},
    {"19ff", "uint16 short"},
    {"1a000000", "uint32 short"},
    {"1b00000000000000", "uint64 short"},
    {"38", "nint8 missing"},
    {"5900", "bytes length short"},
    {"7a000000", "text length short"},
    {"98", "array count missing"},
    {"b900", "map count short"},
    {"d8", "tag missing"},
    {"f9", "half float head short"},
    /* string content truncated or past the end */
    {"41", "bytes(1) empty"},
    {"44010203", "bytes(4) with 3"},
    {"6261", "text(2) with 1"},
    {"5818", "bytes(24) with none"},
    {"5a0000010000", "bytes(256) with 1"},
    {"5affffffff00", "bytes(2^32-1)"},
    {"5bffffffffffffffff00", "bytes(2^64-1): length + head overflow"},
    {"5bfffffffffffffff700", "bytes(2^64-9): head + length wraps to 0"},
    {"7b800000000000000061", "text(2^63)"},
    /* invalid UTF-8 in text */
    {"61ff", "0xff"},
    {"6180", "lone continuation"},
    {"61c3", "truncated two-byte sequence"},
    {"62c328", "bad continuation"},
    {"62c080", "overlong NUL"},
    {"62c1bf", "overlong two-byte"},
    {"63e08080", "overlong three-byte"},
    {"63eda080", "UTF-16 surrogate D800"},
    {"63edbfbf", "UTF-16 surrogate DFFF"},
    {"64f0808080", "overlong four-byte"},
    {"64f4908080", "above U+10FFFF"},
    {"64f5808080", "0xf5 lead"},
    {"6a414141414141414141ff", "0xff after the 8-byte ASCII fast path"},
    {"69414141414141414180", "continuation after 8 ASCII bytes"},
    {"6841414141414141c3", "sequence cut at the end after 7 ASCII"},
};

static void test_malformed_refused_by_next_and_peek(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MALFORMED); i++) {
        sigil_cursor c = cursor_of(MALFORMED[i].hex);
        sigil_cbor_item it;
        sigil_clear_error();
        if (sigil_cbor_peek(&c, &it) == 0)
            fail_msg("peek accepted %s (%s)", MALFORMED[i].hex, MALFORMED[i].why);
        expect_code(SIGIL_E_BAD_ENCODING, MALFORMED[i].why);
        sigil_clear_error();
        if (sigil_cbor_next(&c, &it) == 0)
            fail_msg("next accepted %s (%s)", MALFORMED[i].hex, MALFORMED[i].why);
        expect_code(SIGIL_E_BAD_ENCODING, MALFORMED[i].why);
        assert_int_equal(c.off, 0);
        sigil_clear_error();
        if (sigil_cbor_skip(&c) == 0)
            fail_msg("skip accepted %s (%s)", MALFORMED[i].hex, MALFORMED[i].why);
        expect_code(SIGIL_E_BAD_ENCODING, MALFORMED[i].why);
        assert_int_equal(c.off, 0);
    }
}

/* Each getter on malformed input: BAD_ENCODING (not BAD_FIELD), cursor
 * unchanged, outputs untouched. */
static void test_malformed_refused_by_getters(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MALFORMED); i++) {
        for (unsigned g = 0; g < 9; g++) {
            sigil_cursor c = cursor_of(MALFORMED[i].hex);
            uint64_t u = 7;
            int64_t s = 7;
            bool bo = true;
            const uint8_t *p = (const uint8_t *)"x";
            const char *t = "x";
            size_t len = 7, n = 7;
            int rc;
            sigil_clear_error();
            switch (g) {
            case 0:
                rc = sigil_cbor_get_uint(&c, &u, "f");
                break;
            case 1:
                rc = sigil_cbor_get_int(&c, &s, "f");
                break;
            case 2:
                rc = sigil_cbor_get_bool(&c, &bo, "f");
                break;
            case 3:
                rc = sigil_cbor_get_bytes(&c, &p, &len, "f");
                break;
            case 4:
                rc = sigil_cbor_get_text(&c, &t, &len, "f");
                break;
            case 5:
                rc = sigil_cbor_get_bytes_or_null(&c, &p, &len, "f");
                break;
            case 6:
                rc = sigil_cbor_get_array(&c, &n, "f");
                break;
            case 7:
                rc = sigil_cbor_get_map(&c, &n, "f");
                break;
            case 8:
                rc = sigil_cbor_take_null(&c) ? 0 : -1;
                sigil_clear_error();
                (void)sigil_fail(SIGIL_E_BAD_ENCODING, "take_null sets no error");
                break;
            default:
                fail_msg("getter %u", g);
                return;
            }
            if (rc == 0)
                fail_msg("getter %u accepted %s (%s)", g, MALFORMED[i].hex, MALFORMED[i].why);
            expect_code(SIGIL_E_BAD_ENCODING, MALFORMED[i].why);
            assert_int_equal(c.off, 0);
            assert_int_equal(u, 7);
            assert_int_equal(s, 7);
            assert_true(bo);
            assert_int_equal(len, 7);
            assert_int_equal(n, 7);
        }
    }
}

/* ---- typed getters on well-formed items of the wrong type ---- */

static void test_wrong_type_is_bad_field(void **state)
{
    (void)state;
    /* One well-formed item of each type. */
    static const char *const ITEMS[] = {"01",     "20",   "4101", "6161", "8101",
                                        "a10101", "c101", "f4",   "f5",   "f6"};
    /* Which item indexes each getter accepts. */
    static const struct {
        const char *name;
        unsigned ok_mask;
    } GETTERS[] = {
        {"uint", 1u << 0},  {"int", 1u << 0 | 1u << 1}, {"bool", 1u << 7 | 1u << 8},
        {"bytes", 1u << 2}, {"text", 1u << 3},          {"bytes_or_null", 1u << 2 | 1u << 9},
        {"array", 1u << 4}, {"map", 1u << 5},
    };
    for (size_t g = 0; g < SIGIL_ARRAY_LEN(GETTERS); g++) {
        for (size_t i = 0; i < SIGIL_ARRAY_LEN(ITEMS); i++) {
            sigil_cursor c = cursor_of(ITEMS[i]);
            uint64_t u;
            int64_t s;
            bool bo;
            const uint8_t *p;
            const char *t;
            size_t len, n;
            int rc;
            sigil_clear_error();
            switch (g) {
            case 0:
                rc = sigil_cbor_get_uint(&c, &u, "the_field");
                break;
            case 1:
                rc = sigil_cbor_get_int(&c, &s, "the_field");
                break;
            case 2:
                rc = sigil_cbor_get_bool(&c, &bo, "the_field");
                break;
            case 3:
                rc = sigil_cbor_get_bytes(&c, &p, &len, "the_field");
                break;
            case 4:
                rc = sigil_cbor_get_text(&c, &t, &len, "the_field");
                break;
            case 5:
                rc = sigil_cbor_get_bytes_or_null(&c, &p, &len, "the_field");
                break;
            case 6:
                rc = sigil_cbor_get_array(&c, &n, "the_field");
                break;
            case 7:
                rc = sigil_cbor_get_map(&c, &n, "the_field");
                break;
            default:
                fail_msg("getter %zu", g);
                return;
            }
            bool ok = (GETTERS[g].ok_mask >> i) & 1u;
            if (ok) {
                if (rc != 0)
                    fail_msg("get_%s refused %s: %s", GETTERS[g].name, ITEMS[i], sigil_errmsg());
                assert_true(c.off > 0);
                continue;
            }
            if (rc == 0)
                fail_msg("get_%s accepted %s", GETTERS[g].name, ITEMS[i]);
            if (sigil_errno() != SIGIL_E_BAD_FIELD)
                fail_msg("get_%s on %s: expected bad_field, got %s (%s)", GETTERS[g].name, ITEMS[i],
                         sigil_err_code(sigil_errno()), sigil_errmsg());
            if (strstr(sigil_errmsg(), "the_field") == NULL)
                fail_msg("get_%s on %s: message does not name the field: %s", GETTERS[g].name,
                         ITEMS[i], sigil_errmsg());
            assert_int_equal(c.off, 0);
        }
    }
}

/* ---- depth and counts ---- */

/* levels - 1 one-item arrays around a 0, e.g. 3 -> 81 81 00. */
static size_t nest(uint8_t *out, size_t levels, uint8_t container, uint8_t leaf)
{
    for (size_t i = 0; i + 1 < levels; i++)
        out[i] = container;
    out[levels - 1] = leaf;
    return levels;
}

static void test_skip_depth_limit(void **state)
{
    (void)state;
    static uint8_t deep[4096];
    static const uint8_t CONTAINERS[] = {0x81, 0xc1}; /* one-item array, tag 1 */
    sigil_cursor c;
    /* SIGIL_CBOR_MAX_DEPTH levels of items are fine, one more is not. */
    for (size_t k = 0; k < 2; k++) {
        size_t n = nest(deep, SIGIL_CBOR_MAX_DEPTH, CONTAINERS[k], 0x00);
        sigil_cursor_init(&c, deep, n);
        if (sigil_cbor_skip(&c) != 0)
            fail_msg("depth %d refused: %s", SIGIL_CBOR_MAX_DEPTH, sigil_errmsg());
        assert_int_equal(sigil_cursor_remaining(&c), 0);
        n = nest(deep, SIGIL_CBOR_MAX_DEPTH + 1, CONTAINERS[k], 0x00);
        sigil_cursor_init(&c, deep, n);
        sigil_clear_error();
        assert_int_equal(sigil_cbor_skip(&c), -1);
        expect_code(SIGIL_E_BAD_ENCODING, "depth 17");
        assert_int_equal(c.off, 0);
    }
    /* Innermost empty container counts as a level too. */
    size_t n = nest(deep, SIGIL_CBOR_MAX_DEPTH, 0x81, 0x80);
    sigil_cursor_init(&c, deep, n);
    assert_int_equal(sigil_cbor_skip(&c), 0);
    n = nest(deep, SIGIL_CBOR_MAX_DEPTH + 1, 0x81, 0xa0);
    sigil_cursor_init(&c, deep, n);
    assert_int_equal(sigil_cbor_skip(&c), -1);
    /* Maps nest through their values: {0: {0: ... 0}} */
    for (size_t i = 0; i < 2 * SIGIL_CBOR_MAX_DEPTH; i += 2) {
        deep[i] = 0xa1;
        deep[i + 1] = 0x00;
    }
    deep[2 * SIGIL_CBOR_MAX_DEPTH] = 0x00;
    sigil_cursor_init(&c, deep, 2 * SIGIL_CBOR_MAX_DEPTH + 1);
    sigil_clear_error();
    assert_int_equal(sigil_cbor_skip(&c), -1);
    expect_code(SIGIL_E_BAD_ENCODING, "16 nested maps around a value");
    sigil_cursor_init(&c, deep + 2, 2 * SIGIL_CBOR_MAX_DEPTH - 1);
    assert_int_equal(sigil_cbor_skip(&c), 0);
    /* Very deep input is refused without recursing into all of it. */
    memset(deep, 0x81, sizeof(deep));
    sigil_cursor_init(&c, deep, sizeof(deep));
    sigil_clear_error();
    assert_int_equal(sigil_cbor_skip(&c), -1);
    expect_code(SIGIL_E_BAD_ENCODING, "4096 nested arrays");
    assert_int_equal(c.off, 0);
    /* Wide is fine: 1000 items at one level. */
    deep[0] = 0x99;
    deep[1] = 0x03;
    deep[2] = 0xe8;
    memset(deep + 3, 0xf6, 1000);
    sigil_cursor_init(&c, deep, 1003);
    assert_int_equal(sigil_cbor_skip(&c), 0);
    assert_int_equal(sigil_cursor_remaining(&c), 0);
}

static const char *const COUNT_TOO_LARGE[] = {
    "9affffffff",           /* 4G items, no input */
    "9bffffffffffffffff",   /* 2^64-1 items */
    "bbffffffffffffffff",   /* 2^64-1 pairs: 2*count overflows */
    "bb8000000000000000",   /* 2^63 pairs: 2*count wraps to 0 */
    "bb800000000000000100", /* 2^63+1 pairs: 2*count wraps to 2 */
    "830102",               /* 3 items, 2 present */
    "a2010203",             /* 2 pairs, last value missing */
    "a101",                 /* key without value */
    "8201",                 /* second item missing */
    "82018201",             /* nested short */
    "830102ff",             /* break where the third item should be */
};

static void test_skip_counts_larger_than_input(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(COUNT_TOO_LARGE); i++) {
        sigil_cursor c = cursor_of(COUNT_TOO_LARGE[i]);
        sigil_clear_error();
        if (sigil_cbor_skip(&c) == 0)
            fail_msg("skip accepted %s", COUNT_TOO_LARGE[i]);
        expect_code(SIGIL_E_BAD_ENCODING, COUNT_TOO_LARGE[i]);
        assert_int_equal(c.off, 0);
    }
}

static void test_get_array_map_counts(void **state)
{
    (void)state;
    size_t n = 99;
    sigil_cursor c = cursor_of("9affffffff");
    sigil_clear_error();
    assert_int_equal(sigil_cbor_get_array(&c, &n, "list"), -1);
    expect_code(SIGIL_E_BAD_ENCODING, "array count over input");
    assert_int_equal(c.off, 0);
    assert_int_equal(n, 99);
    c = cursor_of("83010203");
    assert_int_equal(sigil_cbor_get_array(&c, &n, "list"), 0);
    assert_int_equal(n, 3);
    assert_int_equal(c.off, 1);
    c = cursor_of("830102"); /* 3 > 2 bytes left */
    assert_int_equal(sigil_cbor_get_array(&c, &n, "list"), -1);
    assert_int_equal(c.off, 0);

    c = cursor_of("a2010203"); /* 2 pairs need at least 4 bytes; 3 left */
    sigil_clear_error();
    assert_int_equal(sigil_cbor_get_map(&c, &n, "m"), -1);
    expect_code(SIGIL_E_BAD_ENCODING, "map count over input");
    assert_int_equal(c.off, 0);
    c = cursor_of("bb8000000000000000");
    assert_int_equal(sigil_cbor_get_map(&c, &n, "m"), -1);
    assert_int_equal(c.off, 0);
    c = cursor_of("a201020304");
    assert_int_equal(sigil_cbor_get_map(&c, &n, "m"), 0);
    assert_int_equal(n, 2);
    assert_int_equal(c.off, 1);
}

/* ---- atomicity ---- */

static void test_skip_failure_restores_cursor(void **state)
{
    (void)state;
    /* A valid item, then an array whose third element is malformed. */
    sigil_cursor c = cursor_of("01 83 01 6161 61ff");
    assert_int_equal(sigil_cbor_skip(&c), 0);
    assert_int_equal(c.off, 1);
    sigil_clear_error();
    assert_int_equal(sigil_cbor_skip(&c), -1);
    expect_code(SIGIL_E_BAD_ENCODING, "bad text deep inside");
    assert_int_equal(c.off, 1);
    /* Getter failure mid-stream leaves the cursor where it was. */
    c = cursor_of("01 6161 1c");
    uint64_t v;
    const char *t;
    size_t len;
    assert_int_equal(sigil_cbor_get_uint(&c, &v, "a"), 0);
    assert_int_equal(sigil_cbor_get_uint(&c, &v, "b"), -1);
    assert_int_equal(c.off, 1);
    assert_int_equal(sigil_cbor_get_text(&c, &t, &len, "b"), 0);
    assert_int_equal(c.off, 3);
    assert_int_equal(sigil_cbor_get_uint(&c, &v, "c"), -1);
    assert_int_equal(c.off, 3);
}

/* ---- writer ---- */

static const struct {
    unsigned major;
    uint64_t arg;
    const char *hex;
} SHORTEST_HEADS[] = {
    {0, 23, "17"},
    {0, 24, "1818"},
    {0, 255, "18ff"},
    {0, 256, "190100"},
    {0, 65535, "19ffff"},
    {0, 65536, "1a00010000"},
    {0, 0xffffffffu, "1affffffff"},
    {0, 0x100000000ull, "1b0000000100000000"},
    {1, 0, "20"},
    {1, 255, "38ff"},
    {1, 256, "390100"},
    {2, 23, "57"},
    {3, 24, "7818"},
    {4, 65536, "9a00010000"},
    {5, 1, "a1"},
    {6, 18, "d2"},
    {6, 55799, "d9d9f7"},
    {7, 20, "f4"},
    {7, 22, "f6"},
};

static void test_put_head_shortest(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SHORTEST_HEADS); i++) {
        sigil_buf b;
        out_init(&b);
        assert_int_equal(sigil_cbor_put_head(&b, SHORTEST_HEADS[i].major, SHORTEST_HEADS[i].arg),
                         0);
        expect_out(&b, SHORTEST_HEADS[i].hex, "put_head");
    }
    static const struct {
        int64_t v;
        const char *hex;
    } INTS[] = {
        {-24, "37"}, {-25, "3818"}, {-256, "38ff"}, {-257, "390100"}, {-65537, "3a00010000"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(INTS); i++) {
        sigil_buf b;
        out_init(&b);
        assert_int_equal(sigil_cbor_put_int(&b, INTS[i].v), 0);
        expect_out(&b, INTS[i].hex, "put_int");
    }
}

static const struct {
    unsigned major;
    uint64_t arg;
    unsigned width;
    const char *hex;
} WIDE_HEADS[] = {
    {0, 0, 1, "1800"},
    {0, 0, 2, "190000"},
    {0, 1, 4, "1a00000001"},
    {0, 1, 8, "1b0000000000000001"},
    {0, 255, 1, "18ff"},
    {0, 65535, 2, "19ffff"},
    {0, 1665582606081ull, 8, "1b00000183cc75a701"}, /* Nitro timestamp */
    {0, UINT64_MAX, 8, "1bffffffffffffffff"},
    {2, 4318, 2, "5910de"}, /* Nitro payload length */
    {2, 5, 4, "5a00000005"},
    {4, 4, 1, "9804"},
    {5, 9, 1, "b809"},
};

static void test_put_head_wide(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(WIDE_HEADS); i++) {
        sigil_buf b;
        out_init(&b);
        assert_int_equal(sigil_cbor_put_head_wide(&b, WIDE_HEADS[i].major, WIDE_HEADS[i].arg,
                                                  WIDE_HEADS[i].width),
                         0);
        expect_out(&b, WIDE_HEADS[i].hex, "put_head_wide");
        /* and the reader takes it back (heads of strings need their content) */
        if (WIDE_HEADS[i].major == SIGIL_CBOR_BYTES)
            continue;
        sigil_cursor c;
        sigil_cbor_item it;
        sigil_cursor_init(&c, b.data, b.len);
        assert_int_equal(sigil_cbor_peek(&c, &it), 0);
        assert_int_equal(it.type, WIDE_HEADS[i].major);
        assert_int_equal(it.val, WIDE_HEADS[i].arg);
    }
    /* Widths other than 1, 2, 4, 8 and arguments that do not fit. */
    static const struct {
        uint64_t arg;
        unsigned width;
    } BAD[] = {{0, 0}, {0, 3}, {0, 16}, {1, 5}, {256, 1}, {65536, 2}, {0x100000000ull, 4}};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        sigil_buf b;
        out_init(&b);
        sigil_clear_error();
        if (sigil_cbor_put_head_wide(&b, 0, BAD[i].arg, BAD[i].width) == 0)
            fail_msg("put_head_wide(%llu, width %u) accepted", (unsigned long long)BAD[i].arg,
                     BAD[i].width);
        assert_int_equal(sigil_errno(), SIGIL_E_INTERNAL);
        assert_int_equal(b.len, 0);
    }
}

/* A major type above 7 does not exist: the writer must refuse it rather than
 * emit the low bits (major 8 would come out as an unsigned integer). */
static void test_put_head_refuses_bad_major(void **state)
{
    (void)state;
    for (unsigned major = 8; major < 12; major++) {
        sigil_buf b;
        out_init(&b);
        if (sigil_cbor_put_head(&b, major, 5) == 0) {
            sigil_hex_encode(g_out_hex, b.data, b.len);
            fail_msg("put_head(major %u) wrote %s", major, g_out_hex);
        }
        assert_int_equal(b.len, 0);
        out_init(&b);
        if (sigil_cbor_put_head_wide(&b, major, 5, 1) == 0) {
            sigil_hex_encode(g_out_hex, b.data, b.len);
            fail_msg("put_head_wide(major %u) wrote %s", major, g_out_hex);
        }
        assert_int_equal(b.len, 0);
    }
}

/* The writer fails atomically with SIGIL_E_TOO_LARGE when the buffer is full. */
static void test_writer_bounded_and_atomic(void **state)
{
    (void)state;
    uint8_t mem[8];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_cbor_put_uint(&b, 1), 0);
    assert_int_equal(b.len, 1);
    sigil_clear_error();
    assert_int_equal(sigil_cbor_put_uint(&b, UINT64_MAX), -1); /* 9 bytes > 7 left */
    expect_code(SIGIL_E_TOO_LARGE, "uint64 into 7 bytes");
    assert_int_equal(b.len, 1);
    /* Head fits, content does not: nothing of the string stays. */
    sigil_clear_error();
    assert_int_equal(sigil_cbor_put_text(&b, "abcdefgh", 8), -1);
    expect_code(SIGIL_E_TOO_LARGE, "text into 7 bytes");
    assert_int_equal(b.len, 1);
    assert_int_equal(sigil_cbor_put_bytes(&b, "abcdefg", 7), -1);
    assert_int_equal(b.len, 1);
    assert_int_equal(sigil_cbor_put_bytes(&b, "abcdef", 6), 0); /* exactly fills */
    assert_int_equal(b.len, 8);
    assert_int_equal(sigil_cbor_put_null(&b), -1);
    assert_int_equal(sigil_cbor_put_bool(&b, true), -1);
    assert_int_equal(sigil_cbor_put_head_wide(&b, 0, 1, 1), -1);
    assert_int_equal(b.len, 8);
}

/* Writer output read back by the reader, item by item. */
static void test_roundtrip(void **state)
{
    (void)state;
    sigil_buf b;
    out_init(&b);
    static const uint8_t BLOB[3] = {0xde, 0xad, 0x00};
    assert_int_equal(sigil_cbor_put_map(&b, 5), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "n"), 0);
    assert_int_equal(sigil_cbor_put_int(&b, -1000000), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "blob"), 0);
    assert_int_equal(sigil_cbor_put_bytes(&b, BLOB, sizeof(BLOB)), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "list"), 0);
    assert_int_equal(sigil_cbor_put_array(&b, 2), 0);
    assert_int_equal(sigil_cbor_put_bool(&b, true), 0);
    assert_int_equal(sigil_cbor_put_null(&b), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "big"), 0);
    assert_int_equal(sigil_cbor_put_uint(&b, UINT64_MAX), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "t"), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "h\xc3\xa9"), 0);

    sigil_cursor c;
    sigil_cursor_init(&c, b.data, b.len);
    sigil_cursor whole = c;
    assert_int_equal(sigil_cbor_skip(&whole), 0);
    assert_int_equal(sigil_cursor_remaining(&whole), 0);

    size_t n, len;
    const char *k;
    const uint8_t *p;
    int64_t i64;
    uint64_t u64;
    bool bo;
    assert_int_equal(sigil_cbor_get_map(&c, &n, "m"), 0);
    assert_int_equal(n, 5);
    assert_int_equal(sigil_cbor_get_text(&c, &k, &len, "k"), 0);
    assert_true(sigil_cbor_text_eq(k, len, "n"));
    assert_int_equal(sigil_cbor_get_int(&c, &i64, "n"), 0);
    assert_int_equal(i64, -1000000);
    assert_int_equal(sigil_cbor_get_text(&c, &k, &len, "k"), 0);
    assert_true(sigil_cbor_text_eq(k, len, "blob"));
    assert_int_equal(sigil_cbor_get_bytes(&c, &p, &len, "blob"), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(p, BLOB, 3);
    assert_int_equal(sigil_cbor_get_text(&c, &k, &len, "k"), 0);
    assert_int_equal(sigil_cbor_get_array(&c, &n, "list"), 0);
    assert_int_equal(n, 2);
    assert_int_equal(sigil_cbor_get_bool(&c, &bo, "b"), 0);
    assert_true(bo);
    assert_true(sigil_cbor_take_null(&c));
    assert_int_equal(sigil_cbor_get_text(&c, &k, &len, "k"), 0);
    assert_int_equal(sigil_cbor_get_uint(&c, &u64, "big"), 0);
    assert_int_equal(u64, UINT64_MAX);
    assert_int_equal(sigil_cbor_get_text(&c, &k, &len, "k"), 0);
    assert_int_equal(sigil_cbor_get_text(&c, &k, &len, "t"), 0);
    assert_true(sigil_cbor_text_eq(k, len, "h\xc3\xa9"));
    assert_int_equal(sigil_cursor_remaining(&c), 0);
}

/* ---- a real Nitro attestation document (COSE_Sign1, untagged) ---- */

static uint8_t g_doc[8192];

static size_t load_nitro_doc(void)
{
    char path[4096];
    const char *slash = strrchr(__FILE__, '/');
    if (slash != NULL)
        snprintf(path, sizeof(path), "%.*s/../../fuzz/corpus/cbor/nitro_evervault_debug_20221012",
                 (int)(slash - __FILE__), __FILE__);
    else
        snprintf(path, sizeof(path), "../../fuzz/corpus/cbor/nitro_evervault_debug_20221012");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    size_t n = fread(g_doc, 1, sizeof(g_doc), f);
    fclose(f);
    assert_int_equal(n, 4426);
    return n;
}

static void test_real_attestation_document(void **state)
{
    (void)state;
    size_t doc_len = load_nitro_doc();
    sigil_cursor c;
    sigil_cursor_init(&c, g_doc, doc_len);
    sigil_cursor whole = c;
    if (sigil_cbor_skip(&whole) != 0)
        fail_msg("skip: %s", sigil_errmsg());
    assert_int_equal(sigil_cursor_remaining(&whole), 0);

    size_t n, len;
    const uint8_t *prot, *payload, *sig;
    assert_int_equal(sigil_cbor_get_array(&c, &n, "COSE_Sign1"), 0);
    assert_int_equal(n, 4);
    assert_int_equal(sigil_cbor_get_bytes(&c, &prot, &len, "protected"), 0);
    assert_int_equal(len, 4); /* {1: -35} = ES384 */
    assert_memory_equal(prot, "\xa1\x01\x38\x22", 4);
    assert_int_equal(sigil_cbor_get_map(&c, &n, "unprotected"), 0);
    assert_int_equal(n, 0);
    size_t payload_len;
    assert_int_equal(sigil_cbor_get_bytes(&c, &payload, &payload_len, "payload"), 0);
    assert_int_equal(payload_len, 4318);
    assert_int_equal(sigil_cbor_get_bytes(&c, &sig, &len, "signature"), 0);
    assert_int_equal(len, 96);
    assert_int_equal(sigil_cursor_remaining(&c), 0);

    /* The payload: a map with module_id and a timestamp in 8-byte form. */
    sigil_cursor pc;
    sigil_cursor_init(&pc, payload, payload_len);
    assert_int_equal(sigil_cbor_get_map(&pc, &n, "payload"), 0);
    assert_int_equal(n, 9);
    bool saw_module = false, saw_time = false;
    for (size_t i = 0; i < n; i++) {
        const char *k, *t;
        assert_int_equal(sigil_cbor_get_text(&pc, &k, &len, "key"), 0);
        if (sigil_cbor_text_eq(k, len, "module_id")) {
            assert_int_equal(sigil_cbor_get_text(&pc, &t, &len, "module_id"), 0);
            assert_true(sigil_cbor_text_eq(t, len, "i-03ad7cdb817437eeb-enc0183cc7569b3f6e1"));
            saw_module = true;
        } else if (sigil_cbor_text_eq(k, len, "timestamp")) {
            uint64_t ts;
            assert_int_equal(pc.p[pc.off], 0x1b);
            assert_int_equal(sigil_cbor_get_uint(&pc, &ts, "timestamp"), 0);
            assert_int_equal(ts, 1665582606081ull);
            saw_time = true;
        } else {
            assert_int_equal(sigil_cbor_skip(&pc), 0);
        }
    }
    assert_true(saw_module && saw_time);
    assert_int_equal(sigil_cursor_remaining(&pc), 0);

    /* Every proper prefix of the document is refused by skip. */
    for (size_t cut = 0; cut < doc_len; cut += (cut < 64 ? 1 : 97)) {
        sigil_cursor_init(&c, g_doc, cut);
        if (sigil_cbor_skip(&c) == 0)
            fail_msg("prefix of %zu bytes accepted", cut);
        assert_int_equal(c.off, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendix_a_uints_read),
        cmocka_unit_test(test_appendix_a_uints_write),
        cmocka_unit_test(test_appendix_a_ints_read_write),
        cmocka_unit_test(test_nint_min_of_cbor),
        cmocka_unit_test(test_get_int_range),
        cmocka_unit_test(test_non_shortest_accepted),
        cmocka_unit_test(test_appendix_a_strings),
        cmocka_unit_test(test_next_consumes_string_content),
        cmocka_unit_test(test_string_head_widths),
        cmocka_unit_test(test_appendix_a_containers_skip),
        cmocka_unit_test(test_nested_walk),
        cmocka_unit_test(test_containers_write),
        cmocka_unit_test(test_appendix_a_tags),
        cmocka_unit_test(test_true_false_null),
        cmocka_unit_test(test_bytes_or_null),
        cmocka_unit_test(test_text_eq),
        cmocka_unit_test(test_malformed_refused_by_next_and_peek),
        cmocka_unit_test(test_malformed_refused_by_getters),
        cmocka_unit_test(test_wrong_type_is_bad_field),
        cmocka_unit_test(test_skip_depth_limit),
        cmocka_unit_test(test_skip_counts_larger_than_input),
        cmocka_unit_test(test_get_array_map_counts),
        cmocka_unit_test(test_skip_failure_restores_cursor),
        cmocka_unit_test(test_put_head_shortest),
        cmocka_unit_test(test_put_head_wide),
        cmocka_unit_test(test_put_head_refuses_bad_major),
        cmocka_unit_test(test_writer_bounded_and_atomic),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_real_attestation_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
