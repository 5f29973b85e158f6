/*
 * sigil-enclave internals (trusted): the only process that sees plaintext
 * secrets. One header for the folder: boot state, the data-key cache, the
 * at-rest blob, the operation handlers and the frame loop.
 */
#ifndef SIGIL_ENCLAVE_H
#define SIGIL_ENCLAVE_H

#include <pthread.h>
#include <stdbool.h>

#include "sigil/attest.h"
#include "sigil/frame.h"
#include "sigil/kms.h"
#include "sigil/policy.h"
#include "sigil/receipt.h"
#include "sigil/venues.h"

#define ENCLAVE_SEED_BYTES 32
#define ENCLAVE_DATA_KEY_BYTES 32
#define ENCLAVE_BOOT_ID_BYTES 16
#define ENCLAVE_DOC_MAX 16384
#define ENCLAVE_KMS_BLOB_MAX 6144

typedef struct {
    const char *listen;     /* unix:/path or vsock:CID:PORT */
    int nsm_fd;             /* dev: inherited socket to sigil-launch; -1 = /dev/nsm */
    const char *kms_url;    /* https://… (NULL: derived from kms_region) */
    const char *kms_region; /* AWS region: https://kms.<region>.amazonaws.com[.cn] */
    const char *kms_proxy;  /* NULL, vsock:CID:PORT (parent's vsock-proxy) or tcp:IP:PORT */
    const char *kms_ca;     /* PEM trusted for the key service's TLS (NULL: system) */
    const char *kms_key_id; /* key id / alias used for GenerateDataKey */
    const char *mode;       /* "dev" | "nitro" */
    uint64_t skew_ms;       /* freshness window for request timestamps/nonces */
    unsigned workers;
    uint64_t data_key_ttl_ms;
    unsigned data_key_cache_max;
} enclave_config;

/* Everything the enclave knows about this boot. Secrets in locked memory. */
typedef struct {
    const enclave_config *cfg;
    sigil_nsm *nsm;
    sigil_kms_client *kms;
    sigil_kms_recipient *recipient; /* per-boot RSA-2048 key for Recipient */
    uint8_t measurement[48];

    pthread_mutex_t lock; /* guards the fields below and the recipient document */
    bool booted;
    bool kms_ok;     /* result of the last key-service call */
    bool kms_called; /* whether there was one */
    uint8_t boot_id[ENCLAVE_BOOT_ID_BYTES];
    uint8_t sealing_pk[32];
    uint8_t receipt_pk[32];
    sigil_secret sealing_sk; /* X25519, derived from the seed */
    sigil_secret receipt_sk; /* Ed25519, fresh per boot */
    uint8_t *seed_ct;        /* the seed's key-service ciphertext (host keeps it) */
    size_t seed_ct_len;
    uint8_t *boot_doc;
    size_t boot_doc_len;
    uint8_t *recipient_doc; /* cached document carrying the recipient key */
    size_t recipient_doc_len;
    uint64_t recipient_doc_ms;

    sigil_limits *limits;       /* per-key versions, rates, daily notional */
    pthread_mutex_t chain_lock; /* the receipt chain of this boot */
    uint64_t receipt_seq;       /* of the last receipt; 0 before the first */
    uint8_t receipt_prev[32];   /* SHA-256 of its canonical bytes */
} enclave_state;

uint64_t enclave_now_ms(void);

/* boot.c */
SIGIL_WARN_UNUSED_RESULT int enclave_state_init(enclave_state *st, const enclave_config *cfg);
SIGIL_WARN_UNUSED_RESULT int enclave_boot(enclave_state *st, const uint8_t *seed_ct,
                                          size_t seed_ct_len);
/* A document with nonce (may be NULL) and this boot's binding in user_data. */
SIGIL_WARN_UNUSED_RESULT int enclave_attest(enclave_state *st, sigil_buf *doc, const uint8_t *nonce,
                                            size_t nonce_len, const uint8_t *public_key,
                                            size_t pk_len);
/* Key-service calls with a (cached) Recipient document; *plain is allocated
 * by the call (locked memory; free it with sigil_secret_free). */
SIGIL_WARN_UNUSED_RESULT int enclave_kms_generate(enclave_state *st, sigil_secret *plain,
                                                  sigil_buf *blob);
SIGIL_WARN_UNUSED_RESULT int enclave_kms_decrypt(enclave_state *st, sigil_secret *plain,
                                                 const uint8_t *blob, size_t len);

/* keycache.c: unwrapped data keys, locked memory, TTL and size bound. */
SIGIL_WARN_UNUSED_RESULT int enclave_keycache_init(unsigned max, uint64_t ttl_ms);
/* Copies the data key for blob into key (32 bytes, locked), from the cache or the key service. */
SIGIL_WARN_UNUSED_RESULT int enclave_data_key(enclave_state *st, sigil_secret *key,
                                              const uint8_t *kms_blob, size_t len);
void enclave_keycache_put(const uint8_t *kms_blob, size_t len, const uint8_t key[32]);

/* blob.c: the at-rest blob (docs/PROVISIONING.md). */
typedef struct {
    const char *tenant;
    const char *key_id;
    const char *venue;
    const char *network;
    uint8_t policy_hash[32];
} enclave_blob_meta;
SIGIL_WARN_UNUSED_RESULT int enclave_blob_seal(enclave_state *st, sigil_buf *out,
                                               const enclave_blob_meta *m, const uint8_t *plain,
                                               size_t len);
/* Opens into locked memory; policy_hash receives the hash from the
 * authenticated header. */
SIGIL_WARN_UNUSED_RESULT int enclave_blob_open(enclave_state *st, sigil_secret *plain,
                                               const char *tenant, const char *key_id,
                                               const uint8_t *blob, size_t len,
                                               uint8_t policy_hash[32]);

/* ops.c: the operation table. Each handler reads its args from the frame
 * body and writes a complete response frame into out. */
SIGIL_WARN_UNUSED_RESULT int enclave_dispatch(enclave_state *st, uint64_t version,
                                              const sigil_frame *f, sigil_buf *out);

/* payload.c: the provisioning payload, parsed strictly (also when it
 * comes back out of a blob). */
#define ENCLAVE_PAYLOAD_TOKENS 1024u
typedef struct {
    sigil_json doc;
    char tenant[65];
    char key_id[SIGIL_KEY_ID_HEX + 1];
    char venue[33];
    char network[8];
    char key_type[16];
    uint8_t owner_pk[32];
    uint8_t client_pk[32];
    bool has_client_pk;
    bool generate; /* "generate": true instead of credentials (a key the enclave makes) */
    uint8_t policy_sig[64];
    const sigil_policy *policy; /* this thread's policy cache (never NULL) */
} enclave_payload;
SIGIL_WARN_UNUSED_RESULT int enclave_payload_parse(enclave_payload *p, const char *text, size_t len,
                                                   sigil_json_tok *toks);
/* Parses and verifies the owner-signed policy against the payload. At sign
 * time header_hash is the policy hash from the blob's authenticated header:
 * a policy this thread parsed before is taken from its cache (the parsed
 * form is valid until this thread's next call). */
SIGIL_WARN_UNUSED_RESULT int enclave_payload_policy(enclave_payload *p, sigil_network net,
                                                    bool at_import, const uint8_t *header_hash);
/* Validates the credentials for v; address: the key's (sigil_venue_address), "" when none. */
SIGIL_WARN_UNUSED_RESULT int
enclave_payload_credentials(const enclave_payload *p, const sigil_venue *v,
                            char address[static SIGIL_VENUE_ADDRESS_MAX + 1]);

/* payload_build.c: the payload rebuilt in its documented member order into
 * locked memory, the named members replaced by the given JSON texts. */
typedef struct {
    const char *name;
    const char *json;
    size_t len;
} enclave_member;
SIGIL_WARN_UNUSED_RESULT int enclave_payload_rebuild(sigil_secret *out, const enclave_payload *p,
                                                     const enclave_member *over, size_t n);

/* keygen.c: for a payload with "generate": true, the same payload with
 * credentials {"private_key"} drawn from the CSPRNG (a valid secp256k1
 * scalar), for the venues listed in docs/PROVISIONING.md. */
SIGIL_WARN_UNUSED_RESULT int enclave_keygen_payload(sigil_secret *out, const enclave_payload *p);

/* import.c / sign.c */
typedef struct {
    const char *tenant;
    size_t tenant_len;
    const uint8_t *sealed;
    size_t sealed_len;
} enclave_import_args;
typedef struct {
    char key_id[SIGIL_KEY_ID_HEX + 1];
    char venue[33];
    char network[8];
    char key_type[16];
    char address[SIGIL_VENUE_ADDRESS_MAX + 1]; /* empty when the venue has none */
    uint8_t policy_hash[32];
    uint64_t policy_version;
    bool client_key; /* the key binds a client key */
} enclave_import_result;
/* Writes the decision's receipt into receipt (left empty when the payload
 * never opened: no decision was made). */
SIGIL_WARN_UNUSED_RESULT int enclave_import(enclave_state *st, enclave_import_result *res,
                                            sigil_buf *blob, sigil_buf *receipt,
                                            const enclave_import_args *a);

/* The steps of import that rotate shares: open the sealed box into plain;
 * turn a "generate" payload into one with the drawn key (plain replaced);
 * check tenant, venue, policy and credentials (res filled); record the
 * policy version and seal the blob. */
SIGIL_WARN_UNUSED_RESULT int enclave_import_open(enclave_state *st, sigil_secret *plain,
                                                 const uint8_t *sealed, size_t sealed_len);
SIGIL_WARN_UNUSED_RESULT int enclave_import_materialise(enclave_payload *p, sigil_secret *plain,
                                                        sigil_json_tok *toks);
SIGIL_WARN_UNUSED_RESULT int enclave_import_check(enclave_payload *p, enclave_import_result *res,
                                                  const char *tenant, size_t tenant_len);
SIGIL_WARN_UNUSED_RESULT int enclave_import_seal(enclave_state *st, const enclave_payload *p,
                                                 sigil_buf *blob, const sigil_secret *plain);

/* A stored key as the host presents it: whose, which, and its blob. */
typedef struct {
    const char *tenant;
    size_t tenant_len;
    const char *key_id;
    size_t key_id_len;
    const uint8_t *blob;
    size_t blob_len;
} enclave_key_ref;

/* Opens a key's blob into plain (locked) and parses its payload into p;
 * r gets tenant, key id, venue and network, and the policy is parsed. */
SIGIL_WARN_UNUSED_RESULT int enclave_open_key(enclave_state *st, const enclave_key_ref *k,
                                              sigil_secret *plain, enclave_payload *p,
                                              sigil_receipt *r, sigil_json_tok *toks);

typedef struct {
    enclave_key_ref key;
    const char *request;
    size_t request_len;
    /* client signature (NULL when the request carries none) */
    const uint8_t *client_sig;
    size_t client_sig_len;
    uint64_t client_ts;
    const char *client_nonce;
    size_t client_nonce_len;
    /* other enclaves' usage of the key, as the host supplied it (n = 0: none) */
    sigil_limits_peers peers;
    /* out: this enclave's usage of the key after an allowed request whose
     * policy has limits (usage->seq 0 otherwise) */
    sigil_limits_usage *usage;
} enclave_sign_args;
/* Allowed: 0, signed_out and receipt filled. Denied: -1 with the error set
 * and receipt filled; other failures: -1 and receipt empty. */
SIGIL_WARN_UNUSED_RESULT int enclave_sign(enclave_state *st, sigil_buf *signed_out,
                                          sigil_buf *receipt, const char **action,
                                          const enclave_sign_args *a);
/* Printable-ASCII id copied NUL-terminated (1..cap-1 bytes). */
SIGIL_WARN_UNUSED_RESULT int enclave_copy_id(char *out, size_t cap, const char *p, size_t len,
                                             const char *what);
/* The request-time window: the policy's skew_ms, else --skew-ms. */
uint64_t enclave_skew_ms(const enclave_state *st, const sigil_policy *p);

/* policy_update.c: a new owner-signed policy for a key, re-sealed. */
typedef struct {
    enclave_key_ref key;
    const char *policy;
    size_t policy_len;
    const uint8_t *policy_sig;
    size_t policy_sig_len;
} enclave_policy_args;
typedef struct {
    uint8_t policy_hash[32];
    uint64_t version;
} enclave_policy_result;
SIGIL_WARN_UNUSED_RESULT int enclave_policy_update(enclave_state *st, enclave_policy_result *res,
                                                   sigil_buf *blob, sigil_buf *receipt,
                                                   const enclave_policy_args *a);

/* key_change.c: a decision that re-seals a stored key. change gets the
 * opened payload (its policy parsed) and plaintext, writes the new blob and
 * the policy hash the receipt names; request is what the receipt's
 * request_hash covers. */
typedef int (*enclave_change_fn)(enclave_state *st, enclave_payload *p, const sigil_secret *plain,
                                 sigil_buf *blob, uint8_t policy_hash[32], void *ctx);
typedef struct {
    const enclave_key_ref *key;
    const char *action; /* the receipt's: policy_update, rotate, rewrap */
    const void *request;
    size_t request_len;
    enclave_change_fn change;
    void *ctx;
} enclave_key_change_args;
SIGIL_WARN_UNUSED_RESULT int enclave_key_change(enclave_state *st, sigil_buf *blob,
                                                sigil_buf *receipt,
                                                const enclave_key_change_args *a);
/* The opening of a decision on a stored key that names its action and
 * hashes its request bytes (a key change, a revocation): receipt emptied,
 * the blob opened into plain and d->p, d->r's key fields, action and
 * request_hash set. On failure d is wiped; else wipe it when done. */
typedef struct {
    sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    enclave_payload p;
    sigil_receipt r;
} enclave_key_decision;
SIGIL_WARN_UNUSED_RESULT int enclave_key_decision_open(enclave_state *st, enclave_key_decision *d,
                                                       sigil_secret *plain, sigil_buf *receipt,
                                                       const enclave_key_ref *key,
                                                       const char *action, const void *request,
                                                       size_t request_len);
void enclave_key_decision_wipe(enclave_key_decision *d);

/* rotate.c: new credentials for a stored key (same tenant, key id, venue,
 * network and owner key; a higher policy version), re-sealed. */
typedef struct {
    enclave_key_ref key;
    const uint8_t *sealed;
    size_t sealed_len;
} enclave_rotate_args;
SIGIL_WARN_UNUSED_RESULT int enclave_rotate(enclave_state *st, enclave_import_result *res,
                                            sigil_buf *blob, sigil_buf *receipt,
                                            const enclave_rotate_args *a);

/* rewrap.c: the same payload sealed under a new data key. */
SIGIL_WARN_UNUSED_RESULT int enclave_rewrap(enclave_state *st, enclave_policy_result *res,
                                            sigil_buf *blob, sigil_buf *receipt,
                                            const enclave_key_ref *k);

/* revoke.c: the owner's revocation of a key (docs/POLICY.md "Revocation").
 * replay: the host restoring a stored revocation after a restart: no
 * receipt, and a key already revoked is no error. *added: newly revoked. */
typedef struct {
    enclave_key_ref key;
    const uint8_t *signature;
    size_t signature_len;
    bool replay;
} enclave_revoke_args;
SIGIL_WARN_UNUSED_RESULT int enclave_revoke(enclave_state *st, sigil_buf *receipt, bool *added,
                                            const enclave_revoke_args *a);

/* receipts.c: the chain of this boot. r holds the decision (tenant, key,
 * venue, network, action, hashes, allow/reason); boot, seq, prev, time and
 * measurement are filled here. wire receives the signed receipt JSON. */
SIGIL_WARN_UNUSED_RESULT int enclave_receipt(enclave_state *st, sigil_buf *wire, sigil_receipt *r);
/* Finishes the receipt of a key decision whose outcome is rc (0: allowed,
 * output hashed; else denied with the current error, which is kept). */
SIGIL_WARN_UNUSED_RESULT int enclave_decision_receipt(enclave_state *st, sigil_buf *receipt,
                                                      sigil_receipt *r, int rc,
                                                      const uint8_t *output, size_t output_len);
/* Marks r denied with "<code>: <message>" (cut to fit, made printable). */
void enclave_receipt_deny(sigil_receipt *r, sigil_err code, const char *message);
uint64_t enclave_receipt_seq(enclave_state *st);

/* replay.c: each client-signed message once within its window. */
#define ENCLAVE_REPLAY_MAX (1u << 20)
SIGIL_WARN_UNUSED_RESULT int enclave_replay_check(const uint8_t hash[32], uint64_t now_ms,
                                                  uint64_t expires_ms);

/* loop.c */
SIGIL_WARN_UNUSED_RESULT int enclave_serve(enclave_state *st, int listen_fd);

/* harden.c: mlockall, no dumps, then a seccomp allowlist (with the
 * SIGIL_SECCOMP_SELFTEST hook of src/common/seccomp.h). */
SIGIL_WARN_UNUSED_RESULT int enclave_harden_early(void);
SIGIL_WARN_UNUSED_RESULT int enclave_harden_seccomp(void);

#endif
