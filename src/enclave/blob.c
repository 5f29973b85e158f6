/*
 * The at-rest blob (trusted; docs/PROVISIONING.md): the provisioning
 * payload encrypted with AES-256-GCM under a key-service data key. The host
 * stores it and hands it back with each request; the AAD binds tenant, key
 * id, venue, network, policy hash and format version, so a blob moved to
 * another key, tenant or policy does not open.
 *
 *   "SGB1" | u16 len | kms blob | u8 len | venue | u8 len | network
 *          | policy_hash(32) | iv(12) | ciphertext | tag(16)
 */
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "enclave/enclave.h"

static const uint8_t BLOB_MAGIC[4] = {'S', 'G', 'B', '1'};
static const char AAD_CONTEXT[] = "sigil-blob-v1";
#define IV_BYTES 12
#define TAG_BYTES 16
#define BLOB_PLAIN_MAX ((size_t)256 * 1024)

static int put_u8_str(sigil_buf *b, const char *s)
{
    size_t n = strlen(s);
    ENSURE(n > 0 && n <= 255, SIGIL_E_INTERNAL, "blob: field length");
    uint8_t l = (uint8_t)n;
    GUARD(sigil_buf_put(b, &l, 1));
    return sigil_buf_put(b, s, n);
}

static int put_u16_bytes(sigil_buf *b, const uint8_t *p, size_t n)
{
    ENSURE(n <= 0xffff, SIGIL_E_TOO_LARGE, "blob: field over 65535 bytes");
    uint8_t l[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    GUARD(sigil_buf_put(b, l, 2));
    return sigil_buf_put(b, p, n);
}

static int blob_aad(sigil_buf *aad, const char *tenant, size_t tenant_len, const char *key_id,
                    size_t key_id_len, const uint8_t *header, size_t header_len)
{
    GUARD(sigil_buf_put(aad, AAD_CONTEXT, sizeof(AAD_CONTEXT)));
    GUARD(put_u16_bytes(aad, (const uint8_t *)tenant, tenant_len));
    GUARD(put_u16_bytes(aad, (const uint8_t *)key_id, key_id_len));
    return sigil_buf_put(aad, header, header_len);
}

/* One AES-256-GCM pass; enc = 1 seals (tag written), 0 opens (tag checked). */
static int gcm(int enc, const uint8_t key[32], const uint8_t iv[IV_BYTES], const sigil_buf *aad,
               const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TAG_BYTES])
{
    int ok = 0, n = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    ENSURE(ctx != NULL, SIGIL_E_NO_MEMORY, "blob: cipher context");
    ENSURE(len <= BLOB_PLAIN_MAX, SIGIL_E_TOO_LARGE, "blob: payload too large");
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) == 1 &&
        EVP_CipherUpdate(ctx, NULL, &n, aad->data, (int)aad->len) == 1 &&
        EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
        (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1) &&
        EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
        (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1))
        ok = 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        sodium_memzero(out, len);
    ENSURE(ok, SIGIL_E_BAD_SIGNATURE,
           "blob: authentication failed (wrong key, tenant or tampered blob)");
    return 0;
}

int enclave_blob_seal(enclave_state *st, sigil_buf *out, const enclave_blob_meta *m,
                      const uint8_t *plain, size_t len)
{
    static _Thread_local uint8_t kms_mem[ENCLAVE_KMS_BLOB_MAX];
    static _Thread_local uint8_t aad_mem[ENCLAVE_KMS_BLOB_MAX + 1024];
    sigil_buf kms_blob, aad;
    sigil_buf_init(&kms_blob, kms_mem, sizeof(kms_mem));
    sigil_buf_init(&aad, aad_mem, sizeof(aad_mem));
    SIGIL_SECRET(key);
    GUARD(enclave_kms_generate(st, &key, &kms_blob));
    ENSURE(key.len == ENCLAVE_DATA_KEY_BYTES, SIGIL_E_KEY_SERVICE,
           "blob: the key service returned a %zu-byte data key", key.len);
    enclave_keycache_put(kms_blob.data, kms_blob.len, key.p);

    size_t header_start = out->len;
    GUARD(sigil_buf_put(out, BLOB_MAGIC, sizeof(BLOB_MAGIC)));
    GUARD(put_u16_bytes(out, kms_blob.data, kms_blob.len));
    GUARD(put_u8_str(out, m->venue));
    GUARD(put_u8_str(out, m->network));
    GUARD(sigil_buf_put(out, m->policy_hash, 32));
    GUARD(blob_aad(&aad, m->tenant, strlen(m->tenant), m->key_id, strlen(m->key_id),
                   out->data + header_start, out->len - header_start));
    uint8_t iv[IV_BYTES];
    randombytes_buf(iv, sizeof(iv));
    GUARD(sigil_buf_put(out, iv, sizeof(iv)));
    ENSURE(out->cap - out->len >= len + TAG_BYTES, SIGIL_E_TOO_LARGE, "blob: output too large");
    uint8_t *ct = out->data + out->len;
    GUARD(gcm(1, key.p, iv, &aad, plain, len, ct, ct + len));
    out->len += len + TAG_BYTES;
    return 0;
}

int enclave_blob_open(enclave_state *st, sigil_secret *plain, const char *tenant,
                      const char *key_id, const uint8_t *blob, size_t len, uint8_t policy_hash[32])
{
    static _Thread_local uint8_t aad_mem[ENCLAVE_KMS_BLOB_MAX + 1024];
    sigil_cursor c;
    uint8_t magic[4], l8, l16[2], iv[IV_BYTES];
    sigil_buf aad;
    sigil_buf_init(&aad, aad_mem, sizeof(aad_mem));
    sigil_cursor_init(&c, blob, len);
    ENSURE(sigil_cursor_read(&c, magic, 4) == 0 && memcmp(magic, BLOB_MAGIC, 4) == 0,
           SIGIL_E_BAD_FIELD, "blob: not a sigil key blob (or another format version)");
    ENSURE(sigil_cursor_read(&c, l16, 2) == 0, SIGIL_E_BAD_FIELD, "blob: truncated");
    size_t kms_len = (size_t)l16[0] << 8 | l16[1];
    const uint8_t *kms_blob = blob + c.off;
    ENSURE(kms_len > 0 && sigil_cursor_remaining(&c) >= kms_len, SIGIL_E_BAD_FIELD,
           "blob: truncated");
    c.off += kms_len;
    for (int i = 0; i < 2; i++) { /* venue, network */
        ENSURE(sigil_cursor_read_u8(&c, &l8) == 0 && l8 > 0 && sigil_cursor_remaining(&c) >= l8,
               SIGIL_E_BAD_FIELD, "blob: truncated");
        c.off += l8;
    }
    ENSURE(sigil_cursor_remaining(&c) >= 32, SIGIL_E_BAD_FIELD, "blob: truncated");
    const uint8_t *header_hash = blob + c.off;
    c.off += 32;
    size_t header_len = c.off;
    ENSURE(sigil_cursor_read(&c, iv, sizeof(iv)) == 0 && sigil_cursor_remaining(&c) >= TAG_BYTES,
           SIGIL_E_BAD_FIELD, "blob: truncated");
    size_t ct_len = sigil_cursor_remaining(&c) - TAG_BYTES;
    const uint8_t *ct = blob + c.off;
    uint8_t tag[TAG_BYTES];
    memcpy(tag, ct + ct_len, TAG_BYTES);
    ENSURE(ct_len <= plain->cap, SIGIL_E_TOO_LARGE, "blob: payload too large");
    GUARD(blob_aad(&aad, tenant, strlen(tenant), key_id, strlen(key_id), blob, header_len));

    SIGIL_SECRET(key);
    GUARD(sigil_secret_alloc(&key, ENCLAVE_DATA_KEY_BYTES));
    GUARD(enclave_data_key(st, &key, kms_blob, kms_len));
    GUARD(gcm(0, key.p, iv, &aad, ct, ct_len, plain->p, tag));
    plain->len = ct_len;
    memcpy(policy_hash, header_hash, 32); /* authenticated by the tag above */
    return 0;
}
