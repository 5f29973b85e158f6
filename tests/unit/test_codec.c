/*
 * Unit tests for the small codecs (hex, base64, UTF-8, percent-encoding), the
 * JSON writer, and the bounded buffers and cursors they all write through
 * (src/codec/, src/common/buf.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sigil/codec.h"

/* ---- bounded buffers ---- */
static void test_buf_put_fills_to_capacity(void **state)
{
    uint8_t mem[4];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_buf_put(&b, "ab", 2), 0);
    assert_int_equal(sigil_buf_put(&b, "cd", 2), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(mem, "abcd", 4);
    assert_int_equal(sigil_buf_put(&b, "", 0), 0); /* nothing more still fits */
}

static void test_buf_put_past_capacity_fails_and_leaves_len(void **state)
{
    uint8_t mem[4] = {'x', 'x', 'x', 'x'};
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_buf_put(&b, "abc", 3), 0);
    sigil_clear_error();
    assert_int_equal(sigil_buf_put(&b, "de", 2), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(b.len, 3);
    assert_int_equal(mem[3], 'x'); /* nothing written */
    assert_int_equal(sigil_buf_puts(&b, "de"), -1);
    assert_int_equal(b.len, 3);
    assert_int_equal(sigil_buf_putc(&b, 'd'), 0);
    assert_int_equal(sigil_buf_putc(&b, 'e'), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(b.len, 4);
}

static void test_buf_put_u64_writes_decimal(void **state)
{
    char mem[32];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_buf_put_u64(&b, 0), 0);
    assert_int_equal(sigil_buf_putc(&b, ' '), 0);
    assert_int_equal(sigil_buf_put_u64(&b, UINT64_MAX), 0);
    assert_int_equal(sigil_buf_cstr(&b), 0);
    assert_string_equal(mem, "0 18446744073709551615");
}

static void test_buf_put_u64_past_capacity_leaves_len(void **state)
{
    char mem[5];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_buf_put(&b, "x", 1), 0);
    sigil_clear_error();
    assert_int_equal(sigil_buf_put_u64(&b, 12345), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(b.len, 1);
    assert_int_equal(sigil_buf_put_u64(&b, 1234), 0);
    assert_int_equal(b.len, 5);
}

static void test_buf_put_hex_past_capacity_leaves_len(void **state)
{
    char mem[5];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_buf_put_hex(&b, (const uint8_t *)"\xab\x01", 2), 0);
    assert_memory_equal(mem, "ab01", 4);
    sigil_clear_error();
    assert_int_equal(sigil_buf_put_hex(&b, (const uint8_t *)"\xff", 1), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(b.len, 4);
}

static void test_buf_cstr_needs_room_for_the_nul(void **state)
{
    char mem[3];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_buf_put(&b, "ab", 2), 0);
    assert_int_equal(sigil_buf_cstr(&b), 0);
    assert_int_equal(b.len, 2); /* the NUL is not counted */
    assert_string_equal(mem, "ab");
    assert_int_equal(sigil_buf_putc(&b, 'c'), 0);
    sigil_clear_error();
    assert_int_equal(sigil_buf_cstr(&b), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(b.len, 3);
}

static void test_slice_eq(void **state)
{
    sigil_slice s = {"abc", 2};
    (void)state;
    assert_true(sigil_slice_eq(s, "ab"));
    assert_false(sigil_slice_eq(s, "abc"));
    assert_false(sigil_slice_eq(s, "a"));
    assert_false(sigil_slice_eq(s, "ax"));
}

/* ---- cursors ---- */
static void test_cursor_reads_big_endian(void **state)
{
    static const uint8_t in[] = {1, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 1, 2};
    sigil_cursor c;
    uint8_t u8;
    uint32_t u32;
    uint64_t u64;
    (void)state;
    sigil_cursor_init(&c, in, sizeof(in));
    assert_int_equal(sigil_cursor_read_u8(&c, &u8), 0);
    assert_int_equal(u8, 1);
    assert_int_equal(sigil_cursor_read_be32(&c, &u32), 0);
    assert_int_equal(u32, 0x12345678);
    assert_int_equal(sigil_cursor_read_be64(&c, &u64), 0);
    assert_true(u64 == 0x0000000000000102ull);
    assert_int_equal(sigil_cursor_remaining(&c), 0);
}

static void test_cursor_read_past_end_fails_atomically(void **state)
{
    static const uint8_t in[] = {1, 2, 3};
    sigil_cursor c;
    uint8_t out[4] = {9, 9, 9, 9};
    uint32_t u32 = 7;
    (void)state;
    sigil_cursor_init(&c, in, sizeof(in));
    assert_int_equal(sigil_cursor_read(&c, out, 4), -1);
    assert_int_equal(sigil_cursor_remaining(&c), 3);
    assert_int_equal(out[0], 9);
    assert_int_equal(sigil_cursor_read_be32(&c, &u32), -1);
    assert_int_equal(sigil_cursor_remaining(&c), 3);
    assert_int_equal(u32, 7);
    assert_int_equal(sigil_cursor_read(&c, out, 3), 0);
    assert_int_equal(sigil_cursor_read_u8(&c, out), -1);
    assert_int_equal(sigil_cursor_remaining(&c), 0);
}

/* With 4 to 7 bytes left, the first half of a be64 would fit. */
static void test_cursor_read_be64_past_end_consumes_nothing(void **state)
{
    static const uint8_t in[] = {1, 2, 3, 4, 5, 6};
    sigil_cursor c;
    uint64_t u64 = 7;
    (void)state;
    sigil_cursor_init(&c, in, sizeof(in));
    assert_int_equal(sigil_cursor_read_be64(&c, &u64), -1);
    assert_int_equal(sigil_cursor_remaining(&c), 6);
    assert_true(u64 == 7);
}

/* ---- hex ---- */
static void test_hex_encode_is_lowercase_and_terminated(void **state)
{
    char out[9];
    (void)state;
    memset(out, 'x', sizeof(out));
    sigil_hex_encode(out, (const uint8_t *)"\x00\xab\xCD\xff", 4);
    assert_string_equal(out, "00abcdff");
    sigil_hex_encode(out, NULL, 0);
    assert_string_equal(out, "");
}

static void test_hex_decode_accepts_both_cases_and_optional_0x(void **state)
{
    uint8_t out[4];
    size_t n = 0;
    (void)state;
    assert_int_equal(sigil_hex_decode(out, sizeof(out), &n, "00aBcDfF", 8, false, "f"), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "\x00\xab\xcd\xff", 4);
    assert_int_equal(sigil_hex_decode(out, sizeof(out), &n, "0x01", 4, true, "f"), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 1);
    assert_int_equal(sigil_hex_decode(out, sizeof(out), &n, "0X02", 4, true, "f"), 0);
    assert_int_equal(out[0], 2);
    assert_int_equal(sigil_hex_decode(out, sizeof(out), &n, "", 0, false, "f"), 0);
    assert_int_equal(n, 0);
}

static void test_hex_decode_refuses_0x_unless_allowed(void **state)
{
    uint8_t out[4];
    size_t n;
    (void)state;
    sigil_clear_error();
    assert_int_equal(sigil_hex_decode(out, sizeof(out), &n, "0x01", 4, false, "f"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
}

static void test_hex_decode_refuses_malformed_text(void **state)
{
    static const char *const bad[] = {"0", "abc", "zz", "0g", " 01", "01 ", "0 1", "+1", "0x0x"};
    uint8_t out[8];
    size_t n;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(bad); i++) {
        sigil_clear_error();
        if (sigil_hex_decode(out, sizeof(out), &n, bad[i], strlen(bad[i]), false, "field.x") == 0)
            fail_msg("accepted hex \"%s\"", bad[i]);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
        assert_non_null(strstr(sigil_errmsg(), "field.x"));
    }
}

static void test_hex_decode_refuses_output_over_capacity(void **state)
{
    uint8_t out[2];
    size_t n;
    (void)state;
    sigil_clear_error();
    assert_int_equal(sigil_hex_decode(out, sizeof(out), &n, "010203", 6, false, "f"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

static void test_hex_decode_exact_checks_length(void **state)
{
    uint8_t out[2];
    (void)state;
    assert_int_equal(sigil_hex_decode_exact(out, 2, "0x0102", 6, true, "k"), 0);
    assert_memory_equal(out, "\x01\x02", 2);
    assert_int_equal(sigil_hex_decode_exact(out, 2, "a1b2", 4, false, "k"), 0);
    sigil_clear_error();
    assert_int_equal(sigil_hex_decode_exact(out, 2, "010", 3, false, "k"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(sigil_hex_decode_exact(out, 2, "010203", 6, false, "k"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(sigil_hex_decode_exact(out, 2, "0x0102", 6, false, "k"), -1);
    assert_int_equal(sigil_hex_decode_exact(out, 2, "01zz", 4, false, "k"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
}

/* ---- base64 ---- */
static void test_b64_encodes_rfc4648_vectors(void **state)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                       "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char mem[32];
    sigil_buf b;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(in); i++) {
        sigil_buf_init(&b, mem, sizeof(mem));
        assert_int_equal(sigil_b64_put(&b, (const uint8_t *)in[i], strlen(in[i]), SIGIL_B64_STD),
                         0);
        assert_int_equal(b.len, strlen(want[i]));
        assert_memory_equal(mem, want[i], b.len);
        assert_int_equal(b.len, SIGIL_B64_LEN(strlen(in[i])));
    }
}

static void test_b64_url_variant_has_no_padding(void **state)
{
    char mem[16];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_b64_put(&b, (const uint8_t *)"\xfb\xff", 2, SIGIL_B64_URL_NP), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(mem, "-_8", 3);
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_b64_put(&b, (const uint8_t *)"\xfb\xff", 2, SIGIL_B64_STD), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(mem, "+/8=", 4);
}

static void test_b64_put_appends_after_existing_content(void **state)
{
    char mem[16];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_buf_puts(&b, "sig="), 0);
    assert_int_equal(sigil_b64_put(&b, (const uint8_t *)"foo", 3, SIGIL_B64_STD), 0);
    assert_int_equal(b.len, 8);
    assert_memory_equal(mem, "sig=Zm9v", 8);
}

static void test_b64_put_past_capacity_leaves_len(void **state)
{
    char mem[6];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_buf_puts(&b, "ab"), 0);
    sigil_clear_error();
    assert_int_equal(sigil_b64_put(&b, (const uint8_t *)"foob", 4, SIGIL_B64_STD), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(b.len, 2);
}

/* The encoding fits exactly: no byte is needed beyond it. */
static void test_b64_put_fills_buffer_exactly(void **state)
{
    char mem[4];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_clear_error();
    if (sigil_b64_put(&b, (const uint8_t *)"foo", 3, SIGIL_B64_STD) != 0)
        fail_msg("4 bytes of base64 refused in a 4-byte buffer: %s", sigil_errmsg());
    assert_int_equal(b.len, 4);
    assert_memory_equal(mem, "Zm9v", 4);
}

static void test_b64_decode_round_trips(void **state)
{
    uint8_t out[8];
    size_t n = 99;
    (void)state;
    assert_int_equal(sigil_b64_decode(out, sizeof(out), &n, "Zm9vYmE=", 8, SIGIL_B64_STD, "s"), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "fooba", 5);
    assert_int_equal(sigil_b64_decode(out, sizeof(out), &n, "-_8", 3, SIGIL_B64_URL_NP, "s"), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "\xfb\xff", 2);
    assert_int_equal(sigil_b64_decode(out, sizeof(out), &n, "", 0, SIGIL_B64_STD, "s"), 0);
    assert_int_equal(n, 0);
}

static void test_b64_decode_refuses_malformed_text(void **state)
{
    static const struct {
        const char *text;
        sigil_b64_variant v;
    } bad[] = {
        {"Zg", SIGIL_B64_STD},        /* padding missing */
        {"Zg=", SIGIL_B64_STD},       /* padding short */
        {"Zg===", SIGIL_B64_STD},     /* padding long */
        {"Zg==", SIGIL_B64_URL_NP},   /* padding where there is none */
        {"Zh==", SIGIL_B64_STD},      /* non-zero trailing bits */
        {"Zm9v!", SIGIL_B64_STD},     /* not in the alphabet */
        {"-_8=", SIGIL_B64_STD},      /* URL alphabet in the standard variant */
        {"+/8", SIGIL_B64_URL_NP},    /* standard alphabet in the URL variant */
        {"Zm9v Zm9v", SIGIL_B64_STD}, /* whitespace */
        {"Zm9v\n", SIGIL_B64_STD},    {"Z", SIGIL_B64_URL_NP}, /* impossible length */
    };
    uint8_t out[16];
    size_t n;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(bad); i++) {
        sigil_clear_error();
        if (sigil_b64_decode(out, sizeof(out), &n, bad[i].text, strlen(bad[i].text), bad[i].v,
                             "field.sig") == 0)
            fail_msg("accepted base64 \"%s\"", bad[i].text);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
        assert_non_null(strstr(sigil_errmsg(), "field.sig"));
    }
}

static void test_b64_decode_refuses_output_over_capacity(void **state)
{
    uint8_t out[5];
    size_t n;
    (void)state;
    sigil_clear_error();
    assert_int_equal(sigil_b64_decode(out, sizeof(out), &n, "Zm9vYmFy", 8, SIGIL_B64_STD, "s"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
}

/* ---- UTF-8 ---- */
#define UTF8_OK(lit) assert_true(sigil_utf8_valid((const uint8_t *)(lit), sizeof(lit) - 1))
#define UTF8_BAD(lit) assert_false(sigil_utf8_valid((const uint8_t *)(lit), sizeof(lit) - 1))

static void test_utf8_accepts_every_length_at_its_bounds(void **state)
{
    (void)state;
    UTF8_OK("");
    UTF8_OK("\x00\x7f");
    UTF8_OK("\xc2\x80");
    UTF8_OK("\xdf\xbf");
    UTF8_OK("\xe0\xa0\x80");
    UTF8_OK("\xed\x9f\xbf"); /* U+D7FF, just below the surrogates */
    UTF8_OK("\xee\x80\x80"); /* U+E000, just above */
    UTF8_OK("\xef\xbf\xbf");
    UTF8_OK("\xf0\x90\x80\x80");
    UTF8_OK("\xf4\x8f\xbf\xbf");
}

static void test_utf8_refuses_overlong_forms(void **state)
{
    (void)state;
    UTF8_BAD("\xc0\x80");
    UTF8_BAD("\xc1\xbf");
    UTF8_BAD("\xe0\x80\x80");
    UTF8_BAD("\xe0\x9f\xbf");
    UTF8_BAD("\xf0\x80\x80\x80");
    UTF8_BAD("\xf0\x8f\xbf\xbf");
}

static void test_utf8_refuses_surrogates_and_beyond_u10ffff(void **state)
{
    (void)state;
    UTF8_BAD("\xed\xa0\x80");
    UTF8_BAD("\xed\xbf\xbf");
    UTF8_BAD("\xf4\x90\x80\x80");
    UTF8_BAD("\xf5\x80\x80\x80");
    UTF8_BAD("\xf7\xbf\xbf\xbf");
    UTF8_BAD("\xf8\x88\x80\x80\x80");
    UTF8_BAD("\xfe");
    UTF8_BAD("\xff");
}

static void test_utf8_refuses_truncated_and_stray_bytes(void **state)
{
    (void)state;
    UTF8_BAD("\x80");
    UTF8_BAD("a\xbf");
    UTF8_BAD("\xc2");
    UTF8_BAD("\xe2\x82");
    UTF8_BAD("\xf0\x9f\x98");
    UTF8_BAD("\xc2\x41");
    UTF8_BAD("\xe2\x28\xa1");
}

static void test_utf8_feed_tracks_pending_bytes(void **state)
{
    sigil_utf8_state st = {0};
    (void)state;
    assert_true(sigil_utf8_feed(&st, 0xf0));
    assert_int_equal(st.need, 3);
    assert_true(sigil_utf8_feed(&st, 0x9f));
    assert_true(sigil_utf8_feed(&st, 0x98));
    assert_int_equal(st.need, 1);
    assert_true(sigil_utf8_feed(&st, 0x80));
    assert_int_equal(st.need, 0);
    assert_true(sigil_utf8_feed(&st, 'a'));
    assert_false(sigil_utf8_feed(&st, 0x80));
}

/* ---- percent-encoding ---- */
static int pct_decode(char *mem, size_t cap, const char *src, bool plus, size_t *len)
{
    sigil_buf b;
    sigil_buf_init(&b, mem, cap);
    sigil_clear_error();
    int rc = sigil_pct_decode(&b, src, strlen(src), plus, "q");
    *len = b.len;
    return rc;
}

static void test_pct_decode_decodes_both_hex_cases(void **state)
{
    char mem[32];
    size_t n;
    (void)state;
    assert_int_equal(pct_decode(mem, sizeof(mem), "a%2Fb%2fc%E2%82%ac", false, &n), 0);
    assert_int_equal(n, 8);
    assert_memory_equal(mem, "a/b/c\xe2\x82\xac", 8);
}

static void test_pct_decode_plus_is_space_only_in_form_mode(void **state)
{
    char mem[32];
    size_t n;
    (void)state;
    assert_int_equal(pct_decode(mem, sizeof(mem), "a+b%20c%2B", true, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(mem, "a b c+", 6);
    assert_int_equal(pct_decode(mem, sizeof(mem), "a+b%20c%2B", false, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(mem, "a+b c+", 6);
}

static void test_pct_decode_validates_without_output(void **state)
{
    (void)state;
    assert_int_equal(sigil_pct_decode(NULL, "a%41", 4, true, "q"), 0);
    sigil_clear_error();
    assert_int_equal(sigil_pct_decode(NULL, "a%4", 3, true, "q"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
}

static void test_pct_decode_refuses_malformed_escapes(void **state)
{
    static const char *const bad[] = {"%", "%4", "%zz", "%g0", "%0g", "a%", "%%", "% 41"};
    char mem[16];
    size_t n;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(bad); i++) {
        if (pct_decode(mem, sizeof(mem), bad[i], true, &n) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
        assert_non_null(strstr(sigil_errmsg(), "q"));
    }
}

static void test_pct_decode_refuses_decoded_bytes_that_are_not_utf8(void **state)
{
    static const char *const bad[] = {"%ff", "%c0%80", "%ed%a0%80", "%e2%82", "%80", "\xff"};
    char mem[16];
    size_t n;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(bad); i++) {
        if (pct_decode(mem, sizeof(mem), bad[i], true, &n) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
    }
}

static void test_pct_decode_fails_when_output_is_full(void **state)
{
    char mem[2];
    size_t n;
    (void)state;
    assert_int_equal(pct_decode(mem, sizeof(mem), "abc", true, &n), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

static void test_pct_encode_keeps_only_unreserved_bytes(void **state)
{
    static const char in[] = "AZaz09-_.~ /+&=%?#\xc3\xa9\x00\x7f";
    static const char want[] = "AZaz09-_.~%20%2F%2B%26%3D%25%3F%23%C3%A9%00%7F";
    char mem[64];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_pct_encode(&b, in, sizeof(in) - 1), 0);
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(mem, want, b.len);
}

static void test_pct_encode_then_decode_round_trips(void **state)
{
    static const char in[] = "symbol=\xef\xbc\x91&x y+z";
    char enc[64], dec[64];
    sigil_buf b;
    size_t n;
    (void)state;
    sigil_buf_init(&b, enc, sizeof(enc) - 1);
    assert_int_equal(sigil_pct_encode(&b, in, sizeof(in) - 1), 0);
    assert_int_equal(sigil_buf_cstr(&b), 0);
    assert_int_equal(pct_decode(dec, sizeof(dec), enc, false, &n), 0);
    assert_int_equal(n, sizeof(in) - 1);
    assert_memory_equal(dec, in, n);
}

static void test_pct_encode_fails_when_output_is_full(void **state)
{
    char mem[4];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_clear_error();
    assert_int_equal(sigil_pct_encode(&b, "a/b", 3), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

/* ---- JSON writer ---- */
static char g_out[512];
static sigil_buf g_b;
static sigil_jw g_w;

static void writer_reset(size_t cap)
{
    assert_true(cap < sizeof(g_out));
    sigil_buf_init(&g_b, g_out, cap);
    sigil_jw_init(&g_w, &g_b);
}

static void assert_written(const char *want)
{
    assert_true(g_b.len < sizeof(g_out));
    g_out[g_b.len] = '\0';
    assert_string_equal(g_out, want);
}

static void test_jw_escapes_quotes_backslashes_and_controls(void **state)
{
    static const char in[] = "q\"b\\s\x01\n\r\t\x1f\b\f/\x7f\xc3\xa9";
    (void)state;
    writer_reset(128);
    assert_int_equal(sigil_jw_strn(&g_w, in, sizeof(in) - 1), 0);
    assert_written("\"q\\\"b\\\\s\\u0001\\n\\r\\t\\u001f\\u0008\\u000c/\x7f\xc3\xa9\"");
}

static void test_jw_escapes_a_nul_byte(void **state)
{
    (void)state;
    writer_reset(64);
    assert_int_equal(sigil_jw_strn(&g_w, "a\0b", 3), 0);
    assert_written("\"a\\u0000b\"");
}

static void test_jw_escapes_keys(void **state)
{
    (void)state;
    writer_reset(64);
    assert_int_equal(sigil_jw_obj_begin(&g_w), 0);
    assert_int_equal(sigil_jw_key(&g_w, "a\"b\n"), 0);
    assert_int_equal(sigil_jw_null(&g_w), 0);
    assert_int_equal(sigil_jw_obj_end(&g_w), 0);
    assert_written("{\"a\\\"b\\n\":null}");
}

static void test_jw_writes_hex(void **state)
{
    static const uint8_t in[] = {0x00, 0x0f, 0xab, 0xff};
    (void)state;
    writer_reset(64);
    assert_int_equal(sigil_jw_arr_begin(&g_w), 0);
    assert_int_equal(sigil_jw_hex(&g_w, in, sizeof(in)), 0);
    assert_int_equal(sigil_jw_hex(&g_w, in, 0), 0);
    assert_int_equal(sigil_jw_arr_end(&g_w), 0);
    assert_written("[\"000fabff\",\"\"]");
    writer_reset(8); /* room for the opening quote and three bytes' digits, not four */
    assert_int_not_equal(sigil_jw_hex(&g_w, in, sizeof(in)), 0);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

static void test_jw_places_commas_in_nested_containers(void **state)
{
    (void)state;
    writer_reset(256);
    assert_int_equal(sigil_jw_obj_begin(&g_w), 0);
    assert_int_equal(sigil_jw_key(&g_w, "a"), 0);
    assert_int_equal(sigil_jw_arr_begin(&g_w), 0);
    assert_int_equal(sigil_jw_u64(&g_w, 1), 0);
    assert_int_equal(sigil_jw_u64(&g_w, 2), 0);
    assert_int_equal(sigil_jw_obj_begin(&g_w), 0);
    assert_int_equal(sigil_jw_key(&g_w, "b"), 0);
    assert_int_equal(sigil_jw_null(&g_w), 0);
    assert_int_equal(sigil_jw_obj_end(&g_w), 0);
    assert_int_equal(sigil_jw_arr_begin(&g_w), 0);
    assert_int_equal(sigil_jw_arr_end(&g_w), 0);
    assert_int_equal(sigil_jw_arr_end(&g_w), 0);
    assert_int_equal(sigil_jw_key(&g_w, "c"), 0);
    assert_int_equal(sigil_jw_bool(&g_w, true), 0);
    assert_int_equal(sigil_jw_key(&g_w, "d"), 0);
    assert_int_equal(sigil_jw_obj_begin(&g_w), 0);
    assert_int_equal(sigil_jw_obj_end(&g_w), 0);
    assert_int_equal(sigil_jw_key(&g_w, "e"), 0);
    assert_int_equal(sigil_jw_bool(&g_w, false), 0);
    assert_int_equal(sigil_jw_key(&g_w, "f"), 0);
    assert_int_equal(sigil_jw_str(&g_w, "x"), 0);
    assert_int_equal(sigil_jw_key(&g_w, "g"), 0);
    assert_int_equal(sigil_jw_raw(&g_w, "1.50", 4), 0);
    assert_int_equal(sigil_jw_obj_end(&g_w), 0);
    assert_written(
        "{\"a\":[1,2,{\"b\":null},[]],\"c\":true,\"d\":{},\"e\":false,\"f\":\"x\",\"g\":1.50}");
}

static void test_jw_writes_u64_extremes(void **state)
{
    (void)state;
    writer_reset(64);
    assert_int_equal(sigil_jw_arr_begin(&g_w), 0);
    assert_int_equal(sigil_jw_u64(&g_w, 0), 0);
    assert_int_equal(sigil_jw_u64(&g_w, UINT64_MAX), 0);
    assert_int_equal(sigil_jw_arr_end(&g_w), 0);
    assert_written("[0,18446744073709551615]");
}

static void test_jw_fails_when_output_is_full(void **state)
{
    (void)state;
    writer_reset(8);
    assert_int_equal(sigil_jw_obj_begin(&g_w), 0);
    assert_int_equal(sigil_jw_key(&g_w, "k"), 0);
    sigil_clear_error();
    assert_int_equal(sigil_jw_str(&g_w, "toolong"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

static void test_jw_refuses_unbalanced_close(void **state)
{
    (void)state;
    writer_reset(8);
    sigil_clear_error();
    assert_int_equal(sigil_jw_obj_end(&g_w), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_INTERNAL);
}

static void test_jw_limits_nesting(void **state)
{
    int rc = 0;
    (void)state;
    writer_reset(sizeof(g_out) - 1);
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = sigil_jw_arr_begin(&g_w);
    assert_int_equal(rc, -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

/* ---- sigil_jw_copy ---- */
static sigil_json_tok g_toks[64];
static sigil_json g_doc;

static void parse_doc(const char *text)
{
    if (sigil_json_parse(&g_doc, text, strlen(text), g_toks, 64) != 0)
        fail_msg("refused %s: %s", text, sigil_errmsg());
}

static void test_jw_copy_keeps_key_order_numbers_and_escapes(void **state)
{
    (void)state;
    parse_doc(
        " { \"z\" : 1.10 , \"a\" : [ -0 , 1E+5 , \"x\\u0041\\n\\\"\" , true , false , null ] ,"
        " \"m\" : { } , \"e\" : [ ] , \"\\u00e9\" : 0.000 }\n");
    writer_reset(256);
    assert_int_equal(sigil_jw_copy(&g_w, &g_doc, 0), 0);
    assert_written(
        "{\"z\":1.10,\"a\":[-0,1E+5,\"x\\u0041\\n\\\"\",true,false,null],\"m\":{},\"e\":[],"
        "\"\\u00e9\":0.000}");
}

static void test_jw_copy_output_parses_and_copies_to_itself(void **state)
{
    char first[256];
    (void)state;
    parse_doc("[{\"b\":[1,[2,{\"c\":\"d\"}]],\"a\":-1.5e-7},[],{}]");
    writer_reset(255);
    assert_int_equal(sigil_jw_copy(&g_w, &g_doc, 0), 0);
    g_out[g_b.len] = '\0';
    memcpy(first, g_out, g_b.len + 1);
    parse_doc(first);
    writer_reset(255);
    assert_int_equal(sigil_jw_copy(&g_w, &g_doc, 0), 0);
    assert_written(first);
    assert_string_equal(first, "[{\"b\":[1,[2,{\"c\":\"d\"}]],\"a\":-1.5e-7},[],{}]");
}

static void test_jw_copy_nests_inside_written_output(void **state)
{
    (void)state;
    parse_doc("{\"x\":[1,{\"y\":2}],\"z\":3}");
    writer_reset(128);
    assert_int_equal(sigil_jw_obj_begin(&g_w), 0);
    assert_int_equal(sigil_jw_key(&g_w, "first"), 0);
    assert_int_equal(sigil_jw_u64(&g_w, 0), 0);
    assert_int_equal(sigil_jw_key(&g_w, "copied"), 0);
    assert_int_equal(sigil_jw_copy(&g_w, &g_doc, sigil_json_get(&g_doc, 0, "x")), 0);
    assert_int_equal(sigil_jw_key(&g_w, "whole"), 0);
    assert_int_equal(sigil_jw_copy(&g_w, &g_doc, 0), 0);
    assert_int_equal(sigil_jw_key(&g_w, "last"), 0);
    assert_int_equal(sigil_jw_null(&g_w), 0);
    assert_int_equal(sigil_jw_obj_end(&g_w), 0);
    assert_written("{\"first\":0,\"copied\":[1,{\"y\":2}],\"whole\":{\"x\":[1,{\"y\":2}],\"z\":3},"
                   "\"last\":null}");
}

static void test_jw_copy_fails_when_output_is_full(void **state)
{
    (void)state;
    parse_doc("{\"key\":\"a long value\"}");
    writer_reset(10);
    sigil_clear_error();
    assert_int_equal(sigil_jw_copy(&g_w, &g_doc, 0), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

static int group_setup(void **state)
{
    (void)state;
    return sigil_init() == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_put_fills_to_capacity),
        cmocka_unit_test(test_buf_put_past_capacity_fails_and_leaves_len),
        cmocka_unit_test(test_buf_put_u64_writes_decimal),
        cmocka_unit_test(test_buf_put_u64_past_capacity_leaves_len),
        cmocka_unit_test(test_buf_put_hex_past_capacity_leaves_len),
        cmocka_unit_test(test_buf_cstr_needs_room_for_the_nul),
        cmocka_unit_test(test_slice_eq),
        cmocka_unit_test(test_cursor_reads_big_endian),
        cmocka_unit_test(test_cursor_read_past_end_fails_atomically),
        cmocka_unit_test(test_cursor_read_be64_past_end_consumes_nothing),
        cmocka_unit_test(test_hex_encode_is_lowercase_and_terminated),
        cmocka_unit_test(test_hex_decode_accepts_both_cases_and_optional_0x),
        cmocka_unit_test(test_hex_decode_refuses_0x_unless_allowed),
        cmocka_unit_test(test_hex_decode_refuses_malformed_text),
        cmocka_unit_test(test_hex_decode_refuses_output_over_capacity),
        cmocka_unit_test(test_hex_decode_exact_checks_length),
        cmocka_unit_test(test_b64_encodes_rfc4648_vectors),
        cmocka_unit_test(test_b64_url_variant_has_no_padding),
        cmocka_unit_test(test_b64_put_appends_after_existing_content),
        cmocka_unit_test(test_b64_put_past_capacity_leaves_len),
        cmocka_unit_test(test_b64_put_fills_buffer_exactly),
        cmocka_unit_test(test_b64_decode_round_trips),
        cmocka_unit_test(test_b64_decode_refuses_malformed_text),
        cmocka_unit_test(test_b64_decode_refuses_output_over_capacity),
        cmocka_unit_test(test_utf8_accepts_every_length_at_its_bounds),
        cmocka_unit_test(test_utf8_refuses_overlong_forms),
        cmocka_unit_test(test_utf8_refuses_surrogates_and_beyond_u10ffff),
        cmocka_unit_test(test_utf8_refuses_truncated_and_stray_bytes),
        cmocka_unit_test(test_utf8_feed_tracks_pending_bytes),
        cmocka_unit_test(test_pct_decode_decodes_both_hex_cases),
        cmocka_unit_test(test_pct_decode_plus_is_space_only_in_form_mode),
        cmocka_unit_test(test_pct_decode_validates_without_output),
        cmocka_unit_test(test_pct_decode_refuses_malformed_escapes),
        cmocka_unit_test(test_pct_decode_refuses_decoded_bytes_that_are_not_utf8),
        cmocka_unit_test(test_pct_decode_fails_when_output_is_full),
        cmocka_unit_test(test_pct_encode_keeps_only_unreserved_bytes),
        cmocka_unit_test(test_pct_encode_then_decode_round_trips),
        cmocka_unit_test(test_pct_encode_fails_when_output_is_full),
        cmocka_unit_test(test_jw_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(test_jw_escapes_a_nul_byte),
        cmocka_unit_test(test_jw_escapes_keys),
        cmocka_unit_test(test_jw_writes_hex),
        cmocka_unit_test(test_jw_places_commas_in_nested_containers),
        cmocka_unit_test(test_jw_writes_u64_extremes),
        cmocka_unit_test(test_jw_fails_when_output_is_full),
        cmocka_unit_test(test_jw_refuses_unbalanced_close),
        cmocka_unit_test(test_jw_limits_nesting),
        cmocka_unit_test(test_jw_copy_keeps_key_order_numbers_and_escapes),
        cmocka_unit_test(test_jw_copy_output_parses_and_copies_to_itself),
        cmocka_unit_test(test_jw_copy_nests_inside_written_output),
        cmocka_unit_test(test_jw_copy_fails_when_output_is_full),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
