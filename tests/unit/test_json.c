/*
 * Unit tests for the strict JSON reader (src/codec/json.c, json_schema.c).
 * Every request and credentials file goes through this parser, so each
 * RFC 8259 rule it enforces has a test that fails if the rule is dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/codec.h"

#define MAX_TOKS 256

static sigil_json_tok g_toks[MAX_TOKS];
static sigil_json g_doc;

static int parse_len(const char *text, size_t len)
{
    sigil_clear_error();
    return sigil_json_parse(&g_doc, text, len, g_toks, MAX_TOKS);
}

/* Literals may hold NUL bytes, so their length comes from sizeof. */
#define ACCEPT(lit)                                                                                \
    do {                                                                                           \
        if (parse_len((lit), sizeof(lit) - 1) != 0)                                                \
            fail_msg("refused %s: %s", (lit), sigil_errmsg());                                     \
    } while (0)
#define REFUSE(lit, code)                                                                          \
    do {                                                                                           \
        if (parse_len((lit), sizeof(lit) - 1) == 0)                                                \
            fail_msg("accepted %s", (lit));                                                        \
        assert_string_equal(sigil_err_code(sigil_errno()), sigil_err_code(code));                  \
    } while (0)

/* ---- grammar ---- */
static void test_refuses_trailing_commas(void **state)
{
    (void)state;
    REFUSE("[1,]", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\":1,}", SIGIL_E_BAD_JSON);
    REFUSE("[,]", SIGIL_E_BAD_JSON);
    REFUSE("[1,,2]", SIGIL_E_BAD_JSON);
    REFUSE("{,}", SIGIL_E_BAD_JSON);
}

static void test_refuses_missing_commas(void **state)
{
    (void)state;
    REFUSE("[1 2]", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\":1 \"b\":2}", SIGIL_E_BAD_JSON);
    REFUSE("[\"a\" \"b\"]", SIGIL_E_BAD_JSON);
    REFUSE("[[] []]", SIGIL_E_BAD_JSON);
}

static void test_refuses_missing_or_misplaced_colons(void **state)
{
    (void)state;
    REFUSE("{\"a\" 1}", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\"}", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\":1,\"b\"}", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\"::1}", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\":1:2}", SIGIL_E_BAD_JSON);
    REFUSE("[\"a\":1]", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\",1}", SIGIL_E_BAD_JSON);
}

static void test_refuses_non_string_keys(void **state)
{
    (void)state;
    REFUSE("{1:2}", SIGIL_E_BAD_JSON);
    REFUSE("{a:1}", SIGIL_E_BAD_JSON);
    REFUSE("{null:1}", SIGIL_E_BAD_JSON);
    REFUSE("{{}:1}", SIGIL_E_BAD_JSON);
}

static void test_refuses_single_quotes(void **state)
{
    (void)state;
    REFUSE("['a']", SIGIL_E_BAD_JSON);
    REFUSE("{'a':1}", SIGIL_E_BAD_JSON);
    REFUSE("'a'", SIGIL_E_BAD_JSON);
}

static void test_refuses_leading_zeros(void **state)
{
    (void)state;
    REFUSE("01", SIGIL_E_BAD_JSON);
    REFUSE("[00]", SIGIL_E_BAD_JSON);
    REFUSE("[-01]", SIGIL_E_BAD_JSON);
    REFUSE("{\"t\":0123}", SIGIL_E_BAD_JSON);
}

static void test_refuses_plus_sign(void **state)
{
    (void)state;
    REFUSE("+1", SIGIL_E_BAD_JSON);
    REFUSE("[+0]", SIGIL_E_BAD_JSON);
}

static void test_refuses_bare_fraction_and_trailing_dot(void **state)
{
    (void)state;
    REFUSE(".5", SIGIL_E_BAD_JSON);
    REFUSE("[-.5]", SIGIL_E_BAD_JSON);
    REFUSE("1.", SIGIL_E_BAD_JSON);
    REFUSE("[1.e3]", SIGIL_E_BAD_JSON);
    REFUSE("1.5.5", SIGIL_E_BAD_JSON);
}

static void test_refuses_incomplete_exponent(void **state)
{
    (void)state;
    REFUSE("1e", SIGIL_E_BAD_JSON);
    REFUSE("[1E+]", SIGIL_E_BAD_JSON);
    REFUSE("[1e-]", SIGIL_E_BAD_JSON);
    REFUSE("[e5]", SIGIL_E_BAD_JSON);
}

static void test_refuses_other_number_forms(void **state)
{
    (void)state;
    REFUSE("-", SIGIL_E_BAD_JSON);
    REFUSE("[--1]", SIGIL_E_BAD_JSON);
    REFUSE("0x10", SIGIL_E_BAD_JSON);
    REFUSE("[1_000]", SIGIL_E_BAD_JSON);
    REFUSE("[- 1]", SIGIL_E_BAD_JSON);
}

static void test_refuses_nan_and_infinity(void **state)
{
    (void)state;
    REFUSE("NaN", SIGIL_E_BAD_JSON);
    REFUSE("[nan]", SIGIL_E_BAD_JSON);
    REFUSE("Infinity", SIGIL_E_BAD_JSON);
    REFUSE("[-Infinity]", SIGIL_E_BAD_JSON);
}

static void test_refuses_bare_and_misspelt_words(void **state)
{
    (void)state;
    REFUSE("tru", SIGIL_E_BAD_JSON);
    REFUSE("nul", SIGIL_E_BAD_JSON);
    REFUSE("[True]", SIGIL_E_BAD_JSON);
    REFUSE("[nulls]", SIGIL_E_BAD_JSON);
    REFUSE("[falsey]", SIGIL_E_BAD_JSON);
    REFUSE("undefined", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\":abc}", SIGIL_E_BAD_JSON);
}

static void test_accepts_every_value_kind(void **state)
{
    (void)state;
    ACCEPT("[true,false,null,0,-0,1.5,-2.5e-3,1E+2,\"s\",{},[]]");
    assert_int_equal(sigil_json_type_of(&g_doc, 1), SIGIL_JSON_TRUE);
    assert_int_equal(sigil_json_type_of(&g_doc, 2), SIGIL_JSON_FALSE);
    assert_int_equal(sigil_json_type_of(&g_doc, 3), SIGIL_JSON_NULL);
    assert_int_equal(sigil_json_type_of(&g_doc, 4), SIGIL_JSON_NUMBER);
    assert_int_equal(sigil_json_type_of(&g_doc, 9), SIGIL_JSON_STRING);
    assert_int_equal(sigil_json_type_of(&g_doc, 10), SIGIL_JSON_OBJECT);
    assert_int_equal(sigil_json_type_of(&g_doc, 11), SIGIL_JSON_ARRAY);
    ACCEPT("[0]");
    ACCEPT("[\"\"]");
    ACCEPT("{}");
}

static void test_refuses_a_scalar_at_the_top_level(void **state)
{
    (void)state;
    REFUSE("0", SIGIL_E_BAD_JSON);
    REFUSE("\"a\"", SIGIL_E_BAD_JSON);
    REFUSE("null", SIGIL_E_BAD_JSON);
    REFUSE("true ", SIGIL_E_BAD_JSON);
}

static void test_accepts_only_rfc8259_whitespace(void **state)
{
    (void)state;
    ACCEPT(" \t\r\n{ \"a\" :\t[ 1 ,\n2 ] }\r\n ");
    REFUSE("\f[]", SIGIL_E_BAD_JSON);
    REFUSE("[1,\v2]", SIGIL_E_BAD_JSON);
    REFUSE("[\xc2\xa0]", SIGIL_E_BAD_JSON);     /* U+00A0 no-break space */
    REFUSE("\xef\xbb\xbf{}", SIGIL_E_BAD_JSON); /* byte order mark */
}

/* ---- strings ---- */
static void test_refuses_unescaped_control_characters(void **state)
{
    (void)state;
    REFUSE("\"a\x01z\"", SIGIL_E_BAD_JSON);
    REFUSE("\"tab\there\"", SIGIL_E_BAD_JSON);
    REFUSE("\"line\nbreak\"", SIGIL_E_BAD_JSON);
    REFUSE("\"cr\r\"", SIGIL_E_BAD_JSON);
    REFUSE("{\"k\x1f\":1}", SIGIL_E_BAD_JSON);
}

static void test_refuses_invalid_escapes(void **state)
{
    (void)state;
    REFUSE("\"\\x41\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\u12\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\u12G4\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\U0041\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\'\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\a\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\0\"", SIGIL_E_BAD_JSON);
    REFUSE("\"abc\\\"", SIGIL_E_BAD_JSON);
}

static void test_refuses_lone_surrogates(void **state)
{
    (void)state;
    REFUSE("\"\\ud800\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\udc00\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\uDBFF\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\ud800x\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\ud800\\u0041\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\ud800\\ud800\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\\udc00\\ud800\"", SIGIL_E_BAD_JSON); /* pair in the wrong order */
    REFUSE("{\"\\ud83d\":1}", SIGIL_E_BAD_JSON);
}

static void test_accepts_surrogate_pairs(void **state)
{
    uint8_t mem[16];
    sigil_buf b;
    (void)state;
    ACCEPT("[\"\\ud83d\\ude00\"]");
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_json_str(&g_doc, 1, &b), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(mem, "\xf0\x9f\x98\x80", 4);

    ACCEPT("[\"\\uDBFF\\uDFFF\"]"); /* U+10FFFF, the last code point */
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_json_str(&g_doc, 1, &b), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(mem, "\xf4\x8f\xbf\xbf", 4);
}

static void test_refuses_invalid_utf8(void **state)
{
    (void)state;
    REFUSE("\"\xc0\x80\"", SIGIL_E_BAD_JSON);         /* overlong NUL */
    REFUSE("\"\xc1\xbf\"", SIGIL_E_BAD_JSON);         /* overlong ASCII */
    REFUSE("\"\xe0\x80\xaf\"", SIGIL_E_BAD_JSON);     /* overlong '/' */
    REFUSE("\"\xf0\x80\x80\x80\"", SIGIL_E_BAD_JSON); /* overlong 4-byte */
    REFUSE("\"\xed\xa0\x80\"", SIGIL_E_BAD_JSON);     /* UTF-16 surrogate D800 */
    REFUSE("\"\xed\xbf\xbf\"", SIGIL_E_BAD_JSON);     /* surrogate DFFF */
    REFUSE("\"\xf4\x90\x80\x80\"", SIGIL_E_BAD_JSON); /* U+110000 */
    REFUSE("\"\xf5\x80\x80\x80\"", SIGIL_E_BAD_JSON);
    REFUSE("\"\xe2\x82\"", SIGIL_E_BAD_JSON);     /* truncated */
    REFUSE("\"\xf0\x9f\x98\"", SIGIL_E_BAD_JSON); /* truncated */
    REFUSE("\"\x80\"", SIGIL_E_BAD_JSON);         /* lone continuation */
    REFUSE("\"\xc3\x28\"", SIGIL_E_BAD_JSON);     /* bad continuation */
    REFUSE("\"\xff\"", SIGIL_E_BAD_JSON);
    REFUSE("{\"\xed\xa0\x80\":1}", SIGIL_E_BAD_JSON); /* in a key too */
}

static void test_accepts_valid_utf8(void **state)
{
    (void)state;
    ACCEPT("[\"\xc2\x80\xdf\xbf\"]");
    ACCEPT("[\"\xe0\xa0\x80\xef\xbf\xbf\xe2\x82\xac\"]");
    ACCEPT("[\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]");
    ACCEPT("{\"\xc3\xa9\":\"\xf0\x9f\x98\x80\"}");
}

static void test_refuses_nul_bytes(void **state)
{
    (void)state;
    REFUSE("\"a\0b\"", SIGIL_E_BAD_JSON);
    REFUSE("[1]\0", SIGIL_E_BAD_JSON);
    REFUSE("\0", SIGIL_E_BAD_JSON);
}

static void test_unescapes_strings(void **state)
{
    uint8_t mem[64];
    sigil_buf b;
    static const char want[] = "q\"b\\s/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    (void)state;
    ACCEPT("[\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\"]");
    assert_false(sigil_json_str_is_plain(&g_doc, 1));
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_json_str(&g_doc, 1, &b), 0);
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(mem, want, sizeof(want) - 1);
    assert_true(sigil_json_str_eq(&g_doc, 1, want));
}

static void test_unescapes_u0000_as_a_nul_byte(void **state)
{
    uint8_t mem[8];
    sigil_buf b;
    (void)state;
    ACCEPT("[\"a\\u0000b\"]");
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_json_str(&g_doc, 1, &b), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(mem, "a\0b", 3);
    assert_false(sigil_json_str_eq(&g_doc, 1, "a")); /* a C string stops at the NUL */
}

static void test_str_fails_when_output_is_full(void **state)
{
    uint8_t mem[3];
    sigil_buf b;
    (void)state;
    ACCEPT("[\"abcd\"]");
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_clear_error();
    assert_int_equal(sigil_json_str(&g_doc, 1, &b), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

static void test_raw_of_a_string_keeps_escapes(void **state)
{
    (void)state;
    ACCEPT("[\"plain\",\"a\\nb\"]");
    sigil_slice s = sigil_json_raw(&g_doc, 1);
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.p, "plain", 5);
    assert_true(sigil_json_str_is_plain(&g_doc, 1));
    s = sigil_json_raw(&g_doc, 2);
    assert_int_equal(s.len, 4);
    assert_memory_equal(s.p, "a\\nb", 4);
}

/* ---- one value ---- */
static void test_refuses_two_top_level_values(void **state)
{
    (void)state;
    REFUSE("1 2", SIGIL_E_BAD_JSON);
    REFUSE("{} {}", SIGIL_E_BAD_JSON);
    REFUSE("[][]", SIGIL_E_BAD_JSON);
    REFUSE("\"a\"\"b\"", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\":1}\n{\"a\":1}", SIGIL_E_BAD_JSON);
}

static void test_refuses_trailing_garbage(void **state)
{
    (void)state;
    REFUSE("{}x", SIGIL_E_BAD_JSON);
    REFUSE("[1]]", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\":1}}", SIGIL_E_BAD_JSON);
    REFUSE("true false", SIGIL_E_BAD_JSON);
    REFUSE("1,", SIGIL_E_BAD_JSON);
}

static void test_refuses_truncated_documents(void **state)
{
    (void)state;
    REFUSE("{\"a\":1", SIGIL_E_BAD_JSON);
    REFUSE("[1,2", SIGIL_E_BAD_JSON);
    REFUSE("\"abc", SIGIL_E_BAD_JSON);
    REFUSE("{\"a\":", SIGIL_E_BAD_JSON);
    REFUSE("]", SIGIL_E_BAD_JSON);
    REFUSE("}", SIGIL_E_BAD_JSON);
}

static void test_refuses_empty_input(void **state)
{
    (void)state;
    REFUSE("", SIGIL_E_BAD_JSON);
    REFUSE("   ", SIGIL_E_BAD_JSON);
    REFUSE("\n", SIGIL_E_BAD_JSON);
}

/* ---- depth ---- */
static int parse_nested(size_t n, const char *inner)
{
    static char text[256];
    size_t k = 0, m = strlen(inner);
    assert_true(2 * n + m < sizeof(text));
    for (size_t i = 0; i < n; i++)
        text[k++] = '[';
    memcpy(text + k, inner, m);
    k += m;
    for (size_t i = 0; i < n; i++)
        text[k++] = ']';
    return parse_len(text, k);
}

static void test_accepts_32_nested_containers(void **state)
{
    (void)state;
    assert_int_equal(parse_nested(32, ""), 0);
    assert_int_equal(parse_nested(32, "1"), 0);
    assert_int_equal(parse_nested(31, "{\"a\":1}"), 0);
}

static void test_refuses_33_nested_containers(void **state)
{
    (void)state;
    assert_int_equal(parse_nested(33, ""), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(parse_nested(32, "{}"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(parse_nested(32, "{\"a\":1}"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(parse_nested(100, ""), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

/* ---- keys ---- */
static void test_refuses_duplicate_keys(void **state)
{
    (void)state;
    REFUSE("{\"a\":1,\"a\":2}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("{\"a\":1,\"b\":2,\"a\":1}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("{\"a\":null,\"a\":null}", SIGIL_E_DUPLICATE_KEY);
}

static void test_refuses_duplicate_keys_equal_once_unescaped(void **state)
{
    (void)state;
    REFUSE("{\"a\":1,\"\\u0061\":2}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("{\"\\u0061\":1,\"a\":2}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("{\"ab\":1,\"a\\u0062\":2}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("{\"a/b\":1,\"a\\/b\":2}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("{\"\xc3\xa9\":1,\"\\u00e9\":2}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", SIGIL_E_DUPLICATE_KEY);
}

static void test_refuses_duplicate_keys_after_a_nested_value(void **state)
{
    (void)state;
    REFUSE("{\"a\":1,\"b\":[1,{\"c\":2}],\"a\":3}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("{\"a\":{\"x\":{}},\"b\":{},\"a\":[]}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("{\"x\":{\"k\":1,\"k\":2}}", SIGIL_E_DUPLICATE_KEY);
    REFUSE("[{\"k\":1},{\"k\":1,\"k\":2}]", SIGIL_E_DUPLICATE_KEY);
}

static void test_accepts_keys_that_differ(void **state)
{
    (void)state;
    ACCEPT("{\"a\":1,\"A\":2}");                 /* keys are case-sensitive */
    ACCEPT("{\"a\":{\"a\":1},\"b\":{\"a\":1}}"); /* same key, different objects */
    ACCEPT("[{\"a\":1},{\"a\":1}]");
    ACCEPT("{\"a\":1,\"a\\u0000\":2,\"ab\":3,\"\":4}");
}

static void test_duplicate_key_message_names_the_key(void **state)
{
    (void)state;
    REFUSE("{\"timestamp\":1,\"timestamp\":2}", SIGIL_E_DUPLICATE_KEY);
    assert_non_null(strstr(sigil_errmsg(), "timestamp"));
}

static void test_iteration_keeps_key_order(void **state)
{
    static const char *const want[] = {"z", "a", "m", "b"};
    size_t i = 0;
    (void)state;
    ACCEPT("{\"z\":1,\"a\":{\"q\":[1,{\"r\":2}]},\"m\":[],\"b\":\"x\"}");
    for (uint32_t k = sigil_json_first(&g_doc, 0); k != 0; k = sigil_json_sibling(&g_doc, 0, k)) {
        assert_true(i < SIGIL_ARRAY_LEN(want));
        assert_true(sigil_json_str_eq(&g_doc, k, want[i]));
        i++;
    }
    assert_int_equal(i, SIGIL_ARRAY_LEN(want));
}

static void test_iterates_array_items_in_order(void **state)
{
    size_t n = 0;
    (void)state;
    ACCEPT("[3,[4,5],{\"a\":6},7]");
    uint32_t t = sigil_json_first(&g_doc, 0);
    assert_true(sigil_slice_eq(sigil_json_raw(&g_doc, t), "3"));
    for (; t != 0; t = sigil_json_sibling(&g_doc, 0, t))
        n++;
    assert_int_equal(n, 4);
    ACCEPT("[]");
    assert_int_equal(sigil_json_first(&g_doc, 0), 0);
}

static void test_get_finds_members_by_unescaped_key(void **state)
{
    (void)state;
    ACCEPT("{\"x\":{\"a\":0},\"\\u0061b\":1,\"c\":null}");
    uint32_t v = sigil_json_get(&g_doc, 0, "ab");
    assert_int_not_equal(v, 0);
    assert_true(sigil_slice_eq(sigil_json_raw(&g_doc, v), "1"));
    assert_int_equal(sigil_json_get(&g_doc, 0, "a"), 0); /* not found in a nested object */
    assert_int_not_equal(sigil_json_get(&g_doc, 0, "c"), 0);
    assert_int_equal(sigil_json_get(&g_doc, 0, "missing"), 0);
    ACCEPT("[1]");
    assert_int_equal(sigil_json_get(&g_doc, 0, "a"), 0); /* not an object */
}

static void test_get_does_not_match_a_key_with_an_embedded_nul(void **state)
{
    (void)state;
    ACCEPT("{\"a\\u0000\":1}");
    assert_int_equal(sigil_json_get(&g_doc, 0, "a"), 0);
}

/* ---- numbers ---- */
static void test_keeps_exact_number_text(void **state)
{
    (void)state;
    ACCEPT("[1.10,-0,1E+2,0.000,123456789012345678901234567890,-1.5e-7]");
    assert_true(sigil_slice_eq(sigil_json_raw(&g_doc, 1), "1.10"));
    assert_true(sigil_slice_eq(sigil_json_raw(&g_doc, 2), "-0"));
    assert_true(sigil_slice_eq(sigil_json_raw(&g_doc, 3), "1E+2"));
    assert_true(sigil_slice_eq(sigil_json_raw(&g_doc, 4), "0.000"));
    assert_true(sigil_slice_eq(sigil_json_raw(&g_doc, 5), "123456789012345678901234567890"));
    assert_true(sigil_slice_eq(sigil_json_raw(&g_doc, 6), "-1.5e-7"));
}

static void test_is_integer(void **state)
{
    (void)state;
    ACCEPT("[1,-0,1.0,1e3,1E3,\"1\"]");
    assert_true(sigil_json_is_integer(&g_doc, 1));
    assert_true(sigil_json_is_integer(&g_doc, 2));
    assert_false(sigil_json_is_integer(&g_doc, 3));
    assert_false(sigil_json_is_integer(&g_doc, 4));
    assert_false(sigil_json_is_integer(&g_doc, 5));
    assert_false(sigil_json_is_integer(&g_doc, 6));
}

/* Parses "[lit]" and reads its one item. */
static int parse_item(const char *lit)
{
    static char text[64];
    int n = snprintf(text, sizeof(text), "[%s]", lit);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    if (parse_len(text, (size_t)n) != 0)
        fail_msg("refused %s: %s", text, sigil_errmsg());
    sigil_clear_error();
    return 1;
}

static int u64_of(const char *lit, uint64_t *out)
{
    return sigil_json_tok_u64(&g_doc, (uint32_t)parse_item(lit), out, "test.n");
}

static void test_tok_u64_accepts_its_range(void **state)
{
    uint64_t v = 1;
    (void)state;
    assert_int_equal(u64_of("0", &v), 0);
    assert_true(v == 0);
    assert_int_equal(u64_of("18446744073709551615", &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(u64_of("1700000000000", &v), 0);
    assert_true(v == 1700000000000ull);
}

static void test_tok_u64_refuses_values_out_of_range(void **state)
{
    uint64_t v = 7;
    (void)state;
    assert_int_equal(u64_of("18446744073709551616", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(u64_of("99999999999999999999", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(u64_of("100000000000000000000", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(u64_of("-1", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_true(v == 7); /* untouched on failure */
    assert_non_null(strstr(sigil_errmsg(), "test.n"));
}

static void test_tok_u64_refuses_fractions_exponents_and_strings(void **state)
{
    uint64_t v;
    (void)state;
    assert_int_equal(u64_of("1.0", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(u64_of("1700000000000.5", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(u64_of("1e3", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(u64_of("1E3", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(u64_of("\"1\"", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(u64_of("true", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "test.n"));
}

static int i64_of(const char *lit, int64_t *out)
{
    return sigil_json_tok_i64(&g_doc, (uint32_t)parse_item(lit), out, "test.i");
}

static void test_tok_i64_accepts_its_range(void **state)
{
    int64_t v;
    (void)state;
    assert_int_equal(i64_of("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(i64_of("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(i64_of("-1", &v), 0);
    assert_true(v == -1);
    assert_int_equal(i64_of("-0", &v), 0);
    assert_true(v == 0);
}

static void test_tok_i64_refuses_values_out_of_range(void **state)
{
    int64_t v;
    (void)state;
    assert_int_equal(i64_of("9223372036854775808", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(i64_of("-9223372036854775809", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(i64_of("18446744073709551616", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(i64_of("1.5", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(i64_of("-1e2", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(i64_of("null", &v), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
}

/* ---- schema helpers ---- */
static const sigil_json_field FIELDS[] = {{"a", true}, {"b", false}};

static int check(const char *lit)
{
    assert_int_equal(parse_len(lit, strlen(lit)), 0);
    sigil_clear_error();
    return sigil_json_check_fields(&g_doc, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "req");
}

static void test_check_fields_accepts_known_members(void **state)
{
    (void)state;
    assert_int_equal(check("{\"a\":1,\"b\":2}"), 0);
    assert_int_equal(check("{\"b\":2,\"a\":1}"), 0);
    assert_int_equal(check("{\"a\":1}"), 0);
    assert_int_equal(check("{\"a\":1,\"b\":null}"), 0);
    assert_int_equal(check("{\"\\u0061\":1}"), 0);
}

static void test_check_fields_refuses_unknown_members(void **state)
{
    (void)state;
    assert_int_equal(check("{\"a\":1,\"nonce\":2}"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_UNKNOWN_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "req.nonce"));
    assert_int_equal(check("{\"a\":1,\"A\":2}"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_UNKNOWN_FIELD);
}

static void test_check_fields_refuses_missing_required_members(void **state)
{
    (void)state;
    assert_int_equal(check("{\"b\":1}"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_MISSING_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "req.a"));
    assert_int_equal(check("{}"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_MISSING_FIELD);
}

static void test_check_fields_treats_null_as_absent(void **state)
{
    (void)state;
    assert_int_equal(check("{\"a\":null}"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_MISSING_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "req.a"));
}

static void test_check_fields_refuses_non_objects(void **state)
{
    (void)state;
    assert_int_equal(check("[]"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "req"));
    ACCEPT("[\"a\",{}]");
    assert_int_equal(sigil_json_check_fields(&g_doc, 1, FIELDS, 2, "req"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
}

static void test_get_str_checks_type_and_presence(void **state)
{
    uint32_t t = 99;
    (void)state;
    ACCEPT("{\"s\":\"x\",\"n\":1,\"z\":null}");
    assert_int_equal(sigil_json_get_str(&g_doc, 0, "s", true, &t, "req"), 0);
    assert_true(sigil_json_str_eq(&g_doc, t, "x"));
    assert_int_equal(sigil_json_get_str(&g_doc, 0, "z", false, &t, "req"), 0);
    assert_int_equal(t, 0);
    assert_int_equal(sigil_json_get_str(&g_doc, 0, "absent", false, &t, "req"), 0);
    assert_int_equal(t, 0);
    assert_int_equal(sigil_json_get_str(&g_doc, 0, "z", true, &t, "req"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_MISSING_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "req.z"));
    assert_int_equal(sigil_json_get_str(&g_doc, 0, "n", true, &t, "req"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "req.n"));
}

static void test_get_u64_reports_presence(void **state)
{
    uint64_t v = 0;
    bool present = true;
    (void)state;
    ACCEPT("{\"t\":5,\"z\":null,\"s\":\"5\"}");
    assert_int_equal(sigil_json_get_u64(&g_doc, 0, "t", true, &v, &present, "req"), 0);
    assert_true(v == 5 && present);
    assert_int_equal(sigil_json_get_u64(&g_doc, 0, "z", false, &v, &present, "req"), 0);
    assert_false(present);
    assert_int_equal(sigil_json_get_u64(&g_doc, 0, "z", true, &v, &present, "req"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_MISSING_FIELD);
    assert_int_equal(sigil_json_get_u64(&g_doc, 0, "s", true, &v, &present, "req"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "req.s"));
}

/* ---- limits ---- */
static void test_refuses_more_tokens_than_the_caller_gave(void **state)
{
    sigil_json_tok toks[3];
    sigil_json d;
    (void)state;
    assert_int_equal(sigil_json_parse(&d, "[1,2]", 5, toks, 3), 0);
    assert_int_equal(sigil_json_parse(&d, "[1,2,3]", 7, toks, 3), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(sigil_json_parse(&d, "{\"a\":{\"b\":1}}", 13, toks, 3), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

/* "[0,0,…]" with n items is n + 1 tokens. */
static char *zeros_array(size_t n, size_t *len)
{
    char *t = malloc(2 * n + 2);
    size_t k = 0;
    assert_non_null(t);
    t[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            t[k++] = ',';
        t[k++] = '0';
    }
    t[k++] = ']';
    *len = k;
    return t;
}

static void test_refuses_more_than_8192_tokens(void **state)
{
    static sigil_json_tok toks[9000];
    sigil_json d;
    size_t len;
    (void)state;
    char *t = zeros_array(8191, &len);
    assert_int_equal(sigil_json_parse(&d, t, len, toks, 9000), 0);
    free(t);
    t = zeros_array(8192, &len);
    sigil_clear_error();
    assert_int_equal(sigil_json_parse(&d, t, len, toks, 9000), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    free(t);
}

static char *object_with_members(size_t n, size_t *len)
{
    char *t = malloc(12 * n + 2);
    size_t k = 0;
    assert_non_null(t);
    t[k++] = '{';
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(t + k, "%s\"k%05zu\":0", i > 0 ? "," : "", i);
    t[k++] = '}';
    *len = k;
    return t;
}

static void test_refuses_objects_with_more_than_1024_members(void **state)
{
    static sigil_json_tok toks[4096];
    sigil_json d;
    size_t len;
    (void)state;
    char *t = object_with_members(1024, &len);
    assert_int_equal(sigil_json_parse(&d, t, len, toks, 4096), 0);
    free(t);
    t = object_with_members(1025, &len);
    sigil_clear_error();
    assert_int_equal(sigil_json_parse(&d, t, len, toks, 4096), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    free(t);
}

static void test_refuses_text_over_one_mebibyte(void **state)
{
    const size_t limit = (size_t)1 << 20;
    char *t = malloc(limit + 1);
    sigil_json_tok toks[2];
    sigil_json d;
    (void)state;
    assert_non_null(t);
    memset(t, 'a', limit + 1);
    memcpy(t, "[\"", 2);
    memcpy(t + limit - 2, "\"]", 2); /* a document of exactly the limit */
    assert_int_equal(sigil_json_parse(&d, t, limit, toks, 2), 0);
    memcpy(t + limit - 2, "a\"]", 3); /* one byte more */
    sigil_clear_error();
    assert_int_equal(sigil_json_parse(&d, t, limit + 1, toks, 2), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    free(t);
}

static int group_setup(void **state)
{
    (void)state;
    return sigil_init() == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuses_trailing_commas),
        cmocka_unit_test(test_refuses_missing_commas),
        cmocka_unit_test(test_refuses_missing_or_misplaced_colons),
        cmocka_unit_test(test_refuses_non_string_keys),
        cmocka_unit_test(test_refuses_single_quotes),
        cmocka_unit_test(test_refuses_leading_zeros),
        cmocka_unit_test(test_refuses_plus_sign),
        cmocka_unit_test(test_refuses_bare_fraction_and_trailing_dot),
        cmocka_unit_test(test_refuses_incomplete_exponent),
        cmocka_unit_test(test_refuses_other_number_forms),
        cmocka_unit_test(test_refuses_nan_and_infinity),
        cmocka_unit_test(test_refuses_bare_and_misspelt_words),
        cmocka_unit_test(test_accepts_every_value_kind),
        cmocka_unit_test(test_refuses_a_scalar_at_the_top_level),
        cmocka_unit_test(test_accepts_only_rfc8259_whitespace),
        cmocka_unit_test(test_refuses_unescaped_control_characters),
        cmocka_unit_test(test_refuses_invalid_escapes),
        cmocka_unit_test(test_refuses_lone_surrogates),
        cmocka_unit_test(test_accepts_surrogate_pairs),
        cmocka_unit_test(test_refuses_invalid_utf8),
        cmocka_unit_test(test_accepts_valid_utf8),
        cmocka_unit_test(test_refuses_nul_bytes),
        cmocka_unit_test(test_unescapes_strings),
        cmocka_unit_test(test_unescapes_u0000_as_a_nul_byte),
        cmocka_unit_test(test_str_fails_when_output_is_full),
        cmocka_unit_test(test_raw_of_a_string_keeps_escapes),
        cmocka_unit_test(test_refuses_two_top_level_values),
        cmocka_unit_test(test_refuses_trailing_garbage),
        cmocka_unit_test(test_refuses_truncated_documents),
        cmocka_unit_test(test_refuses_empty_input),
        cmocka_unit_test(test_accepts_32_nested_containers),
        cmocka_unit_test(test_refuses_33_nested_containers),
        cmocka_unit_test(test_refuses_duplicate_keys),
        cmocka_unit_test(test_refuses_duplicate_keys_equal_once_unescaped),
        cmocka_unit_test(test_refuses_duplicate_keys_after_a_nested_value),
        cmocka_unit_test(test_accepts_keys_that_differ),
        cmocka_unit_test(test_duplicate_key_message_names_the_key),
        cmocka_unit_test(test_iteration_keeps_key_order),
        cmocka_unit_test(test_iterates_array_items_in_order),
        cmocka_unit_test(test_get_finds_members_by_unescaped_key),
        cmocka_unit_test(test_get_does_not_match_a_key_with_an_embedded_nul),
        cmocka_unit_test(test_keeps_exact_number_text),
        cmocka_unit_test(test_is_integer),
        cmocka_unit_test(test_tok_u64_accepts_its_range),
        cmocka_unit_test(test_tok_u64_refuses_values_out_of_range),
        cmocka_unit_test(test_tok_u64_refuses_fractions_exponents_and_strings),
        cmocka_unit_test(test_tok_i64_accepts_its_range),
        cmocka_unit_test(test_tok_i64_refuses_values_out_of_range),
        cmocka_unit_test(test_check_fields_accepts_known_members),
        cmocka_unit_test(test_check_fields_refuses_unknown_members),
        cmocka_unit_test(test_check_fields_refuses_missing_required_members),
        cmocka_unit_test(test_check_fields_treats_null_as_absent),
        cmocka_unit_test(test_check_fields_refuses_non_objects),
        cmocka_unit_test(test_get_str_checks_type_and_presence),
        cmocka_unit_test(test_get_u64_reports_presence),
        cmocka_unit_test(test_refuses_more_tokens_than_the_caller_gave),
        cmocka_unit_test(test_refuses_more_than_8192_tokens),
        cmocka_unit_test(test_refuses_objects_with_more_than_1024_members),
        cmocka_unit_test(test_refuses_text_over_one_mebibyte),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
