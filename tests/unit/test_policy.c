/*
 * Unit tests for the policy layer (src/policy): RFC 8785 canonical form, the
 * policy schema, owner signatures and evaluation. Each rule has a case that
 * fails if the rule is dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/crypto.h"
#include "sigil/policy.h"

static char g_canon[64 * 1024];

static int canon(const char *in, size_t len, size_t *out_len)
{
    sigil_buf b;
    sigil_clear_error();
    sigil_buf_init(&b, g_canon, sizeof(g_canon) - 1);
    int rc = sigil_json_canonicalize(&b, in, len);
    g_canon[b.len] = '\0';
    *out_len = b.len;
    return rc;
}

/* Literals may hold NUL or non-ASCII bytes: lengths come from sizeof. */
#define CANON_EQ(in, want)                                                                         \
    do {                                                                                           \
        size_t n_;                                                                                 \
        if (canon((in), sizeof(in) - 1, &n_) != 0)                                                 \
            fail_msg("refused %s: %s", (in), sigil_errmsg());                                      \
        assert_int_equal(n_, sizeof(want) - 1);                                                    \
        assert_memory_equal(g_canon, (want), sizeof(want) - 1);                                    \
    } while (0)
#define CANON_REFUSED(in, code)                                                                    \
    do {                                                                                           \
        size_t n_;                                                                                 \
        if (canon((in), sizeof(in) - 1, &n_) == 0)                                                 \
            fail_msg("accepted %s", (in));                                                         \
        assert_string_equal(sigil_err_code(sigil_errno()), sigil_err_code(code));                  \
        assert_int_equal(n_, 0); /* fails atomically */                                            \
    } while (0)

/* ---- canonical form ---- */

/* RFC 8785 §3.2.3: members sorted by UTF-16 code units (U+1F600 sorts before
 * U+FB33 although its code point is larger). */
static void test_canon_rfc8785_sorting(void **state)
{
    (void)state;
    CANON_EQ("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter "
             "Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\","
             "\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
             "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
             "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
             "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
             "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
    /* Raw UTF-8 keys sort the same way as escaped ones. */
    CANON_EQ("{\"\xef\xac\xb3\":1,\"\xf0\x9f\x98\x80\":2,\"a\":3}",
             "{\"a\":3,\"\xf0\x9f\x98\x80\":2,\"\xef\xac\xb3\":1}");
    /* Prefixes first; byte order within ASCII; nested objects sorted too. */
    CANON_EQ("{\"b\":{\"z\":1,\"a\":[{\"y\":1,\"x\":2}]},\"a\":1,\"ab\":2,\"B\":0}",
             "{\"B\":0,\"a\":1,\"ab\":2,\"b\":{\"a\":[{\"x\":2,\"y\":1}],\"z\":1}}");
}

/* RFC 8785 §3.2.2.2 string example, and the escapes JCS writes short. */
static void test_canon_rfc8785_strings(void **state)
{
    (void)state;
    CANON_EQ("{\"string\":\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\"}",
             "{\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    CANON_EQ("[\"\\u0008\\u000c\\u0009\\u000d\\u0000\\u001f\\u007f\"]",
             "[\"\\b\\f\\t\\r\\u0000\\u001f\x7f\"]");
    CANON_EQ("[\"\\b\\f\\n\\r\\t\"]", "[\"\\b\\f\\n\\r\\t\"]");
    CANON_EQ("[\"\\u00e9\",\"\xc3\xa9\"]", "[\"\xc3\xa9\",\"\xc3\xa9\"]");
}

static void test_canon_literals_whitespace_integers(void **state)
{
    (void)state;
    CANON_EQ(" [ null , true , false , { } , [ ] ] \n", "[null,true,false,{},[]]");
    CANON_EQ("{\"n\":[0,-0,1,-1,9007199254740991,-9007199254740991]}",
             "{\"n\":[0,0,1,-1,9007199254740991,-9007199254740991]}");
    /* RFC 8785 §3.2.2.3 numbers beyond the integer subset are refused. */
    CANON_REFUSED("{\"n\":333333333.33333329}", SIGIL_E_BAD_FIELD);
    CANON_REFUSED("{\"n\":1E30}", SIGIL_E_BAD_FIELD);
    CANON_REFUSED("{\"n\":4.50}", SIGIL_E_BAD_FIELD);
    CANON_REFUSED("{\"n\":2e-3}", SIGIL_E_BAD_FIELD);
    CANON_REFUSED("[1.0]", SIGIL_E_BAD_FIELD);
    CANON_REFUSED("[9007199254740992]", SIGIL_E_OUT_OF_RANGE);
    CANON_REFUSED("[-9007199254740992]", SIGIL_E_OUT_OF_RANGE);
    CANON_REFUSED("[123456789012345678901234567890]", SIGIL_E_OUT_OF_RANGE);
    /* Not strict JSON: refused by the reader. */
    CANON_REFUSED("{\"a\":1,\"a\":2}", SIGIL_E_DUPLICATE_KEY);
    CANON_REFUSED("{\"a\":1,}", SIGIL_E_BAD_JSON);
    CANON_REFUSED("[\"\\ud800\"]", SIGIL_E_BAD_JSON);
}

static void test_canon_is_idempotent_and_atomic(void **state)
{
    (void)state;
    static const char in[] = "{\"z\":[1,{\"b\":\"\\u00e9\",\"a\":null}],\"y\":\"\\/\"}";
    size_t n1, n2;
    char first[256];
    assert_int_equal(canon(in, sizeof(in) - 1, &n1), 0);
    memcpy(first, g_canon, n1);
    assert_int_equal(canon(first, n1, &n2), 0);
    assert_int_equal(n1, n2);
    assert_memory_equal(first, g_canon, n1);
    /* Too small an output buffer: refused, buffer unchanged. */
    char small[8];
    sigil_buf b;
    sigil_buf_init(&b, small, sizeof(small));
    assert_int_equal(sigil_buf_put(&b, "xy", 2), 0);
    assert_int_equal(sigil_json_canonicalize(&b, in, sizeof(in) - 1), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    assert_int_equal(b.len, 2);
}

/* ---- schema ---- */

#define GOOD                                                                                       \
    "{\"version\":1,\"tenant\":\"acme-1\",\"venue\":\"binance\",\"network\":\"mainnet\","          \
    "\"actions\":[\"order\",\"cancel\"],\"not_after\":2000000000}"

static int parse(sigil_policy *p, const char *json)
{
    sigil_clear_error();
    return sigil_policy_parse(p, json, strlen(json));
}

static void test_policy_parse_good(void **state)
{
    (void)state;
    sigil_policy p;
    assert_int_equal(parse(&p, GOOD), 0);
    assert_int_equal(p.version, 1);
    assert_string_equal(p.tenant, "acme-1");
    assert_string_equal(p.venue, "binance");
    assert_int_equal(p.network, SIGIL_NET_MAINNET);
    assert_int_equal(p.actions, (1u << SIGIL_ACTION_ORDER) | (1u << SIGIL_ACTION_CANCEL));
    assert_int_equal(p.not_before, 0);
    assert_int_equal(p.not_after, 2000000000);

    /* The hash is SHA-256 of the canonical form, computed independently. */
    static const char canonical[] =
        "{\"actions\":[\"order\",\"cancel\"],\"network\":\"mainnet\",\"not_after\":2000000000,"
        "\"tenant\":\"acme-1\",\"venue\":\"binance\",\"version\":1}";
    uint8_t want[32];
    crypto_hash_sha256(want, (const uint8_t *)canonical, sizeof(canonical) - 1);
    assert_memory_equal(p.hash, want, 32);

    /* Same policy, other member order and whitespace, escaped letters: same hash. */
    sigil_policy q;
    assert_int_equal(
        parse(&q, " { \"not_after\" : 2000000000 , \"actions\":[\"order\",\"c\\u0061ncel\"],"
                  "\"network\":\"mainnet\",\"venue\":\"binance\",\"tenant\":\"acme-1\","
                  "\"version\":1 }\n"),
        0);
    assert_memory_equal(q.hash, want, 32);

    assert_int_equal(parse(&q, "{\"version\":7,\"tenant\":\"t_\",\"venue\":\"hyperliquid\","
                               "\"network\":\"testnet\",\"actions\":[\"*\"],\"not_before\":10,"
                               "\"not_after\":11}"),
                     0);
    assert_int_equal(q.actions, SIGIL_ACTIONS_ALL);
    assert_int_equal(q.network, SIGIL_NET_TESTNET);
    assert_int_equal(q.not_before, 10);
    assert_memory_not_equal(q.hash, want, 32);
}

typedef struct {
    const char *json;
    sigil_err code;
    const char *field; /* a substring of the message */
} bad_policy;

#define BASE_NO(field_json)                                                                        \
    "{\"version\":1,\"tenant\":\"acme\",\"venue\":\"binance\"," field_json "}"
#define WITH(extra)                                                                                \
    "{\"version\":1,\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\","            \
    "\"actions\":[\"order\"],\"not_after\":2000000000" extra "}"
#define ACTIONS(a)                                                                                 \
    "{\"version\":1,\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\","            \
    "\"actions\":" a ",\"not_after\":2000000000}"

static const bad_policy BAD[] = {
    {"[]", SIGIL_E_BAD_FIELD, "policy"},
    {"{", SIGIL_E_BAD_JSON, ""},
    {"{\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\",\"actions\":[\"order\"],"
     "\"not_after\":2000000000}",
     SIGIL_E_MISSING_FIELD, "policy.version"},
    {"{\"version\":0,\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":2000000000}",
     SIGIL_E_OUT_OF_RANGE, "policy.version"},
    {"{\"version\":-1,\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":2000000000}",
     SIGIL_E_OUT_OF_RANGE, "policy.version"},
    {"{\"version\":1.5,\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":2000000000}",
     SIGIL_E_BAD_FIELD, "policy.version"},
    {"{\"version\":\"1\",\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":2000000000}",
     SIGIL_E_BAD_FIELD, "policy.version"},
    {"{\"version\":1,\"tenant\":\"\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":2000000000}",
     SIGIL_E_BAD_FIELD, "policy.tenant"},
    {"{\"version\":1,\"tenant\":\"Acme\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":2000000000}",
     SIGIL_E_BAD_FIELD, "policy.tenant"},
    {"{\"version\":1,\"tenant\":\"a\\u0000b\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":2000000000}",
     SIGIL_E_BAD_FIELD, "policy.tenant"},
    {"{\"version\":1,\"tenant\":"
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
     "\"venue\":\"binance\",\"network\":\"mainnet\",\"actions\":[\"order\"],\"not_after\":"
     "2000000000}",
     SIGIL_E_BAD_FIELD, "policy.tenant"},
    {"{\"version\":1,\"tenant\":\"acme\",\"venue\":\"nasdaq\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":2000000000}",
     SIGIL_E_UNKNOWN_VENUE, "policy.venue"},
    {"{\"version\":1,\"tenant\":\"acme\",\"venue\":7,\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":2000000000}",
     SIGIL_E_BAD_FIELD, "policy.venue"},
    {BASE_NO("\"network\":\"devnet\",\"actions\":[\"order\"],\"not_after\":2000000000"),
     SIGIL_E_BAD_FIELD, "policy.network"},
    {BASE_NO("\"actions\":[\"order\"],\"not_after\":2000000000"), SIGIL_E_MISSING_FIELD,
     "policy.network"},
    {ACTIONS("[]"), SIGIL_E_BAD_FIELD, "policy.actions"},
    {ACTIONS("\"order\""), SIGIL_E_BAD_FIELD, "policy.actions"},
    {ACTIONS("[\"order\",\"order\"]"), SIGIL_E_BAD_FIELD, "policy.actions[1]"},
    {ACTIONS("[\"*\",\"order\"]"), SIGIL_E_BAD_FIELD, "policy.actions"},
    {ACTIONS("[\"order\",\"*\"]"), SIGIL_E_BAD_FIELD, "policy.actions"},
    {ACTIONS("[\"trade\"]"), SIGIL_E_BAD_FIELD, "policy.actions[0]"},
    {ACTIONS("[\"Order\"]"), SIGIL_E_BAD_FIELD, "policy.actions[0]"},
    {ACTIONS("[1]"), SIGIL_E_BAD_FIELD, "policy.actions[0]"},
    {ACTIONS("[\"order\",\"cancel\",\"modify\",\"leverage\",\"read\",\"transfer\",\"withdraw\","
             "\"agent\",\"auth\",\"other\",\"order\",\"order\",\"order\",\"order\",\"order\","
             "\"order\",\"order\"]"),
     SIGIL_E_BAD_FIELD, "policy.actions"},
    {WITH(",\"max_qty\":\"1\""), SIGIL_E_UNKNOWN_FIELD, "policy.max_qty"},
    {WITH(",\"not_before\":null"), SIGIL_E_BAD_FIELD, "policy.not_before"},
    {WITH(",\"not_before\":2000000000"), SIGIL_E_BAD_FIELD, "policy.not_before"},
    {WITH(",\"version\":2"), SIGIL_E_DUPLICATE_KEY, ""},
    {"{\"version\":1,\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"]}",
     SIGIL_E_MISSING_FIELD, "policy.not_after"},
    {"{\"version\":1,\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":9007199254740992}",
     SIGIL_E_OUT_OF_RANGE, "policy.not_after"},
    {"{\"version\":1,\"tenant\":\"acme\",\"venue\":\"binance\",\"network\":\"mainnet\","
     "\"actions\":[\"order\"],\"not_after\":0}",
     SIGIL_E_OUT_OF_RANGE, "policy.not_after"},
};

static void test_policy_schema_refusals(void **state)
{
    (void)state;
    assert_true(SIGIL_ARRAY_LEN(BAD) >= 15);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        static sigil_policy p, zero;
        memset(&p, 0x5a, sizeof(p));
        if (parse(&p, BAD[i].json) == 0)
            fail_msg("case %zu accepted: %s", i, BAD[i].json);
        if (sigil_errno() != BAD[i].code || strstr(sigil_errmsg(), BAD[i].field) == NULL)
            fail_msg("case %zu: got %s \"%s\", want %s naming %s", i, sigil_err_code(sigil_errno()),
                     sigil_errmsg(), sigil_err_code(BAD[i].code), BAD[i].field);
        assert_memory_equal(&p, &zero, sizeof(p)); /* nothing half-parsed left behind */
    }
}

static void test_policy_too_large(void **state)
{
    (void)state;
    static char big[SIGIL_POLICY_MAX_BYTES + 2];
    sigil_policy p;
    memset(big, ' ', sizeof(big));
    memcpy(big, GOOD, strlen(GOOD));
    assert_int_equal(sigil_policy_parse(&p, big, SIGIL_POLICY_MAX_BYTES), 0);
    assert_int_equal(sigil_policy_parse(&p, big, SIGIL_POLICY_MAX_BYTES + 1), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

/* ---- owner signatures ---- */

static void owner_key(uint8_t pk[32], uint8_t seed[32])
{
    uint8_t sk[64];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

#define KID "00112233445566778899aabbccddeeff"

/* Parses json and signs it for KID. */
static int sign_for(uint8_t sig[64], const char *json, const char *key_id, const uint8_t seed[32])
{
    sigil_policy p;
    if (sigil_policy_parse(&p, json, strlen(json)) != 0)
        return -1;
    return sigil_policy_sign(sig, &p, json, strlen(json), key_id, seed);
}

static int verify_for(const char *json, const char *key_id, const uint8_t sig[64],
                      const uint8_t pk[32])
{
    sigil_policy p;
    sigil_clear_error();
    if (sigil_policy_parse(&p, json, strlen(json)) != 0)
        return -1;
    return sigil_policy_verify(&p, json, strlen(json), key_id, sig, pk);
}

static void test_policy_sign_verify(void **state)
{
    (void)state;
    uint8_t pk[32], seed[32], sig[64];
    owner_key(pk, seed);
    assert_int_equal(sign_for(sig, GOOD, KID, seed), 0);
    assert_int_equal(verify_for(GOOD, KID, sig, pk), 0);

    /* Independently: Ed25519 over "sigil-policy-v2\0" (16 bytes) || u32be len tenant ||
     * tenant || u32be len key id || key id || u64be version || canonical. */
    static const char msg[] =
        "sigil-policy-v2\0"
        "\x00\x00\x00\x06"
        "acme-1"
        "\x00\x00\x00\x20" KID "\x00\x00\x00\x00\x00\x00\x00\x01"
        "{\"actions\":[\"order\",\"cancel\"],\"network\":\"mainnet\","
        "\"not_after\":2000000000,\"tenant\":\"acme-1\",\"venue\":\"binance\",\"version\":1}";
    assert_int_equal(SIGIL_POLICY_SIG_PREFIX_LEN, 16);
    assert_int_equal(crypto_sign_verify_detached(sig, (const uint8_t *)msg, sizeof(msg) - 1, pk),
                     0);

    /* The signature covers the canonical form, not the bytes. */
    static const char reordered[] = "{\"not_after\":2000000000,\"version\":1,\"tenant\":\"acme-1\","
                                    "\"venue\":\"binance\",\"network\":\"mainnet\",\n"
                                    "\"actions\":[\"order\",\"cancel\"]}";
    assert_int_equal(verify_for(reordered, KID, sig, pk), 0);
    /* It fits one key: another key id does not verify; a malformed one is refused. */
    assert_int_equal(verify_for(GOOD, "ffeeddccbbaa99887766554433221100", sig, pk), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_SIGNATURE);
    assert_int_equal(verify_for(GOOD, "00112233445566778899AABBCCDDEEFF", sig, pk), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
}

static void test_policy_verify_refuses_tampering(void **state)
{
    (void)state;
    uint8_t pk[32], seed[32], sig[64], other_pk[32], other_sk[64];
    owner_key(pk, seed);
    crypto_sign_keypair(other_pk, other_sk);
    assert_int_equal(sign_for(sig, GOOD, KID, seed), 0);

    static const char *const TAMPERED[] = {
        "{\"version\":1,\"tenant\":\"acme-1\",\"venue\":\"binance\",\"network\":\"mainnet\","
        "\"actions\":[\"order\",\"cancel\",\"withdraw\"],\"not_after\":2000000000}",
        "{\"version\":1,\"tenant\":\"acme-1\",\"venue\":\"binance\",\"network\":\"mainnet\","
        "\"actions\":[\"order\",\"cancel\"],\"not_after\":2000000001}",
        "{\"version\":1,\"tenant\":\"acme-1\",\"venue\":\"binance\",\"network\":\"mainnet\","
        "\"actions\":[\"cancel\",\"order\"],\"not_after\":2000000000}",
        "{\"version\":1,\"tenant\":\"acme-2\",\"venue\":\"binance\",\"network\":\"mainnet\","
        "\"actions\":[\"order\",\"cancel\"],\"not_after\":2000000000}",
        "{\"version\":2,\"tenant\":\"acme-1\",\"venue\":\"binance\",\"network\":\"mainnet\","
        "\"actions\":[\"order\",\"cancel\"],\"not_after\":2000000000}",
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(TAMPERED); i++) {
        assert_int_equal(verify_for(TAMPERED[i], KID, sig, pk), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_SIGNATURE);
    }
    for (size_t bit = 0; bit < 512; bit += 37) {
        uint8_t bad[64];
        memcpy(bad, sig, 64);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(verify_for(GOOD, KID, bad, pk), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_SIGNATURE);
    }
    assert_int_equal(verify_for(GOOD, KID, sig, other_pk), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_SIGNATURE);
}

/* ---- evaluation ---- */

typedef struct {
    const char *venue;
    sigil_network net;
    sigil_action action;
    uint64_t now;
    const char *deny; /* NULL: allowed; else a substring of the message */
} check_case;

static void test_policy_check_table(void **state)
{
    (void)state;
    sigil_policy p;
    assert_int_equal(parse(&p, "{\"version\":1,\"tenant\":\"acme\",\"venue\":\"binance\","
                               "\"network\":\"testnet\",\"actions\":[\"order\",\"read\"],"
                               "\"not_before\":1000,\"not_after\":2000}"),
                     0);
    static const check_case CASES[] = {
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, 1000, NULL},
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_READ, 1999, NULL},
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, 999, "not valid before 1000"},
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, 0, "not valid before 1000"},
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, 2000, "expired at 2000"},
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, UINT64_MAX, "expired at 2000"},
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_WITHDRAW, 1500,
         "policy: action withdraw not allowed"},
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_CANCEL, 1500, "action cancel not allowed"},
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_OTHER, 1500, "action other not allowed"},
        {"binance", SIGIL_NET_TESTNET, SIGIL_ACTION_COUNT_, 1500, "unknown action"},
        {"binance", SIGIL_NET_MAINNET, SIGIL_ACTION_ORDER, 1500, "network mainnet not allowed"},
        {"bybit", SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, 1500, "venue bybit not allowed"},
        {"binance2", SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, 1500, "venue (unknown) not allowed"},
        {"", SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, 1500, "venue"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        const check_case *c = &CASES[i];
        sigil_clear_error();
        int rc = sigil_policy_check(&p, c->venue, c->net, c->action, c->now);
        if (c->deny == NULL) {
            if (rc != 0)
                fail_msg("case %zu denied: %s", i, sigil_errmsg());
            continue;
        }
        if (rc == 0)
            fail_msg("case %zu allowed", i);
        assert_int_equal(sigil_errno(), SIGIL_E_POLICY_DENIED);
        if (strstr(sigil_errmsg(), c->deny) == NULL)
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, sigil_errmsg(), c->deny);
    }
    assert_int_equal(
        sigil_policy_check(NULL, "binance", SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, 1500), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_POLICY_DENIED);
    assert_int_equal(sigil_policy_check(&p, NULL, SIGIL_NET_TESTNET, SIGIL_ACTION_ORDER, 1500), -1);
}

static void test_policy_star_allows_every_action(void **state)
{
    (void)state;
    sigil_policy p;
    assert_int_equal(parse(&p, "{\"version\":1,\"tenant\":\"acme\",\"venue\":\"okx\","
                               "\"network\":\"mainnet\",\"actions\":[\"*\"],\"not_after\":20}"),
                     0);
    for (unsigned a = 0; a < SIGIL_ACTION_COUNT_; a++)
        assert_int_equal(sigil_policy_check(&p, "okx", SIGIL_NET_MAINNET, (sigil_action)a, 0), 0);
    /* A policy listing each action allows it and no other. */
    for (unsigned a = 0; a < SIGIL_ACTION_COUNT_; a++) {
        char json[256];
        (void)snprintf(json, sizeof(json),
                       "{\"version\":1,\"tenant\":\"acme\",\"venue\":\"okx\",\"network\":"
                       "\"mainnet\",\"actions\":[\"%s\"],\"not_after\":20}",
                       sigil_action_name((sigil_action)a));
        assert_int_equal(parse(&p, json), 0);
        for (unsigned b = 0; b < SIGIL_ACTION_COUNT_; b++)
            assert_int_equal(sigil_policy_check(&p, "okx", SIGIL_NET_MAINNET, (sigil_action)b, 19),
                             a == b ? 0 : -1);
    }
}

static void test_action_names_roundtrip(void **state)
{
    (void)state;
    for (unsigned a = 0; a < SIGIL_ACTION_COUNT_; a++) {
        sigil_action back;
        const char *n = sigil_action_name((sigil_action)a);
        assert_int_equal(sigil_action_parse(&back, n, strlen(n)), 0);
        assert_int_equal(back, a);
    }
    assert_string_equal(sigil_action_name(SIGIL_ACTION_COUNT_), "unknown");
    sigil_action x;
    assert_int_equal(sigil_action_parse(&x, "orders", 6), -1);
    assert_int_equal(sigil_action_parse(&x, "order", 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_rfc8785_sorting),
        cmocka_unit_test(test_canon_rfc8785_strings),
        cmocka_unit_test(test_canon_literals_whitespace_integers),
        cmocka_unit_test(test_canon_is_idempotent_and_atomic),
        cmocka_unit_test(test_policy_parse_good),
        cmocka_unit_test(test_policy_schema_refusals),
        cmocka_unit_test(test_policy_too_large),
        cmocka_unit_test(test_policy_sign_verify),
        cmocka_unit_test(test_policy_verify_refuses_tampering),
        cmocka_unit_test(test_policy_check_table),
        cmocka_unit_test(test_policy_star_allows_every_action),
        cmocka_unit_test(test_action_names_roundtrip),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
