/*
 * sigil-kms cryptography (untrusted host side of the dev key service):
 * CiphertextBlob sealing with AES-256-GCM, and CiphertextForRecipient as
 * AWS KMS writes it: CMS EnvelopedData, one key-transport recipient named by
 * SKI = SHA-256(SPKI), RSAES-OAEP-SHA256/MGF1-SHA256, AES-256-CBC, BER with
 * indefinite lengths.
 */
#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "kms/kms_service.h"
#include "sigil/crypto.h"

#define BLOB_VERSION 1
#define GCM_IV 12
#define GCM_TAG 16

/* ---- CiphertextBlob ---- */
static int gcm(uint8_t *out, const uint8_t key[32], const uint8_t iv[GCM_IV], const uint8_t *aad,
               size_t aad_len, const uint8_t *in, size_t n, uint8_t tag[GCM_TAG], bool enc)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int l = 0, ok = ctx != NULL;
    ok = ok && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) == 1;
    ok = ok && EVP_CipherUpdate(ctx, NULL, &l, aad, (int)aad_len) == 1;
    ok = ok && EVP_CipherUpdate(ctx, out, &l, in, (int)n) == 1;
    if (!enc)
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(ctx, out + l, &l) == 1;
    if (enc)
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    return ok ? 0 : -1;
}

int sigil_kms_blob_seal(sigil_buf *out, const uint8_t key[32], const char *key_uuid,
                        const uint8_t *pt, size_t n)
{
    size_t idl = strlen(key_uuid), start = out->len;
    size_t need = 2 + idl + GCM_IV + n + GCM_TAG;
    ENSURE(idl > 0 && idl < 256, SIGIL_E_INTERNAL, "blob: key id of %zu bytes", idl);
    ENSURE(n > 0 && n <= SIGIL_KMS_PLAINTEXT_MAX && need <= SIGIL_KMS_BLOB_MAX, SIGIL_E_TOO_LARGE,
           "blob: plaintext of %zu bytes", n);
    ENSURE(need <= out->cap - out->len, SIGIL_E_TOO_LARGE, "blob: output buffer too small");
    uint8_t *p = out->data + start;
    p[0] = BLOB_VERSION;
    p[1] = (uint8_t)idl;
    memcpy(p + 2, key_uuid, idl);
    uint8_t *iv = p + 2 + idl;
    ENSURE(RAND_bytes(iv, GCM_IV) == 1, SIGIL_E_CRYPTO, "blob: no randomness");
    ENSURE(gcm(iv + GCM_IV, key, iv, p, 2 + idl, pt, n, iv + GCM_IV + n, true) == 0, SIGIL_E_CRYPTO,
           "blob: encryption failed");
    out->len += need;
    return 0;
}

int sigil_kms_blob_key(sigil_slice *key_uuid, const uint8_t *blob, size_t len)
{
    ENSURE(len >= 2 && blob[0] == BLOB_VERSION, SIGIL_E_BAD_ENCODING,
           "CiphertextBlob: not a sigil-kms ciphertext");
    size_t idl = blob[1];
    ENSURE(idl > 0 && len > 2 + idl + GCM_IV + GCM_TAG, SIGIL_E_BAD_ENCODING,
           "CiphertextBlob: truncated");
    *key_uuid = (sigil_slice){(const char *)blob + 2, idl};
    return 0;
}

int sigil_kms_blob_open(sigil_secret *out, const uint8_t key[32], const uint8_t *blob, size_t len)
{
    sigil_slice id;
    *out = (sigil_secret){0};
    GUARD(sigil_kms_blob_key(&id, blob, len));
    size_t hdr = 2 + id.len, n = len - hdr - GCM_IV - GCM_TAG;
    uint8_t tag[GCM_TAG];
    memcpy(tag, blob + len - GCM_TAG, GCM_TAG);
    GUARD(sigil_secret_alloc(out, n));
    if (gcm(out->p, key, blob + hdr, blob, hdr, blob + hdr + GCM_IV, n, tag, false) != 0) {
        sigil_secret_free(out);
        BAIL(SIGIL_E_CRYPTO, "CiphertextBlob: does not decrypt (wrong key or altered)");
    }
    out->len = n;
    return 0;
}

/* ---- CiphertextForRecipient ---- */
static int load_rsa_spki(EVP_PKEY **out, const uint8_t *spki, size_t len)
{
    const unsigned char *p = spki;
    *out = NULL;
    ENSURE(spki != NULL && len > 0 && len <= 1024, SIGIL_E_BAD_FIELD,
           "Recipient: attestation document has no public_key");
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
    ERR_clear_error();
    ENSURE(k != NULL && p == spki + len, SIGIL_E_BAD_FIELD,
           "Recipient: public_key is not a DER SubjectPublicKeyInfo");
    int bits = EVP_PKEY_get_bits(k);
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || bits < 2048 || bits > 4096) {
        EVP_PKEY_free(k);
        BAIL(SIGIL_E_BAD_FIELD, "Recipient: public_key must be RSA of 2048..4096 bits");
    }
    *out = k;
    return 0;
}

int sigil_kms_check_recipient_spki(const uint8_t *spki, size_t len)
{
    EVP_PKEY *k;
    GUARD(load_rsa_spki(&k, spki, len));
    EVP_PKEY_free(k);
    return 0;
}

/* A certificate that only carries the key and SKI = SHA-256(SPKI): what
 * CMS_add1_recipient_cert needs to write a keyid recipient. OpenSSL reads
 * the SKI only from a complete certificate, so it is signed by a throwaway
 * P-256 key; it never leaves this file. */
static bool cert_fill(X509 *x, EVP_PKEY *pub, const ASN1_OCTET_STRING *ski)
{
    EVP_PKEY *signer = EVP_EC_gen("P-256");
    X509_NAME *name = X509_get_subject_name(x);
    bool ok =
        signer != NULL && X509_set_version(x, 2) == 1 && X509_set_pubkey(x, pub) == 1 &&
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"kms recipient",
                                   -1, -1, 0) == 1 &&
        X509_set_issuer_name(x, name) == 1 && X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
        X509_gmtime_adj(X509_getm_notAfter(x), 60) != NULL &&
        X509_add1_ext_i2d(x, NID_subject_key_identifier, (void *)ski, 0, X509V3_ADD_DEFAULT) == 1 &&
        X509_sign(x, signer, EVP_sha256()) > 0;
    EVP_PKEY_free(signer);
    return ok;
}

static X509 *throwaway_cert(EVP_PKEY *pub, const uint8_t *spki, size_t len)
{
    uint8_t h[32];
    X509 *x = X509_new();
    ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
    sigil_sha256(h, spki, len);
    bool ok = x != NULL && ski != NULL && ASN1_OCTET_STRING_set(ski, h, sizeof(h)) == 1 &&
              cert_fill(x, pub, ski);
    ASN1_OCTET_STRING_free(ski);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int cms_stream_out(sigil_buf *out, CMS_ContentInfo *cms, const uint8_t *pt, size_t n)
{
    BIO *in = BIO_new_mem_buf(pt, (int)n), *mem = BIO_new(BIO_s_mem());
    BUF_MEM *bm = NULL;
    int rc = -1;
    if (in == NULL || mem == NULL)
        (void)sigil_fail(SIGIL_E_NO_MEMORY, "cms: no memory");
    else if (i2d_CMS_bio_stream(mem, cms, in, CMS_BINARY | CMS_STREAM) != 1)
        (void)sigil_fail(SIGIL_E_CRYPTO, "cms: encryption failed");
    else {
        BIO_get_mem_ptr(mem, &bm);
        rc = sigil_buf_put(out, bm->data, bm->length);
    }
    BIO_free(in);
    BIO_free(mem);
    return rc;
}

int sigil_kms_cms_encrypt(sigil_buf *out, const uint8_t *spki, size_t spki_len, const uint8_t *pt,
                          size_t n)
{
    EVP_PKEY *pub;
    ENSURE(n > 0 && n <= SIGIL_KMS_PLAINTEXT_MAX, SIGIL_E_TOO_LARGE, "cms: plaintext of %zu bytes",
           n);
    GUARD(load_rsa_spki(&pub, spki, spki_len));
    X509 *x = throwaway_cert(pub, spki, spki_len);
    CMS_ContentInfo *cms =
        CMS_encrypt(NULL, NULL, EVP_aes_256_cbc(), CMS_BINARY | CMS_PARTIAL | CMS_STREAM);
    CMS_RecipientInfo *ri = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    if (x != NULL && cms != NULL)
        ri = CMS_add1_recipient_cert(cms, x, CMS_USE_KEYID | CMS_KEY_PARAM);
    if (ri != NULL)
        pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
    bool ok = pctx != NULL && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
              EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) > 0 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
    int rc = ok ? cms_stream_out(out, cms, pt, n)
                : sigil_fail(SIGIL_E_CRYPTO, "cms: cannot set up the OAEP recipient");
    CMS_ContentInfo_free(cms);
    X509_free(x);
    EVP_PKEY_free(pub);
    ERR_clear_error();
    return rc;
}
