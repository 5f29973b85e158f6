/*
 * Unit tests for request inspection (src/policy/inspect*.c): one table row per
 * venue endpoint family of docs/POLICY-ORDERS.md. Every row is classified by
 * sigil_request_action (the action it is inspected as) and signed by the
 * venue signer, so the table holds only requests the service would sign.
 * Refusals: malformed decimals, duplicate or case-variant parameters,
 * parameters in both query and body, too many orders or names.
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

static const char *const SECRETS[] = {"test-secret-not-real"};
#include "test_venue_util.h"

#define WALLET                                                                                     \
    "{\"private_key\":\"0x0123456789012345678901234567890123456789012345678901234567890123\"}"

static const char *credentials_of(const char *venue)
{
    static const struct {
        const char *venue, *cred;
    } CREDS[] = {
        {"okx", "{\"api_key\":\"k\",\"secret\":\"test-secret-not-real\",\"passphrase\":\"p\"}"},
        {"kucoin", "{\"api_key\":\"k\",\"secret\":\"test-secret-not-real\",\"passphrase\":\"p\"}"},
        {"kucoinfutures",
         "{\"api_key\":\"k\",\"secret\":\"test-secret-not-real\",\"passphrase\":\"p\"}"},
        {"bitget", "{\"api_key\":\"k\",\"secret\":\"test-secret-not-real\",\"passphrase\":\"p\"}"},
        {"kraken", "{\"api_key\":\"k\",\"secret\":\"c2VjcmV0\"}"},
        {"coinbase", "{\"api_key\":\"k\",\"secret\":\"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXW"
                     "pgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==\"}"},
        {"hyperliquid", WALLET},
        {"aster", WALLET},
        {"eip191", WALLET},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CREDS); i++)
        if (strcmp(CREDS[i].venue, venue) == 0)
            return CREDS[i].cred;
    return "{\"api_key\":\"k\",\"secret\":\"test-secret-not-real\"}";
}

/* ---- requests ---- */

typedef struct {
    const char *venue;
    const char *method; /* NULL: raw is the whole request */
    const char *path;
    const char *query;
    const char *body; /* JSON bodies written with ' for " */
    const char *raw;  /* ' for " */
} req_spec;

static void put_json_text(char **w, const char *s, bool escape)
{
    for (; *s != '\0'; s++) {
        char ch = *s == '\'' ? '"' : *s;
        if (escape && ch == '"')
            *(*w)++ = '\\';
        *(*w)++ = ch;
    }
}

/* The request JSON: CEX fields (deribit adds its nonce, aster signs a
 * nonce instead of a timestamp and has no body), or the raw document. */
static const char *build(const req_spec *r)
{
    static char buf[32768];
    char *w = buf;
    if (r->method == NULL) {
        put_json_text(&w, r->raw, false);
        *w = '\0';
        return buf;
    }
    w += sprintf(w, "{\"method\":\"%s\",\"path\":\"%s\"", r->method, r->path);
    if (r->query != NULL)
        w += sprintf(w, ",\"query\":\"%s\"", r->query);
    if (r->body != NULL) {
        w += sprintf(w, ",\"body\":\"");
        put_json_text(&w, r->body, true);
        *w++ = '"';
    }
    if (strcmp(r->venue, "aster") == 0)
        w += sprintf(w, ",\"nonce\":1748310859508867}");
    else if (strcmp(r->venue, "deribit") == 0)
        w += sprintf(w, ",\"timestamp\":1700000000000,\"nonce\":\"abcd\"}");
    else
        w += sprintf(w, ",\"timestamp\":1700000000000}");
    *w = '\0';
    return buf;
}

static void assert_signable(const char *venue, const char *req)
{
    if (sign(venue, credentials_of(venue), SIGIL_NET_MAINNET, req) != 0)
        fail_msg("%s: the signer refuses %s: %s", venue, req, sigil_errmsg());
}

static sigil_request_info g_info;

/* Classifies, checks the class, inspects as that class. */
static const sigil_request_info *inspect_as(const req_spec *r, sigil_action want)
{
    const char *req = build(r);
    sigil_action got;
    sigil_clear_error();
    if (sigil_request_action(&got, r->venue, req, strlen(req)) != 0)
        fail_msg("%s: not classified: %s (%s)", r->venue, sigil_errmsg(), req);
    if (got != want)
        fail_msg("%s %s: classified %s, want %s", r->venue, req, sigil_action_name(got),
                 sigil_action_name(want));
    if (sigil_request_inspect(&g_info, r->venue, got, req, strlen(req)) != 0)
        fail_msg("%s: inspection refused %s: %s", r->venue, req, sigil_errmsg());
    assert_signable(r->venue, req);
    return &g_info;
}

/* ---- expectations: "SYMBOL SIDE QTY PRICE QUOTE FLAGS", '-' for none,
 * '~' for no symbol, FLAGS "r" for reduce-only; orders ';'-separated ---- */

static void assert_dec(bool has, const sigil_dec *d, const char *want, const char *what)
{
    char buf[128];
    if (strcmp(want, "-") == 0) {
        if (has)
            fail_msg("%s: want none", what);
        return;
    }
    if (!has)
        fail_msg("%s: want %s, got none", what, want);
    assert_int_equal(sigil_dec_format(buf, sizeof(buf), d), 0);
    if (strcmp(buf, want) != 0)
        fail_msg("%s: want %s, got %s", what, want, buf);
}

static void assert_order(const sigil_order *o, const char *spec)
{
    char sym[80], side[8], qty[80], price[80], quote[80], flags[8];
    assert_int_equal(
        sscanf(spec, "%79s %7s %79s %79s %79s %7s", sym, side, qty, price, quote, flags), 6);
    const char *want_sym = strcmp(sym, "~") == 0 ? "" : sym;
    if (strcmp(o->symbol, want_sym) != 0)
        fail_msg("%s: symbol %s", spec, o->symbol);
    sigil_side s = strcmp(side, "buy") == 0    ? SIGIL_SIDE_BUY
                   : strcmp(side, "sell") == 0 ? SIGIL_SIDE_SELL
                                               : SIGIL_SIDE_NONE;
    if (o->side != s)
        fail_msg("%s: side %d", spec, (int)o->side);
    assert_dec(o->has_qty, &o->qty, qty, spec);
    assert_dec(o->has_price, &o->price, price, spec);
    assert_dec(o->has_quote_qty, &o->quote_qty, quote, spec);
    if (o->reduce_only != (strchr(flags, 'r') != NULL))
        fail_msg("%s: reduce_only %d", spec, o->reduce_only);
}

static void assert_orders(const sigil_request_info *info, const char *want)
{
    char copy[1024];
    size_t n = 0;
    if (want == NULL) {
        assert_false(info->orders_known);
        assert_int_equal(info->n_orders, 0);
        return;
    }
    assert_true(info->orders_known);
    snprintf(copy, sizeof(copy), "%s", want);
    for (char *save, *tok = strtok_r(copy, ";", &save); tok != NULL;
         tok = strtok_r(NULL, ";", &save)) {
        if (n >= info->n_orders)
            fail_msg("want more orders than %zu: %s", info->n_orders, want);
        assert_order(&info->orders[n++], tok);
    }
    if (n != info->n_orders)
        fail_msg("%zu orders, want %zu (%s)", info->n_orders, n, want);
}

static void assert_names(const sigil_policy_name *names, size_t n, const char *want)
{
    char copy[1024];
    size_t i = 0;
    snprintf(copy, sizeof(copy), "%s", want == NULL ? "" : want);
    for (char *save, *tok = strtok_r(copy, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (i >= n || strcmp(names[i].v, tok) != 0)
            fail_msg("name %zu: want %s, got %s", i, tok, i < n ? names[i].v : "(none)");
        i++;
    }
    if (i != n)
        fail_msg("%zu names, want %zu (%s)", n, i, want == NULL ? "" : want);
}

typedef struct {
    req_spec r;
    sigil_action action;
    const char *orders; /* NULL: orders unknown */
} order_case;

#define CEX(v, m, p, q, b)                                                                         \
    {                                                                                              \
        (v), (m), (p), (q), (b), NULL                                                              \
    }
#define RAW(v, raw)                                                                                \
    {                                                                                              \
        (v), NULL, NULL, NULL, NULL, (raw)                                                         \
    }
#define OC(r, a, o)                                                                                \
    {                                                                                              \
        r, SIGIL_ACTION_##a, (o)                                                                   \
    }

#define BATCH_ORDERS                                                                               \
    "batchOrders=%5B%7B%22symbol%22%3A%22BTCUSDT%22%2C%22side%22%3A%22BUY%22%2C%22type%22%3A%"     \
    "22LIMIT%22%2C%22quantity%22%3A%220.01%22%2C%22price%22%3A%2260000%22%2C%22timeInForce%22%"    \
    "3A%22GTC%22%7D%2C%7B%22symbol%22%3A%22ETHUSDT%22%2C%22side%22%3A%22SELL%22%2C%22type%22%"     \
    "3A%22MARKET%22%2C%22quantity%22%3A%221%22%2C%22reduceOnly%22%3A%22true%22%7D%5D"
#define HL_ORDER(a, b, p, s, r)                                                                    \
    "{'a':" a ",'b':" b ",'p':'" p "','s':'" s "','r':" r ",'t':{'limit':{'tif':'Gtc'}}}"

static const order_case ORDER_CASES[] = {
    /* binance REST: query || form body, one parameter set */
    OC(CEX("binance", "POST", "/api/v3/order", NULL,
           "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"),
       ORDER, "LTCBTC buy 1 0.1 - -"),
    OC(CEX("binance", "POST", "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1",
           "price=9000&timeInForce=GTC"),
       ORDER, "BTCUSDT buy 1 9000 - -"),
    OC(CEX("binance", "POST", "/api/v3/order", NULL,
           "symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=100.50"),
       ORDER, "BTCUSDT buy - - 100.5 -"),
    OC(CEX("binance", "POST", "/api/v3/order", NULL,
           "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.5&price=1"),
       ORDER, "BTCUSDT sell 0.5 - - -"),
    OC(CEX("binance", "POST", "/api/v3/order", NULL,
           "symbol=BTCUSDT&side=SELL&type=STOP_LOSS&quantity=0.5&stopPrice=60000&price=1"),
       ORDER, "BTCUSDT sell 0.5 - - -"),
    OC(CEX("binance", "POST", "/api/v3/order", NULL,
           "symbol=BTCUSDT&side=SELL&type=STOP_LOSS_LIMIT&quantity=0.5&stopPrice=60000&price="
           "59000&timeInForce=GTC"),
       ORDER, "BTCUSDT sell 0.5 59000 - -"),
    OC(CEX("binance", "POST", "/fapi/v1/order", NULL,
           "symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=0.01&price=70000&reduceOnly=true&"
           "timeInForce=GTC"),
       ORDER, "BTCUSDT sell 0.01 70000 - r"),
    OC(CEX("binance", "POST", "/fapi/v1/order", NULL,
           "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=1&priceMatch=QUEUE&timeInForce="
           "GTC"),
       ORDER, "BTCUSDT buy 1 - - -"),
    OC(CEX("binance", "POST", "/fapi/v1/order", NULL,
           "symbol=BTCUSDT&side=SELL&type=STOP_MARKET&stopPrice=50000&closePosition=true"),
       ORDER, "BTCUSDT sell - - - r"),
    OC(CEX("binance", "POST", "/fapi/v1/batchOrders", NULL, BATCH_ORDERS), ORDER,
       "BTCUSDT buy 0.01 60000 - -;ETHUSDT sell 1 - - r"),
    OC(CEX("binance", "PUT", "/fapi/v1/order/", NULL,
           "symbol=BTCUSDT&orderId=1&side=BUY&quantity=1&price=2"),
       ORDER, "BTCUSDT buy 1 2 - -"),
    OC(CEX("binance", "PUT", "/api/v3/order/amend/keepPriority", NULL,
           "symbol=BTCUSDT&orderId=1&newQty=0.5"),
       MODIFY, "BTCUSDT - 0.5 - - -"),
    OC(CEX("binance", "DELETE", "/api/v3/order", "symbol=LTCBTC&orderId=12", NULL), CANCEL,
       "LTCBTC - - - - -"),
    OC(CEX("binance", "DELETE", "/api/v3/openOrders", "symbol=LTC%42TC", NULL), CANCEL,
       "LTCBTC - - - - -"),
    OC(CEX("binance", "GET", "/api/v3/order", "symbol=LTCBTC&orderId=12", NULL), CANCEL,
       "LTCBTC - - - - -"),
    /* binance WebSocket API: the params object */
    OC(RAW("binance", "{'id':'o-1','method':'order.place','params':{'symbol':'BTCUSDT','side':"
                      "'BUY','type':'LIMIT','price':'35000.10','quantity':'0.001','timeInForce':"
                      "'GTC'},'timestamp':1700000000000}"),
       ORDER, "BTCUSDT buy 0.001 35000.1 - -"),
    OC(RAW("binance", "{'id':2,'method':'order.place','params':{'symbol':'ETHUSDT','side':'SELL',"
                      "'type':'MARKET','quantity':0.25},'timestamp':1700000000000}"),
       ORDER, "ETHUSDT sell 0.25 - - -"),
    OC(RAW("binance", "{'id':1,'method':'order.cancel','params':{'symbol':'BTCUSDT','orderId':7},"
                      "'timestamp':1700000000000}"),
       CANCEL, "BTCUSDT - - - - -"),
    /* aster: the query */
    OC(CEX("aster", "POST", "/fapi/v3/order",
           "symbol=ASTERUSDT&type=LIMIT&side=BUY&timeInForce=GTC&quantity=20&price=0.5", NULL),
       ORDER, "ASTERUSDT buy 20 0.5 - -"),
    OC(CEX("aster", "DELETE", "/fapi/v3/order", "symbol=ASTERUSDT&orderId=123456789", NULL), CANCEL,
       "ASTERUSDT - - - - -"),
    /* bybit: the JSON body, whatever the path */
    OC(CEX("bybit", "POST", "/v5/order/create", NULL,
           "{'category':'linear','symbol':'BTCUSDT','side':'Buy','orderType':'Limit','qty':'0."
           "001','price':'30000'}"),
       ORDER, "BTCUSDT buy 0.001 30000 - -"),
    OC(CEX("bybit", "POST", "/v5/order/create", NULL,
           "{'category':'linear','symbol':'BTCUSDT','side':'Sell','orderType':'Market','qty':'1',"
           "'price':'5','reduceOnly':true}"),
       ORDER, "BTCUSDT sell 1 - - r"),
    OC(CEX("bybit", "POST", "/v5/order/create", NULL,
           "{'category':'spot','symbol':'BTCUSDT','side':'Buy','orderType':'Market','qty':'100'}"),
       ORDER, "BTCUSDT buy - - 100 -"),
    OC(CEX("bybit", "POST", "/v5/order/create", NULL,
           "{'category':'spot','symbol':'BTCUSDT','side':'Buy','orderType':'Market','qty':'0.1',"
           "'marketUnit':'baseCoin'}"),
       ORDER, "BTCUSDT buy 0.1 - - -"),
    OC(CEX("bybit", "POST", "/v5/order/create", NULL,
           "{'category':'spot','symbol':'BTCUSDT','side':'Sell','orderType':'Market','qty':'0.1'}"),
       ORDER, "BTCUSDT sell 0.1 - - -"),
    OC(CEX("bybit", "POST", "/v5/order/create-batch", NULL,
           "{'category':'spot','request':[{'symbol':'BTCUSDT','side':'Buy','orderType':'Limit',"
           "'qty':'0.1','price':'1'},{'symbol':'ETHUSDT','side':'Buy','orderType':'Market','qty':"
           "'50'}]}"),
       ORDER, "BTCUSDT buy 0.1 1 - -;ETHUSDT buy - - 50 -"),
    /* qty makes an amendment an order too (docs/POLICY.md parameter triggers) */
    OC(CEX("bybit", "POST", "/v5/order/amend", NULL,
           "{'category':'linear','symbol':'BTCUSDT','orderId':'1','qty':'2','price':'3'}"),
       ORDER, "BTCUSDT - 2 3 - -"),
    OC(CEX("bybit", "POST", "/v5/order/amend", NULL,
           "{'category':'linear','symbol':'BTCUSDT','orderId':'1','price':'3'}"),
       MODIFY, "BTCUSDT - - 3 - -"),
    OC(CEX("bybit", "POST", "/v5/order/cancel", NULL,
           "{'category':'linear','symbol':'BTCUSDT','orderId':'1'}"),
       CANCEL, "BTCUSDT - - - - -"),
    /* okx */
    OC(CEX("okx", "POST", "/api/v5/trade/order", NULL,
           "{'instId':'BTC-USDT-SWAP','tdMode':'cross','side':'buy','ordType':'limit','px':"
           "'50000','sz':'2'}"),
       ORDER, "BTC-USDT-SWAP buy 2 50000 - -"),
    OC(CEX("okx", "POST", "/api/v5/trade/order", NULL,
           "{'instId':'BTC-USDT','tdMode':'cash','side':'buy','ordType':'market','sz':'100'}"),
       ORDER, "BTC-USDT buy - - 100 -"),
    OC(CEX("okx", "POST", "/api/v5/trade/order", NULL,
           "{'instId':'BTC-USDT','tdMode':'cash','side':'buy','ordType':'market','sz':'0.1',"
           "'tgtCcy':'base_ccy'}"),
       ORDER, "BTC-USDT buy 0.1 - - -"),
    OC(CEX("okx", "POST", "/api/v5/trade/order", NULL,
           "{'instId':'BTC-USDT-SWAP','tdMode':'cross','side':'sell','ordType':'market','sz':'3',"
           "'reduceOnly':true}"),
       ORDER, "BTC-USDT-SWAP sell 3 - - r"),
    OC(CEX("okx", "POST", "/api/v5/trade/batch-orders", NULL,
           "[{'instId':'BTC-USDT-SWAP','tdMode':'cross','side':'buy','ordType':'post_only','px':"
           "'1','sz':'2'},{'instId':'ETH-USDT-SWAP','tdMode':'cross','side':'sell','ordType':"
           "'limit','px':'3','sz':'4'}]"),
       ORDER, "BTC-USDT-SWAP buy 2 1 - -;ETH-USDT-SWAP sell 4 3 - -"),
    OC(CEX("okx", "POST", "/api/v5/trade/amend-order", NULL,
           "{'instId':'BTC-USDT','ordId':'1','newSz':'2'}"),
       MODIFY, "BTC-USDT - 2 - - -"),
    OC(CEX("okx", "POST", "/api/v5/trade/cancel-batch-orders", NULL,
           "[{'instId':'BTC-USDT','ordId':'1'},{'instId':'ETH-USDT','ordId':'2'}]"),
       CANCEL, "BTC-USDT - - - - -;ETH-USDT - - - - -"),
    OC(CEX("okx", "POST", "/api/v5/trade/close-position", NULL,
           "{'instId':'BTC-USDT-SWAP','mgnMode':'cross'}"),
       ORDER, "BTC-USDT-SWAP - - - - r"),
    OC(CEX("okx", "POST", "/api/v5/trade/order-algo", NULL,
           "{'instId':'BTC-USDT','side':'buy','ordType':'conditional','sz':'1'}"),
       ORDER, NULL),
    /* kucoin (spot), kucoinfutures (lots) */
    OC(CEX("kucoin", "POST", "/api/v1/hf/orders", NULL,
           "{'clientOid':'x','side':'buy','symbol':'BTC-USDT','type':'limit','price':'30000',"
           "'size':'0.01'}"),
       ORDER, "BTC-USDT buy 0.01 30000 - -"),
    OC(CEX("kucoin", "POST", "/api/v1/orders", NULL,
           "{'clientOid':'x','side':'buy','symbol':'BTC-USDT','type':'market','funds':'100'}"),
       ORDER, "BTC-USDT buy - - 100 -"),
    OC(CEX("kucoin", "POST", "/api/v1/hf/orders/multi", NULL,
           "{'orderList':[{'clientOid':'a','symbol':'BTC-USDT','side':'buy','type':'limit',"
           "'price':'1','size':'2'},{'clientOid':'b','symbol':'ETH-USDT','side':'sell','type':"
           "'market','size':'3'}]}"),
       ORDER, "BTC-USDT buy 2 1 - -;ETH-USDT sell 3 - - -"),
    OC(CEX("kucoin", "POST", "/api/v1/hf/orders/alter", NULL,
           "{'symbol':'BTC-USDT','orderId':'1','newSize':'2','newPrice':'3'}"),
       MODIFY, "BTC-USDT - 2 3 - -"),
    OC(CEX("kucoin", "DELETE", "/api/v1/hf/orders/123", "symbol=BTC-USDT", NULL), CANCEL,
       "BTC-USDT - - - - -"),
    OC(CEX("kucoinfutures", "POST", "/api/v1/orders", NULL,
           "{'clientOid':'x','side':'buy','symbol':'XBTUSDTM','type':'limit','price':'30000',"
           "'size':1,'leverage':5}"),
       ORDER, "XBTUSDTM buy 1 30000 - -"),
    OC(CEX("kucoinfutures", "POST", "/api/v1/orders", NULL,
           "{'clientOid':'x','side':'sell','symbol':'XBTUSDTM','type':'market','size':2,"
           "'closeOrder':true}"),
       ORDER, "XBTUSDTM sell 2 - - r"),
    OC(CEX("kucoinfutures", "POST", "/api/v1/orders", NULL,
           "{'clientOid':'x','side':'buy','symbol':'XBTUSDTM','type':'limit','price':'1','qty':"
           "'0.01'}"),
       ORDER, NULL),
    OC(CEX("kucoinfutures", "POST", "/api/v1/orders/multi", NULL,
           "[{'clientOid':'a','side':'buy','symbol':'XBTUSDTM','type':'limit','price':'1','size':"
           "3},{'clientOid':'b','side':'sell','symbol':'ETHUSDTM','type':'limit','price':'2',"
           "'valueQty':'100'}]"),
       ORDER, "XBTUSDTM buy 3 1 - -;ETHUSDTM sell - 2 100 -"),
    OC(CEX("kucoinfutures", "DELETE", "/api/v1/orders/5bd6e9286d99522a52e458de", NULL, NULL),
       CANCEL, "~ - - - - -"),
    /* kraken: form or JSON bodies */
    OC(CEX("kraken", "POST", "/0/private/AddOrder", NULL,
           "ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"),
       ORDER, "XBTUSD buy 1.25 37500 - -"),
    OC(CEX("kraken", "POST", "/0/private/AddOrder", NULL,
           "ordertype=market&pair=XBTUSD&type=sell&volume=1&reduce_only=true"),
       ORDER, "XBTUSD sell 1 - - r"),
    OC(CEX("kraken", "POST", "/0/private/AddOrder", NULL,
           "ordertype=stop-loss-limit&pair=XBTUSD&price=30000&price2=29900&type=sell&volume=1"),
       ORDER, "XBTUSD sell 1 29900 - -"),
    OC(CEX("kraken", "POST", "/0/private/AddOrder", NULL,
           "ordertype=limit&pair=XBTUSD&price=%2B5&type=buy&volume=1"),
       ORDER, "XBTUSD buy 1 - - -"),
    OC(CEX("kraken", "POST", "/0/private/AddOrder", NULL,
           "ordertype=market&pair=XBTUSD&type=buy&volume=500&oflags=fciq,viqc"),
       ORDER, "XBTUSD buy - - 500 -"),
    OC(CEX("kraken", "POST", "/0/private/AddOrder", NULL,
           "{'ordertype':'limit','pair':'XBTUSD','price':'37500','type':'buy','volume':'1.25'}"),
       ORDER, "XBTUSD buy 1.25 37500 - -"),
    OC(CEX("kraken", "POST", "/0/private/AddOrderBatch", NULL,
           "{'pair':'XBTUSD','orders':[{'ordertype':'limit','type':'buy','volume':'1','price':"
           "'2'},{'ordertype':'limit','type':'sell','volume':'3','price':'4'}]}"),
       ORDER, "XBTUSD buy 1 2 - -;XBTUSD sell 3 4 - -"),
    OC(CEX("kraken", "POST", "/0/private/AddOrderBatch", NULL,
           "pair=XBTUSD&orders%5B0%5D%5Btype%5D=buy"),
       ORDER, NULL),
    OC(CEX("kraken", "POST", "/0/private/EditOrder", NULL,
           "txid=OABC&pair=XBTUSD&volume=2&price=3"),
       MODIFY, "XBTUSD - 2 - - -"),
    OC(CEX("kraken", "POST", "/0/private/AmendOrder", NULL,
           "txid=OABC&order_qty=2&limit_price=30000"),
       MODIFY, "~ - 2 30000 - -"),
    OC(CEX("kraken", "POST", "/0/private/CancelOrder", NULL, "txid=OABC"), CANCEL, "~ - - - - -"),
    /* bitget */
    OC(CEX("bitget", "POST", "/api/v2/mix/order/place-order", NULL,
           "{'symbol':'BTCUSDT','productType':'USDT-FUTURES','marginMode':'crossed','marginCoin':"
           "'USDT','size':'0.01','price':'60000','side':'buy','tradeSide':'open','orderType':"
           "'limit','force':'gtc'}"),
       ORDER, "BTCUSDT buy 0.01 60000 - -"),
    OC(CEX("bitget", "POST", "/api/v2/mix/order/place-order", NULL,
           "{'symbol':'BTCUSDT','productType':'USDT-FUTURES','marginMode':'crossed','marginCoin':"
           "'USDT','size':'0.01','side':'buy','tradeSide':'close','orderType':'market'}"),
       ORDER, "BTCUSDT sell 0.01 - - r"),
    OC(CEX("bitget", "POST", "/api/v2/mix/order/place-order", NULL,
           "{'symbol':'BTCUSDT','productType':'USDT-FUTURES','size':'1','price':'2','side':"
           "'sell','orderType':'limit','reduceOnly':'YES'}"),
       ORDER, "BTCUSDT sell 1 2 - r"),
    OC(CEX("bitget", "POST", "/api/v2/spot/trade/place-order", NULL,
           "{'symbol':'BTCUSDT','side':'buy','orderType':'market','force':'gtc','size':'100'}"),
       ORDER, "BTCUSDT buy - - 100 -"),
    OC(CEX("bitget", "POST", "/api/v2/mix/order/batch-place-order", NULL,
           "{'symbol':'BTCUSDT','productType':'USDT-FUTURES','marginMode':'crossed','marginCoin':"
           "'USDT','orderList':[{'size':'1','price':'2','side':'sell','orderType':'limit'},{"
           "'size':'3','price':'4','side':'buy','orderType':'limit'}]}"),
       ORDER, "BTCUSDT sell 1 2 - -;BTCUSDT buy 3 4 - -"),
    OC(CEX("bitget", "POST", "/api/v2/mix/order/modify-order", NULL,
           "{'symbol':'BTCUSDT','orderId':'1','newSize':'2','newPrice':'3'}"),
       MODIFY, "BTCUSDT - 2 3 - -"),
    OC(CEX("bitget", "POST", "/api/v2/mix/order/cancel-order", NULL,
           "{'symbol':'BTCUSDT','orderId':'1'}"),
       CANCEL, "BTCUSDT - - - - -"),
    /* gate */
    OC(CEX("gate", "POST", "/api/v4/spot/orders", NULL,
           "{'currency_pair':'BTC_USDT','side':'buy','type':'limit','amount':'0.001','price':"
           "'60000'}"),
       ORDER, "BTC_USDT buy 0.001 60000 - -"),
    OC(CEX("gate", "POST", "/api/v4/spot/orders", NULL,
           "{'currency_pair':'BTC_USDT','side':'buy','type':'market','amount':'100','time_in_"
           "force':'ioc'}"),
       ORDER, "BTC_USDT buy - - 100 -"),
    OC(CEX("gate", "POST", "/api/v4/futures/usdt/orders", NULL,
           "{'contract':'BTC_USDT','size':-10,'price':'60000','tif':'gtc'}"),
       ORDER, "BTC_USDT sell 10 60000 - -"),
    OC(CEX("gate", "POST", "/api/v4/futures/usdt/orders", NULL,
           "{'contract':'BTC_USDT','size':5,'price':'0','tif':'ioc','reduce_only':true}"),
       ORDER, "BTC_USDT buy 5 - - r"),
    OC(CEX("gate", "POST", "/api/v4/futures/usdt/orders", NULL,
           "{'contract':'BTC_USDT','size':0,'price':'0','tif':'ioc','close':true}"),
       ORDER, "BTC_USDT - 0 - - r"),
    OC(CEX("gate", "POST", "/api/v4/spot/batch_orders", NULL,
           "[{'currency_pair':'BTC_USDT','side':'sell','amount':'1','price':'2'},{'currency_pair'"
           ":'ETH_USDT','side':'buy','amount':'3','price':'4'}]"),
       ORDER, "BTC_USDT sell 1 2 - -;ETH_USDT buy 3 4 - -"),
    OC(CEX("gate", "DELETE", "/api/v4/spot/orders", "currency_pair=BTC_USDT", NULL), CANCEL,
       "BTC_USDT - - - - -"),
    OC(CEX("gate", "DELETE", "/api/v4/futures/usdt/orders/123", NULL, NULL), CANCEL, "~ - - - - -"),
    OC(CEX("gate", "PUT", "/api/v4/futures/usdt/orders/123", NULL, "{'size':2}"), MODIFY,
       "~ buy 2 - - -"),
    /* deribit: query (GET) or JSON-RPC body (POST) */
    OC(CEX("deribit", "GET", "/api/v2/private/buy",
           "instrument_name=BTC-PERPETUAL&amount=10&type=limit&price=60000", NULL),
       ORDER, "BTC-PERPETUAL buy 10 60000 - -"),
    OC(CEX("deribit", "GET", "/api/v2/private/sell",
           "instrument_name=BTC-PERPETUAL&amount=10&type=market", NULL),
       ORDER, "BTC-PERPETUAL sell 10 - - -"),
    OC(CEX("deribit", "POST", "/api/v2/private/buy", NULL,
           "{'jsonrpc':'2.0','id':1,'method':'private/buy','params':{'instrument_name':'ETH-"
           "PERPETUAL','amount':5,'type':'limit','price':3000,'reduce_only':true}}"),
       ORDER, "ETH-PERPETUAL buy 5 3000 - r"),
    OC(CEX("deribit", "GET", "/api/v2/private/buy", "instrument_name=BTC-PERPETUAL&contracts=1",
           NULL),
       ORDER, NULL),
    OC(CEX("deribit", "GET", "/api/v2/private/edit", "order_id=1&amount=2&price=3", NULL), MODIFY,
       "~ - 2 3 - -"),
    OC(CEX("deribit", "GET", "/api/v2/private/cancel_all_by_instrument",
           "instrument_name=BTC-PERPETUAL", NULL),
       CANCEL, "BTC-PERPETUAL - - - - -"),
    /* bitfinex: signed amounts */
    OC(CEX("bitfinex", "POST", "/v2/auth/w/order/submit", NULL,
           "{'type':'EXCHANGE LIMIT','symbol':'tBTCUSD','amount':'-0.001','price':'30000',"
           "'flags':1024}"),
       ORDER, "tBTCUSD sell 0.001 30000 - r"),
    OC(CEX("bitfinex", "POST", "/v2/auth/w/order/submit", NULL,
           "{'type':'EXCHANGE MARKET','symbol':'tBTCUSD','amount':'0.5','price':'1'}"),
       ORDER, "tBTCUSD buy 0.5 - - -"),
    OC(CEX("bitfinex", "POST", "/v2/auth/w/order/submit", NULL,
           "{'type':'STOP LIMIT','symbol':'tBTCUSD','amount':'1','price':'31000',"
           "'price_aux_limit':'31100'}"),
       ORDER, "tBTCUSD buy 1 31100 - -"),
    OC(CEX("bitfinex", "POST", "/v2/auth/w/order/update", NULL,
           "{'id':1,'amount':'0.2','price':'1'}"),
       MODIFY, "~ buy 0.2 - - -"),
    OC(CEX("bitfinex", "POST", "/v2/auth/w/order/update", NULL, "{'id':1,'delta':'0.2'}"), MODIFY,
       NULL),
    OC(CEX("bitfinex", "POST", "/v2/auth/w/order/multi", NULL,
           "{'ops':[['on',{'type':'EXCHANGE LIMIT','symbol':'tETHUSD','amount':'2','price':'3'}],"
           "['oc',{'id':1}]]}"),
       ORDER, "tETHUSD buy 2 3 - -;~ - - - - -"),
    OC(CEX("bitfinex", "POST", "/v2/auth/w/order/cancel", NULL, "{'id':1}"), CANCEL, "~ - - - - -"),
    /* coinbase: order_configuration */
    OC(CEX("coinbase", "POST", "/api/v3/brokerage/orders", NULL,
           "{'client_order_id':'1','product_id':'BTC-USD','side':'BUY','order_configuration':{"
           "'limit_limit_gtc':{'base_size':'0.01','limit_price':'60000'}}}"),
       ORDER, "BTC-USD buy 0.01 60000 - -"),
    OC(CEX("coinbase", "POST", "/api/v3/brokerage/orders", NULL,
           "{'client_order_id':'1','product_id':'BTC-USD','side':'BUY','order_configuration':{"
           "'market_market_ioc':{'quote_size':'100'}}}"),
       ORDER, "BTC-USD buy - - 100 -"),
    OC(CEX("coinbase", "POST", "/api/v3/brokerage/orders/edit", NULL,
           "{'order_id':'x','price':'1','size':'2'}"),
       MODIFY, "~ - 2 1 - -"),
    OC(CEX("coinbase", "POST", "/api/v3/brokerage/orders/batch_cancel", NULL,
           "{'order_ids':['a']}"),
       CANCEL, "~ - - - - -"),
    OC(CEX("coinbase", "POST", "/api/v3/brokerage/orders/close_position", NULL,
           "{'client_order_id':'1','product_id':'BTC-PERP-INTX','size':'1'}"),
       ORDER, "BTC-PERP-INTX - 1 - - r"),
    /* hyperliquid: asset index, b, s, p, r */
    OC(RAW("hyperliquid",
           "{'action':{'type':'order','orders':[{'a':0,'b':true,'p':'50000','s':'0.001','r':"
           "false,'t':{'limit':{'tif':'Gtc'}},'c':'0x1234567890abcdef1234567890abcdef'}],"
           "'grouping':'na'},'nonce':1700000000000}"),
       ORDER, "0 buy 0.001 50000 - -"),
    OC(RAW("hyperliquid",
           "{'action':{'type':'order','orders':[{'a':1,'b':false,'p':'1800.5','s':'0.25','r':"
           "true,'t':{'trigger':{'isMarket':true,'triggerPx':'1850','tpsl':'sl'}}}," HL_ORDER(
               "10000", "false", "0.2", "100", "false") "],'grouping':'na'},'nonce':"
                                                        "1700000000000}"),
       ORDER, "1 sell 0.25 1800.5 - r;10000 sell 100 0.2 - -"),
    OC(RAW("hyperliquid", "{'action':{'type':'twapOrder','twap':{'a':3,'b':false,'s':'10','r':"
                          "true,'m':30,'t':false}},'nonce':1700000000000}"),
       ORDER, "3 sell 10 - - r"),
    OC(RAW("hyperliquid",
           "{'action':{'type':'modify','oid':1,'order':" HL_ORDER(
               "110000", "true", "12.345", "10", "false") "},'nonce':1700000000000}"),
       MODIFY, "110000 buy 10 12.345 - -"),
    OC(RAW("hyperliquid",
           "{'action':{'type':'batchModify','modifies':[{'oid':1,'order':" HL_ORDER(
               "0", "true", "1", "2",
               "false") "},{'oid':2,'order':" HL_ORDER("1", "false", "3", "4",
                                                       "true") "}]},'nonce':1700000000000}"),
       MODIFY, "0 buy 2 1 - -;1 sell 4 3 - r"),
    OC(RAW("hyperliquid", "{'action':{'type':'cancel','cancels':[{'a':0,'o':123456789},{'a':5,"
                          "'o':1}]},'nonce':1700000000000}"),
       CANCEL, "0 - - - - -;5 - - - - -"),
    OC(RAW("hyperliquid", "{'action':{'type':'cancelByCloid','cancels':[{'asset':7,'cloid':'"
                          "0x1234567890abcdef1234567890abcdef'}]},'nonce':1700000000000}"),
       CANCEL, "7 - - - - -"),
    OC(RAW("hyperliquid",
           "{'action':{'type':'scheduleCancel','time':1700000100000},'nonce':1700000000000}"),
       CANCEL, "~ - - - - -"),
};

static void test_orders_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(ORDER_CASES); i++) {
        const order_case *c = &ORDER_CASES[i];
        const sigil_request_info *info = inspect_as(&c->r, c->action);
        if (info->n_destinations != 0 || info->n_agents != 0)
            fail_msg("case %zu: names on an order request", i);
        assert_orders(info, c->orders);
    }
}

/* ---- destinations and agents ---- */

typedef struct {
    req_spec r;
    sigil_action action;
    const char *names; /* destinations, or agents for SIGIL_ACTION_AGENT */
} name_case;

#define NC(r, a, n)                                                                                \
    {                                                                                              \
        r, SIGIL_ACTION_##a, (n)                                                                   \
    }

static const name_case NAME_CASES[] = {
    NC(CEX("binance", "POST", "/sapi/v1/capital/withdraw/apply", NULL,
           "coin=USDT&network=TRX&address=TX1abc&addressTag=77&amount=10"),
       WITHDRAW, "TX1abc,77"),
    NC(CEX("binance", "POST", "/sapi/v1/asset/transfer", NULL,
           "type=MAIN_UMFUTURE&asset=USDT&amount=10"),
       TRANSFER, "MAIN_UMFUTURE"),
    NC(CEX("binance", "POST", "/sapi/v1/sub-account/universalTransfer", NULL,
           "fromEmail=a%40x.io&toEmail=b%40x.io&fromAccountType=SPOT&toAccountType=USDT_FUTURE&"
           "asset=USDT&amount=1"),
       TRANSFER, "b@x.io,USDT_FUTURE"),
    NC(CEX("binance", "POST", "/sapi/v1/sub-account/transfer/subToMaster", NULL,
           "asset=USDT&amount=1"),
       TRANSFER, NULL),
    NC(CEX("aster", "POST", "/fapi/v3/asset/wallet/transfer",
           "asset=USDT&amount=1&kindType=FUTURE_SPOT&clientTranId=x", NULL),
       TRANSFER, "FUTURE_SPOT"),
    NC(CEX("aster", "POST", "/fapi/v3/registerAndApproveAgent",
           "user=0x14791697260E4c9A71f18484C9f997B308e59325&nonce=1748310859508867&agentName=bot1"
           "&agentAddress=0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0&expired=1780000000000&"
           "signatureChainId=56&canSpotTrade=true&canPerpTrade=true&canWithdraw=false&"
           "ipWhitelist=",
           NULL),
       AGENT, "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0"),
    NC(CEX("bybit", "POST", "/v5/asset/withdraw/create", NULL,
           "{'coin':'USDT','chain':'ETH','address':'0xabc','tag':'x1','amount':'1'}"),
       WITHDRAW, "0xabc,x1"),
    NC(CEX("bybit", "POST", "/v5/asset/transfer/universal-transfer", NULL,
           "{'transferId':'t','coin':'USDT','amount':'1','fromMemberId':1,'toMemberId':2,"
           "'fromAccountType':'UNIFIED','toAccountType':'FUND'}"),
       TRANSFER, "2,FUND"),
    NC(CEX("okx", "POST", "/api/v5/asset/withdrawal", NULL,
           "{'ccy':'USDT','amt':'1','dest':'4','toAddr':'0xabc','chain':'USDT-ERC20'}"),
       WITHDRAW, "0xabc"),
    NC(CEX("okx", "POST", "/api/v5/asset/transfer", NULL,
           "{'ccy':'USDT','amt':'1','from':'6','to':'18','subAcct':'sub1','type':'1'}"),
       TRANSFER, "18,sub1"),
    NC(CEX("kucoin", "POST", "/api/v3/withdrawals", NULL,
           "{'currency':'USDT','toAddress':'0xabc','amount':'1','withdrawType':'ADDRESS','chain':"
           "'eth','memo':'m'}"),
       WITHDRAW, "0xabc,m"),
    NC(CEX("kucoin", "POST", "/api/v2/accounts/inner-transfer", NULL,
           "{'clientOid':'x','currency':'USDT','from':'main','to':'trade','amount':'1'}"),
       TRANSFER, "trade"),
    NC(CEX("kraken", "POST", "/0/private/Withdraw", NULL, "asset=XBT&key=my%20key&amount=1"),
       WITHDRAW, "my key"),
    NC(CEX("kraken", "POST", "/0/private/WalletTransfer", NULL,
           "asset=XBT&from=Spot+Wallet&to=Futures+Wallet&amount=1"),
       TRANSFER, "Futures Wallet"),
    NC(CEX("bitget", "POST", "/api/v2/spot/wallet/withdrawal", NULL,
           "{'coin':'USDT','transferType':'on_chain','address':'0xabc','chain':'erc20','size':"
           "'1'}"),
       WITHDRAW, "0xabc"),
    NC(CEX("bitget", "POST", "/api/v2/spot/wallet/subaccount-transfer", NULL,
           "{'fromType':'spot','toType':'usdt_futures','amount':'1','coin':'USDT','fromUserId':"
           "'1','toUserId':'2'}"),
       TRANSFER, "usdt_futures,2"),
    NC(CEX("gate", "POST", "/api/v4/withdrawals", NULL,
           "{'currency':'USDT','address':'0xabc','amount':'1','chain':'ETH','memo':'m'}"),
       WITHDRAW, "0xabc,m"),
    NC(CEX("gate", "POST", "/api/v4/withdrawals/push", NULL,
           "{'receive_uid':12345,'currency':'USDT','amount':'1'}"),
       WITHDRAW, "12345"),
    NC(CEX("gate", "POST", "/api/v4/wallet/transfers", NULL,
           "{'currency':'USDT','from':'spot','to':'futures','amount':'1','settle':'usdt'}"),
       TRANSFER, "futures"),
    NC(CEX("deribit", "GET", "/api/v2/private/withdraw", "currency=BTC&address=bc1qxyz&amount=1",
           NULL),
       WITHDRAW, "bc1qxyz"),
    NC(CEX("deribit", "GET", "/api/v2/private/submit_transfer_to_subaccount",
           "currency=BTC&amount=1&destination=12", NULL),
       TRANSFER, "12"),
    NC(CEX("bitfinex", "POST", "/v2/auth/w/withdraw", NULL,
           "{'wallet':'exchange','method':'bitcoin','amount':'0.1','address':'bc1qxyz'}"),
       WITHDRAW, "bc1qxyz"),
    NC(CEX("bitfinex", "POST", "/v2/auth/w/transfer", NULL,
           "{'from':'exchange','to':'margin','currency':'USD','amount':'1'}"),
       TRANSFER, "margin"),
    NC(CEX("coinbase", "POST", "/v2/accounts/abc/transactions", NULL,
           "{'type':'send','to':'0xabc','amount':'1','currency':'USDC','destination_tag':'7'}"),
       WITHDRAW, "0xabc,7"),
    NC(CEX("coinbase", "POST", "/api/v3/brokerage/portfolios/move_funds", NULL,
           "{'funds':{'value':'1','currency':'USD'},'source_portfolio_uuid':'a','target_"
           "portfolio_uuid':'b'}"),
       TRANSFER, "b"),
    NC(RAW("hyperliquid", "{'action':{'type':'usdSend','signatureChainId':'0x66eee',"
                          "'hyperliquidChain':'Mainnet','destination':'"
                          "0x5e9ee1089755c3435139848e47e6635505d5a13a','amount':'1.5','time':"
                          "1700000000000},'nonce':1700000000000}"),
       TRANSFER, "0x5e9ee1089755c3435139848e47e6635505d5a13a"),
    NC(RAW("hyperliquid", "{'action':{'type':'withdraw3','signatureChainId':'0x66eee',"
                          "'hyperliquidChain':'Mainnet','destination':'"
                          "0x5e9ee1089755c3435139848e47e6635505d5a13a','amount':'10','time':"
                          "1700000000000},'nonce':1700000000000}"),
       WITHDRAW, "0x5e9ee1089755c3435139848e47e6635505d5a13a"),
    NC(RAW("hyperliquid", "{'action':{'type':'usdClassTransfer','signatureChainId':'0x66eee',"
                          "'hyperliquidChain':'Mainnet','amount':'1','toPerp':true,'nonce':"
                          "1700000000000},'nonce':1700000000000}"),
       TRANSFER, "perp"),
    NC(RAW("hyperliquid", "{'action':{'type':'vaultTransfer','vaultAddress':'"
                          "0xa15099a30bbf2e68942d6f4c43d70d04faeab0a0','isDeposit':true,'usd':"
                          "1000000},'nonce':1700000000000}"),
       TRANSFER, "0xa15099a30bbf2e68942d6f4c43d70d04faeab0a0"),
    NC(RAW("hyperliquid", "{'action':{'type':'subAccountTransfer','subAccountUser':'"
                          "0x1d9470d4b963f552e6f671a81619d395877bf409','isDeposit':true,'usd':10},"
                          "'nonce':1700000000000}"),
       TRANSFER, "0x1d9470d4b963f552e6f671a81619d395877bf409"),
    NC(RAW("hyperliquid", "{'action':{'type':'cDeposit','signatureChainId':'0x66eee',"
                          "'hyperliquidChain':'Mainnet','wei':1000,'nonce':1700000000000},"
                          "'nonce':1700000000000}"),
       TRANSFER, NULL),
    NC(RAW("hyperliquid", "{'action':{'type':'approveAgent','signatureChainId':'0x66eee',"
                          "'hyperliquidChain':'Mainnet','agentAddress':'"
                          "0x1719884eb866cb12b2287399b15f7db5e7d775ea','agentName':'bot1',"
                          "'nonce':1700000000000},'nonce':1700000000000}"),
       AGENT, "0x1719884eb866cb12b2287399b15f7db5e7d775ea"),
    NC(RAW("hyperliquid", "{'action':{'type':'approveBuilderFee','signatureChainId':'0x66eee',"
                          "'hyperliquidChain':'Mainnet','maxFeeRate':'0.001%','builder':'"
                          "0x1719884eb866cb12b2287399b15f7db5e7d775ea','nonce':1700000000000},"
                          "'nonce':1700000000000}"),
       AGENT, "0x1719884eb866cb12b2287399b15f7db5e7d775ea"),
    NC(RAW("hyperliquid",
           "{'action':{'type':'convertToMultiSigUser','signatureChainId':'0x66eee',"
           "'hyperliquidChain':'Mainnet','signers':'{\\'authorizedUsers\\':[\\'"
           "0x1719884eb866cb12b2287399b15f7db5e7d775ea\\',\\'"
           "0x5e9ee1089755c3435139848e47e6635505d5a13a\\'],\\'threshold\\':1}','nonce':"
           "1700000000000},'nonce':1700000000000}"),
       AGENT,
       "0x1719884eb866cb12b2287399b15f7db5e7d775ea,0x5e9ee1089755c3435139848e47e6635505d5a13a"),
};

static void test_names_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(NAME_CASES); i++) {
        const name_case *c = &NAME_CASES[i];
        const sigil_request_info *info = inspect_as(&c->r, c->action);
        bool agent = c->action == SIGIL_ACTION_AGENT;
        assert_false(info->orders_known);
        assert_int_equal(info->n_orders, 0);
        if (agent) {
            assert_int_equal(info->n_destinations, 0);
            assert_names(info->agents, info->n_agents, c->names);
        } else {
            assert_int_equal(info->n_agents, 0);
            assert_names(info->destinations, info->n_destinations, c->names);
        }
    }
}

/* ---- method, path, hyperliquid kinds ---- */

static void test_path_and_method(void **state)
{
    static const struct {
        req_spec r;
        sigil_action action;
        uint8_t method;
        const char *path; /* NULL: no path */
    } CASES[] = {
        {CEX("binance", "DELETE", "/api/v3/order/", "symbol=LTCBTC&orderId=12", NULL),
         SIGIL_ACTION_CANCEL, SIGIL_METHOD_DELETE, "/api/v3/order"},
        {CEX("okx", "GET", "/api/v5/account/balance", "ccy=BTC", NULL), SIGIL_ACTION_READ,
         SIGIL_METHOD_GET, "/api/v5/account/balance"},
        {CEX("gate", "PUT", "/api/v4/futures/usdt/orders/123", NULL, "{'size':2}"),
         SIGIL_ACTION_MODIFY, SIGIL_METHOD_PUT, "/api/v4/futures/usdt/orders/123"},
        {CEX("kraken", "POST", "/0/private/Balance", NULL, NULL), SIGIL_ACTION_READ,
         SIGIL_METHOD_POST, "/0/private/Balance"},
        {RAW("okx", "{'op':'login','timestamp':1700000000}"), SIGIL_ACTION_AUTH, 0, NULL},
        {RAW("bybit", "{'op':'auth','expires':1700000010000}"), SIGIL_ACTION_AUTH, 0, NULL},
        {RAW("bitfinex", "{'event':'auth','authNonce':1700000000000000}"), SIGIL_ACTION_AUTH, 0,
         NULL},
        {RAW("eip191", "{'message':'hello'}"), SIGIL_ACTION_OTHER, 0, NULL},
    };
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        const sigil_request_info *info = inspect_as(&CASES[i].r, CASES[i].action);
        assert_int_equal(info->has_path, CASES[i].path != NULL);
        assert_int_equal(info->method, CASES[i].method);
        assert_string_equal(info->path, CASES[i].path != NULL ? CASES[i].path : "");
        assert_false(info->has_vault);
        assert_string_equal(info->kind, "");
    }
}

static void test_hyperliquid_kind_and_vault(void **state)
{
    static const struct {
        req_spec r;
        sigil_action action;
        const char *kind;
        bool user_signed;
        const char *vault; /* NULL: none */
    } CASES[] = {
        {RAW("hyperliquid", "{'action':{'type':'order','orders':[" HL_ORDER(
                                "0", "true", "1", "2", "false") "],'grouping':'na'},'nonce':"
                                                                "1700000000000,'vault_address':'"
                                                                "0x1719884EB866CB12B2287399B15F7"
                                                                "DB5E7D775EA'}"),
         SIGIL_ACTION_ORDER, "order", false, "0x1719884eb866cb12b2287399b15f7db5e7d775ea"},
        {RAW("hyperliquid", "{'action':{'type':'updateLeverage','asset':0,'isCross':true,"
                            "'leverage':10},'nonce':1700000000000}"),
         SIGIL_ACTION_LEVERAGE, "updateLeverage", false, NULL},
        {RAW("hyperliquid", "{'action':{'type':'usdSend','signatureChainId':'0x66eee',"
                            "'hyperliquidChain':'Mainnet','destination':'"
                            "0x5e9ee1089755c3435139848e47e6635505d5a13a','amount':'1.5','time':"
                            "1700000000000},'nonce':1700000000000}"),
         SIGIL_ACTION_TRANSFER, "usdSend", true, NULL},
        {RAW("hyperliquid", "{'action':{'type':'userDexAbstraction','signatureChainId':'0x66eee',"
                            "'hyperliquidChain':'Mainnet','user':'"
                            "0x5e9ee1089755c3435139848e47e6635505d5a13a','enabled':true,'nonce':"
                            "1700000000000},'nonce':1700000000000}"),
         SIGIL_ACTION_LEVERAGE, "userDexAbstraction", true, NULL},
        {RAW("hyperliquid", "{'action':{'type':'noop'},'nonce':1700000000000}"), SIGIL_ACTION_OTHER,
         "noop", false, NULL},
    };
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        const sigil_request_info *info = inspect_as(&CASES[i].r, CASES[i].action);
        assert_string_equal(info->kind, CASES[i].kind);
        assert_int_equal(info->user_signed, CASES[i].user_signed);
        assert_int_equal(info->has_vault, CASES[i].vault != NULL);
        assert_string_equal(info->vault, CASES[i].vault != NULL ? CASES[i].vault : "");
        assert_false(info->has_path);
    }
}

/* ---- refusals: what the venue would read differently, or not at all ---- */

typedef struct {
    req_spec r;
    sigil_action action;
    sigil_err code;
    const char *field; /* in the message */
} refusal;

#define RF(r, a, e, f)                                                                             \
    {                                                                                              \
        r, SIGIL_ACTION_##a, SIGIL_E_##e, (f)                                                      \
    }

static const refusal REFUSALS[] = {
    RF(CEX("binance", "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&quantity=1",
           "quantity=2&price=1"),
       ORDER, BAD_REQUEST, "same name"),
    RF(CEX("binance", "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY", "Quantity=2&price=1"),
       ORDER, BAD_FIELD, "quantity"),
    RF(CEX("binance", "POST", "/api/v3/order", NULL,
           "symbol=BTCUSDT&side=BUY&quantity=1&quantity=2"),
       ORDER, DUPLICATE_KEY, "request.body"),
    RF(CEX("binance", "POST", "/api/v3/order", NULL, "symbol=BTCUSDT&side=BUY&quantity=1e5"), ORDER,
       BAD_FIELD, "request.quantity"),
    RF(CEX("binance", "POST", "/api/v3/order", NULL, "symbol=BTCUSDT&side=BUY&quantity=-1"), ORDER,
       BAD_FIELD, "request.quantity"),
    RF(CEX("binance", "POST", "/api/v3/order", NULL, "symbol=BTCUSDT&side=BUY&quantity=+1"), ORDER,
       BAD_FIELD, "request.quantity"),
    RF(CEX("binance", "POST", "/api/v3/order", NULL,
           "symbol=BTCUSDT&side=BUY&quantity="
           "11111111111111111111111111111111111111111111111111111111111111111"),
       ORDER, OUT_OF_RANGE, "request.quantity"),
    RF(CEX("binance", "POST", "/api/v3/order", NULL, "symbol=BTCUSDT&side=HOLD&quantity=1"), ORDER,
       BAD_FIELD, "request.side"),
    RF(CEX("binance", "PUT", "/api/v3/order/amend/keepPriority", NULL,
           "symbol=BTCUSDT&orderId=1&quantity=1&newQty=2"),
       ORDER, BAD_REQUEST, "newQty"),
    RF(CEX("binance", "POST", "/fapi/v1/batchOrders", NULL, "batchOrders=%5B%5D"), ORDER,
       BAD_REQUEST, "empty batch"),
    RF(CEX("binance", "POST", "/fapi/v1/batchOrders", NULL, "batchOrders=%7B%7D"), ORDER, BAD_FIELD,
       "batchOrders"),
    RF(CEX("binance", "POST", "/fapi/v1/batchOrders", NULL,
           "batchOrders=%5B%7B%22symbol%22%3A%22A%22%2C%22quantity%22%3A%221.2.3%22%7D%5D"),
       ORDER, BAD_FIELD, "batchOrders[0].quantity"),
    RF(CEX("bybit", "POST", "/v5/order/create", NULL,
           "{'category':'linear','symbol':'BTCUSDT','side':'Buy','Qty':'5','qty':'1'}"),
       ORDER, BAD_FIELD, "request.body.qty"),
    RF(CEX("bybit", "POST", "/v5/order/create", NULL,
           "{'category':'linear','symbol':'BTCUSDT','side':'Buy','qty':'0x1'}"),
       ORDER, BAD_FIELD, "request.body.qty"),
    RF(CEX("okx", "POST", "/api/v5/trade/order", NULL,
           "{'instId':'BTC-USDT','side':'buy','ordType':'limit','px':' 1','sz':'1'}"),
       ORDER, BAD_FIELD, "request.body.px"),
    RF(CEX("okx", "POST", "/api/v5/trade/order", "sz=2",
           "{'instId':'BTC-USDT','side':'buy','ordType':'limit','px':'1','sz':'1'}"),
       ORDER, BAD_REQUEST, "sz"),
    RF(CEX("gate", "POST", "/api/v4/futures/usdt/orders", NULL,
           "{'contract':'BTC_USDT','size':1.5e3,'price':'1'}"),
       ORDER, BAD_FIELD, "size"),
    RF(CEX("kraken", "POST", "/0/private/AddOrder", NULL,
           "ordertype=limit&pair=XBTUSD&price=1.2.3&type=buy&volume=1"),
       ORDER, BAD_FIELD, "request.price"),
    RF(CEX("coinbase", "POST", "/api/v3/brokerage/orders", NULL,
           "{'product_id':'BTC-USD','side':'BUY','order_configuration':{'a':{},'b':{}}}"),
       ORDER, BAD_FIELD, "order_configuration"),
    RF(RAW("hyperliquid", "{'action':{'type':'order','orders':[{'a':'0','b':true,'p':'1','s':'1',"
                          "'r':false,'t':{'limit':{'tif':'Gtc'}}}],'grouping':'na'},'nonce':1}"),
       ORDER, BAD_FIELD, "orders[0].a"),
    RF(RAW("hyperliquid", "{'action':{'type':'order','orders':[" HL_ORDER(
                              "0", "true", "1", "1e3", "false") "],'grouping':'na'},'nonce':1}"),
       ORDER, BAD_FIELD, "orders[0].s"),
    RF(RAW("hyperliquid", "{'action':{'type':'order','orders':[{'a':0,'b':'true','p':'1','s':'1',"
                          "'r':false,'t':{'limit':{'tif':'Gtc'}}}],'grouping':'na'},'nonce':1}"),
       ORDER, BAD_FIELD, "orders[0].b"),
    RF(RAW("hyperliquid", "{'action':{'type':'order','orders':[],'grouping':'na'},'nonce':1}"),
       ORDER, BAD_REQUEST, "empty batch"),
    RF(RAW("hyperliquid", "{'action':{'type':'order','orders':[" HL_ORDER(
                              "0", "true", "1", "1", "false") "],'grouping':'na'},'nonce':1,"
                                                              "'vault_address':'0x12'}"),
       ORDER, BAD_FIELD, "vault_address"),
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(REFUSALS); i++) {
        const refusal *c = &REFUSALS[i];
        const char *req = build(&c->r);
        memset(&g_info, 0xa5, sizeof(g_info));
        sigil_clear_error();
        if (sigil_request_inspect(&g_info, c->r.venue, c->action, req, strlen(req)) != -1)
            fail_msg("case %zu accepted: %s", i, req);
        if (sigil_errno() != c->code || strstr(sigil_errmsg(), c->field) == NULL)
            fail_msg("case %zu: want %s naming %s, got %s: %s", i, sigil_err_code(c->code),
                     c->field, sigil_err_code(sigil_errno()), sigil_errmsg());
        /* nothing half-read reaches the policy */
        assert_false(g_info.orders_known);
        assert_int_equal(g_info.n_orders, 0);
        assert_int_equal(g_info.n_destinations, 0);
    }
}

/* ---- limits: SIGIL_MAX_ORDERS orders and SIGIL_MAX_REQUEST_NAMES names ---- */

static const char *hl_orders(size_t n)
{
    static char buf[16384];
    size_t w = (size_t)sprintf(buf, "{\"action\":{\"type\":\"order\",\"orders\":[");
    for (size_t i = 0; i < n; i++)
        w += (size_t)sprintf(buf + w,
                             "%s{\"a\":%zu,\"b\":true,\"p\":\"1\",\"s\":\"1\",\"r\":false,\"t\":"
                             "{\"limit\":{\"tif\":\"Gtc\"}}}",
                             i == 0 ? "" : ",", i);
    sprintf(buf + w, "],\"grouping\":\"na\"},\"nonce\":1700000000000}");
    return buf;
}

static void test_too_many_orders(void **state)
{
    (void)state;
    const char *req = hl_orders(SIGIL_MAX_ORDERS);
    assert_int_equal(
        sigil_request_inspect(&g_info, "hyperliquid", SIGIL_ACTION_ORDER, req, strlen(req)), 0);
    assert_int_equal(g_info.n_orders, SIGIL_MAX_ORDERS);
    assert_string_equal(g_info.orders[SIGIL_MAX_ORDERS - 1].symbol, "63");
    req = hl_orders(SIGIL_MAX_ORDERS + 1);
    sigil_clear_error();
    assert_int_equal(
        sigil_request_inspect(&g_info, "hyperliquid", SIGIL_ACTION_ORDER, req, strlen(req)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_REQUEST);
    assert_non_null(strstr(sigil_errmsg(), "more than 64 orders"));
    assert_int_equal(g_info.n_orders, 0);
}

static void test_too_many_binance_batch_orders(void **state)
{
    static char req[32768];
    (void)state;
    size_t w = (size_t)sprintf(req, "{\"method\":\"POST\",\"path\":\"/fapi/v1/batchOrders\","
                                    "\"body\":\"batchOrders=%%5B");
    for (int i = 0; i <= SIGIL_MAX_ORDERS; i++)
        w += (size_t)sprintf(req + w, "%s%%7B%%22symbol%%22%%3A%%22S%d%%22%%7D", i ? "%2C" : "", i);
    sprintf(req + w, "%%5D\",\"timestamp\":1700000000000}");
    sigil_clear_error();
    assert_int_equal(
        sigil_request_inspect(&g_info, "binance", SIGIL_ACTION_ORDER, req, strlen(req)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_REQUEST);
}

static void test_names_limits(void **state)
{
    /* 128 bytes is the longest name a policy can list; longer is refused. */
    char addr[160], req[512];
    (void)state;
    memset(addr, 'a', 128);
    addr[128] = '\0';
    snprintf(req, sizeof(req),
             "{\"method\":\"POST\",\"path\":\"/sapi/v1/capital/withdraw/apply\",\"body\":"
             "\"coin=USDT&address=%s&amount=1\",\"timestamp\":1700000000000}",
             addr);
    assert_int_equal(
        sigil_request_inspect(&g_info, "binance", SIGIL_ACTION_WITHDRAW, req, strlen(req)), 0);
    assert_int_equal(strlen(g_info.destinations[0].v), 128);
    addr[128] = 'a';
    addr[129] = '\0';
    snprintf(req, sizeof(req),
             "{\"method\":\"POST\",\"path\":\"/sapi/v1/capital/withdraw/apply\",\"body\":"
             "\"coin=USDT&address=%s&amount=1\",\"timestamp\":1700000000000}",
             addr);
    sigil_clear_error();
    assert_int_equal(
        sigil_request_inspect(&g_info, "binance", SIGIL_ACTION_WITHDRAW, req, strlen(req)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_non_null(strstr(sigil_errmsg(), "request.address"));
    /* A NUL inside a destination is refused, not truncated. */
    const char *nul = "{\"method\":\"POST\",\"path\":\"/v5/asset/withdraw/create\",\"body\":"
                      "\"{\\\"coin\\\":\\\"USDT\\\",\\\"address\\\":\\\"0xabc\\\\u0000x\\\"}\","
                      "\"timestamp\":1700000000000}";
    sigil_clear_error();
    assert_int_equal(
        sigil_request_inspect(&g_info, "bybit", SIGIL_ACTION_WITHDRAW, nul, strlen(nul)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
}

static void test_unknown_venue_and_eip(void **state)
{
    const char *msg = "{\"message\":\"hello\"}";
    (void)state;
    sigil_clear_error();
    assert_int_equal(sigil_request_inspect(&g_info, "nope", SIGIL_ACTION_ORDER, msg, strlen(msg)),
                     -1);
    assert_int_equal(sigil_errno(), SIGIL_E_UNKNOWN_VENUE);
    assert_int_equal(sigil_request_inspect(&g_info, "eip191", SIGIL_ACTION_OTHER, msg, strlen(msg)),
                     0);
    assert_false(g_info.orders_known);
    assert_false(g_info.has_path);
    /* An order-classed action on a venue with nothing to read stays unknown. */
    assert_int_equal(sigil_request_inspect(&g_info, "eip191", SIGIL_ACTION_ORDER, msg, strlen(msg)),
                     0);
    assert_false(g_info.orders_known);
    sigil_clear_error();
    assert_int_equal(
        sigil_request_inspect(&g_info, "eip191", SIGIL_ACTION_COUNT_, msg, strlen(msg)), -1);
}

/* The reader of bitget's spot batch endpoint, whose path the classifier
 * calls "other" (it names no place, cancel or order segment). */
static void test_bitget_spot_batch_reader(void **state)
{
    static const req_spec r = CEX("bitget", "POST", "/api/v2/spot/trade/batch-orders", NULL,
                                  "{'symbol':'BTCUSDT','orderList':[{'side':'buy','orderType':"
                                  "'limit','price':'1','size':'2'},{'symbol':'ETHUSDT','side':"
                                  "'buy','orderType':'market','size':'30'}]}");
    const char *req = build(&r);
    (void)state;
    assert_int_equal(sigil_request_inspect(&g_info, "bitget", SIGIL_ACTION_ORDER, req, strlen(req)),
                     0);
    assert_orders(&g_info, "BTCUSDT buy 2 1 - -;ETHUSDT buy - - 30 -");
    assert_signable("bitget", req);
}

/* Every venue of the classifier has an inspector. */
static void test_every_classified_venue_inspects(void **state)
{
    static const char *const VENUES[] = {
        "binance", "aster",         "eip712",  "eip191",      "bybit",
        "okx",     "kucoinfutures", "kucoin",  "hyperliquid", "kraken",
        "bitget",  "gate",          "deribit", "bitfinex",    "coinbase",
    };
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(VENUES); i++) {
        assert_true(sigil_policy_venue_known(VENUES[i]));
        sigil_clear_error();
        int rc = sigil_request_inspect(&g_info, VENUES[i], SIGIL_ACTION_READ, "{}", 2);
        assert_true(rc == 0 || sigil_errno() != SIGIL_E_UNKNOWN_VENUE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders_table),
        cmocka_unit_test(test_names_table),
        cmocka_unit_test(test_path_and_method),
        cmocka_unit_test(test_hyperliquid_kind_and_vault),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_too_many_orders),
        cmocka_unit_test(test_too_many_binance_batch_orders),
        cmocka_unit_test(test_names_limits),
        cmocka_unit_test(test_unknown_venue_and_eip),
        cmocka_unit_test(test_bitget_spot_batch_reader),
        cmocka_unit_test(test_every_classified_venue_inspects),
    };
    if (sigil_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
