/*
 * Constant-time check (test tool; public test keys only), after
 * libsecp256k1's ctime_tests.c. Under valgrind memcheck every secret is
 * marked undefined before use, so a branch or a memory index that depends on
 * it is reported as an error; what is meant to be public (a signature, a
 * ciphertext, a verdict) is marked defined again before it is compared.
 * Without valgrind the client requests do nothing and only the outputs are
 * checked. docs/HARDENING.md says what is covered, what is not, and why.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <valgrind/memcheck.h>

#include "crypto/stark.h"
#include "enclave/keygen.c" /* enclave code is not in a library: compiled in */
#include "enclave/payload.c"
#include "enclave/payload_build.c"
#include "gateway/store.h"
#include "sigil/codec.h"
#include "sigil/crypto.h"
#include "sigil/venues.h"

/* From here on p[0..n) is a secret / is public (declassified). */
#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static int g_cases, g_failures;

static void check(bool ok, const char *name, const char *what)
{
    if (!ok) {
        fprintf(stderr, "ctime: FAIL %s: %s\n", name, what);
        g_failures++;
    }
}

/* Compares public bytes with expected hex. */
static bool bytes_are(const uint8_t *p, size_t n, const char *want_hex)
{
    char hex[2 * 128 + 1];
    if (n > 128 || strlen(want_hex) != 2 * n)
        return false;
    sigil_hex_encode(hex, p, n);
    return strcmp(hex, want_hex) == 0;
}

static void hex_to_bytes(uint8_t *out, size_t n, const char *hex)
{
    if (sigil_hex_decode_exact(out, n, hex, strlen(hex), false, "test vector") != 0)
        memset(out, 0, n);
}

/* Whether some bit of p[0..n) is still undefined: proves that a secret
 * reached the next stage marked (trivially true without valgrind). */
static bool still_secret(const void *p, size_t n)
{
    uint8_t vbits[512] = {0};
    if (!RUNNING_ON_VALGRIND)
        return true;
    for (size_t off = 0; off < n; off += sizeof(vbits)) {
        size_t k = n - off < sizeof(vbits) ? n - off : sizeof(vbits);
        if (VALGRIND_GET_VBITS((const uint8_t *)p + off, vbits, k) != 1)
            return false;
        for (size_t i = 0; i < k; i++) {
            if (vbits[i] != 0)
                return true;
        }
    }
    return false;
}

/* ---- Declassification where a value becomes public ----
 *
 * The test links with -Wl,--wrap=<name> for each function below, so calls
 * from libsigil-sign go through these wrappers, which mark the results
 * defined: the MACs and signatures leave in the signed request, and
 * libsecp256k1's verdicts are the ones its own ctime test declassifies
 * (secp256k1_declassify, active only in a libsecp256k1 built with valgrind's
 * headers, which Debian's is not). Everything inside the wrapped functions
 * still runs on undefined data and is checked. */
void __real_sigil_hmac_sha256_keyed(uint8_t out[static 32], const sigil_secret *state,
                                    const void *msg, size_t mlen);
void __wrap_sigil_hmac_sha256_keyed(uint8_t out[static 32], const sigil_secret *state,
                                    const void *msg, size_t mlen);
void __real_sigil_hmac_sha512_keyed(uint8_t out[static 64], const sigil_secret *state,
                                    const void *msg, size_t mlen);
void __wrap_sigil_hmac_sha512_keyed(uint8_t out[static 64], const sigil_secret *state,
                                    const void *msg, size_t mlen);
int __real_sigil_hmac_sha384(uint8_t out[static 48], const uint8_t *key, size_t klen,
                             const void *msg, size_t mlen);
int __wrap_sigil_hmac_sha384(uint8_t out[static 48], const uint8_t *key, size_t klen,
                             const void *msg, size_t mlen);
int __real_sigil_ed25519_sign_expanded(uint8_t sig[static 64], const uint8_t sk[static 64],
                                       const void *msg, size_t n);
int __wrap_sigil_ed25519_sign_expanded(uint8_t sig[static 64], const uint8_t sk[static 64],
                                       const void *msg, size_t n);
int __real_secp256k1_ecdsa_sign_recoverable(const secp256k1_context *ctx,
                                            secp256k1_ecdsa_recoverable_signature *sig,
                                            const unsigned char *msg32, const unsigned char *seckey,
                                            secp256k1_nonce_function noncefp, const void *ndata);
int __wrap_secp256k1_ecdsa_sign_recoverable(const secp256k1_context *ctx,
                                            secp256k1_ecdsa_recoverable_signature *sig,
                                            const unsigned char *msg32, const unsigned char *seckey,
                                            secp256k1_nonce_function noncefp, const void *ndata);
void __real_sigil_stark_declassify(const void *p, size_t n);
void __wrap_sigil_stark_declassify(const void *p, size_t n);
int __real_secp256k1_ec_seckey_verify(const secp256k1_context *ctx, const unsigned char *seckey);
int __wrap_secp256k1_ec_seckey_verify(const secp256k1_context *ctx, const unsigned char *seckey);
int __real_secp256k1_ec_pubkey_create(const secp256k1_context *ctx, secp256k1_pubkey *pubkey,
                                      const unsigned char *seckey);
int __wrap_secp256k1_ec_pubkey_create(const secp256k1_context *ctx, secp256k1_pubkey *pubkey,
                                      const unsigned char *seckey);

void __wrap_sigil_hmac_sha256_keyed(uint8_t out[static 32], const sigil_secret *state,
                                    const void *msg, size_t mlen)
{
    __real_sigil_hmac_sha256_keyed(out, state, msg, mlen);
    PUBLIC(out, 32);
}

void __wrap_sigil_hmac_sha512_keyed(uint8_t out[static 64], const sigil_secret *state,
                                    const void *msg, size_t mlen)
{
    __real_sigil_hmac_sha512_keyed(out, state, msg, mlen);
    PUBLIC(out, 64);
}

int __wrap_sigil_hmac_sha384(uint8_t out[static 48], const uint8_t *key, size_t klen,
                             const void *msg, size_t mlen)
{
    int rc = __real_sigil_hmac_sha384(out, key, klen, msg, mlen);
    PUBLIC(out, 48);
    return rc;
}

int __wrap_sigil_ed25519_sign_expanded(uint8_t sig[static 64], const uint8_t sk[static 64],
                                       const void *msg, size_t n)
{
    int rc = __real_sigil_ed25519_sign_expanded(sig, sk, msg, n);
    PUBLIC(sig, 64);
    return rc;
}

int __wrap_secp256k1_ecdsa_sign_recoverable(const secp256k1_context *ctx,
                                            secp256k1_ecdsa_recoverable_signature *sig,
                                            const unsigned char *msg32, const unsigned char *seckey,
                                            secp256k1_nonce_function noncefp, const void *ndata)
{
    int ret = __real_secp256k1_ecdsa_sign_recoverable(ctx, sig, msg32, seckey, noncefp, ndata);
    PUBLIC(&ret, sizeof(ret));
    PUBLIC(sig, sizeof(*sig));
    return ret;
}

/* Stark signing's own declassification points (src/crypto/stark_declassify.c):
 * key and nonce verdicts, the signature, the public key. */
void __wrap_sigil_stark_declassify(const void *p, size_t n)
{
    __real_sigil_stark_declassify(p, n);
    PUBLIC(p, n);
}

int __wrap_secp256k1_ec_seckey_verify(const secp256k1_context *ctx, const unsigned char *seckey)
{
    int ret = __real_secp256k1_ec_seckey_verify(ctx, seckey);
    PUBLIC(&ret, sizeof(ret));
    return ret;
}

int __wrap_secp256k1_ec_pubkey_create(const secp256k1_context *ctx, secp256k1_pubkey *pubkey,
                                      const unsigned char *seckey)
{
    int ret = __real_secp256k1_ec_pubkey_create(ctx, pubkey, seckey);
    PUBLIC(&ret, sizeof(ret));
    PUBLIC(pubkey, sizeof(*pubkey));
    return ret;
}

/* ---- Venues: sigil_credentials_parse + sigil_sign ---- */

#define TS "1700000000000"
#define BINANCE_API_KEY "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
#define BINANCE_REQUEST                                                                            \
    "{\"method\":\"POST\",\"path\":\"/api/v3/order\",\"query\":\"\",\"body\":\"timestamp=" TS      \
    "&symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000"               \
    "&newClientOrderId=x-TKT5PX2F-bench-0001&recvWindow=5000\",\"timestamp\":" TS                  \
    ",\"recv_window\":5000}"
/* venues.md §0 well-known key (address 0x14791697260E4c9A71f18484C9f997B308e59325) */
#define WALLET_KEY_HEX "0123456789012345678901234567890123456789012345678901234567890123"
#define WALLET_CRED "{\"private_key\":\"0x" WALLET_KEY_HEX "\"}"

typedef enum {
    TEXT_SECRET, /* the secret's text is undefined from before parsing */
    /* The secret is a PEM key: its base64 body is undefined from before
     * parsing; the BEGIN/END lines around it are format. */
    TEXT_PEM_BODY,
} text_mode;

typedef struct {
    const char *venue;
    const char *what;
    const char *cred;
    const char *request;
    const char *expect; /* the known signature, which the output must hold */
    text_mode mode;
    /* The passphrase itself goes out in a header (OKX, Bitget): public once
     * parsed, and the JSON writer may look at its bytes. */
    bool passphrase_sent;
} venue_case;

/* Requests and signatures from bench/sigil_bench.c and tests/unit/
 * test_cex_venues*.c (venue documentation, node:crypto, ccxt). */
static const venue_case VENUE_CASES[] = {
    {"binance", "HMAC",
     "{\"api_key\":\"" BINANCE_API_KEY
     "\",\"secret\":\"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j\"}",
     BINANCE_REQUEST, "signature=4e14f22719b78406cb87631fe76c7a336f1c6c60910890bc94bf31d4e5b74db2",
     TEXT_SECRET, false},
    {"binance", "Ed25519 (RFC 8032 test 1 key)",
     "{\"api_key\":\"" BINANCE_API_KEY "\",\"secret\":\"-----BEGIN PRIVATE KEY-----\\n"
     "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\\n"
     "-----END PRIVATE KEY-----\\n\",\"key_type\":\"ed25519\"}",
     BINANCE_REQUEST,
     "signature=z6Vz34JwtIJ5PNjlGdUxl7uBzEbnITVa2gnFKwq4UkLZpPQpchr%2B0%"
     "2BlYN0HI34XpuQo1dmKj2evk9Cs%"
     "2BXmEMCA%3D%3D",
     TEXT_PEM_BODY, false},
    {"bybit", "HMAC",
     "{\"api_key\":\"XXXXXXXXXX\",\"secret\":\"YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY\"}",
     "{\"method\":\"POST\",\"path\":\"/v5/order/"
     "create\",\"query\":\"\",\"body\":\"{\\\"category\\\":"
     "\\\"linear\\\",\\\"symbol\\\":\\\"BTCUSDT\\\",\\\"side\\\":\\\"Buy\\\",\\\"orderType\\\":"
     "\\\"Limit\\\",\\\"qty\\\":\\\"0.001\\\",\\\"price\\\":\\\"50000\\\",\\\"timeInForce\\\":"
     "\\\"GTC\\\",\\\"orderLinkId\\\":\\\"bench-0001\\\"}\",\"timestamp\":" TS
     ",\"recv_window\":5000}",
     "6d320344fe5e434b454882df847f9ce1d9d0f6cc3804a30cb62466a27d27e494", TEXT_SECRET, false},
    {"okx", "HMAC, passphrase",
     "{\"api_key\":\"985d5b66-57ce-40fb-b714-afc0b9787083\",\"secret\":"
     "\"0123456789ABCDEF0123456789ABCDEF\",\"passphrase\":\"Passphrase123!\"}",
     "{\"method\":\"POST\",\"path\":\"/api/v5/trade/"
     "order\",\"query\":\"\",\"body\":\"{\\\"instId\\\":"
     "\\\"BTC-USDT-SWAP\\\",\\\"tdMode\\\":\\\"cross\\\",\\\"side\\\":\\\"buy\\\",\\\"ordType\\\":"
     "\\\"limit\\\",\\\"px\\\":\\\"50000\\\",\\\"sz\\\":\\\"1\\\",\\\"clOrdId\\\":"
     "\\\"bench0001\\\"}"
     "\",\"timestamp\":" TS "}",
     "bCGrWxybeKEoziYsePi2AvaoLAuKBL6sZYuAIQzUhvU=", TEXT_SECRET, true},
    {"kucoinfutures", "HMAC, HMAC'd passphrase",
     "{\"api_key\":\"5c2db93503aa674c74a31734\",\"secret\":\"f03a5284-5c39-4aaa-9b20-"
     "dea10bdcf8e3\","
     "\"passphrase\":\"QWIxenR0ZTEw\"}",
     "{\"method\":\"POST\",\"path\":\"/api/v1/"
     "orders\",\"query\":\"\",\"body\":\"{\\\"clientOid\\\":"
     "\\\"bench-0001\\\",\\\"side\\\":\\\"buy\\\",\\\"symbol\\\":\\\"XBTUSDTM\\\",\\\"type\\\":"
     "\\\"limit\\\",\\\"price\\\":\\\"50000\\\",\\\"size\\\":1,\\\"leverage\\\":\\\"5\\\"}\","
     "\"timestamp\":" TS "}",
     "5rwT+83CEy7YLGq9B5V8VQA2bRo6m6Q2KrAhQso1jYE=", TEXT_SECRET, false},
    {"kucoin", "HMAC, HMAC'd passphrase",
     "{\"api_key\":\"5c2db93503aa674c74a31734\",\"secret\":\"f03a5284-5c39-4aaa-9b20-"
     "dea10bdcf8e3\","
     "\"passphrase\":\"QWIxenR0ZTEw\"}",
     "{\"method\":\"POST\",\"path\":\"/api/v1/hf/"
     "orders\",\"query\":\"\",\"body\":\"{\\\"clientOid\\\":"
     "\\\"bench-0001\\\",\\\"side\\\":\\\"buy\\\",\\\"symbol\\\":\\\"BTC-USDT\\\",\\\"type\\\":"
     "\\\"limit\\\",\\\"price\\\":\\\"50000\\\",\\\"size\\\":\\\"0.001\\\"}\",\"timestamp\":" TS
     "}",
     "ouvtxMz2gwb7Ttvq/jkdzuPBcmhD1OeBPgYcYNlaT9s=", TEXT_SECRET, false},
    {"kraken", "HMAC-SHA512, base64 secret",
     "{\"api_key\":\"kraken-key\",\"secret\":\"kQH5HW/"
     "8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxn"
     "yRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==\"}",
     "{\"method\":\"POST\",\"path\":\"/0/private/"
     "AddOrder\",\"body\":\"nonce=1616492376594&ordertype="
     "limit&pair=XBTUSD&price=37500&type=buy&volume=1.25\",\"timestamp\":1616492376594}",
     "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==",
     TEXT_SECRET, false},
    {"bitget", "HMAC, passphrase",
     "{\"api_key\":\"bg_0123456789abcdef0123456789abcdef\",\"secret\":"
     "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
     "\"passphrase\":\"Passphrase123\"}",
     "{\"method\":\"POST\",\"path\":\"/api/v2/mix/order/place-order\",\"body\":\"{\\\"symbol\\\":"
     "\\\"BTCUSDT\\\",\\\"productType\\\":\\\"USDT-FUTURES\\\",\\\"marginMode\\\":\\\"crossed\\\","
     "\\\"marginCoin\\\":\\\"USDT\\\",\\\"size\\\":\\\"0.001\\\",\\\"price\\\":\\\"35000.1\\\","
     "\\\"side\\\":\\\"buy\\\",\\\"orderType\\\":\\\"limit\\\",\\\"force\\\":\\\"gtc\\\","
     "\\\"clientOid\\\":\\\"test-cloid-1\\\"}\",\"timestamp\":1700000000000}",
     "14z49eEEMOfeLpEK+N1w/q6ZvoF4rUjVoak12Xv6Yj0=", TEXT_SECRET, true},
    {"gate", "HMAC-SHA512",
     "{\"api_key\":\"gate_key_0123456789\",\"secret\":\"gate_secret_0123456789abcdef\"}",
     "{\"method\":\"POST\",\"path\":\"/api/v4/spot/"
     "orders\",\"body\":\"{\\\"text\\\":\\\"t-cloid1\\\","
     "\\\"currency_pair\\\":\\\"BTC_USDT\\\",\\\"type\\\":\\\"limit\\\",\\\"account\\\":"
     "\\\"spot\\\","
     "\\\"side\\\":\\\"buy\\\",\\\"amount\\\":\\\"0.001\\\",\\\"price\\\":\\\"35000.1\\\","
     "\\\"time_in_force\\\":\\\"gtc\\\"}\",\"timestamp\":1700000000000}",
     "c5b04f47e846402455dc80a83193049be18763ac36c89bb711449d38dd3963034c86b853207a433aa2858f4ccd79c"
     "16cfb2035ec2ee178e05042d2aeaa159823",
     TEXT_SECRET, false},
    {"deribit", "HMAC", "{\"api_key\":\"AMANDA\",\"secret\":\"AMANDASECRECT\"}",
     "{\"method\":\"GET\",\"path\":\"/api/v2/private/get_account_summary\",\"query\":"
     "\"currency=BTC&extended=true\",\"timestamp\":1700000000000,\"nonce\":\"abcd\"}",
     "sig=9c70485d04db3c5225ff0573deef5a8388639bb3ee3b769af6664bd8b1e9580b", TEXT_SECRET, false},
    {"bitfinex", "HMAC-SHA384",
     "{\"api_key\":\"bfx_key_0123456789\",\"secret\":\"bfx_secret_0123456789\"}",
     "{\"method\":\"POST\",\"path\":\"/v2/auth/w/order/submit\",\"body\":\"{\\\"type\\\":"
     "\\\"EXCHANGE LIMIT\\\",\\\"symbol\\\":\\\"tBTCUST\\\",\\\"amount\\\":\\\"0.001\\\","
     "\\\"price\\\":\\\"35000.1\\\",\\\"cid\\\":12345}\",\"nonce\":1700000000000000}",
     "aceb2027ed93a15de31f0b44dda18f8b856ee484e7801f29729c1f5d205dc6155e27ef2e70ec7210916c70228519e"
     "001",
     TEXT_SECRET, false},
    /* wallet venues: secp256k1 */
    {"hyperliquid", "secp256k1, L1 order", WALLET_CRED,
     "{\"action\":{\"type\":\"order\",\"orders\":[{\"a\":0,\"b\":true,\"p\":\"50000\",\"s\":\"0."
     "001\","
     "\"r\":false,\"t\":{\"limit\":{\"tif\":\"Gtc\"}},\"c\":\"0x1234567890abcdef1234567890abcdef\"}"
     "],"
     "\"grouping\":\"na\"},\"nonce\":" TS "}",
     "0x3a5e53dfa61eb31b5b156d4511bb35b582ee19a45cd67712f22da30abc40cddf", TEXT_SECRET, false},
    {"eip191", "secp256k1, personal_sign", WALLET_CRED, "{\"message\":\"Hello World\"}",
     "0xe0ed34fbbe927a58267ce2e8067a611c69869e20e731bc99187a8bc97058664c16de07f7660f06ce0985d1d8e0"
     "63726783033fda59b307897f26a21392d62b3a1c",
     TEXT_SECRET, false},
    {"aster", "secp256k1, address derived at parse",
     "{\"private_key\":\"0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1\"}",
     "{\"method\":\"POST\",\"path\":\"/fapi/v3/order\",\"query\":\"nonce=1700000000000000&user="
     "0x21cf8ae13bb72632562c6fff438652ba1a151bb0&signer=0x21cf8ae13bb72632562c6fff438652ba1a151bb0"
     "&symbol=ASTERUSDT&type=LIMIT&side=BUY&timeInForce=GTC&quantity=20&price=0.5\",\"nonce\":"
     "1700000000000000}",
     "0x915803df2ba6fb5d2d348e49174ffa8b09451aac585aaa66703486422ee1449a4fe8e6e2968e12a0c3bf59ae22c"
     "6"
     "bec25502bf749c4ab9e893dc7a0df0b7706d1b",
     TEXT_SECRET, false},
    /* dYdX: public key derived for the AuthInfo, SignDoc signed (venues.md
     * §7 vector 1; the txhash covers the signature) */
    {"dydx", "secp256k1, SIGN_MODE_DIRECT short-term order", WALLET_CRED,
     "{\"chain_id\":\"dydx-mainnet-1\",\"account_number\":12345,\"sequence\":0,\"place_order\":{"
     "\"owner\":\"dydx1navfnxx0ywpgtdjevkkmk2k79lvr37jtmp8y6t\",\"subaccount_number\":0,"
     "\"client_id\":123456789,\"clob_pair_id\":0,\"order_flags\":0,\"good_til_block\":20000000,"
     "\"side\":1,\"quantums\":1000000,\"subticks\":5000000000}}",
     "7BA0E3B33A9E84AB347FC36AF0AAF8FC69C02C61DD239798CA96EC20E68F350F", TEXT_SECRET, false},
    /* Paradex: Stark ECDSA over Pedersen typed data (venues.md §8 order vector) */
    {"paradex", "Stark ECDSA, Pedersen typed data",
     "{\"private_key\":\"0x06c9b58fa6c63b5c49115c3f75d7230042d639e7ac31635a3a54b3f84dc8f46f\"}",
     "{\"message\":\"order\",\"account\":"
     "\"0x580a61734fbfec1df4b943762478e5d306c93a936a876f81fea8ae2f5fe6db\","
     "\"signature_timestamp\":" TS ",\"market\":\"ETH-USD-PERP\",\"side\":\"BUY\","
     "\"type\":\"LIMIT\",\"size\":\"0.1\",\"price\":\"1500\"}",
     "3135918010653406143350232886094331826485404604688519328715743931620244583313", TEXT_SECRET,
     false},
};

/* Marks undefined the characters of every secret member of a credentials
 * text: the JSON around them, and a private key's 0x prefix, are format. */
static void mark_credential_text(char *text)
{
    static const char *const FIELDS[] = {"\"secret\":\"", "\"passphrase\":\"",
                                         "\"private_key\":\"0x"};
    char *start[SIGIL_ARRAY_LEN(FIELDS)];
    size_t len[SIGIL_ARRAY_LEN(FIELDS)];
    /* find them all first: searching marked text would itself be an error */
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(FIELDS); i++) {
        char *p = strstr(text, FIELDS[i]);
        start[i] = p == NULL ? NULL : p + strlen(FIELDS[i]);
        len[i] = p == NULL ? 0 : (size_t)(strchr(start[i], '"') - start[i]);
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(FIELDS); i++) {
        if (start[i] != NULL)
            SECRET(start[i], len[i]);
    }
}

/* Marks undefined the base64 body of the PEM key in a credentials text. */
static void mark_pem_body(char *text)
{
    static const char BEGIN[] = "-----BEGIN PRIVATE KEY-----\\n", END[] = "\\n-----END";
    char *p = strstr(text, BEGIN), *q = p == NULL ? NULL : strstr(p, END);
    if (p != NULL && q != NULL)
        SECRET(p + strlen(BEGIN), (size_t)(q - p) - strlen(BEGIN));
}

static void run_venue_case(const venue_case *vc)
{
    static char out_mem[64 * 1024];
    char name[96];
    snprintf(name, sizeof(name), "%s, %s", vc->venue, vc->what);
    g_cases++;
    const sigil_venue *v = sigil_venue_find(vc->venue);
    if (v == NULL) {
        check(false, name, "venue not in the table");
        return;
    }
    /* The credentials text in locked memory, as sigil_credentials_parse
     * expects of its callers. */
    SIGIL_SECRET(text);
    size_t n = strlen(vc->cred);
    if (sigil_secret_alloc(&text, n + 1) != 0) {
        check(false, name, "no locked memory");
        return;
    }
    memcpy(text.p, vc->cred, n + 1);
    text.len = n;
    if (vc->mode == TEXT_SECRET)
        mark_credential_text((char *)text.p);
    else
        mark_pem_body((char *)text.p);

    sigil_credentials c;
    int rc = sigil_credentials_parse(&c, v, (const char *)text.p, text.len);
    PUBLIC(&rc, sizeof(rc)); /* whether the credentials parse is public */
    if (rc != 0) {
        check(false, name, sigil_errmsg());
        return;
    }
    /* Nothing in parsing may have declassified the key; then the key is
     * marked again, so that signing is checked on its own too. */
    check(still_secret(c.secret.p, c.secret.len), name, "the parsed key is no longer secret");
    check(vc->mode != TEXT_SECRET || c.hmac_state.len == 0 ||
              still_secret(c.hmac_state.p, c.hmac_state.len),
          name, "the keyed HMAC state is no longer secret");
    SECRET(c.secret.p, c.secret.len);
    if (c.has_passphrase && !vc->passphrase_sent)
        SECRET(c.passphrase.p, c.passphrase.len);
    if (c.has_passphrase && vc->passphrase_sent)
        PUBLIC(c.passphrase.p, c.passphrase.len);

    sigil_buf out;
    sigil_buf_init(&out, out_mem, sizeof(out_mem) - 1);
    rc = sigil_sign(&out, v, &c, SIGIL_NET_MAINNET, vc->request, strlen(vc->request));
    PUBLIC(&rc, sizeof(rc));
    PUBLIC(out_mem, sizeof(out_mem)); /* the signed request is the output */
    sigil_credentials_free(&c);
    if (rc != 0) {
        check(false, name, sigil_errmsg());
        return;
    }
    out_mem[out.len] = '\0';
    check(strstr(out_mem, vc->expect) != NULL, name, "the output lacks the known signature");
}

/* ---- Signing through the crypto API ---- */

static void run_secp256k1(void)
{
    /* eip191 "Hello World" with the §0 key (r ‖ s, v = 28) */
    static const char WANT[] = "e0ed34fbbe927a58267ce2e8067a611c69869e20e731bc99187a8bc97058664c"
                               "16de07f7660f06ce0985d1d8e063726783033fda59b307897f26a21392d62b3a";
    const char *name = "secp256k1: sigil_secp256k1_sign, sigil_secp256k1_address";
    uint8_t digest[32], sig[64], addr[20];
    int recid = -1;
    SIGIL_SECRET(key);
    g_cases++;
    if (sigil_secret_alloc(&key, 32) != 0) {
        check(false, name, "no locked memory");
        return;
    }
    hex_to_bytes(key.p, 32, WALLET_KEY_HEX);
    key.len = 32;
    sigil_eip191_digest(digest, (const uint8_t *)"Hello World", 11);

    SECRET(key.p, 32);
    int rc = sigil_secp256k1_sign(sig, &recid, key.p, digest);
    PUBLIC(&rc, sizeof(rc));
    PUBLIC(sig, sizeof(sig));
    PUBLIC(&recid, sizeof(recid));
    check(rc == 0 && bytes_are(sig, 64, WANT) && recid == 1, name, "wrong signature");

    SECRET(key.p, 32);
    rc = sigil_secp256k1_address(addr, key.p);
    PUBLIC(&rc, sizeof(rc));
    PUBLIC(addr, sizeof(addr));
    check(rc == 0 && bytes_are(addr, 20, "14791697260e4c9a71f18484c9f997b308e59325"), name,
          "wrong address");
}

/* Stark ECDSA (RFC 6979 nonce, fixed-window generator multiplication) and
 * the public key, on venues.md §8's key and auth message hash. */
static void run_stark(void)
{
    static const char KEY[] = "06c9b58fa6c63b5c49115c3f75d7230042d639e7ac31635a3a54b3f84dc8f46f";
    static const char HASH[] = "02e3d893e08d2193e210a8e6b3a680c9409cc7c8878c0b59a05355588c23b443";
    static const char WANT_R[] = "0714752e129de5e30da8c9569dd4665006a4390667722f3d973772a0d40d56b5";
    static const char WANT_S[] = "00d40bd6a70162fc9c3142d28b6b9a0c614c9aef92f36b4bc11a2a7623c564e8";
    static const char WANT_PUB[] =
        "05644ab931ae1b485173822d5da025f8699c86ebc37c6385005762a05151ab71";
    const char *name = "Stark: sigil_stark_sign, sigil_stark_public_key";
    uint8_t hash[32], r[32], s[32], pub[32];
    SIGIL_SECRET(key);
    g_cases++;
    if (sigil_secret_alloc(&key, 32) != 0) {
        check(false, name, "no locked memory");
        return;
    }
    hex_to_bytes(key.p, 32, KEY);
    key.len = 32;
    hex_to_bytes(hash, 32, HASH);
    SECRET(key.p, 32);
    int rc = sigil_stark_sign(r, s, key.p, hash);
    PUBLIC(&rc, sizeof(rc));
    check(rc == 0 && bytes_are(r, 32, WANT_R) && bytes_are(s, 32, WANT_S), name, "wrong signature");
    check(still_secret(key.p, 32), name, "the key is no longer secret after signing");
    rc = sigil_stark_public_key(pub, key.p);
    PUBLIC(&rc, sizeof(rc));
    check(rc == 0 && bytes_are(pub, 32, WANT_PUB), name, "wrong public key");
}

static void run_ed25519(void)
{
    /* RFC 8032 §7.1 TEST 1: empty message */
    static const char SEED[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    static const char WANT[] = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                               "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    const char *name = "Ed25519: sigil_ed25519_sign (libsodium)";
    uint8_t sig[64];
    SIGIL_SECRET(seed);
    g_cases++;
    if (sigil_secret_alloc(&seed, 32) != 0) {
        check(false, name, "no locked memory");
        return;
    }
    hex_to_bytes(seed.p, 32, SEED);
    SECRET(seed.p, 32);
    int rc = sigil_ed25519_sign(sig, seed.p, "", 0);
    PUBLIC(&rc, sizeof(rc));
    PUBLIC(sig, sizeof(sig));
    check(rc == 0 && bytes_are(sig, 64, WANT), name, "wrong signature");
}

static void run_hmac(void)
{
    /* RFC 4231 test case 2 */
    static const char *const WANT[] = {
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
        "8e2240ca5e69e2c78b3239ecfab21649",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    };
    static const char MSG[] = "what do ya want for nothing?";
    const char *name = "HMAC-SHA256/384/512 with a secret key (sigil_hmac_*)";
    uint8_t key[4] = {'J', 'e', 'f', 'e'}, m256[32], m384[48], m512[64];
    g_cases++;
    SECRET(key, sizeof(key));
    sigil_hmac_sha256(m256, key, sizeof(key), MSG, sizeof(MSG) - 1);
    int rc = sigil_hmac_sha384(m384, key, sizeof(key), MSG, sizeof(MSG) - 1);
    sigil_hmac_sha512(m512, key, sizeof(key), MSG, sizeof(MSG) - 1);
    PUBLIC(&rc, sizeof(rc));
    PUBLIC(m256, sizeof(m256));
    PUBLIC(m384, sizeof(m384));
    PUBLIC(m512, sizeof(m512));
    check(bytes_are(m256, 32, WANT[0]) && rc == 0 && bytes_are(m384, 48, WANT[1]) &&
              bytes_are(m512, 64, WANT[2]),
          name, "wrong MAC");
}

/* ---- AES-256-GCM, as the enclave opens a key blob ----
 *
 * src/enclave/blob.c is part of the sigil-enclave executable, not of a
 * library this test can link, so this calls what blob.c calls: OpenSSL's
 * EVP AES-256-GCM, one EVP_CipherInit_ex/Update(AAD)/Update/tag/Final pass,
 * with the data key and the plaintext secret. The tag comparison's verdict
 * inside EVP_CipherFinal_ex is declassified in ctime.supp. */
static int gcm(int enc, const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
               size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
    int ok = 0, n = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return -1;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) == 1 &&
        EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1 &&
        EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
        (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1) &&
        EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
        (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1))
        ok = 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static void run_aes_gcm(void)
{
    /* McGrew and Viega, "The Galois/Counter Mode of Operation", test case 16 */
    static const char KEY[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
    static const char IV[] = "cafebabefacedbaddecaf888";
    static const char AAD[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
    static const char PLAIN[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                                "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
    static const char CIPHER[] = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                                 "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662";
    static const char TAG[] = "76fc6ece0f4e1768cddf8853bb2d551b";
    const char *name = "AES-256-GCM seal and open (OpenSSL EVP, as src/enclave/blob.c)";
    uint8_t key[32], iv[12], aad[20], plain[60], ct[60] = {0}, tag[16] = {0}, opened[60];
    g_cases++;
    hex_to_bytes(key, sizeof(key), KEY);
    hex_to_bytes(iv, sizeof(iv), IV);
    hex_to_bytes(aad, sizeof(aad), AAD);
    hex_to_bytes(plain, sizeof(plain), PLAIN);

    SECRET(key, sizeof(key));
    SECRET(plain, sizeof(plain));
    int rc = gcm(1, key, iv, aad, sizeof(aad), plain, sizeof(plain), ct, tag);
    PUBLIC(&rc, sizeof(rc));
    PUBLIC(ct, sizeof(ct)); /* the blob the host stores */
    PUBLIC(tag, sizeof(tag));
    check(rc == 0 && bytes_are(ct, sizeof(ct), CIPHER) && bytes_are(tag, 16, TAG), name,
          "wrong ciphertext or tag");

    SECRET(key, sizeof(key));
    rc = gcm(0, key, iv, aad, sizeof(aad), ct, sizeof(ct), opened, tag);
    PUBLIC(&rc, sizeof(rc));
    check(rc == 0 && still_secret(opened, sizeof(opened)), name,
          "the opened plaintext is not secret");
    PUBLIC(opened, sizeof(opened));
    PUBLIC(plain, sizeof(plain));
    check(memcmp(opened, plain, sizeof(plain)) == 0, name, "opened plaintext differs");

    tag[0] ^= 1; /* a forged tag: refused, and the refusal is the only branch */
    SECRET(key, sizeof(key));
    rc = gcm(0, key, iv, aad, sizeof(aad), ct, sizeof(ct), opened, tag);
    PUBLIC(&rc, sizeof(rc));
    check(rc != 0, name, "a forged tag opened");
}

/* ---- Codecs on secrets (include/sigil/codec.h) ---- */

static void run_hex(void)
{
    static const char HEX[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const char *name = "hex: sigil_hex_encode, sigil_hex_decode(_exact)";
    uint8_t raw[32], back[32];
    char text[2 + 64 + 1], enc[65];
    size_t n = 0;
    g_cases++;
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (uint8_t)i;

    SECRET(raw, sizeof(raw));
    sigil_hex_encode(enc, raw, sizeof(raw));
    PUBLIC(enc, sizeof(enc));
    check(strcmp(enc, HEX) == 0, name, "encode");

    snprintf(text, sizeof(text), "0x%s", HEX);
    SECRET(text + 2, 64); /* the prefix is format */
    int rc = sigil_hex_decode_exact(back, 32, text, 66, true, "secret");
    PUBLIC(&rc, sizeof(rc));
    PUBLIC(back, sizeof(back));
    PUBLIC(raw, sizeof(raw));
    check(rc == 0 && memcmp(back, raw, 32) == 0, name, "decode_exact with 0x");

    SECRET(text + 2, 64);
    /* variable-length text: without allow_0x, which would look at the first
     * two characters for a prefix (src/codec/hex.c) */
    rc = sigil_hex_decode(back, sizeof(back), &n, text + 2, 64, false, "secret");
    PUBLIC(&rc, sizeof(rc));
    PUBLIC(back, sizeof(back));
    check(rc == 0 && n == 32 && memcmp(back, raw, 32) == 0, name, "decode, no prefix");

    PUBLIC(text, sizeof(text));
    text[2 + 40] = 'g'; /* not hex: refused, the refusal being the only branch */
    SECRET(text + 2, 64);
    rc = sigil_hex_decode_exact(back, 32, text + 2, 64, false, "secret");
    PUBLIC(&rc, sizeof(rc));
    check(rc != 0, name, "non-hex text decoded");
}

static void run_base64(void)
{
    static const struct {
        size_t n;
        sigil_b64_variant v;
        const char *text;
    } CASES[] = {
        {34, SIGIL_B64_STD, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ=="},
        {33, SIGIL_B64_URL_NP, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"},
        {32, SIGIL_B64_URL_NP, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"},
    };
    const char *name = "base64: sigil_b64_put, sigil_b64_decode";
    uint8_t raw[34], back[34], enc_mem[64];
    char text[64];
    g_cases++;
    for (size_t k = 0; k < SIGIL_ARRAY_LEN(CASES); k++) {
        size_t n = CASES[k].n, tlen = strlen(CASES[k].text), got = 0;
        sigil_buf enc;
        for (size_t i = 0; i < n; i++)
            raw[i] = (uint8_t)i;
        SECRET(raw, n);
        sigil_buf_init(&enc, enc_mem, sizeof(enc_mem));
        int rc = sigil_b64_put(&enc, raw, n, CASES[k].v);
        PUBLIC(&rc, sizeof(rc));
        PUBLIC(enc_mem, sizeof(enc_mem));
        check(rc == 0 && enc.len == tlen && memcmp(enc_mem, CASES[k].text, tlen) == 0, name,
              "encode");

        memcpy(text, CASES[k].text, tlen);
        SECRET(text, tlen);
        rc = sigil_b64_decode(back, sizeof(back), &got, text, tlen, CASES[k].v, "secret");
        PUBLIC(&rc, sizeof(rc));
        PUBLIC(&got, sizeof(got));
        PUBLIC(back, sizeof(back));
        PUBLIC(raw, n);
        check(rc == 0 && got == n && memcmp(back, raw, n) == 0, name, "decode");
    }
    /* outside the alphabet: refused, the refusal being the only branch */
    snprintf(text, sizeof(text), "AAEC*wQF");
    SECRET(text, 8);
    size_t got = 0;
    int rc = sigil_b64_decode(back, sizeof(back), &got, text, 8, SIGIL_B64_STD, "secret");
    PUBLIC(&rc, sizeof(rc));
    check(rc != 0, name, "invalid text decoded");
}

/* ---- Comparisons of secrets ---- */

static void run_token_compare(void)
{
    /* A bearer token's secret part; the gateway parses the token (format
     * check without branches on the characters), stores SHA-256 of the
     * secret and compares hashes (src/gateway/store_token.c). */
    static const char SECRET_HEX[] =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const char *name = "token: SHA-256 of the secret, sigil_token_verify, sigil_ct_eq";
    sigil_token_record rec;
    sigil_token tok;
    char text[SIGIL_TOKEN_LEN + 1];
    g_cases++;
    memset(&rec, 0, sizeof(rec));
    memset(&tok, 0, sizeof(tok));
    sigil_sha256(rec.secret_hash, SECRET_HEX, 64);
    memcpy(text, "sgl_0123456789abcdef_", 21);
    memcpy(text + 21, SECRET_HEX, 65);

    for (int forged = 0; forged < 2; forged++) {
        text[21 + 63] = forged ? 'e' : 'f';
        SECRET(text + 21, 64);
        SECRET(rec.secret_hash, sizeof(rec.secret_hash));
        int parsed = sigil_token_parse(&tok, text, SIGIL_TOKEN_LEN);
        PUBLIC(&parsed, sizeof(parsed));
        check(parsed == 0, name, "token did not parse");
        int same = sigil_store_ct_eq(rec.secret_hash, tok.secret_hash, 32);
        int eq = sigil_ct_eq(rec.secret_hash, tok.secret_hash, 32);
        PUBLIC(&same, sizeof(same)); /* the verdict is the answer the client gets */
        PUBLIC(&eq, sizeof(eq));
        int rc = sigil_token_verify(&rec, &tok);
        PUBLIC(&rc, sizeof(rc));
        check(same == !forged && eq == !forged && (rc == 0) == !forged, name, "wrong verdict");
        PUBLIC(text, sizeof(text));
    }
}

uint64_t enclave_now_ms(void)
{
    return 1700000000000ull;
}

/* libsodium's own random source; while g_draw_secret is set, what it returns
 * is marked secret (a key the enclave generates). */
static bool g_draw_secret;
static randombytes_implementation g_marked_random;

static void marked_buf(void *const buf, const size_t size)
{
    randombytes_sysrandom_implementation.buf(buf, size);
    if (g_draw_secret)
        SECRET(buf, size);
}

/* A wallet key generated in the enclave: the draw, its range check (the
 * verdict is public), the credentials text and the payload rebuilt around
 * it. */
static void run_keygen(void)
{
    static const char PAYLOAD[] =
        "{\"v\":1,\"tenant\":\"acme\",\"key_id\":\"00112233445566778899aabbccddeeff\","
        "\"venue\":\"hyperliquid\",\"network\":\"mainnet\",\"key_type\":\"secp256k1\","
        "\"generate\":true,\"owner_pubkey\":\"" WALLET_KEY_HEX "\",\"client_pubkey\":null,"
        "\"policy\":{\"version\":1},\"policy_signature\":\"" WALLET_KEY_HEX WALLET_KEY_HEX "\"}";
    static sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    static enclave_payload p;
    const char *name = "keygen: enclave_keygen_payload";
    SIGIL_SECRET(out);
    g_cases++;
    if (enclave_payload_parse(&p, PAYLOAD, sizeof(PAYLOAD) - 1, toks) != 0) {
        check(false, name, "test payload does not parse");
        return;
    }
    g_draw_secret = true;
    int rc = enclave_keygen_payload(&out, &p);
    g_draw_secret = false;
    PUBLIC(&rc, sizeof(rc));
    check(rc == 0 && still_secret(out.p, out.len), name, "no key, or the key reached it unmarked");
    if (rc != 0)
        return;
    PUBLIC(out.p, out.len);
    check(enclave_payload_parse(&p, (const char *)out.p, out.len, toks) == 0 && !p.generate, name,
          "the rebuilt payload does not parse");
}

int main(void)
{
    g_marked_random = randombytes_sysrandom_implementation;
    g_marked_random.buf = marked_buf;
    if (randombytes_set_implementation(&g_marked_random) != 0 || sigil_init() != 0) {
        fprintf(stderr, "ctime: sigil_init failed: %s\n", sigil_errmsg());
        return 2;
    }
    printf("ctime: %s\n", RUNNING_ON_VALGRIND
                              ? "under valgrind: a branch or index on a secret is an error"
                              : "not under valgrind: checking outputs only");
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(VENUE_CASES); i++)
        run_venue_case(&VENUE_CASES[i]);
    run_secp256k1();
    run_stark();
    run_ed25519();
    run_hmac();
    run_aes_gcm();
    run_hex();
    run_base64();
    run_token_compare();
    run_keygen();
    printf("ctime: %d cases, %d failed\n", g_cases, g_failures);
    return g_failures == 0 ? 0 : 1;
}
