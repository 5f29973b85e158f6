/*
 * Unit tests for the Paradex venue (trusted code): felt parsing and 10^8
 * scaling, the typed-data hashes of venues.md §8 (starknet.js 7.1.0 ==
 * 8.9.2 == ccxt 4.5.84), whole signed outputs, and what the request parser
 * refuses. The published vectors also run through the CLI
 * (tests/vectors/paradex.json); tests/diff/venues/paradex.mjs compares
 * random requests with starknet.js.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "venues/paradex_internal.h"

extern const sigil_venue sigil_venue_paradex;

#define KEY "0x06c9b58fa6c63b5c49115c3f75d7230042d639e7ac31635a3a54b3f84dc8f46f"
#define ACCOUNT "0x580a61734fbfec1df4b943762478e5d306c93a936a876f81fea8ae2f5fe6db"

static char g_out[8192];

static int sign(const char *req, sigil_network net)
{
    static const char CRED[] = "{\"private_key\":\"" KEY "\"}";
    sigil_credentials c;
    sigil_buf b;
    assert_int_equal(sigil_credentials_parse(&c, &sigil_venue_paradex, CRED, strlen(CRED)), 0);
    sigil_buf_init(&b, g_out, sizeof(g_out) - 1);
    int rc = sigil_sign(&b, &sigil_venue_paradex, &c, net, req, strlen(req));
    sigil_credentials_free(&c);
    g_out[rc == 0 ? b.len : 0] = '\0';
    assert_null(strstr(sigil_errmsg(), &KEY[3])); /* the key without "0x0" */
    assert_null(strstr(g_out, &KEY[3]));
    return rc;
}

static void expect_refused(const char *req, sigil_err code, const char *needle)
{
    assert_int_equal(sign(req, SIGIL_NET_MAINNET), -1);
    if (sigil_errno() != code || strstr(sigil_errmsg(), needle) == NULL)
        fail_msg("want %s naming %s, got %s: %s", sigil_err_code(code), needle,
                 sigil_err_code(sigil_errno()), sigil_errmsg());
}

static void assert_u256_hex(const sigil_u256 *v, const char *want)
{
    uint8_t be[32];
    char got[80];
    sigil_buf b;
    sigil_u256_to_be(be, v);
    sigil_buf_init(&b, got, sizeof(got) - 1);
    assert_int_equal(sigil_put_hex_int(&b, be, 32), 0);
    got[b.len] = '\0';
    assert_string_equal(got, want);
}

/* ---- felts ---- */

static void test_scaling(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } OK[] = {
        {"0.1", "0x989680"},           /* 10^7 */
        {"1500", "0x22ecb25c00"},      /* 1.5·10^11 */
        {"0.001", "0x186a0"},          /* 10^5 */
        {"0.00000001", "0x1"},         /* one unit */
        {"12.50000000", "0x4a817c80"}, /* 1.25·10^9 */
        {"0", "0x0"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(OK); i++) {
        sigil_u256 v;
        assert_int_equal(sigil_paradex_scaled(&v, OK[i].in, strlen(OK[i].in), "x"), 0);
        assert_u256_hex(&v, OK[i].out);
    }
    static const char *const BAD[] = {"",   ".5",          "5.",    "1e5", "-1",  "+1",
                                      "01", "0.123456789", "1.2.3", " 1",  "1,5", "0x10"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        sigil_u256 v;
        assert_int_equal(sigil_paradex_scaled(&v, BAD[i], strlen(BAD[i]), "x"), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    }
}

static void test_felts(void **state)
{
    (void)state;
    sigil_u256 v;
    uint8_t buf[96];
    sigil_buf b;
    assert_int_equal(sigil_paradex_short_string(&v, "ETH-USD-PERP", 12, "m"), 0);
    assert_u256_hex(&v, "0x4554482d5553442d50455250");
    assert_int_equal(sigil_paradex_short_string(&v, "", 0, "m"), 0);
    assert_u256_hex(&v, "0x0");
    assert_int_equal(sigil_paradex_short_string(&v, "0123456789012345678901234567890123", 32, "m"),
                     -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(sigil_paradex_decimal_felt(&v, "1234567890", 10, "id"), 0);
    assert_u256_hex(&v, "0x499602d2");
    assert_int_equal(sigil_paradex_decimal_felt(&v, "0123", 4, "id"), -1);
    /* p itself is refused, p - 1 accepted */
    static const char P_DEC[] =
        "3618502788666131213697322783095070105623107215331596699973092056135872020481";
    static const char PM1_DEC[] =
        "3618502788666131213697322783095070105623107215331596699973092056135872020480";
    assert_int_equal(sigil_paradex_decimal_felt(&v, P_DEC, strlen(P_DEC), "id"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(sigil_paradex_decimal_felt(&v, PM1_DEC, strlen(PM1_DEC), "id"), 0);
    sigil_buf_init(&b, buf, sizeof(buf));
    assert_int_equal(sigil_paradex_put_decimal(&b, &v), 0);
    assert_int_equal(b.len, strlen(PM1_DEC));
    assert_memory_equal(buf, PM1_DEC, b.len);
    assert_int_equal(sigil_paradex_hex_felt(&v, "0x", 2, "a"), -1);
    assert_int_equal(sigil_paradex_hex_felt(&v, "0xg1", 4, "a"), -1);
    assert_int_equal(sigil_paradex_hex_felt(&v, ACCOUNT, strlen(ACCOUNT), "a"), 0);
    assert_u256_hex(&v, ACCOUNT);
}

/* ---- typed data: venues.md §8 intermediate hashes ---- */

static void test_typed_hashes(void **state)
{
    (void)state;
    sigil_u256 h, acc;
    sigil_paradex_domain_hash(&h, SIGIL_NET_MAINNET);
    assert_u256_hex(&h, "0x6f74f207280b65cf663fb8d7763fac1e7398cd6d7da5d7681dc300ee4278a0a");
    sigil_paradex_domain_hash(&h, SIGIL_NET_TESTNET);
    assert_u256_hex(&h, "0x38b9242cb46eb19ff458c80a8f0eda7e8e26d8d6d54a63d9b5ed89750e39ef2");
    sigil_paradex_type_hash(&h, SIGIL_PARADEX_ORDER);
    assert_u256_hex(&h, "0xa56d5225b97b257c15ae2cb1cc0ea605381a886cd75463db45fd2ef9fbc255");
    sigil_paradex_type_hash(&h, SIGIL_PARADEX_MODIFY);
    assert_u256_hex(&h, "0x201789bb587c17b251fd38daf43b14807010ea721c2929a8c2fc33bf15c2e2c");
    sigil_paradex_type_hash(&h, SIGIL_PARADEX_AUTH);
    assert_u256_hex(&h, "0x186cdef6b179923c411c13c11b8a825f12bf34203bdda0a984da9d6f2313c2");
    sigil_paradex_type_hash(&h, SIGIL_PARADEX_ONBOARDING);
    assert_u256_hex(&h, "0xe84bbcb68e0f7c73a9058ba82b6da9c1ffdc502efcf034e78b0c003c22ecc9");

    sigil_paradex_message m = {.kind = SIGIL_PARADEX_ORDER};
    sigil_u256_from_u64(&m.fields[0], 1700000000000ull);
    assert_int_equal(sigil_paradex_short_string(&m.fields[1], "ETH-USD-PERP", 12, "m"), 0);
    sigil_u256_from_u64(&m.fields[2], 1);
    assert_int_equal(sigil_paradex_short_string(&m.fields[3], "LIMIT", 5, "t"), 0);
    sigil_u256_from_u64(&m.fields[4], 10000000ull);
    sigil_u256_from_u64(&m.fields[5], 150000000000ull);
    sigil_paradex_struct_hash(&h, &m);
    assert_u256_hex(&h, "0x1ca5aa7a70831c2b67b4100462ad66b993b5836808f18848c427af3643a8d8c");
    assert_int_equal(sigil_paradex_hex_felt(&acc, ACCOUNT, strlen(ACCOUNT), "a"), 0);
    sigil_paradex_message_hash(&h, SIGIL_NET_MAINNET, &acc, &m);
    assert_u256_hex(&h, "0x5e931462a048549200a5c327262b64c6f72da018d639afd561ae2e71f8af157");
}

/* ---- whole requests ---- */

static void test_order_output(void **state)
{
    (void)state;
    assert_int_equal(
        sign("{\"message\":\"order\",\"account\":\"" ACCOUNT "\","
             "\"signature_timestamp\":1700000000000,\"market\":\"ETH-USD-PERP\","
             "\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"0.1\",\"price\":\"1500\"}",
             SIGIL_NET_MAINNET),
        0);
    assert_string_equal(
        g_out, "{\"market\":\"ETH-USD-PERP\",\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"0.1\","
               "\"price\":\"1500\",\"signature\":\"[\\\"3135918010653406143350232886094331826485404"
               "604688519328715743931620244583313\\\",\\\"2531877741388686580694644408257946690693"
               "369058433526192793398727697495392392\\\"]\",\"signature_timestamp\":1700000000000,"
               "\"message_hash\":\"0x5e931462a048549200a5c327262b64c6f72da018d639afd561ae2e71f8af1"
               "57\"}");
}

static void test_auth_output(void **state)
{
    (void)state;
    assert_int_equal(sign("{\"message\":\"auth\",\"account\":\"" ACCOUNT "\","
                          "\"timestamp\":1700000000,\"expiration\":1700000300}",
                          SIGIL_NET_TESTNET),
                     0);
    assert_non_null(strstr(
        g_out, "\"PARADEX-STARKNET-SIGNATURE\":\"[\\\"348046146993957443268681749805024241786"
               "4712643025952393920471415378904777450\\\",\\\"2043170325899241983651952626488029"
               "46368725504923807616189085470740718137101\\\"]\""));
    assert_non_null(strstr(g_out, "\"PARADEX-TIMESTAMP\":\"1700000000\","
                                  "\"PARADEX-SIGNATURE-EXPIRATION\":\"1700000300\""));
    assert_non_null(strstr(g_out, "\"method\":\"POST\",\"path\":\"/v1/auth\""));
}

static void test_onboarding_output(void **state)
{
    (void)state;
    assert_int_equal(
        sign("{\"message\":\"onboarding\",\"account\":\"" ACCOUNT "\"}", SIGIL_NET_MAINNET), 0);
    assert_non_null(strstr(g_out, "\"body\":\"{\\\"public_key\\\":\\\"0x5644ab931ae1b485173822d5"
                                  "da025f8699c86ebc37c6385005762a05151ab71\\\"}\""));
    assert_non_null(strstr(g_out, "2460273973784780882616976701295435597998147110637886978379825"
                                  "436952386928678"));
    /* timestamp is for the service's freshness check only: same signature */
    char first[sizeof(g_out)];
    memcpy(first, g_out, sizeof(first));
    assert_int_equal(sign("{\"message\":\"onboarding\",\"account\":\"" ACCOUNT "\","
                          "\"timestamp\":1767225600000}",
                          SIGIL_NET_MAINNET),
                     0);
    assert_string_equal(g_out, first);
    expect_refused("{\"message\":\"onboarding\",\"account\":\"" ACCOUNT "\","
                   "\"timestamp\":1767225600}",
                   SIGIL_E_OUT_OF_RANGE, "request.timestamp");
}

/* account_info's unsigned timestamp is checked as onboarding's. */
#define ACCOUNT_INFO                                                                               \
    "{\"message\":\"account_info\",\"paraclear_account_hash\":\"0x1\","                            \
    "\"paraclear_account_proxy_hash\":\"0x2\""

static void test_account_info_timestamp(void **state)
{
    (void)state;
    assert_int_equal(sign(ACCOUNT_INFO "}", SIGIL_NET_MAINNET), 0);
    char first[sizeof(g_out)];
    memcpy(first, g_out, sizeof(first));
    assert_non_null(strstr(first, "\"public_key\":\"0x5644ab931ae1b485173822d5"));
    assert_int_equal(sign(ACCOUNT_INFO ",\"timestamp\":1767225600000}", SIGIL_NET_MAINNET), 0);
    assert_string_equal(g_out, first);
    expect_refused(ACCOUNT_INFO ",\"timestamp\":1767225600}", SIGIL_E_OUT_OF_RANGE,
                   "request.timestamp: expected Unix time in milliseconds");
    expect_refused(ACCOUNT_INFO ",\"timestamp\":\"1767225600000\"}", SIGIL_E_BAD_FIELD,
                   "request.timestamp");
}

static void test_refusals(void **state)
{
    (void)state;
#define ORDER_HEAD "{\"message\":\"order\",\"account\":\"" ACCOUNT "\","
    expect_refused("{\"message\":\"withdraw\",\"account\":\"" ACCOUNT "\"}", SIGIL_E_BAD_FIELD,
                   "request.message");
    expect_refused("{\"account\":\"" ACCOUNT "\"}", SIGIL_E_MISSING_FIELD, "request.message");
    expect_refused("{\"message\":\"onboarding\",\"account\":\"" ACCOUNT "\",\"x\":1}",
                   SIGIL_E_UNKNOWN_FIELD, "request");
    expect_refused("{\"message\":\"onboarding\",\"account\":\"580a\"}", SIGIL_E_BAD_FIELD,
                   "request.account");
    expect_refused(ORDER_HEAD
                   "\"signature_timestamp\":1700000000,\"market\":\"ETH-USD-PERP\","
                   "\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"0.1\",\"price\":\"1\"}",
                   SIGIL_E_OUT_OF_RANGE, "request.signature_timestamp");
    expect_refused(ORDER_HEAD
                   "\"signature_timestamp\":1700000000000,\"market\":\"ETH-USD-PERP\","
                   "\"side\":\"buy\",\"type\":\"LIMIT\",\"size\":\"0.1\",\"price\":\"1\"}",
                   SIGIL_E_BAD_FIELD, "request.side");
    expect_refused(ORDER_HEAD "\"signature_timestamp\":1700000000000,\"market\":\"ETH-USD-PERP\","
                              "\"side\":\"BUY\",\"type\":\"ICEBERG\",\"size\":\"0.1\"}",
                   SIGIL_E_BAD_FIELD, "request.type");
    expect_refused(ORDER_HEAD "\"signature_timestamp\":1700000000000,\"market\":\"ETH-USD-PERP\","
                              "\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"0.1\"}",
                   SIGIL_E_MISSING_FIELD, "request.price");
    expect_refused(ORDER_HEAD "\"signature_timestamp\":1700000000000,\"market\":\"ETH-USD-PERP\","
                              "\"side\":\"BUY\",\"type\":\"MARKET\",\"size\":\"0.1\","
                              "\"price\":\"1500\"}",
                   SIGIL_E_BAD_FIELD, "request.price");
    expect_refused(ORDER_HEAD "\"signature_timestamp\":1700000000000,\"market\":\"ETH-USD-PERP\","
                              "\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"0.123456789\","
                              "\"price\":\"1\"}",
                   SIGIL_E_BAD_FIELD, "request.size");
    expect_refused(ORDER_HEAD "\"signature_timestamp\":1700000000000,\"market\":\"ETH-USD-PERP\","
                              "\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":0.1,\"price\":\"1\"}",
                   SIGIL_E_BAD_FIELD, "request.size");
    expect_refused(ORDER_HEAD "\"signature_timestamp\":1700000000000,"
                              "\"market\":\"ETH-USD-PERP-WITH-A-VERY-LONG-NAME-X\","
                              "\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"1\",\"price\":\"1\"}",
                   SIGIL_E_OUT_OF_RANGE, "request.market");
    expect_refused(ORDER_HEAD "\"signature_timestamp\":1700000000000,\"market\":\"ETH\\u0000\","
                              "\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"1\",\"price\":\"1\"}",
                   SIGIL_E_BAD_FIELD, "request.market");
    expect_refused("{\"message\":\"modify_order\",\"account\":\"" ACCOUNT "\","
                   "\"signature_timestamp\":1700000000000,\"market\":\"ETH-USD-PERP\","
                   "\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"1\",\"price\":\"1\"}",
                   SIGIL_E_MISSING_FIELD, "request.id");
    expect_refused("{\"message\":\"auth\",\"account\":\"" ACCOUNT "\","
                   "\"timestamp\":1700000300,\"expiration\":1700000000}",
                   SIGIL_E_BAD_FIELD, "request.expiration");
    expect_refused("{\"message\":\"auth\",\"account\":\"" ACCOUNT "\","
                   "\"timestamp\":1700000000000,\"expiration\":1700000300000}",
                   SIGIL_E_OUT_OF_RANGE, "request.timestamp");
#undef ORDER_HEAD
}

/* venues.md §8 key derivation: the wallet signs EIP-712 Constant{action:
 * "STARK Key"} (domain Paradex / 1 / chainId 1), r is ground into the Stark
 * key, whose public key deploys the account (ethers 6.17.0 + starkware-crypto
 * grindKey + starknet.js 7.1.0 == @paradex/sdk 0.8.1 == ccxt 4.5.84). */
static void test_key_derivation(void **state)
{
    (void)state;
    static const char TYPED[] =
        "{\"domain\":{\"name\":\"Paradex\",\"chainId\":1,\"version\":\"1\"},"
        "\"types\":{\"Constant\":[{\"name\":\"action\",\"type\":\"string\"}]},"
        "\"primaryType\":\"Constant\",\"message\":{\"action\":\"STARK Key\"}}";
    uint8_t eth_key[32], digest[32], domain[32], sig[64], stark[32], pub[32];
    int recid;
    sigil_json_tok toks[64];
    sigil_json d;
    sigil_u256 p, acc, proxy, addr;
    assert_int_equal(sigil_hex_decode_exact(eth_key, 32,
                                            "0123456789012345678901234567890123456789012345678901"
                                            "234567890123",
                                            64, false, "key"),
                     0);
    assert_int_equal(sigil_json_parse(&d, TYPED, strlen(TYPED), toks, 64), 0);
    assert_int_equal(sigil_eip712_hash_typed_data(digest, domain, &d, 0, NULL, 0), 0);
    assert_int_equal(sigil_secp256k1_sign(sig, &recid, eth_key, digest), 0);
    char hex[129];
    sigil_hex_encode(hex, sig, 64);
    assert_string_equal(hex, "6f0e023dd82d984d3133b8fe00d0a9d58fba29cbf7e8cc04768946f743fdd644"
                             "0f84b2e8c4470d65e51c520e6569d050b627366142efb325b98c346e9301328a");
    assert_int_equal(sigil_paradex_grind_key(stark, sig), 0);
    sigil_u256 k;
    sigil_u256_from_be(&k, stark);
    assert_u256_hex(&k, "0x6c9b58fa6c63b5c49115c3f75d7230042d639e7ac31635a3a54b3f84dc8f46f");
    assert_int_equal(sigil_stark_public_key(pub, stark), 0);
    sigil_u256_from_be(&p, pub);
    assert_u256_hex(&p, "0x5644ab931ae1b485173822d5da025f8699c86ebc37c6385005762a05151ab71");
    static const char ACC_HASH[] =
        "0x41cb0280ebadaa75f996d8d92c6f265f6d040bb3ba442e5f86a554f1765244e";
    static const char PROXY_HASH[] =
        "0x3530cc4759d78042f1b543bf797f5f3d647cde0388c33734cf91b7f7b9314a9";
    assert_int_equal(sigil_paradex_hex_felt(&acc, ACC_HASH, strlen(ACC_HASH), "a"), 0);
    assert_int_equal(sigil_paradex_hex_felt(&proxy, PROXY_HASH, strlen(PROXY_HASH), "p"), 0);
    sigil_paradex_account_address(&addr, &p, &acc, &proxy);
    assert_u256_hex(&addr, ACCOUNT);
}

/* A key the Stark curve cannot take (>= n) is refused at signing. */
static void test_key_above_order(void **state)
{
    (void)state;
    static const char CRED[] =
        "{\"private_key\":\"0x0800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2f\"}";
    static const char REQ[] = "{\"message\":\"onboarding\",\"account\":\"" ACCOUNT "\"}";
    sigil_credentials c;
    sigil_buf b;
    assert_int_equal(sigil_credentials_parse(&c, &sigil_venue_paradex, CRED, strlen(CRED)), 0);
    sigil_buf_init(&b, g_out, sizeof(g_out));
    assert_int_equal(sigil_sign(&b, &sigil_venue_paradex, &c, SIGIL_NET_MAINNET, REQ, strlen(REQ)),
                     -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    assert_int_equal(b.len, 0);
    sigil_credentials_free(&c);
}

int main(void)
{
    if (sigil_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scaling),
        cmocka_unit_test(test_felts),
        cmocka_unit_test(test_typed_hashes),
        cmocka_unit_test(test_order_output),
        cmocka_unit_test(test_auth_output),
        cmocka_unit_test(test_onboarding_output),
        cmocka_unit_test(test_account_info_timestamp),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_key_above_order),
        cmocka_unit_test(test_key_derivation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
