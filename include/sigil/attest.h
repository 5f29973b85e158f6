/*
 * Attestation (libsigil-core, no tenant secrets): NSM request/reply CBOR
 * (client and server side), the NSM transport seam (/dev/nsm ioctl or the
 * sigil-launch socket), AWS Nitro attestation documents (parse, verify,
 * build with the dev CA), Sigil's boot binding and the dev measurement.
 * Everything here parses untrusted bytes: documents and NSM replies come from
 * the host or the network and are checked before any field is believed.
 * See docs/ATTESTATION.md and reference/nitro.md §1-§4, §8.
 */
#ifndef SIGIL_ATTEST_H
#define SIGIL_ATTEST_H

#include <stdbool.h>

#include "sigil/common.h"

#define SIGIL_NSM_REQUEST_MAX 0x1000u  /* bytes of CBOR request (driver limit) */
#define SIGIL_NSM_RESPONSE_MAX 0x3000u /* bytes of CBOR reply (driver limit) */
#define SIGIL_NSM_MAX_PCRS 32u
#define SIGIL_NSM_LOCKED_AT_BOOT 16u /* PCRs 0..15 are locked from boot */
#define SIGIL_NSM_RANDOM_BYTES 256u  /* GetRandom reply size */
#define SIGIL_ATTEST_FIELD_MAX 1024u /* user_data, nonce, public_key, each certificate */
#define SIGIL_ATTEST_MAX_CABUNDLE 8u
#define SIGIL_ATTEST_DOC_MAX (SIGIL_NSM_RESPONSE_MAX - 26u) /* what one NSM reply can carry */

/* ---- NSM requests, client side (serde_cbor externally tagged encoding,
 * nitro.md §1.3; the bytes equal vectors/nitro/nsm_cbor) ---- */

/* NULL pointer -> CBOR null. */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_encode_attestation(sigil_buf *b, const uint8_t *user_data,
                                                          size_t ud_len, const uint8_t *nonce,
                                                          size_t nonce_len,
                                                          const uint8_t *public_key, size_t pk_len);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_encode_describe_pcr(sigil_buf *b, unsigned index);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_encode_get_random(sigil_buf *b);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_encode_describe_nsm(sigil_buf *b);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_encode_extend_pcr(sigil_buf *b, unsigned index,
                                                         const uint8_t *data, size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_encode_lock_pcr(sigil_buf *b, unsigned index);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_encode_lock_pcrs(sigil_buf *b, unsigned range);

/* Reply decoders: an {"Error": "<code>"} reply -> SIGIL_E_ATTESTATION
 * "nsm: <code>"; anything malformed or of another variant -> SIGIL_E_PROTOCOL.
 * Output slices point into resp. */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_decode_attestation(const uint8_t *resp, size_t len,
                                                          const uint8_t **doc, size_t *doc_len);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_decode_describe_pcr(const uint8_t *resp, size_t len,
                                                           bool *locked, uint8_t pcr[48]);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_decode_get_random(const uint8_t *resp, size_t len,
                                                         const uint8_t **p, size_t *n);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_decode_extend_pcr(const uint8_t *resp, size_t len,
                                                         uint8_t pcr[48]);
/* LockPCR / LockPCRs replies are bare text strings. */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_decode_lock_pcr(const uint8_t *resp, size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_decode_lock_pcrs(const uint8_t *resp, size_t len);

/* ---- NSM requests, server side (sigil-launch's soft NSM) ---- */

/* ErrorCode of nsm-api, in enum order (the names are the wire strings). */
typedef enum {
    SIGIL_NSM_SUCCESS = 0,
    SIGIL_NSM_INVALID_ARGUMENT,
    SIGIL_NSM_INVALID_INDEX,
    SIGIL_NSM_INVALID_RESPONSE,
    SIGIL_NSM_READ_ONLY_INDEX,
    SIGIL_NSM_INVALID_OPERATION,
    SIGIL_NSM_BUFFER_TOO_SMALL,
    SIGIL_NSM_INPUT_TOO_LARGE,
    SIGIL_NSM_INTERNAL_ERROR,
    SIGIL_NSM_ERROR_COUNT_
} sigil_nsm_error;

/* "InvalidArgument", ...; "InternalError" for out-of-range values. */
const char *sigil_nsm_error_name(sigil_nsm_error e);

typedef enum {
    SIGIL_NSM_OP_DESCRIBE_PCR = 1,
    SIGIL_NSM_OP_EXTEND_PCR,
    SIGIL_NSM_OP_LOCK_PCR,
    SIGIL_NSM_OP_LOCK_PCRS,
    SIGIL_NSM_OP_DESCRIBE_NSM,
    SIGIL_NSM_OP_ATTESTATION,
    SIGIL_NSM_OP_GET_RANDOM,
} sigil_nsm_op;

/* A parsed request; byte fields are slices of the request (NULL when null
 * or absent). Indices are kept as sent: range checks are the NSM's job
 * (they answer InvalidIndex, not InvalidOperation). */
typedef struct {
    sigil_nsm_op op;
    uint64_t index; /* DescribePCR, ExtendPCR, LockPCR */
    uint64_t range; /* LockPCRs */
    const uint8_t *data;
    size_t data_len; /* ExtendPCR */
    const uint8_t *user_data;
    size_t user_data_len; /* Attestation */
    const uint8_t *nonce;
    size_t nonce_len;
    const uint8_t *public_key;
    size_t public_key_len;
} sigil_nsm_request;

/* Parses one request strictly. On failure returns -1 with SIGIL_E_PROTOCOL
 * and *reply_err set to the Error reply to send: InputTooLarge (over 4096
 * bytes) or InvalidOperation (anything malformed or unknown). */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_parse_request(sigil_nsm_request *req,
                                                     sigil_nsm_error *reply_err, const uint8_t *p,
                                                     size_t len);

/* Reply encoders (same shapes as the real NSM, nitro.md §1.3). */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_reply_error(sigil_buf *b, sigil_nsm_error e);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_reply_describe_pcr(sigil_buf *b, bool locked,
                                                          const uint8_t pcr[48]);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_reply_extend_pcr(sigil_buf *b, const uint8_t pcr[48]);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_reply_lock_pcr(sigil_buf *b);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_reply_lock_pcrs(sigil_buf *b);
/* locked_mask: bit i set when PCR i is locked. Version 1.0.0, max_pcrs 32. */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_reply_describe_nsm(sigil_buf *b, const char *module_id,
                                                          uint32_t locked_mask);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_reply_attestation(sigil_buf *b, const uint8_t *doc,
                                                         size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_reply_get_random(sigil_buf *b, const uint8_t *p, size_t n);

/* ---- NSM transport seam: the same CBOR either way. Thread-safe (one
 * request at a time, like the driver's mutex). A reply longer than the
 * driver's 0x3000 bytes never arrives. ---- */
typedef struct sigil_nsm sigil_nsm;
/* /dev/nsm, NSM_IOCTL_RAW (0xC0200A00); errno mapped to codes. */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_open_device(sigil_nsm **n);
/* An inherited stream socket to sigil-launch (takes ownership of fd): each
 * message is a u32 big-endian length + CBOR, both ways; request <= 4096,
 * reply <= 0x3000. A broken stream makes every later call fail. The fd is
 * closed by sigil_nsm_close, or here on failure. */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_open_socket(sigil_nsm **n, int fd);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_xfer(sigil_nsm *n, const uint8_t *req, size_t req_len,
                                            uint8_t *resp, size_t resp_cap, size_t *resp_len);
void sigil_nsm_close(sigil_nsm *n);

/* Conveniences on top of xfer. doc_out must hold SIGIL_ATTEST_DOC_MAX. */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_attest(sigil_nsm *n, sigil_buf *doc_out,
                                              const uint8_t *user_data, size_t ud_len,
                                              const uint8_t *nonce, size_t nonce_len,
                                              const uint8_t *public_key, size_t pk_len);
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_describe_pcr(sigil_nsm *n, unsigned index, uint8_t pcr[48]);
/* Fills out with NSM randomness (GetRandom until full). */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_get_random(sigil_nsm *n, uint8_t *out, size_t len);

/* ---- Attestation documents (nitro.md §2) ---- */
typedef struct {
    char module_id[128];
    uint64_t timestamp_ms;
    uint32_t pcr_mask; /* bit i set when PCR i present */
    uint8_t pcrs[32][48];
    const uint8_t *public_key; /* slices into the document; NULL when null */
    size_t public_key_len;
    const uint8_t *user_data;
    size_t user_data_len;
    const uint8_t *nonce;
    size_t nonce_len;
    const uint8_t *certificate;
    size_t certificate_len;
    /* Added for verification: the rest of the envelope, as slices. */
    const uint8_t *cabundle[SIGIL_ATTEST_MAX_CABUNDLE];
    size_t cabundle_len[SIGIL_ATTEST_MAX_CABUNDLE];
    size_t cabundle_n;
    const uint8_t *protected_hdr; /* content of the protected bstr */
    size_t protected_hdr_len;
    const uint8_t *payload; /* content of the payload bstr */
    size_t payload_len;
    const uint8_t *signature; /* raw r || s, 96 bytes */
} sigil_attest_doc;

typedef struct {
    const uint8_t *root_der; /* pinned root: AWS G1 or a dev root */
    size_t root_der_len;
    int64_t verify_time; /* unix seconds for X.509 validity (now for live docs,
                            timestamp/1000 for archived ones) */
    bool allow_debug;    /* accept PCR0..2 all zero (debug enclaves); false in production */
} sigil_attest_policy;

/* Structural parse only (COSE_Sign1 + strict payload checks of nitro.md §2.5
 * steps 1-2). SIGIL_E_ATTESTATION naming the field on failure. */
SIGIL_WARN_UNUSED_RESULT int sigil_attest_parse(sigil_attest_doc *out, const uint8_t *doc,
                                                size_t len);
/* Full verification: parse, chain to the pinned root at verify_time
 * (cabundle[0] never trusted), ES384 over Sig_structure, debug check.
 * SIGIL_E_ATTESTATION with a message saying which check failed. */
SIGIL_WARN_UNUSED_RESULT int sigil_attest_verify(sigil_attest_doc *out,
                                                 const sigil_attest_policy *pol, const uint8_t *doc,
                                                 size_t len);
/* The compiled-in AWS Nitro Enclaves Root-G1 (DER), checked against its
 * SHA-256 fingerprint 641a0321...bb5b (NULL if the check ever failed). */
const uint8_t *sigil_attest_aws_root(size_t *len);
/* Reads one PEM certificate file into DER (malloc'd; caller frees). */
SIGIL_WARN_UNUSED_RESULT int sigil_attest_load_root_pem(uint8_t **der, size_t *len,
                                                        const char *path);

/* ---- Sigil's boot binding carried in user_data: CBOR map, text keys in
 * this order: {"sigil": "boot-v1", "boot_id": bstr(16), "sealing_key":
 * bstr(32) X25519, "receipt_key": bstr(32) Ed25519} ---- */
typedef struct {
    uint8_t boot_id[16];
    uint8_t sealing_key[32];
    uint8_t receipt_key[32];
} sigil_boot_binding;
#define SIGIL_BOOT_BINDING_LEN 132u /* encoded size */
SIGIL_WARN_UNUSED_RESULT int sigil_boot_binding_encode(sigil_buf *b, const sigil_boot_binding *bb);
SIGIL_WARN_UNUSED_RESULT int sigil_boot_binding_decode(sigil_boot_binding *bb, const uint8_t *p,
                                                       size_t len);

/* ---- Dev measurement: PCR0 of sigil-launch = SHA384(0^48 || SHA384(file
 * bytes)) (an extend of the file hash). ---- */
SIGIL_WARN_UNUSED_RESULT int sigil_attest_measure_file(uint8_t pcr0[48], const char *path);
/* The same over an open descriptor (read from its current offset to EOF), so
 * a launcher can measure and then fexecve exactly the bytes it measured. */
SIGIL_WARN_UNUSED_RESULT int sigil_attest_measure_fd(uint8_t pcr0[48], int fd, const char *what);
/* PCR extend: pcr = SHA384(pcr || data). */
SIGIL_WARN_UNUSED_RESULT int sigil_pcr_extend(uint8_t pcr[48], const void *data, size_t len);

/* ---- Dev CA (sigil-launch only; the enclave never has it): a chain with
 * the real profile (nitro.md §2.4/§8.2). Not thread-safe. ---- */
typedef struct sigil_devca sigil_devca;
/* dir/root.pem (public, for clients) and the other certificates and 0600
 * private keys, created on first run; reloaded afterwards; intermediates
 * re-issued when they would not cover a document's leaf. */
SIGIL_WARN_UNUSED_RESULT int sigil_devca_load_or_create(sigil_devca **ca, const char *dir);
void sigil_devca_free(sigil_devca *ca);
/* DER of the dev root (owned by ca). */
const uint8_t *sigil_devca_root_der(const sigil_devca *ca, size_t *len);
/* Builds a document with the same encoding choices as real ones (9-entry
 * payload map in real key order, timestamp always 1b+u64, protected a1 01 38
 * 22, unprotected a0, untagged, payload bstr with the 0x59 form, raw r||s
 * 96-byte signature). Fields over 1024 bytes are refused. */
SIGIL_WARN_UNUSED_RESULT int sigil_attest_build(sigil_buf *out, sigil_devca *ca,
                                                const char *module_id, uint64_t timestamp_ms,
                                                const uint8_t pcrs[32][48], uint32_t pcr_mask,
                                                const uint8_t *user_data, size_t ud_len,
                                                const uint8_t *nonce, size_t nonce_len,
                                                const uint8_t *public_key, size_t pk_len);

/* ---- Soft NSM (sigil-launch; in-process for tests): the state of one
 * boot and the request handling of nitro.md §8.2. Not thread-safe; the
 * in-process transport below serialises through sigil_nsm. ---- */
typedef struct sigil_nsm_soft sigil_nsm_soft;
/* Dev boot (docs/ATTESTATION.md): PCR0 = measurement, PCR1 =
 * SHA384(0^48 || "sigil-dev-kernel"), PCR2 = SHA384(0^48 || "sigil-dev-app"),
 * PCR4 = SHA384(0^48 || instance id = module_id up to "-enc"), others zero,
 * 0..15 locked. ca may be NULL: Attestation then answers InternalError.
 * module_id: 1..127 printable ASCII. ca must outlive s. */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_soft_new(sigil_nsm_soft **s, sigil_devca *ca,
                                                const char *module_id,
                                                const uint8_t measurement[48]);
void sigil_nsm_soft_free(sigil_nsm_soft *s);
/* Fixes the attestation clock (ms); 0 = the real clock. */
void sigil_nsm_soft_set_time(sigil_nsm_soft *s, uint64_t now_ms);
/* Handles one request, always writing a reply into resp (cap >= 0x3000):
 * an Error reply for bad requests or internal failures. Returns -1 only
 * when resp cannot hold even an Error reply. */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_soft_handle(sigil_nsm_soft *s, sigil_buf *resp,
                                                   const uint8_t *req, size_t len);
/* In-process transport over a soft NSM (s must outlive n). */
SIGIL_WARN_UNUSED_RESULT int sigil_nsm_open_soft(sigil_nsm **n, sigil_nsm_soft *s);

/* ---- Production measurement: PCR0/1/2 of an EIF v4 enclave image
 * (nitro.md §4.2), what `nitro-cli build-enclave` prints and the Nitro
 * hypervisor measures. Not the dev measurement above: that hashes a file,
 * this hashes EIF sections. The parser is strict: header fields, section
 * table, contiguous sections in the builder's order (kernel, cmdline,
 * [metadata], ramdisk x >= 2, [signature]), every length bounded by the file
 * and by the caps below, CRC-32 checked. Malformed images fail with
 * SIGIL_E_BAD_FIELD (SIGIL_E_TOO_LARGE over a cap) naming the field. ---- */
#define SIGIL_EIF_HEADER_LEN 548u
#define SIGIL_EIF_VERSION 4u
#define SIGIL_EIF_MAX_SECTIONS 32u
#define SIGIL_EIF_SECTION_HEADER_LEN 12u
#define SIGIL_EIF_FILE_MAX (16ull << 30)    /* bytes of a whole image */
#define SIGIL_EIF_KERNEL_MAX (256ull << 20) /* bytes of the kernel section */
#define SIGIL_EIF_CMDLINE_MAX 4096u         /* bytes of the kernel command line */
#define SIGIL_EIF_METADATA_MAX (1u << 20)   /* bytes of the metadata JSON */
#define SIGIL_EIF_SIGNATURE_MAX (64u << 10) /* bytes of the signature section */

typedef struct {
    uint16_t version;
    uint16_t flags; /* bit 0: aarch64 */
    uint64_t default_mem;
    uint64_t default_cpus;
    uint16_t num_sections;
    unsigned ramdisks;
    bool has_metadata;
    bool has_signature; /* signed EIF: PCR8 is not computed here */
    uint32_t crc32;
    uint8_t pcr0[48]; /* image: kernel, cmdline, every ramdisk */
    uint8_t pcr1[48]; /* kernel, cmdline, first (bootstrap) ramdisk */
    uint8_t pcr2[48]; /* the remaining (application) ramdisks */
} sigil_eif_measurement;

/* Measures an image held in memory. */
SIGIL_WARN_UNUSED_RESULT int sigil_eif_measure(sigil_eif_measurement *m, const uint8_t *p,
                                               size_t len);
/* Measures a regular file, streaming it (images run to gigabytes). */
SIGIL_WARN_UNUSED_RESULT int sigil_eif_measure_file(sigil_eif_measurement *m, const char *path);

#endif
