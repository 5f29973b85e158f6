/*
 * Unit tests for the Coinbase Advanced Trade venue and the P-256 RFC 6979
 * signer (trusted code). Known answers: RFC 6979 A.2.5 (P-256, SHA-256,
 * messages "sample" and "test") for k, r and s; the venues.md §9 vectors for
 * the JWTs byte for byte. Refusals are checked for their code, the field
 * they name, an empty output and the absence of secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "crypto/p256.h"
#include "venues/venues_internal.h"

#define SEC1_LIT                                                                                   \
    "-----BEGIN EC PRIVATE KEY-----\\n"                                                            \
    "MDECAQEEIMmvqdhFunUWa1whV2ex1pNOUMPbNuibEnuKYisSD2choAoGCCqGSM49\\n"                          \
    "AwEH\\n"                                                                                      \
    "-----END EC PRIVATE KEY-----\\n"
#define SEC1_RAW                                                                                   \
    "-----BEGIN EC PRIVATE KEY-----\n"                                                             \
    "MDECAQEEIMmvqdhFunUWa1whV2ex1pNOUMPbNuibEnuKYisSD2choAoGCCqGSM49\n"                           \
    "AwEH\n"                                                                                       \
    "-----END EC PRIVATE KEY-----\n"
#define PKCS8_LIT                                                                                  \
    "-----BEGIN PRIVATE KEY-----\\n"                                                               \
    "MEECAQAwEwYHKoZIzj0CAQYIKoZIzj0DAQcEJzAlAgEBBCDJr6nYRbp1FmtcIVdn\\n"                          \
    "sdaTTlDD2zbomxJ7imIrEg9nIQ==\\n"                                                              \
    "-----END PRIVATE KEY-----\\n"
#define PKCS8_RAW                                                                                  \
    "-----BEGIN PRIVATE KEY-----\n"                                                                \
    "MEECAQAwEwYHKoZIzj0CAQYIKoZIzj0DAQcEJzAlAgEBBCDJr6nYRbp1FmtcIVdn\n"                           \
    "sdaTTlDD2zbomxJ7imIrEg9nIQ==\n"                                                               \
    "-----END PRIVATE KEY-----\n"
#define K1_LIT                                                                                     \
    "-----BEGIN EC PRIVATE KEY-----\\n"                                                            \
    "MHQCAQEEILfpsVvOQMQg+2Wu8SRPyx51zoGKAHj1WsjWBVdrAKiFoAcGBSuBBAAK\\n"                          \
    "oUQDQgAE2NA+8JGsnQpDSOShG6IMHmpQdJinAMUZmiaYA+xJbQ4EpHOz35X6+FVz\\n"                          \
    "Gn5Hc/U4olCZnfnTVXjzy7PSKQ7vUQ==\\n"                                                          \
    "-----END EC PRIVATE KEY-----\\n"
#define P384_LIT                                                                                   \
    "-----BEGIN EC PRIVATE KEY-----\\n"                                                            \
    "MIGkAgEBBDBidrQUlWaoJSsBwI8KP+V7WgPtdEfTywOWOvLN7zLjSSWI/jHRETxg\\n"                          \
    "3J//tbjUGW6gBwYFK4EEACKhZANiAATnfKMZhu/jrIF+owlPJb8dnuwNvt8nnovF\\n"                          \
    "4da8NbqNOI1JdZBW//C31D467WAZx/XIUEpxTJLx9JfmPqWGInQkXWAcSNz9v4mH\\n"                          \
    "9ttG896elEYe64UKtfTCi4iuTuG5eB4=\\n"                                                          \
    "-----END EC PRIVATE KEY-----\\n"
#define ENC_LIT                                                                                    \
    "-----BEGIN EC PRIVATE KEY-----\\n"                                                            \
    "Proc-Type: 4,ENCRYPTED\\n"                                                                    \
    "DEK-Info: AES-128-CBC,FF9E5036A15AF219B8A010969FF8295F\\n"                                    \
    "\\n"                                                                                          \
    "BxJML+Ps8GBu4mrZSMjrHX1/HNKY+arVzgQnuu9Asy06dnA1xm+udGYKjM3wK6fX\\n"                          \
    "tvQtf7y3HKKLXv6LK00wgL/hO1Ya7Ei6CWjhY6If+G1skpFYYufRlJbAU1Gg8e5v\\n"                          \
    "gyOiEu5SjZ85tEDHgVLZlkwztdVfle6B1VmHwsL2yLI=\\n"                                              \
    "-----END EC PRIVATE KEY-----\\n"

#define KEY_NAME                                                                                   \
    "organizations/00000000-0000-0000-0000-000000000000/apiKeys/"                                  \
    "11111111-1111-1111-1111-111111111111"
#define ED_KEY_NAME "3e7a3f2c-1b5d-4e7a-9c3f-2b1d5e7a9c3f"
#define ED_SECRET                                                                                  \
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg=="

static const char ES_CRED[] = "{\"api_key\":\"" KEY_NAME "\",\"secret\":\"" SEC1_LIT "\"}";
static const char ES8_CRED[] = "{\"api_key\":\"" KEY_NAME "\",\"secret\":\"" PKCS8_LIT "\"}";
static const char ED_CRED[] = "{\"api_key\":\"" ED_KEY_NAME "\",\"secret\":\"" ED_SECRET "\"}";

static const char *const SECRETS[] = {
    "MDECAQEEIMmvqdhFunUWa1whV2ex1pNOUMPbNuibEnuKYisSD2choAoGCCqGSM49",
    "MEECAQAwEwYHKoZIzj0CAQYIKoZIzj0DAQcEJzAlAgEBBCDJr6nYRbp1FmtcIVdn",
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DX",
    "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
    "MHQCAQEEILfpsVvOQMQg",
    "BxJML+Ps8GBu4mrZSMjrHX1",
};

#include "test_venue_util.h"

static void unhex(uint8_t *out, const char *hex)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* RFC 6979 A.2.5: P-256 key and the SHA-256 signatures of "sample", "test". */
static const char RFC_X[] = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
static const struct {
    const char *msg, *k, *r, *s;
} RFC_SIGS[] = {
    {"sample", "A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60",
     "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
     "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"},
    {"test", "D16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0",
     "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
     "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"},
};

static void test_rfc6979_p256_sha256(void **state)
{
    (void)state;
    uint8_t x[32], h[32], k[32], want[32], sig[64], want_sig[64];
    unhex(x, RFC_X);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(RFC_SIGS); i++) {
        sigil_sha256(h, RFC_SIGS[i].msg, strlen(RFC_SIGS[i].msg));
        assert_int_equal(sigil_p256_rfc6979_k(k, x, h, 0), 0);
        unhex(want, RFC_SIGS[i].k);
        assert_memory_equal(k, want, 32);
        assert_int_equal(sigil_p256_sign_digest(sig, x, h), 0);
        unhex(want_sig, RFC_SIGS[i].r);
        unhex(want_sig + 32, RFC_SIGS[i].s);
        assert_memory_equal(sig, want_sig, 64);
        /* later candidates differ (the §3.2 h.3 retry path) */
        uint8_t k2[32];
        assert_int_equal(sigil_p256_rfc6979_k(k2, x, h, 1), 0);
        assert_memory_not_equal(k, k2, 32);
    }
}

static void test_p256_pem_forms(void **state)
{
    (void)state;
    static const char SEC1[] = SEC1_RAW;
    static const char PKCS8[] = PKCS8_RAW;
    uint8_t d[32], want[32];
    unhex(want, RFC_X);
    assert_int_equal(sigil_p256_scalar_from_pem(d, SEC1, strlen(SEC1)), 0);
    assert_memory_equal(d, want, 32);
    assert_int_equal(sigil_p256_scalar_from_pem(d, PKCS8, strlen(PKCS8)), 0);
    assert_memory_equal(d, want, 32);
    /* a zero or out-of-range scalar is refused before signing */
    uint8_t zero[32] = {0}, h[32] = {0}, sig[64];
    assert_int_equal(sigil_p256_sign_digest(sig, zero, h), -1);
    uint8_t big[32];
    memset(big, 0xff, sizeof(big));
    assert_int_equal(sigil_p256_sign_digest(sig, big, h), -1);
}

#define ES_JWT                                                                                     \
    "eyJhbGciOiJFUzI1NiIsImtpZCI6Im9yZ2FuaXphdGlvbnMvMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAw" \
    "MDAwL2FwaUtleXMvMTExMTExMTEtMTExMS0xMTExLTExMTEtMTExMTExMTExMTExIiwibm9uY2UiOiIwMTIzNDU2Nzg5" \
    "YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidHlwIjoiSldUIn0." \
    "eyJzdWIiOiJvcmdhbml6YXRpb25zLzAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMC9hcGlLZXlzLzEx" \
    "MTExMTExLTExMTEtMTExMS0xMTExLTExMTExMTExMTExMSIsImlzcyI6ImNkcCIsIm5iZiI6MTcwMDAwMDAwMCwiZXhw" \
    "IjoxNzAwMDAwMTIwLCJ1cmkiOiJHRVQgYXBpLmNvaW5iYXNlLmNvbS9hcGkvdjMvYnJva2VyYWdlL2FjY291bnRzIn0." \
    "CBGzZa2a4UKbFbI5ckpKoejjWhrbacbRhHhd-7DFX9Dpt1pYbGGjN_CyWzLNBPWIqfEgHysqtBFpefBuq1cxVQ"
#define ED_JWT                                                                                     \
    "eyJhbGciOiJFZERTQSIsImtpZCI6IjNlN2EzZjJjLTFiNWQtNGU3YS05YzNmLTJiMWQ1ZTdhOWMzZiIsInR5cCI6IkpX" \
    "VCIsIm5vbmNlIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYifQ."                              \
    "eyJzdWIiOiIzZTdhM2YyYy0xYjVkLTRlN2EtOWMzZi0yYjFkNWU3YTljM2YiLCJpc3MiOiJjZHAiLCJhdWQiOlsiY2Rw" \
    "X3NlcnZpY2UiXSwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDAxMjAsInVyaSI6IlBPU1QgYXBpLmNvaW5iYXNl" \
    "LmNvbS9hcGkvdjMvYnJva2VyYWdlL29yZGVycyJ9.9DKRkvl86R_m1x1b0KLu5Vt8SjB7bod2oXNCbleZoI-"         \
    "9aeTdc0zecWHGyD8LVVMq0568j7jrcnOoq_DW1YjzCA"

static void test_vectors(void **state)
{
    (void)state;
    assert_int_equal(sign("coinbase", ES_CRED, SIGIL_NET_MAINNET,
                          "{\"method\":\"GET\",\"path\":\"/api/v3/brokerage/accounts\","
                          "\"timestamp\":1700000000000,\"nonce\":"
                          "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}"),
                     0);
    assert_string_equal(g_out, "{\"method\":\"GET\",\"path\":\"/api/v3/brokerage/accounts\","
                               "\"query\":\"\",\"body\":\"\",\"headers\":{\"Authorization\":"
                               "\"Bearer " ES_JWT "\"}}");
    /* PKCS#8 form of the same key, and a sub-second timestamp: same JWT */
    assert_int_equal(sign("coinbase", ES8_CRED, SIGIL_NET_MAINNET,
                          "{\"nonce\":"
                          "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
                          "\"method\":\"GET\",\"path\":\"/api/v3/brokerage/accounts\","
                          "\"query\":\"limit=1\",\"timestamp\":1700000000999}"),
                     0);
    assert_non_null(strstr(g_out, "\"Bearer " ES_JWT "\""));
    assert_non_null(strstr(g_out, "\"query\":\"limit=1\""));
    assert_int_equal(sign("coinbase", ED_CRED, SIGIL_NET_MAINNET,
                          "{\"method\":\"POST\",\"path\":\"/api/v3/brokerage/orders\","
                          "\"body\":\"{}\",\"timestamp\":1700000000000,"
                          "\"nonce\":\"0123456789abcdef0123456789abcdef\"}"),
                     0);
    assert_string_equal(g_out, "{\"method\":\"POST\",\"path\":\"/api/v3/brokerage/orders\","
                               "\"query\":\"\",\"body\":\"{}\",\"headers\":{\"Authorization\":"
                               "\"Bearer " ED_JWT "\",\"Content-Type\":\"application/json\"}}");
}

/* Decodes the first JWT segment (header) of the Bearer token in g_out. */
static void jwt_header(char *dst, size_t cap)
{
    const char *p = strstr(g_out, "Bearer ");
    assert_non_null(p);
    p += 7;
    const char *dot = strchr(p, '.');
    assert_non_null(dot);
    size_t n = 0;
    assert_int_equal(sigil_b64_decode((uint8_t *)dst, cap - 1, &n, p, (size_t)(dot - p),
                                      SIGIL_B64_URL_NP, "jwt"),
                     0);
    dst[n] = '\0';
}

static void test_random_nonce_shape(void **state)
{
    (void)state;
    static const char REQ[] =
        "{\"method\":\"GET\",\"path\":\"/api/v3/brokerage/accounts\",\"timestamp\":1700000000000}";
    char h1[512], h2[512];
    assert_int_equal(sign("coinbase", ES_CRED, SIGIL_NET_MAINNET, REQ), 0);
    jwt_header(h1, sizeof(h1));
    assert_int_equal(sign("coinbase", ES_CRED, SIGIL_NET_MAINNET, REQ), 0);
    jwt_header(h2, sizeof(h2));
    assert_string_not_equal(h1, h2);
    /* {"alg":"ES256","kid":K,"nonce":<64 hex>,"typ":"JWT"} */
    static const char PFX[] = "{\"alg\":\"ES256\",\"kid\":\"" KEY_NAME "\",\"nonce\":\"";
    assert_int_equal(strncmp(h1, PFX, strlen(PFX)), 0);
    const char *nonce = h1 + strlen(PFX);
    for (size_t i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", nonce[i]));
    assert_string_equal(nonce + 64, "\",\"typ\":\"JWT\"}");
    /* EdDSA: {"alg":"EdDSA","kid":K,"typ":"JWT","nonce":<32 hex>} */
    assert_int_equal(sign("coinbase", ED_CRED, SIGIL_NET_MAINNET, REQ), 0);
    jwt_header(h1, sizeof(h1));
    static const char EPFX[] =
        "{\"alg\":\"EdDSA\",\"kid\":\"" ED_KEY_NAME "\",\"typ\":\"JWT\",\"nonce\":\"";
    assert_int_equal(strncmp(h1, EPFX, strlen(EPFX)), 0);
    assert_int_equal(strlen(h1), strlen(EPFX) + 32 + 2);
}

static void test_malformed_keys(void **state)
{
    (void)state;
    static const char REQ[] =
        "{\"method\":\"GET\",\"path\":\"/api/v3/brokerage/accounts\",\"timestamp\":1700000000000}";
    static const char *const BAD[] = {
        /* secp256k1, not P-256 */
        "{\"api_key\":\"k\",\"secret\":\"" K1_LIT "\"}",
        /* P-384 */
        "{\"api_key\":\"k\",\"secret\":\"" P384_LIT "\"}",
        /* truncated PEM */
        "{\"api_key\":\"k\",\"secret\":\"-----BEGIN EC PRIVATE KEY-----\\n"
        "MDECAQEEIMmvqdhFunUWa1whV2ex1pNOUMPbNuibEnuKYisSD2choAoGCCqGSM49\\n\"}",
        /* base64 of 63 bytes */
        "{\"api_key\":\"k\",\"secret\":\"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/"
        "tPJZAc6DuFy89qmIyWvAhpo9wdR\"}",
        /* Ed25519 seed with a public key that is not its own */
        "{\"api_key\":\"k\",\"secret\":\"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/"
        "tPJZAc6DuFy89qmIyWvAhpo9wdRGw==\"}",
        /* not base64 */
        "{\"api_key\":\"k\",\"secret\":\"not a key\"}",
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++)
        expect_refused("coinbase", BAD[i], SIGIL_NET_MAINNET, REQ, SIGIL_E_BAD_CREDENTIALS,
                       "secret");
    expect_refused("coinbase", "{\"api_key\":\"k\",\"secret\":\"" ENC_LIT "\"}", SIGIL_NET_MAINNET,
                   REQ, SIGIL_E_BAD_CREDENTIALS, "encrypted");
    expect_refused("coinbase", "{\"api_key\":\"a\\\"b\",\"secret\":\"" ED_SECRET "\"}",
                   SIGIL_NET_MAINNET, REQ, SIGIL_E_BAD_CREDENTIALS, "api_key");
}

static void test_request_refusals(void **state)
{
    (void)state;
    static const char BASE[] = "\"method\":\"GET\",\"path\":\"/api/v3/brokerage/accounts\","
                               "\"timestamp\":1700000000000";
    char req[512];
    expect_refused("coinbase", ES_CRED, SIGIL_NET_TESTNET, "{\"method\":\"GET\"}",
                   SIGIL_E_BAD_REQUEST, "--network");
    static const char *const BAD_NONCES[] = {"\"0123\"", "\"0123456789ABCDEF\"", "12345",
                                             "\"0123456789abcdeg\""};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD_NONCES); i++) {
        snprintf(req, sizeof(req), "{%s,\"nonce\":%s}", BASE, BAD_NONCES[i]);
        expect_refused("coinbase", ES_CRED, SIGIL_NET_MAINNET, req, SIGIL_E_BAD_FIELD,
                       "request.nonce");
    }
    snprintf(req, sizeof(req), "{%s,\"recv_window\":5000}", BASE);
    expect_refused("coinbase", ES_CRED, SIGIL_NET_MAINNET, req, SIGIL_E_UNKNOWN_FIELD,
                   "recv_window");
    snprintf(req, sizeof(req), "{%s,\"nonce\":\"0123456789abcdef\",\"extra\":1}", BASE);
    expect_refused("coinbase", ES_CRED, SIGIL_NET_MAINNET, req, SIGIL_E_UNKNOWN_FIELD, "extra");
    expect_refused("coinbase", ES_CRED, SIGIL_NET_MAINNET, "{\"op\":\"subscribe\"}",
                   SIGIL_E_UNKNOWN_FIELD, "request.op");
}

static int setup(void **state)
{
    (void)state;
    return sigil_init();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6979_p256_sha256),
        cmocka_unit_test(test_p256_pem_forms),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_random_nonce_shape),
        cmocka_unit_test(test_malformed_keys),
        cmocka_unit_test(test_request_refusals),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
