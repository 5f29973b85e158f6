/*
 * Unit tests for request classification and request time (src/policy):
 * one table row per venue endpoint family in docs/POLICY.md. Every request
 * here is also signed by the venue signer, so the table only holds requests
 * the service would really sign.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/policy.h"
#include "sigil/venues.h"
#include "test_util.h"

#define WALLET                                                                                     \
    "{\"private_key\":\"0x0123456789012345678901234567890123456789012345678901234567890123\"}"

static const char *credentials_for(const char *venue)
{
    static const struct {
        const char *venue, *cred;
    } CREDS[] = {
        {"okx", "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p\"}"},
        {"kucoin", "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p\"}"},
        {"kucoinfutures", "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p\"}"},
        {"bitget", "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p\"}"},
        {"kraken", "{\"api_key\":\"k\",\"secret\":\"c2VjcmV0\"}"},
        {"coinbase", "{\"api_key\":\"k\",\"secret\":\"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXW"
                     "pgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==\"}"},
        {"hyperliquid", WALLET},
        {"aster", WALLET},
        {"eip712", WALLET},
        {"eip191", WALLET},
        {"dydx", WALLET},
        {"paradex", WALLET},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CREDS); i++)
        if (strcmp(CREDS[i].venue, venue) == 0)
            return CREDS[i].cred;
    return "{\"api_key\":\"k\",\"secret\":\"s\"}";
}

/* The signer accepts the request (so the row is a real request). */
static void assert_signable(const char *venue, const char *req)
{
    static char out[64 * 1024];
    const sigil_venue *v = sigil_venue_find(venue);
    const char *cred = credentials_for(venue);
    sigil_credentials c;
    sigil_buf b;
    assert_non_null(v);
    assert_int_equal(sigil_credentials_parse(&c, v, cred, strlen(cred)), 0);
    sigil_buf_init(&b, out, sizeof(out));
    int rc = sigil_sign(&b, v, &c, SIGIL_NET_MAINNET, req, strlen(req));
    sigil_credentials_free(&c);
    if (rc != 0)
        fail_msg("%s: the signer refuses %s: %s", venue, req, sigil_errmsg());
}

typedef struct {
    const char *venue;
    const char *request;
    sigil_action want;
} action_case;

#define A(v, r, a)                                                                                 \
    {                                                                                              \
        (v), (r), SIGIL_ACTION_##a                                                                 \
    }
#define REST(m, p, q, b)                                                                           \
    "{\"method\":\"" m "\",\"path\":\"" p "\",\"query\":\"" q "\",\"body\":\"" b                   \
    "\",\"timestamp\":1700000000000}"
#define GET(p, q) REST("GET", p, q, "")
/* A dYdX request signed by the §0 key for its own account. */
#define DYDX(kind, extra)                                                                          \
    "{\"chain_id\":\"dydx-mainnet-1\",\"account_number\":1,\"sequence\":0,\"timestamp\":"          \
    "1700000000011,\"" kind "\":{\"owner\":\"dydx1navfnxx0ywpgtdjevkkmk2k79lvr37jtmp8y6t\","       \
    "\"subaccount_number\":0,\"client_id\":1,\"clob_pair_id\":0,\"order_flags\":0,"                \
    "\"good_til_block\":10" extra "}}"

static const action_case CASES[] = {
    /* binance: vectors/binance.json; parameters decide as much as the path */
    A("binance",
      REST("POST", "/api/v3/order", "",
           "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"),
      ORDER),
    A("binance",
      REST("POST", "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1",
           "price=9000&timeInForce=GTC"),
      ORDER),
    A("binance", REST("DELETE", "/api/v3/order", "symbol=LTCBTC&orderId=12", ""), CANCEL),
    A("binance", REST("DELETE", "/api/v3/openOrders", "symbol=LTCBTC", ""), CANCEL),
    A("binance",
      REST("PUT", "/fapi/v1/order", "", "symbol=BTCUSDT&orderId=1&side=BUY&quantity=1&price=2"),
      ORDER),
    A("binance",
      REST("PUT", "/api/v3/order/amend/keepPriority", "", "symbol=BTCUSDT&orderId=1&newQty=1"),
      MODIFY),
    A("binance", REST("POST", "/fapi/v1/leverage", "", "symbol=BTCUSDT&leverage=5"), LEVERAGE),
    A("binance",
      REST("POST", "/sapi/v1/capital/withdraw/apply", "", "coin=USDT&address=TX1&amount=10"),
      WITHDRAW),
    A("binance",
      REST("POST", "/sapi/v1/asset/transfer", "", "type=MAIN_UMFUTURE&asset=USDT&amount=10"),
      TRANSFER),
    A("binance", GET("/api/v3/myTrades", "symbol=LTCBTC&limit=10"), READ),
    A("binance", GET("/api/v3/allOrders", "symbol=LTCBTC&startTime=1&limit=10"), READ),
    /* A read whose parameters a cancel-all or a withdrawal would also take. */
    A("binance", GET("/api/v3/openOrders", "symbol=LTCBTC"), CANCEL),
    A("binance", GET("/api/v3/order", "symbol=LTCBTC&orderId=12"), CANCEL),
    A("binance", GET("/api/v3/account", ""), OTHER),
    A("binance", GET("/api/v3/account", "address=x&coin=USDT&amount=1"), WITHDRAW),
    A("binance", REST("POST", "/api/v3/ORDER", "", "symbol=A&side=BUY&quantity=1"), ORDER),
    A("binance",
      "{\"id\":\"o-1\",\"method\":\"order.place\",\"params\":{\"symbol\":\"BTCUSDT\",\"side\":"
      "\"BUY\",\"type\":\"LIMIT\",\"price\":\"35000.10\",\"quantity\":\"0.001\",\"timeInForce\":"
      "\"GTC\"},\"timestamp\":1700000000000}",
      ORDER),
    A("binance",
      "{\"id\":1,\"method\":\"order.cancel\",\"params\":{\"symbol\":\"BTCUSDT\",\"orderId\":7},"
      "\"timestamp\":1700000000000}",
      CANCEL),
    A("binance",
      "{\"id\":1,\"method\":\"order.status\",\"params\":{\"symbol\":\"BTCUSDT\",\"orderId\":7},"
      "\"timestamp\":1700000000000}",
      CANCEL),
    A("binance",
      "{\"id\":1,\"method\":\"allOrders\",\"params\":{\"symbol\":\"BTCUSDT\",\"limit\":5},"
      "\"timestamp\":1700000000000}",
      READ),
    /* aster: vectors/aster.json; the query is all that is signed */
    A("aster",
      "{\"method\":\"POST\",\"path\":\"/fapi/v3/"
      "order\",\"query\":\"symbol=ASTERUSDT&type=LIMIT&side=BUY&timeInForce=GTC&quantity=20&price="
      "0.5\",\"nonce\":1748310859508867}",
      ORDER),
    A("aster",
      "{\"method\":\"DELETE\",\"path\":\"/fapi/v3/"
      "order\",\"query\":\"symbol=ASTERUSDT&orderId=123456789\",\"nonce\":1748310859508867}",
      CANCEL),
    A("aster",
      "{\"method\":\"POST\",\"path\":\"/fapi/v3/"
      "batchOrders\",\"query\":\"batchOrders=%5B%5D\",\"nonce\":1748310859508867}",
      ORDER),
    A("aster",
      "{\"method\":\"GET\",\"path\":\"/fapi/v3/"
      "order\",\"query\":\"symbol=ASTERUSDT&side=BUY&quantity=1\",\"nonce\":1748310859508867}",
      ORDER),
    A("aster",
      "{\"method\":\"POST\",\"path\":\"/fapi/v3/"
      "leverage\",\"query\":\"symbol=ASTERUSDT&leverage=3\",\"nonce\":1748310859508867}",
      LEVERAGE),
    A("aster",
      "{\"method\":\"GET\",\"path\":\"/fapi/v3/"
      "userTrades\",\"query\":\"symbol=ASTERUSDT&limit=5\",\"nonce\":1748310859508867}",
      READ),
    A("aster",
      "{\"method\":\"POST\",\"path\":\"/fapi/v3/asset/wallet/"
      "transfer\",\"query\":\"asset=USDT&amount=1&kindType=FUTURE_SPOT&clientTranId=x\",\"nonce\":"
      "1748310859508867}",
      TRANSFER),
    /* bybit: vectors/bybit.json */
    A("bybit", GET("/v5/order/realtime", "category=linear&symbol=BTCUSDT"), READ),
    A("bybit", GET("/v5/account/info", ""), OTHER),
    A("bybit",
      REST("POST", "/v5/order/create", "",
           "{\\\"category\\\":\\\"linear\\\",\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"side\\\":"
           "\\\"Buy\\\",\\\"orderType\\\":\\\"Limit\\\",\\\"qty\\\":\\\"0.001\\\",\\\"price\\\":"
           "\\\"30000\\\"}"),
      ORDER),
    A("bybit",
      REST("POST", "/v5/order/cancel", "",
           "{\\\"category\\\":\\\"linear\\\",\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"orderId\\\":"
           "\\\"1\\\"}"),
      CANCEL),
    A("bybit",
      REST("POST", "/v5/order/amend", "",
           "{\\\"category\\\":\\\"linear\\\",\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"orderId\\\":"
           "\\\"1\\\",\\\"price\\\":\\\"2\\\"}"),
      MODIFY),
    A("bybit",
      REST("POST", "/v5/position/set-leverage", "",
           "{\\\"category\\\":\\\"linear\\\",\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"buyLeverage\\\":"
           "\\\"5\\\",\\\"sellLeverage\\\":\\\"5\\\"}"),
      LEVERAGE),
    A("bybit",
      REST("POST", "/v5/asset/withdraw/create", "",
           "{\\\"coin\\\":\\\"USDT\\\",\\\"chain\\\":\\\"ETH\\\",\\\"address\\\":\\\"0x1\\\","
           "\\\"amount\\\":\\\"1\\\"}"),
      WITHDRAW),
    A("bybit",
      REST("POST", "/v5/order/amend", "",
           "{\\\"coin\\\":\\\"USDT\\\",\\\"address\\\":\\\"0x1\\\",\\\"amount\\\":\\\"1\\\"}"),
      WITHDRAW),
    A("bybit", "{\"op\":\"auth\",\"expires\":1700000010000}", AUTH),
    /* okx: vectors/okx.json */
    A("okx", GET("/api/v5/account/balance", "ccy=BTC%2CETH"), READ),
    A("okx",
      REST("POST", "/api/v5/trade/order", "",
           "{\\\"instId\\\":\\\"BTC-USDT\\\",\\\"tdMode\\\":\\\"cash\\\",\\\"side\\\":\\\"buy\\\","
           "\\\"ordType\\\":\\\"market\\\",\\\"sz\\\":\\\"1\\\"}"),
      ORDER),
    A("okx",
      REST("POST", "/api/v5/trade/cancel-order", "",
           "{\\\"instId\\\":\\\"BTC-USDT\\\",\\\"ordId\\\":\\\"1\\\"}"),
      CANCEL),
    A("okx",
      REST("POST", "/api/v5/trade/amend-order", "",
           "{\\\"instId\\\":\\\"BTC-USDT\\\",\\\"ordId\\\":\\\"1\\\",\\\"newSz\\\":\\\"2\\\"}"),
      MODIFY),
    A("okx",
      REST("POST", "/api/v5/account/set-leverage", "",
           "{\\\"lever\\\":\\\"5\\\",\\\"mgnMode\\\":\\\"cross\\\"}"),
      LEVERAGE),
    A("okx",
      REST("POST", "/api/v5/asset/withdrawal", "",
           "{\\\"ccy\\\":\\\"USDT\\\",\\\"amt\\\":\\\"1\\\"}"),
      WITHDRAW),
    A("okx",
      REST("POST", "/api/v5/asset/transfer", "",
           "{\\\"ccy\\\":\\\"USDT\\\",\\\"amt\\\":\\\"1\\\"}"),
      TRANSFER),
    A("okx", "{\"op\":\"login\",\"timestamp\":1700000000}", AUTH),
    /* kucoin / kucoinfutures: vectors/kucoinfutures.json */
    A("kucoinfutures",
      REST("POST", "/api/v1/orders", "",
           "{\\\"clientOid\\\":\\\"x\\\",\\\"side\\\":\\\"buy\\\",\\\"symbol\\\":\\\"XBTUSDTM\\\","
           "\\\"size\\\":1}"),
      ORDER),
    A("kucoinfutures", GET("/api/v1/orders", "status=active&symbol=XBTUSDTM"), READ),
    A("kucoinfutures", REST("DELETE", "/api/v1/orders/5bd6e9286d99522a52e458de", "", ""), CANCEL),
    A("kucoinfutures",
      REST("POST", "/api/v2/changeLeverage", "",
           "{\\\"symbol\\\":\\\"XBTUSDTM\\\",\\\"leverage\\\":\\\"5\\\"}"),
      LEVERAGE),
    A("kucoin",
      REST("POST", "/api/v1/hf/orders/alter", "",
           "{\\\"symbol\\\":\\\"BTC-USDT\\\",\\\"orderId\\\":\\\"1\\\",\\\"newSize\\\":\\\"2\\\"}"),
      MODIFY),
    A("kucoin",
      REST("POST", "/api/v3/withdrawals", "",
           "{\\\"currency\\\":\\\"USDT\\\",\\\"amount\\\":\\\"1\\\"}"),
      WITHDRAW),
    A("kucoin",
      REST("POST", "/api/v2/accounts/inner-transfer", "",
           "{\\\"currency\\\":\\\"USDT\\\",\\\"amount\\\":\\\"1\\\"}"),
      TRANSFER),
    A("kucoin", REST("DELETE", "/api/v1/sub/api-key", "apiKey=x", ""), AGENT),
    /* kraken: vectors/kraken.json */
    A("kraken",
      REST("POST", "/0/private/AddOrder", "",
           "ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"),
      ORDER),
    A("kraken", REST("POST", "/0/private/CancelOrder", "", "txid=OABC"), CANCEL),
    A("kraken", REST("POST", "/0/private/EditOrder", "", "txid=OABC&volume=2"), MODIFY),
    A("kraken", REST("POST", "/0/private/Balance", "", ""), READ),
    A("kraken", REST("POST", "/0/private/WithdrawInfo", "", "asset=XBT&key=k&amount=1"), READ),
    A("kraken", REST("POST", "/0/private/Withdraw", "", "asset=XBT&key=k&amount=1"), WITHDRAW),
    A("kraken", REST("POST", "/0/private/WalletTransfer", "", "asset=XBT&amount=1"), TRANSFER),
    A("kraken", REST("POST", "/0/private/GetWebSocketsToken", "", ""), AUTH),
    A("kraken", REST("POST", "/0/private/SomethingNew", "", ""), OTHER),
    /* bitget: vectors/bitget.json */
    A("bitget",
      REST("POST", "/api/v2/mix/order/place-order", "",
           "{\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"size\\\":\\\"1\\\"}"),
      ORDER),
    A("bitget", GET("/api/v2/mix/order/orders-pending", "productType=USDT-FUTURES&symbol=BTCUSDT"),
      READ),
    A("bitget",
      REST("POST", "/api/v2/mix/order/cancel-order", "",
           "{\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"orderId\\\":\\\"1\\\"}"),
      CANCEL),
    A("bitget",
      REST("POST", "/api/v2/mix/order/modify-order", "",
           "{\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"orderId\\\":\\\"1\\\"}"),
      MODIFY),
    A("bitget",
      REST("POST", "/api/v2/mix/account/set-leverage", "",
           "{\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"leverage\\\":\\\"5\\\"}"),
      LEVERAGE),
    A("bitget", REST("POST", "/api/v2/spot/wallet/withdrawal", "", "{\\\"coin\\\":\\\"USDT\\\"}"),
      WITHDRAW),
    /* gate: vectors/gate.json */
    A("gate",
      REST("POST", "/api/v4/spot/orders", "",
           "{\\\"text\\\":\\\"t-cloid1\\\",\\\"currency_pair\\\":\\\"BTC_USDT\\\",\\\"side\\\":"
           "\\\"buy\\\",\\\"amount\\\":\\\"0.001\\\"}"),
      ORDER),
    A("gate", GET("/api/v4/spot/orders", "currency_pair=BTC_USDT&status=open"), READ),
    A("gate", REST("DELETE", "/api/v4/spot/orders", "currency_pair=BTC_USDT", ""), CANCEL),
    A("gate", REST("PUT", "/api/v4/futures/usdt/orders/123", "", "{\\\"size\\\":2}"), MODIFY),
    A("gate", REST("POST", "/api/v4/futures/usdt/positions/BTC_USDT/leverage", "leverage=5", ""),
      LEVERAGE),
    A("gate", REST("POST", "/api/v4/withdrawals", "", "{\\\"currency\\\":\\\"USDT\\\"}"), WITHDRAW),
    A("gate", REST("POST", "/api/v4/wallet/transfers", "", "{\\\"currency\\\":\\\"USDT\\\"}"),
      TRANSFER),
    /* coinbase: vectors/coinbase.json; the path alone decides (the query is unsigned) */
    A("coinbase",
      REST("POST", "/api/v3/brokerage/orders", "", "{\\\"client_order_id\\\":\\\"1\\\"}"), ORDER),
    A("coinbase", GET("/api/v3/brokerage/orders/historical/batch", "order_status=OPEN"), READ),
    A("coinbase", REST("POST", "/api/v3/brokerage/orders/batch_cancel", "", "{}"), CANCEL),
    A("coinbase", REST("POST", "/api/v3/brokerage/orders/edit", "", "{}"), MODIFY),
    /* paradex: the message decides (docs/CLI.md "Paradex"); onboarding is other */
    A("paradex",
      "{\"message\":\"order\",\"account\":\"0x1\",\"signature_timestamp\":1700000000000,"
      "\"market\":\"ETH-USD-PERP\",\"side\":\"BUY\",\"type\":\"LIMIT\",\"size\":\"0.1\","
      "\"price\":\"1500\"}",
      ORDER),
    A("paradex",
      "{\"message\":\"modify_order\",\"account\":\"0x1\",\"signature_timestamp\":"
      "1700000000000,\"market\":\"ETH-USD-PERP\",\"side\":\"SELL\",\"type\":\"MARKET\","
      "\"size\":\"0.1\",\"id\":\"7\"}",
      MODIFY),
    A("paradex",
      "{\"message\":\"auth\",\"account\":\"0x1\",\"timestamp\":1700000000,"
      "\"expiration\":1700000300}",
      AUTH),
    A("paradex", "{\"message\":\"onboarding\",\"account\":\"0x1\"}", OTHER),
    A("paradex",
      "{\"message\":\"account_info\",\"paraclear_account_hash\":\"0x1\","
      "\"paraclear_account_proxy_hash\":\"0x2\"}",
      READ),
    A("coinbase", REST("POST", "/v2/accounts/abc/transactions", "", "{}"), WITHDRAW),
    A("coinbase", REST("POST", "/api/v3/brokerage/portfolios/move_funds", "", "{}"), TRANSFER),
    /* deribit: vectors/deribit.json; actions travel on GET too */
    A("deribit",
      "{\"method\":\"GET\",\"path\":\"/api/v2/private/"
      "get_account_summary\",\"query\":\"currency=BTC&extended=true\",\"timestamp\":1700000000000,"
      "\"nonce\":\"abcd\"}",
      READ),
    A("deribit",
      "{\"method\":\"GET\",\"path\":\"/api/v2/private/"
      "buy\",\"query\":\"instrument_name=BTC-PERPETUAL&amount=10\",\"timestamp\":1700000000000,"
      "\"nonce\":\"abcd\"}",
      ORDER),
    A("deribit",
      "{\"method\":\"GET\",\"path\":\"/api/v2/private/"
      "cancel_all\",\"timestamp\":1700000000000,\"nonce\":\"abcd\"}",
      CANCEL),
    A("deribit",
      "{\"method\":\"GET\",\"path\":\"/api/v2/private/"
      "edit\",\"query\":\"order_id=1&amount=2\",\"timestamp\":1700000000000,\"nonce\":\"abcd\"}",
      MODIFY),
    A("deribit",
      "{\"method\":\"GET\",\"path\":\"/api/v2/private/"
      "withdraw\",\"query\":\"currency=BTC\",\"timestamp\":1700000000000,\"nonce\":\"abcd\"}",
      WITHDRAW),
    A("deribit",
      "{\"method\":\"GET\",\"path\":\"/api/v2/private/"
      "get_withdrawals\",\"query\":\"currency=BTC\",\"timestamp\":1700000000000,\"nonce\":"
      "\"abcd\"}",
      READ),
    A("deribit",
      "{\"method\":\"GET\",\"path\":\"/api/v2/private/"
      "submit_transfer_to_user\",\"timestamp\":1700000000000,\"nonce\":\"abcd\"}",
      TRANSFER),
    A("deribit",
      "{\"method\":\"GET\",\"path\":\"/api/v2/private/"
      "something_new\",\"timestamp\":1700000000000,\"nonce\":\"abcd\"}",
      OTHER),
    A("deribit",
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/"
      "auth\",\"params\":{\"grant_type\":\"client_signature\",\"timestamp\":1700000000000,"
      "\"nonce\":\"abcd\"}}",
      AUTH),
    /* bitfinex: vectors/bitfinex.json */
    A("bitfinex",
      "{\"method\":\"POST\",\"path\":\"/v2/auth/w/order/"
      "submit\",\"body\":\"{\\\"type\\\":\\\"EXCHANGE "
      "LIMIT\\\",\\\"symbol\\\":\\\"tBTCUST\\\",\\\"amount\\\":\\\"0.001\\\",\\\"price\\\":"
      "\\\"30000\\\"}\",\"nonce\":1700000000000000}",
      ORDER),
    A("bitfinex",
      "{\"method\":\"POST\",\"path\":\"/v2/auth/w/order/"
      "cancel\",\"body\":\"{\\\"id\\\":1}\",\"timestamp\":1700000000000}",
      CANCEL),
    A("bitfinex",
      "{\"method\":\"POST\",\"path\":\"/v2/auth/w/order/"
      "update\",\"body\":\"{\\\"id\\\":1}\",\"timestamp\":1700000000000}",
      MODIFY),
    A("bitfinex",
      "{\"method\":\"POST\",\"path\":\"/v2/auth/r/wallets\",\"timestamp\":1700000000000}", READ),
    A("bitfinex",
      "{\"method\":\"POST\",\"path\":\"/v2/auth/w/"
      "withdraw\",\"body\":\"{\\\"wallet\\\":\\\"exchange\\\"}\",\"timestamp\":1700000000000}",
      WITHDRAW),
    A("bitfinex",
      "{\"method\":\"POST\",\"path\":\"/v2/auth/w/"
      "transfer\",\"body\":\"{\\\"from\\\":\\\"exchange\\\"}\",\"timestamp\":1700000000000}",
      TRANSFER),
    A("bitfinex", "{\"event\":\"auth\",\"authNonce\":1700000000000000}", AUTH),
    /* hyperliquid (the vector file is checked in full below) */
    A("hyperliquid", "{\"action\":{\"type\":\"noop\"},\"nonce\":1700000000000}", OTHER),
    A("hyperliquid",
      "{\"action\":{\"type\":\"scheduleCancel\",\"time\":1700000100000},\"nonce\":1700000000000}",
      CANCEL),
    /* dydx: the message decides (docs/API.md) */
    A("dydx", DYDX("place_order", ",\"side\":1,\"quantums\":10,\"subticks\":10"), ORDER),
    A("dydx", DYDX("cancel_order", ""), CANCEL),
    /* generic typed data and messages */
    A("eip191", "{\"message\":\"hello\"}", OTHER),
    A("eip712",
      "{\"domain\":{\"name\":\"X\",\"version\":\"1\",\"chainId\":1,\"verifyingContract\":"
      "\"0x0000000000000000000000000000000000000000\"},\"types\":{\"M\":[{\"name\":\"a\",\"type\":"
      "\"uint256\"}]},\"primaryType\":\"M\",\"message\":{\"a\":1}}",
      OTHER),
};

static void test_request_action_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        const action_case *c = &CASES[i];
        sigil_action got;
        sigil_clear_error();
        if (sigil_request_action(&got, c->venue, c->request, strlen(c->request)) != 0)
            fail_msg("case %zu (%s) refused: %s", i, c->venue, sigil_errmsg());
        if (got != c->want)
            fail_msg("case %zu (%s %s): got %s, want %s", i, c->venue, c->request,
                     sigil_action_name(got), sigil_action_name(c->want));
        assert_signable(c->venue, c->request);
    }
}

/* Every venue the signer knows has a table, and every table row covers one. */
static void test_every_venue_has_tables(void **state)
{
    (void)state;
    for (const sigil_venue *const *v = sigil_venue_all(); *v != NULL; v++) {
        bool covered = false;
        assert_true(sigil_policy_venue_known((*v)->name));
        for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++)
            covered = covered || strcmp(CASES[i].venue, (*v)->name) == 0;
        if (!covered)
            fail_msg("venue %s has no classification case", (*v)->name);
    }
    assert_false(sigil_policy_venue_known("nasdaq"));
    sigil_action a;
    assert_int_equal(sigil_request_action(&a, "nasdaq", "{}", 2), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_UNKNOWN_VENUE);
}

static void test_request_action_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *venue, *request;
        sigil_err code;
    } BAD[] = {
        {"binance", "[]", SIGIL_E_BAD_FIELD},
        {"binance", "{", SIGIL_E_BAD_JSON},
        {"okx", "{\"method\":\"GET\",\"timestamp\":1}", SIGIL_E_MISSING_FIELD},
        {"okx", "{\"method\":\"PATCH\",\"path\":\"/api/v5/trade/order\"}", SIGIL_E_BAD_FIELD},
        /* Paths a server might normalise to another endpoint. */
        {"okx", "{\"method\":\"POST\",\"path\":\"/api/v5/asset/with%64rawal\"}",
         SIGIL_E_BAD_REQUEST},
        {"okx", "{\"method\":\"POST\",\"path\":\"/api/v5/trade/../asset/withdrawal\"}",
         SIGIL_E_BAD_REQUEST},
        {"okx", "{\"method\":\"POST\",\"path\":\"/api/v5//asset/withdrawal\"}",
         SIGIL_E_BAD_REQUEST},
        {"okx", "{\"method\":\"POST\",\"path\":\"/api/v5/trade/order;x\"}", SIGIL_E_BAD_REQUEST},
        {"okx", "{\"method\":\"POST\",\"path\":\"/api/v5/trade/.\"}", SIGIL_E_BAD_REQUEST},
        {"okx", "{\"method\":\"POST\",\"path\":\"api/v5/trade/order\"}", SIGIL_E_BAD_FIELD},
        {"binance", "{\"method\":\"GET\",\"path\":\"/api/v3/account\",\"query\":\"a=1&a=2\"}",
         SIGIL_E_DUPLICATE_KEY},
        {"hyperliquid", "{\"nonce\":1}", SIGIL_E_MISSING_FIELD},
        {"hyperliquid", "{\"action\":{\"type\":7},\"nonce\":1}", SIGIL_E_BAD_FIELD},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        sigil_action a;
        sigil_clear_error();
        if (sigil_request_action(&a, BAD[i].venue, BAD[i].request, strlen(BAD[i].request)) == 0)
            fail_msg("case %zu accepted as %s", i, sigil_action_name(a));
        if (sigil_errno() != BAD[i].code)
            fail_msg("case %zu: got %s (%s)", i, sigil_err_code(sigil_errno()), sigil_errmsg());
    }
    /* A trailing slash names the same endpoint. */
    sigil_action a;
    static const char slash[] = "{\"method\":\"POST\",\"path\":\"/api/v5/asset/withdrawal/\"}";
    assert_int_equal(sigil_request_action(&a, "okx", slash, strlen(slash)), 0);
    assert_int_equal(a, SIGIL_ACTION_WITHDRAW);
}

/* Every Hyperliquid vector: the class of its action type. */
static void test_hyperliquid_vectors(void **state)
{
    (void)state;
    static char text[512 * 1024];
    static sigil_json_tok toks[32768];
    static char req[8192];
    sigil_json d;
    static const struct {
        const char *type;
        sigil_action want;
    } TYPES[] = {
        {"order", SIGIL_ACTION_ORDER},          {"cancel", SIGIL_ACTION_CANCEL},
        {"cancelByCloid", SIGIL_ACTION_CANCEL}, {"updateLeverage", SIGIL_ACTION_LEVERAGE},
        {"usdSend", SIGIL_ACTION_TRANSFER},     {"withdraw3", SIGIL_ACTION_WITHDRAW},
        {"approveAgent", SIGIL_ACTION_AGENT},   {"modify", SIGIL_ACTION_MODIFY},
        {"batchModify", SIGIL_ACTION_MODIFY},   {"spotSend", SIGIL_ACTION_TRANSFER},
    };
    test_load_vectors("hyperliquid.json", text, sizeof(text), &d, toks, SIGIL_ARRAY_LEN(toks));
    uint32_t vecs = sigil_json_get(&d, 0, "vectors");
    size_t n = 0;
    for (uint32_t v = sigil_json_first(&d, vecs); v != 0; v = sigil_json_sibling(&d, vecs, v)) {
        uint32_t in = sigil_json_get(&d, v, "inputs");
        uint32_t action = sigil_json_get(&d, in, "action");
        uint32_t nonce = sigil_json_get(&d, in, "nonce");
        if (nonce == 0) /* user-signed actions: the nonce posted is the action's time */
            nonce = sigil_json_get(&d, in, "nonce_field_in_post_body");
        uint32_t type = sigil_json_get(&d, action, "type");
        uint64_t want_nonce, got_nonce;
        sigil_buf b;
        sigil_jw w;
        sigil_action got;
        assert_true(action != 0 && nonce != 0 && type != 0);
        assert_int_equal(sigil_json_tok_u64(&d, nonce, &want_nonce, "nonce"), 0);
        sigil_buf_init(&b, req, sizeof(req));
        sigil_jw_init(&w, &b);
        assert_int_equal(sigil_jw_obj_begin(&w) || sigil_jw_key(&w, "action") ||
                             sigil_jw_copy(&w, &d, action) || sigil_jw_key(&w, "nonce") ||
                             sigil_jw_u64(&w, want_nonce) || sigil_jw_obj_end(&w),
                         0);
        assert_int_equal(sigil_request_action(&got, "hyperliquid", req, b.len), 0);
        size_t k = 0;
        while (k < SIGIL_ARRAY_LEN(TYPES) && !sigil_json_str_eq(&d, type, TYPES[k].type))
            k++;
        if (k == SIGIL_ARRAY_LEN(TYPES))
            fail_msg("vector action type not in the test's table: %.*s",
                     (int)sigil_json_raw(&d, type).len, sigil_json_raw(&d, type).p);
        assert_int_equal(got, TYPES[k].want);
        assert_int_equal(sigil_request_time_ms(&got_nonce, "hyperliquid", req, b.len), 0);
        assert_int_equal(got_nonce, want_nonce);
        n++;
    }
    assert_true(n >= 20);
}

typedef struct {
    const char *venue, *request;
    uint64_t want; /* 0: refused with bad_request */
} time_case;

static const time_case TIMES[] = {
    {"binance", GET("/api/v3/account", ""), 1700000000000},
    {"binance",
     "{\"id\":1,\"method\":\"order.status\",\"params\":{\"symbol\":\"X\",\"timestamp\":"
     "\"1700000000001\"}}",
     1700000000001},
    {"binance",
     "{\"id\":1,\"method\":\"order.status\",\"params\":{\"symbol\":\"X\",\"timestamp\":"
     "1700000000002}}",
     1700000000002},
    {"bybit", "{\"op\":\"auth\",\"expires\":1700000010000}", 1700000010000},
    {"bybit", GET("/v5/order/realtime", "category=linear"), 1700000000000},
    {"okx", "{\"op\":\"login\",\"timestamp\":1700000000}", 1700000000000},
    {"okx", "{\"op\":\"login\",\"timestamp\":\"1700000003\"}", 1700000003000},
    {"okx", GET("/api/v5/account/balance", ""), 1700000000000},
    {"kucoin", GET("/api/v1/accounts", ""), 1700000000000},
    {"kucoinfutures", GET("/api/v1/orders", ""), 1700000000000},
    {"kraken", REST("POST", "/0/private/Balance", "", ""), 1700000000000},
    {"bitget", GET("/api/v2/mix/order/orders-pending", ""), 1700000000000},
    {"gate", GET("/api/v4/spot/orders", ""), 1700000000000},
    {"deribit",
     "{\"method\":\"GET\",\"path\":\"/api/v2/private/"
     "get_account_summary\",\"timestamp\":1700000000004,\"nonce\":\"a\"}",
     1700000000004},
    {"deribit",
     "{\"jsonrpc\":\"2.0\",\"method\":\"public/"
     "auth\",\"params\":{\"grant_type\":\"client_signature\",\"timestamp\":1700000000005,\"nonce\":"
     "\"a\"}}",
     1700000000005},
    {"bitfinex",
     "{\"method\":\"POST\",\"path\":\"/v2/auth/r/wallets\",\"timestamp\":1700000000006}",
     1700000000006},
    {"bitfinex", "{\"method\":\"POST\",\"path\":\"/v2/auth/r/wallets\",\"nonce\":1700000000007000}",
     1700000000007},
    {"bitfinex", "{\"method\":\"POST\",\"path\":\"/v2/auth/r/wallets\",\"nonce\":1700000000008}",
     1700000000008},
    {"bitfinex", "{\"event\":\"auth\",\"authNonce\":1700000000009000}", 1700000000009},
    {"bitfinex", "{\"event\":\"auth\",\"authNonce\":99999999999999}", 99999999999999},
    {"bitfinex", "{\"event\":\"auth\",\"authNonce\":100000000000000}", 100000000000},
    {"hyperliquid", "{\"action\":{\"type\":\"noop\"},\"nonce\":1700000000010}", 1700000000010},
    {"aster",
     "{\"method\":\"GET\",\"path\":\"/fapi/v3/balance\",\"query\":\"\",\"nonce\":1748310859508867}",
     1748310859508},
    {"aster",
     "{\"method\":\"GET\",\"path\":\"/fapi/v3/"
     "balance\",\"query\":\"nonce=1748310859509867&signer="
     "0x14791697260E4c9A71f18484C9f997B308e59325\"}",
     1748310859509},
    {"aster", "{\"method\":\"GET\",\"path\":\"/fapi/v3/balance\",\"query\":\"\"}", 0},
    {"eip191", "{\"message\":\"hello\"}", 0},
    {"eip191", "{\"message\":\"hello\",\"timestamp\":null}", 0},
    {"eip191", "{\"timestamp\":1700000000021,\"message_hex\":\"0x68\"}", 1700000000021},
    {"eip712", "{\"domain\":{},\"types\":{},\"primaryType\":\"M\",\"message\":{}}", 0},
    {"eip712",
     "{\"domain\":{},\"types\":{},\"primaryType\":\"M\",\"message\":{\"timestamp\":1},"
     "\"timestamp\":1700000000022}",
     1700000000022},
    {"eip712", "{\"domain\":{},\"message\":{\"timestamp\":1700000000023}}", 0},
    {"dydx", DYDX("cancel_order", ""), 1700000000011},
    {"dydx", "{\"chain_id\":\"dydx-mainnet-1\",\"cancel_order\":{}}", 0},
    {"okx", "{\"method\":\"GET\",\"path\":\"/api/v5/account/balance\"}", 0},
    {"deribit", "{\"jsonrpc\":\"2.0\",\"method\":\"public/auth\",\"params\":{}}", 0},
};

static void test_request_time_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(TIMES); i++) {
        uint64_t got = 0;
        sigil_clear_error();
        int rc =
            sigil_request_time_ms(&got, TIMES[i].venue, TIMES[i].request, strlen(TIMES[i].request));
        if (TIMES[i].want == 0) {
            if (rc == 0)
                fail_msg("case %zu: accepted (%llu)", i, (unsigned long long)got);
            assert_int_equal(sigil_errno(), SIGIL_E_BAD_REQUEST);
            /* Where the time is a member beside what is signed, the error names it. */
            bool unsigned_ts =
                strcmp(TIMES[i].venue, "dydx") == 0 || strncmp(TIMES[i].venue, "eip", 3) == 0;
            assert_string_equal(sigil_errmsg(),
                                unsigned_ts ? "request has no timestamp: add request.timestamp "
                                              "(Unix time in ms, not signed) for the enclave's "
                                              "freshness check"
                                            : "request has no timestamp or nonce");
            continue;
        }
        if (rc != 0)
            fail_msg("case %zu refused: %s", i, sigil_errmsg());
        if (got != TIMES[i].want)
            fail_msg("case %zu: got %llu, want %llu", i, (unsigned long long)got,
                     (unsigned long long)TIMES[i].want);
    }
    uint64_t t;
    static const char bad[] = "{\"method\":\"GET\",\"path\":\"/x\",\"timestamp\":1.5}";
    assert_int_equal(sigil_request_time_ms(&t, "okx", bad, strlen(bad)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    static const char big[] = "{\"op\":\"login\",\"timestamp\":18446744073709552}";
    assert_int_equal(sigil_request_time_ms(&t, "okx", big, strlen(big)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    /* eip191 / eip712: a timestamp that is not an integer is refused, not ignored. */
    static const char str_ts[] = "{\"message\":\"hi\",\"timestamp\":\"1700000000000\"}";
    assert_int_equal(sigil_request_time_ms(&t, "eip191", str_ts, strlen(str_ts)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "request.timestamp"));
    static const char neg_ts[] = "{\"domain\":{},\"timestamp\":-1700000000000}";
    assert_int_equal(sigil_request_time_ms(&t, "eip712", neg_ts, strlen(neg_ts)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_action_table),
        cmocka_unit_test(test_every_venue_has_tables),
        cmocka_unit_test(test_request_action_refusals),
        cmocka_unit_test(test_hyperliquid_vectors),
        cmocka_unit_test(test_request_time_table),
    };
    if (sigil_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
