/*
 * sigil-bench (test tool; holds only the public test keys of the venue
 * references): the in-process time of sigil_sign per venue, beside the raw
 * primitives it is built on measured by the same program in the same run,
 * and ccxt's time for the same requests (bench/ccxt_bench.mjs, run by node
 * after the C rows so the two never share the CPU). See bench/README.md.
 */
#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sched.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/stark.h"
#include "gateway/store.h"
#include "sigil/crypto.h"
#include "sigil/policy.h"
#include "sigil/receipt.h"
#include "sigil/venues.h"

#ifndef SIGIL_BENCH_SCRIPT
#define SIGIL_BENCH_SCRIPT "bench/ccxt_bench.mjs"
#endif
#ifndef SIGIL_BENCH_NODE_MODULES
#define SIGIL_BENCH_NODE_MODULES "tests/diff/node_modules"
#endif
#ifndef SIGIL_BENCH_BUILD_TYPE
#define SIGIL_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef SIGIL_BENCH_SECP256K1_VERSION
#define SIGIL_BENCH_SECP256K1_VERSION "?"
#endif

#define DEFAULT_ITERS 20000
#define MIN_ACCEPTED_ITERS 10000 /* the acceptance criterion's floor */
#define DEFAULT_BATCH 10
#define DEFAULT_BUDGET_S 20 /* seconds per row; only RSA in JS comes near it */
#define HL_ORDER_MAX_RATIO 1.3
#define HMAC_MAX_NS 3000.0
#define OUT_CAP (64 * 1024)

/* ---- the requests ---- */

#define TS "1700000000000"
/* ccxt binance.sign('order', 'private', 'POST', …) with the clock frozen at TS:
 * timestamp first, recvWindow last; 156 bytes, the raw HMAC row's message. */
#define BINANCE_BODY                                                                               \
    "timestamp=" TS "&symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001"           \
    "&price=50000&newClientOrderId=x-TKT5PX2F-bench-0001&recvWindow=5000"
#define BINANCE_REQUEST                                                                            \
    "{\"method\":\"POST\",\"path\":\"/api/v3/order\",\"query\":\"\",\"body\":\"" BINANCE_BODY      \
    "\",\"timestamp\":" TS ",\"recv_window\":5000}"
#define BINANCE_API_KEY "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
#define BINANCE_SECRET "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

/* RFC 8032 §7.1 TEST 1 and Binance's public RSA test key, one macro each so
 * the PEM text (raw rows) and the credentials JSON (venue rows) agree. */
#define ED25519_PEM(NL)                                                                            \
    "-----BEGIN PRIVATE KEY-----" NL                                                               \
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g" NL                          \
    "-----END PRIVATE KEY-----" NL
#define RSA_PEM(NL)                                                                                \
    "-----BEGIN PRIVATE KEY-----" NL                                                               \
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDPrfWMr2yqxJgJ" NL                          \
    "cIyA5TDFpZBlB9E3RMbbEcPZijmPDiciZjuRiD1Q6oQzi1MFGTZ523HwSXe9XG3R" NL                          \
    "NQaLCjxi+VkLsvCoxzgurkWXoQr0VHJyEDxnyRaCzTyvvHQgt0LKCWfqalYNz0ue" NL                          \
    "doxnYnde3DH/tFFXX0/rTkJyK6LpOyKOAqE0G7OhuQWkLvlUO8mqwtGNqdrtOgzv" NL                          \
    "kTN5rhb5VeWB4JGWDcAYFb9CQI9wD7/JJU1XQGIOJEY3L/PjGLcjDEiROt57/RS3" NL                          \
    "i6OVTiAgDcgA405tNLgS326hfbEchI5tKeOxqrFYVfvOK8+4o+rrUBnMhrBg0tJv" NL                          \
    "1feQKeAnAgMBAAECggEAUdB8PZIWQyfzpTRbhaPElPhmbAaqWxWTKVZUS2zyw/KV" NL                          \
    "ZC3WJb0AOtJIhm3KpOWL2nGi70BiFY1GDfbPvxKnO25zr/IscLEa5vjsnZFp2Vsz" NL                          \
    "QtA2m8RSQ/FKiQi6zvCjNSiDcYu2nvYdGi4lnczirdIdOFj2+m6n81D/SC78nNhj" NL                          \
    "P/JLbSPFw+XOfVqOVelXHw7XGtMH9dgFjWDdB317HcJjZyPDahpQQ7s6PcecDwuv" NL                          \
    "Qucs+Hi4sAWiHOiwKusx3sT/NL5Og/jAvC5aMy1QswWFnPr90T3qFE4MN1GZszzX" NL                          \
    "DmDkWaGaRwuwdpi/ocIZF3R9XX3m+WOVdEZRfzzcEQKBgQDt11achN666/j1kgQM" NL                          \
    "xPdzo06eUUZb/JUtEXz8hU+AzRsN/eso/47pjaPq7nrXFYE4aEx7Je2I9S52Y+b/" NL                          \
    "SLrctuza25VOxvqIpDynlvM/Iatg9WuTEIuOk7gkBFanDNjDjZDKFuDYSEfN+sX+" NL                          \
    "UakFT7cm+xu12PWR8HlZmFZL5QKBgQDfiRrC8zADSIE74uFBJ5K88t6cwrktqdPH" NL                          \
    "9QT69j+VpRXssyUoCfR4/zchKbEyTwSASvL1saJR14Opmvn6Le+0DKq+EV7Z1UM6" NL                          \
    "svVIzd9pWWMhRh9G83CC5Krx9Ie+34QHNRxBf+rya5if/aBCDtBFedRGbR6Le8MB" NL                          \
    "yvrpT5hzGwKBgQCU2+QPjnHA2BQ3zq3OODEQJTP9jqzUwd+0F2/8tIsv+C9osHXQ" NL                          \
    "cTLHJqljTuN/XqxD27OSmAh1Yc80tg5L1P9vSOYxjKGEbrE7eF+mHKod5zrWMoSj" NL                          \
    "xQUztWzYzgZWA4pfymjGs08Czypx1vS42e9JrbzaHuwXArWgI7wvwVKxqQKBgQCS" NL                          \
    "ByIZav7Zljr+oUdf5fdBQjPVGowYXZJBVTpMrCN7od4BxEIotuAjTy53lqHwaJhb" NL                          \
    "KxsvED0m0/BqExjsq6ek6oV8JyLckSobJZ+BUSR60O8mZIW4Nv4wNCvMZl9rfN7m" NL                          \
    "SnbL/0G/3jRViD1yCfVa/ayD2XMT0eThvfVOBzZjMwKBgB5jasP9TcDAyaEKta+g" NL                          \
    "6glTM0MKUWfhZzYRbvDXdnatjjMEdixWm9aXwc0Nw+aN0KkdLBwvnDiVMtX+Xl2n" NL                          \
    "BU2Gxxe3H8qrvkoi8zmzh3VWpqzfB+L3sXAq+6VNNYLEFLBR6D2u4DD86FvY+DsU" NL                          \
    "miJlY6JEKpSxvkrS04XrbvHk" NL "-----END PRIVATE KEY-----" NL

/* venues.md §0 well-known key -> 0x14791697260E4c9A71f18484C9f997B308e59325 */
#define WALLET_KEY "0x0123456789012345678901234567890123456789012345678901234567890123"
#define WALLET_CRED "{\"private_key\":\"" WALLET_KEY "\"}"
/* venues.md §8 Stark key */
#define PARADEX_KEY "0x06c9b58fa6c63b5c49115c3f75d7230042d639e7ac31635a3a54b3f84dc8f46f"
#define PARADEX_CRED "{\"private_key\":\"" PARADEX_KEY "\"}"

typedef enum {
    REF_SECP256K1,
    REF_HMAC,
    REF_KECCAK,
    REF_ED25519,
    REF_RSA,
    REF_STARK,
    REF_COUNT_,
} ref_kind;

typedef enum {
    TARGET_NONE,
    TARGET_HL_ORDER, /* median <= 1.3 x raw secp256k1 sign */
    TARGET_HMAC_3US, /* median <= 3 us */
} target_kind;

typedef struct {
    const char *id; /* shared with ccxt_bench.mjs */
    const char *venue;
    const char *what;
    const char *cred;
    const char *request;
    const char *expect; /* the signature the output must contain (vectors, node:crypto) */
    ref_kind ref;
    target_kind target;
} bench_sample;

static const bench_sample SAMPLES[] = {
    {"binance-hmac", "binance", "POST order, HMAC",
     "{\"api_key\":\"" BINANCE_API_KEY "\",\"secret\":\"" BINANCE_SECRET "\"}", BINANCE_REQUEST,
     "signature=4e14f22719b78406cb87631fe76c7a336f1c6c60910890bc94bf31d4e5b74db2", REF_HMAC,
     TARGET_HMAC_3US},
    {"binance-ed25519", "binance", "POST order, Ed25519",
     "{\"api_key\":\"" BINANCE_API_KEY
     "\",\"secret\":\"" ED25519_PEM("\\n") "\",\"key_type\":\"ed25519\"}",
     BINANCE_REQUEST,
     "signature=z6Vz34JwtIJ5PNjlGdUxl7uBzEbnITVa2gnFKwq4UkLZpPQpchr%2B0%"
     "2BlYN0HI34XpuQo1dmKj2evk9Cs%"
     "2BXmEMCA%3D%3D",
     REF_ED25519, TARGET_NONE},
    {"binance-rsa", "binance", "POST order, RSA-2048",
     "{\"api_key\":\"" BINANCE_API_KEY "\",\"secret\":\"" RSA_PEM("\\n") "\",\"key_type\":\"rsa\"}",
     BINANCE_REQUEST, "signature=jbfsSn7UzC5lO89kLuz5NtoS8kMyyVw8XgIVhl0LbxF1qsIOELbh3wuci0FLkIV",
     REF_RSA, TARGET_NONE},
    {"bybit", "bybit", "POST /v5/order/create",
     "{\"api_key\":\"XXXXXXXXXX\",\"secret\":\"YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY\"}",
     "{\"method\":\"POST\",\"path\":\"/v5/order/"
     "create\",\"query\":\"\",\"body\":\"{\\\"category\\\":"
     "\\\"linear\\\",\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"side\\\":\\\"Buy\\\",\\\"orderType\\\":"
     "\\\"Limit\\\",\\\"qty\\\":\\\"0.001\\\",\\\"price\\\":\\\"50000\\\",\\\"timeInForce\\\":"
     "\\\"GTC\\\",\\\"orderLinkId\\\":\\\"bench-0001\\\"}\",\"timestamp\":" TS
     ",\"recv_window\":5000}",
     "6d320344fe5e434b454882df847f9ce1d9d0f6cc3804a30cb62466a27d27e494", REF_HMAC, TARGET_HMAC_3US},
    {"okx", "okx", "POST /api/v5/trade/order",
     "{\"api_key\":\"985d5b66-57ce-40fb-b714-afc0b9787083\",\"secret\":"
     "\"0123456789ABCDEF0123456789ABCDEF\",\"passphrase\":\"Passphrase123!\"}",
     "{\"method\":\"POST\",\"path\":\"/api/v5/trade/"
     "order\",\"query\":\"\",\"body\":\"{\\\"instId\\\":"
     "\\\"BTC-USDT-SWAP\\\",\\\"tdMode\\\":\\\"cross\\\",\\\"side\\\":\\\"buy\\\",\\\"ordType\\\":"
     "\\\"limit\\\",\\\"px\\\":\\\"50000\\\",\\\"sz\\\":\\\"1\\\",\\\"clOrdId\\\":"
     "\\\"bench0001\\\"}"
     "\",\"timestamp\":" TS "}",
     "bCGrWxybeKEoziYsePi2AvaoLAuKBL6sZYuAIQzUhvU=", REF_HMAC, TARGET_HMAC_3US},
    {"kucoinfutures", "kucoinfutures", "POST /api/v1/orders",
     "{\"api_key\":\"5c2db93503aa674c74a31734\",\"secret\":\"f03a5284-5c39-4aaa-9b20-"
     "dea10bdcf8e3\","
     "\"passphrase\":\"QWIxenR0ZTEw\"}",
     "{\"method\":\"POST\",\"path\":\"/api/v1/"
     "orders\",\"query\":\"\",\"body\":\"{\\\"clientOid\\\":"
     "\\\"bench-0001\\\",\\\"side\\\":\\\"buy\\\",\\\"symbol\\\":\\\"XBTUSDTM\\\",\\\"type\\\":"
     "\\\"limit\\\",\\\"price\\\":\\\"50000\\\",\\\"size\\\":1,\\\"leverage\\\":\\\"5\\\"}\","
     "\"timestamp\":" TS "}",
     "5rwT+83CEy7YLGq9B5V8VQA2bRo6m6Q2KrAhQso1jYE=", REF_HMAC, TARGET_HMAC_3US},
    {"kucoin", "kucoin", "POST /api/v1/hf/orders",
     "{\"api_key\":\"5c2db93503aa674c74a31734\",\"secret\":\"f03a5284-5c39-4aaa-9b20-"
     "dea10bdcf8e3\","
     "\"passphrase\":\"QWIxenR0ZTEw\"}",
     "{\"method\":\"POST\",\"path\":\"/api/v1/hf/"
     "orders\",\"query\":\"\",\"body\":\"{\\\"clientOid\\\":"
     "\\\"bench-0001\\\",\\\"side\\\":\\\"buy\\\",\\\"symbol\\\":\\\"BTC-USDT\\\",\\\"type\\\":"
     "\\\"limit\\\",\\\"price\\\":\\\"50000\\\",\\\"size\\\":\\\"0.001\\\"}\",\"timestamp\":" TS
     "}",
     "ouvtxMz2gwb7Ttvq/jkdzuPBcmhD1OeBPgYcYNlaT9s=", REF_HMAC, TARGET_HMAC_3US},
    /* shared/vectors/venues/hyperliquid.json, "order: BTC(asset 0) … with cloid [mainnet]" */
    {"hyperliquid-order", "hyperliquid", "L1 order with cloid", WALLET_CRED,
     "{\"action\":{\"type\":\"order\",\"orders\":[{\"a\":0,\"b\":true,\"p\":\"50000\",\"s\":\"0."
     "001\","
     "\"r\":false,\"t\":{\"limit\":{\"tif\":\"Gtc\"}},\"c\":\"0x1234567890abcdef1234567890abcdef\"}"
     "],"
     "\"grouping\":\"na\"},\"nonce\":" TS "}",
     "0x3a5e53dfa61eb31b5b156d4511bb35b582ee19a45cd67712f22da30abc40cddf", REF_SECP256K1,
     TARGET_HL_ORDER},
    /* same file, "usdSend [Mainnet]" */
    {"hyperliquid-usdsend", "hyperliquid", "usdSend (user-signed)", WALLET_CRED,
     "{\"action\":{\"type\":\"usdSend\",\"signatureChainId\":\"0x66eee\",\"hyperliquidChain\":"
     "\"Mainnet\",\"destination\":\"0x5e9ee1089755c3435139848e47e6635505d5a13a\",\"amount\":\"1."
     "5\","
     "\"time\":" TS "},\"nonce\":" TS "}",
     "0x1a6a3ef1edbffd18970616ebecbc1bad5df88e1227932324752f6a7beff2cd46", REF_SECP256K1,
     TARGET_NONE},
    /* ccxt aster.sign('v3/order', 'fapiPrivate', 'POST', …) at TS, Aster docs' signer key */
    {"aster", "aster", "POST /fapi/v3/order",
     "{\"private_key\":\"0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1\"}",
     "{\"method\":\"POST\",\"path\":\"/fapi/v3/order\",\"query\":\"nonce=1700000000000000&user="
     "0x21cf8ae13bb72632562c6fff438652ba1a151bb0&signer=0x21cf8ae13bb72632562c6fff438652ba1a151bb0"
     "&symbol=ASTERUSDT&type=LIMIT&side=BUY&timeInForce=GTC&quantity=20&price=0.5\",\"nonce\":"
     "1700000000000000}",
     "0x915803df2ba6fb5d2d348e49174ffa8b09451aac585aaa66703486422ee1449a4fe8e6e2968e12a0c3bf59ae22c"
     "6"
     "bec25502bf749c4ab9e893dc7a0df0b7706d1b",
     REF_SECP256K1, TARGET_NONE},
    /* shared/vectors/venues/eip712_eip191.json: Mail signed with the §0 key; "Hello World" */
    {"eip712", "eip712", "Mail (EIP-712 spec)", WALLET_CRED,
     "{\"domain\":{\"name\":\"Ether Mail\",\"version\":\"1\",\"chainId\":1,\"verifyingContract\":"
     "\"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC\"},\"types\":{\"Person\":[{\"name\":\"name\","
     "\"type\":\"string\"},{\"name\":\"wallet\",\"type\":\"address\"}],\"Mail\":[{\"name\":"
     "\"from\","
     "\"type\":\"Person\"},{\"name\":\"to\",\"type\":\"Person\"},{\"name\":\"contents\",\"type\":"
     "\"string\"}]},\"primaryType\":\"Mail\",\"message\":{\"from\":{\"name\":\"Cow\",\"wallet\":"
     "\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\"},\"to\":{\"name\":\"Bob\",\"wallet\":"
     "\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"},\"contents\":\"Hello, Bob!\"}}",
     "0x92c9e07ab60b5a25a23fef145f6a2980ae14c37352e18eefa88392c628fccb43", REF_SECP256K1,
     TARGET_NONE},
    {"eip191", "eip191", "personal_sign \"Hello World\"", WALLET_CRED,
     "{\"message\":\"Hello World\"}",
     "0xe0ed34fbbe927a58267ce2e8067a611c69869e20e731bc99187a8bc97058664c16de07f7660f06ce0985d1d8e0"
     "63726783033fda59b307897f26a21392d62b3a1c",
     REF_SECP256K1, TARGET_NONE},
    /* shared/vectors/venues/dydx.json, short-term MsgPlaceOrder [dydx-mainnet-1]: the public
     * key derivation, protobuf TxBody/AuthInfo/SignDoc, secp256k1 over SHA-256, TxRaw base64;
     * the expected text is the vector's txhash */
    {"dydx-place-order", "dydx", "MsgPlaceOrder short-term (pubkey+sign)", WALLET_CRED,
     "{\"chain_id\":\"dydx-mainnet-1\",\"account_number\":12345,\"sequence\":0,\"place_order\":{"
     "\"owner\":\"dydx1navfnxx0ywpgtdjevkkmk2k79lvr37jtmp8y6t\",\"subaccount_number\":0,"
     "\"client_id\":123456789,\"clob_pair_id\":0,\"order_flags\":0,\"good_til_block\":20000000,"
     "\"side\":1,\"quantums\":1000000,\"subticks\":5000000000}}",
     "7BA0E3B33A9E84AB347FC36AF0AAF8FC69C02C61DD239798CA96EC20E68F350F", REF_SECP256K1,
     TARGET_NONE},
    /* shared/vectors/venues/paradex.json, "order LIMIT BUY 0.1 ETH-USD-PERP @ 1500 [prod]":
     * 10^8 scaling, Pedersen typed data (17 hashes), Stark ECDSA with RFC 6979 k */
    {"paradex-order", "paradex", "Order typed data, Stark ECDSA", PARADEX_CRED,
     "{\"message\":\"order\",\"account\":"
     "\"0x580a61734fbfec1df4b943762478e5d306c93a936a876f81fea8ae2f5fe6db\","
     "\"signature_timestamp\":1700000000000,\"market\":\"ETH-USD-PERP\",\"side\":\"BUY\","
     "\"type\":\"LIMIT\",\"size\":\"0.1\",\"price\":\"1500\"}",
     "3135918010653406143350232886094331826485404604688519328715743931620244583313", REF_STARK,
     TARGET_NONE},
};

/* ---- measurement ---- */

typedef struct {
    size_t iters, batch;
    double budget_s;
} bench_opts;

typedef struct {
    bool done;
    size_t n; /* calls measured (excluding warm-up) */
    double median_ns, p99_ns;
} bench_stats;

typedef int (*bench_op)(void *arg);

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t warmup_calls(const bench_opts *opt)
{
    return opt->iters / 10 > 200 ? opt->iters / 10 : 200;
}

/* Warm-up (a tenth of the run, at least 200 calls), then op timed in batches
 * of opt->batch calls; each sample is one batch's time divided by its size.
 * A row whose estimated run exceeds the time budget gets fewer calls, but
 * never fewer than MIN_ACCEPTED_ITERS (unless opt->iters itself is). */
static int measure(bench_stats *st, bench_op op, void *arg, const bench_opts *opt)
{
    size_t warm = warmup_calls(opt);
    double t0 = now_ns();
    for (size_t i = 0; i < warm; i++)
        if (op(arg) != 0)
            return -1;
    double per_call = (now_ns() - t0) / (double)warm;
    size_t fit = (size_t)(opt->budget_s * 1e9 / per_call);
    fit = fit > MIN_ACCEPTED_ITERS ? fit : MIN_ACCEPTED_ITERS; /* never below the floor */
    size_t n = opt->iters < fit ? opt->iters : fit;
    size_t nb = n / opt->batch > 0 ? n / opt->batch : 1;
    double *s = malloc(nb * sizeof(*s));
    if (s == NULL)
        return -1;
    for (size_t b = 0; b < nb; b++) {
        double a = now_ns();
        for (size_t j = 0; j < opt->batch; j++)
            if (op(arg) != 0) {
                free(s);
                return -1;
            }
        s[b] = (now_ns() - a) / (double)opt->batch;
    }
    qsort(s, nb, sizeof(*s), cmp_double);
    *st = (bench_stats){.done = true,
                        .n = nb * opt->batch,
                        .median_ns = s[(nb - 1) / 2],
                        .p99_ns = s[(size_t)ceil(0.99 * (double)(nb - 1))]};
    free(s);
    return 0;
}

/* ---- reference rows: the primitives, called directly ---- */

static const char REF_MSG[] = BINANCE_BODY; /* 156 bytes */

typedef struct {
    secp256k1_context *secp;
    uint8_t seckey[32], digest[32];
    secp256k1_ecdsa_recoverable_signature sig;
    uint8_t hmac_key[64], mac[32];
    uint8_t keccak_in[200], keccak_out[32];
    uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES], ed_sk[crypto_sign_SECRETKEYBYTES], ed_sig[64];
    EVP_PKEY *rsa;
    uint8_t rsa_sig[512];
    uint8_t stark_key[32], stark_hash[32], stark_r[32], stark_s[32];
} ref_state;

static int ref_secp256k1(void *arg)
{
    ref_state *r = arg;
    return secp256k1_ecdsa_sign_recoverable(r->secp, &r->sig, r->digest, r->seckey, NULL, NULL) == 1
               ? 0
               : -1;
}

static int ref_hmac(void *arg)
{
    ref_state *r = arg;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, r->hmac_key, sizeof(r->hmac_key));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)REF_MSG, sizeof(REF_MSG) - 1);
    crypto_auth_hmacsha256_final(&st, r->mac);
    return 0;
}

static int ref_keccak(void *arg)
{
    ref_state *r = arg;
    sigil_keccak256(r->keccak_out, r->keccak_in, sizeof(r->keccak_in));
    return 0;
}

static int ref_ed25519(void *arg)
{
    ref_state *r = arg;
    return crypto_sign_detached(r->ed_sig, NULL, (const uint8_t *)REF_MSG, sizeof(REF_MSG) - 1,
                                r->ed_sk);
}

static int ref_rsa(void *arg)
{
    ref_state *r = arg;
    size_t len = sizeof(r->rsa_sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok =
        md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, r->rsa) == 1 &&
        EVP_DigestSign(md, r->rsa_sig, &len, (const uint8_t *)REF_MSG, sizeof(REF_MSG) - 1) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

static int ref_stark(void *arg)
{
    ref_state *r = arg;
    return sigil_stark_sign(r->stark_r, r->stark_s, r->stark_key, r->stark_hash);
}

static const struct {
    const char *label;
    const char *short_name; /* in the venue rows' reference column */
    bench_op op;
} REFS[REF_COUNT_] = {
    [REF_SECP256K1] = {"raw secp256k1_ecdsa_sign_recoverable, 32-B digest", "secp256k1",
                       ref_secp256k1},
    [REF_HMAC] = {"raw HMAC-SHA256 (libsodium), 64-B key, 156-B msg", "HMAC", ref_hmac},
    [REF_KECCAK] = {"raw Keccak-256 (sigil), 200 B", "keccak", ref_keccak},
    [REF_ED25519] = {"raw Ed25519 sign (libsodium), expanded key, 156 B", "Ed25519", ref_ed25519},
    [REF_RSA] = {"raw RSA-2048 PKCS#1 v1.5 SHA-256 (OpenSSL), 156 B", "RSA", ref_rsa},
    [REF_STARK] = {"raw Stark ECDSA sign (sigil), 251-bit hash", "stark", ref_stark},
};

static int ref_init(ref_state *r)
{
    static const char rsa_pem[] = RSA_PEM("\n");
    uint8_t seed[32];
    memset(r, 0, sizeof(*r));
    r->secp = secp256k1_context_create(SECP256K1_CONTEXT_SIGN);
    randombytes_buf(seed, sizeof(seed));
    if (r->secp == NULL || !secp256k1_context_randomize(r->secp, seed))
        return -1;
    if (sigil_hex_decode_exact(r->seckey, 32, WALLET_KEY, 66, true, "key") != 0)
        return -1;
    sigil_keccak256(r->digest, "sigil-bench", 11);
    if (sigil_hex_decode_exact(r->stark_key, 32, PARADEX_KEY, 66, true, "key") != 0)
        return -1;
    memcpy(r->stark_hash, r->digest, 32);
    r->stark_hash[0] &= 0x07; /* below 2^251 */
    memcpy(r->hmac_key, BINANCE_SECRET, sizeof(r->hmac_key));
    for (size_t i = 0; i < sizeof(r->keccak_in); i++)
        r->keccak_in[i] = (uint8_t)i;
    /* RFC 8032 TEST 1 seed, the key inside ED25519_PEM */
    if (sigil_hex_decode_exact(seed, 32,
                               "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                               64, false, "seed") != 0 ||
        crypto_sign_seed_keypair(r->ed_pk, r->ed_sk, seed) != 0)
        return -1;
    BIO *bio = BIO_new_mem_buf(rsa_pem, (int)sizeof(rsa_pem) - 1);
    r->rsa = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return r->rsa != NULL ? 0 : -1;
}

/* ---- venue rows: sigil_sign, the whole per-request path ---- */

typedef struct {
    const sigil_venue *venue;
    sigil_credentials cred;
    const char *request;
    size_t request_len;
    sigil_buf out;
} venue_state;

static int venue_sign(void *arg)
{
    venue_state *v = arg;
    v->out.len = 0;
    return sigil_sign(&v->out, v->venue, &v->cred, SIGIL_NET_MAINNET, v->request, v->request_len);
}

/* ---- ccxt: bench/ccxt_bench.mjs in a child node process ---- */

typedef struct {
    bool done;
    bench_stats st;
    char check[512]; /* the signature ccxt produced */
    char note[160];  /* why there is no number */
} ccxt_result;

typedef struct {
    bool available;
    char info[160];
    char reason[256];
} ccxt_run;

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : dflt;
}

static void ccxt_exec_child(int fd, const bench_opts *opt, const cpu_set_t *all_cpus)
{
    char iters[32], batch[32], budget[32];
    const char *node = env_or("SIGIL_BENCH_NODE", "node");
    snprintf(iters, sizeof(iters), "%zu", opt->iters);
    snprintf(batch, sizeof(batch), "%zu", opt->batch);
    snprintf(budget, sizeof(budget), "%g", opt->budget_s);
    /* node's JIT and GC threads get every CPU back: ccxt is not handicapped
     * by our pinning */
    (void)sched_setaffinity(0, sizeof(*all_cpus), all_cpus);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    char *const argv[] = {
        (char *)node, (char *)env_or("SIGIL_BENCH_SCRIPT", SIGIL_BENCH_SCRIPT),
        "--modules",  (char *)env_or("SIGIL_BENCH_NODE_MODULES", SIGIL_BENCH_NODE_MODULES),
        "--iters",    iters,
        "--batch",    batch,
        "--budget",   budget,
        NULL};
    execvp(node, argv);
    printf("unavailable cannot run %s (%s)\n", node, strerror(errno));
    fflush(stdout);
    _exit(127);
}

static const bench_sample *sample_by_id(const char *id)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SAMPLES); i++)
        if (strcmp(SAMPLES[i].id, id) == 0)
            return &SAMPLES[i];
    return NULL;
}

/* One protocol line from ccxt_bench.mjs (format in its header). */
static void ccxt_line(ccxt_run *run, ccxt_result *res, char *line)
{
    char id[64] = "";
    int used = 0;
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "info ", 5) == 0) {
        snprintf(run->info, sizeof(run->info), "%.150s", line + 5);
        run->available = true;
    } else if (strncmp(line, "unavailable ", 12) == 0) {
        snprintf(run->reason, sizeof(run->reason), "%.250s", line + 12);
        run->available = false;
    } else if (sscanf(line, "skip %63s %n", id, &used) == 1 && sample_by_id(id) != NULL) {
        ccxt_result *r = &res[sample_by_id(id) - SAMPLES];
        snprintf(r->note, sizeof(r->note), "%.150s", line + used);
    } else if (sscanf(line, "row %63s", id) == 1 && sample_by_id(id) != NULL) {
        ccxt_result *r = &res[sample_by_id(id) - SAMPLES];
        if (sscanf(line, "row %*s %zu %lf %lf %511s", &r->st.n, &r->st.median_ns, &r->st.p99_ns,
                   r->check) == 4)
            r->done = r->st.done = true;
    }
}

static void ccxt_measure(ccxt_run *run, ccxt_result *res, const bench_opts *opt,
                         const cpu_set_t *all_cpus)
{
    const char *mods = env_or("SIGIL_BENCH_NODE_MODULES", SIGIL_BENCH_NODE_MODULES);
    char probe[1024];
    int fds[2];
    snprintf(probe, sizeof(probe), "%s/ccxt/package.json", mods);
    if (strcmp(env_or("SIGIL_BENCH_CCXT", "1"), "0") == 0) {
        snprintf(run->reason, sizeof(run->reason), "disabled by SIGIL_BENCH_CCXT=0");
        return;
    }
    if (access(probe, R_OK) != 0) {
        snprintf(run->reason, sizeof(run->reason),
                 "ccxt not installed in %s (cd tests/diff && npm ci --ignore-scripts)", mods);
        return;
    }
    if (pipe(fds) != 0) {
        snprintf(run->reason, sizeof(run->reason), "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        ccxt_exec_child(fds[1], opt, all_cpus);
    }
    close(fds[1]);
    FILE *f = pid > 0 ? fdopen(fds[0], "r") : NULL;
    if (f == NULL) {
        snprintf(run->reason, sizeof(run->reason), "cannot start node: %s", strerror(errno));
        close(fds[0]);
        return;
    }
    snprintf(run->reason, sizeof(run->reason), "node printed nothing");
    char line[2048];
    while (fgets(line, sizeof(line), f) != NULL)
        ccxt_line(run, res, line);
    fclose(f);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!run->available && WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
        strcmp(run->reason, "node printed nothing") == 0)
        snprintf(run->reason, sizeof(run->reason), "node exited with status %d",
                 WEXITSTATUS(status));
}

/* ---- venue rows: driver ---- */

typedef struct {
    bool ran;     /* venue in the table and row selected */
    bool failed;  /* sign failed or gave a wrong signature: exit status 1 */
    char *output; /* the signed request, for the ccxt signature check */
    bench_stats st;
    double ratio; /* median / reference median */
    char verdict[16];
    char error[320];
} venue_result;

static void fail_with_errno(venue_result *vr, const char *stage)
{
    vr->failed = true;
    snprintf(vr->error, sizeof(vr->error), "%s: %s: %s", stage, sigil_err_code(sigil_errno()),
             sigil_errmsg());
}

static const sigil_venue *venue_in_table(const char *name)
{
    for (const sigil_venue *const *v = sigil_venue_all(); *v != NULL; v++)
        if (strcmp((*v)->name, name) == 0)
            return *v;
    return NULL;
}

/* SIGIL_BENCH_ONLY=id,id,... limits the venue rows (for profiling one row). */
static bool selected(const char *id)
{
    const char *p = getenv("SIGIL_BENCH_ONLY");
    size_t n = strlen(id);
    if (p == NULL || p[0] == '\0')
        return true;
    for (; *p != '\0'; p += strcspn(p, ","), p += *p == ',') {
        if (strncmp(p, id, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
    }
    return false;
}

static void progress(const char *what)
{
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K  measuring %s ...", what);
}

/* Signs once and checks the answer against the reference signature, then
 * measures. The credentials are parsed once, as a service holds them. */
static void run_sample(venue_result *vr, const bench_sample *s, const sigil_venue *v,
                       const bench_opts *opt)
{
    static uint8_t out_mem[OUT_CAP];
    venue_state st = {.venue = v, .request = s->request, .request_len = strlen(s->request)};
    sigil_buf_init(&st.out, out_mem, sizeof(out_mem));
    vr->ran = true;
    progress(s->id);
    if (sigil_credentials_parse(&st.cred, v, s->cred, strlen(s->cred)) != 0) {
        fail_with_errno(vr, "credentials");
        return;
    }
    if (venue_sign(&st) != 0) {
        fail_with_errno(vr, "sign");
    } else if ((vr->output = strndup((const char *)st.out.data, st.out.len)) == NULL) {
        vr->failed = true;
        snprintf(vr->error, sizeof(vr->error), "out of memory");
    } else if (strstr(vr->output, s->expect) == NULL) {
        vr->failed = true;
        snprintf(vr->error, sizeof(vr->error), "wrong signature (want %.40s...); output: %.200s",
                 s->expect, vr->output);
    } else if (measure(&vr->st, venue_sign, &st, opt) != 0) {
        fail_with_errno(vr, "sign (during the run)");
    }
    sigil_credentials_free(&st.cred);
}

/* Ratio to the reference and PASS/MISS for the two acceptance targets. */
static bool judge(venue_result *vr, const bench_sample *s, const bench_stats *refs)
{
    vr->ratio = vr->st.median_ns / refs[s->ref].median_ns;
    bool pass = true;
    switch (s->target) {
    case TARGET_HL_ORDER:
        pass = vr->ratio <= HL_ORDER_MAX_RATIO;
        snprintf(vr->verdict, sizeof(vr->verdict), "<=1.3x %s", pass ? "PASS" : "MISS");
        break;
    case TARGET_HMAC_3US:
        pass = vr->st.median_ns <= HMAC_MAX_NS;
        snprintf(vr->verdict, sizeof(vr->verdict), "<=3us %s", pass ? "PASS" : "MISS");
        break;
    case TARGET_NONE:
        vr->verdict[0] = '\0';
        break;
    default:
        snprintf(vr->verdict, sizeof(vr->verdict), "?");
        break;
    }
    return pass;
}

/* ---- report ---- */

static void print_machine(const bench_opts *opt, int pinned_cpu)
{
    char line[512], model[256] = "unknown";
    int logical = 0;
    double load = -1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "processor", 9) == 0)
            logical++;
        if (colon != NULL && strncmp(line, "model name", 10) == 0 && logical == 1) {
            snprintf(model, sizeof(model), "%s", colon + 2);
            model[strcspn(model, "\n")] = '\0';
        }
    }
    if (f != NULL)
        fclose(f);
    if ((f = fopen("/proc/loadavg", "r")) != NULL) {
        if (fscanf(f, "%lf", &load) != 1)
            load = -1;
        fclose(f);
    }
    struct utsname u;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof(u));
    printf("sigil-bench: in-process signing time per request, one thread\n");
    printf("machine : %s; %d logical CPUs (%ld online); %s %s %s; load average %.2f\n", model,
           logical, sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, u.machine, load);
    printf("build   : %s, cc %s; libsecp256k1 %s, libsodium %s, %s\n", SIGIL_BENCH_BUILD_TYPE,
           __VERSION__, SIGIL_BENCH_SECP256K1_VERSION, sodium_version_string(),
           OpenSSL_version(OPENSSL_VERSION));
    printf("method  : per row %zu calls after a %zu-call warm-up, timed (CLOCK_MONOTONIC) in "
           "batches of %zu; median and p99 of the per-call batch means; %s\n",
           opt->iters, warmup_calls(opt), opt->batch,
           pinned_cpu >= 0 ? "pinned to one CPU" : "not pinned");
    if (strcmp(SIGIL_BENCH_BUILD_TYPE, "Release") != 0 &&
        strcmp(SIGIL_BENCH_BUILD_TYPE, "RelWithDebInfo") != 0)
        printf("WARNING : not an optimised build; these numbers say little\n");
}

/* Microseconds, three decimals below 100 us. */
static void us(char *dst, size_t cap, double ns)
{
    snprintf(dst, cap, ns >= 100000.0 ? "%.0f" : "%.3f", ns / 1000.0);
}

#define ROW_FMT "%-50s %7s %9s %9s  %-9s %6s  %-11s | %7s %9s %9s %10s  %s\n"
static void print_rule(void)
{
    char rule[161];
    memset(rule, '-', sizeof(rule) - 1);
    rule[sizeof(rule) - 1] = '\0';
    puts(rule);
}

static void print_header(void)
{
    printf("\n" ROW_FMT, "", "", "sigil", "", "", "", "", "", "ccxt", "", "", "");
    printf(ROW_FMT, "row (times: us per call)", "n", "median", "p99", "reference", "x ref",
           "target", "n", "median", "p99", "ccxt/sigil", "same sig");
    print_rule();
}

static void print_ref_row(const char *label, const bench_stats *st)
{
    char n[24], m[32], p[32];
    snprintf(n, sizeof(n), "%zu", st->n);
    us(m, sizeof(m), st->median_ns);
    us(p, sizeof(p), st->p99_ns);
    printf(ROW_FMT, label, n, m, p, "", "", "", "", "", "", "", "");
}

static void print_venue_row(const bench_sample *s, const venue_result *vr, const ccxt_result *cx,
                            const ccxt_run *run)
{
    char label[96], n[24], m[32], p[32], rx[16], cn[24] = "", cm[32] = "", cp[32] = "", sp[16] = "";
    snprintf(label, sizeof(label), "%-13s %s", s->venue, s->what);
    if (vr->failed) {
        printf("%-50s FAILED: %s\n", label, vr->error);
        return;
    }
    snprintf(n, sizeof(n), "%zu", vr->st.n);
    us(m, sizeof(m), vr->st.median_ns);
    us(p, sizeof(p), vr->st.p99_ns);
    snprintf(rx, sizeof(rx), "%.2f", vr->ratio);
    const char *same = "";
    if (cx->done) {
        snprintf(cn, sizeof(cn), "%zu", cx->st.n);
        us(cm, sizeof(cm), cx->st.median_ns);
        us(cp, sizeof(cp), cx->st.p99_ns);
        snprintf(sp, sizeof(sp), "%.1f", cx->st.median_ns / vr->st.median_ns);
        same = strstr(vr->output, cx->check) != NULL ? "yes" : "NO: not the same request";
    } else if (run->available) {
        same = cx->note[0] != '\0' ? cx->note : "ccxt: no result";
    }
    printf(ROW_FMT, label, n, m, p, REFS[s->ref].short_name, rx, vr->verdict, cn, cm, cp, sp, same);
}

/* One line per target: the verdict and the numbers behind it. */
static void print_targets(const venue_result *vr, const bench_stats *refs)
{
    static const struct {
        target_kind kind;
        const char *what;
    } TARGETS[] = {
        {TARGET_HL_ORDER, "hyperliquid order <= 1.3x raw secp256k1 sign"},
        {TARGET_HMAC_3US, "HMAC venues <= 3 us median"},
    };
    for (size_t t = 0; t < SIGIL_ARRAY_LEN(TARGETS); t++) {
        char detail[512] = "";
        size_t len = 0;
        int rows = 0, miss = 0;
        for (size_t i = 0; i < SIGIL_ARRAY_LEN(SAMPLES); i++) {
            if (SAMPLES[i].target != TARGETS[t].kind || !vr[i].ran)
                continue;
            rows++;
            miss += vr[i].failed || strstr(vr[i].verdict, "MISS") != NULL;
            int w = vr[i].failed
                        ? snprintf(detail + len, sizeof(detail) - len, "%s%s FAILED",
                                   rows > 1 ? ", " : "", SAMPLES[i].id)
                        : snprintf(detail + len, sizeof(detail) - len, "%s%s %.3f us (%.2fx)",
                                   rows > 1 ? ", " : "", SAMPLES[i].id, vr[i].st.median_ns / 1000.0,
                                   vr[i].ratio);
            len = w > 0 && (size_t)w < sizeof(detail) - len ? len + (size_t)w : len;
        }
        printf("target  : %s: %s%s%s\n", TARGETS[t].what,
               rows == 0  ? "not measured"
               : miss > 0 ? "MISS"
                          : "PASS",
               rows > 0 ? " -- " : "", detail);
    }
    printf("          (raw secp256k1 sign %.3f us, raw HMAC-SHA256 %.3f us)\n",
           refs[REF_SECP256K1].median_ns / 1000.0, refs[REF_HMAC].median_ns / 1000.0);
}

static void print_notes(const ccxt_run *run, const ccxt_result *cx, const venue_result *vr,
                        const bench_stats *refs, const bench_opts *opt)
{
    print_rule();
    printf(
        "columns : x ref = sigil median / reference median (wallet venues: raw secp256k1 "
        "sign; HMAC venues: raw HMAC); ccxt/sigil = ccxt median / sigil median; same sig = ccxt's "
        "signature is in sigil's output (same request, same bytes signed)\n");
    for (const sigil_venue *const *v = sigil_venue_all(); *v != NULL; v++) {
        bool has = false;
        for (size_t i = 0; i < SIGIL_ARRAY_LEN(SAMPLES); i++)
            has = has || strcmp(SAMPLES[i].venue, (*v)->name) == 0;
        if (!has)
            printf("skipped : %s (in the venue table, no sample in sigil_bench.c)\n", (*v)->name);
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SAMPLES); i++)
        if (venue_in_table(SAMPLES[i].venue) == NULL &&
            (i == 0 || strcmp(SAMPLES[i].venue, SAMPLES[i - 1].venue) != 0))
            printf("skipped : %s (not in the venue table)\n", SAMPLES[i].venue);
    if (run->available)
        printf("ccxt    : %s, in-process (%s): exchange.sign(path, api, method, params), clock "
               "frozen; hyperliquid signL1Action / buildUsdSendSig; eip712 and eip191 through "
               "ccxt's own EIP-712 / Keccak / ECDSA helpers (no ccxt exchange signs them); ccxt "
               "is handed parsed params, sigil parses the request text\n",
               run->info, SIGIL_BENCH_SCRIPT);
    else
        printf("ccxt    : unavailable (%s)\n", run->reason);
    if (opt->iters < MIN_ACCEPTED_ITERS)
        printf("note    : SIGIL_BENCH_ITERS=%zu is below the %d calls per row the acceptance "
               "asks for\n",
               opt->iters, MIN_ACCEPTED_ITERS);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SAMPLES); i++)
        if (vr[i].ran && !vr[i].failed && vr[i].st.n < opt->iters)
            printf("note    : %s: %zu calls only (time budget SIGIL_BENCH_BUDGET=%g s)\n",
                   SAMPLES[i].id, vr[i].st.n, opt->budget_s);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SAMPLES); i++)
        if (cx[i].done && cx[i].st.n < opt->iters)
            printf("note    : ccxt %s: %zu calls only (time budget SIGIL_BENCH_BUDGET=%g s)\n",
                   SAMPLES[i].id, cx[i].st.n, opt->budget_s);
    print_targets(vr, refs);
}

/* ---- per-request overheads: what POST /v1/sign adds around sigil_sign ----
 * The enclave re-reads the key's policy from the opened blob, checks the
 * client's signature, classifies, inspects and evaluates the request, admits
 * it against the key's limits and signs a receipt; the gateway chains the
 * audit row. Each row below is one of those steps, called the way
 * src/enclave/sign.c and src/gateway/store_*.c call them, and checked once
 * (the evaluation allows, the client signature verifies, the receipt and
 * the row hash match an independent computation) before it is timed. */

#define OH_TENANT "bench"
#define OH_KEY_ID "0123456789abcdef0123456789abcdef"
#define OH_NOT_AFTER "4102444800" /* 2100-01-01: the policies never expire during a run */
/* High enough never to bind: admit is timed on its full path (buckets and the
 * day's sum updated), never on a denial. */
#define OH_LIMITS                                                                                  \
    "\"limits\":{\"requests_per_minute\":1000000,\"orders_per_minute\":1000000,"                   \
    "\"daily_notional\":\"1000000000000\"}"
#define OH_ADDR_A "0x8ba1f109551bd432803012645ac136ddd64dba72"
#define OH_ADDR_B "0x5e9ee1089755c3435139848e47e6635505d5a13a"

/* docs/POLICY.md's example, grown to a realistic size: BTCUSDT is neither the
 * first nor the last of eight symbols. */
static const char OH_BINANCE_POLICY[] =
    "{\"version\":3,\"tenant\":\"" OH_TENANT "\",\"venue\":\"binance\",\"network\":\"mainnet\","
    "\"actions\":[\"order\",\"cancel\",\"modify\",\"read\",\"withdraw\"],"
    "\"not_before\":1700000000,\"not_after\":" OH_NOT_AFTER ",\"skew_ms\":5000,"
    "\"http\":{\"methods\":[\"GET\",\"POST\",\"DELETE\"],"
    "\"allow_paths\":[\"/api/v3/\",\"/sapi/v1/capital/withdraw/apply\"],"
    "\"deny_paths\":[\"/sapi/v1/sub-account/\",\"/api/v3/order/oco\"]},"
    "\"symbols\":{\"ETHUSDT\":{\"max_qty\":\"10\",\"reduce_only\":true},"
    "\"SOLUSDT\":{\"max_qty\":\"500\",\"max_notional\":\"100000\"},"
    "\"BNBUSDT\":{\"max_qty\":\"100\",\"max_notional\":\"100000\"},"
    "\"BTCUSDT\":{\"max_qty\":\"0.5\",\"max_notional\":\"50000\",\"size_decimals\":5,"
    "\"sides\":[\"buy\",\"sell\"]},"
    "\"XRPUSDT\":{\"max_qty\":\"100000\",\"max_notional\":\"100000\"},"
    "\"DOGEUSDT\":{\"max_qty\":\"1000000\",\"max_notional\":\"100000\"},"
    "\"ADAUSDT\":{\"max_qty\":\"100000\",\"max_notional\":\"100000\"},"
    "\"LINKUSDT\":{\"max_qty\":\"10000\",\"max_notional\":\"100000\"}},"
    "\"destinations\":[\"" OH_ADDR_A "\",\"" OH_ADDR_B "\"]," OH_LIMITS "}";

/* Hyperliquid: asset "0" (BTC) among four, vaults, user actions, agents. */
static const char OH_HL_POLICY[] =
    "{\"version\":3,\"tenant\":\"" OH_TENANT "\",\"venue\":\"hyperliquid\",\"network\":\"mainnet\","
    "\"actions\":[\"order\",\"cancel\",\"modify\",\"transfer\"],"
    "\"not_after\":" OH_NOT_AFTER ","
    "\"symbols\":{\"1\":{\"max_qty\":\"100\",\"max_notional\":\"500000\",\"size_decimals\":4},"
    "\"0\":{\"max_qty\":\"1\",\"max_notional\":\"100000\",\"size_decimals\":5,"
    "\"sides\":[\"buy\",\"sell\"]},"
    "\"5\":{\"max_qty\":\"10000\",\"max_notional\":\"100000\",\"size_decimals\":2},"
    "\"10000\":{\"max_qty\":\"1000\",\"max_notional\":\"100000\"}},"
    "\"destinations\":[\"" OH_ADDR_B "\"],\"agents\":[\"" OH_ADDR_A "\"],"
    "\"hyperliquid\":{\"vaults\":[\"" OH_ADDR_A "\"],\"user_actions\":[\"usdSend\"]}," OH_LIMITS
    "}";

/* RFC 8785 form of BINANCE_REQUEST, written by hand (members sorted): the
 * client-signature row's independent check hashes these bytes. */
#define BINANCE_REQUEST_JCS                                                                        \
    "{\"body\":\"" BINANCE_BODY                                                                    \
    "\",\"method\":\"POST\",\"path\":\"/api/v3/order\",\"query\":\"\","                            \
    "\"recv_window\":5000,\"timestamp\":" TS "}"
#define OH_CLIENT_NONCE "bench-nonce-0000000000000001"
#define OH_CLIENT_MSG_MAX                                                                          \
    (SIGIL_REQUEST_SIG_PREFIX_LEN + 4 + SIGIL_KEY_ID_HEX + 32 + 8 + 4 + SIGIL_CLIENT_NONCE_MAX)

typedef enum {
    OH_POLICY_PARSE,
    OH_POLICY_PARSE_HL,
    OH_POLICY_BINANCE,
    OH_POLICY_HL,
    OH_LIMITS_ADMIT,
    OH_CLIENT,
    OH_RECEIPT,
    OH_AUDIT,
    OH_AUDIT_APPEND,
    OH_REF_VERIFY,
    OH_COUNT_,
} oh_kind;

/* Which rows each request pays for (the two policy rows are alternatives). */
enum { OH_IN_BINANCE = 1, OH_IN_HL = 2, OH_IN_BOTH = 3 };

static const struct {
    const char *id; /* for SIGIL_BENCH_ONLY */
    const char *label;
    unsigned in_sum;
} OH_ROWS[OH_COUNT_] = {
    [OH_POLICY_PARSE] = {"policy-parse",
                         "policy: parse + canonical hash, binance policy (once per key and "
                         "enclave worker: then cached by hash)",
                         0},
    [OH_POLICY_PARSE_HL] = {"policy-parse-hyperliquid",
                            "policy: parse + canonical hash, hyperliquid policy (cached the same)",
                            0},
    [OH_POLICY_BINANCE] = {"policy-binance",
                           "policy: classify+inspect+evaluate+time (binance order, policy with "
                           "http, symbols, destinations, limits)",
                           OH_IN_BINANCE},
    [OH_POLICY_HL] = {"policy-hyperliquid",
                      "policy: the same for a hyperliquid order (symbols, vaults, user actions, "
                      "agents, limits)",
                      OH_IN_HL},
    [OH_LIMITS_ADMIT] = {"limits", "limits admit (rates + daily notional, one key)", OH_IN_BOTH},
    [OH_CLIENT] = {"client-sig",
                   "client signature check (JCS request hash + message + Ed25519 verify)",
                   OH_IN_BOTH},
    [OH_RECEIPT] = {"receipt", "receipt (canonical + chain hash + Ed25519 sign + wire)",
                    OH_IN_BOTH},
    [OH_AUDIT] = {"audit-hash", "audit row (record check + chain hash, with the receipt)", 0},
    [OH_AUDIT_APPEND] = {"audit-append",
                         "audit append: that row committed to SQLite (WAL, synchronous=NORMAL, a "
                         "transaction per row)",
                         OH_IN_BOTH},
    [OH_REF_VERIFY] = {"ref-ed25519-verify", "reference: raw Ed25519 verify (libsodium), 156 B", 0},
};

typedef struct {
    sigil_policy policy; /* the binance one; evaluation and limits use it */
    sigil_policy hl_policy;
    sigil_policy scratch; /* the parse row's output */
    sigil_request_info info;
    sigil_policy_cost cost;
    const char *venue, *request;
    size_t request_len;
    const sigil_policy *evaluated;
    sigil_limits *limits;
    uint64_t admitted;
    /* client signature */
    uint8_t client_pk[32], client_sig[64];
    uint64_t client_ts;
    /* receipt */
    sigil_receipt receipt;
    uint8_t receipt_pk[32], receipt_sk[64];
    uint8_t canon_mem[SIGIL_RECEIPT_MAX_BYTES];
    uint8_t msg_mem[SIGIL_RECEIPT_SIG_PREFIX_LEN + SIGIL_RECEIPT_MAX_BYTES];
    uint8_t wire_mem[SIGIL_RECEIPT_MAX_BYTES + 160];
    sigil_buf canon, wire;
    /* audit */
    sigil_audit_record audit;
    char audit_receipt[SIGIL_RECEIPT_MAX_BYTES + 160]; /* a copy of one wire receipt */
    uint8_t audit_prev[32], audit_hash[32];
    uint64_t audit_seq;
    sigil_store *store; /* audit-append: a SQLite store in store_dir */
    char store_dir[64];
    /* reference */
    uint8_t ref_pk[32], ref_sig[64];
} oh_state;

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int oh_policy_parse(void *arg)
{
    oh_state *s = arg;
    return sigil_policy_parse(&s->scratch, OH_BINANCE_POLICY, sizeof(OH_BINANCE_POLICY) - 1);
}

static int oh_policy_parse_hl(void *arg)
{
    oh_state *s = arg;
    return sigil_policy_parse(&s->scratch, OH_HL_POLICY, sizeof(OH_HL_POLICY) - 1);
}

/* decide() in src/enclave/sign.c without the client check and the limits:
 * classification, inspection, every rule, the request's time. */
static int oh_policy_eval(void *arg)
{
    oh_state *s = arg;
    sigil_action act;
    uint64_t t;
    GUARD(sigil_request_action(&act, s->venue, s->request, s->request_len));
    GUARD(sigil_request_inspect(&s->info, s->venue, act, s->request, s->request_len));
    sigil_policy_input in = {.venue = s->venue,
                             .network = SIGIL_NET_MAINNET,
                             .action = act,
                             .info = &s->info,
                             .now_ms = wall_ms()};
    GUARD(sigil_policy_evaluate(s->evaluated, &in, &s->cost));
    return sigil_request_time_ms(&t, s->venue, s->request, s->request_len);
}

/* The clock runs one extra millisecond per call so that the buckets refill
 * faster than any run drains them (10^6 per minute is the policy maximum). */
static int oh_limits(void *arg)
{
    oh_state *s = arg;
    return sigil_limits_admit(s->limits, OH_TENANT, OH_KEY_ID, &s->policy, &s->cost,
                              wall_ms() + s->admitted++);
}

/* check_client() in src/enclave/sign.c, without the replay cache. */
static int oh_client(void *arg)
{
    oh_state *s = arg;
    uint8_t h[32], mem[OH_CLIENT_MSG_MAX];
    sigil_buf msg;
    GUARD(sigil_request_hash(h, BINANCE_REQUEST, sizeof(BINANCE_REQUEST) - 1));
    sigil_buf_init(&msg, mem, sizeof(mem));
    GUARD(sigil_client_message(&msg, OH_KEY_ID, h, s->client_ts, OH_CLIENT_NONCE,
                               sizeof(OH_CLIENT_NONCE) - 1));
    return crypto_sign_verify_detached(s->client_sig, msg.data, msg.len, s->client_pk) == 0 ? 0
                                                                                            : -1;
}

/* enclave_receipt() in src/enclave/receipts.c: number and chain, sign, wire. */
static int oh_receipt(void *arg)
{
    oh_state *s = arg;
    sigil_buf msg;
    uint8_t sig[crypto_sign_BYTES];
    s->receipt.seq++;
    s->receipt.time_ms = wall_ms();
    s->canon.len = 0;
    GUARD(sigil_receipt_canonical(&s->canon, &s->receipt));
    sigil_sha256(s->receipt.prev, s->canon.data, s->canon.len);
    sigil_buf_init(&msg, s->msg_mem, sizeof(s->msg_mem));
    GUARD(sigil_receipt_message(&msg, s->canon.data, s->canon.len));
    if (crypto_sign_detached(sig, NULL, msg.data, msg.len, s->receipt_sk) != 0)
        return -1;
    s->wire.len = 0;
    return sigil_receipt_wire(&s->wire, s->canon.data, s->canon.len, sig);
}

/* What the SQLite store does per row before the INSERT. */
static int oh_audit(void *arg)
{
    oh_state *s = arg;
    GUARD(sigil_audit_record_check(&s->audit));
    GUARD(sigil_audit_hash(s->audit_hash, s->audit_prev, ++s->audit_seq, &s->audit));
    memcpy(s->audit_prev, s->audit_hash, 32);
    return 0;
}

/* The gateway's own call (src/gateway/handlers_audited.c): record check,
 * group-commit leader, BEGIN IMMEDIATE, chain head read, insert, COMMIT. */
static int oh_audit_append(void *arg)
{
    oh_state *s = arg;
    return s->store->ops->record_outcome(s->store, &s->audit, NULL, NULL);
}

static int oh_ref_verify(void *arg)
{
    oh_state *s = arg;
    return crypto_sign_verify_detached(s->ref_sig, (const uint8_t *)REF_MSG, sizeof(REF_MSG) - 1,
                                       s->ref_pk) == 0
               ? 0
               : -1;
}

static const bench_op OH_OPS[OH_COUNT_] = {
    [OH_POLICY_PARSE] = oh_policy_parse,
    [OH_POLICY_PARSE_HL] = oh_policy_parse_hl,
    [OH_POLICY_BINANCE] = oh_policy_eval,
    [OH_POLICY_HL] = oh_policy_eval,
    [OH_LIMITS_ADMIT] = oh_limits,
    [OH_CLIENT] = oh_client,
    [OH_RECEIPT] = oh_receipt,
    [OH_AUDIT] = oh_audit,
    [OH_AUDIT_APPEND] = oh_audit_append,
    [OH_REF_VERIFY] = oh_ref_verify,
};

typedef struct {
    bool ran, failed;
    bench_stats st;
    char error[320];
} oh_result;

static void oh_fail(oh_result *res, const char *what)
{
    res->failed = true;
    snprintf(res->error, sizeof(res->error), "%s: %s: %s", what, sigil_err_code(sigil_errno()),
             sigil_errmsg());
}

/* The evaluation must allow, and price the order as the policy caps it. */
static int oh_check_eval(oh_state *s, oh_result *res, const char *venue, const char *request,
                         const sigil_policy *p, const char *want_notional)
{
    sigil_dec want;
    s->venue = venue;
    s->request = request;
    s->request_len = strlen(request);
    s->evaluated = p;
    if (oh_policy_eval(s) != 0) {
        oh_fail(res, "evaluation (must allow)");
        return -1;
    }
    if (sigil_dec_parse(&want, want_notional, strlen(want_notional), "notional") != 0 ||
        s->cost.orders != 1 || !s->cost.has_notional || sigil_dec_cmp(&s->cost.notional, &want)) {
        res->failed = true;
        snprintf(res->error, sizeof(res->error), "evaluation: cost is not 1 order of %s",
                 want_notional);
        return -1;
    }
    return 0;
}

/* A client signature made with libsodium over the message docs/POLICY.md
 * describes (hand-written JCS form, hand-built message) must verify through
 * Sigil's path, and a changed one must not. */
static int oh_check_client(oh_state *s, oh_result *res)
{
    uint8_t seed[32], sk[64], h[32], msg[OH_CLIENT_MSG_MAX];
    size_t n = 0, klen = sizeof(OH_KEY_ID) - 1, nlen = sizeof(OH_CLIENT_NONCE) - 1;
    memset(seed, 0x42, sizeof(seed));
    crypto_sign_seed_keypair(s->client_pk, sk, seed);
    s->client_ts = 1700000000123u;
    crypto_hash_sha256(h, (const uint8_t *)BINANCE_REQUEST_JCS, sizeof(BINANCE_REQUEST_JCS) - 1);
    memcpy(msg, SIGIL_REQUEST_SIG_PREFIX, SIGIL_REQUEST_SIG_PREFIX_LEN);
    n = SIGIL_REQUEST_SIG_PREFIX_LEN;
    for (int i = 3; i >= 0; i--)
        msg[n++] = (uint8_t)(klen >> (8 * i));
    memcpy(msg + n, OH_KEY_ID, klen);
    n += klen;
    memcpy(msg + n, h, 32);
    n += 32;
    for (int i = 7; i >= 0; i--)
        msg[n++] = (uint8_t)(s->client_ts >> (8 * i));
    for (int i = 3; i >= 0; i--)
        msg[n++] = (uint8_t)(nlen >> (8 * i));
    memcpy(msg + n, OH_CLIENT_NONCE, nlen);
    n += nlen;
    crypto_sign_detached(s->client_sig, NULL, msg, n, sk);
    sodium_memzero(sk, sizeof(sk));
    if (oh_client(s) != 0) {
        oh_fail(res, "client signature (must verify)");
        return -1;
    }
    s->client_sig[0] ^= 1;
    bool forged = oh_client(s) == 0;
    s->client_sig[0] ^= 1;
    if (forged) {
        res->failed = true;
        snprintf(res->error, sizeof(res->error), "client signature: a changed one verifies");
        return -1;
    }
    return 0;
}

static int oh_receipt_init(oh_state *s)
{
    uint8_t seed[32];
    sigil_receipt *r = &s->receipt;
    memset(seed, 0x24, sizeof(seed));
    crypto_sign_seed_keypair(s->receipt_pk, s->receipt_sk, seed);
    memset(r, 0, sizeof(*r));
    randombytes_buf(r->boot_id, sizeof(r->boot_id));
    randombytes_buf(r->measurement, sizeof(r->measurement));
    snprintf(r->mode, sizeof(r->mode), "dev");
    snprintf(r->tenant, sizeof(r->tenant), OH_TENANT);
    snprintf(r->key_id, sizeof(r->key_id), OH_KEY_ID);
    snprintf(r->venue, sizeof(r->venue), "binance");
    snprintf(r->network, sizeof(r->network), "mainnet");
    snprintf(r->action, sizeof(r->action), "order");
    GUARD(sigil_request_hash(r->request_hash, BINANCE_REQUEST, sizeof(BINANCE_REQUEST) - 1));
    memcpy(r->policy_hash, s->policy.hash, 32);
    r->allow = true;
    sigil_sha256(r->output_hash, "the signed request", 18);
    sigil_buf_init(&s->canon, s->canon_mem, sizeof(s->canon_mem));
    sigil_buf_init(&s->wire, s->wire_mem, sizeof(s->wire_mem));
    return 0;
}

/* The wire receipt verifies with sigil_receipt_verify, and with libsodium
 * alone over the prefix and the wire text without its signature member. */
static int oh_check_receipt(oh_state *s, oh_result *res)
{
    static const char member[] = ",\"signature\":\"";
    static uint8_t m[SIGIL_RECEIPT_SIG_PREFIX_LEN + SIGIL_RECEIPT_MAX_BYTES];
    sigil_receipt back;
    uint8_t h[32], sig[64];
    if (oh_receipt(s) != 0 || sigil_buf_cstr(&s->wire) != 0) {
        oh_fail(res, "receipt");
        return -1;
    }
    const char *w = (const char *)s->wire.data, *at = strstr(w, member);
    size_t n = at != NULL ? (size_t)(at - w) : 0;
    bool ok = at != NULL && n + 1 <= SIGIL_RECEIPT_MAX_BYTES &&
              sigil_hex_decode_exact(sig, 64, at + sizeof(member) - 1, 128, false, "sig") == 0;
    if (ok) {
        memcpy(m, SIGIL_RECEIPT_SIG_PREFIX, SIGIL_RECEIPT_SIG_PREFIX_LEN);
        memcpy(m + SIGIL_RECEIPT_SIG_PREFIX_LEN, w, n);
        m[SIGIL_RECEIPT_SIG_PREFIX_LEN + n] = '}';
        ok = crypto_sign_verify_detached(sig, m, SIGIL_RECEIPT_SIG_PREFIX_LEN + n + 1,
                                         s->receipt_pk) == 0;
    }
    if (!ok || sigil_receipt_verify(&back, h, w, s->wire.len, s->receipt_pk) != 0 ||
        back.seq != 1 || !back.allow) {
        res->failed = true;
        snprintf(res->error, sizeof(res->error), "receipt does not verify: %.200s", w);
        return -1;
    }
    return 0;
}

/* F(x) of docs/API.md "The hash chain". */
static void oh_field(crypto_hash_sha256_state *h, const void *p, size_t n)
{
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    crypto_hash_sha256_update(h, len, 4);
    crypto_hash_sha256_update(h, p, n);
}

static void oh_field_u64(crypto_hash_sha256_state *h, uint64_t v)
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(v >> (56 - 8 * i));
    oh_field(h, be, 8);
}

/* The row hash of seq 1 recomputed from docs/API.md with libsodium. */
static int oh_check_audit(oh_state *s, oh_result *res)
{
    sigil_audit_record *a = &s->audit;
    crypto_hash_sha256_state h;
    uint8_t want[32], zero[32] = {0};
    if (s->wire.len == 0 && oh_receipt(s) != 0) {
        oh_fail(res, "receipt (for the audit row)");
        return -1;
    }
    s->audit_seq = 0; /* the chain starts over: this row is seq 1 */
    memset(s->audit_prev, 0, sizeof(s->audit_prev));
    memcpy(s->audit_receipt, s->wire.data, s->wire.len);
    *a = (sigil_audit_record){.time_ms = (int64_t)wall_ms(),
                              .tenant = OH_TENANT,
                              .key_id = OH_KEY_ID,
                              .op = "sign",
                              .action = "order",
                              .decision = "allow",
                              .http_status = 200,
                              .request_hash = s->receipt.request_hash,
                              .output_hash = s->receipt.output_hash,
                              .receipt = s->audit_receipt,
                              .receipt_len = s->wire.len};
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)SIGIL_AUDIT_HASH_TAG,
                              sizeof(SIGIL_AUDIT_HASH_TAG));
    crypto_hash_sha256_update(&h, zero, 32);
    oh_field_u64(&h, 1);
    oh_field_u64(&h, (uint64_t)a->time_ms);
    oh_field(&h, OH_TENANT, strlen(OH_TENANT));
    oh_field(&h, OH_KEY_ID, strlen(OH_KEY_ID));
    oh_field(&h, "sign", 4);
    oh_field(&h, "order", 5);
    oh_field(&h, "allow", 5);
    oh_field_u64(&h, 200);
    oh_field(&h, "", 0);
    oh_field(&h, a->request_hash, 32);
    oh_field(&h, a->output_hash, 32);
    oh_field(&h, a->receipt, a->receipt_len);
    crypto_hash_sha256_final(&h, want);
    if (oh_audit(s) != 0) {
        oh_fail(res, "audit row");
        return -1;
    }
    if (memcmp(want, s->audit_hash, 32) != 0) {
        res->failed = true;
        snprintf(res->error, sizeof(res->error), "audit row hash differs from docs/API.md's");
        return -1;
    }
    return 0;
}

static void oh_store_close(oh_state *s)
{
    static const char *const FILES[] = {"audit.db", "audit.db-wal", "audit.db-shm"};
    char path[96];
    if (s->store != NULL)
        s->store->ops->close(s->store);
    s->store = NULL;
    if (s->store_dir[0] == '\0')
        return;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(FILES); i++) {
        snprintf(path, sizeof(path), "%s/%s", s->store_dir, FILES[i]);
        (void)unlink(path);
    }
    (void)rmdir(s->store_dir);
    s->store_dir[0] = '\0';
}

/* A fresh store in a temporary directory; one append must leave the row of
 * the audit-hash row's check as the chain head (seq 1, the same hash). */
static int oh_check_append(oh_state *s, oh_result *res)
{
    char path[96];
    uint8_t want[32], head[32], zero[32] = {0};
    uint64_t seq = 0;
    GUARD(oh_check_audit(s, res));
    snprintf(s->store_dir, sizeof(s->store_dir), "%s", "/tmp/sigil-bench-XXXXXX");
    if (mkdtemp(s->store_dir) == NULL) {
        s->store_dir[0] = '\0';
        res->failed = true;
        snprintf(res->error, sizeof(res->error), "mkdtemp: %s", strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/audit.db", s->store_dir);
    if (sigil_store_open_sqlite(&s->store, path) != 0 ||
        sigil_store_sqlite_set_sync(s->store, false) != 0 || oh_audit_append(s) != 0 ||
        s->store->ops->audit_head(s->store, &seq, head) != 0 ||
        sigil_audit_hash(want, zero, 1, &s->audit) != 0) {
        oh_fail(res, "audit append");
        oh_store_close(s);
        return -1;
    }
    if (seq != 1 || memcmp(want, head, 32) != 0) {
        res->failed = true;
        snprintf(res->error, sizeof(res->error), "audit append: the stored head is not the row");
        oh_store_close(s);
        return -1;
    }
    return 0;
}

/* Parses both policies, makes the keys and the limits table. */
static int oh_setup(oh_state *s)
{
    uint8_t seed[32], sk[64];
    memset(s, 0, sizeof(*s));
    GUARD(sigil_policy_parse(&s->policy, OH_BINANCE_POLICY, sizeof(OH_BINANCE_POLICY) - 1));
    GUARD(sigil_policy_parse(&s->hl_policy, OH_HL_POLICY, sizeof(OH_HL_POLICY) - 1));
    GUARD(sigil_limits_new(&s->limits));
    GUARD(oh_receipt_init(s));
    memset(seed, 0x33, sizeof(seed));
    crypto_sign_seed_keypair(s->ref_pk, sk, seed);
    crypto_sign_detached(s->ref_sig, NULL, (const uint8_t *)REF_MSG, sizeof(REF_MSG) - 1, sk);
    sodium_memzero(sk, sizeof(sk));
    return 0;
}

/* The check a row must pass before it is timed. */
static int oh_check(oh_state *s, oh_result *res, oh_kind k)
{
    switch (k) {
    case OH_POLICY_PARSE:
        if (oh_policy_parse(s) != 0 || memcmp(s->scratch.hash, s->policy.hash, 32) != 0) {
            oh_fail(res, "policy parse");
            return -1;
        }
        return 0;
    case OH_POLICY_PARSE_HL:
        if (oh_policy_parse_hl(s) != 0 || memcmp(s->scratch.hash, s->hl_policy.hash, 32) != 0) {
            oh_fail(res, "policy parse");
            return -1;
        }
        return 0;
    case OH_POLICY_BINANCE:
        return oh_check_eval(s, res, "binance", BINANCE_REQUEST, &s->policy, "50");
    case OH_POLICY_HL:
        return oh_check_eval(s, res, "hyperliquid", sample_by_id("hyperliquid-order")->request,
                             &s->hl_policy, "50");
    case OH_LIMITS_ADMIT:
        GUARD(oh_check_eval(s, res, "binance", BINANCE_REQUEST, &s->policy, "50"));
        if (oh_limits(s) != 0) {
            oh_fail(res, "limits admit (must admit)");
            return -1;
        }
        return 0;
    case OH_CLIENT:
        return oh_check_client(s, res);
    case OH_RECEIPT:
        return oh_check_receipt(s, res);
    case OH_AUDIT:
        return oh_check_audit(s, res);
    case OH_AUDIT_APPEND:
        return oh_check_append(s, res);
    case OH_REF_VERIFY:
        if (oh_ref_verify(s) != 0) {
            oh_fail(res, "reference verify");
            return -1;
        }
        return 0;
    default:
        res->failed = true;
        snprintf(res->error, sizeof(res->error), "unknown row");
        return -1;
    }
}

static void oh_run(oh_result *res, oh_state *s, const bench_opts *opt)
{
    if (oh_setup(s) != 0) {
        for (int k = 0; k < OH_COUNT_; k++) {
            res[k].ran = selected(OH_ROWS[k].id);
            oh_fail(&res[k], "setup (policies, limits)");
        }
        return;
    }
    for (int k = 0; k < OH_COUNT_; k++) {
        if (!selected(OH_ROWS[k].id))
            continue;
        res[k].ran = true;
        progress(OH_ROWS[k].id);
        if (oh_check(s, &res[k], (oh_kind)k) == 0 && measure(&res[k].st, OH_OPS[k], s, opt) != 0)
            oh_fail(&res[k], "during the run");
    }
    oh_store_close(s);
    sigil_limits_free(s->limits);
}

/* The sum of the rows a request of one kind pays for, beside its signing row. */
static void oh_print_sum(const oh_result *res, unsigned which, const char *what,
                         const venue_result *sign_row, const char *sign_what)
{
    double sum = 0;
    char parts[256] = "";
    size_t len = 0;
    for (int k = 0; k < OH_COUNT_; k++) {
        if (!(OH_ROWS[k].in_sum & which))
            continue;
        if (!res[k].ran || res[k].failed) {
            printf("sum     : %s: not measured (%s %s)\n", what, OH_ROWS[k].id,
                   res[k].ran ? "failed" : "not selected");
            return;
        }
        sum += res[k].st.median_ns;
        int w =
            snprintf(parts + len, sizeof(parts) - len, "%s%s", len > 0 ? " + " : "", OH_ROWS[k].id);
        len = w > 0 && (size_t)w < sizeof(parts) - len ? len + (size_t)w : len;
    }
    if (sign_row == NULL || !sign_row->ran || sign_row->failed) {
        printf("sum     : %s (%s): %.3f us; the %s row was not measured\n", what, parts,
               sum / 1000.0, sign_what);
        return;
    }
    printf("sum     : %s (%s): %.3f us = %.2f x the %s row (%.3f us); policy, client signature, "
           "receipt and audit make %.0f%% of the %.3f us of both\n",
           what, parts, sum / 1000.0, sum / sign_row->st.median_ns, sign_what,
           sign_row->st.median_ns / 1000.0, 100.0 * sum / (sum + sign_row->st.median_ns),
           (sum + sign_row->st.median_ns) / 1000.0);
}

#define OH_FMT "%-106s %7s %9s %9s %10s\n"
static void oh_print(const oh_result *res, const venue_result *vr)
{
    const bench_sample *hmac = sample_by_id("binance-hmac"),
                       *hl = sample_by_id("hyperliquid-order");
    const venue_result *hmac_row = hmac != NULL ? &vr[hmac - SAMPLES] : NULL;
    const venue_result *hl_row = hl != NULL ? &vr[hl - SAMPLES] : NULL;
    bool have_hmac = hmac_row != NULL && hmac_row->ran && !hmac_row->failed;
    bool any = false;
    for (int k = 0; k < OH_COUNT_; k++)
        any = any || res[k].ran;
    if (!any)
        return;
    printf("\nper-request overheads: what POST /v1/sign adds around sigil_sign, step by step "
           "(same method; each row checked once before timing)\n");
    printf(OH_FMT, "row (times: us per call)", "n", "median", "p99", "x HMAC row");
    print_rule();
    for (int k = 0; k < OH_COUNT_; k++) {
        char n[24], m[32], p[32], x[24] = "";
        if (!res[k].ran)
            continue;
        if (res[k].failed) {
            printf("%-106s FAILED: %s\n", OH_ROWS[k].label, res[k].error);
            continue;
        }
        snprintf(n, sizeof(n), "%zu", res[k].st.n);
        us(m, sizeof(m), res[k].st.median_ns);
        us(p, sizeof(p), res[k].st.p99_ns);
        if (have_hmac)
            snprintf(x, sizeof(x), "%.2f", res[k].st.median_ns / hmac_row->st.median_ns);
        printf(OH_FMT, OH_ROWS[k].label, n, m, p, x);
    }
    print_rule();
    oh_print_sum(res, OH_IN_BINANCE, "binance HMAC order", hmac_row, "binance HMAC signing");
    oh_print_sum(res, OH_IN_HL, "hyperliquid order", hl_row, "hyperliquid order signing");
    printf("not here: the replay cache (a mutex and a hash probe in the enclave), opening the "
           "blob, the gateway<->enclave frames, the gateway's HTTP and JSON work, and the thread "
           "hand-offs between them: make bench-e2e measures them through a live stack, with "
           "each process's CPU per request\n");
}

/* ---- main ---- */

static size_t env_size(const char *name, size_t dflt)
{
    const char *v = getenv(name);
    char *end = NULL;
    unsigned long long n = v != NULL ? strtoull(v, &end, 10) : 0;
    return v != NULL && end != v && *end == '\0' && n > 0 ? (size_t)n : dflt;
}

static void run_refs(bench_stats *st, const bench_opts *opt)
{
    ref_state r;
    if (ref_init(&r) != 0) {
        fprintf(stderr, "sigil-bench: cannot set up the reference primitives\n");
        exit(1);
    }
    for (int k = 0; k < REF_COUNT_; k++) {
        progress(REFS[k].label);
        if (measure(&st[k], REFS[k].op, &r, opt) != 0) {
            fprintf(stderr, "sigil-bench: reference %s failed\n", REFS[k].label);
            exit(1);
        }
    }
    secp256k1_context_destroy(r.secp);
    EVP_PKEY_free(r.rsa);
}

/* SIGIL_BENCH_PROFILE=<id>: only sigil_sign for that row, SIGIL_BENCH_ITERS
 * times, untimed, no table: a clean process for perf or callgrind. */
/* SIGIL_BENCH_PROFILE=<overhead row id>: that row's step, checked, then
 * iters times untimed. */
static int profile_overhead(int k, size_t iters)
{
    static oh_state s;
    oh_result res = {0};
    int rc = oh_setup(&s) == 0 && oh_check(&s, &res, (oh_kind)k) == 0 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < iters; i++)
        rc = OH_OPS[k](&s);
    if (rc != 0)
        fprintf(stderr, "sigil-bench: %s: %s\n", OH_ROWS[k].id,
                res.failed ? res.error : sigil_errmsg());
    oh_store_close(&s);
    return rc == 0 ? 0 : 1;
}

static int profile_one(const char *id, size_t iters)
{
    static uint8_t out_mem[OUT_CAP];
    const bench_sample *s = sample_by_id(id);
    const sigil_venue *v = s != NULL ? venue_in_table(s->venue) : NULL;
    for (int k = 0; s == NULL && k < OH_COUNT_; k++)
        if (strcmp(OH_ROWS[k].id, id) == 0)
            return profile_overhead(k, iters);
    if (v == NULL) {
        fprintf(stderr, "sigil-bench: SIGIL_BENCH_PROFILE=%s: no such row\n", id);
        return 1;
    }
    venue_state st = {.venue = v, .request = s->request, .request_len = strlen(s->request)};
    sigil_buf_init(&st.out, out_mem, sizeof(out_mem));
    int rc = sigil_credentials_parse(&st.cred, v, s->cred, strlen(s->cred));
    for (size_t i = 0; rc == 0 && i < iters; i++)
        rc = venue_sign(&st);
    if (rc != 0)
        fprintf(stderr, "sigil-bench: %s: %s\n", sigil_err_code(sigil_errno()), sigil_errmsg());
    else
        printf("%.*s\n", (int)st.out.len, (const char *)st.out.data);
    sigil_credentials_free(&st.cred);
    return rc == 0 ? 0 : 1;
}

/* Pins to the CPU we run on (less migration noise); returns it, or -1. */
static int pin_cpu(cpu_set_t *all_cpus)
{
    cpu_set_t one;
    int cpu;
    if (sched_getaffinity(0, sizeof(*all_cpus), all_cpus) != 0 ||
        strcmp(env_or("SIGIL_BENCH_PIN", "1"), "0") == 0 || (cpu = sched_getcpu()) < 0)
        return -1;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof(one), &one) == 0 ? cpu : -1;
}

int main(void)
{
    static venue_result vr[SIGIL_ARRAY_LEN(SAMPLES)];
    static ccxt_result cx[SIGIL_ARRAY_LEN(SAMPLES)];
    bench_opts opt = {.iters = env_size("SIGIL_BENCH_ITERS", DEFAULT_ITERS),
                      .batch = env_size("SIGIL_BENCH_BATCH", DEFAULT_BATCH),
                      .budget_s = (double)env_size("SIGIL_BENCH_BUDGET", DEFAULT_BUDGET_S)};
    if (sigil_init() != 0) {
        fprintf(stderr, "sigil-bench: %s\n", sigil_errmsg());
        return 1;
    }
    const char *profile = getenv("SIGIL_BENCH_PROFILE");
    if (profile != NULL)
        return profile_one(profile, opt.iters);
    cpu_set_t all_cpus;
    CPU_ZERO(&all_cpus);
    print_machine(&opt, pin_cpu(&all_cpus));
    fflush(stdout);

    bench_stats refs[REF_COUNT_];
    run_refs(refs, &opt);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SAMPLES); i++) {
        const sigil_venue *v = venue_in_table(SAMPLES[i].venue);
        if (v != NULL && selected(SAMPLES[i].id))
            run_sample(&vr[i], &SAMPLES[i], v, &opt);
    }
    static oh_state ohs;
    oh_result oh[OH_COUNT_] = {0};
    oh_run(oh, &ohs, &opt);
    ccxt_run run = {0};
    progress("ccxt (node)");
    ccxt_measure(&run, cx, &opt, &all_cpus);
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K");

    print_header();
    for (int k = 0; k < REF_COUNT_; k++)
        print_ref_row(REFS[k].label, &refs[k]);
    int failed = 0, missed = 0;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SAMPLES); i++) {
        if (!vr[i].ran)
            continue;
        failed += vr[i].failed;
        missed += !vr[i].failed && !judge(&vr[i], &SAMPLES[i], refs);
        print_venue_row(&SAMPLES[i], &vr[i], &cx[i], &run);
    }
    print_notes(&run, cx, vr, refs, &opt);
    oh_print(oh, vr);
    for (int k = 0; k < OH_COUNT_; k++)
        failed += oh[k].ran && oh[k].failed;
    printf("result  : %d row(s) failed, %d target(s) missed\n", failed, missed);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SAMPLES); i++)
        free(vr[i].output);
    if (failed > 0)
        return 1;
    return missed > 0 && strcmp(env_or("SIGIL_BENCH_STRICT", "0"), "0") != 0 ? 3 : 0;
}
