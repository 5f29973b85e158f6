/*
 * Unit tests for the Kraken, Bitget and Gate venues (trusted code) and the
 * keyed HMAC-SHA512 they use. Outputs are compared byte for byte with values
 * computed independently (Python's hmac/hashlib/base64/urllib, and the
 * vectors of venues.md §10-§12); every refusal is checked for its error code,
 * the field it names, and the absence of secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "venues/venues_internal.h"

static const char KRAKEN_CRED[] =
    "{\"api_key\":\"kraken-key\",\"secret\":\"kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxn"
    "yRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==\"}";
static const char BITGET_CRED[] =
    "{\"api_key\":\"bg_0123456789abcdef0123456789abcdef\","
    "\"secret\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
    "\"passphrase\":\"Passphrase123\"}";
static const char GATE_CRED[] =
    "{\"api_key\":\"gate_key_0123456789\",\"secret\":\"gate_secret_0123456789abcdef\"}";
/* Never in an output or error message (Bitget's passphrase only in its header). */
static const char *const SECRETS[] = {
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxn",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "gate_secret_0123456789abcdef",
    "Passphrase123",
};

#include "test_venue_util.h"

static void expect_signed(const char *venue, const char *cred, sigil_network net, const char *req,
                          const char *want)
{
    if (sign(venue, cred, net, req) != 0)
        fail_msg("%s: %s", venue, sigil_errmsg());
    assert_string_equal(g_out, want);
    assert_no_secret(g_out, strcmp(venue, "bitget") == 0 ? "Passphrase123" : NULL);
}

/* ---- keyed HMAC-SHA512 vs libsodium's, around the 128-byte block ---- */

static void test_hmac_sha512_keyed(void **state)
{
    (void)state;
    static const size_t KLEN[] = {0, 1, 64, 127, 128, 129, 300};
    uint8_t key[300], a[64], b[64];
    const char msg[] = "The quick brown fox";
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(KLEN); i++) {
        sigil_secret st = {0};
        assert_int_equal(sigil_hmac_sha512_key(&st, key, KLEN[i]), 0);
        sigil_hmac_sha512_keyed(a, &st, msg, sizeof(msg) - 1);
        sigil_hmac_sha512_keyed(b, &st, msg, sizeof(msg) - 1); /* state is not consumed */
        assert_memory_equal(a, b, 64);
        sigil_hmac_sha512(b, key, KLEN[i], msg, sizeof(msg) - 1);
        assert_memory_equal(a, b, 64);
        sigil_secret_free(&st);
    }
    /* Python: hmac.new(bytes((i*7+3)&255 for i in range(129)), msg, sha512) */
    static const uint8_t WANT129[16] = {0x21, 0xaf, 0x88, 0xa5, 0x96, 0x0a, 0x3e, 0xd6,
                                        0xbf, 0xab, 0xbd, 0x96, 0xc7, 0x22, 0x29, 0xf3};
    sigil_hmac_sha512(a, key, 129, msg, sizeof(msg) - 1);
    assert_memory_equal(a, WANT129, 16);
}

/* ---- Kraken ---- */

#define KR_DOCS_BODY                                                                               \
    "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
#define KR_DOCS_SIGN                                                                               \
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="

static void test_kraken_docs_example(void **state)
{
    (void)state;
    static const char WANT[] =
        "{\"method\":\"POST\",\"path\":\"/0/private/"
        "AddOrder\",\"query\":\"\",\"body\":\"" KR_DOCS_BODY
        "\",\"headers\":{\"API-Key\":\"kraken-key\",\"API-Sign\":\"" KR_DOCS_SIGN
        "\",\"Content-Type\":\"application/x-www-form-urlencoded\"}}";
    /* nonce present (checked) and absent (inserted first): same request */
    expect_signed("kraken", KRAKEN_CRED, SIGIL_NET_MAINNET,
                  "{\"method\":\"POST\",\"path\":\"/0/private/AddOrder\",\"body\":\"" KR_DOCS_BODY
                  "\",\"timestamp\":1616492376594}",
                  WANT);
    expect_signed("kraken", KRAKEN_CRED, SIGIL_NET_MAINNET,
                  "{\"method\":\"POST\",\"path\":\"/0/private/AddOrder\",\"query\":\"\",\"body\":"
                  "\"ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25\","
                  "\"timestamp\":1616492376594}",
                  WANT);
}

static void test_kraken_empty_body(void **state)
{
    (void)state;
    expect_signed(
        "kraken", KRAKEN_CRED, SIGIL_NET_MAINNET,
        "{\"method\":\"POST\",\"path\":\"/0/private/Balance\",\"timestamp\":1700000000000}",
        "{\"method\":\"POST\",\"path\":\"/0/private/Balance\",\"query\":\"\",\"body\":"
        "\"nonce=1700000000000\",\"headers\":{\"API-Key\":\"kraken-key\",\"API-Sign\":"
        "\"czhu1TvpTUkVtUbRiqwKniRXzZlg53wZmCdUIPWVLRoRMbTDwnq4frkWOdPSH9Q5YwHV5wqsA77JHXvM+"
        "XqHVQ==\",\"Content-Type\":\"application/x-www-form-urlencoded\"}}");
}

static void test_kraken_json_body(void **state)
{
    (void)state;
    static const char WANT[] =
        "{\"method\":\"POST\",\"path\":\"/0/private/AddOrderBatch\",\"query\":\"\",\"body\":"
        "\"{\\\"nonce\\\":\\\"1700000000000\\\",\\\"orders\\\":[{\\\"a\\\":\\\"1\\\"}]}\","
        "\"headers\":{\"API-Key\":\"kraken-key\",\"API-Sign\":"
        "\"kbCxUac5BQK7diYqvwMqjhyR1A06UuGWV1wA"
        "qKNFwi8DYThQ+8EFCzWALNStSWzyfvoGJSW83wbjlVy3wseJhw==\",\"Content-Type\":"
        "\"application/json\"}}";
    expect_signed(
        "kraken", KRAKEN_CRED, SIGIL_NET_MAINNET,
        "{\"method\":\"POST\",\"path\":\"/0/private/AddOrderBatch\",\"body\":"
        "\"{\\\"nonce\\\":\\\"1700000000000\\\",\\\"orders\\\":[{\\\"a\\\":\\\"1\\\"}]}\","
        "\"timestamp\":1700000000000}",
        WANT);
    expect_signed("kraken", KRAKEN_CRED, SIGIL_NET_MAINNET,
                  "{\"method\":\"POST\",\"path\":\"/0/private/AddOrderBatch\",\"body\":"
                  "\"{\\\"orders\\\":[{\\\"a\\\":\\\"1\\\"}]}\",\"timestamp\":1700000000000}",
                  WANT);
    /* body spelled with a \u escape for '{' is still JSON */
    expect_signed("kraken", KRAKEN_CRED, SIGIL_NET_MAINNET,
                  "{\"method\":\"POST\",\"path\":\"/0/private/AddOrderBatch\",\"body\":"
                  "\"\\u007b\\\"orders\\\":[{\\\"a\\\":\\\"1\\\"}]}\",\"timestamp\":1700000000000}",
                  WANT);
    expect_signed("kraken", KRAKEN_CRED, SIGIL_NET_MAINNET,
                  "{\"method\":\"POST\",\"path\":\"/0/private/CancelOrderBatch\",\"body\":\"{}\","
                  "\"timestamp\":1700000000000}",
                  "{\"method\":\"POST\",\"path\":\"/0/private/CancelOrderBatch\",\"query\":\"\","
                  "\"body\":\"{\\\"nonce\\\":\\\"1700000000000\\\"}\",\"headers\":{\"API-Key\":"
                  "\"kraken-key\",\"API-Sign\":\"nqOAkgik39MbLAIjYUo1QVyxKdz9JofsCMK/pk7AZk9+"
                  "sJzdp0ZDi9MertsgP4Xj4xPxkCE15lrOjM8Ayr24zg==\",\"Content-Type\":"
                  "\"application/json\"}}");
}

static void test_kraken_refusals(void **state)
{
    (void)state;
#define KR_REQ(fields) "{\"method\":\"POST\",\"path\":\"/0/private/Balance\"," fields "}"
    static const struct {
        sigil_network net;
        const char *req;
        sigil_err code;
        const char *field;
    } CASES[] = {
        {SIGIL_NET_TESTNET, KR_REQ("\"timestamp\":1700000000000"), SIGIL_E_BAD_REQUEST,
         "--network"},
        {SIGIL_NET_MAINNET, KR_REQ("\"timestamp\":1700000000000,\"recv_window\":5000"),
         SIGIL_E_UNKNOWN_FIELD, "recv_window"},
        {SIGIL_NET_MAINNET, KR_REQ("\"body\":\"nonce=1700000000001\",\"timestamp\":1700000000000"),
         SIGIL_E_BAD_FIELD, "nonce"},
        {SIGIL_NET_MAINNET, KR_REQ("\"body\":\"nonce=01700000000000\",\"timestamp\":1700000000000"),
         SIGIL_E_BAD_FIELD, "nonce"},
        {SIGIL_NET_MAINNET, KR_REQ("\"body\":\"Nonce=1700000000000\",\"timestamp\":1700000000000"),
         SIGIL_E_BAD_FIELD, "nonce"},
        {SIGIL_NET_MAINNET,
         KR_REQ("\"body\":\"{\\\"nonce\\\":\\\"1\\\"}\",\"timestamp\":1700000000000"),
         SIGIL_E_BAD_FIELD, "nonce"},
        {SIGIL_NET_MAINNET, KR_REQ("\"body\":\"{\\\"nonce\\\":true}\",\"timestamp\":1700000000000"),
         SIGIL_E_BAD_FIELD, "nonce"},
        {SIGIL_NET_MAINNET, KR_REQ("\"body\":\"{\\\"a\\\":1,}\",\"timestamp\":1700000000000"),
         SIGIL_E_BAD_JSON, "body"},
        {SIGIL_NET_MAINNET, KR_REQ("\"query\":\"asset=XBT\",\"timestamp\":1700000000000"),
         SIGIL_E_BAD_FIELD, "request.query"},
        {SIGIL_NET_MAINNET,
         "{\"method\":\"GET\",\"path\":\"/0/private/Balance\",\"timestamp\":1700000000000}",
         SIGIL_E_BAD_FIELD, "request.method"},
        {SIGIL_NET_MAINNET,
         "{\"method\":\"POST\",\"path\":\"/0/public/Time\",\"timestamp\":1700000000000}",
         SIGIL_E_BAD_FIELD, "request.path"},
        {SIGIL_NET_MAINNET,
         "{\"method\":\"POST\",\"path\":\"/0/private/\",\"timestamp\":1700000000000}",
         SIGIL_E_BAD_FIELD, "request.path"},
        {SIGIL_NET_MAINNET, KR_REQ("\"timestamp\":1700000000"), SIGIL_E_OUT_OF_RANGE, "timestamp"},
    };
#undef KR_REQ
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++)
        expect_refused("kraken", KRAKEN_CRED, CASES[i].net, CASES[i].req, CASES[i].code,
                       CASES[i].field);
}

static void test_kraken_credentials(void **state)
{
    (void)state;
    /* the secret is base64: not base64, unpadded, or empty once decoded */
    expect_cred_refused("kraken", "{\"api_key\":\"k\",\"secret\":\"not base64!\"}",
                        SIGIL_E_BAD_CREDENTIALS, "credentials.secret");
    expect_cred_refused("kraken", "{\"api_key\":\"k\",\"secret\":\"kQH5HW\"}",
                        SIGIL_E_BAD_CREDENTIALS, "credentials.secret");
    expect_cred_refused("kraken", "{\"api_key\":\"k\",\"secret\":\"====\"}",
                        SIGIL_E_BAD_CREDENTIALS, "credentials.secret");
    expect_cred_refused("kraken", "{\"api_key\":\"k\",\"secret\":\"\"}", SIGIL_E_BAD_CREDENTIALS,
                        "credentials.secret");
    expect_cred_refused("kraken", "{\"api_key\":\"k\",\"secret\":\"AAAA\",\"key_type\":\"rsa\"}",
                        SIGIL_E_UNKNOWN_KEY_TYPE, "key_type");
    /* the decoded key, not the text, is the HMAC key */
    sigil_credentials c;
    const sigil_venue *v = sigil_venue_find("kraken");
    assert_int_equal(sigil_credentials_parse(&c, v, KRAKEN_CRED, strlen(KRAKEN_CRED)), 0);
    assert_int_equal(c.secret.len, 64);
    assert_int_equal(c.secret.p[0], 0x91);
    assert_true(c.hmac512_state.len > 0);
    sigil_credentials_free(&c);
}

/* ---- Bitget ---- */

#define BG_HEADERS(sig)                                                                            \
    "\"headers\":{\"ACCESS-KEY\":\"bg_0123456789abcdef0123456789abcdef\",\"ACCESS-SIGN\":\"" sig   \
    "\",\"ACCESS-TIMESTAMP\":\"1700000000000\",\"ACCESS-PASSPHRASE\":\"Passphrase123\""

static void test_bitget_post_vector(void **state)
{
    (void)state;
    /* venues.md §11 V2 POST vector */
#define BG_BODY                                                                                    \
    "{\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"productType\\\":\\\"USDT-FUTURES\\\",\\\"marginMode\\\":" \
    "\\\"crossed\\\",\\\"marginCoin\\\":\\\"USDT\\\",\\\"size\\\":\\\"0.001\\\",\\\"price\\\":"    \
    "\\\"35000.1\\\",\\\"side\\\":\\\"buy\\\",\\\"orderType\\\":\\\"limit\\\",\\\"force\\\":"      \
    "\\\"gtc\\\",\\\"clientOid\\\":\\\"test-cloid-1\\\"}"
    static const char REQ[] = "{\"method\":\"POST\",\"path\":\"/api/v2/mix/order/place-order\","
                              "\"body\":\"" BG_BODY "\",\"timestamp\":1700000000000}";
    static const char WANT[] =
        "{\"method\":\"POST\",\"path\":\"/api/v2/mix/order/place-order\",\"query\":\"\",\"body\":"
        "\"" BG_BODY
        "\"," BG_HEADERS("14z49eEEMOfeLpEK+N1w/q6ZvoF4rUjVoak12Xv6Yj0=") ","
                                                                         "\"Content-Type\":"
                                                                         "\"application/json\"}}";
    static const char WANT_DEMO[] =
        "{\"method\":\"POST\",\"path\":\"/api/v2/mix/order/place-order\",\"query\":\"\",\"body\":"
        "\"" BG_BODY "\"," BG_HEADERS(
            "14z49eEEMOfeLpEK+N1w/q6ZvoF4rUjVoak12Xv6Yj0=") ","
                                                            "\"Content-Type\":\"application/"
                                                            "json\",\"PAPTRADING\":\"1\"}}";
#undef BG_BODY
    expect_signed("bitget", BITGET_CRED, SIGIL_NET_MAINNET, REQ, WANT);
    expect_signed("bitget", BITGET_CRED, SIGIL_NET_TESTNET, REQ, WANT_DEMO);
}

static void test_bitget_get_signs_decoded_query(void **state)
{
    (void)state;
    /* sent percent-encoded, signed decoded: "…?symbol=比特&note=a&b=c d+" */
    expect_signed(
        "bitget", BITGET_CRED, SIGIL_NET_MAINNET,
        "{\"method\":\"GET\",\"path\":\"/api/v2/spot/trade/orderInfo\",\"query\":"
        "\"symbol=%E6%AF%94%E7%89%B9&note=a%26b%3Dc%20d%2B\",\"timestamp\":1700000000000}",
        "{\"method\":\"GET\",\"path\":\"/api/v2/spot/trade/orderInfo\",\"query\":"
        "\"symbol=%E6%AF%94%E7%89%B9&note=a%26b%3Dc%20d%2B\",\"body\":\"\"," BG_HEADERS(
            "Ww++8qfh3viE0A3HYZZb5vSmAKiUaWKktgxsHbiDGlw=") "}}");
}

static void test_bitget_legacy_demo_product(void **state)
{
    (void)state;
    /* ccxt sends no PAPTRADING for the legacy S*-FUTURES demo product types */
    expect_signed("bitget", BITGET_CRED, SIGIL_NET_TESTNET,
                  "{\"method\":\"POST\",\"path\":\"/api/v2/mix/order/place-order\",\"body\":"
                  "\"{\\\"productType\\\":\\\"SUSDT-FUTURES\\\"}\",\"timestamp\":1700000000000}",
                  "{\"method\":\"POST\",\"path\":\"/api/v2/mix/order/place-order\",\"query\":\"\","
                  "\"body\":\"{\\\"productType\\\":\\\"SUSDT-FUTURES\\\"}\"," BG_HEADERS(
                      "8EPKGHj8k8FudpgBWX92h/jRJk6cilxLpLElICAkRGE=") ","
                                                                      "\"Content-Type\":"
                                                                      "\"application/json\"}}");
}

static void test_bitget_refusals(void **state)
{
    (void)state;
    expect_cred_refused("bitget", "{\"api_key\":\"k\",\"secret\":\"s\"}", SIGIL_E_MISSING_FIELD,
                        "passphrase");
    expect_refused("bitget", BITGET_CRED, SIGIL_NET_MAINNET,
                   "{\"method\":\"GET\",\"path\":\"/api/v2/spot/account/assets\",\"timestamp\":"
                   "1700000000000,\"recv_window\":5000}",
                   SIGIL_E_UNKNOWN_FIELD, "recv_window");
    expect_refused("bitget", BITGET_CRED, SIGIL_NET_MAINNET,
                   "{\"method\":\"GET\",\"path\":\"/api/v2/spot/account/assets\",\"query\":"
                   "\"coin=US+DT\",\"timestamp\":1700000000000}",
                   SIGIL_E_BAD_FIELD, "request.query");
    expect_refused("bitget", BITGET_CRED, SIGIL_NET_MAINNET,
                   "{\"method\":\"POST\",\"path\":\"/api/v2/spot/trade/place-order\",\"body\":"
                   "\"{\\\"a\\\":1,\\\"a\\\":2}\",\"timestamp\":1700000000000}",
                   SIGIL_E_DUPLICATE_KEY, "body");
}

/* ---- Gate ---- */

#define GT_HEADERS(ts, sig)                                                                        \
    "\"headers\":{\"KEY\":\"gate_key_0123456789\",\"Timestamp\":\"" ts "\",\"SIGN\":\"" sig        \
    "\",\"Content-Type\":\"application/json\"}}"

static void test_gate_vectors(void **state)
{
    (void)state;
    /* venues.md §12, both vectors; 999 ms more does not change the seconds */
#define GT_BODY                                                                                    \
    "{\\\"text\\\":\\\"t-cloid1\\\",\\\"currency_pair\\\":\\\"BTC_USDT\\\",\\\"type\\\":"          \
    "\\\"limit\\\",\\\"account\\\":\\\"spot\\\",\\\"side\\\":\\\"buy\\\",\\\"amount\\\":"          \
    "\\\"0.001\\\",\\\"price\\\":\\\"35000.1\\\",\\\"time_in_force\\\":\\\"gtc\\\"}"
    static const char POST_SIG[] =
        "c5b04f47e846402455dc80a83193049be18763ac36c89bb711449d38dd39630"
        "34c86b853207a433aa2858f4ccd79c16cfb2035ec2ee178e05042d2aeaa159823";
    char want[2048];
    snprintf(want, sizeof(want),
             "{\"method\":\"POST\",\"path\":\"/api/v4/spot/orders\",\"query\":\"\",\"body\":"
             "\"" GT_BODY "\"," GT_HEADERS("1700000000", "%s"),
             POST_SIG);
    expect_signed("gate", GATE_CRED, SIGIL_NET_MAINNET,
                  "{\"method\":\"POST\",\"path\":\"/api/v4/spot/orders\",\"body\":\"" GT_BODY
                  "\",\"timestamp\":1700000000999}",
                  want);
    expect_signed("gate", GATE_CRED, SIGIL_NET_TESTNET,
                  "{\"method\":\"POST\",\"path\":\"/api/v4/spot/orders\",\"body\":\"" GT_BODY
                  "\",\"timestamp\":1700000000000}",
                  want);
#undef GT_BODY
    expect_signed("gate", GATE_CRED, SIGIL_NET_MAINNET,
                  "{\"method\":\"GET\",\"path\":\"/api/v4/spot/orders\",\"query\":"
                  "\"currency_pair=BTC_USDT&status=open\",\"timestamp\":1700000000000}",
                  "{\"method\":\"GET\",\"path\":\"/api/v4/spot/orders\",\"query\":"
                  "\"currency_pair=BTC_USDT&status=open\",\"body\":\"\"," GT_HEADERS(
                      "1700000000",
                      "72ec1cd890bbfb260fc02bfb270db227e31089d3bd14d602d906ee7c8e490b57977cadad"
                      "62b29262a1cfb13065303af5c8a86c427e7170c8868942da17433dba"));
}

static void test_gate_delete_signs_decoded_query(void **state)
{
    (void)state;
    expect_signed("gate", GATE_CRED, SIGIL_NET_MAINNET,
                  "{\"method\":\"DELETE\",\"path\":\"/api/v4/spot/orders\",\"query\":"
                  "\"text=t%2Dx%20y&currencies=BTC,ETH\",\"timestamp\":1700000001500}",
                  "{\"method\":\"DELETE\",\"path\":\"/api/v4/spot/orders\",\"query\":"
                  "\"text=t%2Dx%20y&currencies=BTC,ETH\",\"body\":\"\"," GT_HEADERS(
                      "1700000001",
                      "5e9b45357400e3449ae76fec1d854b4d59ccf7b01d8679d527796de1b2f8ff1a6ee22328"
                      "03493e65b4f5586cf8c463e25f45b7890a3ee886bcc6bb9f9d50ca2f"));
}

static void test_gate_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        sigil_err code;
        const char *field;
    } CASES[] = {
        {"{\"method\":\"GET\",\"path\":\"/api/v4/spot/orders\",\"timestamp\":1700000000000,"
         "\"recv_window\":5000}",
         SIGIL_E_UNKNOWN_FIELD, "recv_window"},
        {"{\"method\":\"GET\",\"path\":\"/spot/orders\",\"timestamp\":1700000000000}",
         SIGIL_E_BAD_FIELD, "request.path"},
        {"{\"method\":\"GET\",\"path\":\"/api/v4\",\"timestamp\":1700000000000}", SIGIL_E_BAD_FIELD,
         "request.path"},
        {"{\"method\":\"GET\",\"path\":\"/api/v4/spot/orders\",\"query\":\"text=a+b\","
         "\"timestamp\":1700000000000}",
         SIGIL_E_BAD_FIELD, "request.query"},
        {"{\"method\":\"POST\",\"path\":\"/api/v4/spot/orders\",\"body\":\"{'a':1}\","
         "\"timestamp\":1700000000000}",
         SIGIL_E_BAD_JSON, "body"},
        {"{\"method\":\"GET\",\"path\":\"/api/v4/spot/orders\",\"timestamp\":100000000000000}",
         SIGIL_E_OUT_OF_RANGE, "timestamp"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++)
        expect_refused("gate", GATE_CRED, SIGIL_NET_MAINNET, CASES[i].req, CASES[i].code,
                       CASES[i].field);
}

static int setup(void **state)
{
    (void)state;
    return sigil_init();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_sha512_keyed),
        cmocka_unit_test(test_kraken_docs_example),
        cmocka_unit_test(test_kraken_empty_body),
        cmocka_unit_test(test_kraken_json_body),
        cmocka_unit_test(test_kraken_refusals),
        cmocka_unit_test(test_kraken_credentials),
        cmocka_unit_test(test_bitget_post_vector),
        cmocka_unit_test(test_bitget_get_signs_decoded_query),
        cmocka_unit_test(test_bitget_legacy_demo_product),
        cmocka_unit_test(test_bitget_refusals),
        cmocka_unit_test(test_gate_vectors),
        cmocka_unit_test(test_gate_delete_signs_decoded_query),
        cmocka_unit_test(test_gate_refusals),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
