/*
 * Unit tests for the Bybit, OKX and KuCoin venues (trusted code). Outputs are
 * compared byte for byte with values computed independently (Python's hmac
 * and datetime, `openssl dgst -sha256 -sign`); every refusal is checked for
 * its error code, the field it names, and the absence of secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "venues/venues_internal.h"

#define TS "1700000000000"

static const char BYBIT_CRED[] =
    "{\"api_key\":\"XXXXXXXXXX\",\"secret\":\"YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY\"}";
static const char OKX_CRED[] = "{\"api_key\":\"985d5b66-57ce-40fb-b714-afc0b9787083\","
                               "\"secret\":\"0123456789ABCDEF0123456789ABCDEF\","
                               "\"passphrase\":\"Passphrase123!\"}";
static const char KUCOIN_CRED[] = "{\"api_key\":\"5c2db93503aa674c74a31734\","
                                  "\"secret\":\"f03a5284-5c39-4aaa-9b20-dea10bdcf8e3\","
                                  "\"passphrase\":\"QWIxenR0ZTEw\"}";
/* Never in an error message; only OKX's passphrase may be in an output. */
static const char *const SECRETS[] = {
    "YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY",
    "0123456789ABCDEF0123456789ABCDEF",
    "Passphrase123!",
    "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3",
    "QWIxenR0ZTEw",
};

#include "test_venue_util.h"

static const char WANT_B1[] =
    "{\"method\":\"GET\",\"path\":\"/v5/order/"
    "realtime\",\"query\":\"category=linear&symbol=BTCUSDT\",\"body\":\"\",\"headers\":{"
    "\"Content-Type\":\"application/json\","
    "\"X-BAPI-API-KEY\":\"XXXXXXXXXX\","
    "\"X-BAPI-TIMESTAMP\":\"1700000000000\","
    "\"X-BAPI-RECV-WINDOW\":\"10000\","
    "\"X-BAPI-SIGN\":\"4591e9f3bc4cdd4b0ec49c3ebb56d52c4ce8048f2ab0fc3c9b7c724f66d00b4f\"}}";
static const char WANT_B2[] =
    "{\"method\":\"GET\",\"path\":\"/v5/user/query-api\",\"query\":\"\",\"body\":\"\",\"headers\":{"
    "\"Content-Type\":\"application/json\","
    "\"X-BAPI-API-KEY\":\"XXXXXXXXXX\","
    "\"X-BAPI-TIMESTAMP\":\"1700000000123\","
    "\"X-BAPI-RECV-WINDOW\":\"5000\","
    "\"X-BAPI-SIGN\":\"5956f6bc17f295a679a7a375287b32fd3dc28e6a3e7d0b4ad5990524ae69948f\"}}";
static const char WANT_B3[] =
    "{\"method\":\"POST\",\"path\":\"/v5/order/"
    "create\",\"query\":\"\",\"body\":\"{\\\"category\\\":\\\"spot\\\",\\\"orderLinkId\\\":"
    "\\\"测试🚀\\\",\\\"qty\\\":\\\"0.001\\\"}\",\"headers\":{"
    "\"Content-Type\":\"application/json\","
    "\"X-BAPI-API-KEY\":\"XXXXXXXXXX\","
    "\"X-BAPI-TIMESTAMP\":\"1700000000000\","
    "\"X-BAPI-RECV-WINDOW\":\"5000\","
    "\"X-BAPI-SIGN\":\"ef015f33c29ffedecc07a0c7c03791c0b0400057450c63d4dcbd9f7e8866ffe3\"}}";
static const char WANT_B4[] =
    "{\"method\":\"DELETE\",\"path\":\"/v5/x\",\"query\":\"a=1&b=2\",\"body\":\"\",\"headers\":{"
    "\"Content-Type\":\"application/json\","
    "\"X-BAPI-API-KEY\":\"XXXXXXXXXX\","
    "\"X-BAPI-TIMESTAMP\":\"1700000000000\","
    "\"X-BAPI-RECV-WINDOW\":\"5000\","
    "\"X-BAPI-SIGN\":\"af2fb4f0b21f54875a3ab4e20cebf0ce1ae6b5a5db3a1c3cec742979a6d8327f\"}}";
static const char WANT_B5[] =
    "{\"method\":\"POST\",\"path\":\"/v5/order/"
    "create\",\"query\":\"\",\"body\":\"{\\\"category\\\":\\\"linear\\\"}\",\"headers\":{"
    "\"Content-Type\":\"application/json\","
    "\"X-BAPI-API-KEY\":\"XXXXXXXXXX\","
    "\"X-BAPI-TIMESTAMP\":\"1700000000000\","
    "\"X-BAPI-RECV-WINDOW\":\"5000\","
    "\"X-BAPI-SIGN\":"
    "\"zdWZMr5W3F6AOoMbQdFAF7qkpuSLBQ86vZtyoSmXPgFdV0ZKe3BvX1ociwqRFEsyZ2MLO9xd3R8An7xgBd4zVn/"
    "+Xp2ZnpDb6ebzs2svgP1+N1jX8+C7SmMCXcvXLS5CLTwcwlfrTfEF1SU20TWOfvdWrg6yD8WVO47fTx+"
    "wNk4vgXKCGURQLFNrnJWVCAASZ41H6EVwIuKJoxHSiS0AXWJCscy4MCTRo02nSajGgeLbLe/"
    "HNrUuasmivIyMZALIwF54GWT2fKc+Q14VUL9OYHHSyFjl6loha+"
    "6s8v5naEMohzBwurelro63gEhPaGmu0fYaGEsE3RErMP1O55snMA==\"}}";
static const char WANT_O1[] =
    "{\"method\":\"GET\",\"path\":\"/api/v5/account/"
    "balance\",\"query\":\"ccy=BTC\",\"body\":\"\",\"headers\":{"
    "\"OK-ACCESS-KEY\":\"985d5b66-57ce-40fb-b714-afc0b9787083\","
    "\"OK-ACCESS-PASSPHRASE\":\"Passphrase123!\","
    "\"OK-ACCESS-TIMESTAMP\":\"2023-11-14T22:13:20.000Z\","
    "\"OK-ACCESS-SIGN\":\"223NlgwVjTqq/sV4EoTo1zFIQ4xJr3lq2IvHXfz8ZFQ=\"}}";
static const char WANT_O2[] =
    "{\"method\":\"POST\",\"path\":\"/api/v5/account/"
    "set-position-mode\",\"query\":\"\",\"body\":\"\",\"headers\":{"
    "\"OK-ACCESS-KEY\":\"985d5b66-57ce-40fb-b714-afc0b9787083\","
    "\"OK-ACCESS-PASSPHRASE\":\"Passphrase123!\","
    "\"OK-ACCESS-TIMESTAMP\":\"2023-11-14T22:13:20.000Z\","
    "\"Content-Type\":\"application/json\","
    "\"OK-ACCESS-SIGN\":\"OM7cm0zc2u5bvaez34pfXBGO70bKCafyId4pf59A9B4=\"}}";
static const char WANT_O3[] =
    "{\"method\":\"POST\",\"path\":\"/api/v5/trade/"
    "order\",\"query\":\"x=1\",\"body\":\"{\\\"instId\\\":\\\"BTC-USDT\\\",\\\"tag\\\":"
    "\\\"测试🚀\\\"}\",\"headers\":{"
    "\"OK-ACCESS-KEY\":\"985d5b66-57ce-40fb-b714-afc0b9787083\","
    "\"OK-ACCESS-PASSPHRASE\":\"Passphrase123!\","
    "\"OK-ACCESS-TIMESTAMP\":\"2024-02-29T00:00:00.123Z\","
    "\"Content-Type\":\"application/json\","
    "\"OK-ACCESS-SIGN\":\"FHpmMPU966ifgAJ9cYHtibYcA8A4WmWhRB+DAxZ/akE=\"}}";
static const char WANT_O4[] =
    "{\"method\":\"DELETE\",\"path\":\"/api/v5/x\",\"query\":\"a=1\",\"body\":\"\",\"headers\":{"
    "\"OK-ACCESS-KEY\":\"985d5b66-57ce-40fb-b714-afc0b9787083\","
    "\"OK-ACCESS-PASSPHRASE\":\"Passphrase123!\","
    "\"OK-ACCESS-TIMESTAMP\":\"2023-11-14T22:13:20.000Z\","
    "\"Content-Type\":\"application/json\","
    "\"OK-ACCESS-SIGN\":\"qrhdKm0sUMKRBytON1EGhM9c/1AXuspbxmInabP4+6k=\"}}";
static const char WANT_O5[] =
    "{\"method\":\"GET\",\"path\":\"/api/v5/account/"
    "balance\",\"query\":\"ccy=BTC\",\"body\":\"\",\"headers\":{"
    "\"x-simulated-trading\":\"1\","
    "\"OK-ACCESS-KEY\":\"985d5b66-57ce-40fb-b714-afc0b9787083\","
    "\"OK-ACCESS-PASSPHRASE\":\"Passphrase123!\","
    "\"OK-ACCESS-TIMESTAMP\":\"2023-11-14T22:13:20.000Z\","
    "\"OK-ACCESS-SIGN\":\"223NlgwVjTqq/sV4EoTo1zFIQ4xJr3lq2IvHXfz8ZFQ=\"}}";
static const char WANT_K1[] =
    "{\"method\":\"GET\",\"path\":\"/api/v1/accounts\",\"query\":\"\",\"body\":\"\",\"headers\":{"
    "\"KC-API-KEY-VERSION\":\"2\","
    "\"KC-API-KEY\":\"5c2db93503aa674c74a31734\","
    "\"KC-API-TIMESTAMP\":\"1700000000000\","
    "\"KC-API-PASSPHRASE\":\"wC18e6VptSLkTzvvhOxNGtGX1mHWG9mbXri/0K8SgP4=\","
    "\"KC-API-SIGN\":\"Vb8t3CZgIAndM5O13RoDdXe6fizb4zeA0W7Rkx6Lews=\"}}";
static const char WANT_K2[] =
    "{\"method\":\"POST\",\"path\":\"/api/v1/"
    "orders\",\"query\":\"\",\"body\":\"{\\\"clientOid\\\":\\\"测试🚀\\\",\\\"size\\\":1}\","
    "\"headers\":{"
    "\"KC-API-KEY-VERSION\":\"2\","
    "\"KC-API-KEY\":\"5c2db93503aa674c74a31734\","
    "\"KC-API-TIMESTAMP\":\"1700000000000\","
    "\"Content-Type\":\"application/json\","
    "\"KC-API-PASSPHRASE\":\"wC18e6VptSLkTzvvhOxNGtGX1mHWG9mbXri/0K8SgP4=\","
    "\"KC-API-SIGN\":\"3uGcZTqOlPNBR6YP5n2zAiEe2HWhJlQlIhuXiAycWsc=\"}}";
static const char WANT_K3[] =
    "{\"method\":\"DELETE\",\"path\":\"/api/v1/"
    "orders\",\"query\":\"symbol=XBTUSDTM\",\"body\":\"\",\"headers\":{"
    "\"KC-API-KEY-VERSION\":\"2\","
    "\"KC-API-KEY\":\"5c2db93503aa674c74a31734\","
    "\"KC-API-TIMESTAMP\":\"1700000000000\","
    "\"KC-API-PASSPHRASE\":\"wC18e6VptSLkTzvvhOxNGtGX1mHWG9mbXri/0K8SgP4=\","
    "\"KC-API-SIGN\":\"JBd7m/tQ1/1NOCJvy5KiYXmB3Gv62f4Id6W8v8+IhTQ=\"}}";
static const char WANT_K4[] =
    "{\"method\":\"POST\",\"path\":\"/api/v1/position/margin/"
    "auto-deposit-status\",\"query\":\"\",\"body\":\"\",\"headers\":{"
    "\"KC-API-KEY-VERSION\":\"2\","
    "\"KC-API-KEY\":\"5c2db93503aa674c74a31734\","
    "\"KC-API-TIMESTAMP\":\"1700000000000\","
    "\"KC-API-PASSPHRASE\":\"wC18e6VptSLkTzvvhOxNGtGX1mHWG9mbXri/0K8SgP4=\","
    "\"KC-API-SIGN\":\"1UJuqnL4IXb9yOLzXH/BOt9H5mWHJt5foWktgMi5308=\"}}";

static char g_req[8 * 1024];

/* {"method","path","query","body"} + more (",\"timestamp\":…"); the body is
 * given as plain text and escaped here (quotes and backslashes only). */
static const char *request(const char *method, const char *path, const char *query,
                           const char *body, const char *more)
{
    char esc[4 * 1024];
    size_t n = 0;
    for (const char *p = body; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            esc[n++] = '\\';
        esc[n++] = *p;
    }
    esc[n] = '\0';
    int w = snprintf(g_req, sizeof(g_req),
                     "{\"method\":\"%s\",\"path\":\"%s\",\"query\":\"%s\",\"body\":\"%s\"%s}",
                     method, path, query, esc, more);
    assert_true(w > 0 && (size_t)w < sizeof(g_req));
    return g_req;
}

static void expect_signed(const char *venue, const char *cred, sigil_network net, const char *req,
                          const char *want)
{
    if (sign(venue, cred, net, req) != 0)
        fail_msg("%s: %s", venue, sigil_errmsg());
    assert_string_equal(g_out, want);
    assert_no_secret(g_out, strcmp(venue, "okx") == 0 ? "Passphrase123!" : NULL);
}

/* ---- ISO-8601 timestamps (OKX) ---- */

static void test_iso8601_known_values(void **state)
{
    (void)state;
    static const struct {
        uint64_t ms;
        const char *iso;
    } CASES[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1700000000000, "2023-11-14T22:13:20.000Z"},
        {1000000000000, "2001-09-09T01:46:40.000Z"},
        {946684799999, "1999-12-31T23:59:59.999Z"},
        {951782400000, "2000-02-29T00:00:00.000Z"}, /* 400-year leap day */
        {951868799999, "2000-02-29T23:59:59.999Z"},
        {1709164800123, "2024-02-29T00:00:00.123Z"}, /* 4-year leap day */
        {1735689599999, "2024-12-31T23:59:59.999Z"}, /* day 366 */
        {4107542399999, "2100-02-28T23:59:59.999Z"}, /* 2100: no leap day */
        {4107542400000, "2100-03-01T00:00:00.000Z"},
        {13574563200000, "2400-02-29T00:00:00.000Z"},
        {253402300799999, "9999-12-31T23:59:59.999Z"},
    };
    char iso[SIGIL_ISO8601_MS_LEN + 1];
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        assert_int_equal(sigil_iso8601_ms(iso, CASES[i].ms), 0);
        assert_string_equal(iso, CASES[i].iso);
    }
}

static void test_iso8601_out_of_range(void **state)
{
    (void)state;
    char iso[SIGIL_ISO8601_MS_LEN + 1];
    assert_int_equal(sigil_iso8601_ms(iso, 253402300800000ull), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_int_equal(sigil_iso8601_ms(iso, UINT64_MAX), -1);
}

/* Every day from 1970 to 9999 against the C library's gmtime_r. */
static void test_iso8601_matches_gmtime(void **state)
{
    (void)state;
    char iso[SIGIL_ISO8601_MS_LEN + 1], want[64];
    for (uint64_t day = 0; day <= 2932896; day++) {
        uint64_t ms = day * 86400000u + (day * 7919u) % 86400000u;
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(ms % 1000));
        assert_int_equal(sigil_iso8601_ms(iso, ms), 0);
        if (strcmp(iso, want) != 0)
            fail_msg("ms %llu: got %s, want %s", (unsigned long long)ms, iso, want);
    }
}

/* ---- Bybit ---- */

static void test_bybit_get_query(void **state)
{
    (void)state;
    expect_signed("bybit", BYBIT_CRED, SIGIL_NET_MAINNET,
                  request("GET", "/v5/order/realtime", "category=linear&symbol=BTCUSDT", "",
                          ",\"timestamp\":" TS ",\"recv_window\":10000"),
                  WANT_B1);
}

static void test_bybit_get_empty_query_default_window(void **state)
{
    (void)state;
    expect_signed("bybit", BYBIT_CRED, SIGIL_NET_MAINNET,
                  request("GET", "/v5/user/query-api", "", "", ",\"timestamp\":1700000000123"),
                  WANT_B2);
    /* testnet is another host, same signature */
    expect_signed("bybit", BYBIT_CRED, SIGIL_NET_TESTNET,
                  "{\"method\":\"GET\",\"path\":\"/v5/user/query-api\","
                  "\"timestamp\":1700000000123}",
                  WANT_B2);
}

static void test_bybit_post_unicode_body(void **state)
{
    (void)state;
    expect_signed("bybit", BYBIT_CRED, SIGIL_NET_MAINNET,
                  request("POST", "/v5/order/create", "",
                          "{\"category\":\"spot\",\"orderLinkId\":\"测试🚀\",\"qty\":\"0.001\"}",
                          ",\"timestamp\":" TS),
                  WANT_B3);
    /* the same body given with JSON escapes in the request: same bytes */
    expect_signed("bybit", BYBIT_CRED, SIGIL_NET_MAINNET,
                  "{\"method\":\"POST\",\"path\":\"/v5/order/create\",\"body\":\"{\\\"category"
                  "\\\":\\\"spot\\\",\\\"orderLinkId\\\":\\\"\\u6d4b\\u8bd5\\ud83d\\ude80\\\","
                  "\\\"qty\\\":\\\"0.001\\\"}\",\"timestamp\":" TS "}",
                  WANT_B3);
}

static void test_bybit_delete_signs_query(void **state)
{
    (void)state;
    expect_signed("bybit", BYBIT_CRED, SIGIL_NET_MAINNET,
                  request("DELETE", "/v5/x", "a=1&b=2", "", ",\"timestamp\":" TS), WANT_B4);
}

static void test_bybit_unsigned_part_refused(void **state)
{
    (void)state;
    expect_refused("bybit", BYBIT_CRED, SIGIL_NET_MAINNET,
                   request("POST", "/v5/order/create", "a=1", "{}", ",\"timestamp\":" TS),
                   SIGIL_E_BAD_FIELD, "request.query");
    expect_refused("bybit", BYBIT_CRED, SIGIL_NET_MAINNET,
                   request("DELETE", "/v5/x", "a=1", "{}", ",\"timestamp\":" TS), SIGIL_E_BAD_FIELD,
                   "request.body");
}

static void test_bybit_rsa(void **state)
{
    (void)state;
    char path[1024], pem[4096], cred[8192];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof(path), "%.*s/../vectors/keys/binance_test_rsa_private_key.pem",
             (int)(slash - __FILE__), __FILE__);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(pem, 1, sizeof(pem) - 1, f);
    fclose(f);
    pem[n] = '\0';
    size_t w = (size_t)snprintf(cred, sizeof(cred),
                                "{\"api_key\":\"XXXXXXXXXX\",\"key_type\":\"rsa\",\"secret\":\"");
    for (size_t i = 0; i < n; i++) {
        if (pem[i] == '\n') {
            cred[w++] = '\\';
            cred[w++] = 'n';
        } else {
            cred[w++] = pem[i];
        }
    }
    snprintf(cred + w, sizeof(cred) - w, "\"}");
    expect_signed(
        "bybit", cred, SIGIL_NET_MAINNET,
        request("POST", "/v5/order/create", "", "{\"category\":\"linear\"}", ",\"timestamp\":" TS),
        WANT_B5);
}

static void test_bybit_bad_recv_window(void **state)
{
    (void)state;
    static const struct {
        const char *more;
        sigil_err code;
    } CASES[] = {
        {",\"recv_window\":0", SIGIL_E_OUT_OF_RANGE},
        {",\"recv_window\":86400001", SIGIL_E_OUT_OF_RANGE},
        {",\"recv_window\":-1", SIGIL_E_OUT_OF_RANGE},
        {",\"recv_window\":\"5000\"", SIGIL_E_BAD_FIELD},
        {",\"recv_window\":5000.5", SIGIL_E_BAD_FIELD},
        {",\"recv_window\":5e3", SIGIL_E_BAD_FIELD},
    };
    char more[128];
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        snprintf(more, sizeof(more), ",\"timestamp\":" TS "%s", CASES[i].more);
        expect_refused("bybit", BYBIT_CRED, SIGIL_NET_MAINNET,
                       request("GET", "/v5/x", "a=1", "", more), CASES[i].code, "recv_window");
    }
}

static void test_bybit_credentials(void **state)
{
    (void)state;
    expect_cred_refused(
        "bybit",
        "{\"api_key\":\"XXXXXXXXXX\",\"secret\":\"YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY\","
        "\"passphrase\":\"QWIxenR0ZTEw\"}",
        SIGIL_E_UNKNOWN_FIELD, "credentials.passphrase");
    expect_cred_refused("binance", "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p\"}",
                        SIGIL_E_UNKNOWN_FIELD, "binance keys have no passphrase");
    expect_cred_refused("bybit", "{\"api_key\":\"k\",\"key_type\":\"ed25519\",\"secret\":\"x\"}",
                        SIGIL_E_UNKNOWN_KEY_TYPE, "credentials.key_type");
}

/* ---- OKX ---- */

static void test_okx_get(void **state)
{
    (void)state;
    expect_signed("okx", OKX_CRED, SIGIL_NET_MAINNET,
                  request("GET", "/api/v5/account/balance", "ccy=BTC", "", ",\"timestamp\":" TS),
                  WANT_O1);
}

static void test_okx_post_empty_body(void **state)
{
    (void)state;
    expect_signed(
        "okx", OKX_CRED, SIGIL_NET_MAINNET,
        request("POST", "/api/v5/account/set-position-mode", "", "", ",\"timestamp\":" TS),
        WANT_O2);
}

static void test_okx_post_query_and_unicode_body(void **state)
{
    (void)state;
    expect_signed("okx", OKX_CRED, SIGIL_NET_MAINNET,
                  request("POST", "/api/v5/trade/order", "x=1",
                          "{\"instId\":\"BTC-USDT\",\"tag\":\"测试🚀\"}",
                          ",\"timestamp\":1709164800123"),
                  WANT_O3);
}

static void test_okx_delete(void **state)
{
    (void)state;
    expect_signed("okx", OKX_CRED, SIGIL_NET_MAINNET,
                  request("DELETE", "/api/v5/x", "a=1", "", ",\"timestamp\":" TS), WANT_O4);
}

static void test_okx_testnet_demo_header(void **state)
{
    (void)state;
    expect_signed("okx", OKX_CRED, SIGIL_NET_TESTNET,
                  request("GET", "/api/v5/account/balance", "ccy=BTC", "", ",\"timestamp\":" TS),
                  WANT_O5);
}

static void test_okx_refusals(void **state)
{
    (void)state;
    expect_refused(
        "okx", OKX_CRED, SIGIL_NET_MAINNET,
        request("GET", "/api/v5/x", "", "", ",\"timestamp\":" TS ",\"recv_window\":5000"),
        SIGIL_E_BAD_FIELD, "request.recv_window");
    expect_cred_refused(
        "okx", "{\"api_key\":\"985d5b66\",\"secret\":\"0123456789ABCDEF0123456789ABCDEF\"}",
        SIGIL_E_MISSING_FIELD, "credentials.passphrase");
    expect_cred_refused(
        "okx", "{\"api_key\":\"k\",\"key_type\":\"rsa\",\"secret\":\"x\",\"passphrase\":\"p\"}",
        SIGIL_E_UNKNOWN_KEY_TYPE, "credentials.key_type");
}

/* ---- KuCoin (futures and spot: one scheme) ---- */

static void test_kucoin_get_empty_query(void **state)
{
    (void)state;
    expect_signed("kucoinfutures", KUCOIN_CRED, SIGIL_NET_MAINNET,
                  request("GET", "/api/v1/accounts", "", "", ",\"timestamp\":" TS), WANT_K1);
    expect_signed("kucoin", KUCOIN_CRED, SIGIL_NET_MAINNET,
                  request("GET", "/api/v1/accounts", "", "", ",\"timestamp\":" TS), WANT_K1);
}

static void test_kucoin_post_unicode_body(void **state)
{
    (void)state;
    expect_signed("kucoinfutures", KUCOIN_CRED, SIGIL_NET_MAINNET,
                  request("POST", "/api/v1/orders", "", "{\"clientOid\":\"测试🚀\",\"size\":1}",
                          ",\"timestamp\":" TS),
                  WANT_K2);
}

static void test_kucoin_delete_query(void **state)
{
    (void)state;
    expect_signed("kucoin", KUCOIN_CRED, SIGIL_NET_MAINNET,
                  request("DELETE", "/api/v1/orders", "symbol=XBTUSDTM", "", ",\"timestamp\":" TS),
                  WANT_K3);
}

static void test_kucoin_post_empty_body(void **state)
{
    (void)state;
    expect_signed("kucoinfutures", KUCOIN_CRED, SIGIL_NET_MAINNET,
                  request("POST", "/api/v1/position/margin/auto-deposit-status", "", "",
                          ",\"timestamp\":" TS),
                  WANT_K4);
}

static void test_kucoin_refusals(void **state)
{
    (void)state;
    static const char *const VENUES[] = {"kucoin", "kucoinfutures"};
    for (size_t i = 0; i < 2; i++) {
        expect_refused(
            VENUES[i], KUCOIN_CRED, SIGIL_NET_MAINNET,
            request("GET", "/api/v1/x", "", "", ",\"timestamp\":" TS ",\"recv_window\":5000"),
            SIGIL_E_BAD_FIELD, "request.recv_window");
        expect_refused(VENUES[i], KUCOIN_CRED, SIGIL_NET_TESTNET,
                       request("GET", "/api/v1/x", "", "", ",\"timestamp\":" TS),
                       SIGIL_E_BAD_REQUEST, "--network");
        expect_cred_refused(VENUES[i],
                            "{\"api_key\":\"5c2db935\",\"secret\":\"f03a5284-5c39-4aaa\"}",
                            SIGIL_E_MISSING_FIELD, "credentials.passphrase");
    }
}

/* ---- bodies every venue refuses ---- */

static const struct {
    const char *venue, *cred;
} ALL[] = {
    {"bybit", BYBIT_CRED},
    {"okx", OKX_CRED},
    {"kucoinfutures", KUCOIN_CRED},
    {"kucoin", KUCOIN_CRED},
};

static void refuse_bodies(const char *const *bodies, size_t n, sigil_err code)
{
    for (size_t v = 0; v < sizeof(ALL) / sizeof(ALL[0]); v++) {
        for (size_t i = 0; i < n; i++)
            expect_refused(ALL[v].venue, ALL[v].cred, SIGIL_NET_MAINNET,
                           request("POST", "/x", "", bodies[i], ",\"timestamp\":" TS), code,
                           "request.body");
    }
}

static void test_body_not_strict_json(void **state)
{
    (void)state;
    static const char *const BODIES[] = {
        "{\"a\":1,}", "{'a':1}", "{\"a\":01}", "{\"a\":NaN}", "{\"a\":1} x", "[1,2", "{\"a\":.5}",
    };
    refuse_bodies(BODIES, sizeof(BODIES) / sizeof(BODIES[0]), SIGIL_E_BAD_JSON);
}

static void test_body_duplicate_keys(void **state)
{
    (void)state;
    static const char *const BODIES[] = {
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"\\u0061\":2}", /* equal once unescaped */
        "{\"o\":{\"k\":1,\"k\":1}}",
    };
    refuse_bodies(BODIES, sizeof(BODIES) / sizeof(BODIES[0]), SIGIL_E_DUPLICATE_KEY);
}

static int setup(void **state)
{
    (void)state;
    return sigil_init();
}

/* Private WebSocket authentication messages (venues.md §2, §3 vectors). The
 * OKX login message carries the passphrase in clear: that is OKX's protocol,
 * like its REST header. */
static void test_ws_auth_messages(void **state)
{
    (void)state;
    expect_signed("bybit", BYBIT_CRED, SIGIL_NET_MAINNET,
                  "{\"op\":\"auth\",\"expires\":1700000010000}",
                  "{\"op\":\"auth\",\"args\":[\"XXXXXXXXXX\",1700000010000,"
                  "\"91a5e42aa6d4f91c9ac1cd314c37287b3e0eb00d02ab6ef4c1c217824b09f2f6\"]}");
    assert_int_equal(
        sign("okx", OKX_CRED, SIGIL_NET_MAINNET, "{\"op\":\"login\",\"timestamp\":1700000000}"), 0);
    assert_string_equal(g_out, "{\"op\":\"login\",\"args\":[{\"apiKey\":"
                               "\"985d5b66-57ce-40fb-b714-afc0b9787083\",\"passphrase\":"
                               "\"Passphrase123!\",\"timestamp\":\"1700000000\",\"sign\":"
                               "\"Ikt+m8H9a4a71m253i8fzxPPDMmTxHlL+yYR4ULQnlc=\"}]}");
}

static void test_ws_auth_refusals(void **state)
{
    (void)state;
    const sigil_network M = SIGIL_NET_MAINNET;
    expect_refused("bybit", BYBIT_CRED, M, "{\"op\":\"subscribe\",\"expires\":1700000010000}",
                   SIGIL_E_BAD_FIELD, "request.op");
    expect_refused("bybit", BYBIT_CRED, M, "{\"op\":\"auth\"}", SIGIL_E_MISSING_FIELD,
                   "request.expires");
    expect_refused("bybit", BYBIT_CRED, M, "{\"op\":\"auth\",\"expires\":1700000010}",
                   SIGIL_E_OUT_OF_RANGE, "request.expires");
    expect_refused("bybit", BYBIT_CRED, M,
                   "{\"op\":\"auth\",\"expires\":1700000010000,\"method\":\"GET\"}",
                   SIGIL_E_UNKNOWN_FIELD, "request.method");
    expect_refused("okx", OKX_CRED, M, "{\"op\":\"login\",\"timestamp\":1700000000000}",
                   SIGIL_E_OUT_OF_RANGE, "request.timestamp");
    expect_refused("okx", OKX_CRED, M, "{\"op\":\"login\",\"timestamp\":\"1700000000\"}",
                   SIGIL_E_BAD_FIELD, "request.timestamp");
    expect_refused("okx", OKX_CRED, M, "{\"op\":1,\"timestamp\":1700000000}", SIGIL_E_BAD_FIELD,
                   "request.op");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_auth_messages),
        cmocka_unit_test(test_ws_auth_refusals),
        cmocka_unit_test(test_iso8601_known_values),
        cmocka_unit_test(test_iso8601_out_of_range),
        cmocka_unit_test(test_iso8601_matches_gmtime),
        cmocka_unit_test(test_bybit_get_query),
        cmocka_unit_test(test_bybit_get_empty_query_default_window),
        cmocka_unit_test(test_bybit_post_unicode_body),
        cmocka_unit_test(test_bybit_delete_signs_query),
        cmocka_unit_test(test_bybit_unsigned_part_refused),
        cmocka_unit_test(test_bybit_rsa),
        cmocka_unit_test(test_bybit_bad_recv_window),
        cmocka_unit_test(test_bybit_credentials),
        cmocka_unit_test(test_okx_get),
        cmocka_unit_test(test_okx_post_empty_body),
        cmocka_unit_test(test_okx_post_query_and_unicode_body),
        cmocka_unit_test(test_okx_delete),
        cmocka_unit_test(test_okx_testnet_demo_header),
        cmocka_unit_test(test_okx_refusals),
        cmocka_unit_test(test_kucoin_get_empty_query),
        cmocka_unit_test(test_kucoin_post_unicode_body),
        cmocka_unit_test(test_kucoin_delete_query),
        cmocka_unit_test(test_kucoin_post_empty_body),
        cmocka_unit_test(test_kucoin_refusals),
        cmocka_unit_test(test_body_not_strict_json),
        cmocka_unit_test(test_body_duplicate_keys),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
