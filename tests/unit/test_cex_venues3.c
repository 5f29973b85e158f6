/*
 * Unit tests for Deribit, Bitfinex and the Binance WebSocket API (trusted
 * code). Signed outputs are the venues.md §1, §13, §14 vectors (node:crypto,
 * ccxt 4.5.84, Binance docs) byte for byte; every refusal is checked for its
 * error code, the field it names, an empty output and the absence of secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "venues/venues_internal.h"

static const char DERIBIT_CRED[] = "{\"api_key\":\"AMANDA\",\"secret\":\"AMANDASECRECT\"}";
static const char BFX_CRED[] =
    "{\"api_key\":\"bfx_key_0123456789\",\"secret\":\"bfx_secret_0123456789\"}";
static const char BN_CRED[] =
    "{\"api_key\":\"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A\","
    "\"secret\":\"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j\"}";
static const char BN_ED_CRED[] =
    "{\"api_key\":\"4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO\","
    "\"key_type\":\"ed25519\",\"secret\":\"-----BEGIN PRIVATE KEY-----\\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\\n"
    "-----END PRIVATE KEY-----\\n\"}";
static const char *const SECRETS[] = {
    "AMANDASECRECT",
    "bfx_secret_0123456789",
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v",
};

#include "test_venue_util.h"

/* Deribit and Bitfinex sign the same on both networks: tests use mainnet. */
static int sign_main(const char *venue, const char *cred, const char *req)
{
    return sign(venue, cred, SIGIL_NET_MAINNET, req);
}

static void expect_signed(const char *venue, const char *cred, const char *req, const char *want)
{
    if (sign_main(venue, cred, req) != 0)
        fail_msg("%s: %s", venue, sigil_errmsg());
    assert_string_equal(g_out, want);
    assert_no_secret(g_out, NULL);
}

static void refused_main(const char *venue, const char *cred, const char *req, sigil_err code,
                         const char *field)
{
    expect_refused(venue, cred, SIGIL_NET_MAINNET, req, code, field);
}

/* ---- Deribit ---- */

#define DERIBIT_SIG "9c70485d04db3c5225ff0573deef5a8388639bb3ee3b769af6664bd8b1e9580b"
#define DERIBIT_AUTH_SIG "3a90bdb851171a5c0c344893bd936058f18405623e952cb9de64447b781c38c5"
#define DERIBIT_HTTP(more)                                                                         \
    "{\"method\":\"GET\",\"path\":\"/api/v2/private/get_account_summary\",\"query\":"              \
    "\"currency=BTC&extended=true\",\"timestamp\":1700000000000,\"nonce\":\"abcd\"" more "}"
#define DERIBIT_RPC(params)                                                                        \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/auth\",\"params\":{" params "}}"
#define DERIBIT_RPC_OK                                                                             \
    "\"grant_type\":\"client_signature\",\"timestamp\":1700000000000,\"nonce\":\"abcd\""

static void test_deribit_vectors(void **state)
{
    (void)state;
    expect_signed("deribit", DERIBIT_CRED, DERIBIT_HTTP(""),
                  "{\"method\":\"GET\",\"path\":\"/api/v2/private/get_account_summary\",\"query\":"
                  "\"currency=BTC&extended=true\",\"body\":\"\",\"headers\":{\"Authorization\":"
                  "\"deri-hmac-sha256 id=AMANDA,ts=1700000000000,sig=" DERIBIT_SIG
                  ",nonce=abcd\"}}");
    const char *want =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/auth\",\"params\":{"
        "\"grant_type\":\"client_signature\",\"client_id\":\"AMANDA\",\"timestamp\":"
        "1700000000000,\"signature\":\"" DERIBIT_AUTH_SIG "\",\"nonce\":\"abcd\",\"data\":\"\"}}";
    expect_signed("deribit", DERIBIT_CRED, DERIBIT_RPC(DERIBIT_RPC_OK), want);
    expect_signed("deribit", DERIBIT_CRED, DERIBIT_RPC(DERIBIT_RPC_OK ",\"data\":\"\""), want);
    expect_signed("deribit", DERIBIT_CRED, DERIBIT_RPC(DERIBIT_RPC_OK ",\"client_id\":\"AMANDA\""),
                  want);
}

/* POST with a JSON-RPC body (Python hmac over
 * "1700000000000\nn-1\nPOST\n/api/v2/private/buy\n{\"jsonrpc\":\"2.0\"}\n") */
static void test_deribit_post_body(void **state)
{
    (void)state;
    expect_signed(
        "deribit", DERIBIT_CRED,
        "{\"method\":\"POST\",\"path\":\"/api/v2/private/buy\",\"body\":"
        "\"{\\\"jsonrpc\\\":\\\"2.0\\\"}\",\"timestamp\":1700000000000,\"nonce\":\"n-1\"}",
        "{\"method\":\"POST\",\"path\":\"/api/v2/private/buy\",\"query\":\"\",\"body\":"
        "\"{\\\"jsonrpc\\\":\\\"2.0\\\"}\",\"headers\":{\"Authorization\":"
        "\"deri-hmac-sha256 id=AMANDA,ts=1700000000000,sig="
        "aca3b50c83fa2eb355f470529e8c8a11c37461fc543d2968840d5021471059fd,nonce=n-1\","
        "\"Content-Type\":\"application/json\"}}");
}

static void test_deribit_refusals(void **state)
{
    (void)state;
    refused_main("deribit", DERIBIT_CRED,
                 "{\"method\":\"GET\",\"path\":\"/x\",\"timestamp\":1700000000000}",
                 SIGIL_E_MISSING_FIELD, "request.nonce");
    refused_main("deribit", DERIBIT_CRED, DERIBIT_HTTP(",\"recv_window\":5000"),
                 SIGIL_E_UNKNOWN_FIELD, "recv_window");
    refused_main("deribit", DERIBIT_CRED,
                 "{\"method\":\"GET\",\"path\":\"/x\",\"timestamp\":1700000000000,"
                 "\"nonce\":\"a,b\"}",
                 SIGIL_E_BAD_FIELD, "request.nonce");
    refused_main("deribit", DERIBIT_CRED,
                 "{\"method\":\"GET\",\"path\":\"/x\",\"timestamp\":1700000000000,"
                 "\"nonce\":\"\"}",
                 SIGIL_E_BAD_FIELD, "request.nonce");
    refused_main("deribit", DERIBIT_CRED,
                 "{\"method\":\"DELETE\",\"path\":\"/x\",\"timestamp\":1700000000000,"
                 "\"nonce\":\"n\"}",
                 SIGIL_E_BAD_FIELD, "request.method");
    refused_main("deribit", DERIBIT_CRED,
                 "{\"method\":\"GET\",\"path\":\"/x\",\"body\":\"{}\",\"timestamp\":"
                 "1700000000000,\"nonce\":\"n\"}",
                 SIGIL_E_BAD_FIELD, "request.body");
    refused_main("deribit", DERIBIT_CRED,
                 "{\"method\":\"POST\",\"path\":\"/x\",\"body\":\"{\\\"a\\\":1,}\",\"timestamp\":"
                 "1700000000000,\"nonce\":\"n\"}",
                 SIGIL_E_BAD_JSON, "request.body");
    refused_main("deribit", DERIBIT_CRED,
                 "{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"a=b c\",\"timestamp\":"
                 "1700000000000,\"nonce\":\"n\"}",
                 SIGIL_E_BAD_FIELD, "request.query");
    refused_main("deribit", DERIBIT_CRED,
                 "{\"method\":\"GET\",\"path\":\"/x\",\"timestamp\":1700000000,\"nonce\":\"n\"}",
                 SIGIL_E_OUT_OF_RANGE, "request.timestamp");
    /* public/auth */
    refused_main("deribit", DERIBIT_CRED, DERIBIT_RPC(DERIBIT_RPC_OK ",\"signature\":\"00\""),
                 SIGIL_E_BAD_FIELD, "request.params.signature");
    refused_main("deribit", DERIBIT_CRED, DERIBIT_RPC(DERIBIT_RPC_OK ",\"client_id\":\"OTHER\""),
                 SIGIL_E_BAD_FIELD, "request.params.client_id");
    refused_main("deribit", DERIBIT_CRED,
                 DERIBIT_RPC("\"grant_type\":\"client_credentials\",\"timestamp\":"
                             "1700000000000,\"nonce\":\"abcd\""),
                 SIGIL_E_BAD_FIELD, "request.params.grant_type");
    refused_main("deribit", DERIBIT_CRED,
                 DERIBIT_RPC("\"grant_type\":\"client_signature\",\"timestamp\":1700000000000"),
                 SIGIL_E_MISSING_FIELD, "request.params.nonce");
    refused_main("deribit", DERIBIT_CRED, DERIBIT_RPC(DERIBIT_RPC_OK ",\"scope\":\"x\""),
                 SIGIL_E_UNKNOWN_FIELD, "request.params.scope");
    refused_main("deribit", DERIBIT_CRED,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"private/buy\",\"params\":{}}",
                 SIGIL_E_BAD_FIELD, "request.method");
    refused_main("deribit", DERIBIT_CRED,
                 "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"public/auth\",\"params\":{}}",
                 SIGIL_E_BAD_FIELD, "request.jsonrpc");
    refused_main(
        "deribit", DERIBIT_CRED,
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"public/auth\",\"params\":{" DERIBIT_RPC_OK
        "}}",
        SIGIL_E_BAD_FIELD, "request.id");
}

/* ---- Bitfinex ---- */

#define BFX_BODY                                                                                   \
    "{\\\"type\\\":\\\"EXCHANGE LIMIT\\\",\\\"symbol\\\":\\\"tBTCUST\\\",\\\"amount\\\":"          \
    "\\\"0.001\\\",\\\"price\\\":\\\"35000.1\\\",\\\"cid\\\":12345}"
#define BFX_SIG                                                                                    \
    "aceb2027ed93a15de31f0b44dda18f8b856ee484e7801f29729c1f5d205dc6155e27ef2e70ec7210916c70228519" \
    "e"                                                                                            \
    "001"
#define BFX_WS_SIG                                                                                 \
    "a1a77d318f474566a35d86bcc0666be0fd17f6a0cf26e374eb666bb23e6bff7fb061caab99a1b8ad80eb88a1d58f" \
    "8dc8"

static void test_bitfinex_vectors(void **state)
{
    (void)state;
    expect_signed("bitfinex", BFX_CRED,
                  "{\"method\":\"POST\",\"path\":\"/v2/auth/w/order/submit\",\"body\":\"" BFX_BODY
                  "\",\"nonce\":1700000000000000}",
                  "{\"method\":\"POST\",\"path\":\"/v2/auth/w/order/submit\",\"query\":\"\","
                  "\"body\":\"" BFX_BODY "\",\"headers\":{\"bfx-nonce\":\"1700000000000000\","
                  "\"bfx-apikey\":\"bfx_key_0123456789\",\"bfx-signature\":\"" BFX_SIG
                  "\",\"Content-Type\":\"application/json\"}}");
    /* the nonce from request.timestamp (ms), as ccxt; "{}" for no body
     * (Python hmac over "/api/v2/auth/r/wallets1700000000000{}") */
    expect_signed("bitfinex", BFX_CRED,
                  "{\"method\":\"POST\",\"path\":\"/v2/auth/r/wallets\",\"timestamp\":"
                  "1700000000000}",
                  "{\"method\":\"POST\",\"path\":\"/v2/auth/r/wallets\",\"query\":\"\","
                  "\"body\":\"{}\",\"headers\":{\"bfx-nonce\":\"1700000000000\","
                  "\"bfx-apikey\":\"bfx_key_0123456789\",\"bfx-signature\":\""
                  "8623a64508726112356225fa6d654cabdb64071ae6fc30b9199ff90591d4f12bffc5f91e723f16e"
                  "99a8a22ae1314bb1b\",\"Content-Type\":\"application/json\"}}");
}

#define BFX_REQ(more) "{\"method\":\"POST\",\"path\":\"/v2/auth/r/wallets\"" more "}"

static void test_bitfinex_refusals(void **state)
{
    (void)state;
    refused_main("bitfinex", BFX_CRED, BFX_REQ(""), SIGIL_E_BAD_REQUEST, "nonce");
    refused_main("bitfinex", BFX_CRED, BFX_REQ(",\"timestamp\":1700000000000,\"nonce\":1"),
                 SIGIL_E_BAD_REQUEST, "nonce");
    refused_main("bitfinex", BFX_CRED, BFX_REQ(",\"timestamp\":1700000000000000"),
                 SIGIL_E_OUT_OF_RANGE, "request.timestamp");
    refused_main("bitfinex", BFX_CRED, BFX_REQ(",\"nonce\":9007199254740992"), SIGIL_E_OUT_OF_RANGE,
                 "request.nonce");
    refused_main("bitfinex", BFX_CRED, BFX_REQ(",\"nonce\":0"), SIGIL_E_OUT_OF_RANGE,
                 "request.nonce");
    refused_main("bitfinex", BFX_CRED,
                 "{\"method\":\"GET\",\"path\":\"/v2/auth/r/wallets\",\"nonce\":1}",
                 SIGIL_E_BAD_FIELD, "request.method");
    refused_main("bitfinex", BFX_CRED,
                 "{\"method\":\"POST\",\"path\":\"/api/v2/auth/r/wallets\",\"nonce\":1}",
                 SIGIL_E_BAD_FIELD, "request.path");
    refused_main("bitfinex", BFX_CRED, BFX_REQ(",\"query\":\"a=1\",\"nonce\":1"), SIGIL_E_BAD_FIELD,
                 "request.query");
    refused_main("bitfinex", BFX_CRED, BFX_REQ(",\"body\":\"[1]\",\"nonce\":1"), SIGIL_E_BAD_FIELD,
                 "request.body");
    refused_main("bitfinex", BFX_CRED,
                 BFX_REQ(",\"body\":\"{\\\"a\\\":1,\\\"a\\\":2}\",\"nonce\":1"),
                 SIGIL_E_DUPLICATE_KEY, "request.body");
    refused_main("bitfinex", BFX_CRED, BFX_REQ(",\"recv_window\":5000,\"nonce\":1"),
                 SIGIL_E_UNKNOWN_FIELD, "recv_window");
    refused_main("bitfinex", BFX_CRED, "{\"event\":\"subscribe\",\"authNonce\":1}",
                 SIGIL_E_BAD_FIELD, "request.event");
    refused_main("bitfinex", BFX_CRED, "{\"event\":\"auth\"}", SIGIL_E_MISSING_FIELD,
                 "request.authNonce");
    refused_main("bitfinex", BFX_CRED, "{\"event\":\"auth\",\"authNonce\":1,\"dms\":4}",
                 SIGIL_E_UNKNOWN_FIELD, "request.dms");
}

static void test_bitfinex_ws(void **state)
{
    (void)state;
    expect_signed("bitfinex", BFX_CRED, "{\"event\":\"auth\",\"authNonce\":1700000000000000}",
                  "{\"apiKey\":\"bfx_key_0123456789\",\"authSig\":\"" BFX_WS_SIG
                  "\",\"authNonce\":1700000000000000,\"authPayload\":\"AUTH1700000000000000\","
                  "\"event\":\"auth\"}");
}

/* ---- Binance WebSocket API ---- */

#define BN_KEY "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
#define BN_WS(params, more)                                                                        \
    "{\"id\":\"x\",\"method\":\"order.place\",\"params\":{" params "}" more "}"

static void test_binance_ws_vectors(void **state)
{
    (void)state;
    /* web-socket-api.md's HMAC example: apiKey and timestamp given */
    expect_signed(
        "binance", BN_CRED,
        BN_WS("\"symbol\":\"BTCUSDT\",\"side\":\"SELL\",\"type\":\"LIMIT\",\"timeInForce\":"
              "\"GTC\",\"quantity\":\"0.01000000\",\"price\":\"52000.00\",\"recvWindow\":100,"
              "\"timestamp\":1645423376532,\"apiKey\":\"" BN_KEY "\"",
              ""),
        "{\"id\":\"x\",\"method\":\"order.place\",\"params\":{\"symbol\":\"BTCUSDT\",\"side\":"
        "\"SELL\",\"type\":\"LIMIT\",\"timeInForce\":\"GTC\",\"quantity\":\"0.01000000\","
        "\"price\":\"52000.00\",\"recvWindow\":100,\"timestamp\":1645423376532,\"apiKey\":"
        "\"" BN_KEY "\",\"signature\":"
        "\"aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24\"}}");
    /* session.logon with Ed25519: apiKey and timestamp added by sigil */
    expect_signed("binance", BN_ED_CRED,
                  "{\"id\":7,\"method\":\"session.logon\",\"params\":{},\"timestamp\":"
                  "1649729878532}",
                  "{\"id\":7,\"method\":\"session.logon\",\"params\":{\"apiKey\":"
                  "\"4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO\","
                  "\"timestamp\":1649729878532,\"signature\":\"NBJq5sX1RkU7ta3XDctruMgnrhyBcouM"
                  "vvPIxxQSCUbVWxhp3ai6W7a0Iip/3nOwmJxkVIv6n20cekYCOa5qAg==\"}}");
}

/* Raw values: escapes decoded, '&' and '=' kept, booleans and decimals as
 * written (Python hmac over the sorted payload). */
static void test_binance_ws_raw_values(void **state)
{
    (void)state;
    expect_signed("binance", BN_CRED,
                  BN_WS("\"price\":\"0.1\",\"postOnly\":true,\"newClientOrderId\":"
                        "\"a&b\\\"c\\\\d\",\"recvWindow\":5000.5",
                        ",\"timestamp\":1700000000000"),
                  "{\"id\":\"x\",\"method\":\"order.place\",\"params\":{\"price\":\"0.1\","
                  "\"postOnly\":true,\"newClientOrderId\":\"a&b\\\"c\\\\d\",\"recvWindow\":"
                  "5000.5,\"apiKey\":\"" BN_KEY "\",\"timestamp\":1700000000000,\"signature\":"
                  "\"7c44f2c490eb8d2b4e9eaa4c7bd82ed7166129fd22a55b08572198b97820057b\"}}");
}

static void test_binance_ws_refusals(void **state)
{
    (void)state;
    char req[4096];
    refused_main("binance", BN_CRED,
                 BN_WS("\"symbol\":\"X\",\"signature\":\"00\"", ",\"timestamp\":1700000000000"),
                 SIGIL_E_BAD_FIELD, "request.params.signature");
    refused_main("binance", BN_CRED, BN_WS("\"symbol\":\"X\"", ""), SIGIL_E_MISSING_FIELD,
                 "request.timestamp");
    refused_main("binance", BN_CRED,
                 BN_WS("\"timestamp\":1700000000001", ",\"timestamp\":1700000000000"),
                 SIGIL_E_BAD_FIELD, "params.timestamp");
    refused_main("binance", BN_CRED, BN_WS("\"timestamp\":1700000000", ""), SIGIL_E_OUT_OF_RANGE,
                 "request.params.timestamp");
    refused_main("binance", BN_CRED, BN_WS("\"timestamp\":\"01700000000000\"", ""),
                 SIGIL_E_BAD_FIELD, "request.params.timestamp");
    refused_main("binance", BN_CRED,
                 BN_WS("\"Timestamp\":1700000000000", ",\"timestamp\":1700000000000"),
                 SIGIL_E_BAD_FIELD, "letter case");
    refused_main("binance", BN_CRED, BN_WS("\"apiKey\":\"other\"", ",\"timestamp\":1700000000000"),
                 SIGIL_E_BAD_FIELD, "request.params.apiKey");
    refused_main("binance", BN_CRED,
                 BN_WS("\"recvWindow\":5000", ",\"timestamp\":1700000000000,\"recv_window\":6000"),
                 SIGIL_E_BAD_FIELD, "recvWindow");
    refused_main("binance", BN_CRED, BN_WS("\"recvWindow\":60001", ",\"timestamp\":1700000000000"),
                 SIGIL_E_OUT_OF_RANGE, "recvWindow");
    refused_main("binance", BN_CRED,
                 BN_WS("", ",\"timestamp\":1700000000000,\"recv_window\":60001"),
                 SIGIL_E_OUT_OF_RANGE, "request.recv_window");
    refused_main("binance", BN_CRED, BN_WS("\"price\":1e-7", ",\"timestamp\":1700000000000"),
                 SIGIL_E_BAD_FIELD, "request.params.price");
    refused_main("binance", BN_CRED, BN_WS("\"a\":null", ",\"timestamp\":1700000000000"),
                 SIGIL_E_BAD_FIELD, "request.params.a");
    refused_main("binance", BN_CRED, BN_WS("\"a\":[1]", ",\"timestamp\":1700000000000"),
                 SIGIL_E_BAD_FIELD, "request.params.a");
    refused_main("binance", BN_CRED, BN_WS("\"a b\":1", ",\"timestamp\":1700000000000"),
                 SIGIL_E_BAD_FIELD, "request.params");
    refused_main("binance", BN_CRED,
                 "{\"method\":\"order.place\",\"params\":{},\"timestamp\":1700000000000}",
                 SIGIL_E_MISSING_FIELD, "request.id");
    refused_main(
        "binance", BN_CRED,
        "{\"id\":1.5,\"method\":\"order.place\",\"params\":{},\"timestamp\":1700000000000}",
        SIGIL_E_BAD_FIELD, "request.id");
    refused_main("binance", BN_CRED,
                 "{\"id\":1,\"method\":\"order place\",\"params\":{},\"timestamp\":1700000000000}",
                 SIGIL_E_BAD_FIELD, "request.method");
    refused_main("binance", BN_CRED,
                 "{\"id\":1,\"method\":\"order.place\",\"params\":[],\"timestamp\":1700000000000}",
                 SIGIL_E_BAD_FIELD, "request.params");
    refused_main("binance", BN_CRED,
                 "{\"id\":1,\"method\":\"order.place\",\"params\":{},\"path\":\"/x\"}",
                 SIGIL_E_UNKNOWN_FIELD, "request.path");
    /* session.logon: Ed25519 only, authentication params only */
    refused_main(
        "binance", BN_CRED,
        "{\"id\":1,\"method\":\"session.logon\",\"params\":{},\"timestamp\":1700000000000}",
        SIGIL_E_UNKNOWN_KEY_TYPE, "session.logon");
    refused_main("binance", BN_ED_CRED,
                 "{\"id\":1,\"method\":\"session.logon\",\"params\":{\"symbol\":\"X\"},"
                 "\"timestamp\":1700000000000}",
                 SIGIL_E_UNKNOWN_FIELD, "request.params.symbol");
    /* over the parameter limit */
    size_t n = (size_t)snprintf(req, sizeof(req), "{\"id\":1,\"method\":\"x\",\"params\":{");
    for (int i = 0; i <= SIGIL_QUERY_MAX_PARAMS; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "%s\"p%d\":1", i ? "," : "", i);
    assert_true(n < sizeof(req) - 40);
    snprintf(req + n, sizeof(req) - n, "},\"timestamp\":1700000000000}");
    refused_main("binance", BN_CRED, req, SIGIL_E_TOO_LARGE, "request.params");
}

/* The REST request shape is unchanged: no "params", no WebSocket path. */
static void test_binance_rest_still_rest(void **state)
{
    (void)state;
    refused_main("binance", BN_CRED,
                 "{\"method\":\"GET\",\"path\":\"/api/v3/order\",\"timestamp\":1700000000000,"
                 "\"id\":1}",
                 SIGIL_E_UNKNOWN_FIELD, "request.id");
}

static int setup(void **state)
{
    (void)state;
    return sigil_init();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deribit_vectors),     cmocka_unit_test(test_deribit_post_body),
        cmocka_unit_test(test_deribit_refusals),    cmocka_unit_test(test_bitfinex_vectors),
        cmocka_unit_test(test_bitfinex_refusals),   cmocka_unit_test(test_bitfinex_ws),
        cmocka_unit_test(test_binance_ws_vectors),  cmocka_unit_test(test_binance_ws_raw_values),
        cmocka_unit_test(test_binance_ws_refusals), cmocka_unit_test(test_binance_rest_still_rest),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
