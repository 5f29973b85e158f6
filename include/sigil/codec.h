/*
 * Sigil codecs (libsigil-core): hex, base64, strict JSON reader and writer,
 * strict query strings, msgpack, EIP-712. All parse untrusted bytes and fail
 * with typed errors; none allocates.
 */
#ifndef SIGIL_CODEC_H
#define SIGIL_CODEC_H

#include <stdbool.h>

#include "sigil/common.h"

/* ---- hex and base64 (constant-time, safe for secrets) ---- */
/* Lowercase hex, no prefix. out must hold 2*n+1 bytes (NUL-terminated). */
void sigil_hex_encode(char *out, const uint8_t *in, size_t n);
/* Decodes exactly out_len bytes from hex text (an optional 0x prefix is
 * accepted when allow_0x). `what` names the field for the error message. */
SIGIL_WARN_UNUSED_RESULT int sigil_hex_decode_exact(uint8_t *out, size_t out_len, const char *in,
                                                    size_t in_len, bool allow_0x, const char *what);
/* Decodes a variable-length hex string; *out_len receives the byte count. */
SIGIL_WARN_UNUSED_RESULT int sigil_hex_decode(uint8_t *out, size_t out_cap, size_t *out_len,
                                              const char *in, size_t in_len, bool allow_0x,
                                              const char *what);

typedef enum {
    SIGIL_B64_STD,    /* RFC 4648 alphabet with padding */
    SIGIL_B64_URL_NP, /* URL-safe alphabet, no padding (JWT) */
} sigil_b64_variant;

#define SIGIL_B64_LEN(n) ((((n) + 2) / 3) * 4)
/* Appends base64 of in to b. */
SIGIL_WARN_UNUSED_RESULT int sigil_b64_put(sigil_buf *b, const uint8_t *in, size_t n,
                                           sigil_b64_variant v);
SIGIL_WARN_UNUSED_RESULT int sigil_b64_decode(uint8_t *out, size_t out_cap, size_t *out_len,
                                              const char *in, size_t in_len, sigil_b64_variant v,
                                              const char *what);

/* ---- strict JSON reader over libjsmn ---- */
#define SIGIL_JSON_MAX_DEPTH 32

typedef enum {
    SIGIL_JSON_OBJECT = 1,
    SIGIL_JSON_ARRAY,
    SIGIL_JSON_STRING,
    SIGIL_JSON_NUMBER,
    SIGIL_JSON_TRUE,
    SIGIL_JSON_FALSE,
    SIGIL_JSON_NULL,
} sigil_json_type;

typedef struct {
    uint8_t type; /* sigil_json_type */
    uint8_t depth;
    uint8_t escaped; /* strings: 1 when the text holds a backslash escape */
    uint8_t pad_;
    uint32_t start; /* strings: first byte after the quote */
    uint32_t end;   /* strings: the closing quote */
    uint32_t size;  /* children: members of an object, items of an array */
    uint32_t next;  /* index of the token after this one's subtree */
    uint32_t hash;  /* object keys: FNV-1a of the decoded key (duplicate checks) */
} sigil_json_tok;

typedef struct {
    const char *text;
    size_t len;
    sigil_json_tok *toks;
    uint32_t ntoks;
    uint32_t cap;
} sigil_json;

/* Parses text strictly: RFC 8259 grammar, valid UTF-8, no duplicate keys
 * (compared after unescaping), depth <= SIGIL_JSON_MAX_DEPTH, exactly one
 * value, which must be an object or an array. Tokens go to the caller's array; nothing is
 * allocated. */
SIGIL_WARN_UNUSED_RESULT int sigil_json_parse(sigil_json *doc, const char *text, size_t len,
                                              sigil_json_tok *toks, uint32_t cap);

static inline sigil_json_type sigil_json_type_of(const sigil_json *d, uint32_t t)
{
    return (sigil_json_type)d->toks[t].type;
}
const char *sigil_json_type_name(sigil_json_type t);

/* Object member lookup; returns the value token or 0 when absent (token 0
 * is always the root and never a member value). Keys compared unescaped. */
uint32_t sigil_json_get(const sigil_json *d, uint32_t obj, const char *key);
/* Iteration: first child / next sibling; 0 when none. For objects, children
 * are keys and sigil_json_value(key) is the member's value. */
uint32_t sigil_json_first(const sigil_json *d, uint32_t t);
uint32_t sigil_json_sibling(const sigil_json *d, uint32_t parent, uint32_t t);
static inline uint32_t sigil_json_value(uint32_t key)
{
    return key + 1;
}
/* Raw text of a token (strings: without quotes, still escaped). */
sigil_slice sigil_json_raw(const sigil_json *d, uint32_t t);
/* Whether a string token contains no escapes (so its raw text is its value). */
bool sigil_json_str_is_plain(const sigil_json *d, uint32_t t);
/* Unescapes a string token into out (UTF-8). */
SIGIL_WARN_UNUSED_RESULT int sigil_json_str(const sigil_json *d, uint32_t t, sigil_buf *out);
bool sigil_json_str_eq(const sigil_json *d, uint32_t t, const char *lit);
/* Copies a key's raw text for an error message: printable ASCII only (other
 * bytes become '?'), truncated to cap - 1, NUL-terminated. */
void sigil_json_key_for_message(const sigil_json *d, uint32_t k, char *out, size_t cap);

/* Decodes the escape at p[i] == '\\' (p[..end) is a string's raw text) into
 * o as UTF-8 (*no bytes); returns the bytes consumed, 0 when malformed. */
size_t sigil_json_decode_escape(const char *p, size_t i, size_t end, uint8_t o[4], uint8_t *no);

/* Schema helpers: every failure names the field ("request.query"). */
typedef struct {
    const char *name;
    bool required;
} sigil_json_field;
/* Refuses members of obj not listed, and missing required ones. A member
 * whose value is null counts as absent. */
SIGIL_WARN_UNUSED_RESULT int sigil_json_check_fields(const sigil_json *d, uint32_t obj,
                                                     const sigil_json_field *fields, size_t n,
                                                     const char *where);
/* Typed getters. *out_tok is 0 when the member is absent or null and the
 * getter is for an optional field. */
SIGIL_WARN_UNUSED_RESULT int sigil_json_expect(const sigil_json *d, uint32_t t,
                                               sigil_json_type type, const char *where,
                                               const char *field);
SIGIL_WARN_UNUSED_RESULT int sigil_json_get_str(const sigil_json *d, uint32_t obj, const char *key,
                                                bool required, uint32_t *out_tok,
                                                const char *where);
SIGIL_WARN_UNUSED_RESULT int sigil_json_get_u64(const sigil_json *d, uint32_t obj, const char *key,
                                                bool required, uint64_t *out, bool *present,
                                                const char *where);
/* Parses an integer token (no fraction, no exponent, no leading zeros). */
SIGIL_WARN_UNUSED_RESULT int sigil_json_tok_u64(const sigil_json *d, uint32_t t, uint64_t *out,
                                                const char *what);
SIGIL_WARN_UNUSED_RESULT int sigil_json_tok_i64(const sigil_json *d, uint32_t t, int64_t *out,
                                                const char *what);
/* Whether a number token is an integer (no '.', 'e' or 'E'). */
bool sigil_json_is_integer(const sigil_json *d, uint32_t t);

/* ---- JSON writer: compact output into a bounded buffer ---- */
typedef struct {
    sigil_buf *b;
    uint32_t depth;
    uint64_t need_comma; /* bit per depth level */
} sigil_jw;

void sigil_jw_init(sigil_jw *w, sigil_buf *b);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_obj_begin(sigil_jw *w);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_obj_end(sigil_jw *w);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_arr_begin(sigil_jw *w);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_arr_end(sigil_jw *w);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_key(sigil_jw *w, const char *key);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_str(sigil_jw *w, const char *s);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_strn(sigil_jw *w, const char *s, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_u64(sigil_jw *w, uint64_t v);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_bool(sigil_jw *w, bool v);
SIGIL_WARN_UNUSED_RESULT int sigil_jw_null(sigil_jw *w);
/* Writes n bytes as a string of 2n lowercase hex digits. */
SIGIL_WARN_UNUSED_RESULT int sigil_jw_hex(sigil_jw *w, const uint8_t *p, size_t n);
/* Writes pre-validated JSON text as one value. */
SIGIL_WARN_UNUSED_RESULT int sigil_jw_raw(sigil_jw *w, const char *s, size_t n);
/* Re-emits a parsed subtree compactly, keeping key order and the exact text
 * of numbers and strings. */
SIGIL_WARN_UNUSED_RESULT int sigil_jw_copy(sigil_jw *w, const sigil_json *d, uint32_t t);

/* ---- strict query strings / x-www-form-urlencoded ---- */
#define SIGIL_QUERY_MAX_PARAMS 128

typedef struct {
    sigil_slice key;   /* raw (still percent-encoded) */
    sigil_slice value; /* raw */
    bool plain;        /* the name has no '%' or '+': its raw text is its name */
} sigil_query_param;

typedef struct {
    sigil_query_param params[SIGIL_QUERY_MAX_PARAMS];
    size_t n;
} sigil_query;

/* Splits text on '&' and '='. Refuses empty keys, malformed percent-encoding,
 * encoded bytes that do not form UTF-8, and duplicate keys, including keys
 * that are equal once decoded or once case-folded (a venue could read either
 * copy). `what` names the field. The empty string is zero parameters. */
SIGIL_WARN_UNUSED_RESULT int sigil_query_parse(sigil_query *q, const char *text, size_t len,
                                               const char *what);
/* Finds a parameter by its exact decoded name; NULL when absent. */
const sigil_query_param *sigil_query_find(const sigil_query *q, const char *name);
/* Refuses a parameter of a whose name equals one of b's once decoded or
 * case-folded (a query and a form body the venue reads as one set). */
SIGIL_WARN_UNUSED_RESULT int sigil_query_check_disjoint(const sigil_query *a, const sigil_query *b,
                                                        const char *what);
/* The parameter named exactly name (NULL when absent), refusing one whose
 * name differs only in letter case: a venue that reads names exactly would
 * not see the parameter the caller checked. */
SIGIL_WARN_UNUSED_RESULT int sigil_query_get(const sigil_query_param **out, const sigil_query *q,
                                             const char *name, const char *what);
/* Finds a parameter whose decoded name equals name up to ASCII case (there is
 * at most one: sigil_query_parse refuses case variants). */
const sigil_query_param *sigil_query_find_folded(const sigil_query *q, const char *name);
/* Percent-decodes src into out (form rules when plus_is_space); out may be
 * NULL to validate only. */
SIGIL_WARN_UNUSED_RESULT int sigil_pct_decode(sigil_buf *out, const char *src, size_t len,
                                              bool plus_is_space, const char *what);
/* Percent-encodes every byte outside the RFC 3986 unreserved set. */
SIGIL_WARN_UNUSED_RESULT int sigil_pct_encode(sigil_buf *out, const char *src, size_t len);

/* ---- EIP-712 typed data (hashing only; signing is in the venues) ---- */
typedef struct {
    sigil_slice name;
    sigil_slice type; /* e.g. "uint256", "address[]", "Person", "bytes32[2]" */
} sigil_eip712_field;

typedef struct {
    sigil_slice name;
    const sigil_eip712_field *fields;
    size_t nfields;
} sigil_eip712_type;

typedef struct {
    const sigil_eip712_type *types;
    size_t ntypes;
} sigil_eip712_types;

#define SIGIL_EIP712_MAX_TYPES 32
#define SIGIL_EIP712_MAX_FIELDS 256

/* Reads a JSON "types" object into caller-provided tables (no allocation);
 * an EIP712Domain entry, if present, is kept like any other type. */
SIGIL_WARN_UNUSED_RESULT int
sigil_eip712_types_from_json(sigil_eip712_types *out, sigil_eip712_type *type_mem, size_t type_cap,
                             sigil_eip712_field *field_mem, size_t field_cap, const sigil_json *d,
                             uint32_t types_obj);
/* typeHash = keccak256(encodeType(primary)), referenced structs sorted. */
SIGIL_WARN_UNUSED_RESULT int
sigil_eip712_type_hash(uint8_t out[static 32], const sigil_eip712_types *t, sigil_slice primary);
/* hashStruct(primary, value) with value a JSON object; members missing from
 * the value are an error, extra members are ignored (as wallets do). */
SIGIL_WARN_UNUSED_RESULT int sigil_eip712_hash_struct(uint8_t out[static 32],
                                                      const sigil_eip712_types *t,
                                                      sigil_slice primary, const sigil_json *d,
                                                      uint32_t value);
/* Domain separator for the common {name, version, chainId, verifyingContract}
 * domain (all four present). */
void sigil_eip712_domain_hash(uint8_t out[static 32], const char *name, const char *version,
                              uint64_t chain_id, const uint8_t verifying_contract[static 20]);
/* keccak256(0x19 0x01 ‖ domain_separator ‖ struct_hash) */
void sigil_eip712_digest(uint8_t out[static 32], const uint8_t domain_separator[static 32],
                         const uint8_t struct_hash[static 32]);
/* Full typed-data document {domain, types, primaryType, message}: digest and
 * domain separator. The EIP712Domain type is taken from "types" when given,
 * otherwise derived from the domain's members in canonical order. Any other
 * member of root is refused unless listed in extra (at most 4): members the
 * caller's request adds around the document (the eip712 venue's unsigned
 * "timestamp"), never hashed, read and checked by the caller. */
SIGIL_WARN_UNUSED_RESULT int sigil_eip712_hash_typed_data(uint8_t digest[static 32],
                                                          uint8_t domain_separator[static 32],
                                                          const sigil_json *d, uint32_t root,
                                                          const sigil_json_field *extra,
                                                          size_t n_extra);
/* EIP-191 personal_sign digest: keccak256("\x19Ethereum Signed Message:\n" ‖
 * decimal length ‖ message). */
void sigil_eip191_digest(uint8_t out[static 32], const uint8_t *msg, size_t n);

/* ---- msgpack, as Python's msgpack.packb writes it (Hyperliquid L1 hashing) ---- */
/* Appends the msgpack encoding of JSON value t: objects as maps in key
 * order, strings as str of their unescaped UTF-8 bytes, integers in the
 * smallest form (negative ones too, uint64 0xcf from 2^32), true/false/null.
 * A number with a fraction or exponent is refused (msgpack would carry a
 * float). `where` names t in errors; members and items extend it
 * ("request.action.orders[0].p"). On failure out is unchanged. */
SIGIL_WARN_UNUSED_RESULT int sigil_msgpack_from_json(sigil_buf *out, const sigil_json *d,
                                                     uint32_t t, const char *where);
/* Single items, same rules; each fails atomically. */
SIGIL_WARN_UNUSED_RESULT int sigil_msgpack_put_int(sigil_buf *out, int64_t v);
SIGIL_WARN_UNUSED_RESULT int sigil_msgpack_put_uint(sigil_buf *out, uint64_t v);
SIGIL_WARN_UNUSED_RESULT int sigil_msgpack_put_str(sigil_buf *out, const void *p, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_msgpack_put_array_header(sigil_buf *out, uint32_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_msgpack_put_map_header(sigil_buf *out, uint32_t n);

/* ---- UTF-8 ---- */
typedef struct {
    uint32_t cp, min;
    uint8_t need;
} sigil_utf8_state;
bool sigil_utf8_valid(const uint8_t *p, size_t n);
/* Streaming form: feed bytes one by one; complete when need == 0. */
bool sigil_utf8_feed(sigil_utf8_state *s, uint8_t c);

#endif
