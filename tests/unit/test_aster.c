/*
 * Unit tests for the Aster V3 venue (trusted code): what sigil appends, what
 * it refuses, and the registerAndApproveAgent chain. Signatures were computed
 * independently with ethers 6.17.0 (TypedDataEncoder + SigningKey.sign); the
 * happy paths of the published vectors run in tests/vectors/aster.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "venues/venues_internal.h"

#define SIGNER_KEY "4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1"
#define SIGNER "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0"
#define OTHER "0x14791697260E4c9A71f18484C9f997B308e59325"
#define NONCE "1748310859508867"

#define EXPECT_ERR(call, code, needle)                                                             \
    do {                                                                                           \
        assert_int_equal((call), -1);                                                              \
        assert_int_equal(sigil_errno(), (code));                                                   \
        if (strstr(sigil_errmsg(), (needle)) == NULL)                                              \
            fail_msg("error message \"%s\" does not name \"%s\"", sigil_errmsg(), (needle));       \
    } while (0)

static char g_out[4096];

static int sign(const char *req, sigil_network net)
{
    static const char CRED[] = "{\"private_key\":\"0x" SIGNER_KEY "\"}";
    const sigil_venue *v = sigil_venue_find("aster");
    sigil_credentials c;
    sigil_buf b;
    assert_non_null(v);
    assert_int_equal(sigil_credentials_parse(&c, v, CRED, strlen(CRED)), 0);
    sigil_buf_init(&b, g_out, sizeof(g_out) - 1);
    int rc = sigil_sign(&b, v, &c, net, req, strlen(req));
    sigil_credentials_free(&c);
    g_out[rc == 0 ? b.len : 0] = '\0';
    assert_null(strstr(sigil_errmsg(), SIGNER_KEY));
    assert_null(strstr(g_out, SIGNER_KEY));
    return rc;
}

/* Empty query: sigil supplies nonce and the checksummed signer. */
static void test_appends_nonce_and_signer(void **state)
{
    (void)state;
    assert_int_equal(sign("{\"method\":\"GET\",\"path\":\"/fapi/v3/balance\",\"query\":\"\","
                          "\"nonce\":" NONCE "}",
                          SIGIL_NET_MAINNET),
                     0);
    assert_string_equal(
        g_out, "{\"method\":\"GET\",\"path\":\"/fapi/v3/balance\",\"query\":\"nonce=" NONCE
               "&signer=" SIGNER "&signature=0xcd0ea4d53d67b3aa39bb62a85fbd4b819f83f745a6eb30c6df"
               "d31991b7b9f00a359d9be3656c8c0860e71e2416f0c06b89d7f64e291f0d7ebe71f7fb76a144c11b\","
               "\"body\":\"\",\"headers\":{}}");
}

/* A signer in lowercase is the same address; the query is signed as sent. */
static void test_signer_case_insensitive(void **state)
{
    (void)state;
    assert_int_equal(sign("{\"method\":\"DELETE\",\"path\":\"/fapi/v3/order\",\"query\":"
                          "\"symbol=A%20B&signer=0x21cf8ae13bb72632562c6fff438652ba1a151bb0"
                          "&nonce=" NONCE "\"}",
                          SIGIL_NET_MAINNET),
                     0);
    assert_non_null(strstr(g_out, "\"query\":\"symbol=A%20B&signer=0x21cf8ae13bb72632562c6fff43"
                                  "8652ba1a151bb0&nonce=" NONCE
                                  "&signature=0xcd1e2505d6f32f3e7d9f58983e27b676b3f9d8221054dada"
                                  "84b0add782dade7703ec726abe6e9a97c147f5f71641a2cca07d19d668e97c"
                                  "11d61f1d75376652cf1b\""));
}

/* Without any nonce: the current time in microseconds. */
static void test_nonce_from_clock(void **state)
{
    (void)state;
    struct timespec ts;
    assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
    unsigned long long before = (unsigned long long)ts.tv_sec * 1000000ull;
    assert_int_equal(sign("{\"method\":\"GET\",\"path\":\"/fapi/v3/balance\",\"query\":\"a=1\"}",
                          SIGIL_NET_TESTNET),
                     0);
    const char *n = strstr(g_out, "a=1&nonce=");
    assert_non_null(n);
    unsigned long long got = strtoull(n + 10, NULL, 10);
    assert_true(got >= before && got < before + 60ull * 1000000ull);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        sigil_err code;
        const char *needle;
    } CASES[] = {
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"signer=" OTHER "\",\"nonce\":" NONCE "}",
         SIGIL_E_BAD_ADDRESS, "signer is not the address of the signing key"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"signer=0x21cf\",\"nonce\":" NONCE "}",
         SIGIL_E_BAD_ADDRESS, "signer is not a 0x address"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"a=1&signature=0x00\",\"nonce\":" NONCE
         "}",
         SIGIL_E_BAD_FIELD, "signature parameter"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"nonce=" NONCE
         "\",\"nonce\":1748310859508868}",
         SIGIL_E_BAD_FIELD, "differs from request.nonce"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"nonce=1700000000000\"}",
         SIGIL_E_OUT_OF_RANGE, "microseconds"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"nonce=0x1\"}", SIGIL_E_BAD_FIELD,
         "nonce must be a decimal integer"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"\",\"nonce\":1700000000000}",
         SIGIL_E_OUT_OF_RANGE, "microseconds"},
        {"{\"method\":\"PATCH\",\"path\":\"/x\",\"query\":\"\"}", SIGIL_E_BAD_FIELD,
         "request.method"},
        {"{\"method\":\"GET\",\"path\":\"x\",\"query\":\"\"}", SIGIL_E_BAD_FIELD, "request.path"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"?a=1\"}", SIGIL_E_BAD_FIELD,
         "leading '?'"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"a=b c\"}", SIGIL_E_BAD_FIELD,
         "request.query: byte 3"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"a=%zz\"}", SIGIL_E_BAD_ENCODING,
         "request.query"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"a=1&A=2\"}", SIGIL_E_DUPLICATE_KEY,
         "request.query"},
        {"{\"method\":\"GET\",\"path\":\"/x\"}", SIGIL_E_MISSING_FIELD, "request.query"},
        /* review fixes: case variants, agent registration chain, unsafe bytes, paths */
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"Nonce=" NONCE "\"}", SIGIL_E_BAD_FIELD,
         "other letter case"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"Signer=" SIGNER "\",\"nonce\":" NONCE "}",
         SIGIL_E_BAD_FIELD, "other letter case"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"a=1&Signature=0x00\",\"nonce\":" NONCE
         "}",
         SIGIL_E_BAD_FIELD, "other letter case"},
        {"{\"method\":\"POST\",\"path\":\"/fapi/v3/"
         "registerAndApproveAgent\",\"query\":\"user=" SIGNER "&nonce=" NONCE
         "&signatureChainId=1666\"}",
         SIGIL_E_BAD_FIELD, "Aster's trading domain"},
        {"{\"method\":\"POST\",\"path\":\"/fapi/v3/"
         "registerAndApproveAgent\",\"query\":\"user=" SIGNER "&signer=" SIGNER "&nonce=" NONCE
         "&signatureChainId=56\"}",
         SIGIL_E_BAD_FIELD, "signer is not sent"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"a=[1]|2\"}", SIGIL_E_BAD_FIELD,
         "request.query: byte 2"},
        {"{\"method\":\"GET\",\"path\":\"/fapi/v3/order/../../x\",\"query\":\"\"}",
         SIGIL_E_BAD_FIELD, "'..' segment"},
        {"{\"method\":\"GET\",\"path\":\"/fapi//v3\",\"query\":\"\"}", SIGIL_E_BAD_FIELD, "empty"},
        {"{\"method\":\"GET\",\"path\":\"/fapi/%2e%2e/x\",\"query\":\"\"}", SIGIL_E_BAD_FIELD,
         "encoded"},
        {"{\"method\":\"GET\",\"path\":\"/x\",\"query\":\"\",\"body\":\"\"}", SIGIL_E_UNKNOWN_FIELD,
         "request.body"},
        {"{\"method\":\"POST\",\"path\":\"/fapi/v3/"
         "registerAndApproveAgent\",\"query\":\"user=" SIGNER "&nonce=" NONCE "\"}",
         SIGIL_E_MISSING_FIELD, "signatureChainId"},
        {"{\"method\":\"POST\",\"path\":\"/fapi/v3/"
         "registerAndApproveAgent\",\"query\":\"user=" OTHER "&nonce=" NONCE
         "&signatureChainId=56\"}",
         SIGIL_E_BAD_ADDRESS, "user is not the address of the signing key"},
        {"{\"method\":\"POST\",\"path\":\"/fapi/v3/"
         "registerAndApproveAgent\",\"query\":\"nonce=" NONCE "&signatureChainId=056\"}",
         SIGIL_E_BAD_FIELD, "signatureChainId must be a decimal integer"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        int rc = sign(CASES[i].req, SIGIL_NET_MAINNET);
        if (rc != -1 || sigil_errno() != CASES[i].code ||
            strstr(sigil_errmsg(), CASES[i].needle) == NULL)
            fail_msg("%s: rc %d, %s \"%s\"; expected %s \"%s\"", CASES[i].req, rc,
                     sigil_err_code(sigil_errno()), sigil_errmsg(), sigil_err_code(CASES[i].code),
                     CASES[i].needle);
    }
}

/* registerAndApproveAgent: `user` (not `signer`) is appended when absent,
 * and the network does not change the chain (it comes from the message). */
static void test_register_agent(void **state)
{
    (void)state;
    static const char REQ[] = "{\"method\":\"POST\",\"path\":\"/fapi/v3/registerAndApproveAgent\","
                              "\"query\":\"nonce=" NONCE "&signatureChainId=56\"}";
    char first[sizeof(g_out)];
    assert_int_equal(sign(REQ, SIGIL_NET_MAINNET), 0);
    assert_non_null(strstr(g_out, "signatureChainId=56&user=" SIGNER "&signature=0x"));
    assert_null(strstr(g_out, "signer="));
    memcpy(first, g_out, sizeof(first));
    assert_int_equal(sign(REQ, SIGIL_NET_TESTNET), 0);
    assert_string_equal(g_out, first);
    EXPECT_ERR(sign("{\"method\":\"POST\",\"path\":\"/fapi/v3/registerAndApproveAgent\","
                    "\"query\":\"nonce=" NONCE "&signatureChainId=0\"}",
                    SIGIL_NET_MAINNET),
               SIGIL_E_OUT_OF_RANGE, "signatureChainId");
}

int main(void)
{
    if (sigil_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_nonce_and_signer),
        cmocka_unit_test(test_signer_case_insensitive),
        cmocka_unit_test(test_nonce_from_clock),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_register_agent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
