/*
 * Unit tests for attestation documents (src/attest/doc_*.c, devca.c,
 * boot_binding.c, measure.c): the seven real AWS documents verify at their
 * own time and only then, debug and mock documents are refused, any flipped
 * byte breaks verification, and the dev CA builds documents the same
 * verifier accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sigil/attest.h"
#include "sigil/codec.h"
#include "sigil/crypto.h"

#define DOC_CAP 16384

#include "test_util.h"

/* The nitro vectors: name is a file under tests/vectors/nitro. */
static void vector_path(char *out, size_t cap, const char *name)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "nitro/%s", name);
    test_vector_path(out, cap, rel);
}

static size_t load(uint8_t *buf, size_t cap, const char *name)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "nitro/%s", name);
    return test_vector_load(buf, cap, rel);
}

static void hex48(uint8_t out[48], const char *hex)
{
    assert_int_equal(sigil_hex_decode_exact(out, 48, hex, 96, false, "test"), 0);
}

static const uint8_t *aws_root(size_t *len)
{
    const uint8_t *r = sigil_attest_aws_root(len);
    assert_non_null(r);
    return r;
}

#define ASSERT_FAILS_WITH(expr, code, needle)                                                      \
    do {                                                                                           \
        sigil_clear_error();                                                                       \
        if ((expr) == 0)                                                                           \
            fail_msg("accepted: %s", #expr);                                                       \
        assert_string_equal(sigil_err_code(sigil_errno()), sigil_err_code(code));                  \
        if (strstr(sigil_errmsg(), (needle)) == NULL)                                              \
            fail_msg("message \"%s\" lacks \"%s\"", sigil_errmsg(), (needle));                     \
    } while (0)

/* ---- the seven real documents (vectors/nitro/MANIFEST.json) ---- */

typedef struct {
    const char *file;
    int64_t verify_at;
    uint64_t timestamp_ms;
    const char *module_id;
    bool debug;
    const char *pcr0; /* NULL for debug documents */
    size_t ud_len, nonce_len, pk_len;
} real_doc;

static const real_doc REAL_DOCS[] = {
    {"nitro_attestation_blocky_prod_20240907.bin", 1725719859, 1725719859545,
     "i-0a22e5c5f24d22174-enc0191cceb4289903f", false,
     "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c"
     "9fe86a",
     1024, 1024, 1024},
    {"nitro_attestation_blocky_debug_20240907.bin", 1725719886, 1725719886508,
     "i-0a22e5c5f24d22174-enc0191ccebaf8feaba", true, NULL, 1024, 1024, 1024},
    {"nitro_attestation_evervault_pcr8_20221013.bin", 1665651482, 1665651482136,
     "i-020b6af9246d90e92-enc0183d09086c24190", false,
     "f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150"
     "142d8b",
     0, 256, 0},
    {"nitro_attestation_evervault_debug_20221012.bin", 1665582606, 1665582606081,
     "i-03ad7cdb817437eeb-enc0183cc7569b3f6e1", true, NULL, 13, 0, 19},
    {"nitro_attestation_evervault_pcr8_20230118.bin", 1674047239, 1674047239280,
     "i-0ec0e572c8263d8ff-enc0185c4fd382eeb25", false,
     "d265a83faa7b4fa0d73b82b6d06253e894445922937d0ee5a74fe4891da9817611a71e71b98e5329232902de3c"
     "f419af",
     120, 256, 0},
    {"nitro_attestation_evervault_debug_20230118.bin", 1674054632, 1674054632312,
     "i-06e1ffc9a8410edb1-enc0185c56e099c2d54", true, NULL, 120, 256, 0},
    {"nitro_attestation_evervault_debug_20230918.bin", 1695049410, 1695049410860,
     "i-0918f6c55e3b61d89-enc018aa8b8e2285d13", true, NULL, 91, 256, 0},
};

static void test_aws_root_fingerprint(void **state)
{
    static const char FP[] = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";
    uint8_t h[32], want[32], *pem_der;
    size_t len, pem_len;
    char path[4096];
    (void)state;
    const uint8_t *r = aws_root(&len);
    sigil_sha256(h, r, len);
    assert_int_equal(sigil_hex_decode_exact(want, 32, FP, 64, false, "fp"), 0);
    assert_memory_equal(h, want, 32);
    /* The compiled-in copy is the published PEM. */
    vector_path(path, sizeof(path), "aws_nitro_enclaves_root_g1.pem");
    assert_int_equal(sigil_attest_load_root_pem(&pem_der, &pem_len, path), 0);
    assert_int_equal(pem_len, len);
    assert_memory_equal(pem_der, r, len);
    free(pem_der);
}

static void test_real_docs_verify_at_their_time(void **state)
{
    static uint8_t doc[DOC_CAP];
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(REAL_DOCS); i++) {
        const real_doc *rd = &REAL_DOCS[i];
        sigil_attest_doc d;
        sigil_attest_policy pol = {.verify_time = rd->verify_at, .allow_debug = rd->debug};
        pol.root_der = aws_root(&pol.root_der_len);
        size_t n = load(doc, sizeof(doc), rd->file);
        if (sigil_attest_verify(&d, &pol, doc, n) != 0)
            fail_msg("%s: %s", rd->file, sigil_errmsg());
        assert_string_equal(d.module_id, rd->module_id);
        assert_int_equal(d.timestamp_ms, rd->timestamp_ms);
        assert_int_equal(d.user_data_len, rd->ud_len);
        assert_int_equal(d.nonce_len, rd->nonce_len);
        assert_int_equal(d.public_key_len, rd->pk_len);
        assert_int_equal(d.cabundle_n, 4);
        assert_true((d.pcr_mask & 0xffffu) == 0xffffu);
        if (rd->pcr0 != NULL) {
            uint8_t want[48];
            hex48(want, rd->pcr0);
            assert_memory_equal(d.pcrs[0], want, 48);
        }
    }
}

static void test_real_docs_fail_now(void **state)
{
    static uint8_t doc[DOC_CAP];
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(REAL_DOCS); i++) {
        sigil_attest_doc d;
        sigil_attest_policy pol = {.verify_time = (int64_t)time(NULL), .allow_debug = true};
        pol.root_der = aws_root(&pol.root_der_len);
        size_t n = load(doc, sizeof(doc), REAL_DOCS[i].file);
        ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION, "expired");
        /* Before the chain was issued, too. */
        pol.verify_time = REAL_DOCS[i].verify_at - 3600;
        ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION,
                          "not yet valid");
    }
}

static void test_debug_docs_refused_unless_allowed(void **state)
{
    static uint8_t doc[DOC_CAP];
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(REAL_DOCS); i++) {
        if (!REAL_DOCS[i].debug)
            continue;
        sigil_attest_doc d;
        sigil_attest_policy pol = {.verify_time = REAL_DOCS[i].verify_at};
        pol.root_der = aws_root(&pol.root_der_len);
        size_t n = load(doc, sizeof(doc), REAL_DOCS[i].file);
        ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION, "debug");
    }
}

static void test_mock_doc_refused(void **state)
{
    static uint8_t doc[DOC_CAP];
    sigil_attest_doc d;
    (void)state;
    size_t n = load(doc, sizeof(doc), "MOCK_not_nitro_blocky_selfsigned_attestation.bin");
    ASSERT_FAILS_WITH(sigil_attest_parse(&d, doc, n), SIGIL_E_ATTESTATION, "unprotected");
    sigil_attest_policy pol = {.verify_time = 1725719859, .allow_debug = true};
    pol.root_der = aws_root(&pol.root_der_len);
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION, "attestation");
}

static void test_softnsm_devchain_doc(void **state)
{
    static uint8_t doc[DOC_CAP];
    char path[4096];
    uint8_t *root;
    size_t root_len;
    sigil_attest_doc d;
    (void)state;
    size_t n = load(doc, sizeof(doc), "softnsm_devchain_doc_20300101.bin");
    vector_path(path, sizeof(path), "softnsm_devchain_doc_20300101.root.pem");
    assert_int_equal(sigil_attest_load_root_pem(&root, &root_len, path), 0);
    sigil_attest_policy pol = {
        .root_der = root, .root_der_len = root_len, .verify_time = 1893456000, .allow_debug = true};
    if (sigil_attest_verify(&d, &pol, doc, n) != 0)
        fail_msg("%s", sigil_errmsg());
    assert_int_equal(d.timestamp_ms / 1000, 1893456000);
    pol.root_der = aws_root(&pol.root_der_len);
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION,
                      "certificate chain");
    /* And a real document does not chain to the dev root. */
    n = load(doc, sizeof(doc), REAL_DOCS[0].file);
    pol.root_der = root;
    pol.root_der_len = root_len;
    pol.verify_time = REAL_DOCS[0].verify_at;
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION,
                      "certificate chain");
    free(root);
}

/* Every 13th byte flipped in turn: none of the variants may verify. */
static void test_bit_flips_never_verify(void **state)
{
    static uint8_t doc[DOC_CAP];
    sigil_attest_doc d;
    sigil_attest_policy pol = {.verify_time = REAL_DOCS[2].verify_at};
    (void)state;
    pol.root_der = aws_root(&pol.root_der_len);
    size_t n = load(doc, sizeof(doc), REAL_DOCS[2].file);
    for (size_t i = 0; i < n; i += 13) {
        doc[i] ^= 0x01;
        sigil_clear_error();
        if (sigil_attest_verify(&d, &pol, doc, n) == 0)
            fail_msg("flipped byte %zu verified", i);
        assert_int_equal(sigil_errno(), SIGIL_E_ATTESTATION);
        doc[i] ^= 0x01;
    }
    assert_int_equal(sigil_attest_verify(&d, &pol, doc, n), 0);
}

static void test_targeted_flips(void **state)
{
    static uint8_t doc[DOC_CAP];
    sigil_attest_doc d;
    sigil_attest_policy pol = {.verify_time = REAL_DOCS[0].verify_at};
    (void)state;
    pol.root_der = aws_root(&pol.root_der_len);
    size_t n = load(doc, sizeof(doc), REAL_DOCS[0].file);
    assert_int_equal(sigil_attest_parse(&d, doc, n), 0);
    /* Inside the nonce (1024 x 0x01): still parses, signature fails. */
    size_t nonce_off = (size_t)(d.nonce - doc);
    doc[nonce_off + 100] ^= 0x80;
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION, "signature");
    doc[nonce_off + 100] ^= 0x80;
    /* Last byte of s. */
    doc[n - 1] ^= 0x01;
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION, "signature");
    doc[n - 1] ^= 0x01;
    /* alg -35 -> -36 in the protected header. */
    assert_int_equal(doc[5], 0x22);
    doc[5] = 0x23;
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION, "ES384");
    doc[5] = 0x22;
    /* A trailing byte. */
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n + 1), SIGIL_E_ATTESTATION, "trailing");
    assert_int_equal(sigil_attest_verify(&d, &pol, doc, n), 0);
}

static void test_tag18_accepted(void **state)
{
    static uint8_t doc[DOC_CAP];
    sigil_attest_doc d;
    sigil_attest_policy pol = {.verify_time = REAL_DOCS[2].verify_at};
    (void)state;
    pol.root_der = aws_root(&pol.root_der_len);
    size_t n = load(doc + 1, sizeof(doc) - 1, REAL_DOCS[2].file);
    doc[0] = 0xd2; /* tag 18 */
    assert_int_equal(sigil_attest_verify(&d, &pol, doc, n + 1), 0);
    doc[0] = 0xd3; /* tag 19 */
    ASSERT_FAILS_WITH(sigil_attest_parse(&d, doc, n + 1), SIGIL_E_ATTESTATION, "tag");
}

static void test_wrong_root_and_garbage_root(void **state)
{
    static uint8_t doc[DOC_CAP];
    sigil_attest_doc d;
    uint8_t garbage[32] = {0x30, 0x03, 0x02, 0x01, 0x00};
    (void)state;
    size_t n = load(doc, sizeof(doc), REAL_DOCS[0].file);
    /* cabundle[0] is the real root, but it is never trusted by itself. */
    assert_int_equal(sigil_attest_parse(&d, doc, n), 0);
    sigil_attest_policy pol = {.root_der = d.cabundle[2],
                               .root_der_len = d.cabundle_len[2],
                               .verify_time = REAL_DOCS[0].verify_at};
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION,
                      "certificate chain");
    pol.root_der = garbage;
    pol.root_der_len = sizeof(garbage);
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION, "pinned root");
    pol.root_der = NULL;
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, doc, n), SIGIL_E_ATTESTATION, "pinned root");
}

/* ---- dev CA: build -> verify ---- */

static char g_tmpdir[256];

static int setup_tmpdir(void **state)
{
    (void)state;
    return test_tmpdir_make(g_tmpdir, sizeof(g_tmpdir), "attest");
}

static int teardown_tmpdir(void **state)
{
    (void)state;
    return test_tmpdir_remove(g_tmpdir);
}

static uint8_t g_pcrs[32][48];

static void fill_pcrs(void)
{
    for (unsigned i = 0; i < 32; i++)
        memset(g_pcrs[i], (int)(i + 1), 48);
}

static void test_build_verify_roundtrip(void **state)
{
    static uint8_t mem[SIGIL_ATTEST_DOC_MAX];
    sigil_devca *ca = NULL;
    sigil_buf b;
    sigil_attest_doc d;
    const uint8_t ud[] = "user data", nonce[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    char dir[512];
    (void)state;
    fill_pcrs();
    snprintf(dir, sizeof(dir), "%s/ca1", g_tmpdir);
    if (sigil_devca_load_or_create(&ca, dir) != 0)
        fail_msg("%s", sigil_errmsg());
    uint64_t now_ms = (uint64_t)time(NULL) * 1000u + 123u;
    sigil_buf_init(&b, mem, sizeof(mem));
    if (sigil_attest_build(&b, ca, "i-00000000000000000-enc0123456789abcdef", now_ms,
                           (const uint8_t(*)[48])g_pcrs, 0xffffu, ud, sizeof(ud), nonce,
                           sizeof(nonce), NULL, 0) != 0)
        fail_msg("%s", sigil_errmsg());
    /* The encoding choices of real documents. */
    static const uint8_t HEAD[] = {0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x59};
    assert_memory_equal(b.data, HEAD, sizeof(HEAD));
    assert_int_equal(b.data[b.len - 98], 0x58);
    assert_int_equal(b.data[b.len - 97], 0x60);
    assert_int_equal(b.data[10], 0xa9); /* 9-entry payload */

    sigil_attest_policy pol = {.verify_time = (int64_t)(now_ms / 1000)};
    pol.root_der = sigil_devca_root_der(ca, &pol.root_der_len);
    if (sigil_attest_verify(&d, &pol, b.data, b.len) != 0)
        fail_msg("%s", sigil_errmsg());
    assert_string_equal(d.module_id, "i-00000000000000000-enc0123456789abcdef");
    assert_int_equal(d.timestamp_ms, now_ms);
    assert_int_equal(d.pcr_mask, 0xffffu);
    assert_memory_equal(d.pcrs, g_pcrs, 16 * 48);
    assert_int_equal(d.user_data_len, sizeof(ud));
    assert_memory_equal(d.user_data, ud, sizeof(ud));
    assert_int_equal(d.nonce_len, sizeof(nonce));
    assert_null(d.public_key);
    /* The timestamp keeps the 9-byte form. */
    static const uint8_t TS_KEY[] = {0x69, 't', 'i', 'm', 'e', 's', 't', 'a', 'm', 'p', 0x1b};
    assert_non_null(memmem(d.payload, d.payload_len, TS_KEY, sizeof(TS_KEY)));

    /* Leaf lives 3 h: four hours later the same document is refused. */
    pol.verify_time += 4 * 3600;
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, b.data, b.len), SIGIL_E_ATTESTATION, "expired");
    /* Wrong root: the AWS one. */
    pol.verify_time = (int64_t)(now_ms / 1000);
    pol.root_der = aws_root(&pol.root_der_len);
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, b.data, b.len), SIGIL_E_ATTESTATION,
                      "certificate chain");

    /* Reloading the directory gives the same root; a fresh one does not. */
    size_t r1_len, r2_len;
    const uint8_t *r1 = sigil_devca_root_der(ca, &r1_len);
    sigil_devca *again = NULL, *other = NULL;
    assert_int_equal(sigil_devca_load_or_create(&again, dir), 0);
    const uint8_t *r2 = sigil_devca_root_der(again, &r2_len);
    assert_int_equal(r1_len, r2_len);
    assert_memory_equal(r1, r2, r1_len);
    snprintf(dir, sizeof(dir), "%s/ca2", g_tmpdir);
    assert_int_equal(sigil_devca_load_or_create(&other, dir), 0);
    pol.root_der = sigil_devca_root_der(other, &pol.root_der_len);
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, b.data, b.len), SIGIL_E_ATTESTATION,
                      "certificate chain");
    sigil_devca_free(other);
    sigil_devca_free(again);
    sigil_devca_free(ca);
}

static void test_devca_files(void **state)
{
    sigil_devca *ca = NULL;
    char dir[512], path[600];
    struct stat st;
    uint8_t *der;
    size_t der_len, want_len;
    (void)state;
    snprintf(dir, sizeof(dir), "%s/ca3", g_tmpdir);
    assert_int_equal(sigil_devca_load_or_create(&ca, dir), 0);
    static const char *const KEYS[] = {"root", "regional", "zonal", "instance"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(KEYS); i++) {
        snprintf(path, sizeof(path), "%s/%s.key", dir, KEYS[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    snprintf(path, sizeof(path), "%s/root.pem", dir);
    assert_int_equal(sigil_attest_load_root_pem(&der, &der_len, path), 0);
    const uint8_t *want = sigil_devca_root_der(ca, &want_len);
    assert_int_equal(der_len, want_len);
    assert_memory_equal(der, want, der_len);
    free(der);
    sigil_devca_free(ca);
    /* A key without its certificate is an inconsistent directory. */
    snprintf(path, sizeof(path), "%s/root.pem", dir);
    assert_int_equal(unlink(path), 0);
    ASSERT_FAILS_WITH(sigil_devca_load_or_create(&ca, dir), SIGIL_E_IO, "not both");
}

static void test_build_archival_time_and_debug(void **state)
{
    static uint8_t mem[SIGIL_ATTEST_DOC_MAX];
    sigil_devca *ca = NULL;
    sigil_buf b;
    sigil_attest_doc d;
    uint8_t zero[32][48] = {{0}};
    char dir[512];
    (void)state;
    snprintf(dir, sizeof(dir), "%s/ca4", g_tmpdir);
    assert_int_equal(sigil_devca_load_or_create(&ca, dir), 0);
    /* A timestamp a year ahead: intermediates are re-issued to cover it. */
    uint64_t ts = ((uint64_t)time(NULL) + 365u * 86400u) * 1000u;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_attest_build(&b, ca, "i-0-enc0", ts, (const uint8_t(*)[48])zero, 0x7u,
                                        NULL, 0, NULL, 0, NULL, 0),
                     0);
    sigil_attest_policy pol = {.verify_time = (int64_t)(ts / 1000) + 3600};
    pol.root_der = sigil_devca_root_der(ca, &pol.root_der_len);
    /* PCR0..2 zero is a debug document. */
    ASSERT_FAILS_WITH(sigil_attest_verify(&d, &pol, b.data, b.len), SIGIL_E_ATTESTATION, "debug");
    pol.allow_debug = true;
    if (sigil_attest_verify(&d, &pol, b.data, b.len) != 0)
        fail_msg("%s", sigil_errmsg());
    /* Oversized fields and bad module ids are refused before signing. */
    static uint8_t big[SIGIL_ATTEST_FIELD_MAX + 1];
    ASSERT_FAILS_WITH(sigil_attest_build(&b, ca, "m", ts, (const uint8_t(*)[48])zero, 1u, big,
                                         sizeof(big), NULL, 0, NULL, 0),
                      SIGIL_E_TOO_LARGE, "1024");
    ASSERT_FAILS_WITH(sigil_attest_build(&b, ca, "bad id", ts, (const uint8_t(*)[48])zero, 1u, NULL,
                                         0, NULL, 0, NULL, 0),
                      SIGIL_E_BAD_FIELD, "module_id");
    ASSERT_FAILS_WITH(sigil_attest_build(&b, ca, "m", ts, (const uint8_t(*)[48])zero, 0u, NULL, 0,
                                         NULL, 0, NULL, 0),
                      SIGIL_E_BAD_FIELD, "PCR");
    sigil_devca_free(ca);
}

/* ---- boot binding ---- */

static void test_boot_binding_roundtrip(void **state)
{
    uint8_t mem[256];
    sigil_buf b;
    sigil_boot_binding bb, out;
    (void)state;
    for (size_t i = 0; i < sizeof(bb.boot_id); i++)
        bb.boot_id[i] = (uint8_t)i;
    memset(bb.sealing_key, 0xaa, 32);
    memset(bb.receipt_key, 0xbb, 32);
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_boot_binding_encode(&b, &bb), 0);
    assert_int_equal(b.len, SIGIL_BOOT_BINDING_LEN);
    static const uint8_t HEAD[] = {0xa4, 0x65, 's', 'i', 'g', 'i',  'l', 0x67, 'b', 'o',
                                   'o',  't',  '-', 'v', '1', 0x67, 'b', 'o',  'o', 't'};
    assert_memory_equal(mem, HEAD, sizeof(HEAD));
    assert_int_equal(sigil_boot_binding_decode(&out, mem, b.len), 0);
    assert_memory_equal(&out, &bb, sizeof(bb));

    /* Strictness: every deviation from the one encoding is refused. */
    ASSERT_FAILS_WITH(sigil_boot_binding_decode(&out, mem, b.len - 1), SIGIL_E_ATTESTATION,
                      "boot binding");
    mem[b.len] = 0x00;
    ASSERT_FAILS_WITH(sigil_boot_binding_decode(&out, mem, b.len + 1), SIGIL_E_ATTESTATION,
                      "trailing");
    mem[14] = '2'; /* boot-v2 */
    ASSERT_FAILS_WITH(sigil_boot_binding_decode(&out, mem, b.len), SIGIL_E_ATTESTATION, "boot-v1");
    mem[14] = '1';
    mem[0] = 0xa5;
    ASSERT_FAILS_WITH(sigil_boot_binding_decode(&out, mem, b.len), SIGIL_E_ATTESTATION,
                      "4 entries");
    mem[0] = 0xa4;
    mem[16] = 'x'; /* "xoot_id" */
    ASSERT_FAILS_WITH(sigil_boot_binding_decode(&out, mem, b.len), SIGIL_E_ATTESTATION, "boot_id");
    mem[16] = 'b';
    mem[23] = 0x4f; /* boot_id as 15 bytes */
    ASSERT_FAILS_WITH(sigil_boot_binding_decode(&out, mem, b.len), SIGIL_E_ATTESTATION,
                      "boot binding");
    mem[23] = 0x50;
    assert_int_equal(sigil_boot_binding_decode(&out, mem, b.len), 0);
    ASSERT_FAILS_WITH(sigil_boot_binding_decode(&out, NULL, 0), SIGIL_E_ATTESTATION, "null");
    /* Real documents' user_data is not a boot binding. */
    static const uint8_t ud[] = "hello, world!";
    ASSERT_FAILS_WITH(sigil_boot_binding_decode(&out, ud, sizeof(ud) - 1), SIGIL_E_ATTESTATION,
                      "boot binding");
}

/* ---- measurement ---- */

static void test_measure_file(void **state)
{
    char path[512];
    uint8_t pcr0[48], want[48];
    (void)state;
    snprintf(path, sizeof(path), "%s/enclave.bin", g_tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("hello\n", f);
    fclose(f);
    assert_int_equal(sigil_attest_measure_file(pcr0, path), 0);
    /* python3: sha384(b'\0'*48 + sha384(b'hello\n').digest()) */
    hex48(want, "2b434cf47a302490f93e9aff3086318358d1e95d545b28241d3dceb121e452066f1d1f108022fd30"
                "f1fbddd0cda47dc9");
    assert_memory_equal(pcr0, want, 48);
    ASSERT_FAILS_WITH(sigil_attest_measure_file(pcr0, g_tmpdir), SIGIL_E_IO, "regular file");
    snprintf(path, sizeof(path), "%s/missing", g_tmpdir);
    ASSERT_FAILS_WITH(sigil_attest_measure_file(pcr0, path), SIGIL_E_IO, "cannot open");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_root_fingerprint),
        cmocka_unit_test(test_real_docs_verify_at_their_time),
        cmocka_unit_test(test_real_docs_fail_now),
        cmocka_unit_test(test_debug_docs_refused_unless_allowed),
        cmocka_unit_test(test_mock_doc_refused),
        cmocka_unit_test(test_softnsm_devchain_doc),
        cmocka_unit_test(test_bit_flips_never_verify),
        cmocka_unit_test(test_targeted_flips),
        cmocka_unit_test(test_tag18_accepted),
        cmocka_unit_test(test_wrong_root_and_garbage_root),
        cmocka_unit_test(test_build_verify_roundtrip),
        cmocka_unit_test(test_devca_files),
        cmocka_unit_test(test_build_archival_time_and_debug),
        cmocka_unit_test(test_boot_binding_roundtrip),
        cmocka_unit_test(test_measure_file),
    };
    if (sigil_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
