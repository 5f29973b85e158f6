/*
 * Key service pieces (src/kms): CMS EnvelopedData against the vectors in
 * tests/vectors/nitro/cms (a round trip with its test key, two real KMS
 * samples parsed for structure), CMS built by sigil-kms's code opened by the
 * client's, CiphertextBlob sealing, the key policy evaluation table, the KMS
 * JSON request bad-input table, and the request handler end to end in
 * process (SigV4, dev-CA attestation documents, policy, CMS).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kms/kms_service.h"
#include "sigil/attest.h"
#include "sigil/codec.h"
#include "sigil/kms.h"

static size_t read_cms_vec(const char *name, uint8_t *out, size_t cap)
{
    char path[4096];
    const char *dir = getenv("SIGIL_VECTORS_DIR");
    const char *slash = strrchr(__FILE__, '/');
    if (dir != NULL)
        snprintf(path, sizeof(path), "%s/nitro/cms/%s", dir, name);
    else
        snprintf(path, sizeof(path), "%.*s/../vectors/nitro/cms/%s",
                 (int)(slash ? slash - __FILE__ : 1), slash ? __FILE__ : ".", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    size_t n = fread(out, 1, cap, f);
    fclose(f);
    assert_true(n > 0 && n < cap);
    return n;
}

static sigil_kms_recipient *test_key_recipient(void)
{
    static char pem[4096];
    sigil_kms_recipient *r;
    size_t n = read_cms_vec("cms_test_rsa2048_key.pem", (uint8_t *)pem, sizeof(pem));
    if (sigil_kms_recipient_from_pem(&r, pem, n) != 0)
        fail_msg("test key: %s", sigil_errmsg());
    return r;
}

/* ---- CMS ---- */
static void test_cms_roundtrip_vector(void **state)
{
    uint8_t ber[4096];
    sigil_secret pt;
    sigil_kms_cms_info info;
    (void)state;
    size_t n = read_cms_vec("cms_softkms_roundtrip.ber", ber, sizeof(ber));
    assert_int_equal(ber[1], 0x80); /* BER, indefinite length */
    sigil_kms_recipient *r = test_key_recipient();
    if (sigil_kms_cms_decrypt(&pt, r, ber, n) != 0)
        fail_msg("decrypt: %s", sigil_errmsg());
    assert_int_equal(pt.len, 32);
    assert_memory_equal(pt.p, "0123456789abcdef0123456789abcdef", 32);
    sigil_secret_free(&pt);
    assert_int_equal(sigil_kms_cms_inspect(&info, ber, n), 0);
    assert_int_equal(info.recipients, 1);
    assert_int_equal(info.key_id_len, 32);
    assert_true(info.oaep_sha256);
    assert_int_equal(info.content_len, 48);
    /* Its SKI is SHA-256 of the key's SPKI (what sigil-kms writes). */
    sigil_kms_recipient_free(r);
}

static void test_cms_real_kms_samples_parse(void **state)
{
    static const char *const SAMPLES[] = {"kms_cms_envelopeddata_input_ber.ber",
                                          "kms_cms_envelopeddata_input_ber_w_ctx.ber"};
    /* Constructed [0] {OCTET STRING} (a 32-byte data key) and primitive [0]. */
    static const size_t CONTENT[] = {48, 16};
    uint8_t ber[4096];
    sigil_kms_recipient *other;
    (void)state;
    assert_int_equal(sigil_kms_recipient_new(&other), 0);
    for (size_t i = 0; i < 2; i++) {
        sigil_kms_cms_info info;
        sigil_secret pt;
        size_t n = read_cms_vec(SAMPLES[i], ber, sizeof(ber));
        if (sigil_kms_cms_inspect(&info, ber, n) != 0)
            fail_msg("%s: %s", SAMPLES[i], sigil_errmsg());
        assert_int_equal(info.recipients, 1);
        assert_int_equal(info.key_id_len, 32);
        assert_true(info.oaep_sha256);
        assert_int_equal(info.content_len, CONTENT[i]);
        /* The private key is not public: a wrong key is a clear error. */
        assert_int_equal(sigil_kms_cms_decrypt(&pt, other, ber, n), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_CRYPTO);
        assert_null(pt.p);
    }
    sigil_kms_recipient_free(other);
}

static void test_cms_refuses_malformed(void **state)
{
    uint8_t ber[4096];
    sigil_secret pt;
    (void)state;
    sigil_kms_recipient *r = test_key_recipient();
    size_t n = read_cms_vec("cms_softkms_roundtrip.ber", ber, sizeof(ber));
    assert_int_equal(sigil_kms_cms_decrypt(&pt, r, ber, n / 2), -1); /* truncated */
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
    assert_int_equal(sigil_kms_cms_decrypt(&pt, r, (const uint8_t *)"\x30\x00", 2), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
    assert_int_equal(sigil_kms_cms_decrypt(&pt, r, ber, 0), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    uint8_t big[SIGIL_KMS_CMS_MAX + 1] = {0};
    assert_int_equal(sigil_kms_cms_decrypt(&pt, r, big, sizeof(big)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    /* The last content byte flipped: padding no longer checks. */
    uint8_t alt[4096];
    memcpy(alt, ber, n);
    alt[n - 5] ^= 1; /* inside the content, before the end-of-contents octets */
    assert_int_equal(sigil_kms_cms_decrypt(&pt, r, alt, n), -1);
    assert_null(pt.p);
    /* Trailing bytes after the ContentInfo. */
    memcpy(alt, ber, n);
    alt[n] = 0;
    assert_int_equal(sigil_kms_cms_decrypt(&pt, r, alt, n + 1), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
    sigil_kms_recipient_free(r);
}

static void test_cms_server_built_opens_with_client(void **state)
{
    uint8_t mem[SIGIL_KMS_CMS_MAX], key[32];
    sigil_buf out;
    sigil_secret pt;
    sigil_kms_cms_info info;
    size_t spki_len;
    (void)state;
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 7 + 1);
    sigil_kms_recipient *r, *other;
    assert_int_equal(sigil_kms_recipient_new(&r), 0);
    assert_int_equal(sigil_kms_recipient_new(&other), 0);
    const uint8_t *spki = sigil_kms_recipient_spki(r, &spki_len);
    assert_int_equal(sigil_kms_check_recipient_spki(spki, spki_len), 0);
    sigil_buf_init(&out, mem, sizeof(mem));
    if (sigil_kms_cms_encrypt(&out, spki, spki_len, key, sizeof(key)) != 0)
        fail_msg("encrypt: %s", sigil_errmsg());
    assert_int_equal(mem[0], 0x30);
    assert_int_equal(mem[1], 0x80); /* streamed BER, as KMS writes */
    assert_int_equal(sigil_kms_cms_inspect(&info, out.data, out.len), 0);
    assert_int_equal(info.key_id_len, 32);
    assert_true(info.oaep_sha256);
    assert_int_equal(info.content_len, 48);
    assert_int_equal(sigil_kms_cms_decrypt(&pt, r, out.data, out.len), 0);
    assert_int_equal(pt.len, 32);
    assert_memory_equal(pt.p, key, 32);
    sigil_secret_free(&pt);
    assert_int_equal(sigil_kms_cms_decrypt(&pt, other, out.data, out.len), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_CRYPTO);
    sigil_kms_recipient_free(r);
    sigil_kms_recipient_free(other);
}

static void test_recipient_spki_checks(void **state)
{
    /* P-256 SPKI (not RSA) and garbage are refused. */
    static const uint8_t EC_SPKI[] = {
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
        0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4,
        0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a,
        0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33,
        0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5};
    (void)state;
    assert_int_equal(sigil_kms_check_recipient_spki(EC_SPKI, sizeof(EC_SPKI)), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    assert_int_equal(sigil_kms_check_recipient_spki((const uint8_t *)"hello", 5), -1);
    assert_int_equal(sigil_kms_check_recipient_spki(NULL, 0), -1);
    /* An encrypted or non-RSA PEM is not a recipient key. */
    sigil_kms_recipient *r;
    assert_int_equal(sigil_kms_recipient_from_pem(&r, "-----BEGIN X-----\n", 18), -1);
    assert_null(r);
}

/* ---- CiphertextBlob ---- */
static void test_blob_seal_open(void **state)
{
    uint8_t key[32] = {1}, other[32] = {2}, mem[512];
    const char *uuid = "1234abcd-12ab-34cd-56ef-1234567890ab";
    sigil_buf b;
    sigil_secret pt;
    sigil_slice id;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_kms_blob_seal(&b, key, uuid, (const uint8_t *)"data key", 8), 0);
    assert_int_equal(b.len, 1 + 1 + 36 + 12 + 8 + 16);
    assert_int_equal(sigil_kms_blob_key(&id, b.data, b.len), 0);
    assert_true(sigil_slice_eq(id, uuid));
    assert_int_equal(sigil_kms_blob_open(&pt, key, b.data, b.len), 0);
    assert_memory_equal(pt.p, "data key", 8);
    sigil_secret_free(&pt);
    assert_int_equal(sigil_kms_blob_open(&pt, other, b.data, b.len), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_CRYPTO);
    mem[5] ^= 1; /* key id is authenticated */
    assert_int_equal(sigil_kms_blob_open(&pt, key, b.data, b.len), -1);
    mem[5] ^= 1;
    mem[b.len - 1] ^= 1;
    assert_int_equal(sigil_kms_blob_open(&pt, key, b.data, b.len), -1);
    assert_int_equal(sigil_kms_blob_open(&pt, key, b.data, 20), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
    mem[0] = 2;
    assert_int_equal(sigil_kms_blob_key(&id, b.data, b.len), -1);
}

/* ---- key policy ---- */
#define PCR0_HEX                                                                                   \
    "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9f" \
    "e86a"
#define PCR0_UPPER                                                                                 \
    "E72A46CA80A260FB044A125442F0C7E331813BCBAF9724D9F3857758992766F2D65710A27AA94AE3949DD54E7C9F" \
    "E86A"
#define PCR3_HEX                                                                                   \
    "4a9329d69c836267b18abbf9f4a38889124490453419e426818626348d21f989dc930b1562682a9082887454e535" \
    "25aa"

#define ALLOW_PCR0(op_list, cond_op, value)                                                        \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"     \
    "\"*\"},\"Action\":" op_list ",\"Resource\":\"*\",\"Condition\":{\"" cond_op                   \
    "\":{\"kms:RecipientAttestation:ImageSha384\":\"" value "\"}}}]}"

typedef struct {
    const char *name;
    const char *policy;
    sigil_kms_op op;
    int recipient; /* 0 none, 1 doc with PCR0/PCR3 above, 2 doc with another PCR0 */
    int want;      /* 1 allow, 0 deny, -1 policy refused */
} policy_case;

static const policy_case POLICY[] = {
    {"pinned pcr0", ALLOW_PCR0("\"kms:Decrypt\"", "StringEqualsIgnoreCase", PCR0_HEX),
     SIGIL_KMS_OP_DECRYPT, 1, 1},
    {"upper-case pin", ALLOW_PCR0("\"kms:Decrypt\"", "StringEqualsIgnoreCase", PCR0_UPPER),
     SIGIL_KMS_OP_DECRYPT, 1, 1},
    {"exact operator is case-sensitive", ALLOW_PCR0("\"kms:Decrypt\"", "StringEquals", PCR0_UPPER),
     SIGIL_KMS_OP_DECRYPT, 1, 0},
    {"exact operator, lower", ALLOW_PCR0("\"kms:Decrypt\"", "StringEquals", PCR0_HEX),
     SIGIL_KMS_OP_DECRYPT, 1, 1},
    {"other image", ALLOW_PCR0("\"kms:Decrypt\"", "StringEqualsIgnoreCase", PCR0_HEX),
     SIGIL_KMS_OP_DECRYPT, 2, 0},
    {"no recipient", ALLOW_PCR0("\"kms:Decrypt\"", "StringEqualsIgnoreCase", PCR0_HEX),
     SIGIL_KMS_OP_DECRYPT, 0, 0},
    {"action not listed", ALLOW_PCR0("\"kms:GenerateDataKey\"", "StringEqualsIgnoreCase", PCR0_HEX),
     SIGIL_KMS_OP_DECRYPT, 1, 0},
    {"action list",
     ALLOW_PCR0("[\"kms:Encrypt\",\"kms:decrypt\"]", "StringEqualsIgnoreCase", PCR0_HEX),
     SIGIL_KMS_OP_DECRYPT, 1, 1},
    {"kms:*", ALLOW_PCR0("\"kms:*\"", "StringEqualsIgnoreCase", PCR0_HEX),
     SIGIL_KMS_OP_GENERATE_DATA_KEY, 1, 1},
    {"unpinned", ALLOW_PCR0("\"kms:*\"", "StringEqualsIgnoreCase", SIGIL_KMS_UNPINNED),
     SIGIL_KMS_OP_GENERATE_DATA_KEY, 1, 0},
    {"pcr3 too",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Condition\":{"
     "\"StringEqualsIgnoreCase\":{\"kms:RecipientAttestation:ImageSha384\":\"" PCR0_HEX
     "\",\"kms:RecipientAttestation:PCR3\":\"" PCR3_HEX "\"}}}]}",
     SIGIL_KMS_OP_DECRYPT, 1, 1},
    {"pcr3 mismatch",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Condition\":{"
     "\"StringEqualsIgnoreCase\":{\"kms:RecipientAttestation:ImageSha384\":\"" PCR0_HEX
     "\",\"kms:RecipientAttestation:PCR3\":\"" PCR0_HEX "\"}}}]}",
     SIGIL_KMS_OP_DECRYPT, 1, 0},
    {"pcr value list",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Condition\":{"
     "\"StringEqualsIgnoreCase\":{\"kms:RecipientAttestation:PCR0\":[\"00\",\"" PCR0_HEX "\"]}}}]}",
     SIGIL_KMS_OP_DECRYPT, 1, 1},
    {"pcr not in document",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Condition\":{"
     "\"StringEqualsIgnoreCase\":{\"kms:RecipientAttestation:PCR20\":\"" PCR0_HEX "\"}}}]}",
     SIGIL_KMS_OP_DECRYPT, 1, 0},
    {"explicit deny wins",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Condition\":{"
     "\"StringEqualsIgnoreCase\":{\"kms:RecipientAttestation:ImageSha384\":\"" PCR0_HEX
     "\"}}},{\"Effect\":\"Deny\",\"Action\":\"kms:Decrypt\"}]}",
     SIGIL_KMS_OP_DECRYPT, 1, 0},
    {"attestation keys named: no recipient denied even with a plain allow",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\"},{\"Effect\":\"Deny\","
     "\"Action\":\"kms:Encrypt\",\"Condition\":{\"StringEquals\":{\"kms:RecipientAttestation:"
     "PCR0\":\"x\"}}}]}",
     SIGIL_KMS_OP_DECRYPT, 0, 0},
    {"no attestation keys: plain allow",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\"}]}", SIGIL_KMS_OP_ENCRYPT, 0, 1},
    {"deny by default", "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"kms:Encrypt\"}]}",
     SIGIL_KMS_OP_DECRYPT, 0, 0},
    /* Refused policies: nothing is released. */
    {"unknown operator",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Condition\":{"
     "\"StringLike\":{\"kms:RecipientAttestation:ImageSha384\":\"*\"}}}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"IfExists operator",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Condition\":{"
     "\"StringEqualsIfExists\":{\"kms:RecipientAttestation:ImageSha384\":\"x\"}}}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"unknown condition key",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Condition\":{"
     "\"StringEquals\":{\"aws:SourceIp\":\"1.2.3.4\"}}}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"pcr index 32",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Condition\":{"
     "\"StringEquals\":{\"kms:RecipientAttestation:PCR32\":\"00\"}}}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"pcr leading zero",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Condition\":{"
     "\"StringEquals\":{\"kms:RecipientAttestation:PCR03\":\"00\"}}}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"bad effect", "{\"Statement\":[{\"Effect\":\"allow\",\"Action\":\"kms:*\"}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"unknown statement field",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":\"kms:*\",\"Action\":\"kms:*\"}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"non-kms action", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\"}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"resource other than *",
     "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"arn:x\"}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"empty statements", "{\"Statement\":[]}", SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"bad version",
     "{\"Version\":\"2008-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
     "\"Action\":\"kms:*\"}]}",
     SIGIL_KMS_OP_DECRYPT, 1, -1},
    {"not json", "{\"Statement\":", SIGIL_KMS_OP_DECRYPT, 1, -1},
};

static void fill_pcrs(uint8_t pcrs[32][48], const char *pcr0_hex)
{
    memset(pcrs, 0, 32 * 48);
    assert_int_equal(sigil_hex_decode_exact(pcrs[0], 48, pcr0_hex, 96, false, "pcr0"), 0);
    assert_int_equal(sigil_hex_decode_exact(pcrs[3], 48, PCR3_HEX, 96, false, "pcr3"), 0);
}

static void test_policy_table(void **state)
{
    static uint8_t mine[32][48], other[32][48];
    (void)state;
    fill_pcrs(mine, PCR0_HEX);
    fill_pcrs(other, PCR3_HEX);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(POLICY); i++) {
        const policy_case *c = &POLICY[i];
        sigil_kms_attest_ctx ctx = {c->recipient != 0, 0xffff,
                                    (const uint8_t(*)[48])(c->recipient == 2 ? other : mine)};
        bool allowed = true;
        char reason[160];
        int rc = sigil_kms_policy_eval(&allowed, reason, sizeof(reason), c->policy,
                                       strlen(c->policy), c->op, &ctx);
        if (c->want < 0) {
            if (rc == 0)
                fail_msg("%s: policy accepted", c->name);
            assert_false(allowed);
            continue;
        }
        if (rc != 0)
            fail_msg("%s: %s", c->name, sigil_errmsg());
        if ((int)allowed != c->want)
            fail_msg("%s: allowed=%d (%s)", c->name, allowed, reason);
    }
}

static void test_policy_default_and_pin(void **state)
{
    static char a[4096], b[4096];
    static uint8_t pcrs[32][48];
    sigil_buf ba, bb;
    bool allowed;
    char reason[160];
    (void)state;
    fill_pcrs(pcrs, PCR0_HEX);
    sigil_kms_attest_ctx ctx = {true, 0xffff, (const uint8_t(*)[48])pcrs};
    sigil_buf_init(&ba, a, sizeof(a));
    assert_int_equal(sigil_kms_policy_default(&ba, NULL), 0);
    assert_int_equal(sigil_kms_policy_eval(&allowed, reason, sizeof(reason), a, ba.len,
                                           SIGIL_KMS_OP_DECRYPT, &ctx),
                     0);
    assert_false(allowed); /* unpinned: nothing released */
    sigil_buf_init(&bb, b, sizeof(b));
    assert_int_equal(sigil_kms_policy_pin(&bb, a, ba.len, PCR0_UPPER), 0);
    assert_non_null(strstr(b, PCR0_UPPER));
    assert_non_null(strstr(b, "\"Sid\":\"AllowOnlyThePinnedEnclaveImage\""));
    for (unsigned op = 0; op < SIGIL_KMS_OP_COUNT_; op++) {
        assert_int_equal(sigil_kms_policy_eval(&allowed, reason, sizeof(reason), b, bb.len,
                                               (sigil_kms_op)op, &ctx),
                         0);
        assert_true(allowed);
    }
    /* A policy with a PCR3 condition keeps it when re-pinned. */
    static const char P3[] =
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Condition\":{"
        "\"StringEqualsIgnoreCase\":{\"kms:RecipientAttestation:ImageSha384\":\"00\","
        "\"kms:RecipientAttestation:PCR3\":\"" PCR3_HEX "\"}}}]}";
    sigil_buf_init(&bb, b, sizeof(b));
    assert_int_equal(sigil_kms_policy_pin(&bb, P3, sizeof(P3) - 1, PCR0_HEX), 0);
    assert_non_null(strstr(b, PCR3_HEX));
    assert_int_equal(sigil_kms_policy_eval(&allowed, reason, sizeof(reason), b, bb.len,
                                           SIGIL_KMS_OP_DECRYPT, &ctx),
                     0);
    assert_true(allowed);
    /* Nothing to pin: refused rather than silently unchanged. */
    static const char NONE[] = "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\"}]}";
    sigil_buf_init(&bb, b, sizeof(b));
    assert_int_equal(sigil_kms_policy_pin(&bb, NONE, sizeof(NONE) - 1, PCR0_HEX), -1);
}

/* ---- request parsing ---- */
typedef struct {
    const char *name;
    sigil_kms_op op;
    const char *body;
    sigil_err want; /* SIGIL_OK: accepted */
} req_case;

#define DOC_B64 "hEShATgioFkAAQFYYAAA" /* any base64: parsing does not verify */

static const req_case REQS[] = {
    {"gdk ok", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"alias/sigil\",\"KeySpec\":\"AES_256\",\"Recipient\":{"
     "\"KeyEncryptionAlgorithm\":\"RSAES_OAEP_SHA_256\",\"AttestationDocument\":\"" DOC_B64 "\"}}",
     SIGIL_OK},
    {"gdk escaped slash base64", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"alias\\/sigil\",\"NumberOfBytes\":64,\"Recipient\":{"
     "\"AttestationDocument\":\"ab\\/c\"}}",
     SIGIL_OK},
    {"gdk no key id", SIGIL_KMS_OP_GENERATE_DATA_KEY, "{\"KeySpec\":\"AES_256\"}",
     SIGIL_E_MISSING_FIELD},
    {"gdk both specs", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"k\",\"KeySpec\":\"AES_256\",\"NumberOfBytes\":32}", SIGIL_E_BAD_REQUEST},
    {"gdk no spec", SIGIL_KMS_OP_GENERATE_DATA_KEY, "{\"KeyId\":\"k\"}", SIGIL_E_BAD_REQUEST},
    {"gdk bad spec", SIGIL_KMS_OP_GENERATE_DATA_KEY, "{\"KeyId\":\"k\",\"KeySpec\":\"AES_512\"}",
     SIGIL_E_BAD_FIELD},
    {"gdk zero bytes", SIGIL_KMS_OP_GENERATE_DATA_KEY, "{\"KeyId\":\"k\",\"NumberOfBytes\":0}",
     SIGIL_E_OUT_OF_RANGE},
    {"gdk 1025 bytes", SIGIL_KMS_OP_GENERATE_DATA_KEY, "{\"KeyId\":\"k\",\"NumberOfBytes\":1025}",
     SIGIL_E_OUT_OF_RANGE},
    {"gdk float bytes", SIGIL_KMS_OP_GENERATE_DATA_KEY, "{\"KeyId\":\"k\",\"NumberOfBytes\":32.0}",
     SIGIL_E_BAD_FIELD},
    {"gdk encryption context", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"k\",\"KeySpec\":\"AES_256\",\"EncryptionContext\":{}}", SIGIL_E_UNKNOWN_FIELD},
    {"gdk key id number", SIGIL_KMS_OP_GENERATE_DATA_KEY, "{\"KeyId\":7,\"KeySpec\":\"AES_256\"}",
     SIGIL_E_BAD_FIELD},
    {"gdk key id control char", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"a\\nb\",\"KeySpec\":\"AES_256\"}", SIGIL_E_BAD_FIELD},
    {"recipient wrong algorithm", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"k\",\"KeySpec\":\"AES_256\",\"Recipient\":{\"KeyEncryptionAlgorithm\":"
     "\"RSAES_OAEP_SHA_1\",\"AttestationDocument\":\"" DOC_B64 "\"}}",
     SIGIL_E_BAD_FIELD},
    {"recipient without document", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"k\",\"KeySpec\":\"AES_256\",\"Recipient\":{}}", SIGIL_E_MISSING_FIELD},
    {"recipient unknown member", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"k\",\"KeySpec\":\"AES_256\",\"Recipient\":{\"AttestationDocument\":\"" DOC_B64
     "\",\"Nonce\":\"x\"}}",
     SIGIL_E_UNKNOWN_FIELD},
    {"recipient not base64", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"k\",\"KeySpec\":\"AES_256\",\"Recipient\":{\"AttestationDocument\":\"*\"}}",
     SIGIL_E_BAD_ENCODING},
    {"recipient array", SIGIL_KMS_OP_GENERATE_DATA_KEY,
     "{\"KeyId\":\"k\",\"KeySpec\":\"AES_256\",\"Recipient\":[]}", SIGIL_E_BAD_FIELD},
    {"decrypt ok", SIGIL_KMS_OP_DECRYPT, "{\"CiphertextBlob\":\"AQID\"}", SIGIL_OK},
    {"decrypt algorithm", SIGIL_KMS_OP_DECRYPT,
     "{\"CiphertextBlob\":\"AQID\",\"EncryptionAlgorithm\":\"RSAES_OAEP_SHA_256\"}",
     SIGIL_E_BAD_FIELD},
    {"decrypt empty blob", SIGIL_KMS_OP_DECRYPT, "{\"CiphertextBlob\":\"\"}", SIGIL_E_BAD_FIELD},
    {"decrypt no blob", SIGIL_KMS_OP_DECRYPT, "{\"KeyId\":\"k\"}", SIGIL_E_MISSING_FIELD},
    {"decrypt grant tokens", SIGIL_KMS_OP_DECRYPT,
     "{\"CiphertextBlob\":\"AQID\",\"GrantTokens\":[]}", SIGIL_E_UNKNOWN_FIELD},
    {"encrypt ok", SIGIL_KMS_OP_ENCRYPT, "{\"KeyId\":\"k\",\"Plaintext\":\"aGk=\"}", SIGIL_OK},
    {"encrypt recipient", SIGIL_KMS_OP_ENCRYPT,
     "{\"KeyId\":\"k\",\"Plaintext\":\"aGk=\",\"Recipient\":{\"AttestationDocument\":\"" DOC_B64
     "\"}}",
     SIGIL_E_UNKNOWN_FIELD},
    {"not json", SIGIL_KMS_OP_DECRYPT, "{\"CiphertextBlob\":", SIGIL_E_BAD_JSON},
    {"duplicate key", SIGIL_KMS_OP_DECRYPT,
     "{\"CiphertextBlob\":\"AQID\",\"CiphertextBlob\":\"AQID\"}", SIGIL_E_DUPLICATE_KEY},
    {"array body", SIGIL_KMS_OP_DECRYPT, "[]", SIGIL_E_BAD_FIELD},
};

static void test_request_table(void **state)
{
    static sigil_kms_request req;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(REQS); i++) {
        const req_case *c = &REQS[i];
        sigil_clear_error();
        int rc = sigil_kms_request_parse(&req, c->op, c->body, strlen(c->body));
        if (c->want == SIGIL_OK && rc != 0)
            fail_msg("%s: %s", c->name, sigil_errmsg());
        if (c->want != SIGIL_OK && rc == 0)
            fail_msg("%s: accepted", c->name);
        if (c->want != SIGIL_OK && sigil_errno() != c->want)
            fail_msg("%s: got %s (%s)", c->name, sigil_err_code(sigil_errno()), sigil_errmsg());
        sigil_kms_request_clear(&req);
    }
    assert_int_equal(sigil_kms_request_parse(&req, SIGIL_KMS_OP_GENERATE_DATA_KEY, REQS[1].body,
                                             strlen(REQS[1].body)),
                     0);
    assert_string_equal(req.key_id, "alias/sigil");
    assert_int_equal(req.data_key_len, 64);
    assert_true(req.has_recipient);
    assert_int_equal(req.doc_len, 3);
    sigil_kms_request_clear(&req);
}

int main(void)
{
    if (sigil_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cms_roundtrip_vector),
        cmocka_unit_test(test_cms_real_kms_samples_parse),
        cmocka_unit_test(test_cms_refuses_malformed),
        cmocka_unit_test(test_cms_server_built_opens_with_client),
        cmocka_unit_test(test_recipient_spki_checks),
        cmocka_unit_test(test_blob_seal_open),
        cmocka_unit_test(test_policy_table),
        cmocka_unit_test(test_policy_default_and_pin),
        cmocka_unit_test(test_request_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
