/*
 * The provisioning payload's "generate" variant and the keys the enclave
 * makes for it (src/enclave/payload.c, payload_build.c, keygen.c; the
 * enclave's sources compiled in, as the fuzz targets do). libsodium's
 * random source is replaced by a scripted one: fixed draws (out-of-range
 * scalars first) where a test sets them, a fixed-seed stream otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sodium.h>

#include "enclave/keygen.c"
#include "enclave/payload.c"
#include "enclave/payload_build.c"

uint64_t enclave_now_ms(void)
{
    return 1700000000000ull;
}

/* ---- the scripted random source ---- */
#define SCRIPT_MAX 16
static uint8_t script[SCRIPT_MAX][32];
static size_t script_len, script_next;
static uint8_t stream_seed[randombytes_SEEDBYTES] = {42};
static uint64_t stream_ctr;

static void scripted_buf(void *const buf, const size_t size)
{
    if (size == 32 && script_next < script_len) {
        memcpy(buf, script[script_next++], 32);
        return;
    }
    uint8_t seed[randombytes_SEEDBYTES];
    memcpy(seed, stream_seed, sizeof(seed));
    memcpy(seed + 24, &stream_ctr, sizeof(stream_ctr));
    stream_ctr++;
    randombytes_buf_deterministic(buf, size, seed);
}

static uint32_t scripted_random(void)
{
    uint32_t v;
    scripted_buf(&v, sizeof(v));
    return v;
}

static const char *scripted_name(void)
{
    return "sigil-test-script";
}

static randombytes_implementation SCRIPTED = {
    .implementation_name = scripted_name, .random = scripted_random, .buf = scripted_buf};

static void script_set(size_t n, const uint8_t (*draws)[32])
{
    memcpy(script, draws, n * 32);
    script_len = n;
    script_next = 0;
}

/* ---- payloads ---- */
#define POLICY                                                                                     \
    "{\"version\":1,\"tenant\":\"acme\",\"venue\":\"%s\",\"network\":\"mainnet\","                 \
    "\"actions\":[\"order\"],\"not_after\":4102444800}"
#define OWNER "\"owner_pubkey\":\"" HEX64 "\""
#define HEX64 "0101010101010101010101010101010101010101010101010101010101010101"
#define SIG128 HEX64 HEX64

static char text[4096];
static sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
static sigil_json_tok toks2[ENCLAVE_PAYLOAD_TOKENS];

/* A payload for venue with `secret` as the member(s) between key_type and owner_pubkey. */
static size_t make(const char *venue, const char *key_type, const char *secret)
{
    char pol[512];
    (void)snprintf(pol, sizeof(pol), POLICY, venue);
    int n = snprintf(text, sizeof(text),
                     "{\"v\":1,\"tenant\":\"acme\",\"key_id\":\"00112233445566778899aabbccddeeff\","
                     "\"venue\":\"%s\",\"network\":\"mainnet\",\"key_type\":\"%s\",%s" OWNER
                     ",\"client_pubkey\":null,\"policy\":%s,\"policy_signature\":\"" SIG128 "\"}",
                     venue, key_type, secret, pol);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    return (size_t)n;
}

static void parse_ok(enclave_payload *p, size_t n)
{
    if (enclave_payload_parse(p, text, n, toks) != 0)
        fail_msg("parse: %s", sigil_errmsg());
}

static void parse_fails(size_t n, sigil_err code, const char *needle)
{
    enclave_payload p;
    assert_int_equal(enclave_payload_parse(&p, text, n, toks), -1);
    assert_int_equal(sigil_errno(), code);
    if (strstr(sigil_errmsg(), needle) == NULL)
        fail_msg("message '%s' lacks '%s'", sigil_errmsg(), needle);
}

static void test_generate_parses(void **state)
{
    (void)state;
    enclave_payload p;
    parse_ok(&p, make("hyperliquid", "secp256k1", "\"generate\":true,"));
    assert_true(p.generate);
    parse_ok(
        &p, make("hyperliquid", "secp256k1", "\"credentials\":{\"private_key\":\"0x" HEX64 "\"},"));
    assert_false(p.generate);
    /* "generate": null counts as absent: the credentials are then required */
    parse_ok(&p, make("hyperliquid", "secp256k1",
                      "\"generate\":null,\"credentials\":{\"private_key\":\"0x" HEX64 "\"},"));
    assert_false(p.generate);
}

static void test_generate_strict(void **state)
{
    (void)state;
    static const struct {
        const char *members;
        sigil_err code;
        const char *needle;
    } CASES[] = {
        {"\"generate\":true,\"credentials\":{\"private_key\":\"0x" HEX64 "\"},", SIGIL_E_BAD_FIELD,
         "exclusive"},
        {"\"generate\":false,", SIGIL_E_BAD_FIELD, "payload.generate: must be true"},
        {"\"generate\":\"true\",", SIGIL_E_BAD_FIELD, "payload.generate: must be true"},
        {"\"generate\":1,", SIGIL_E_BAD_FIELD, "payload.generate: must be true"},
        {"\"generate\":null,", SIGIL_E_MISSING_FIELD, "credentials"},
        {"", SIGIL_E_MISSING_FIELD, "credentials"},
        {"\"generated\":true,", SIGIL_E_UNKNOWN_FIELD, "generated"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++)
        parse_fails(make("hyperliquid", "secp256k1", CASES[i].members), CASES[i].code,
                    CASES[i].needle);
}

/* The rebuilt payload: the documented members in order, "generate" gone,
 * credentials {"private_key":"0x<64 lowercase hex>"} of a valid key, every
 * other member's text unchanged. */
static void check_generated(const enclave_payload *src, const sigil_secret *out, uint8_t key[32])
{
    static const char *const ORDER[] = {
        "v",           "tenant",       "key_id",        "venue",  "network",         "key_type",
        "credentials", "owner_pubkey", "client_pubkey", "policy", "policy_signature"};
    enclave_payload q;
    if (enclave_payload_parse(&q, (const char *)out->p, out->len, toks2) != 0)
        fail_msg("rebuilt payload: %s", sigil_errmsg());
    assert_false(q.generate);
    size_t i = 0;
    for (uint32_t k = sigil_json_first(&q.doc, 0); k != 0; k = sigil_json_sibling(&q.doc, 0, k))
        assert_true(i < SIGIL_ARRAY_LEN(ORDER) && sigil_json_str_eq(&q.doc, k, ORDER[i++]));
    assert_int_equal(i, SIGIL_ARRAY_LEN(ORDER));
    for (i = 0; i < SIGIL_ARRAY_LEN(ORDER); i++) {
        if (strcmp(ORDER[i], "credentials") == 0)
            continue;
        sigil_slice a = sigil_json_raw(&src->doc, sigil_json_get(&src->doc, 0, ORDER[i]));
        sigil_slice b = sigil_json_raw(&q.doc, sigil_json_get(&q.doc, 0, ORDER[i]));
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.p, b.p, a.len);
    }
    uint32_t c = sigil_json_get(&q.doc, 0, "credentials");
    uint32_t pk = sigil_json_get(&q.doc, c, "private_key");
    assert_int_equal(q.doc.toks[c].size, 1); /* one member, the key */
    sigil_slice s = sigil_json_raw(&q.doc, pk);
    assert_int_equal(s.len, 66);
    assert_memory_equal(s.p, "0x", 2);
    for (size_t j = 2; j < 66; j++)
        assert_non_null(strchr("0123456789abcdef", s.p[j]));
    assert_int_equal(sigil_hex_decode_exact(key, 32, s.p + 2, 64, false, "key"), 0);
    assert_int_equal(sigil_secp256k1_check_key(key), 0);
}

static void test_keygen_rebuilds(void **state)
{
    (void)state;
    enclave_payload p;
    uint8_t k1[32], k2[32];
    SIGIL_SECRET(out);
    parse_ok(&p, make("hyperliquid", "secp256k1", "\"generate\":true,"));
    assert_int_equal(enclave_keygen_payload(&out, &p), 0);
    check_generated(&p, &out, k1);
    sigil_secret_free(&out);
    assert_int_equal(enclave_keygen_payload(&out, &p), 0);
    check_generated(&p, &out, k2);
    assert_memory_not_equal(k1, k2, 32); /* a fresh draw each time */
}

/* Out-of-range draws are drawn again, never reduced: 0, n and 2^256-1 are
 * skipped and the fourth draw is the key. */
static void test_keygen_rejects_out_of_range(void **state)
{
    (void)state;
    static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    uint8_t draws[4][32], key[32];
    memset(draws[0], 0, 32);
    memcpy(draws[1], N, 32);
    memset(draws[2], 0xff, 32);
    memcpy(draws[3], N, 32);
    draws[3][31] = 0x40; /* n - 1: the largest valid key */
    enclave_payload p;
    SIGIL_SECRET(out);
    parse_ok(&p, make("aster", "secp256k1", "\"generate\":true,"));
    script_set(4, draws);
    assert_int_equal(enclave_keygen_payload(&out, &p), 0);
    assert_int_equal(script_next, 4);
    check_generated(&p, &out, key);
    assert_memory_equal(key, draws[3], 32);

    uint8_t bad[KEY_DRAWS][32];
    memset(bad, 0, sizeof(bad));
    script_set(KEY_DRAWS, bad);
    sigil_secret_free(&out);
    assert_int_equal(enclave_keygen_payload(&out, &p), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_CRYPTO);
    script_len = 0;
}

static void test_keygen_refuses(void **state)
{
    (void)state;
    static const struct {
        const char *venue, *key_type;
    } CASES[] = {
        {"binance", "secp256k1"}, {"paradex", "secp256k1"},   {"okx", "hmac"},
        {"hyperliquid", "hmac"},  {"hyperliquid", "ed25519"}, {"nosuchvenue", "secp256k1"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        enclave_payload p;
        SIGIL_SECRET(out);
        parse_ok(&p, make(CASES[i].venue, CASES[i].key_type, "\"generate\":true,"));
        assert_int_equal(enclave_keygen_payload(&out, &p), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_REQUEST);
        assert_null(out.p);
    }
    for (const char *const *v =
             (const char *const[]){"hyperliquid", "aster", "eip712", "eip191", "dydx", NULL};
         *v != NULL; v++)
        assert_true(sigil_venue_can_generate(sigil_venue_find(*v)));
}

/* The rebuild a policy update uses: replaced members, the others copied, an
 * absent optional member stays absent. */
static void test_rebuild_overrides(void **state)
{
    (void)state;
    enclave_payload p;
    SIGIL_SECRET(out);
    size_t n = make("binance", "hmac", "\"credentials\":{\"api_key\":\"k\",\"secret\":\"s\"},");
    /* drop client_pubkey from the text */
    char *cp = strstr(text, ",\"client_pubkey\":null");
    memmove(cp, cp + 21, strlen(cp + 21) + 1);
    n -= 21;
    parse_ok(&p, n);
    static const char NEW_POLICY[] = "{\"version\":2}";
    const enclave_member over[] = {{"policy", NEW_POLICY, sizeof(NEW_POLICY) - 1},
                                   {"policy_signature", "\"ab\"", 4}};
    assert_int_equal(enclave_payload_rebuild(&out, &p, over, 2), 0);
    char want[4096];
    const char *pol = strstr(text, ",\"policy\":");
    int m =
        snprintf(want, sizeof(want), "%.*s,\"policy\":{\"version\":2},\"policy_signature\":\"ab\"}",
                 (int)(pol - text), text);
    assert_int_equal(out.len, (size_t)m);
    assert_memory_equal(out.p, want, out.len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_parses), cmocka_unit_test(test_generate_strict),
        cmocka_unit_test(test_keygen_rebuilds), cmocka_unit_test(test_keygen_rejects_out_of_range),
        cmocka_unit_test(test_keygen_refuses),  cmocka_unit_test(test_rebuild_overrides),
    };
    if (randombytes_set_implementation(&SCRIPTED) != 0 || sigil_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
