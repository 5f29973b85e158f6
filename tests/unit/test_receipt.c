/*
 * Unit tests for receipts (src/policy/receipt.c): canonical bytes written
 * out by hand from include/sigil/receipt.h, Ed25519 sign/verify with a fixed
 * seed, every single-bit flip of the wire text refused, strict members, the
 * chain. Also a helper for tests/cli/test_receipt_cli.py:
 *   test_receipt mkdoc STATE_DIR TS_MS MEASUREMENT BOOT_ID RECEIPT_KEY OUT
 * writes a dev-CA attestation document dated TS_MS whose user_data binds
 * BOOT_ID and RECEIPT_KEY (hex), under a dev root valid from 30 days ago
 * (STATE_DIR/root.pem), so that documents older than their leaf's 3 hours
 * can be made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attest/devca_internal.h"
#include "sigil/attest.h"
#include "sigil/codec.h"
#include "sigil/crypto.h"
#include "sigil/policy.h"
#include "sigil/receipt.h"

#define BOOT_ID "00112233445566778899aabbccddeeff"
#define KEY_ID "0123456789abcdef0123456789abcdef"
#define MEAS                                                                                       \
    "abababababababababababababababababababababababababababababababababababababababababababab"     \
    "abababab"
#define H_REQ "1111111111111111111111111111111111111111111111111111111111111111"
#define H_POL "2222222222222222222222222222222222222222222222222222222222222222"
#define H_OUT "3333333333333333333333333333333333333333333333333333333333333333"
#define H_PREV "4444444444444444444444444444444444444444444444444444444444444444"
#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

/* Members sorted by name, no whitespace, seq/time/v as integers. */
static const char WANT_ALLOW[] =
    "{\"action\":\"order\",\"boot_id\":\"" BOOT_ID "\",\"decision\":\"allow\",\"key_id\":\"" KEY_ID
    "\",\"measurement\":\"" MEAS
    "\",\"mode\":\"dev\",\"network\":\"mainnet\",\"output_hash\":\"" H_OUT
    "\",\"policy_hash\":\"" H_POL "\",\"prev\":\"" ZERO64 "\",\"request_hash\":\"" H_REQ
    "\",\"seq\":1,\"tenant\":\"acme\",\"time\":1767225600000,\"v\":1,\"venue\":\"binance\"}";

/* A deny: reason instead of output_hash, JCS escapes (\" and \t), raw UTF-8. */
static const char REASON[] = "policy_denied: policy: action withdraw not allowed (\"x\"\t\xc3\xa9)";
static const char WANT_DENY[] =
    "{\"action\":\"withdraw\",\"boot_id\":\"" BOOT_ID
    "\",\"decision\":\"deny\",\"key_id\":\"" KEY_ID "\",\"measurement\":\"" MEAS
    "\",\"mode\":\"nitro\",\"network\":\"testnet\",\"policy_hash\":\"" H_POL "\",\"prev\":\"" H_PREV
    "\",\"reason\":\"policy_denied: policy: action withdraw not allowed "
    "(\\\"x\\\"\\t\xc3\xa9)\",\"request_hash\":\"" H_REQ
    "\",\"seq\":2,\"tenant\":\"acme-corp_1\",\"time\":1767225600001,\"v\":1,\"venue\":\"binance\"}";

/* docs/RECEIPTS.md's worked example: WANT_ALLOW signed with seed 0x42 x 32. */
#define EXAMPLE_PK "2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12"
#define EXAMPLE_HASH "59af6ef6a3f98edd78c5a0ce28a35380334f35faa5042b51c04300e5d637ce6b"
#define EXAMPLE_SIG                                                                                \
    "356da573698a6a27365fa03fffc87b5f49d6666c69420aec4351ac8a2099e9d9"                             \
    "ce719024a8c90ff2e590b06cc0415c99e32711394b035af8b7f339181526f405"

static uint8_t g_seed[32], g_pk[32], g_sk[64];

static void hex_to(uint8_t *out, size_t n, const char *hex)
{
    assert_int_equal(sigil_hex_decode_exact(out, n, hex, strlen(hex), false, "test"), 0);
}

static void fill_allow(sigil_receipt *r)
{
    memset(r, 0, sizeof(*r));
    hex_to(r->boot_id, 16, BOOT_ID);
    r->seq = 1;
    hex_to(r->measurement, 48, MEAS);
    strcpy(r->mode, "dev");
    r->time_ms = 1767225600000ull;
    strcpy(r->tenant, "acme");
    strcpy(r->key_id, KEY_ID);
    strcpy(r->venue, "binance");
    strcpy(r->network, "mainnet");
    strcpy(r->action, "order");
    hex_to(r->request_hash, 32, H_REQ);
    hex_to(r->policy_hash, 32, H_POL);
    r->allow = true;
    hex_to(r->output_hash, 32, H_OUT);
}

static void fill_deny(sigil_receipt *r)
{
    fill_allow(r);
    r->seq = 2;
    hex_to(r->prev, 32, H_PREV);
    strcpy(r->mode, "nitro");
    r->time_ms = 1767225600001ull;
    strcpy(r->tenant, "acme-corp_1");
    strcpy(r->network, "testnet");
    strcpy(r->action, "withdraw");
    r->allow = false;
    memset(r->output_hash, 0, 32);
    strcpy(r->reason, REASON);
}

static int setup(void **state)
{
    (void)state;
    memset(g_seed, 0x42, sizeof(g_seed));
    return crypto_sign_seed_keypair(g_pk, g_sk, g_seed);
}

/* canonical -> signed wire text (NUL-terminated) in wire[]. */
static size_t make_wire(char *wire, size_t cap, const sigil_receipt *r, const uint8_t sk[64])
{
    uint8_t canon[SIGIL_RECEIPT_MAX_BYTES], msg[SIGIL_RECEIPT_SIG_PREFIX_LEN + sizeof(canon)],
        sig[64];
    sigil_buf c, m, w;
    sigil_buf_init(&c, canon, sizeof(canon));
    sigil_buf_init(&m, msg, sizeof(msg));
    sigil_buf_init(&w, wire, cap - 1);
    if (sigil_receipt_canonical(&c, r) != 0)
        fail_msg("canonical: %s", sigil_errmsg());
    assert_int_equal(sigil_receipt_message(&m, c.data, c.len), 0);
    assert_int_equal(crypto_sign_detached(sig, NULL, m.data, m.len, sk), 0);
    assert_int_equal(sigil_receipt_wire(&w, c.data, c.len, sig), 0);
    wire[w.len] = '\0';
    return w.len;
}

static void assert_canonical(const sigil_receipt *r, const char *want, size_t want_len)
{
    uint8_t mem[SIGIL_RECEIPT_MAX_BYTES];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    if (sigil_receipt_canonical(&b, r) != 0)
        fail_msg("canonical: %s", sigil_errmsg());
    if (b.len != want_len || memcmp(mem, want, want_len) != 0)
        fail_msg("canonical:\n got %.*s\nwant %s", (int)b.len, mem, want);
}

static void test_canonical_bytes(void **state)
{
    sigil_receipt r;
    (void)state;
    fill_allow(&r);
    assert_canonical(&r, WANT_ALLOW, sizeof(WANT_ALLOW) - 1);
    fill_deny(&r);
    assert_canonical(&r, WANT_DENY, sizeof(WANT_DENY) - 1);
    /* The canonical form is RFC 8785: the generic canonicaliser agrees. */
    char again[SIGIL_RECEIPT_MAX_BYTES];
    sigil_buf b;
    sigil_buf_init(&b, again, sizeof(again));
    assert_int_equal(sigil_json_canonicalize(&b, WANT_DENY, sizeof(WANT_DENY) - 1), 0);
    assert_int_equal(b.len, sizeof(WANT_DENY) - 1);
    assert_memory_equal(again, WANT_DENY, b.len);
}

static void test_message_and_wire(void **state)
{
    uint8_t mem[64], sig[64];
    sigil_buf b;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_receipt_message(&b, (const uint8_t *)"{\"a\":1}", 7), 0);
    assert_int_equal(b.len, 17 + 7);
    assert_memory_equal(mem, "sigil-receipt-v1\0{\"a\":1}", 24);
    memset(sig, 0xcd, sizeof(sig));
    char wire[256];
    sigil_buf_init(&b, wire, sizeof(wire));
    assert_int_equal(sigil_receipt_wire(&b, (const uint8_t *)"{\"a\":1}", 7, sig), 0);
    char want[256];
    snprintf(want, sizeof(want), "{\"a\":1,\"signature\":\"%s\"}",
             "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
             "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(wire, want, b.len);
    /* Not an object, empty, or no room: nothing written. */
    sigil_buf_init(&b, wire, sizeof(wire));
    assert_int_equal(sigil_receipt_wire(&b, (const uint8_t *)"{}", 2, sig), -1);
    assert_int_equal(sigil_receipt_wire(&b, (const uint8_t *)"[1]", 3, sig), -1);
    sigil_buf_init(&b, wire, 100);
    assert_int_equal(sigil_receipt_wire(&b, (const uint8_t *)"{\"a\":1}", 7, sig), -1);
    assert_int_equal(b.len, 0);
    sigil_buf_init(&b, mem, 20);
    assert_int_equal(sigil_receipt_message(&b, (const uint8_t *)"{\"a\":1}", 7), -1);
    assert_int_equal(b.len, 0);
}

static void test_sign_verify(void **state)
{
    char wire[SIGIL_RECEIPT_MAX_BYTES + 1];
    uint8_t hash[32], want_hash[32];
    sigil_receipt r, got;
    (void)state;
    for (int allow = 0; allow < 2; allow++) {
        allow ? fill_allow(&r) : fill_deny(&r);
        size_t n = make_wire(wire, sizeof(wire), &r, g_sk);
        const char *want = allow ? WANT_ALLOW : WANT_DENY;
        size_t want_len = strlen(want);
        /* The wire form: the canonical bytes, then the signature member. */
        assert_memory_equal(wire, want, want_len - 1);
        assert_memory_equal(wire + want_len - 1, ",\"signature\":\"", 14);
        assert_int_equal(n, want_len + 14 + 128 + 1);
        if (sigil_receipt_verify(&got, hash, wire, n, g_pk) != 0)
            fail_msg("verify: %s", sigil_errmsg());
        assert_memory_equal(&got, &r, sizeof(r));
        sigil_sha256(want_hash, want, want_len);
        assert_memory_equal(hash, want_hash, 32);
        memset(&got, 0, sizeof(got));
        assert_int_equal(sigil_receipt_parse(&got, hash, wire, n), 0);
        assert_memory_equal(&got, &r, sizeof(r));
        assert_memory_equal(hash, want_hash, 32);
    }
}

/* Whitespace between tokens is not part of what is signed. */
static void test_verify_pretty_printed(void **state)
{
    char wire[SIGIL_RECEIPT_MAX_BYTES + 1], pretty[SIGIL_RECEIPT_MAX_BYTES + 1];
    uint8_t hash[32];
    sigil_receipt r, got;
    size_t k = 0;
    (void)state;
    fill_allow(&r);
    size_t n = make_wire(wire, sizeof(wire), &r, g_sk);
    for (size_t i = 0; i < n; i++) {
        if (wire[i] == ',' || wire[i] == '{')
            pretty[k++] = wire[i], pretty[k++] = '\n', pretty[k++] = ' ';
        else if (wire[i] == ':')
            pretty[k++] = ':', pretty[k++] = ' ';
        else
            pretty[k++] = wire[i];
    }
    assert_int_equal(sigil_receipt_verify(&got, hash, pretty, k, g_pk), 0);
}

/* The documented example, byte for byte. */
static void test_documented_example(void **state)
{
    char wire[SIGIL_RECEIPT_MAX_BYTES + 1], hex[65];
    uint8_t hash[32], pk[32];
    sigil_receipt r, got;
    (void)state;
    hex_to(pk, 32, EXAMPLE_PK);
    assert_memory_equal(pk, g_pk, 32);
    fill_allow(&r);
    size_t n = make_wire(wire, sizeof(wire), &r, g_sk);
    assert_string_equal(wire + n - 2 - 128, EXAMPLE_SIG "\"}");
    assert_int_equal(sigil_receipt_verify(&got, hash, wire, n, pk), 0);
    sigil_hex_encode(hex, hash, 32);
    assert_string_equal(hex, EXAMPLE_HASH);
}

static void test_every_flip_fails(void **state)
{
    char wire[SIGIL_RECEIPT_MAX_BYTES + 1], bad[SIGIL_RECEIPT_MAX_BYTES + 1];
    uint8_t hash[32];
    sigil_receipt r, got;
    (void)state;
    for (int allow = 0; allow < 2; allow++) {
        allow ? fill_allow(&r) : fill_deny(&r);
        size_t n = make_wire(wire, sizeof(wire), &r, g_sk);
        for (size_t i = 0; i < n; i++) {
            for (int bit = 0; bit < 8; bit++) {
                memcpy(bad, wire, n);
                bad[i] = (char)(bad[i] ^ (1 << bit));
                if (sigil_receipt_verify(&got, hash, bad, n, g_pk) == 0)
                    fail_msg("byte %zu bit %d flipped still verifies", i, bit);
            }
        }
        /* Every truncation. */
        for (size_t cut = 0; cut < n; cut++)
            assert_int_equal(sigil_receipt_verify(&got, hash, wire, cut, g_pk), -1);
    }
}

static void test_wrong_key(void **state)
{
    char wire[SIGIL_RECEIPT_MAX_BYTES + 1];
    uint8_t seed[32], pk[32], sk[64], hash[32];
    sigil_receipt r, got;
    (void)state;
    memset(seed, 0x43, sizeof(seed));
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
    fill_allow(&r);
    size_t n = make_wire(wire, sizeof(wire), &r, sk);
    assert_int_equal(sigil_receipt_verify(&got, hash, wire, n, pk), 0);
    assert_int_equal(sigil_receipt_verify(&got, hash, wire, n, g_pk), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_SIGNATURE);
}

/* src with the first occurrence of old replaced by new. */
static size_t edit(char *dst, size_t cap, const char *src, const char *old, const char *new)
{
    const char *at = strstr(src, old);
    if (at == NULL)
        fail_msg("test edit: \"%s\" not found", old);
    int n = snprintf(dst, cap, "%.*s%s%s", (int)(at - src), src, new, at + strlen(old));
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

typedef struct {
    int allow;
    const char *old, *new;
    sigil_err code;
    const char *needle;
} strict_case;

static const strict_case STRICT[] = {
    {1, ",\"output_hash\":\"" H_OUT "\"", "", SIGIL_E_MISSING_FIELD, "output_hash"},
    {0, "\"reason\":", "\"output_hash\":\"" H_OUT "\",\"reason\":", SIGIL_E_BAD_FIELD,
     "output_hash"},
    {0, ",\"reason\":\"policy_denied", ",\"x\":\"", SIGIL_E_UNKNOWN_FIELD, "x"},
    {0, "\"reason\":\"policy_denied: policy: action withdraw not allowed (\\\"x\\\"\\t\xc3\xa9)\",",
     "", SIGIL_E_MISSING_FIELD, "reason"},
    {1, "\"policy_hash\"", "\"reason\":\"r\",\"policy_hash\"", SIGIL_E_BAD_FIELD, "reason"},
    {1, "\"v\":1", "\"v\":1,\"extra\":1", SIGIL_E_UNKNOWN_FIELD, "extra"},
    {1, "\"v\":1", "\"v\":1,\"seq\":1", SIGIL_E_DUPLICATE_KEY, "seq"},
    {1, "\"v\":1", "\"v\":1,\"\\u0073eq\":1", SIGIL_E_DUPLICATE_KEY, "eq"},
    {1, "\"v\":1", "\"v\":1,\"signature\":\"00\"", SIGIL_E_DUPLICATE_KEY, "signature"},
    {1, "\"v\":1", "\"v\":2", SIGIL_E_BAD_FIELD, "receipt.v"},
    {1, "\"v\":1", "\"v\":1.0", SIGIL_E_BAD_FIELD, "receipt.v"},
    {1, "\"seq\":1", "\"seq\":0", SIGIL_E_OUT_OF_RANGE, "receipt.seq"},
    {1, "\"seq\":1", "\"seq\":\"1\"", SIGIL_E_BAD_FIELD, "receipt.seq"},
    {1, "\"seq\":1", "\"seq\":9007199254740992", SIGIL_E_OUT_OF_RANGE, "receipt.seq"},
    {1, "\"seq\":1", "\"seq\":-1", SIGIL_E_OUT_OF_RANGE, "receipt.seq"},
    {1, "\"time\":1767225600000", "\"time\":1.7e12", SIGIL_E_BAD_FIELD, "receipt.time"},
    {1, "\"time\":1767225600000", "\"time\":null", SIGIL_E_BAD_FIELD, "receipt.time"},
    {1, "\"boot_id\":\"00", "\"boot_id\":\"0A", SIGIL_E_BAD_FIELD, "receipt.boot_id"},
    {1, "\"boot_id\":\"00", "\"boot_id\":\"", SIGIL_E_BAD_FIELD, "receipt.boot_id"},
    {1, "\"prev\":\"00", "\"prev\":\"\\u0030\\u0030", SIGIL_E_BAD_FIELD, "receipt.prev"},
    {1, "\"mode\":\"dev\"", "\"mode\":\"prod\"", SIGIL_E_BAD_FIELD, "receipt.mode"},
    {1, "\"mode\":\"dev\"", "\"mode\":[\"dev\"]", SIGIL_E_BAD_FIELD, "receipt.mode"},
    {1, "\"decision\":\"allow\"", "\"decision\":\"Allow\"", SIGIL_E_BAD_FIELD, "decision"},
    {1, ",\"decision\":\"allow\"", "", SIGIL_E_MISSING_FIELD, "decision"},
    {1, "\"network\":\"mainnet\"", "\"network\":\"devnet\"", SIGIL_E_BAD_FIELD, "network"},
    {1, "\"action\":\"order\"", "\"action\":\"fly\"", SIGIL_E_BAD_FIELD, "receipt.action"},
    {1, "\"key_id\":\"0123", "\"key_id\":\"0X23", SIGIL_E_BAD_FIELD, "receipt.key_id"},
    {1, "\"tenant\":\"acme\"", "\"tenant\":\"ACME\"", SIGIL_E_BAD_FIELD, "receipt.tenant"},
    {1, "\"tenant\":\"acme\"", "\"tenant\":\"ac\\u0000me\"", SIGIL_E_BAD_FIELD, "receipt.tenant"},
    {1, "\"tenant\":\"acme\"", "\"tenant\":\"\"", SIGIL_E_BAD_FIELD, "receipt.tenant"},
    {1, "\"venue\":\"binance\"", "\"venue\":\"bin ance\"", SIGIL_E_BAD_FIELD, "receipt.venue"},
    {1, "\"venue\":\"binance\"", "\"venue\":\"binancebinancebinancebinancebinance\"",
     SIGIL_E_BAD_FIELD, "receipt.venue"},
    {1, ",\"signature\":\"", ",\"sig\":\"", SIGIL_E_UNKNOWN_FIELD, "sig"},
    {1, "\"signature\":\"", "\"signature\":\"A", SIGIL_E_BAD_FIELD, "signature"},
};

static void test_strict_members(void **state)
{
    char wire[SIGIL_RECEIPT_MAX_BYTES + 1], bad[SIGIL_RECEIPT_MAX_BYTES + 64];
    uint8_t hash[32];
    sigil_receipt r, got;
    (void)state;
    for (size_t i = 0; i < sizeof(STRICT) / sizeof(STRICT[0]); i++) {
        const strict_case *c = &STRICT[i];
        c->allow ? fill_allow(&r) : fill_deny(&r);
        make_wire(wire, sizeof(wire), &r, g_sk);
        size_t n = edit(bad, sizeof(bad), wire, c->old, c->new);
        sigil_clear_error();
        if (sigil_receipt_parse(&got, hash, bad, n) == 0)
            fail_msg("case %zu accepted: %s", i, bad);
        if (sigil_errno() != c->code || strstr(sigil_errmsg(), c->needle) == NULL)
            fail_msg("case %zu: %s: %s (want %s, \"%s\")", i, sigil_err_code(sigil_errno()),
                     sigil_errmsg(), sigil_err_code(c->code), c->needle);
        assert_int_equal(sigil_receipt_verify(&got, hash, bad, n, g_pk), -1);
    }
    /* No signature at all; not an object; too large. */
    fill_allow(&r);
    make_wire(wire, sizeof(wire), &r, g_sk);
    edit(bad, sizeof(bad), wire, ",\"signature\":\"", "}");
    bad[strstr(bad, "}") - bad + 1] = '\0';
    assert_int_equal(sigil_receipt_parse(&got, hash, bad, strlen(bad)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_MISSING_FIELD);
    assert_int_equal(sigil_receipt_parse(&got, hash, "[1]", 3), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    static char big[SIGIL_RECEIPT_MAX_BYTES + 2];
    memset(big, ' ', sizeof(big));
    memcpy(big, wire, strlen(wire));
    assert_int_equal(sigil_receipt_parse(&got, hash, big, sizeof(big)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

typedef void (*mutate_fn)(sigil_receipt *r);
static void m_key_upper(sigil_receipt *r)
{
    r->key_id[0] = 'A';
}
static void m_key_short(sigil_receipt *r)
{
    r->key_id[31] = '\0';
}
static void m_tenant_empty(sigil_receipt *r)
{
    r->tenant[0] = '\0';
}
static void m_tenant_unterminated(sigil_receipt *r)
{
    memset(r->tenant, 'a', sizeof(r->tenant));
}
static void m_mode(sigil_receipt *r)
{
    strcpy(r->mode, "prod");
}
static void m_network(sigil_receipt *r)
{
    strcpy(r->network, "main");
}
static void m_action(sigil_receipt *r)
{
    strcpy(r->action, "unknown");
}
static void m_seq_zero(sigil_receipt *r)
{
    r->seq = 0;
}
static void m_time_big(sigil_receipt *r)
{
    r->time_ms = 1ull << 53;
}
static void m_venue(sigil_receipt *r)
{
    strcpy(r->venue, "Binance");
}
static void m_reason_empty(sigil_receipt *r)
{
    r->allow = false;
}
static void m_reason_utf8(sigil_receipt *r)
{
    r->allow = false;
    strcpy(r->reason, "bad \xc3");
}

static void test_canonical_refuses(void **state)
{
    static const mutate_fn BAD[] = {
        m_key_upper, m_key_short, m_tenant_empty, m_tenant_unterminated,
        m_mode,      m_network,   m_action,       m_seq_zero,
        m_time_big,  m_venue,     m_reason_empty, m_reason_utf8,
    };
    uint8_t mem[SIGIL_RECEIPT_MAX_BYTES];
    sigil_buf b;
    sigil_receipt r;
    (void)state;
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        fill_allow(&r);
        BAD[i](&r);
        sigil_buf_init(&b, mem, sizeof(mem));
        b.len = 3; /* fails atomically: earlier output is kept */
        if (sigil_receipt_canonical(&b, &r) == 0)
            fail_msg("case %zu accepted", i);
        assert_int_equal(b.len, 3);
    }
    /* Every action name and both key operations are accepted. */
    static const char *const OK_ACTIONS[] = {"order", "cancel",   "modify",   "leverage",
                                             "read",  "transfer", "withdraw", "agent",
                                             "auth",  "other",    "import",   "policy_update"};
    for (size_t i = 0; i < sizeof(OK_ACTIONS) / sizeof(OK_ACTIONS[0]); i++) {
        fill_allow(&r);
        strcpy(r.action, OK_ACTIONS[i]);
        sigil_buf_init(&b, mem, sizeof(mem));
        assert_int_equal(sigil_receipt_canonical(&b, &r), 0);
    }
}

/* The largest receipt (every field at its limit, a reason of 512 control
 * characters, each escaped to 6 bytes) still fits SIGIL_RECEIPT_MAX_BYTES
 * and verifies. */
static void test_largest(void **state)
{
    char wire[SIGIL_RECEIPT_MAX_BYTES + 1];
    uint8_t hash[32];
    sigil_receipt r, got;
    (void)state;
    fill_deny(&r);
    strcpy(r.action, "policy_update");
    memset(r.tenant, 't', 64);
    r.tenant[64] = '\0';
    memset(r.venue, 'v', 32);
    r.venue[32] = '\0';
    r.seq = r.time_ms = (1ull << 53) - 1;
    memset(r.reason, 0x01, SIGIL_RECEIPT_REASON_MAX);
    r.reason[SIGIL_RECEIPT_REASON_MAX] = '\0';
    size_t n = make_wire(wire, sizeof(wire), &r, g_sk);
    assert_true(n <= SIGIL_RECEIPT_MAX_BYTES);
    assert_int_equal(sigil_receipt_verify(&got, hash, wire, n, g_pk), 0);
    assert_memory_equal(&got, &r, sizeof(r));
}

static void test_chain(void **state)
{
    char w1[SIGIL_RECEIPT_MAX_BYTES + 1], w2[SIGIL_RECEIPT_MAX_BYTES + 1];
    uint8_t canon[SIGIL_RECEIPT_MAX_BYTES], h1[32], h2[32], want[32];
    sigil_receipt r1, r2, got;
    sigil_buf b;
    (void)state;
    fill_allow(&r1);
    size_t n1 = make_wire(w1, sizeof(w1), &r1, g_sk);
    assert_int_equal(sigil_receipt_verify(&got, h1, w1, n1, g_pk), 0);
    /* The hash is SHA-256 of the canonical bytes (no signature). */
    sigil_buf_init(&b, canon, sizeof(canon));
    assert_int_equal(sigil_receipt_canonical(&b, &r1), 0);
    sigil_sha256(want, b.data, b.len);
    assert_memory_equal(h1, want, 32);

    fill_deny(&r2);
    memcpy(r2.prev, h1, 32);
    size_t n2 = make_wire(w2, sizeof(w2), &r2, g_sk);
    assert_int_equal(sigil_receipt_verify(&got, h2, w2, n2, g_pk), 0);
    assert_int_equal(got.seq, 2);
    assert_memory_equal(got.prev, h1, 32);
    assert_true(memcmp(h1, h2, 32) != 0);
    /* seq 1 starts the chain with 64 zeros. */
    static const uint8_t ZERO[32];
    assert_memory_equal(r1.prev, ZERO, 32);
}

/* ---- mkdoc: the CLI test's document maker ---- */

static int write_file(const char *path, const void *p, size_t n, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fwrite(p, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    return ok && chmod(path, mode) == 0 ? 0 : -1;
}

static int write_pem(const char *dir, const char *name, X509 *x, EVP_PKEY *k)
{
    char path[4096];
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    int rc = -1;
    if (b == NULL)
        return -1;
    if (x != NULL ? PEM_write_bio_X509(b, x) == 1
                  : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1) {
        long n = BIO_get_mem_data(b, &data);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        rc = n > 0 ? write_file(path, data, (size_t)n, x != NULL ? 0644 : 0600) : -1;
    }
    BIO_free(b);
    return rc;
}

/* A root valid from 30 days ago, so documents dated in the past can chain. */
static int make_past_root(const char *dir)
{
    char path[4096];
    int64_t now = (int64_t)time(NULL);
    snprintf(path, sizeof(path), "%s/root.pem", dir);
    if (access(path, F_OK) == 0)
        return 0;
    if (mkdir(dir, 0700) != 0 && access(dir, F_OK) != 0)
        return -1;
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    devca_cert_spec s = {.cn = "dev.nitro-enclaves",
                         .bc = "critical,CA:TRUE",
                         .ku = "critical,digitalSignature,keyCertSign,cRLSign",
                         .not_before = now - (int64_t)30 * 86400,
                         .not_after = now + (int64_t)3650 * 86400};
    int rc = devca_new_key(&k);
    s.key = k;
    if (rc == 0)
        rc = devca_issue(&x, &s);
    if (rc == 0)
        rc = write_pem(dir, "root.key", NULL, k) != 0 || write_pem(dir, "root.pem", x, NULL) != 0;
    X509_free(x);
    EVP_PKEY_free(k);
    return rc == 0 ? 0 : -1;
}

static int mkdoc(char **argv)
{
    static uint8_t pcrs[32][48], mem[SIGIL_ATTEST_DOC_MAX];
    uint8_t ud_mem[SIGIL_BOOT_BINDING_LEN];
    sigil_boot_binding bb;
    sigil_devca *ca = NULL;
    sigil_buf doc, ud;
    uint64_t ts = strtoull(argv[3], NULL, 10);
    memset(&bb, 0, sizeof(bb));
    memset(bb.sealing_key, 0x5a, sizeof(bb.sealing_key));
    if (sigil_init() != 0 || make_past_root(argv[2]) != 0 ||
        sigil_hex_decode_exact(pcrs[0], 48, argv[4], strlen(argv[4]), false, "measurement") ||
        sigil_hex_decode_exact(bb.boot_id, 16, argv[5], strlen(argv[5]), false, "boot_id") ||
        sigil_hex_decode_exact(bb.receipt_key, 32, argv[6], strlen(argv[6]), false, "key"))
        goto fail;
    memset(pcrs[1], 1, 48);
    memset(pcrs[2], 2, 48);
    sigil_buf_init(&ud, ud_mem, sizeof(ud_mem));
    sigil_buf_init(&doc, mem, sizeof(mem));
    if (sigil_boot_binding_encode(&ud, &bb) != 0 || sigil_devca_load_or_create(&ca, argv[2]) != 0 ||
        sigil_attest_build(&doc, ca, "i-00000000000000000-enc0123456789abcdef", ts,
                           (const uint8_t(*)[48])pcrs, 0xffffu, ud.data, ud.len, NULL, 0, NULL,
                           0) != 0 ||
        write_file(argv[7], doc.data, doc.len, 0644) != 0)
        goto fail;
    sigil_devca_free(ca);
    return 0;
fail:
    fprintf(stderr, "mkdoc: %s\n", sigil_errmsg());
    sigil_devca_free(ca);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "mkdoc") == 0) {
        if (argc != 8) {
            fprintf(stderr, "usage: test_receipt mkdoc STATE_DIR TS_MS MEASUREMENT BOOT_ID "
                            "RECEIPT_KEY OUT\n");
            return 2;
        }
        return mkdoc(argv);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_bytes),
        cmocka_unit_test(test_message_and_wire),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_verify_pretty_printed),
        cmocka_unit_test(test_documented_example),
        cmocka_unit_test(test_every_flip_fails),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_strict_members),
        cmocka_unit_test(test_canonical_refuses),
        cmocka_unit_test(test_largest),
        cmocka_unit_test(test_chain),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
