/*
 * CiphertextForRecipient: CMS EnvelopedData (BER, indefinite lengths) from
 * the key service, opened with the Recipient key (trusted: produces data keys
 * in locked memory). Only RSAES-OAEP with SHA-256/MGF1-SHA-256 key transport
 * is accepted; the recipient is decrypted explicitly so a wrong key is a
 * deterministic error, not OpenSSL's random-key MMA countermeasure.
 */
#include <openssl/buffer.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "kms/kms_internal.h"

static int cms_load(CMS_ContentInfo **out, const uint8_t *p, size_t len)
{
    *out = NULL;
    ENSURE(len > 0 && len <= SIGIL_KMS_CMS_MAX, SIGIL_E_TOO_LARGE,
           "kms: CiphertextForRecipient of %zu bytes (1..%d)", len, SIGIL_KMS_CMS_MAX);
    const unsigned char *q = p;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &q, (long)len);
    ERR_clear_error();
    ENSURE(cms != NULL, SIGIL_E_BAD_ENCODING, "kms: CiphertextForRecipient: not a CMS ContentInfo");
    if (q != p + len) {
        CMS_ContentInfo_free(cms);
        BAIL(SIGIL_E_BAD_ENCODING, "kms: CiphertextForRecipient: trailing bytes");
    }
    if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) {
        CMS_ContentInfo_free(cms);
        BAIL(SIGIL_E_BAD_ENCODING, "kms: CiphertextForRecipient: not EnvelopedData");
    }
    *out = cms;
    return 0;
}

static bool algor_is(const X509_ALGOR *a, int nid)
{
    const ASN1_OBJECT *oid;
    int ptype;
    const void *pval;
    if (a == NULL)
        return false;
    X509_ALGOR_get0(&oid, &ptype, &pval, a);
    /* Hash AlgorithmIdentifiers carry NULL or absent parameters. */
    return OBJ_obj2nid(oid) == nid && (ptype == V_ASN1_NULL || ptype == V_ASN1_UNDEF);
}

/* MGF1 whose parameter is the SHA-256 AlgorithmIdentifier. */
static bool mgf1_is_sha256(const X509_ALGOR *mgf)
{
    const ASN1_OBJECT *oid;
    int ptype;
    const void *pval;
    if (mgf == NULL)
        return false;
    X509_ALGOR_get0(&oid, &ptype, &pval, mgf);
    if (OBJ_obj2nid(oid) != NID_mgf1 || ptype != V_ASN1_SEQUENCE)
        return false;
    const ASN1_STRING *seq = pval;
    const unsigned char *p = ASN1_STRING_get0_data(seq);
    X509_ALGOR *h = d2i_X509_ALGOR(NULL, &p, ASN1_STRING_length(seq));
    bool ok = h != NULL && algor_is(h, NID_sha256);
    X509_ALGOR_free(h);
    return ok;
}

/* rsaesOaep with hashFunc sha256, maskGenFunc mgf1(sha256), default label. */
static bool ktri_is_oaep_sha256(CMS_RecipientInfo *ri)
{
    X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *oid;
    int ptype;
    const void *pval;
    if (CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &alg) != 1 || alg == NULL)
        return false;
    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    if (OBJ_obj2nid(oid) != NID_rsaesOaep || ptype != V_ASN1_SEQUENCE)
        return false;
    const ASN1_STRING *seq = pval;
    const unsigned char *p = ASN1_STRING_get0_data(seq);
    RSA_OAEP_PARAMS *prm = d2i_RSA_OAEP_PARAMS(NULL, &p, ASN1_STRING_length(seq));
    bool ok = prm != NULL && algor_is(prm->hashFunc, NID_sha256) &&
              mgf1_is_sha256(prm->maskGenFunc) && prm->pSourceFunc == NULL;
    RSA_OAEP_PARAMS_free(prm);
    return ok;
}

/* The single key-transport recipient KMS writes. */
static int only_ktri(CMS_RecipientInfo **out, CMS_ContentInfo *cms)
{
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    ENSURE(ris != NULL && sk_CMS_RecipientInfo_num(ris) == 1, SIGIL_E_BAD_FIELD,
           "kms: CiphertextForRecipient: expected exactly one recipient");
    CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, 0);
    ENSURE(CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS, SIGIL_E_BAD_FIELD,
           "kms: CiphertextForRecipient: recipient is not key transport");
    ENSURE(ktri_is_oaep_sha256(ri), SIGIL_E_BAD_FIELD,
           "kms: CiphertextForRecipient: key encryption must be RSAES-OAEP-SHA256/MGF1-SHA256");
    *out = ri;
    return 0;
}

/* Moves the decrypted content out of the (secure-heap) BIO into locked
 * memory and wipes the BIO's buffer. */
static int take_plaintext(sigil_secret *out, BIO *bio)
{
    BUF_MEM *bm = NULL;
    BIO_get_mem_ptr(bio, &bm);
    ENSURE(bm != NULL, SIGIL_E_INTERNAL, "kms: CMS output missing");
    int rc = -1;
    if (bm->length == 0 || bm->length > SIGIL_KMS_PLAINTEXT_MAX)
        (void)sigil_fail(SIGIL_E_BAD_FIELD, "kms: CiphertextForRecipient: plaintext of %zu bytes",
                         bm->length);
    else if (sigil_secret_alloc(out, bm->length) == 0) {
        memcpy(out->p, bm->data, bm->length);
        out->len = bm->length;
        rc = 0;
    }
    OPENSSL_cleanse(bm->data, bm->max);
    return rc;
}

static int cms_open(sigil_secret *out, CMS_ContentInfo *cms, const sigil_kms_recipient *r)
{
    CMS_RecipientInfo *ri;
    GUARD(only_ktri(&ri, cms));
    ENSURE(EVP_PKEY_up_ref(r->pkey) == 1, SIGIL_E_INTERNAL, "kms: key reference");
    CMS_RecipientInfo_set0_pkey(ri, r->pkey); /* the ContentInfo drops the reference */
    ENSURE(CMS_RecipientInfo_decrypt(cms, ri) == 1, SIGIL_E_CRYPTO,
           "kms: CiphertextForRecipient does not decrypt with the recipient key");
    BIO *bio = BIO_new(BIO_s_secmem());
    ENSURE(bio != NULL, SIGIL_E_NO_MEMORY, "kms: no memory");
    int rc = -1;
    if (CMS_decrypt(cms, NULL, NULL, NULL, bio, CMS_BINARY) != 1)
        (void)sigil_fail(SIGIL_E_CRYPTO, "kms: CiphertextForRecipient: content does not decrypt");
    else
        rc = take_plaintext(out, bio);
    if (rc != 0) {
        BUF_MEM *bm = NULL;
        BIO_get_mem_ptr(bio, &bm);
        if (bm != NULL && bm->data != NULL)
            OPENSSL_cleanse(bm->data, bm->max);
    }
    BIO_free(bio);
    return rc;
}

int sigil_kms_cms_decrypt(sigil_secret *out, const sigil_kms_recipient *r, const uint8_t *cms,
                          size_t len)
{
    CMS_ContentInfo *ci;
    *out = (sigil_secret){0};
    GUARD(cms_load(&ci, cms, len));
    int rc = cms_open(out, ci, r);
    CMS_ContentInfo_free(ci); /* cleanses the content-encryption key */
    ERR_clear_error();
    return rc;
}

static int cms_describe(sigil_kms_cms_info *info, CMS_ContentInfo *cms)
{
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    ENSURE(ris != NULL && sk_CMS_RecipientInfo_num(ris) > 0, SIGIL_E_BAD_FIELD,
           "kms: CiphertextForRecipient: no recipients");
    info->recipients = (size_t)sk_CMS_RecipientInfo_num(ris);
    CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, 0);
    if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS) {
        ASN1_OCTET_STRING *keyid = NULL;
        X509_NAME *issuer = NULL;
        ASN1_INTEGER *serial = NULL;
        if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer, &serial) == 1 &&
            keyid != NULL)
            info->key_id_len = (size_t)ASN1_STRING_length(keyid);
        info->oaep_sha256 = ktri_is_oaep_sha256(ri);
    }
    ASN1_OCTET_STRING **content = CMS_get0_content(cms);
    ENSURE(content != NULL && *content != NULL, SIGIL_E_BAD_FIELD,
           "kms: CiphertextForRecipient: no encrypted content");
    info->content_len = (size_t)ASN1_STRING_length(*content);
    return 0;
}

int sigil_kms_cms_inspect(sigil_kms_cms_info *info, const uint8_t *cms, size_t len)
{
    CMS_ContentInfo *ci;
    *info = (sigil_kms_cms_info){0};
    GUARD(cms_load(&ci, cms, len));
    int rc = cms_describe(info, ci);
    CMS_ContentInfo_free(ci);
    ERR_clear_error();
    return rc;
}
