/*
 * Unit tests for NSM messages and transports (src/attest/nsm_*.c): request
 * encodings equal the recorded serde_cbor bytes, recorded replies decode,
 * the soft NSM answers the request grammar of nitro.md §8.2 like the real
 * device, and the socket transport frames and fails like sigil-launch's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sigil/attest.h"
#include "sigil/cbor.h"
#include "sigil/codec.h"

#include "test_util.h"

static size_t load(uint8_t *buf, size_t cap, const char *name)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "nitro/%s", name);
    return test_vector_load(buf, cap, rel);
}

#define ASSERT_FAILS_WITH(expr, code, needle)                                                      \
    do {                                                                                           \
        sigil_clear_error();                                                                       \
        if ((expr) == 0)                                                                           \
            fail_msg("accepted: %s", #expr);                                                       \
        assert_string_equal(sigil_err_code(sigil_errno()), sigil_err_code(code));                  \
        if (strstr(sigil_errmsg(), (needle)) == NULL)                                              \
            fail_msg("message \"%s\" lacks \"%s\"", sigil_errmsg(), (needle));                     \
    } while (0)

static void assert_bytes_equal_file(const sigil_buf *b, const char *name)
{
    uint8_t want[16384];
    size_t n = load(want, sizeof(want), name);
    if (b->len != n || memcmp(b->data, want, n) != 0)
        fail_msg("%s: encoding differs (%zu vs %zu bytes)", name, b->len, n);
}

/* ---- client encoders against nsm_cbor/ ---- */

static void test_request_encodings(void **state)
{
    uint8_t mem[256];
    sigil_buf b;
    static const uint8_t NONCE[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    (void)state;
#define ENC(call, file)                                                                            \
    do {                                                                                           \
        sigil_buf_init(&b, mem, sizeof(mem));                                                      \
        assert_int_equal(call, 0);                                                                 \
        assert_bytes_equal_file(&b, "nsm_cbor/" file);                                             \
    } while (0)
    ENC(sigil_nsm_encode_get_random(&b), "req_GetRandom.cbor");
    ENC(sigil_nsm_encode_describe_nsm(&b), "req_DescribeNSM.cbor");
    ENC(sigil_nsm_encode_describe_pcr(&b, 0), "req_DescribePCR_0.cbor");
    ENC(sigil_nsm_encode_extend_pcr(&b, 16, (const uint8_t *)"abc", 3),
        "req_ExtendPCR_16_abc.cbor");
    ENC(sigil_nsm_encode_lock_pcr(&b, 16), "req_LockPCR_16.cbor");
    ENC(sigil_nsm_encode_lock_pcrs(&b, 32), "req_LockPCRs_32.cbor");
    ENC(sigil_nsm_encode_attestation(&b, NULL, 0, NULL, 0, NULL, 0),
        "req_Attestation_all_null.cbor");
    ENC(sigil_nsm_encode_attestation(&b, (const uint8_t *)"hello", 5, NONCE, sizeof(NONCE), NULL,
                                     0),
        "req_Attestation_ud_nonce.cbor");
#undef ENC
    /* Over the per-field limit, or the request cap: refused, buffer untouched. */
    static uint8_t big[2000];
    sigil_buf_init(&b, mem, sizeof(mem));
    ASSERT_FAILS_WITH(sigil_nsm_encode_attestation(&b, big, sizeof(big), NULL, 0, NULL, 0),
                      SIGIL_E_TOO_LARGE, "1024");
    assert_int_equal(b.len, 0);
    static uint8_t huge[8192], data[SIGIL_NSM_REQUEST_MAX];
    sigil_buf hb;
    sigil_buf_init(&hb, huge, sizeof(huge));
    ASSERT_FAILS_WITH(sigil_nsm_encode_extend_pcr(&hb, 16, data, sizeof(data)), SIGIL_E_TOO_LARGE,
                      "nsm request");
    assert_int_equal(hb.len, 0);
}

/* ---- client decoders against recorded replies ---- */

static void test_decode_recorded_replies(void **state)
{
    static uint8_t resp[16384], doc[16384];
    const uint8_t *p;
    size_t n, pn;
    uint8_t pcr[48], zero[48] = {0}, want[48];
    bool locked = true;
    (void)state;

    n = load(resp, sizeof(resp), "nsm_cbor/resp_Attestation_blocky_prod.cbor");
    assert_int_equal(sigil_nsm_decode_attestation(resp, n, &p, &pn), 0);
    size_t dn = load(doc, sizeof(doc), "nitro_attestation_blocky_prod_20240907.bin");
    assert_int_equal(pn, dn);
    assert_memory_equal(p, doc, dn);

    n = load(resp, sizeof(resp), "nsm_cbor/resp_DescribePCR_16_unlocked_zero.cbor");
    assert_int_equal(sigil_nsm_decode_describe_pcr(resp, n, &locked, pcr), 0);
    assert_false(locked);
    assert_memory_equal(pcr, zero, 48);

    n = load(resp, sizeof(resp), "nsm_cbor/resp_ExtendPCR_16_abc.cbor");
    assert_int_equal(sigil_nsm_decode_extend_pcr(resp, n, pcr), 0);
    assert_int_equal(sigil_hex_decode_exact(want, 48,
                                            "b1c16eb7634112b7c9d5ebd27e62a2d4528bbfcfd68b62d3afd9ec"
                                            "f98e0f413a84314acce78317fb69fd895155343e09",
                                            96, false, "t"),
                     0);
    assert_memory_equal(pcr, want, 48);

    n = load(resp, sizeof(resp), "nsm_cbor/resp_GetRandom_256.cbor");
    assert_int_equal(sigil_nsm_decode_get_random(resp, n, &p, &pn), 0);
    assert_int_equal(pn, 256);
    for (size_t i = 0; i < 256; i++)
        assert_int_equal(p[i], (uint8_t)i);

    n = load(resp, sizeof(resp), "nsm_cbor/resp_LockPCR.cbor");
    assert_int_equal(sigil_nsm_decode_lock_pcr(resp, n), 0);
    ASSERT_FAILS_WITH(sigil_nsm_decode_lock_pcrs(resp, n), SIGIL_E_PROTOCOL, "LockPCRs");

    n = load(resp, sizeof(resp), "nsm_cbor/resp_Error_InvalidArgument.cbor");
    ASSERT_FAILS_WITH(sigil_nsm_decode_attestation(resp, n, &p, &pn), SIGIL_E_ATTESTATION,
                      "nsm: InvalidArgument");
    ASSERT_FAILS_WITH(sigil_nsm_decode_lock_pcr(resp, n), SIGIL_E_ATTESTATION,
                      "nsm: InvalidArgument");
}

static void test_decode_malformed_replies(void **state)
{
    static uint8_t resp[16384];
    const uint8_t *p;
    size_t n, pn;
    uint8_t pcr[48];
    bool locked;
    (void)state;
    /* Another variant than asked for. */
    n = load(resp, sizeof(resp), "nsm_cbor/resp_GetRandom_256.cbor");
    ASSERT_FAILS_WITH(sigil_nsm_decode_attestation(resp, n, &p, &pn), SIGIL_E_PROTOCOL,
                      "expected Attestation");
    /* Truncated (a reply cut by a short buffer) and trailing bytes. */
    ASSERT_FAILS_WITH(sigil_nsm_decode_get_random(resp, n - 1, &p, &pn), SIGIL_E_PROTOCOL,
                      "nsm reply");
    resp[n] = 0;
    ASSERT_FAILS_WITH(sigil_nsm_decode_get_random(resp, n + 1, &p, &pn), SIGIL_E_PROTOCOL,
                      "trailing");
    /* DescribePCR data of 47 bytes, and a duplicated field. */
    n = load(resp, sizeof(resp), "nsm_cbor/resp_DescribePCR_16_unlocked_zero.cbor");
    uint8_t shortpcr[80];
    memcpy(shortpcr, resp, n);
    shortpcr[n - 49] = 0x2f; /* 58 30 -> 58 2f */
    ASSERT_FAILS_WITH(sigil_nsm_decode_describe_pcr(shortpcr, n - 1, &locked, pcr),
                      SIGIL_E_PROTOCOL, "48 bytes");
    static const uint8_t DUP[] = {0xa1, 0x69, 'G',  'e', 't', 'R', 'a', 'n', 'd',  'o',
                                  'm',  0xa2, 0x66, 'r', 'a', 'n', 'd', 'o', 'm',  0x41,
                                  0x01, 0x66, 'r',  'a', 'n', 'd', 'o', 'm', 0x41, 0x02};
    ASSERT_FAILS_WITH(sigil_nsm_decode_get_random(DUP, sizeof(DUP), &p, &pn), SIGIL_E_PROTOCOL,
                      "fields");
    /* Unknown error code is not echoed. */
    static const uint8_t ERR[] = {0xa1, 0x65, 'E', 'r', 'r', 'o', 'r', 0x63, 'x', 'y', 'z'};
    ASSERT_FAILS_WITH(sigil_nsm_decode_get_random(ERR, sizeof(ERR), &p, &pn), SIGIL_E_PROTOCOL,
                      "unknown error code");
    /* Empty random. */
    static const uint8_t EMPTY[] = {0xa1, 0x69, 'G',  'e', 't', 'R', 'a', 'n', 'd', 'o',
                                    'm',  0xa1, 0x66, 'r', 'a', 'n', 'd', 'o', 'm', 0x40};
    ASSERT_FAILS_WITH(sigil_nsm_decode_get_random(EMPTY, sizeof(EMPTY), &p, &pn), SIGIL_E_PROTOCOL,
                      "no bytes");
    ASSERT_FAILS_WITH(sigil_nsm_decode_get_random(EMPTY, 0, &p, &pn), SIGIL_E_PROTOCOL,
                      "nsm reply");
}

/* ---- server-side parser ---- */

static void test_parse_recorded_requests(void **state)
{
    uint8_t req[256];
    size_t n;
    sigil_nsm_request r;
    sigil_nsm_error e;
    (void)state;
    n = load(req, sizeof(req), "nsm_cbor/req_GetRandom.cbor");
    assert_int_equal(sigil_nsm_parse_request(&r, &e, req, n), 0);
    assert_int_equal(r.op, SIGIL_NSM_OP_GET_RANDOM);
    n = load(req, sizeof(req), "nsm_cbor/req_DescribeNSM.cbor");
    assert_int_equal(sigil_nsm_parse_request(&r, &e, req, n), 0);
    assert_int_equal(r.op, SIGIL_NSM_OP_DESCRIBE_NSM);
    n = load(req, sizeof(req), "nsm_cbor/req_ExtendPCR_16_abc.cbor");
    assert_int_equal(sigil_nsm_parse_request(&r, &e, req, n), 0);
    assert_int_equal(r.op, SIGIL_NSM_OP_EXTEND_PCR);
    assert_int_equal(r.index, 16);
    assert_int_equal(r.data_len, 3);
    assert_memory_equal(r.data, "abc", 3);
    n = load(req, sizeof(req), "nsm_cbor/req_LockPCRs_32.cbor");
    assert_int_equal(sigil_nsm_parse_request(&r, &e, req, n), 0);
    assert_int_equal(r.op, SIGIL_NSM_OP_LOCK_PCRS);
    assert_int_equal(r.range, 32);
    n = load(req, sizeof(req), "nsm_cbor/req_Attestation_ud_nonce.cbor");
    assert_int_equal(sigil_nsm_parse_request(&r, &e, req, n), 0);
    assert_int_equal(r.op, SIGIL_NSM_OP_ATTESTATION);
    assert_int_equal(r.user_data_len, 5);
    assert_int_equal(r.nonce_len, 8);
    assert_null(r.public_key);
    n = load(req, sizeof(req), "nsm_cbor/req_Attestation_all_null.cbor");
    assert_int_equal(sigil_nsm_parse_request(&r, &e, req, n), 0);
    assert_null(r.user_data);
    assert_null(r.nonce);
}

typedef struct {
    const char *what;
    uint8_t bytes[32];
    size_t len;
} bad_req;

static void test_parse_bad_requests(void **state)
{
    static const bad_req BAD[] = {
        {"unknown unit", {0x63, 'F', 'o', 'o'}, 4},
        {"struct variant as unit", {0x67, 'L', 'o', 'c', 'k', 'P', 'C', 'R'}, 8},
        {"unit variant as struct",
         {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd', 'o', 'm', 0xa0},
         12},
        {"missing field", {0xa1, 0x67, 'L', 'o', 'c', 'k', 'P', 'C', 'R', 0xa0}, 10},
        {"unknown field",
         {0xa1, 0x67, 'L', 'o', 'c', 'k', 'P', 'C', 'R', 0xa1, 0x61, 'x', 0x01},
         13},
        {"index as text",
         {0xa1, 0x67, 'L', 'o', 'c', 'k', 'P', 'C', 'R', 0xa1, 0x65, 'i', 'n', 'd', 'e', 'x', 0x61,
          '1'},
         18},
        {"duplicate field",
         {0xa1, 0x67, 'L', 'o', 'c',  'k',  'P', 'C', 'R', 0xa2, 0x65, 'i',
          'n',  'd',  'e', 'x', 0x01, 0x65, 'i', 'n', 'd', 'e',  'x',  0x02},
         24},
        {"two variants", {0xa2, 0x61, 'a', 0x01, 0x61, 'b', 0x02}, 7},
        {"trailing", {0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd', 'o', 'm', 0x00}, 11},
        {"integer", {0x01}, 1},
        {"empty", {0}, 0},
        {"float", {0xf9, 0x3c, 0x00}, 3},
    };
    sigil_nsm_request r;
    sigil_nsm_error e;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        sigil_clear_error();
        e = SIGIL_NSM_SUCCESS;
        if (sigil_nsm_parse_request(&r, &e, BAD[i].bytes, BAD[i].len) == 0)
            fail_msg("accepted %s", BAD[i].what);
        assert_int_equal(sigil_errno(), SIGIL_E_PROTOCOL);
        assert_int_equal(e, SIGIL_NSM_INVALID_OPERATION);
    }
    static uint8_t big[SIGIL_NSM_REQUEST_MAX + 1];
    assert_int_equal(sigil_nsm_parse_request(&r, &e, big, sizeof(big)), -1);
    assert_int_equal(e, SIGIL_NSM_INPUT_TOO_LARGE);
}

/* ---- soft NSM: the request handling table ---- */

static char g_tmpdir[256];
static sigil_devca *g_ca;
static uint8_t g_measurement[48];

static int setup(void **state)
{
    (void)state;
    if (test_tmpdir_make(g_tmpdir, sizeof(g_tmpdir), "nsm") != 0)
        return -1;
    for (size_t i = 0; i < 48; i++)
        g_measurement[i] = (uint8_t)(0xa0 + i);
    return sigil_devca_load_or_create(&g_ca, g_tmpdir);
}

static int teardown(void **state)
{
    (void)state;
    sigil_devca_free(g_ca);
    return test_tmpdir_remove(g_tmpdir);
}

typedef enum { ENC_RAW, ENC_DESCRIBE, ENC_EXTEND, ENC_LOCK, ENC_LOCKS } step_kind;

typedef struct {
    const char *what;
    step_kind kind;
    unsigned arg;
    const char *expect_error; /* NULL: success */
} soft_step;

static size_t soft_call(sigil_nsm_soft *s, uint8_t *resp, const uint8_t *req, size_t len)
{
    sigil_buf b;
    sigil_buf_init(&b, resp, SIGIL_NSM_RESPONSE_MAX);
    assert_int_equal(sigil_nsm_soft_handle(s, &b, req, len), 0);
    return b.len;
}

static void expect_error_reply(const uint8_t *resp, size_t n, const char *name)
{
    uint8_t want[64];
    sigil_buf b;
    sigil_buf_init(&b, want, sizeof(want));
    for (int e = 0; e < SIGIL_NSM_ERROR_COUNT_; e++)
        if (strcmp(sigil_nsm_error_name((sigil_nsm_error)e), name) == 0)
            assert_int_equal(sigil_nsm_reply_error(&b, (sigil_nsm_error)e), 0);
    assert_true(b.len > 0);
    if (n != b.len || memcmp(resp, want, n) != 0)
        fail_msg("expected Error %s", name);
}

static void test_soft_table(void **state)
{
    static const soft_step STEPS[] = {
        {"extend locked PCR0", ENC_EXTEND, 0, "ReadOnlyIndex"},
        {"extend PCR15", ENC_EXTEND, 15, "ReadOnlyIndex"},
        {"extend PCR32", ENC_EXTEND, 32, "InvalidIndex"},
        {"describe PCR32", ENC_DESCRIBE, 32, "InvalidIndex"},
        {"lock PCR3 (locked at boot)", ENC_LOCK, 3, "ReadOnlyIndex"},
        {"lock PCR40", ENC_LOCK, 40, "InvalidIndex"},
        {"lockpcrs 33", ENC_LOCKS, 33, "InvalidIndex"},
        {"extend PCR16", ENC_EXTEND, 16, NULL},
        {"lock PCR16", ENC_LOCK, 16, NULL},
        {"extend PCR16 after lock", ENC_EXTEND, 16, "ReadOnlyIndex"},
        {"lock PCR16 again", ENC_LOCK, 16, "ReadOnlyIndex"},
        {"describe PCR31", ENC_DESCRIBE, 31, NULL},
        {"lockpcrs 32", ENC_LOCKS, 32, NULL},
        {"extend PCR31 after lockpcrs", ENC_EXTEND, 31, "ReadOnlyIndex"},
    };
    static uint8_t resp[SIGIL_NSM_RESPONSE_MAX];
    uint8_t req[64];
    sigil_buf b;
    sigil_nsm_soft *s;
    (void)state;
    assert_int_equal(
        sigil_nsm_soft_new(&s, g_ca, "i-0123456789abcdef0-enc0000000000000001", g_measurement), 0);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(STEPS); i++) {
        const soft_step *st = &STEPS[i];
        sigil_buf_init(&b, req, sizeof(req));
        int rc = st->kind == ENC_DESCRIBE ? sigil_nsm_encode_describe_pcr(&b, st->arg)
                 : st->kind == ENC_EXTEND
                     ? sigil_nsm_encode_extend_pcr(&b, st->arg, (const uint8_t *)"abc", 3)
                 : st->kind == ENC_LOCK ? sigil_nsm_encode_lock_pcr(&b, st->arg)
                                        : sigil_nsm_encode_lock_pcrs(&b, st->arg);
        assert_int_equal(rc, 0);
        size_t n = soft_call(s, resp, req, b.len);
        if (st->expect_error != NULL) {
            expect_error_reply(resp, n, st->expect_error);
            continue;
        }
        sigil_clear_error();
        uint8_t pcr[48];
        bool locked;
        int ok = st->kind == ENC_DESCRIBE ? sigil_nsm_decode_describe_pcr(resp, n, &locked, pcr)
                 : st->kind == ENC_EXTEND ? sigil_nsm_decode_extend_pcr(resp, n, pcr)
                 : st->kind == ENC_LOCK   ? sigil_nsm_decode_lock_pcr(resp, n)
                                          : sigil_nsm_decode_lock_pcrs(resp, n);
        if (ok != 0)
            fail_msg("%s: %s", st->what, sigil_errmsg());
    }
    sigil_nsm_soft_free(s);
}

/* Replies byte-identical to the recorded ones of the real protocol. */
static void test_soft_matches_recorded_replies(void **state)
{
    static uint8_t resp[SIGIL_NSM_RESPONSE_MAX];
    uint8_t req[64];
    size_t n;
    sigil_buf b;
    sigil_nsm_soft *s;
    (void)state;
    assert_int_equal(sigil_nsm_soft_new(&s, g_ca, "i-0-enc1", g_measurement), 0);
    n = load(req, sizeof(req), "nsm_cbor/req_DescribePCR_0.cbor");
    req[n - 1] = 16; /* DescribePCR{index:16} */
    b.data = resp;
    b.len = soft_call(s, resp, req, n);
    assert_bytes_equal_file(&b, "nsm_cbor/resp_DescribePCR_16_unlocked_zero.cbor");
    n = load(req, sizeof(req), "nsm_cbor/req_ExtendPCR_16_abc.cbor");
    b.len = soft_call(s, resp, req, n);
    assert_bytes_equal_file(&b, "nsm_cbor/resp_ExtendPCR_16_abc.cbor");
    n = load(req, sizeof(req), "nsm_cbor/req_LockPCR_16.cbor");
    b.len = soft_call(s, resp, req, n);
    assert_bytes_equal_file(&b, "nsm_cbor/resp_LockPCR.cbor");
    /* Attestation with a 1025-byte nonce: InvalidArgument, as recorded. */
    static uint8_t big[1025];
    static uint8_t breq[SIGIL_NSM_REQUEST_MAX];
    sigil_buf rb;
    sigil_buf_init(&rb, breq, sizeof(breq));
    assert_int_equal(sigil_cbor_put_map(&rb, 1), 0);
    assert_int_equal(sigil_cbor_put_cstr(&rb, "Attestation"), 0);
    assert_int_equal(sigil_cbor_put_map(&rb, 1), 0);
    assert_int_equal(sigil_cbor_put_cstr(&rb, "nonce"), 0);
    assert_int_equal(sigil_cbor_put_bytes(&rb, big, sizeof(big)), 0);
    b.len = soft_call(s, resp, breq, rb.len);
    assert_bytes_equal_file(&b, "nsm_cbor/resp_Error_InvalidArgument.cbor");
    /* Garbage and oversize requests. */
    n = soft_call(s, resp, (const uint8_t *)"\xff", 1);
    expect_error_reply(resp, n, "InvalidOperation");
    static uint8_t oversize[SIGIL_NSM_REQUEST_MAX + 1];
    n = soft_call(s, resp, oversize, sizeof(oversize));
    expect_error_reply(resp, n, "InputTooLarge");
    sigil_nsm_soft_free(s);
}

static void test_soft_boot_state_and_attestation(void **state)
{
    static uint8_t resp[SIGIL_NSM_RESPONSE_MAX], doc[SIGIL_ATTEST_DOC_MAX];
    uint8_t req[64], want[48] = {0}, pcr[48];
    sigil_buf b;
    sigil_nsm_soft *s;
    sigil_nsm *n;
    sigil_attest_doc d;
    (void)state;
    assert_int_equal(
        sigil_nsm_soft_new(&s, g_ca, "i-0123456789abcdef0-enc00000000000000aa", g_measurement), 0);
    uint64_t now_ms = (uint64_t)time(NULL) * 1000u;
    sigil_nsm_soft_set_time(s, now_ms);
    assert_int_equal(sigil_nsm_open_soft(&n, s), 0);
    /* PCR0 = measurement, PCR1/2 = documented dev values, PCR4 = instance id. */
    assert_int_equal(sigil_nsm_describe_pcr(n, 0, pcr), 0);
    assert_memory_equal(pcr, g_measurement, 48);
    assert_int_equal(sigil_nsm_describe_pcr(n, 1, pcr), 0);
    assert_int_equal(sigil_hex_decode_exact(want, 48,
                                            "edb1b1586a9d273227f40c809b240691046c47637323faa05056"
                                            "7e477bf202547ef45cc9a5b57a4f6c4ff66b8a378347",
                                            96, false, "t"),
                     0);
    assert_memory_equal(pcr, want, 48);
    memset(want, 0, 48);
    assert_int_equal(sigil_pcr_extend(want, "i-0123456789abcdef0", 19), 0);
    assert_int_equal(sigil_nsm_describe_pcr(n, 4, pcr), 0);
    assert_memory_equal(pcr, want, 48);

    /* DescribeNSM lists 0..15 locked. */
    sigil_buf_init(&b, req, sizeof(req));
    assert_int_equal(sigil_nsm_encode_describe_nsm(&b), 0);
    size_t rn = soft_call(s, resp, req, b.len);
    static const uint8_t LOCKED16[] = {0x6b, 'l', 'o',  'c', 'k', 'e', 'd', '_', 'p', 'c',
                                       'r',  's', 0x90, 0,   1,   2,   3,   4,   5,   6,
                                       7,    8,   9,    10,  11,  12,  13,  14,  15};
    assert_non_null(memmem(resp, rn, LOCKED16, sizeof(LOCKED16)));
    assert_non_null(memmem(resp, rn, "i-0123456789abcdef0-enc00000000000000aa", 39));

    /* GetRandom: 256 fresh bytes, twice different. */
    uint8_t r1[300], r2[300];
    assert_int_equal(sigil_nsm_get_random(n, r1, sizeof(r1)), 0);
    assert_int_equal(sigil_nsm_get_random(n, r2, sizeof(r2)), 0);
    assert_memory_not_equal(r1, r2, sizeof(r1));

    /* Attestation: PCRs 0..15 (+16 once locked), verifies with the dev root. */
    sigil_buf_init(&b, req, sizeof(req));
    assert_int_equal(sigil_nsm_encode_lock_pcr(&b, 16), 0);
    (void)soft_call(s, resp, req, b.len);
    sigil_buf db;
    sigil_buf_init(&db, doc, sizeof(doc));
    static const uint8_t NONCE[4] = {9, 9, 9, 9};
    assert_int_equal(sigil_nsm_attest(n, &db, NULL, 0, NONCE, sizeof(NONCE), NULL, 0), 0);
    sigil_attest_policy pol = {.verify_time = (int64_t)(now_ms / 1000)};
    pol.root_der = sigil_devca_root_der(g_ca, &pol.root_der_len);
    if (sigil_attest_verify(&d, &pol, db.data, db.len) != 0)
        fail_msg("%s", sigil_errmsg());
    assert_int_equal(d.pcr_mask, 0x1ffffu);
    assert_memory_equal(d.pcrs[0], g_measurement, 48);
    assert_int_equal(d.nonce_len, 4);
    assert_null(d.user_data);
    assert_int_equal(d.timestamp_ms, now_ms);
    sigil_nsm_close(n);

    /* Without a CA the soft NSM cannot attest: InternalError, not a fake document. */
    sigil_nsm_soft *bare;
    assert_int_equal(sigil_nsm_soft_new(&bare, NULL, "i-1", g_measurement), 0);
    assert_int_equal(sigil_nsm_open_soft(&n, bare), 0);
    ASSERT_FAILS_WITH(sigil_nsm_attest(n, &db, NULL, 0, NULL, 0, NULL, 0), SIGIL_E_ATTESTATION,
                      "nsm: InternalError");
    sigil_nsm_close(n);
    sigil_nsm_soft_free(bare);
    sigil_nsm_soft_free(s);
    ASSERT_FAILS_WITH(sigil_nsm_soft_new(&s, NULL, "has space", g_measurement), SIGIL_E_USAGE,
                      "module_id");
}

/* ---- socket transport against a scripted launcher end ---- */

typedef struct {
    int fd;
    sigil_nsm_soft *soft;
    int mode; /* 0: serve properly until EOF; 1: answer with a bad length */
} server_arg;

static int read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void *server_main(void *argp)
{
    server_arg *a = argp;
    static uint8_t req[SIGIL_NSM_REQUEST_MAX], out[4 + SIGIL_NSM_RESPONSE_MAX];
    uint8_t hdr[4];
    while (read_full(a->fd, hdr, 4) == 0) {
        size_t n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
        if (n > sizeof(req) || read_full(a->fd, req, n) != 0)
            break;
        if (a->mode == 1) {
            static const uint8_t BAD[4] = {0x7f, 0, 0, 0};
            if (write(a->fd, BAD, 4) != 4)
                break;
            continue;
        }
        sigil_buf b;
        sigil_buf_init(&b, out + 4, SIGIL_NSM_RESPONSE_MAX);
        if (sigil_nsm_soft_handle(a->soft, &b, req, n) != 0)
            break;
        out[0] = (uint8_t)(b.len >> 24);
        out[1] = (uint8_t)(b.len >> 16);
        out[2] = (uint8_t)(b.len >> 8);
        out[3] = (uint8_t)b.len;
        if (write(a->fd, out, 4 + b.len) != (ssize_t)(4 + b.len))
            break;
    }
    close(a->fd);
    return NULL;
}

static void test_socket_transport(void **state)
{
    int sv[2];
    pthread_t th;
    sigil_nsm_soft *s;
    sigil_nsm *n;
    uint8_t pcr[48];
    (void)state;
    assert_int_equal(sigil_nsm_soft_new(&s, g_ca, "i-2-enc2", g_measurement), 0);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    server_arg a = {sv[1], s, 0};
    assert_int_equal(pthread_create(&th, NULL, server_main, &a), 0);
    assert_int_equal(sigil_nsm_open_socket(&n, sv[0]), 0);
    assert_int_equal(sigil_nsm_describe_pcr(n, 0, pcr), 0);
    assert_memory_equal(pcr, g_measurement, 48);
    static uint8_t doc[SIGIL_ATTEST_DOC_MAX];
    sigil_buf db;
    sigil_buf_init(&db, doc, sizeof(doc));
    assert_int_equal(sigil_nsm_attest(n, &db, (const uint8_t *)"ud", 2, NULL, 0, NULL, 0), 0);
    assert_true(db.len > 1000);
    sigil_nsm_close(n); /* EOF ends the server */
    pthread_join(th, NULL);

    /* A reply length over 0x3000 breaks the stream for good. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    server_arg bad = {sv[1], s, 1};
    assert_int_equal(pthread_create(&th, NULL, server_main, &bad), 0);
    assert_int_equal(sigil_nsm_open_socket(&n, sv[0]), 0);
    ASSERT_FAILS_WITH(sigil_nsm_describe_pcr(n, 0, pcr), SIGIL_E_PROTOCOL, "out of range");
    ASSERT_FAILS_WITH(sigil_nsm_describe_pcr(n, 0, pcr), SIGIL_E_UNAVAILABLE, "broke earlier");
    sigil_nsm_close(n);
    pthread_join(th, NULL);

    /* The launcher going away is "unavailable", not a hang. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    assert_int_equal(sigil_nsm_open_socket(&n, sv[0]), 0);
    sigil_clear_error();
    assert_int_equal(sigil_nsm_describe_pcr(n, 0, pcr), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_UNAVAILABLE);
    sigil_nsm_close(n);

    /* Not a stream socket. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    ASSERT_FAILS_WITH(sigil_nsm_open_socket(&n, sv[0]), SIGIL_E_USAGE, "stream");
    close(sv[1]);
    sigil_nsm_soft_free(s);
}

static void test_device_absent(void **state)
{
    sigil_nsm *n = NULL;
    (void)state;
    if (access("/dev/nsm", F_OK) == 0)
        skip();
    ASSERT_FAILS_WITH(sigil_nsm_open_device(&n), SIGIL_E_UNAVAILABLE, "/dev/nsm");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_encodings),
        cmocka_unit_test(test_decode_recorded_replies),
        cmocka_unit_test(test_decode_malformed_replies),
        cmocka_unit_test(test_parse_recorded_requests),
        cmocka_unit_test(test_parse_bad_requests),
        cmocka_unit_test(test_soft_table),
        cmocka_unit_test(test_soft_matches_recorded_replies),
        cmocka_unit_test(test_soft_boot_state_and_attestation),
        cmocka_unit_test(test_socket_transport),
        cmocka_unit_test(test_device_absent),
    };
    if (sigil_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
