/*
 * Issue 5, acceptance 1, exhaustively: every single byte of a real AWS Nitro
 * attestation document, flipped in turn, is refused by sigil_attest_verify
 * under the pinned AWS root at the document's own verify_at_unix. Every
 * position, not a sample: the COSE envelope heads, the protected header,
 * the unprotected map, the payload (every certificate of the chain sits in
 * it), and the raw r||s signature.
 *
 * The rest of acceptance 1 is in tests/unit/test_attest.c and not repeated
 * here: all seven documents verify at their verify_at_unix
 * (test_real_docs_verify_at_their_time) and fail now
 * (test_real_docs_fail_now); debug documents are refused as debug
 * (test_debug_docs_refused_unless_allowed); the mock document
 * (test_mock_doc_refused) and the soft-NSM dev-chain document
 * (test_softnsm_devchain_doc) are refused against the AWS root.
 *
 * Why no flip can be accepted: the COSE signature covers the protected
 * header and the payload byte for byte (the verifier never re-encodes), so
 * a flip there breaks the signature even where the verifier ignores the
 * value (cabundle[0] is never used as a trust anchor, yet it is signed);
 * the unprotected map is one byte (a0) and any other byte is not an empty
 * map; the envelope heads are parsed strictly (a changed length leaves
 * bytes over or short); a flipped signature byte changes r or s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/attest.h"

#define DOC_CAP 16384

#include "test_util.h"

/* The nitro vectors: name is a file under tests/vectors/nitro. */
static size_t load(uint8_t *buf, size_t cap, const char *name)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "nitro/%s", name);
    return test_vector_load(buf, cap, rel);
}

/* Regions of the document, by the byte ranges the parser reports. */
enum {
    R_ENVELOPE,  /* array head, bstr heads, unprotected map */
    R_PROTECTED, /* content of the protected bstr */
    R_PAYLOAD,   /* payload content outside the certificates */
    R_CERT,      /* the leaf certificate */
    R_ROOTCOPY,  /* cabundle[0]: the root's copy, never used by the verifier */
    R_CABUNDLE,  /* cabundle[1..n-1] */
    R_SIGNATURE, /* r || s */
    R_COUNT_
};

static const char *const REGION_NAMES[R_COUNT_] = {
    "envelope", "protected", "payload", "certificate", "cabundle[0]", "cabundle[1..]", "signature",
};

static bool inside(size_t i, const uint8_t *doc, const uint8_t *p, size_t len)
{
    return p != NULL && i >= (size_t)(p - doc) && i < (size_t)(p - doc) + len;
}

static int region_of(const sigil_attest_doc *d, const uint8_t *doc, size_t i)
{
    if (inside(i, doc, d->certificate, d->certificate_len))
        return R_CERT;
    if (inside(i, doc, d->cabundle[0], d->cabundle_len[0]))
        return R_ROOTCOPY;
    for (size_t k = 1; k < d->cabundle_n; k++)
        if (inside(i, doc, d->cabundle[k], d->cabundle_len[k]))
            return R_CABUNDLE;
    if (inside(i, doc, d->payload, d->payload_len))
        return R_PAYLOAD;
    if (inside(i, doc, d->protected_hdr, d->protected_hdr_len))
        return R_PROTECTED;
    if (inside(i, doc, d->signature, 96))
        return R_SIGNATURE;
    return R_ENVELOPE;
}

typedef struct {
    size_t tried[R_COUNT_];
    size_t sig_msg[R_COUNT_]; /* refused by the COSE signature check */
} flip_stats;

/* Flips every byte of the document with mask, verifying each variant. */
static void flip_all(const char *file, int64_t verify_at, bool allow_debug, uint8_t mask)
{
    static uint8_t doc[DOC_CAP];
    sigil_attest_doc d, pristine;
    flip_stats st = {{0}, {0}};
    size_t accepted = 0;
    sigil_attest_policy pol = {.verify_time = verify_at, .allow_debug = allow_debug};
    pol.root_der = sigil_attest_aws_root(&pol.root_der_len);
    assert_non_null(pol.root_der);
    size_t n = load(doc, sizeof(doc), file);
    if (sigil_attest_verify(&pristine, &pol, doc, n) != 0)
        fail_msg("%s does not verify unmodified: %s", file, sigil_errmsg());
    assert_int_equal(pristine.cabundle_n, 4);
    for (size_t i = 0; i < n; i++) {
        int r = region_of(&pristine, doc, i);
        doc[i] ^= mask;
        sigil_clear_error();
        if (sigil_attest_verify(&d, &pol, doc, n) == 0) {
            print_error("%s: byte %zu (%s) ^ 0x%02x accepted\n", file, i, REGION_NAMES[r], mask);
            accepted++;
        } else {
            assert_int_equal(sigil_errno(), SIGIL_E_ATTESTATION);
            if (strstr(sigil_errmsg(), "COSE signature does not verify") != NULL)
                st.sig_msg[r]++;
        }
        st.tried[r]++;
        doc[i] ^= mask;
    }
    assert_int_equal(accepted, 0);
    size_t total = 0;
    for (int r = 0; r < R_COUNT_; r++) {
        assert_true(st.tried[r] > 0); /* every region was exercised */
        total += st.tried[r];
        print_message("%s ^0x%02x %-11s %5zu positions, %5zu refused by the COSE signature\n", file,
                      mask, REGION_NAMES[r], st.tried[r], st.sig_msg[r]);
    }
    assert_int_equal(total, n);
    /* Each of the 96 signature bytes reaches and fails the signature check:
     * the chain and payload were fine, only r or s changed. */
    assert_int_equal(st.tried[R_SIGNATURE], 96);
    assert_int_equal(st.sig_msg[R_SIGNATURE], 96);
    /* cabundle[0] is ignored by the chain check; only the COSE signature
     * over the payload protects its bytes, and it refuses every one. */
    assert_int_equal(st.tried[R_ROOTCOPY], pristine.cabundle_len[0]);
    assert_int_equal(st.sig_msg[R_ROOTCOPY], pristine.cabundle_len[0]);
    assert_int_equal(sigil_attest_verify(&d, &pol, doc, n), 0);
}

/* The smallest real document (4426 bytes) is a debug one: verified with
 * allow_debug so that only the flip can refuse it. */
static void test_smallest_doc_every_byte(void **state)
{
    (void)state;
    flip_all("nitro_attestation_evervault_debug_20221012.bin", 1665582606, true, 0x01);
}

/* The smallest production (non-debug) document, under the production
 * policy (allow_debug false), every bit of each byte inverted. */
static void test_smallest_prod_doc_every_byte(void **state)
{
    (void)state;
    flip_all("nitro_attestation_evervault_pcr8_20221013.bin", 1665651482, false, 0xff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smallest_doc_every_byte),
        cmocka_unit_test(test_smallest_prod_doc_every_byte),
    };
    assert_int_equal(sigil_init(), 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
