/*
 * Attestation document verification (nitro.md §2.3-§2.5): X.509 path from
 * the leaf through cabundle[1..] to the pinned root (cabundle[0] is never
 * trusted), ES384 over the COSE Sig_structure built from the exact parsed
 * bytes, and the debug-mode check. libsigil-core, untrusted input.
 */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest_internal.h"
#include "sigil/cbor.h"

/* Parses one DER certificate that must span exactly len bytes. */
static X509 *der_to_x509(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    if (len > (size_t)LONG_MAX)
        return NULL;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != der + len) {
        X509_free(x);
        return NULL;
    }
    return x;
}

typedef struct {
    X509 *root;
    X509 *leaf;
    STACK_OF(X509) * untrusted;
    X509_STORE *store;
    X509_STORE_CTX *ctx;
} chain;

static void chain_free(chain *ch)
{
    X509_STORE_CTX_free(ch->ctx);
    X509_STORE_free(ch->store);
    sk_X509_pop_free(ch->untrusted, X509_free);
    X509_free(ch->leaf);
    X509_free(ch->root);
}

static int check_leaf_profile(X509 *leaf)
{
    EVP_PKEY *pk = X509_get0_pubkey(leaf);
    char group[32];
    size_t glen = 0;
    ENSURE(pk != NULL && EVP_PKEY_is_a(pk, "EC") &&
               EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof(group), &glen) == 1 &&
               strcmp(group, "secp384r1") == 0,
           SIGIL_E_ATTESTATION, "attestation: leaf certificate key is not EC P-384");
    ENSURE(X509_get_signature_nid(leaf) == NID_ecdsa_with_SHA384, SIGIL_E_ATTESTATION,
           "attestation: leaf certificate is not signed with ecdsa-with-SHA384");
    ENSURE(X509_check_ca(leaf) == 0, SIGIL_E_ATTESTATION,
           "attestation: leaf certificate is a CA certificate");
    ENSURE((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
               (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE),
           SIGIL_E_ATTESTATION, "attestation: leaf certificate lacks keyUsage digitalSignature");
    return 0;
}

static int load_chain(chain *ch, const sigil_attest_doc *d, const sigil_attest_policy *pol)
{
    ch->root = der_to_x509(pol->root_der, pol->root_der_len);
    ENSURE(ch->root != NULL, SIGIL_E_ATTESTATION, "attestation: the pinned root is not DER X.509");
    ch->leaf = der_to_x509(d->certificate, d->certificate_len);
    ENSURE(ch->leaf != NULL, SIGIL_E_ATTESTATION, "attestation: certificate is not DER X.509");
    ch->untrusted = sk_X509_new_null();
    ENSURE(ch->untrusted != NULL, SIGIL_E_NO_MEMORY, "attestation: out of memory");
    for (size_t i = 1; i < d->cabundle_n; i++) {
        X509 *x = der_to_x509(d->cabundle[i], d->cabundle_len[i]);
        ENSURE(x != NULL, SIGIL_E_ATTESTATION, "attestation: cabundle[%zu] is not DER X.509", i);
        if (sk_X509_push(ch->untrusted, x) <= 0) {
            X509_free(x);
            BAIL(SIGIL_E_NO_MEMORY, "attestation: out of memory");
        }
    }
    return 0;
}

static int verify_chain(chain *ch, int64_t at)
{
    ch->store = X509_STORE_new();
    ch->ctx = X509_STORE_CTX_new();
    ENSURE(ch->store != NULL && ch->ctx != NULL && X509_STORE_add_cert(ch->store, ch->root) == 1,
           SIGIL_E_NO_MEMORY, "attestation: cannot set up the X.509 store");
    ENSURE(X509_STORE_CTX_init(ch->ctx, ch->store, ch->leaf, ch->untrusted) == 1, SIGIL_E_NO_MEMORY,
           "attestation: cannot set up the X.509 context");
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ch->ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)at);
    X509_VERIFY_PARAM_set_depth(vp, (int)SIGIL_ATTEST_MAX_CABUNDLE);
    if (X509_verify_cert(ch->ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ch->ctx);
        BAIL(SIGIL_E_ATTESTATION, "attestation: certificate chain: %s (depth %d)",
             X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ch->ctx));
    }
    return 0;
}

/* Sig_structure = ["Signature1", protected, h'', payload], shortest heads. */
static int put_sig_structure(sigil_buf *b, const sigil_attest_doc *d)
{
    GUARD(sigil_cbor_put_array(b, 4));
    GUARD(sigil_cbor_put_cstr(b, "Signature1"));
    GUARD(sigil_cbor_put_bytes(b, d->protected_hdr, d->protected_hdr_len));
    GUARD(sigil_cbor_put_bytes(b, "", 0));
    return sigil_cbor_put_bytes(b, d->payload, d->payload_len);
}

/* Raw r || s (48 + 48) to the DER ECDSA-Sig-Value OpenSSL verifies. */
static int raw_sig_to_der(uint8_t *der, size_t cap, size_t *der_len, const uint8_t raw[96])
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 48, NULL), *sv = BN_bin2bn(raw + 48, 48, NULL);
    if (s == NULL || r == NULL || sv == NULL || ECDSA_SIG_set0(s, r, sv) != 1) {
        ECDSA_SIG_free(s);
        BN_free(r);
        BN_free(sv);
        BAIL(SIGIL_E_NO_MEMORY, "attestation: out of memory");
    }
    int n = i2d_ECDSA_SIG(s, NULL);
    if (n <= 0 || (size_t)n > cap) {
        ECDSA_SIG_free(s);
        BAIL(SIGIL_E_INTERNAL, "attestation: cannot encode the signature");
    }
    unsigned char *p = der;
    *der_len = (size_t)i2d_ECDSA_SIG(s, &p);
    ECDSA_SIG_free(s);
    return 0;
}

static int verify_signature(const sigil_attest_doc *d, X509 *leaf)
{
    uint8_t der[128];
    size_t der_len;
    sigil_buf b;
    size_t cap = d->payload_len + d->protected_hdr_len + 32;
    uint8_t *tbs = malloc(cap);
    ENSURE(tbs != NULL, SIGIL_E_NO_MEMORY, "attestation: out of memory");
    sigil_buf_init(&b, tbs, cap);
    if (put_sig_structure(&b, d) != 0 ||
        raw_sig_to_der(der, sizeof(der), &der_len, d->signature) != 0) {
        free(tbs);
        return -1;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL &&
             EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, X509_get0_pubkey(leaf)) == 1 &&
             EVP_DigestVerify(md, der, der_len, tbs, b.len) == 1;
    EVP_MD_CTX_free(md);
    free(tbs);
    ENSURE(ok, SIGIL_E_ATTESTATION, "attestation: COSE signature does not verify");
    return 0;
}

static bool pcr_is_zero(const uint8_t pcr[48])
{
    uint8_t acc = 0;
    for (size_t i = 0; i < 48; i++)
        acc |= pcr[i];
    return acc == 0;
}

/* Debug enclaves report PCR0..2 as zero; production needs all three measured. */
static int check_debug(const sigil_attest_doc *d, bool allow_debug)
{
    if (allow_debug)
        return 0;
    for (unsigned i = 0; i < 3; i++) {
        ENSURE(d->pcr_mask & (1u << i), SIGIL_E_ATTESTATION, "attestation: PCR%u is missing", i);
        ENSURE(!pcr_is_zero(d->pcrs[i]), SIGIL_E_ATTESTATION,
               "attestation: PCR%u is all zero (debug-mode enclave refused)", i);
    }
    return 0;
}

int sigil_attest_verify(sigil_attest_doc *out, const sigil_attest_policy *pol, const uint8_t *doc,
                        size_t len)
{
    chain ch = {0};
    sigil_attest_doc d;
    ENSURE(pol != NULL && pol->root_der != NULL && pol->root_der_len > 0, SIGIL_E_ATTESTATION,
           "attestation: no pinned root");
    GUARD(sigil_attest_parse(&d, doc, len));
    int rc = -1;
    if (load_chain(&ch, &d, pol) == 0 && check_leaf_profile(ch.leaf) == 0 &&
        verify_chain(&ch, pol->verify_time) == 0 && verify_signature(&d, ch.leaf) == 0 &&
        check_debug(&d, pol->allow_debug) == 0)
        rc = 0;
    chain_free(&ch);
    if (rc == 0)
        *out = d;
    else
        memset(out, 0, sizeof(*out));
    return rc;
}
