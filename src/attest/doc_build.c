/*
 * Builds attestation documents with the dev CA, byte for byte in the shape
 * of real ones (nitro.md §8.2): 9-entry payload in the real key order,
 * timestamp in the 9-byte form, protected a1 01 38 22, unprotected a0,
 * untagged, payload bstr with the 0x59 head, raw r || s signature.
 * libsigil-core; used by sigil-launch's soft NSM and by tests.
 */
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/devca_internal.h"
#include "sigil/cbor.h"

static const uint8_t PROTECTED_ES384[] = {0xa1, 0x01, 0x38, 0x22};

typedef struct {
    const char *module_id;
    uint64_t timestamp_ms;
    const uint8_t (*pcrs)[48];
    uint32_t pcr_mask;
    const uint8_t *user_data;
    size_t ud_len;
    const uint8_t *nonce;
    size_t nonce_len;
    const uint8_t *public_key;
    size_t pk_len;
} doc_fields;

static int check_fields(const doc_fields *f)
{
    size_t n;
    GUARD(attest_check_module_id(f->module_id, &n, SIGIL_E_BAD_FIELD, "attestation build"));
    ENSURE(f->timestamp_ms > 0, SIGIL_E_BAD_FIELD, "attestation build: timestamp is zero");
    ENSURE(f->pcr_mask != 0, SIGIL_E_BAD_FIELD, "attestation build: no PCRs");
    ENSURE((f->user_data == NULL || f->ud_len <= SIGIL_ATTEST_FIELD_MAX) &&
               (f->nonce == NULL || f->nonce_len <= SIGIL_ATTEST_FIELD_MAX) &&
               (f->public_key == NULL || (f->pk_len > 0 && f->pk_len <= SIGIL_ATTEST_FIELD_MAX)),
           SIGIL_E_TOO_LARGE,
           "attestation build: user_data, nonce and public_key are limited "
           "to %u bytes each",
           SIGIL_ATTEST_FIELD_MAX);
    return 0;
}

static int put_payload(sigil_buf *b, const doc_fields *f, const uint8_t *leaf, size_t leaf_len,
                       const sigil_devca *ca)
{
    size_t npcrs = 0;
    for (unsigned i = 0; i < SIGIL_NSM_MAX_PCRS; i++)
        npcrs += (f->pcr_mask >> i) & 1u;
    GUARD(sigil_cbor_put_map(b, 9));
    GUARD(sigil_cbor_put_cstr(b, "module_id"));
    GUARD(sigil_cbor_put_cstr(b, f->module_id));
    GUARD(sigil_cbor_put_cstr(b, "digest"));
    GUARD(sigil_cbor_put_cstr(b, "SHA384"));
    GUARD(sigil_cbor_put_cstr(b, "timestamp"));
    GUARD(sigil_cbor_put_head_wide(b, SIGIL_CBOR_UINT, f->timestamp_ms, 8));
    GUARD(sigil_cbor_put_cstr(b, "pcrs"));
    GUARD(sigil_cbor_put_map(b, npcrs));
    for (unsigned i = 0; i < SIGIL_NSM_MAX_PCRS; i++) {
        if (!((f->pcr_mask >> i) & 1u))
            continue;
        GUARD(sigil_cbor_put_uint(b, i));
        GUARD(sigil_cbor_put_bytes(b, f->pcrs[i], 48));
    }
    GUARD(sigil_cbor_put_cstr(b, "certificate"));
    GUARD(sigil_cbor_put_bytes(b, leaf, leaf_len));
    GUARD(sigil_cbor_put_cstr(b, "cabundle"));
    GUARD(sigil_cbor_put_array(b, DEVCA_LEVELS));
    for (unsigned i = 0; i < DEVCA_LEVELS; i++)
        GUARD(sigil_cbor_put_bytes(b, ca->lv[i].der, ca->lv[i].der_len));
    GUARD(sigil_cbor_put_cstr(b, "public_key"));
    GUARD(sigil_cbor_put_bytes_or_null(b, f->public_key, f->pk_len));
    GUARD(sigil_cbor_put_cstr(b, "user_data"));
    GUARD(sigil_cbor_put_bytes_or_null(b, f->user_data, f->ud_len));
    GUARD(sigil_cbor_put_cstr(b, "nonce"));
    return sigil_cbor_put_bytes_or_null(b, f->nonce, f->nonce_len);
}

/* A fresh leaf per document, like the real NSM: P-384, CA:FALSE,
 * digitalSignature, valid ts-3 s .. ts+3 h. */
static int make_leaf(devca_level *leaf, const sigil_devca *ca, const char *module_id, int64_t ts)
{
    char cn[65];
    snprintf(cn, sizeof(cn), "%s", module_id); /* CN is at most 64 characters */
    devca_cert_spec s = {
        .cn = cn,
        .bc = "critical,CA:FALSE",
        .ku = "digitalSignature",
        .not_before = ts - LEAF_BEFORE_S,
        .not_after = ts + LEAF_AFTER_S,
        .issuer = &ca->lv[DEVCA_LEVELS - 1],
    };
    GUARD(devca_new_key(&leaf->key));
    s.key = leaf->key;
    GUARD(devca_issue(&leaf->cert, &s));
    unsigned char *der = NULL;
    int n = i2d_X509(leaf->cert, &der);
    ENSURE(n > 0 && (size_t)n <= SIGIL_ATTEST_FIELD_MAX, SIGIL_E_CRYPTO,
           "attestation build: cannot encode the leaf");
    leaf->der = malloc((size_t)n);
    if (leaf->der == NULL) {
        OPENSSL_free(der);
        BAIL(SIGIL_E_NO_MEMORY, "attestation build: out of memory");
    }
    memcpy(leaf->der, der, (size_t)n);
    leaf->der_len = (size_t)n;
    OPENSSL_free(der);
    return 0;
}

/* ES384 over Sig_structure, as raw r || s. */
static int sign_raw(uint8_t sig[96], EVP_PKEY *key, const uint8_t *payload, size_t payload_len)
{
    sigil_buf b;
    size_t cap = payload_len + 64, der_len = 0;
    uint8_t der[160];
    uint8_t *tbs = malloc(cap);
    ENSURE(tbs != NULL, SIGIL_E_NO_MEMORY, "attestation build: out of memory");
    sigil_buf_init(&b, tbs, cap);
    int ok = sigil_cbor_put_array(&b, 4) == 0 && sigil_cbor_put_cstr(&b, "Signature1") == 0 &&
             sigil_cbor_put_bytes(&b, PROTECTED_ES384, sizeof(PROTECTED_ES384)) == 0 &&
             sigil_cbor_put_bytes(&b, "", 0) == 0 &&
             sigil_cbor_put_bytes(&b, payload, payload_len) == 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    der_len = sizeof(der);
    ok = ok && md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
         EVP_DigestSign(md, der, &der_len, tbs, b.len) == 1;
    EVP_MD_CTX_free(md);
    free(tbs);
    ENSURE(ok, SIGIL_E_CRYPTO, "attestation build: signing failed");
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    ok = s != NULL && BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 48) == 48 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 48, 48) == 48;
    ECDSA_SIG_free(s);
    ENSURE(ok, SIGIL_E_CRYPTO, "attestation build: bad signature encoding");
    return 0;
}

static int put_envelope(sigil_buf *out, const uint8_t *payload, size_t payload_len,
                        const uint8_t sig[96])
{
    GUARD(sigil_cbor_put_array(out, 4));
    GUARD(sigil_cbor_put_bytes(out, PROTECTED_ES384, sizeof(PROTECTED_ES384)));
    GUARD(sigil_cbor_put_map(out, 0));
    GUARD(sigil_cbor_put_head_wide(out, SIGIL_CBOR_BYTES, payload_len, 2));
    GUARD(sigil_buf_put(out, payload, payload_len));
    return sigil_cbor_put_bytes(out, sig, 96);
}

static int build(sigil_buf *out, sigil_devca *ca, const doc_fields *f, devca_level *leaf,
                 uint8_t *pbuf, size_t pcap)
{
    sigil_buf pb;
    uint8_t sig[96];
    int64_t ts = (int64_t)(f->timestamp_ms / 1000);
    GUARD(devca_ensure(ca, ts));
    GUARD(make_leaf(leaf, ca, f->module_id, ts));
    sigil_buf_init(&pb, pbuf, pcap);
    GUARD(put_payload(&pb, f, leaf->der, leaf->der_len, ca));
    ENSURE(pb.len <= 0xffff, SIGIL_E_TOO_LARGE, "attestation build: payload over 65535 bytes");
    GUARD(sign_raw(sig, leaf->key, pb.data, pb.len));
    size_t mark = out->len;
    if (put_envelope(out, pb.data, pb.len, sig) != 0) {
        out->len = mark;
        return -1;
    }
    if (out->len - mark > SIGIL_ATTEST_DOC_MAX) {
        out->len = mark;
        BAIL(SIGIL_E_TOO_LARGE, "attestation build: document over %u bytes", SIGIL_ATTEST_DOC_MAX);
    }
    return 0;
}

int sigil_attest_build(sigil_buf *out, sigil_devca *ca, const char *module_id,
                       uint64_t timestamp_ms, const uint8_t pcrs[32][48], uint32_t pcr_mask,
                       const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                       size_t nonce_len, const uint8_t *public_key, size_t pk_len)
{
    doc_fields f = {module_id, timestamp_ms, pcrs,      pcr_mask,   user_data,
                    ud_len,    nonce,        nonce_len, public_key, pk_len};
    devca_level leaf = {0};
    ENSURE(ca != NULL, SIGIL_E_INTERNAL, "attestation build: no dev CA");
    GUARD(check_fields(&f));
    uint8_t *pbuf = malloc(SIGIL_NSM_RESPONSE_MAX);
    ENSURE(pbuf != NULL, SIGIL_E_NO_MEMORY, "attestation build: out of memory");
    int rc = build(out, ca, &f, &leaf, pbuf, SIGIL_NSM_RESPONSE_MAX);
    free(pbuf);
    X509_free(leaf.cert);
    EVP_PKEY_free(leaf.key);
    free(leaf.der);
    return rc;
}
