/*
 * Unit tests for the gateway <-> enclave frame layer (src/frame/,
 * docs/FRAMES.md): frames built with the writer and parsed back, every
 * malformed shape refused as SIGIL_E_PROTOCOL, the incremental and blocking
 * stream readers over socketpairs, addresses, and a unix-socket
 * listen/connect roundtrip in a temporary directory (no ports).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sigil/codec.h"
#include "sigil/frame.h"
#include "test_util.h"

#define HEX_MAX 1024

/* Frames up to SIGIL_FRAME_MAX plus prefix and some slack. */
static uint8_t g_frame[SIGIL_FRAME_MAX + 64];
static uint8_t g_big[SIGIL_FRAME_MAX + 64];
static uint8_t g_hex_in[HEX_MAX];

static size_t unhex(const char *hex)
{
    char clean[2 * HEX_MAX + 1];
    size_t len = test_strip_spaces(clean, sizeof(clean), hex);
    size_t n;
    if (sigil_hex_decode(g_hex_in, sizeof(g_hex_in), &n, clean, len, false, "test") != 0)
        fail_msg("bad test hex %s: %s", hex, sigil_errmsg());
    return n;
}

static void expect_code(sigil_err code, const char *what)
{
    if (sigil_errno() != code)
        fail_msg("%s: expected %s, got %s (%s)", what, sigil_err_code(code),
                 sigil_err_code(sigil_errno()), sigil_errmsg());
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t n)
{
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

/* Parses the payload of a finished frame in b (after its length prefix). */
static void parse_built(sigil_frame *f, const sigil_buf *b)
{
    assert_true(b->len > 4);
    assert_int_equal(be32(b->data), b->len - 4);
    if (sigil_frame_parse(f, b->data + 4, b->len - 4) != 0)
        fail_msg("parse of a built frame: %s", sigil_errmsg());
}

/* ---- building and parsing ---- */

/* A read_map callback that records a few typed fields. */
typedef struct {
    const char *tenant;
    size_t tenant_len;
    const uint8_t *blob;
    size_t blob_len;
    bool flag;
    uint64_t n;
    unsigned calls;
} fields;

static int collect_field(void *ctx, const char *key, size_t key_len, sigil_cursor *c)
{
    fields *fs = ctx;
    fs->calls++;
    if (sigil_cbor_text_eq(key, key_len, "tenant"))
        return sigil_cbor_get_text(c, &fs->tenant, &fs->tenant_len, "tenant");
    if (sigil_cbor_text_eq(key, key_len, "blob"))
        return sigil_cbor_get_bytes(c, &fs->blob, &fs->blob_len, "blob");
    if (sigil_cbor_text_eq(key, key_len, "flag"))
        return sigil_cbor_get_bool(c, &fs->flag, "flag");
    if (sigil_cbor_text_eq(key, key_len, "n"))
        return sigil_cbor_get_uint(c, &fs->n, "n");
    return sigil_fail(SIGIL_E_BAD_REQUEST, "unknown field '%.*s'", (int)key_len, key);
}

static void test_request_roundtrip(void **state)
{
    (void)state;
    sigil_buf b;
    sigil_buf_init(&b, g_frame, sizeof(g_frame));
    assert_int_equal(sigil_frame_begin_request(&b, 1, 42, "sign", 3), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "tenant"), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "acme"), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "blob"), 0);
    assert_int_equal(sigil_cbor_put_bytes(&b, "\x00\x01\x02", 3), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "flag"), 0);
    assert_int_equal(sigil_cbor_put_bool(&b, true), 0);
    assert_int_equal(sigil_frame_finish(&b), 0);

    sigil_frame f;
    parse_built(&f, &b);
    assert_int_equal(f.kind, SIGIL_FRAME_REQUEST);
    assert_int_equal(f.version, 1);
    assert_int_equal(f.id, 42);
    assert_true(sigil_cbor_text_eq(f.op, f.op_len, "sign"));
    /* The body is bounded to exactly the args map. */
    sigil_cursor whole = f.body;
    assert_int_equal(sigil_cbor_skip(&whole), 0);
    assert_int_equal(sigil_cursor_remaining(&whole), 0);
    assert_int_equal(f.body.p[f.body.off], 0xa3);

    fields fs = {0};
    assert_int_equal(sigil_frame_read_map(&f.body, collect_field, &fs), 0);
    assert_int_equal(fs.calls, 3);
    assert_true(sigil_cbor_text_eq(fs.tenant, fs.tenant_len, "acme"));
    assert_int_equal(fs.blob_len, 3);
    assert_memory_equal(fs.blob, "\x00\x01\x02", 3);
    assert_true(fs.flag);
    assert_int_equal(sigil_cursor_remaining(&f.body), 0);
}

/* The exact bytes of a small request, so the wire format cannot drift. */
static void test_request_exact_bytes(void **state)
{
    (void)state;
    sigil_buf b;
    sigil_buf_init(&b, g_frame, sizeof(g_frame));
    assert_int_equal(sigil_frame_begin_request(&b, 1, 7, "ping", 1), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "probe_kms"), 0);
    assert_int_equal(sigil_cbor_put_bool(&b, false), 0);
    assert_int_equal(sigil_frame_finish(&b), 0);
    char hex[2 * 64 + 1];
    assert_true(b.len <= 64);
    sigil_hex_encode(hex, b.data, b.len);
    char want[2 * 64 + 1];
    test_strip_spaces(want, sizeof(want),
                      "00000018 a4 0001 0107 0264 70696e67 03a1 6970726f62655f6b6d73 f4");
    assert_string_equal(hex, want);
}

static void test_result_roundtrip(void **state)
{
    (void)state;
    sigil_buf b;
    sigil_buf_init(&b, g_frame, sizeof(g_frame));
    assert_int_equal(sigil_frame_begin_result(&b, 1, (uint64_t)INT64_MAX, 1), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "n"), 0);
    assert_int_equal(sigil_cbor_put_uint(&b, 1700000000000ull), 0);
    assert_int_equal(sigil_frame_finish(&b), 0);
    sigil_frame f;
    parse_built(&f, &b);
    assert_int_equal(f.kind, SIGIL_FRAME_RESULT);
    assert_int_equal(f.id, (uint64_t)INT64_MAX);
    assert_null(f.op);
    fields fs = {0};
    assert_int_equal(sigil_frame_read_map(&f.body, collect_field, &fs), 0);
    assert_int_equal(fs.n, 1700000000000ull);

    /* An empty result map. */
    sigil_buf_init(&b, g_frame, sizeof(g_frame));
    assert_int_equal(sigil_frame_begin_result(&b, 1, 1, 0), 0);
    assert_int_equal(sigil_frame_finish(&b), 0);
    parse_built(&f, &b);
    fs = (fields){0};
    assert_int_equal(sigil_frame_read_map(&f.body, collect_field, &fs), 0);
    assert_int_equal(fs.calls, 0);
}

static void test_error_roundtrip(void **state)
{
    (void)state;
    static const sigil_err CODES[] = {SIGIL_E_POLICY_DENIED, SIGIL_E_PROTOCOL, SIGIL_E_UNAVAILABLE,
                                      SIGIL_E_BAD_REQUEST, SIGIL_E_ACCESS_DENIED};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CODES); i++) {
        sigil_buf b;
        sigil_buf_init(&b, g_frame, sizeof(g_frame));
        assert_int_equal(sigil_frame_error(&b, 1, 9 + i, CODES[i], "denied by rule 3"), 0);
        sigil_frame f;
        parse_built(&f, &b);
        assert_int_equal(f.kind, SIGIL_FRAME_ERROR);
        assert_int_equal(f.id, 9 + i);
        assert_int_equal(f.err, CODES[i]);
        assert_true(sigil_cbor_text_eq(f.message, f.message_len, "denied by rule 3"));
    }
    /* An empty message is fine. */
    sigil_buf b;
    sigil_buf_init(&b, g_frame, sizeof(g_frame));
    assert_int_equal(sigil_frame_error(&b, 1, 1, SIGIL_E_INTERNAL, ""), 0);
    sigil_frame f;
    parse_built(&f, &b);
    assert_int_equal(f.message_len, 0);
    assert_int_equal(f.err, SIGIL_E_INTERNAL);
}

/* Error messages are built from sigil_errmsg(), which can hold bytes from the
 * peer's input and is cut at 255 bytes (possibly inside a UTF-8 sequence).
 * Whatever sigil_frame_error accepts, the peer's parser must accept too:
 * otherwise the peer sees protocol_error and drops the connection instead of
 * the real error. */
static void test_error_frame_always_parses(void **state)
{
    (void)state;
    static const char *const MESSAGES[] = {
        "unknown field '\xff'",         /* not UTF-8 */
        "unknown field 'caf\xc3'",      /* cut inside a two-byte sequence */
        "bad surrogate '\xed\xa0\x80'", /* encoded surrogate */
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MESSAGES); i++) {
        sigil_buf b;
        sigil_buf_init(&b, g_frame, sizeof(g_frame));
        if (sigil_frame_error(&b, 1, 5, SIGIL_E_BAD_REQUEST, MESSAGES[i]) != 0)
            continue; /* refusing to write is acceptable */
        sigil_frame f;
        if (sigil_frame_parse(&f, b.data + 4, b.len - 4) != 0)
            fail_msg("sigil_frame_error wrote a frame its peer refuses (message %zu): %s", i,
                     sigil_errmsg());
        assert_int_equal(f.err, SIGIL_E_BAD_REQUEST);
    }
}

static void test_writer_misuse(void **state)
{
    (void)state;
    sigil_buf b;
    sigil_buf_init(&b, g_frame, sizeof(g_frame));
    assert_int_equal(sigil_cbor_put_null(&b), 0);
    sigil_clear_error();
    assert_int_equal(sigil_frame_begin_request(&b, 1, 1, "ping", 0), -1);
    expect_code(SIGIL_E_INTERNAL, "begin on a non-empty buffer");
    assert_int_equal(sigil_frame_begin_result(&b, 1, 1, 0), -1);
    assert_int_equal(sigil_frame_error(&b, 1, 1, SIGIL_E_INTERNAL, "x"), -1);
    /* finish with nothing after the prefix */
    uint8_t four[4] = {0};
    sigil_buf_init(&b, four, sizeof(four));
    b.len = 4;
    assert_int_equal(sigil_frame_finish(&b), -1);
    /* A buffer too small for the header. */
    uint8_t small[6];
    sigil_buf_init(&b, small, sizeof(small));
    sigil_clear_error();
    assert_int_equal(sigil_frame_begin_request(&b, 1, 1, "ping", 0), -1);
    expect_code(SIGIL_E_TOO_LARGE, "begin into 6 bytes");
}

/* A payload of exactly SIGIL_FRAME_MAX bytes is fine; one more is not. */
static void test_finish_size_limit(void **state)
{
    (void)state;
    /* {0: 1, 1: 1, 4: {"x": h'...'}}: 9 bytes, then a 5-byte bytes head. */
    const size_t overhead = 9 + 5;
    for (size_t extra = 0; extra < 2; extra++) {
        sigil_buf b;
        sigil_buf_init(&b, g_frame, sizeof(g_frame));
        size_t content = SIGIL_FRAME_MAX - overhead + extra;
        memset(g_big, 0xab, content);
        assert_int_equal(sigil_frame_begin_result(&b, 1, 1, 1), 0);
        assert_int_equal(sigil_cbor_put_cstr(&b, "x"), 0);
        assert_int_equal(sigil_cbor_put_bytes(&b, g_big, content), 0);
        assert_int_equal(b.len - 4, SIGIL_FRAME_MAX + extra);
        sigil_clear_error();
        if (extra == 0) {
            assert_int_equal(sigil_frame_finish(&b), 0);
            sigil_frame f;
            parse_built(&f, &b);
            assert_int_equal(f.kind, SIGIL_FRAME_RESULT);
        } else {
            assert_int_equal(sigil_frame_finish(&b), -1);
            expect_code(SIGIL_E_TOO_LARGE, "frame over the limit");
        }
    }
}

/* ---- refusals: every malformed frame is SIGIL_E_PROTOCOL ---- */

/* Keys: 00 version, 01 id, 02 op, 03 args, 04 result, 05 error.
 * "6470696e67" = "ping"; error map a2 64"code" 6b"bad_request" 67"message" 62"hi". */
#define ERRMAP "a2 64636f6465 6b6261645f72657175657374 676d657373616765 626869"

static const char *const VALID[] = {
    "a4 0001 0101 026470696e67 03a0",                 /* request */
    "a3 0001 0101 04a0",                              /* result */
    ("a3 0001 0101 05 " ERRMAP),                      /* error */
    "a4 03a0 026470696e67 0101 0001",                 /* keys in any order */
    "a4 0001 011b7fffffffffffffff 026470696e67 03a0", /* id 2^63-1 */
    "a4 001a00000001 1801 1901f4 026470696e67 03a0",  /* non-shortest forms */
    "a3 0001 0101 04a1616182f6f5",                    /* nested result */
};

static const struct {
    const char *hex;
    const char *why;
} MALFORMED_FRAMES[] = {
    {"", "empty payload"},
    {"a0", "empty map"},
    {"80", "array at top level"},
    {"01", "integer at top level"},
    {"6470696e67", "text at top level"},
    {"f6", "null at top level"},
    {"c1 a3 0001 0101 04a0", "tagged map"},
    {"a5 0001 0101 026470696e67 03a0 0600", "unknown key 6"},
    {"a5 0001 0101 026470696e67 03a0 186400", "unknown key 100"},
    {"a5 0001 0101 026470696e67 03a0 616b00", "text key"},
    {"a5 0001 0101 026470696e67 03a0 2000", "negative key"},
    {"a5 0001 0001 0101 026470696e67 03a0", "duplicate version"},
    {"a4 0001 0101 0101 04a0", "duplicate id"},
    {"a4 0001 0101 04a0 04a0", "duplicate result"},
    {"a3 0001 0101 026470696e67", "request without args"},
    {"a3 0001 0101 03a0", "request without op"},
    {"a3 0101 026470696e67 03a0", "request without version"},
    {"a3 0001 026470696e67 03a0", "request without id"},
    {"a2 0001 0101", "response without result or error"},
    {"a2 0101 04a0", "result without version"},
    {"a5 0001 0101 026470696e67 03a0 04a0", "request with result"},
    {"a4 0001 0101 026470696e67 04a0", "op with result"},
    {"a4 0001 0101 03a0 04a0", "args with result"},
    {"a4 0001 0101 04a0 05 " ERRMAP, "result and error"},
    {"a6 0001 0101 026470696e67 03a0 04a0 05 " ERRMAP, "all six keys"},
    {"a7 0001 0101 026470696e67 03a0 04a0 05 " ERRMAP " 0600", "seven keys"},
    {"a4 0001 0100 026470696e67 03a0", "id 0"},
    {"a4 0001 011b8000000000000000 026470696e67 03a0", "id 2^63"},
    {"a4 0001 011bffffffffffffffff 026470696e67 03a0", "id 2^64-1"},
    {"a4 0001 0120 026470696e67 03a0", "negative id"},
    {"a4 0001 01f6 026470696e67 03a0", "null id"},
    {"a4 0061 31 0101 026470696e67 03a0", "text version"},
    {"a4 0020 0101 026470696e67 03a0", "negative version"},
    {"a4 0001 0101 0244 70696e67 03a0", "op as bytes"},
    {"a4 0001 0101 02f6 03a0", "null op"},
    {"a4 0001 0101 0261ff 03a0", "op not UTF-8"},
    {"a4 0001 0101 026470696e67 0380", "args an array"},
    {"a4 0001 0101 026470696e67 03f6", "args null"},
    {"a4 0001 0101 026470696e67 03c1a0", "args tagged"},
    {"a3 0001 0101 0401", "result an integer"},
    {"a3 0001 0101 0440", "result bytes"},
    {"a4 0001 0101 026470696e67 03a161 61ff", "args value break"},
    {"a4 0001 0101 026470696e67 03a1616161ff", "args value not UTF-8"},
    {"a4 0001 0101 026470696e67 03a2616101", "args truncated"},
    {"a4 0001 0101 026470696e67 03bf6161 01ff", "args indefinite"},
    {"a4 0001 0101 026470696e67 03a0 00", "trailing byte"},
    {"a4 0001 0101 026470696e67 03a0 a0", "trailing map"},
    {"a3 0001 0101 04a0 f6", "trailing null"},
    {"a4 0001 0101 026470696e67", "truncated before args"},
    {"a4 0001 0101 026470696e", "truncated op"},
    {"a4 0001 01", "truncated id"},
    {"bf 0001 0101 04a0 ff", "indefinite top-level map"},
    {"a3 0001 0101 05 a0", "error map empty"},
    {"a3 0001 0101 05 a164636f64656b6261645f72657175657374", "error without message"},
    {"a3 0001 0101 05 a1676d6573736167656268 69", "error without code"},
    {"a3 0001 0101 05 a3 64636f64656b6261645f72657175657374 676d6573736167656268 69 6178 00",
     "error map with an extra key"},
    {"a3 0001 0101 05 a2 64636f64656b6261645f72657175657374 64636f64656b6261645f72657175657374",
     "error map with code twice"},
    {"a3 0001 0101 05 a2 676d6573736167656268 69 676d6573736167656268 69",
     "error map with message twice"},
    {"a3 0001 0101 05 a2 64636f646501 676d6573736167656268 69", "error code an integer"},
    {"a3 0001 0101 05 a2 64636f64656b6261645f72657175657374 676d657373616765f6",
     "error message null"},
    {"a3 0001 0101 05 a2 01 6b6261645f72657175657374 676d6573736167656268 69",
     "error map integer key"},
    {"a3 0001 0101 05 a2 64636f6465 6b6261645f72657175657374 6178 6268 69",
     "error map unknown key"},
    {"a3 0001 0101 05 80", "error an array"},
};

static void test_valid_frames_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(VALID); i++) {
        size_t n = unhex(VALID[i]);
        sigil_frame f;
        if (sigil_frame_parse(&f, g_hex_in, n) != 0)
            fail_msg("valid frame %zu refused: %s", i, sigil_errmsg());
    }
    /* The error frame's fields. */
    size_t n = unhex(VALID[2]);
    sigil_frame f;
    assert_int_equal(sigil_frame_parse(&f, g_hex_in, n), 0);
    assert_int_equal(f.kind, SIGIL_FRAME_ERROR);
    assert_int_equal(f.err, SIGIL_E_BAD_REQUEST);
    assert_true(sigil_cbor_text_eq(f.message, f.message_len, "hi"));
    /* An error code this build does not know maps to internal. */
    n = unhex("a3 0001 0101 05 a2 64636f6465 646e6f7065 676d657373616765 60");
    assert_int_equal(sigil_frame_parse(&f, g_hex_in, n), 0);
    assert_int_equal(f.err, SIGIL_E_INTERNAL);
    assert_int_equal(f.message_len, 0);
}

static void test_malformed_frames_are_protocol_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MALFORMED_FRAMES); i++) {
        size_t n = unhex(MALFORMED_FRAMES[i].hex);
        sigil_frame f;
        sigil_clear_error();
        if (sigil_frame_parse(&f, g_hex_in, n) == 0)
            fail_msg("accepted %s", MALFORMED_FRAMES[i].why);
        expect_code(SIGIL_E_PROTOCOL, MALFORMED_FRAMES[i].why);
        if (strncmp(sigil_errmsg(), "frame", 5) != 0)
            fail_msg("%s: message does not say frame: %s", MALFORMED_FRAMES[i].why, sigil_errmsg());
    }
}

/* When the CBOR layer refuses, the protocol error keeps its explanation:
 * "frame: <what cbor said>", not a garbled copy of itself. */
static void test_protocol_error_message_keeps_cause(void **state)
{
    (void)state;
    size_t n = unhex("a4 0001 0101 0261ff 03a0"); /* op not UTF-8 */
    sigil_frame f;
    sigil_clear_error();
    assert_int_equal(sigil_frame_parse(&f, g_hex_in, n), -1);
    expect_code(SIGIL_E_PROTOCOL, "op not UTF-8");
    const char *msg = sigil_errmsg();
    if (strstr(msg, "UTF-8") == NULL || strstr(msg + 1, "frame:") != NULL)
        fail_msg("message lost its cause: '%s'", msg);
    n = unhex("a4 0061 31 0101 026470696e67 03a0"); /* text version */
    assert_int_equal(sigil_frame_parse(&f, g_hex_in, n), -1);
    msg = sigil_errmsg();
    if (strstr(msg, "frame version") == NULL || strstr(msg + 1, "frame:") != NULL)
        fail_msg("message lost its cause: '%s'", msg);
}

/* Every proper prefix of a valid frame is refused. */
static void test_frame_prefixes_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(VALID); i++) {
        size_t n = unhex(VALID[i]);
        for (size_t cut = 0; cut < n; cut++) {
            sigil_frame f;
            sigil_clear_error();
            if (sigil_frame_parse(&f, g_hex_in, cut) == 0)
                fail_msg("frame %zu: prefix of %zu bytes accepted", i, cut);
            expect_code(SIGIL_E_PROTOCOL, "prefix");
        }
    }
}

/* ---- sigil_frame_read_map ---- */

static int skip_field(void *ctx, const char *key, size_t key_len, sigil_cursor *c)
{
    (void)key;
    (void)key_len;
    (*(unsigned *)ctx)++;
    return sigil_cbor_skip(c);
}

static int consume_nothing(void *ctx, const char *key, size_t key_len, sigil_cursor *c)
{
    (void)ctx;
    (void)key;
    (void)key_len;
    (void)c;
    return 0;
}

static int read_map_hex(const char *hex, sigil_frame_field_fn fn, unsigned *calls)
{
    size_t n = unhex(hex);
    sigil_cursor c;
    sigil_cursor_init(&c, g_hex_in, n);
    *calls = 0;
    sigil_clear_error();
    return sigil_frame_read_map(&c, fn, calls);
}

static void test_read_map(void **state)
{
    (void)state;
    unsigned calls;
    /* {"a": 1, "b": [1, 2], "ab": {}} */
    assert_int_equal(read_map_hex("a3 616101 6162820102 626162a0", skip_field, &calls), 0);
    assert_int_equal(calls, 3);
    /* keys that share a prefix are different keys */
    assert_int_equal(read_map_hex("a2 616101 62616101", skip_field, &calls), 0);
    assert_int_equal(read_map_hex("a0", skip_field, &calls), 0);
    assert_int_equal(calls, 0);

    /* duplicate keys, first/last and non-adjacent */
    static const char *const DUPS[] = {
        "a2 616101 616102",
        "a3 616101 616201 616102",
        "a2 6001 6002",
        "a2 63e6b0b401 63e6b0b402",
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(DUPS); i++) {
        if (read_map_hex(DUPS[i], skip_field, &calls) == 0)
            fail_msg("duplicate key accepted: %s", DUPS[i]);
        expect_code(SIGIL_E_PROTOCOL, DUPS[i]);
    }
    /* Non-text keys and a non-map body are refused (the code comes from the
     * CBOR layer). */
    assert_int_equal(read_map_hex("a10101", skip_field, &calls), -1);
    assert_int_equal(calls, 0);
    assert_int_equal(read_map_hex("a1410101", skip_field, &calls), -1);
    assert_int_equal(read_map_hex("80", skip_field, &calls), -1);
    assert_int_equal(read_map_hex("a2616101", skip_field, &calls), -1);
    /* A handler that consumes nothing is a bug, caught. */
    assert_int_equal(read_map_hex("a1616101", consume_nothing, &calls), -1);
    expect_code(SIGIL_E_INTERNAL, "handler consumed nothing");
    /* A handler's own error is passed through. */
    fields fs = {0};
    size_t n = unhex("a1 65626f67757301");
    sigil_cursor c;
    sigil_cursor_init(&c, g_hex_in, n);
    sigil_clear_error();
    assert_int_equal(sigil_frame_read_map(&c, collect_field, &fs), -1);
    expect_code(SIGIL_E_BAD_REQUEST, "unknown field");
    assert_non_null(strstr(sigil_errmsg(), "bogus"));
}

static void test_read_map_key_limit(void **state)
{
    (void)state;
    /* 32 distinct keys are fine; 33 are refused. */
    for (size_t keys = 32; keys <= 33; keys++) {
        uint8_t mem[512];
        sigil_buf b;
        sigil_buf_init(&b, mem, sizeof(mem));
        assert_int_equal(sigil_cbor_put_map(&b, keys), 0);
        for (size_t i = 0; i < keys; i++) {
            char k[2] = {(char)('A' + i), 0};
            assert_int_equal(sigil_cbor_put_cstr(&b, k), 0);
            assert_int_equal(sigil_cbor_put_uint(&b, i), 0);
        }
        sigil_cursor c;
        sigil_cursor_init(&c, b.data, b.len);
        unsigned calls = 0;
        sigil_clear_error();
        int rc = sigil_frame_read_map(&c, skip_field, &calls);
        if (keys == 32) {
            assert_int_equal(rc, 0);
            assert_int_equal(calls, 32);
        } else {
            assert_int_equal(rc, -1);
            expect_code(SIGIL_E_PROTOCOL, "33 keys");
        }
    }
}

/* ---- incremental reader over a socketpair ---- */

static void make_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int fl = fcntl(sv[0], F_GETFL);
    assert_true(fl >= 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, fl | O_NONBLOCK), 0);
}

/* Builds request frame number k (distinct payloads) into b. */
static void build_request(sigil_buf *b, uint8_t *mem, size_t cap, uint64_t k)
{
    sigil_buf_init(b, mem, cap);
    assert_int_equal(sigil_frame_begin_request(b, 1, k, "sign", 1), 0);
    assert_int_equal(sigil_cbor_put_cstr(b, "n"), 0);
    assert_int_equal(sigil_cbor_put_uint(b, k * 1000), 0);
    assert_int_equal(sigil_frame_finish(b), 0);
}

/* Drains every complete frame; checks ids count up from *next_id. */
static unsigned drain(sigil_frame_reader *r, uint64_t *next_id)
{
    unsigned got = 0;
    const uint8_t *p;
    size_t len;
    while (sigil_frame_reader_next(r, &p, &len) == 1) {
        sigil_frame f;
        if (sigil_frame_parse(&f, p, len) != 0)
            fail_msg("frame %llu: %s", (unsigned long long)*next_id, sigil_errmsg());
        assert_int_equal(f.id, *next_id);
        fields fs = {0};
        assert_int_equal(sigil_frame_read_map(&f.body, collect_field, &fs), 0);
        assert_int_equal(fs.n, *next_id * 1000);
        (*next_id)++;
        got++;
    }
    return got;
}

static void test_reader_one_byte_at_a_time(void **state)
{
    (void)state;
    int sv[2];
    make_pair(sv);
    sigil_frame_reader r;
    assert_int_equal(sigil_frame_reader_init(&r), 0);
    uint64_t next_id = 1;
    for (uint64_t k = 1; k <= 3; k++) {
        uint8_t mem[128];
        sigil_buf b;
        build_request(&b, mem, sizeof(mem), k);
        for (size_t i = 0; i < b.len; i++) {
            assert_int_equal(write(sv[1], b.data + i, 1), 1);
            assert_int_equal(sigil_frame_reader_fill(&r, sv[0]), 0);
            unsigned got = drain(&r, &next_id);
            /* A frame is complete exactly when its last byte arrived. */
            assert_int_equal(got, i + 1 == b.len ? 1 : 0);
        }
    }
    assert_int_equal(next_id, 4);
    /* Nothing buffered, nothing to read: still fine. */
    assert_int_equal(sigil_frame_reader_fill(&r, sv[0]), 0);
    sigil_frame_reader_free(&r);
    close(sv[0]);
    close(sv[1]);
}

static void test_reader_many_frames_in_one_write(void **state)
{
    (void)state;
    int sv[2];
    make_pair(sv);
    sigil_frame_reader r;
    assert_int_equal(sigil_frame_reader_init(&r), 0);
    uint8_t all[1024];
    size_t all_len = 0;
    for (uint64_t k = 1; k <= 5; k++) {
        uint8_t mem[128];
        sigil_buf b;
        build_request(&b, mem, sizeof(mem), k);
        memcpy(all + all_len, b.data, b.len);
        all_len += b.len;
    }
    /* Four and a half frames, then the rest. */
    size_t cut = all_len - 7;
    assert_int_equal(write(sv[1], all, cut), (ssize_t)cut);
    assert_int_equal(sigil_frame_reader_fill(&r, sv[0]), 0);
    uint64_t next_id = 1;
    assert_int_equal(drain(&r, &next_id), 4);
    assert_int_equal(write(sv[1], all + cut, all_len - cut), (ssize_t)(all_len - cut));
    assert_int_equal(sigil_frame_reader_fill(&r, sv[0]), 0);
    assert_int_equal(drain(&r, &next_id), 1);
    assert_int_equal(next_id, 6);
    sigil_frame_reader_free(&r);
    close(sv[0]);
    close(sv[1]);
}

static void expect_fill_refuses_prefix(uint32_t n)
{
    int sv[2];
    make_pair(sv);
    sigil_frame_reader r;
    assert_int_equal(sigil_frame_reader_init(&r), 0);
    uint8_t hdr[4];
    put_be32(hdr, n);
    /* The prefix alone is enough to refuse: no payload byte is sent. */
    assert_int_equal(write(sv[1], hdr, sizeof(hdr)), 4);
    sigil_clear_error();
    assert_int_equal(sigil_frame_reader_fill(&r, sv[0]), -1);
    expect_code(SIGIL_E_PROTOCOL, "bad length prefix");
    const uint8_t *p;
    size_t len;
    assert_int_equal(sigil_frame_reader_next(&r, &p, &len), 0);
    sigil_frame_reader_free(&r);
    close(sv[0]);
    close(sv[1]);
}

static void test_reader_refuses_bad_lengths(void **state)
{
    (void)state;
    expect_fill_refuses_prefix(0);
    expect_fill_refuses_prefix(SIGIL_FRAME_MAX + 1);
    expect_fill_refuses_prefix(UINT32_MAX);

    /* A bad prefix right after a good frame: the good one is delivered, the
     * bad one refused by the next fill. */
    int sv[2];
    make_pair(sv);
    sigil_frame_reader r;
    assert_int_equal(sigil_frame_reader_init(&r), 0);
    uint8_t mem[128];
    sigil_buf b;
    build_request(&b, mem, sizeof(mem) - 4, 1);
    put_be32(mem + b.len, 0);
    assert_int_equal(write(sv[1], mem, b.len + 4), (ssize_t)(b.len + 4));
    assert_int_equal(sigil_frame_reader_fill(&r, sv[0]), 0);
    uint64_t next_id = 1;
    assert_int_equal(drain(&r, &next_id), 1);
    sigil_clear_error();
    assert_int_equal(sigil_frame_reader_fill(&r, sv[0]), -1);
    expect_code(SIGIL_E_PROTOCOL, "zero length after a frame");
    sigil_frame_reader_free(&r);
    close(sv[0]);
    close(sv[1]);
}

static void test_reader_eof(void **state)
{
    (void)state;
    int sv[2];
    make_pair(sv);
    sigil_frame_reader r;
    assert_int_equal(sigil_frame_reader_init(&r), 0);
    /* Half a header, then the peer closes: fill stops at the short read,
     * and the next one (the socket stays readable) reports the end. */
    assert_int_equal(write(sv[1], "\x00\x00", 2), 2);
    close(sv[1]);
    sigil_clear_error();
    int first = sigil_frame_reader_fill(&r, sv[0]);
    if (first == 0)
        first = sigil_frame_reader_fill(&r, sv[0]);
    assert_int_equal(first, -1);
    expect_code(SIGIL_E_IO, "EOF inside a header");
    sigil_frame_reader_free(&r);
    close(sv[0]);

    /* A whole frame, then the peer closes: the frame is still delivered
     * (a last error frame must not be lost), then EOF is SIGIL_E_IO. */
    make_pair(sv);
    assert_int_equal(sigil_frame_reader_init(&r), 0);
    uint8_t mem[128];
    sigil_buf b;
    build_request(&b, mem, sizeof(mem), 1);
    assert_int_equal(write(sv[1], b.data, b.len), (ssize_t)b.len);
    close(sv[1]);
    uint64_t next_id = 1;
    sigil_clear_error();
    int rc = sigil_frame_reader_fill(&r, sv[0]);
    sigil_err code = sigil_errno();
    assert_int_equal(drain(&r, &next_id), 1);
    if (rc == 0) {
        rc = sigil_frame_reader_fill(&r, sv[0]);
        code = sigil_errno();
    }
    assert_int_equal(rc, -1);
    assert_int_equal(code, SIGIL_E_IO);
    sigil_frame_reader_free(&r);
    close(sv[0]);
}

/* wait(): a blocking read brings every frame the peer wrote at once; a
 * bad length is refused as soon as it is read; the end is SIGIL_E_IO. */
static void test_reader_wait(void **state)
{
    (void)state;
    int sv[2];
    make_pair(sv);
    sigil_frame_reader r;
    assert_int_equal(sigil_frame_reader_init(&r), 0);
    uint8_t mem[128], all[512];
    size_t n = 0;
    for (uint64_t id = 1; id <= 3; id++) {
        sigil_buf b;
        build_request(&b, mem, sizeof(mem), id);
        memcpy(all + n, b.data, b.len);
        n += b.len;
    }
    assert_int_equal(write(sv[1], all, n), (ssize_t)n);
    uint64_t next_id = 1;
    while (next_id <= 3) {
        assert_int_equal(sigil_frame_reader_wait(&r, sv[0]), 0);
        (void)drain(&r, &next_id);
    }
    assert_int_equal(write(sv[1], "\x00\x00\x00\x00", 4), 4);
    sigil_clear_error();
    assert_int_equal(sigil_frame_reader_wait(&r, sv[0]), -1);
    expect_code(SIGIL_E_PROTOCOL, "zero length as soon as read");
    sigil_frame_reader_reset(&r);
    close(sv[1]);
    sigil_clear_error();
    assert_int_equal(sigil_frame_reader_wait(&r, sv[0]), -1);
    expect_code(SIGIL_E_IO, "EOF while waiting");
    sigil_frame_reader_free(&r);
    close(sv[0]);
}

/* A frame of exactly SIGIL_FRAME_MAX bytes through the incremental reader,
 * written by a child process (the socket buffer is smaller than a frame). */
static void test_reader_max_frame(void **state)
{
    (void)state;
    const size_t overhead = 9 + 5;
    size_t content = SIGIL_FRAME_MAX - overhead;
    sigil_buf b;
    sigil_buf_init(&b, g_frame, sizeof(g_frame));
    for (size_t i = 0; i < content; i++)
        g_big[i] = (uint8_t)(i * 7);
    assert_int_equal(sigil_frame_begin_result(&b, 1, 3, 1), 0);
    assert_int_equal(sigil_cbor_put_cstr(&b, "x"), 0);
    assert_int_equal(sigil_cbor_put_bytes(&b, g_big, content), 0);
    assert_int_equal(sigil_frame_finish(&b), 0);
    assert_int_equal(b.len, 4 + SIGIL_FRAME_MAX);

    int sv[2];
    make_pair(sv);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        /* Two copies, so the reader must keep the bytes after the first. */
        int ok = sigil_frame_write_all(sv[1], b.data, b.len) == 0 &&
                 sigil_frame_write_all(sv[1], b.data, b.len) == 0;
        _exit(ok ? 0 : 1);
    }
    close(sv[1]);
    sigil_frame_reader r;
    assert_int_equal(sigil_frame_reader_init(&r), 0);
    unsigned frames = 0;
    int rc = 0;
    while (frames < 2) {
        struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
        assert_true(poll(&pfd, 1, -1) == 1);
        rc = sigil_frame_reader_fill(&r, sv[0]);
        const uint8_t *p;
        size_t len;
        while (sigil_frame_reader_next(&r, &p, &len) == 1) {
            assert_int_equal(len, SIGIL_FRAME_MAX);
            assert_memory_equal(p, b.data + 4, len);
            frames++;
        }
        if (rc != 0)
            break;
    }
    assert_int_equal(frames, 2);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    sigil_frame_reader_free(&r);
    close(sv[0]);
}

/* ---- blocking helpers ---- */

static void test_read_one_write_all(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    uint8_t mem[128];
    sigil_buf out;
    build_request(&out, mem, sizeof(mem), 77);
    assert_int_equal(sigil_frame_write_all(sv[1], out.data, out.len), 0);
    assert_int_equal(sigil_frame_write_all(sv[1], out.data, out.len), 0);
    static uint8_t in_mem[SIGIL_FRAME_MAX];
    sigil_buf in;
    for (int i = 0; i < 2; i++) {
        sigil_buf_init(&in, in_mem, sizeof(in_mem));
        assert_int_equal(sigil_frame_read_one(sv[0], &in), 0);
        assert_int_equal(in.len, out.len - 4);
        assert_memory_equal(in.data, out.data + 4, in.len);
    }
    sigil_frame f;
    assert_int_equal(sigil_frame_parse(&f, in.data, in.len), 0);
    assert_int_equal(f.id, 77);

    /* Length 0 and over the cap. */
    static const uint32_t BAD[] = {0, SIGIL_FRAME_MAX + 1, UINT32_MAX};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        uint8_t hdr[4];
        put_be32(hdr, BAD[i]);
        assert_int_equal(sigil_frame_write_all(sv[1], hdr, 4), 0);
        sigil_buf_init(&in, in_mem, sizeof(in_mem));
        sigil_clear_error();
        assert_int_equal(sigil_frame_read_one(sv[0], &in), -1);
        expect_code(SIGIL_E_PROTOCOL, "read_one bad length");
    }
    /* A frame larger than the caller's buffer. */
    assert_int_equal(sigil_frame_write_all(sv[1], out.data, out.len), 0);
    uint8_t tiny[8];
    sigil_buf_init(&in, tiny, sizeof(tiny));
    sigil_clear_error();
    assert_int_equal(sigil_frame_read_one(sv[0], &in), -1);
    expect_code(SIGIL_E_TOO_LARGE, "read_one into a small buffer");
    close(sv[0]);
    close(sv[1]);

    /* EOF inside the header and inside the payload. */
    static const size_t CUTS[] = {0, 2, 4, 9};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CUTS); i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(sigil_frame_write_all(sv[1], out.data, CUTS[i]), 0);
        close(sv[1]);
        sigil_buf_init(&in, in_mem, sizeof(in_mem));
        sigil_clear_error();
        assert_int_equal(sigil_frame_read_one(sv[0], &in), -1);
        expect_code(SIGIL_E_IO, "read_one EOF");
        close(sv[0]);
    }

    /* Writing to a closed peer: SIGIL_E_IO, and no SIGPIPE kills the test. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    close(sv[0]);
    sigil_clear_error();
    assert_int_equal(sigil_frame_write_all(sv[1], out.data, out.len), -1);
    expect_code(SIGIL_E_IO, "write to a closed peer");
    close(sv[1]);
}

/* ---- addresses ---- */

static void test_addr_parse(void **state)
{
    (void)state;
    sigil_addr a;
    assert_int_equal(sigil_addr_parse(&a, "unix:/run/sigil/enclave.sock"), 0);
    assert_int_equal(a.kind, SIGIL_TRANSPORT_UNIX);
    assert_string_equal(a.path, "/run/sigil/enclave.sock");
    assert_int_equal(sigil_addr_parse(&a, "vsock:3:5000"), 0);
    assert_int_equal(a.kind, SIGIL_TRANSPORT_VSOCK);
    assert_int_equal(a.cid, 3);
    assert_int_equal(a.port, 5000);
    assert_int_equal(sigil_addr_parse(&a, "vsock:4294967295:4294967295"), 0);
    assert_int_equal(a.cid, UINT32_MAX);
    assert_int_equal(a.port, UINT32_MAX);
    assert_int_equal(sigil_addr_parse(&a, "vsock:0:0"), 0);

    /* The longest unix path that fits sun_path (107 bytes + NUL). */
    char s[256] = "unix:/";
    memset(s + 6, 'p', 106);
    s[112] = '\0';
    assert_int_equal(sigil_addr_parse(&a, s), 0);
    assert_int_equal(strlen(a.path), 107);
    s[112] = 'p';
    s[113] = '\0';
    sigil_clear_error();
    assert_int_equal(sigil_addr_parse(&a, s), -1);
    assert_int_not_equal(sigil_errno(), SIGIL_OK);

    static const char *const BAD[] = {
        "",
        "unix:",
        "unix",
        "UNIX:/tmp/x",
        "/tmp/x",
        "tcp:127.0.0.1:5000",
        "vsock:",
        "vsock:3",
        "vsock:3:",
        "vsock::5000",
        "vsock:3:5000x",
        "vsock:3x:5000",
        "vsock:-1:5000",
        "vsock:+3:5000",
        "vsock: 3:5000",
        "vsock:3: 5000",
        "vsock:3:-5000",
        "vsock:0x3:5000",
        "vsock:4294967296:5000",
        "vsock:3:4294967296",
        "vsock:3:99999999999999999999999",
        "vsock:3:5000:",
        "vsock:3:5000:7",
        "vsock:3:5000\n",
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        sigil_clear_error();
        if (sigil_addr_parse(&a, BAD[i]) == 0)
            fail_msg("accepted address '%s' (cid %u port %u)", BAD[i], a.cid, a.port);
        assert_int_not_equal(sigil_errno(), SIGIL_OK);
        assert_true(strlen(sigil_errmsg()) > 0);
    }
}

/* ---- unix transport in a temporary directory ---- */

static bool is_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC) != 0;
}

static void make_tmpdir(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/sigil-frame-XXXXXX", base != NULL ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
}

static void unix_addr(sigil_addr *a, const char *dir, const char *name)
{
    char s[512];
    snprintf(s, sizeof(s), "unix:%s/%s", dir, name);
    if (sigil_addr_parse(a, s) != 0)
        fail_msg("%s: %s", s, sigil_errmsg());
}

static void test_unix_roundtrip(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    sigil_addr a;
    unix_addr(&a, dir, "enclave.sock");

    /* Nobody listening yet. */
    int cfd = -1;
    sigil_clear_error();
    assert_int_equal(sigil_transport_connect(&a, &cfd), -1);
    expect_code(SIGIL_E_UNAVAILABLE, "connect with no listener");
    assert_int_equal(cfd, -1);

    int lfd;
    if (sigil_transport_listen(&a, &lfd) != 0)
        fail_msg("listen: %s", sigil_errmsg());
    assert_true(is_cloexec(lfd));
    assert_int_equal(sigil_transport_connect(&a, &cfd), 0);
    assert_true(is_cloexec(cfd));
    int sfd = accept(lfd, NULL, NULL);
    assert_true(sfd >= 0);

    /* A request one way, a result back. */
    uint8_t mem[128];
    sigil_buf out;
    build_request(&out, mem, sizeof(mem), 5);
    assert_int_equal(sigil_frame_write_all(cfd, out.data, out.len), 0);
    static uint8_t in_mem[SIGIL_FRAME_MAX];
    sigil_buf in;
    sigil_buf_init(&in, in_mem, sizeof(in_mem));
    assert_int_equal(sigil_frame_read_one(sfd, &in), 0);
    sigil_frame f;
    assert_int_equal(sigil_frame_parse(&f, in.data, in.len), 0);
    assert_int_equal(f.kind, SIGIL_FRAME_REQUEST);
    sigil_buf_init(&out, mem, sizeof(mem));
    assert_int_equal(sigil_frame_error(&out, 1, f.id, SIGIL_E_POLICY_DENIED, "no"), 0);
    assert_int_equal(sigil_frame_write_all(sfd, out.data, out.len), 0);
    sigil_buf_init(&in, in_mem, sizeof(in_mem));
    assert_int_equal(sigil_frame_read_one(cfd, &in), 0);
    assert_int_equal(sigil_frame_parse(&f, in.data, in.len), 0);
    assert_int_equal(f.kind, SIGIL_FRAME_ERROR);
    assert_int_equal(f.id, 5);
    assert_int_equal(f.err, SIGIL_E_POLICY_DENIED);
    close(sfd);
    close(cfd);

    /* The listener goes away, its socket file stays: the next listen
     * replaces the stale file. */
    close(lfd);
    struct stat st;
    assert_int_equal(lstat(a.path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    if (sigil_transport_listen(&a, &lfd) != 0)
        fail_msg("listen over a stale socket: %s", sigil_errmsg());
    assert_int_equal(sigil_transport_connect(&a, &cfd), 0);
    close(cfd);
    close(lfd);
    assert_int_equal(unlink(a.path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* A socket file with a live listener is not stale: a second listener must
 * not take the path away from a running enclave. */
static void test_unix_listen_keeps_live_socket(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    sigil_addr a;
    unix_addr(&a, dir, "live.sock");
    int lfd;
    assert_int_equal(sigil_transport_listen(&a, &lfd), 0);
    int lfd2 = -1;
    int rc = sigil_transport_listen(&a, &lfd2);
    if (rc == 0)
        close(lfd2);
    close(lfd);
    (void)unlink(a.path);
    assert_int_equal(rmdir(dir), 0);
    if (rc == 0)
        fail_msg("listen replaced a socket that had a live listener");
}

static void test_unix_listen_refuses_other_files(void **state)
{
    (void)state;
    char dir[256];
    make_tmpdir(dir, sizeof(dir));
    sigil_addr a;

    /* A regular file is never removed. */
    unix_addr(&a, dir, "precious");
    FILE *fp = fopen(a.path, "w");
    assert_non_null(fp);
    fputs("keep me", fp);
    fclose(fp);
    int lfd = -1;
    sigil_clear_error();
    assert_int_equal(sigil_transport_listen(&a, &lfd), -1);
    expect_code(SIGIL_E_IO, "listen over a regular file");
    assert_int_equal(lfd, -1);
    struct stat st;
    assert_int_equal(lstat(a.path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 7);

    /* Nor a symlink (even one pointing at a socket), nor a directory. */
    sigil_addr sock, link_addr, sub;
    unix_addr(&sock, dir, "real.sock");
    assert_int_equal(sigil_transport_listen(&sock, &lfd), 0);
    unix_addr(&link_addr, dir, "link.sock");
    assert_int_equal(symlink(sock.path, link_addr.path), 0);
    int lfd2 = -1;
    assert_int_equal(sigil_transport_listen(&link_addr, &lfd2), -1);
    assert_int_equal(lstat(link_addr.path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    unix_addr(&sub, dir, "subdir");
    assert_int_equal(mkdir(sub.path, 0700), 0);
    assert_int_equal(sigil_transport_listen(&sub, &lfd2), -1);
    assert_int_equal(lfd2, -1);
    close(lfd);

    /* A path in a missing directory fails cleanly. */
    sigil_addr missing;
    unix_addr(&missing, dir, "nope/enclave.sock");
    sigil_clear_error();
    assert_int_equal(sigil_transport_listen(&missing, &lfd2), -1);
    expect_code(SIGIL_E_IO, "listen in a missing directory");

    assert_int_equal(rmdir(sub.path), 0);
    assert_int_equal(unlink(link_addr.path), 0);
    assert_int_equal(unlink(sock.path), 0);
    assert_int_equal(unlink(a.path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* vsock may be missing here: either way connect fails cleanly. CID 1 is the
 * local CID; nothing listens on port 1. */
static void test_vsock_connect_fails_cleanly(void **state)
{
    (void)state;
    sigil_addr a;
    assert_int_equal(sigil_addr_parse(&a, "vsock:1:1"), 0);
    int fd = -1;
    sigil_clear_error();
    assert_int_equal(sigil_transport_connect(&a, &fd), -1);
    assert_true(sigil_errno() == SIGIL_E_IO || sigil_errno() == SIGIL_E_UNAVAILABLE);
    assert_int_equal(fd, -1);
}

int main(void)
{
    /* A test that breaks write_all's MSG_NOSIGNAL must fail, not die. */
    (void)signal(SIGPIPE, SIG_DFL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_roundtrip),
        cmocka_unit_test(test_request_exact_bytes),
        cmocka_unit_test(test_result_roundtrip),
        cmocka_unit_test(test_error_roundtrip),
        cmocka_unit_test(test_error_frame_always_parses),
        cmocka_unit_test(test_writer_misuse),
        cmocka_unit_test(test_finish_size_limit),
        cmocka_unit_test(test_valid_frames_parse),
        cmocka_unit_test(test_malformed_frames_are_protocol_errors),
        cmocka_unit_test(test_protocol_error_message_keeps_cause),
        cmocka_unit_test(test_frame_prefixes_refused),
        cmocka_unit_test(test_read_map),
        cmocka_unit_test(test_read_map_key_limit),
        cmocka_unit_test(test_reader_one_byte_at_a_time),
        cmocka_unit_test(test_reader_many_frames_in_one_write),
        cmocka_unit_test(test_reader_refuses_bad_lengths),
        cmocka_unit_test(test_reader_eof),
        cmocka_unit_test(test_reader_wait),
        cmocka_unit_test(test_reader_max_frame),
        cmocka_unit_test(test_read_one_write_all),
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_unix_roundtrip),
        cmocka_unit_test(test_unix_listen_keeps_live_socket),
        cmocka_unit_test(test_unix_listen_refuses_other_files),
        cmocka_unit_test(test_vsock_connect_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
