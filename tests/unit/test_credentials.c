/*
 * Unit tests for credentials parsing (src/venues/credentials.c): the schema
 * for CEX and wallet venues, key sizes and PEMs, and that no error message
 * ever carries secret text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/venues.h"

#define HMAC_SECRET "SiGiL-unit-secret-5b8f0c2e9d7a4163"
#define WALLET_KEY "0123456789012345678901234567890123456789012345678901234567890123"
#define WALLET_ADDR "0x14791697260E4c9A71f18484C9f997B308e59325"
/* RFC 8032 test 1 key as PKCS#8, with JSON-escaped newlines. */
#define ED25519_BODY "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g"
#define ED25519_PEM_JSON                                                                           \
    "-----BEGIN PRIVATE KEY-----\\n" ED25519_BODY "\\n-----END PRIVATE KEY-----\\n"

/* Wallet venues take {private_key}; the table may not list one yet. */
static const sigil_venue WALLET = {.name = "test-wallet",
                                   .kind = SIGIL_VENUE_WALLET,
                                   .key_types = SIGIL_KEY_SECP256K1,
                                   .needs_address = true};
/* A wallet venue whose signer does not use the address: none is derived. */
static const sigil_venue WALLET_NO_ADDR = {
    .name = "test-wallet-2", .kind = SIGIL_VENUE_WALLET, .key_types = SIGIL_KEY_SECP256K1};
static const sigil_venue HMAC_ONLY = {.name = "test-hmac-only",
                                      .kind = SIGIL_VENUE_CEX,
                                      .key_types = SIGIL_KEY_HMAC,
                                      .needs_passphrase = true};

static sigil_credentials g_c;

static const sigil_venue *binance(void)
{
    const sigil_venue *v = sigil_venue_find("binance");
    assert_non_null(v);
    return v;
}

static int parse(const sigil_venue *v, const char *json)
{
    sigil_clear_error();
    return sigil_credentials_parse(&g_c, v, json, strlen(json));
}

/* Every refusal: the right code, nothing left allocated, and no secret in
 * the message. */
static void refused(int rc, sigil_err code, const char *field)
{
    assert_int_equal(rc, -1);
    assert_string_equal(sigil_err_code(sigil_errno()), sigil_err_code(code));
    assert_null(g_c.secret.p);
    assert_null(g_c.passphrase.p);
    assert_null(g_c.rsa);
    const char *m = sigil_errmsg();
    if (strstr(m, HMAC_SECRET) || strstr(m, WALLET_KEY) || strstr(m, ED25519_BODY) ||
        strstr(m, "SiGiL"))
        fail_msg("error message carries secret text: %s", m);
    if (field != NULL && strstr(m, field) == NULL)
        fail_msg("message does not name %s: %s", field, m);
}

static void test_cex_hmac_credentials_parse(void **state)
{
    (void)state;
    assert_int_equal(parse(binance(), "{\"api_key\":\"k-1\",\"secret\":\"" HMAC_SECRET "\"}"), 0);
    assert_int_equal(g_c.type, SIGIL_KEY_HMAC);
    assert_string_equal(g_c.api_key, "k-1");
    assert_int_equal(g_c.api_key_len, 3);
    assert_int_equal(g_c.secret.len, strlen(HMAC_SECRET));
    assert_memory_equal(g_c.secret.p, HMAC_SECRET, g_c.secret.len);
    assert_false(g_c.has_passphrase);
    sigil_credentials_free(&g_c);
    assert_null(g_c.secret.p);
}

static void test_cex_secret_is_unescaped(void **state)
{
    (void)state;
    assert_int_equal(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"a\\u0041\\\"\\n\",\"key_"
                                      "type\":\"hmac\"}"),
                     0);
    assert_int_equal(g_c.secret.len, 4);
    assert_memory_equal(g_c.secret.p, "aA\"\n", 4);
    sigil_credentials_free(&g_c);
}

static void test_cex_optional_fields_may_be_null(void **state)
{
    (void)state;
    assert_int_equal(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":null,"
                                      "\"key_type\":null}"),
                     0);
    assert_int_equal(g_c.type, SIGIL_KEY_HMAC);
    assert_false(g_c.has_passphrase);
    sigil_credentials_free(&g_c);
}

static void test_cex_passphrase_is_kept_when_given(void **state)
{
    (void)state;
    assert_int_equal(
        parse(&HMAC_ONLY, "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p-1\"}"), 0);
    assert_true(g_c.has_passphrase);
    assert_int_equal(g_c.passphrase.len, 3);
    assert_memory_equal(g_c.passphrase.p, "p-1", 3);
    sigil_credentials_free(&g_c);
    assert_null(g_c.passphrase.p);
}

static void test_cex_refuses_missing_fields(void **state)
{
    (void)state;
    refused(parse(binance(), "{\"secret\":\"" HMAC_SECRET "\"}"), SIGIL_E_MISSING_FIELD,
            "credentials.api_key");
    refused(parse(binance(), "{\"api_key\":\"k\"}"), SIGIL_E_MISSING_FIELD, "credentials.secret");
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":null}"), SIGIL_E_MISSING_FIELD,
            "credentials.secret");
    refused(parse(&HMAC_ONLY, "{\"api_key\":\"k\",\"secret\":\"" HMAC_SECRET "\"}"),
            SIGIL_E_MISSING_FIELD, "credentials.passphrase");
}

static void test_cex_refuses_unknown_fields(void **state)
{
    (void)state;
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"" HMAC_SECRET "\",\"apiKey\":\"k\"}"),
            SIGIL_E_UNKNOWN_FIELD, "allowed: api_key, secret, passphrase, key_type");
    refused(parse(binance(),
                  "{\"api_key\":\"k\",\"secret\":\"s\",\"private_key\":\"0x" WALLET_KEY "\"}"),
            SIGIL_E_UNKNOWN_FIELD, "allowed: api_key, secret, passphrase, key_type");
}

/* A misplaced secret used as a key must not come back in the message. */
static void test_cex_unknown_field_message_does_not_echo_a_secret_key(void **state)
{
    (void)state;
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"s\",\"" HMAC_SECRET "\":true}"),
            SIGIL_E_UNKNOWN_FIELD, "credentials");
}

static void test_cex_refuses_wrong_types(void **state)
{
    (void)state;
    refused(parse(binance(), "{\"api_key\":1,\"secret\":\"" HMAC_SECRET "\"}"), SIGIL_E_BAD_FIELD,
            "credentials.api_key");
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":[\"" HMAC_SECRET "\"]}"),
            SIGIL_E_BAD_FIELD, "credentials.secret");
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"s\",\"key_type\":1}"),
            SIGIL_E_BAD_FIELD, "credentials.key_type");
    refused(parse(binance(), "[\"" HMAC_SECRET "\"]"), SIGIL_E_BAD_FIELD, "credentials");
}

static void test_cex_refuses_empty_values(void **state)
{
    (void)state;
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"\"}"), SIGIL_E_BAD_CREDENTIALS,
            "credentials.secret");
    refused(parse(binance(), "{\"api_key\":\"\",\"secret\":\"" HMAC_SECRET "\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.api_key");
    refused(parse(&HMAC_ONLY, "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.passphrase");
}

static void test_cex_refuses_api_keys_unfit_for_a_header(void **state)
{
    (void)state;
    refused(parse(binance(), "{\"api_key\":\"a b\",\"secret\":\"" HMAC_SECRET "\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.api_key");
    refused(parse(binance(), "{\"api_key\":\"a\\r\\nX-Evil: 1\",\"secret\":\"s\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.api_key");
    refused(parse(binance(), "{\"api_key\":\"k\\u00e9\",\"secret\":\"s\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.api_key");
}

/* Passphrases may hold inner spaces, but nothing HTTP would trim or split. */
static void test_cex_refuses_passphrases_unfit_for_a_header(void **state)
{
    (void)state;
    assert_int_equal(
        parse(&HMAC_ONLY, "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p q\"}"), 0);
    sigil_credentials_free(&g_c);
    refused(parse(&HMAC_ONLY, "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\" pq\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.passphrase");
    refused(parse(&HMAC_ONLY, "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"pq \"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.passphrase");
    refused(parse(&HMAC_ONLY, "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p\\tq\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.passphrase");
    refused(parse(&HMAC_ONLY, "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p\\r\\nq\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.passphrase");
}

static void test_cex_limits_api_key_and_secret_sizes(void **state)
{
    char t[SIGIL_API_KEY_MAX + 64];
    (void)state;
    int k = sprintf(t, "{\"secret\":\"s\",\"api_key\":\"");
    memset(t + k, 'a', SIGIL_API_KEY_MAX);
    strcpy(t + k + SIGIL_API_KEY_MAX, "\"}");
    assert_int_equal(parse(binance(), t), 0);
    assert_int_equal(g_c.api_key_len, SIGIL_API_KEY_MAX);
    sigil_credentials_free(&g_c);
    memset(t + k, 'a', SIGIL_API_KEY_MAX + 1);
    strcpy(t + k + SIGIL_API_KEY_MAX + 1, "\"}");
    refused(parse(binance(), t), SIGIL_E_BAD_CREDENTIALS, "credentials.api_key");

    char *s = malloc(SIGIL_SECRET_MAX + 64);
    assert_non_null(s);
    k = sprintf(s, "{\"api_key\":\"k\",\"secret\":\"");
    memset(s + k, 'x', SIGIL_SECRET_MAX);
    strcpy(s + k + SIGIL_SECRET_MAX, "\"}");
    assert_int_equal(parse(binance(), s), 0);
    sigil_credentials_free(&g_c);
    memset(s + k, 'x', SIGIL_SECRET_MAX + 1);
    strcpy(s + k + SIGIL_SECRET_MAX + 1, "\"}");
    refused(parse(binance(), s), SIGIL_E_BAD_CREDENTIALS, "credentials.secret");
    free(s);
}

static void test_cex_refuses_unknown_key_types(void **state)
{
    (void)state;
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"s\",\"key_type\":\"ecdsa\"}"),
            SIGIL_E_UNKNOWN_KEY_TYPE, "credentials.key_type");
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"s\",\"key_type\":\"HMAC\"}"),
            SIGIL_E_UNKNOWN_KEY_TYPE, "credentials.key_type");
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"s\",\"key_type\":\"\"}"),
            SIGIL_E_UNKNOWN_KEY_TYPE, "credentials.key_type");
}

static void test_cex_refuses_key_types_the_venue_lacks(void **state)
{
    (void)state;
    refused(parse(&HMAC_ONLY, "{\"api_key\":\"k\",\"secret\":\"" ED25519_PEM_JSON
                              "\",\"passphrase\":\"p\",\"key_type\":\"ed25519\"}"),
            SIGIL_E_UNKNOWN_KEY_TYPE, "credentials.key_type");
}

/* The PEM's seed, expanded once: libsodium's seed ‖ public key (RFC 8032
 * test 1 public key d75a98…511a). */
static void test_cex_ed25519_pem_gives_the_expanded_key(void **state)
{
    static const uint8_t seed[] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                   0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                   0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
    (void)state;
    assert_int_equal(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"" ED25519_PEM_JSON
                                      "\",\"key_type\":\"ed25519\"}"),
                     0);
    assert_int_equal(g_c.type, SIGIL_KEY_ED25519);
    static const uint8_t pub[] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                  0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                  0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    assert_int_equal(g_c.secret.len, 64);
    assert_memory_equal(g_c.secret.p, seed, 32);
    assert_memory_equal(g_c.secret.p + 32, pub, 32);
    sigil_credentials_free(&g_c);
}

static void test_cex_refuses_bad_ed25519_pems(void **state)
{
    (void)state;
    refused(parse(binance(),
                  "{\"api_key\":\"k\",\"secret\":\"" HMAC_SECRET "\",\"key_type\":\"ed25519\"}"),
            SIGIL_E_BAD_CREDENTIALS, "secret");
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"-----BEGIN PRIVATE KEY-----\\n"
                             "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v\\n-----END PRIVATE KEY-----\\n\","
                             "\"key_type\":\"ed25519\"}"),
            SIGIL_E_BAD_CREDENTIALS, "secret");
}

/* A PEM private key, as a JSON string value with escaped newlines. */
static char *pem_json(int rsa_bits)
{
    EVP_PKEY *pkey = rsa_bits > 0 ? EVP_RSA_gen((unsigned)rsa_bits) : NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *p, *out;
    assert_non_null(pkey);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
    long n = BIO_get_mem_data(bio, &p);
    out = malloc(2 * (size_t)n + 1);
    assert_non_null(out);
    size_t k = 0;
    for (long i = 0; i < n; i++) {
        if (p[i] == '\n') {
            out[k++] = '\\';
            out[k++] = 'n';
        } else {
            out[k++] = p[i];
        }
    }
    out[k] = '\0';
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return out;
}

static char *cex_json(const char *secret, const char *key_type)
{
    size_t n = strlen(secret) + 128;
    char *t = malloc(n);
    assert_non_null(t);
    snprintf(t, n, "{\"api_key\":\"k\",\"secret\":\"%s\",\"key_type\":\"%s\"}", secret, key_type);
    return t;
}

static void test_cex_rsa_pem_of_2048_bits_parses(void **state)
{
    (void)state;
    char *pem = pem_json(2048);
    char *t = cex_json(pem, "rsa");
    assert_int_equal(parse(binance(), t), 0);
    assert_int_equal(g_c.type, SIGIL_KEY_RSA);
    assert_non_null(g_c.rsa);
    sigil_credentials_free(&g_c);
    assert_null(g_c.rsa);
    free(t);
    free(pem);
}

static void test_cex_refuses_rsa_keys_under_2048_bits(void **state)
{
    (void)state;
    char *pem = pem_json(1024);
    char *t = cex_json(pem, "rsa");
    refused(parse(binance(), t), SIGIL_E_BAD_CREDENTIALS, "secret");
    free(t);
    free(pem);
}

static void test_cex_refuses_mismatched_pem_kinds(void **state)
{
    (void)state;
    char *pem = pem_json(2048);
    char *t = cex_json(pem, "ed25519");
    refused(parse(binance(), t), SIGIL_E_BAD_CREDENTIALS, "secret");
    free(t);
    free(pem);
    t = cex_json(ED25519_PEM_JSON, "rsa");
    refused(parse(binance(), t), SIGIL_E_BAD_CREDENTIALS, "secret");
    free(t);
}

static void test_refuses_malformed_json_without_quoting_it(void **state)
{
    (void)state;
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"" HMAC_SECRET "\",}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials");
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":'" HMAC_SECRET "'}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials");
    refused(parse(binance(), ""), SIGIL_E_BAD_CREDENTIALS, "credentials");
    refused(parse(&WALLET, "{\"private_key\":\"0x" WALLET_KEY "\""), SIGIL_E_BAD_CREDENTIALS,
            "credentials");
}

static void test_refuses_duplicate_keys_without_quoting_them(void **state)
{
    (void)state;
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"a\",\"secret\":\"" HMAC_SECRET "\"}"),
            SIGIL_E_DUPLICATE_KEY, "credentials");
    refused(parse(binance(), "{\"api_key\":\"k\",\"secret\":\"a\",\"" HMAC_SECRET
                             "\":1,\"" HMAC_SECRET "\":2}"),
            SIGIL_E_DUPLICATE_KEY, "credentials");
}

/* ---- wallet venues ---- */
static void test_wallet_key_parses_to_its_address(void **state)
{
    char cs[43];
    (void)state;
    assert_int_equal(parse(&WALLET, "{\"private_key\":\"0x" WALLET_KEY "\"}"), 0);
    assert_int_equal(g_c.type, SIGIL_KEY_SECP256K1);
    assert_int_equal(g_c.secret.len, 32);
    assert_true(g_c.has_address);
    sigil_eth_address_checksum(cs, g_c.address);
    assert_string_equal(cs, WALLET_ADDR);
    sigil_credentials_free(&g_c);
    assert_null(g_c.secret.p);
    assert_int_equal(parse(&WALLET_NO_ADDR, "{\"private_key\":\"0x" WALLET_KEY "\"}"), 0);
    assert_false(g_c.has_address);
    sigil_credentials_free(&g_c);
    /* The key is still checked without the address. */
    assert_int_equal(parse(&WALLET_NO_ADDR,
                           "{\"private_key\":\"0x"
                           "0000000000000000000000000000000000000000000000000000000000000000\"}"),
                     -1);
}

static void test_wallet_accepts_upper_case_hex_digits(void **state)
{
    (void)state;
    assert_int_equal(
        parse(&WALLET, "{\"private_key\":"
                       "\"0xABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789\"}"),
        0);
    sigil_credentials_free(&g_c);
}

static void test_wallet_refuses_wrong_key_sizes(void **state)
{
    (void)state;
    /* 31 and 33 bytes */
    refused(parse(&WALLET, "{\"private_key\":\"0x01234567890123456789012345678901234567890123456789"
                           "012345678901\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":\"0x" WALLET_KEY "45\"}"), SIGIL_E_BAD_CREDENTIALS,
            "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":\"0x" WALLET_KEY "4\"}"), SIGIL_E_BAD_CREDENTIALS,
            "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":\"0x\"}"), SIGIL_E_BAD_CREDENTIALS,
            "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":\"\"}"), SIGIL_E_BAD_CREDENTIALS,
            "credentials.private_key");
}

static void test_wallet_refuses_keys_without_0x_or_not_hex(void **state)
{
    (void)state;
    refused(parse(&WALLET, "{\"private_key\":\"" WALLET_KEY "\"}"), SIGIL_E_BAD_CREDENTIALS,
            "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":\"0X" WALLET_KEY "\"}"), SIGIL_E_BAD_CREDENTIALS,
            "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":\"0xg123456789012345678901234567890123456789012345"
                           "678901234567890123\"}"),
            SIGIL_E_BAD_CREDENTIALS, "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":\" 0x" WALLET_KEY "\"}"), SIGIL_E_BAD_CREDENTIALS,
            "credentials.private_key");
    /* an escape spelling the same text is refused rather than decoded */
    refused(parse(&WALLET, "{\"private_key\":\"\\u0030x" WALLET_KEY "\"}"), SIGIL_E_BAD_CREDENTIALS,
            "credentials.private_key");
}

static void test_wallet_refuses_keys_outside_the_group(void **state)
{
    (void)state;
    refused(parse(&WALLET, "{\"private_key\":\"0x00000000000000000000000000000000000000000000000"
                           "00000000000000000\"}"),
            SIGIL_E_BAD_CREDENTIALS, "private_key");
    refused(parse(&WALLET, "{\"private_key\":\"0xfffffffffffffffffffffffffffffffebaaedce6af48a03"
                           "bbfd25e8cd0364141\"}"),
            SIGIL_E_BAD_CREDENTIALS, "private_key");
    refused(parse(&WALLET, "{\"private_key\":\"0xffffffffffffffffffffffffffffffffffffffffffffffff"
                           "ffffffffffffffff\"}"),
            SIGIL_E_BAD_CREDENTIALS, "private_key");
}

static void test_wallet_refuses_schema_violations(void **state)
{
    (void)state;
    refused(parse(&WALLET, "{}"), SIGIL_E_MISSING_FIELD, "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":null}"), SIGIL_E_MISSING_FIELD,
            "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":1}"), SIGIL_E_BAD_FIELD, "credentials.private_key");
    refused(parse(&WALLET, "{\"private_key\":\"0x" WALLET_KEY "\",\"api_key\":\"k\"}"),
            SIGIL_E_UNKNOWN_FIELD, "allowed: private_key");
    refused(parse(&WALLET, "{\"api_key\":\"k\",\"secret\":\"" HMAC_SECRET "\"}"),
            SIGIL_E_UNKNOWN_FIELD, "credentials");
}

static int group_setup(void **state)
{
    (void)state;
    return sigil_init() == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cex_hmac_credentials_parse),
        cmocka_unit_test(test_cex_secret_is_unescaped),
        cmocka_unit_test(test_cex_optional_fields_may_be_null),
        cmocka_unit_test(test_cex_passphrase_is_kept_when_given),
        cmocka_unit_test(test_cex_refuses_missing_fields),
        cmocka_unit_test(test_cex_refuses_unknown_fields),
        cmocka_unit_test(test_cex_unknown_field_message_does_not_echo_a_secret_key),
        cmocka_unit_test(test_cex_refuses_wrong_types),
        cmocka_unit_test(test_cex_refuses_empty_values),
        cmocka_unit_test(test_cex_refuses_api_keys_unfit_for_a_header),
        cmocka_unit_test(test_cex_refuses_passphrases_unfit_for_a_header),
        cmocka_unit_test(test_cex_limits_api_key_and_secret_sizes),
        cmocka_unit_test(test_cex_refuses_unknown_key_types),
        cmocka_unit_test(test_cex_refuses_key_types_the_venue_lacks),
        cmocka_unit_test(test_cex_ed25519_pem_gives_the_expanded_key),
        cmocka_unit_test(test_cex_refuses_bad_ed25519_pems),
        cmocka_unit_test(test_cex_rsa_pem_of_2048_bits_parses),
        cmocka_unit_test(test_cex_refuses_rsa_keys_under_2048_bits),
        cmocka_unit_test(test_cex_refuses_mismatched_pem_kinds),
        cmocka_unit_test(test_refuses_malformed_json_without_quoting_it),
        cmocka_unit_test(test_refuses_duplicate_keys_without_quoting_them),
        cmocka_unit_test(test_wallet_key_parses_to_its_address),
        cmocka_unit_test(test_wallet_accepts_upper_case_hex_digits),
        cmocka_unit_test(test_wallet_refuses_wrong_key_sizes),
        cmocka_unit_test(test_wallet_refuses_keys_without_0x_or_not_hex),
        cmocka_unit_test(test_wallet_refuses_keys_outside_the_group),
        cmocka_unit_test(test_wallet_refuses_schema_violations),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
