/*
 * Enclave boot (trusted): the seed from the key service (released only to
 * a pinned measurement), the sealing key derived from it, a fresh receipt
 * key, and the boot's attestation document binding both.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "enclave/enclave.h"

/* A Recipient document is reused this long (the key service accepts
 * documents up to 5 minutes old). */
#define RECIPIENT_DOC_REUSE_MS 60000u
static const char SEALING_CONTEXT[] = "sigil-sealing-key-v1";

uint64_t enclave_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int enclave_state_init(enclave_state *st, const enclave_config *cfg)
{
    memset(st, 0, sizeof(*st));
    st->cfg = cfg;
    ENSURE(pthread_mutex_init(&st->lock, NULL) == 0, SIGIL_E_INTERNAL, "enclave: mutex");
    ENSURE(pthread_mutex_init(&st->chain_lock, NULL) == 0, SIGIL_E_INTERNAL, "enclave: mutex");
    GUARD(sigil_limits_new(&st->limits));
    if (cfg->nsm_fd >= 0)
        GUARD(sigil_nsm_open_socket(&st->nsm, cfg->nsm_fd));
    else
        GUARD(sigil_nsm_open_device(&st->nsm));
    GUARD(sigil_nsm_describe_pcr(st->nsm, 0, st->measurement));
    sigil_kms_config kc = {.endpoint = cfg->kms_url, .ca_file = cfg->kms_ca};
    sigil_kms_options ko = {.region = cfg->kms_region, .proxy = cfg->kms_proxy};
    GUARD(sigil_kms_client_new_ex(&st->kms, &kc, &ko));
    GUARD(sigil_kms_recipient_new(&st->recipient));
    GUARD(sigil_secret_alloc(&st->sealing_sk, crypto_box_SECRETKEYBYTES));
    GUARD(sigil_secret_alloc(&st->receipt_sk, crypto_sign_SECRETKEYBYTES));
    return 0;
}

static int boot_binding(const enclave_state *st, sigil_buf *b)
{
    sigil_boot_binding bb;
    memcpy(bb.boot_id, st->boot_id, sizeof(bb.boot_id));
    memcpy(bb.sealing_key, st->sealing_pk, sizeof(bb.sealing_key));
    memcpy(bb.receipt_key, st->receipt_pk, sizeof(bb.receipt_key));
    return sigil_boot_binding_encode(b, &bb);
}

/* Callers hold st->lock. */
static int attest_locked(enclave_state *st, sigil_buf *doc, const uint8_t *nonce, size_t nonce_len,
                         const uint8_t *pk, size_t pk_len)
{
    uint8_t ud[256];
    sigil_buf b;
    sigil_buf_init(&b, ud, sizeof(ud));
    if (st->booted)
        GUARD(boot_binding(st, &b));
    return sigil_nsm_attest(st->nsm, doc, st->booted ? ud : NULL, b.len, nonce, nonce_len, pk,
                            pk_len);
}

int enclave_attest(enclave_state *st, sigil_buf *doc, const uint8_t *nonce, size_t nonce_len,
                   const uint8_t *public_key, size_t pk_len)
{
    pthread_mutex_lock(&st->lock);
    int rc = attest_locked(st, doc, nonce, nonce_len, public_key, pk_len);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

/* The document carrying the recipient key, refreshed once a minute. Copies
 * it into doc so callers do not hold the lock across the network call. */
static int recipient_doc(enclave_state *st, sigil_buf *doc)
{
    int rc = 0;
    pthread_mutex_lock(&st->lock);
    uint64_t now = enclave_now_ms();
    if (st->recipient_doc == NULL || now - st->recipient_doc_ms > RECIPIENT_DOC_REUSE_MS) {
        size_t spki_len;
        const uint8_t *spki = sigil_kms_recipient_spki(st->recipient, &spki_len);
        rc = attest_locked(st, doc, NULL, 0, spki, spki_len);
        if (rc == 0) {
            uint8_t *copy = malloc(doc->len);
            if (copy == NULL) {
                rc = sigil_fail(SIGIL_E_NO_MEMORY, "enclave: recipient document");
            } else {
                memcpy(copy, doc->data, doc->len);
                free(st->recipient_doc);
                st->recipient_doc = copy;
                st->recipient_doc_len = doc->len;
                st->recipient_doc_ms = now;
            }
        }
    } else {
        doc->len = 0;
        rc = sigil_buf_put(doc, st->recipient_doc, st->recipient_doc_len);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static void kms_record(enclave_state *st, int rc)
{
    pthread_mutex_lock(&st->lock);
    st->kms_called = true;
    /* An access denial means the service answered: it is up. */
    st->kms_ok = rc == 0 || sigil_errno() == SIGIL_E_ACCESS_DENIED;
    pthread_mutex_unlock(&st->lock);
}

int enclave_kms_generate(enclave_state *st, sigil_secret *plain, sigil_buf *blob)
{
    static _Thread_local uint8_t mem[ENCLAVE_DOC_MAX];
    sigil_buf doc;
    sigil_buf_init(&doc, mem, sizeof(mem));
    GUARD(recipient_doc(st, &doc));
    int rc = sigil_kms_generate_data_key(st->kms, plain, blob, st->cfg->kms_key_id, st->recipient,
                                         doc.data, doc.len);
    kms_record(st, rc);
    return rc;
}

int enclave_kms_decrypt(enclave_state *st, sigil_secret *plain, const uint8_t *blob, size_t len)
{
    static _Thread_local uint8_t mem[ENCLAVE_DOC_MAX];
    sigil_buf doc;
    sigil_buf_init(&doc, mem, sizeof(mem));
    GUARD(recipient_doc(st, &doc));
    int rc = sigil_kms_decrypt(st->kms, plain, blob, len, st->recipient, doc.data, doc.len);
    kms_record(st, rc);
    return rc;
}

/* The seed: decrypt the host's stored ciphertext, or create one. A boot
 * that failed earlier (key service down or refusing) may be retried. */
static int obtain_seed(enclave_state *st, sigil_secret *seed, const uint8_t *ct, size_t ct_len)
{
    free(st->seed_ct);
    st->seed_ct = NULL;
    st->seed_ct_len = 0;
    if (ct != NULL) {
        GUARD(enclave_kms_decrypt(st, seed, ct, ct_len));
        ENSURE(seed->len == ENCLAVE_SEED_BYTES, SIGIL_E_KEY_SERVICE,
               "boot: the stored seed has %zu bytes, expected %d", seed->len, ENCLAVE_SEED_BYTES);
        st->seed_ct = malloc(ct_len);
        ENSURE(st->seed_ct != NULL, SIGIL_E_NO_MEMORY, "boot: seed ciphertext");
        memcpy(st->seed_ct, ct, ct_len);
        st->seed_ct_len = ct_len;
        return 0;
    }
    static uint8_t blob_mem[ENCLAVE_KMS_BLOB_MAX];
    sigil_buf blob;
    sigil_buf_init(&blob, blob_mem, sizeof(blob_mem));
    GUARD(enclave_kms_generate(st, seed, &blob));
    ENSURE(seed->len == ENCLAVE_SEED_BYTES, SIGIL_E_KEY_SERVICE,
           "boot: the key service returned a %zu-byte seed", seed->len);
    st->seed_ct = malloc(blob.len);
    ENSURE(st->seed_ct != NULL, SIGIL_E_NO_MEMORY, "boot: seed ciphertext");
    memcpy(st->seed_ct, blob.data, blob.len);
    st->seed_ct_len = blob.len;
    return 0;
}

static int derive_keys(enclave_state *st, const sigil_secret *seed)
{
    SIGIL_SECRET(box_seed);
    GUARD(sigil_secret_alloc(&box_seed, crypto_box_SEEDBYTES));
    ENSURE(crypto_generichash(box_seed.p, crypto_box_SEEDBYTES, (const uint8_t *)SEALING_CONTEXT,
                              sizeof(SEALING_CONTEXT) - 1, seed->p, seed->len) == 0,
           SIGIL_E_CRYPTO, "boot: sealing key derivation");
    ENSURE(crypto_box_seed_keypair(st->sealing_pk, st->sealing_sk.p, box_seed.p) == 0,
           SIGIL_E_CRYPTO, "boot: sealing key");
    st->sealing_sk.len = crypto_box_SECRETKEYBYTES;
    ENSURE(crypto_sign_keypair(st->receipt_pk, st->receipt_sk.p) == 0, SIGIL_E_CRYPTO,
           "boot: receipt key");
    st->receipt_sk.len = crypto_sign_SECRETKEYBYTES;
    randombytes_buf(st->boot_id, sizeof(st->boot_id));
    return 0;
}

int enclave_boot(enclave_state *st, const uint8_t *seed_ct, size_t seed_ct_len)
{
    SIGIL_SECRET(seed);
    GUARD(obtain_seed(st, &seed, seed_ct, seed_ct_len));
    pthread_mutex_lock(&st->lock);
    int rc = derive_keys(st, &seed);
    if (rc == 0) {
        static uint8_t doc_mem[ENCLAVE_DOC_MAX];
        sigil_buf doc;
        sigil_buf_init(&doc, doc_mem, sizeof(doc_mem));
        st->booted = true; /* so the document carries the binding */
        rc = attest_locked(st, &doc, NULL, 0, NULL, 0);
        if (rc == 0) {
            st->boot_doc = malloc(doc.len);
            if (st->boot_doc == NULL) {
                rc = sigil_fail(SIGIL_E_NO_MEMORY, "boot: document");
            } else {
                memcpy(st->boot_doc, doc.data, doc.len);
                st->boot_doc_len = doc.len;
            }
        }
        if (rc != 0)
            st->booted = false;
        /* The recipient document predates the binding: refresh it. */
        free(st->recipient_doc);
        st->recipient_doc = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}
