/*
 * Unit tests for full RFC 8785 numbers (sigil_json_canonicalize_any), the
 * request hash and the client signature message (src/policy/canonical.c,
 * client_sig.c). Expected strings are RFC 8785 Appendix B and the
 * json-canonicalization test data (testdata/output/values.json), checked
 * against ECMAScript's own String(Number) when these cases were written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/policy.h"

static char g_out[4096];

static int canon_any(const char *in, size_t len, size_t *out_len)
{
    sigil_buf b;
    sigil_clear_error();
    sigil_buf_init(&b, g_out, sizeof(g_out) - 1);
    int rc = sigil_json_canonicalize_any(&b, in, len);
    g_out[b.len] = '\0';
    *out_len = b.len;
    return rc;
}

/* "[<number text>]" canonicalises to "[<want>]". */
static void number_eq(const char *text, const char *want)
{
    char in[128], expect[128];
    size_t n;
    snprintf(in, sizeof(in), "[%s]", text);
    snprintf(expect, sizeof(expect), "[%s]", want);
    if (canon_any(in, strlen(in), &n) != 0)
        fail_msg("refused %s: %s", in, sigil_errmsg());
    if (n != strlen(expect) || memcmp(g_out, expect, n) != 0)
        fail_msg("%s: got %s, want %s", text, g_out, expect);
}

/* RFC 8785 Appendix B: IEEE-754 bit patterns and their serialisation. The
 * input text is printf's 17-digit form, so parsing is exercised too. */
static const struct {
    uint64_t bits;
    const char *want;
} APPENDIX_B[] = {
    {0x0000000000000000ull, "0"},
    {0x8000000000000000ull, "0"}, /* minus zero */
    {0x0000000000000001ull, "5e-324"},
    {0x8000000000000001ull, "-5e-324"},
    {0x7fefffffffffffffull, "1.7976931348623157e+308"},
    {0xffefffffffffffffull, "-1.7976931348623157e+308"},
    {0x4340000000000000ull, "9007199254740992"},
    {0xc340000000000000ull, "-9007199254740992"},
    {0x4430000000000000ull, "295147905179352830000"},
    {0x44b52d02c7e14af5ull, "9.999999999999997e+22"},
    {0x44b52d02c7e14af6ull, "1e+23"},
    {0x44b52d02c7e14af7ull, "1.0000000000000001e+23"},
    {0x444b1ae4d6e2ef4eull, "999999999999999700000"},
    {0x444b1ae4d6e2ef4full, "999999999999999900000"},
    {0x444b1ae4d6e2ef50ull, "1e+21"},
    {0x3eb0c6f7a0b5ed8cull, "9.999999999999997e-7"},
    {0x3eb0c6f7a0b5ed8dull, "0.000001"},
    {0x41b3de4355555553ull, "333333333.3333332"},
    {0x41b3de4355555554ull, "333333333.33333325"},
    {0x41b3de4355555555ull, "333333333.3333333"},
    {0x41b3de4355555556ull, "333333333.3333334"},
    {0x41b3de4355555557ull, "333333333.33333343"},
    {0xbecbf647612f3696ull, "-0.0000033333333333333333"},
    {0x43143ff3c1cb0959ull, "1424953923781206.2"}, /* a tie: the even digit */
};

static void test_appendix_b(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(APPENDIX_B) / sizeof(APPENDIX_B[0]); i++) {
        double v;
        char text[64];
        memcpy(&v, &APPENDIX_B[i].bits, sizeof(v));
        snprintf(text, sizeof(text), "%.17g", v);
        number_eq(text, APPENDIX_B[i].want);
    }
}

/* Number texts as a JSON producer might write them. */
static void test_number_texts(void **state)
{
    static const char *const CASES[][2] = {
        {"1e21", "1e+21"},
        {"1e20", "100000000000000000000"},
        {"1e-7", "1e-7"},
        {"1e-6", "0.000001"},
        {"0.000001", "0.000001"},
        {"2.5e-6", "0.0000025"},
        {"123456789012345678901", "123456789012345680000"},
        {"12345678901234567890", "12345678901234567000"},
        {"5e-324", "5e-324"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"},
        {"-0", "0"},
        {"-0.0", "0"},
        {"0e10", "0"},
        {"1e-400", "0"}, /* underflows to zero, as JSON.parse */
        {"-1e-400", "0"},
        {"333333333.33333329", "333333333.3333333"},
        {"4.50", "4.5"},
        {"2e-3", "0.002"},
        {"1e30", "1e+30"},
        {"1E+2", "100"},
        {"1.0", "1"},
        {"100", "100"},
        {"-42", "-42"},
        {"9007199254740993", "9007199254740992"},
        {"0.1", "0.1"},
        {"-1.5e-9", "-1.5e-9"},
        {"0.000000000000000000000000001", "1e-27"},
        {"123.456e3", "123456"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++)
        number_eq(CASES[i][0], CASES[i][1]);
}

/* Every power of two has a narrower rounding interval below it than above:
 * the serialisation must read back as the same double for all of them. */
static void test_round_trip_powers_of_two(void **state)
{
    (void)state;
    for (int e = -1074; e <= 1023; e++) {
        char text[64];
        size_t n;
        double v = ldexp(1.0, e);
        snprintf(text, sizeof(text), "[%.17g]", v);
        if (canon_any(text, strlen(text), &n) != 0)
            fail_msg("2^%d refused: %s", e, sigil_errmsg());
        g_out[n - 1] = '\0';
        assert_true(strtod(g_out + 1, NULL) == v);
        assert_true(n - 2 <= 24); /* shortest: never more than 17 digits plus layout */
    }
}

/* testdata/input/values.json -> testdata/output/values.json. */
static void test_values_document(void **state)
{
    static const char IN[] =
        "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
        "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
        "  \"literals\": [null, true, false]\n}";
    static const char WANT[] = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,"
                               "1e+30,4.5,0.002,1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\""
                               "\\\\\\\\\\\"/\"}";
    size_t n;
    (void)state;
    if (canon_any(IN, sizeof(IN) - 1, &n) != 0)
        fail_msg("refused: %s", sigil_errmsg());
    assert_int_equal(n, sizeof(WANT) - 1);
    assert_memory_equal(g_out, WANT, n);
}

static void test_refused(void **state)
{
    size_t n;
    (void)state;
    assert_int_equal(canon_any("[1e400]", 7, &n), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(n, 0);
    assert_int_equal(canon_any("[-1e309]", 8, &n), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(canon_any("[01]", 4, &n), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_JSON);
    assert_int_equal(canon_any("[1.]", 4, &n), -1);
    assert_int_equal(canon_any("[NaN]", 5, &n), -1);
    /* A number text longer than any double needs is refused, not truncated. */
    static char big[1100];
    big[0] = '[';
    big[1] = '1';
    memset(big + 2, '0', 1050);
    big[1052] = ']';
    assert_int_equal(canon_any(big, 1053, &n), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    /* Long but acceptable: 300 digits. */
    big[301] = ']';
    assert_int_equal(canon_any(big, 302, &n), 0);
    assert_string_equal(g_out, "[1e+299]");
}

/* The integer-only canonicaliser keeps refusing fractions and exponents. */
static void test_integer_mode_unchanged(void **state)
{
    static const char *const REFUSED[] = {"[1.5]", "[1e2]", "[4.50]", "[1E30]", "[0.0]"};
    char out[64];
    sigil_buf b;
    (void)state;
    for (size_t i = 0; i < sizeof(REFUSED) / sizeof(REFUSED[0]); i++) {
        sigil_buf_init(&b, out, sizeof(out));
        assert_int_equal(sigil_json_canonicalize(&b, REFUSED[i], strlen(REFUSED[i])), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
        assert_int_equal(b.len, 0);
    }
    sigil_buf_init(&b, out, sizeof(out));
    assert_int_equal(sigil_json_canonicalize(&b, "[9007199254740992]", 18), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    static const char MIXED[] = "{\"b\":-0,\"a\":-9007199254740991}";
    sigil_buf_init(&b, out, sizeof(out));
    assert_int_equal(sigil_json_canonicalize(&b, MIXED, sizeof(MIXED) - 1), 0);
    assert_int_equal(b.len, 29);
    assert_memory_equal(out, "{\"a\":-9007199254740991,\"b\":0}", 29);
    /* The same text through the full canonicaliser: the same bytes. */
    sigil_buf_init(&b, out, sizeof(out));
    assert_int_equal(sigil_json_canonicalize_any(&b, MIXED, sizeof(MIXED) - 1), 0);
    assert_memory_equal(out, "{\"a\":-9007199254740991,\"b\":0}", 29);
}

static void hex32(uint8_t out[32], const char *hex)
{
    assert_int_equal(sigil_hex_decode_exact(out, 32, hex, 64, false, "test"), 0);
}

/* SHA-256('{"a":[100,0.002,1e+30],"b":1.5,"c":"x"}') (Python hashlib). */
static void test_request_hash(void **state)
{
    static const char REQ[] = "{ \"c\": \"x\", \"b\": 1.50, \"a\": [1e2, 2e-3, 1E30] }";
    uint8_t h[32], want[32];
    (void)state;
    hex32(want, "df70452f67ef62bc6239d1d2e675e73e976c2295cac7bd6b56852b1d3fa0c377");
    assert_int_equal(sigil_request_hash(h, REQ, sizeof(REQ) - 1), 0);
    assert_memory_equal(h, want, 32);
    assert_int_equal(sigil_request_hash(h, "{\"a\":1e999}", 11), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(sigil_request_hash(h, "{\"a\":1,\"a\":2}", 13), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_DUPLICATE_KEY);
}

static void test_client_message(void **state)
{
    static const char KEY_ID[] = "00112233445566778899aabbccddeeff";
    static const char NONCE[] = "nonce_0123-ABCxyz";
    uint8_t hash[32], mem[256];
    sigil_buf b;
    (void)state;
    for (int i = 0; i < 32; i++)
        hash[i] = (uint8_t)(0xa0 + i);
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(
        sigil_client_message(&b, KEY_ID, hash, 0x0102030405060708ull, NONCE, sizeof(NONCE) - 1), 0);
    assert_int_equal(b.len, 17 + 4 + 32 + 32 + 8 + 4 + 17);
    assert_memory_equal(mem, "sigil-request-v1\0", 17);
    assert_memory_equal(mem + 17, "\x00\x00\x00\x20", 4);
    assert_memory_equal(mem + 21, KEY_ID, 32);
    assert_memory_equal(mem + 53, hash, 32);
    assert_memory_equal(mem + 85, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_memory_equal(mem + 93, "\x00\x00\x00\x11", 4);
    assert_memory_equal(mem + 97, NONCE, 17);

    static const char *const BAD_NONCES[] = {
        "short_nonce_15c",                                                   /* 15 */
        "01234567890123456789012345678901234567890123456789012345678901234", /* 65 */
        "nonce with space!",
        "nonce/0123456789",
        "nonce.0123456789",
        "n\xc3\xa9once0123456789",
    };
    for (size_t i = 0; i < sizeof(BAD_NONCES) / sizeof(BAD_NONCES[0]); i++) {
        sigil_buf_init(&b, mem, sizeof(mem));
        assert_int_equal(
            sigil_client_message(&b, KEY_ID, hash, 1, BAD_NONCES[i], strlen(BAD_NONCES[i])), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
        assert_int_equal(b.len, 0);
    }
    /* 16 and 64 characters are the bounds. */
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_client_message(&b, KEY_ID, hash, 1, "0123456789abcdef", 16), 0);
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_client_message(&b, KEY_ID, hash, 1,
                                          "0123456789012345678901234567890123456789012345678901"
                                          "234567890123",
                                          64),
                     0);
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_client_message(&b, "00112233", hash, 1, NONCE, sizeof(NONCE) - 1), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    /* Too small an output buffer: nothing written. */
    sigil_buf_init(&b, mem, 100);
    assert_int_equal(sigil_client_message(&b, KEY_ID, hash, 1, NONCE, sizeof(NONCE) - 1), -1);
    assert_int_equal(b.len, 0);
}

/* The short-number fast path (at most 15 significant digits) agrees with the
 * exact search: each random double is written with 1..15 digits in the
 * exponent and the plain layouts, and that value's 17-digit text (which
 * takes the search) must canonicalise to the same string. Fixed seed. */
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static void agree(const char *text)
{
    char slow[64], want[128];
    size_t n;
    double v = strtod(text, NULL);
    snprintf(slow, sizeof(slow), "[%.17e]", v);
    if (canon_any(slow, strlen(slow), &n) != 0)
        fail_msg("refused %s: %s", slow, sigil_errmsg());
    snprintf(want, sizeof(want), "%.*s", (int)(n - 2), g_out + 1);
    number_eq(text, want);
}

static void test_fast_path_agrees(void **state)
{
    (void)state;
    char text[96];
    for (int i = 0; i < 4000; i++) {
        double v;
        uint64_t bits = next_rand();
        /* exponents 2^-700 .. 2^700: inside and around the fast path's range */
        bits = (bits & 0x800fffffffffffffull) | ((uint64_t)(323 + next_rand() % 1400) << 52);
        memcpy(&v, &bits, sizeof(v));
        int digits = 1 + (int)(next_rand() % 15);
        snprintf(text, sizeof(text), "%.*e", digits - 1, v);
        agree(text);
        snprintf(text, sizeof(text), "%.*E", digits - 1, v);
        agree(text);
        if (fabs(v) < 1e15 && fabs(v) > 1e-8) {
            snprintf(text, sizeof(text), "%.*g", digits, v);
            if (strchr(text, 'e') == NULL)
                agree(text);
        }
    }
    /* Integers as requests carry them (nonces, timestamps, asset ids). */
    static const char *const INTS[] = {
        "1",  "-7", "1700000000000", "999999999999999", "100000000000000", "-123456789012345",
        "10", "120"};
    for (size_t i = 0; i < sizeof(INTS) / sizeof(INTS[0]); i++)
        number_eq(INTS[i], INTS[i]);
    number_eq("1.500", "1.5");
    number_eq("0.000120", "0.00012");
    number_eq("0.0000001", "1e-7");
    number_eq("123e18", "123000000000000000000");
    number_eq("123e19", "1.23e+21");
    number_eq("-0.0", "0");
    number_eq("5E-0290", "5e-290");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendix_b),
        cmocka_unit_test(test_fast_path_agrees),
        cmocka_unit_test(test_number_texts),
        cmocka_unit_test(test_round_trip_powers_of_two),
        cmocka_unit_test(test_values_document),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_integer_mode_unchanged),
        cmocka_unit_test(test_request_hash),
        cmocka_unit_test(test_client_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
