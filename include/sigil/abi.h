/*
 * Solidity ABI for the measurement registry (libsigil-core): function
 * selectors, call data, strict decoding of return data and revert data
 * (contracts/SigilMeasurementRegistry.sol). Return and revert data come from
 * an RPC node and are untrusted: every offset, length, padding byte, bool and
 * uint64 is checked, only the canonical encoding solc emits is accepted, and
 * nothing allocates (decoded bytes and strings are slices of the input).
 */
#ifndef SIGIL_ABI_H
#define SIGIL_ABI_H

#include <stdbool.h>

#include "sigil/common.h"

#define SIGIL_ABI_WORD 32u
#define SIGIL_ABI_SELECTOR_LEN 4u
#define SIGIL_ABI_MAX_PARAMS 8u
#define SIGIL_ABI_DYNAMIC_MAX 4096u  /* bytes of one decoded bytes or string */
#define SIGIL_ABI_SIGNATURE_MAX 160u /* "name(type,...)" */
#define SIGIL_REGISTRY_MEASUREMENT_LEN 48u
#define SIGIL_REGISTRY_DESCRIPTION_MAX 256u /* the contract's MAX_DESCRIPTION_BYTES */

typedef enum {
    SIGIL_ABI_ADDRESS = 1,
    SIGIL_ABI_BOOL,
    SIGIL_ABI_UINT64,
    SIGIL_ABI_UINT256,
    SIGIL_ABI_BYTES32,
    SIGIL_ABI_BYTES,  /* dynamic */
    SIGIL_ABI_STRING, /* dynamic; bytes as given, never checked for UTF-8 */
} sigil_abi_type;

/* "address", "bool", ...; NULL for a value outside the enum. */
const char *sigil_abi_type_name(sigil_abi_type t);

/* One value, to encode or decoded. Static types are their 32-byte word as on
 * the wire (an address is word[12..32]); bool and uint64 are also in u;
 * bytes and string are p/len (after decoding, a slice of the data). */
typedef struct {
    sigil_abi_type type;
    uint8_t word[32];
    uint64_t u;
    const uint8_t *p;
    size_t len;
} sigil_abi_value;

sigil_abi_value sigil_abi_address(const uint8_t addr[static 20]);
sigil_abi_value sigil_abi_bool(bool v);
sigil_abi_value sigil_abi_uint64(uint64_t v);
sigil_abi_value sigil_abi_uint256(const uint8_t be[static 32]);
sigil_abi_value sigil_abi_bytes32(const uint8_t v[static 32]);
sigil_abi_value sigil_abi_bytes(const uint8_t *p, size_t len);
sigil_abi_value sigil_abi_string(const char *p, size_t len);

typedef struct {
    sigil_abi_type type;
    const char *name;
} sigil_abi_param;

/* A function or a custom error: name and parameter lists. */
typedef struct {
    const char *name;
    const sigil_abi_param *inputs;
    size_t ninputs;
    const sigil_abi_param *outputs; /* functions only */
    size_t noutputs;
} sigil_abi_function;

/* The registry's functions (register, deprecate, isActive, getEntry,
 * historyLength, historyAt) and custom errors; NULL when unknown. */
const sigil_abi_function *sigil_registry_function(const char *name);
const sigil_abi_function *sigil_registry_error(const char *name);

/* The canonical signature "name(type,type)", NUL-terminated. */
SIGIL_WARN_UNUSED_RESULT int sigil_abi_signature(char out[static SIGIL_ABI_SIGNATURE_MAX],
                                                 const char *name, const sigil_abi_param *params,
                                                 size_t n);
/* The first 4 bytes of keccak256(signature). */
SIGIL_WARN_UNUSED_RESULT int sigil_abi_selector(uint8_t out[static 4], const char *name,
                                                const sigil_abi_param *params, size_t n);

/* Appends the head/tail encoding of the tuple vals (no selector). Fails
 * atomically (too_large when out cannot hold it all). */
SIGIL_WARN_UNUSED_RESULT int sigil_abi_encode(sigil_buf *out, const sigil_abi_value *vals,
                                              size_t n);
/* Appends selector ‖ encoding of args; their types must be fn's inputs
 * (bad_field naming the argument otherwise). Fails atomically. */
SIGIL_WARN_UNUSED_RESULT int sigil_abi_encode_call(sigil_buf *out, const sigil_abi_function *fn,
                                                   const sigil_abi_value *args, size_t n);

/* Decodes data as the tuple params into out[0..n) strictly: exactly the
 * canonical encoding (head, then each dynamic item in order at the offset
 * its head names, nothing after). Errors name `what` and the parameter:
 * bad_encoding (truncated, offset out of range / unaligned / not canonical,
 * non-zero padding, a bool other than 0 or 1, trailing bytes), out_of_range
 * (a uint64 over 2^64-1), too_large (a length over SIGIL_ABI_DYNAMIC_MAX). */
SIGIL_WARN_UNUSED_RESULT int sigil_abi_decode(sigil_abi_value *out, const sigil_abi_param *params,
                                              size_t n, const uint8_t *data, size_t len,
                                              const char *what);

/* ---- revert data ---- */
typedef enum {
    SIGIL_ABI_REVERT_EMPTY = 1, /* no data (a bare revert, out of gas, no code...) */
    SIGIL_ABI_REVERT_ERROR,     /* Error(string) */
    SIGIL_ABI_REVERT_PANIC,     /* Panic(uint256) */
    SIGIL_ABI_REVERT_CUSTOM,    /* one of the registry's custom errors */
    SIGIL_ABI_REVERT_UNKNOWN,   /* a selector we do not know; args not decoded */
} sigil_abi_revert_kind;

typedef struct {
    sigil_abi_revert_kind kind;
    const char *name;                /* "Error", "Panic", the custom error's name; NULL otherwise */
    const sigil_abi_function *error; /* its parameters (NULL for EMPTY and UNKNOWN) */
    uint8_t selector[4];
    size_t data_len;
    sigil_abi_value args[SIGIL_ABI_MAX_PARAMS];
    size_t nargs;
} sigil_abi_revert;

/* Classifies revert data by selector and decodes the arguments strictly. An
 * unknown selector is not an error; data shorter than a selector, or
 * arguments that do not decode, are (bad_encoding, too_large). */
SIGIL_WARN_UNUSED_RESULT int sigil_abi_decode_revert(sigil_abi_revert *r, const uint8_t *data,
                                                     size_t len);
/* Appends a one-line description: `NotRegistered(owner=0xAb…, measurement=0x…)`,
 * `Error("…")` (printable ASCII, other bytes as '?'), `Panic(0x32: array index
 * out of bounds)`, `no revert data`, `unknown error 0x12345678 (68 bytes)`. */
SIGIL_WARN_UNUSED_RESULT int sigil_abi_revert_describe(sigil_buf *out, const sigil_abi_revert *r);

/* ---- the registry's calls ---- */
typedef struct {
    bool exists;
    bool active;
    uint8_t build_hash[32];
    const uint8_t *description; /* slice of the return data, <= 256 bytes, any bytes */
    size_t description_len;
    uint64_t registered_at; /* unix seconds (block timestamp) */
    uint64_t deprecated_at; /* 0 while active */
} sigil_registry_entry;

typedef struct {
    uint8_t measurement[SIGIL_REGISTRY_MEASUREMENT_LEN];
    uint8_t build_hash[32];
    const uint8_t *description;
    size_t description_len;
    uint64_t registered_at;
    uint64_t deprecated_at;
} sigil_registry_history_item;

SIGIL_WARN_UNUSED_RESULT int sigil_registry_call_is_active(sigil_buf *out,
                                                           const uint8_t owner[static 20],
                                                           const uint8_t measurement[static 48]);
SIGIL_WARN_UNUSED_RESULT int sigil_registry_call_get_entry(sigil_buf *out,
                                                           const uint8_t owner[static 20],
                                                           const uint8_t measurement[static 48]);
SIGIL_WARN_UNUSED_RESULT int sigil_registry_call_history_length(sigil_buf *out,
                                                                const uint8_t owner[static 20]);
SIGIL_WARN_UNUSED_RESULT int
sigil_registry_call_history_at(sigil_buf *out, const uint8_t owner[static 20], uint64_t index);

/* Return data, strictly (sigil_abi_decode), then what the contract
 * guarantees, as bad_field: getEntry's all-zero answer when !exists, an
 * active entry without deprecatedAt and a deprecated one with it, a non-zero
 * registeredAt; a description of at most 256 bytes (too_large); historyAt's
 * 48-byte measurement; historyLength within uint64 (out_of_range). */
SIGIL_WARN_UNUSED_RESULT int sigil_registry_decode_is_active(bool *active, const uint8_t *data,
                                                             size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_registry_decode_get_entry(sigil_registry_entry *e,
                                                             const uint8_t *data, size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_registry_decode_history_length(uint64_t *n, const uint8_t *data,
                                                                  size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_registry_decode_history_at(sigil_registry_history_item *h,
                                                              const uint8_t *data, size_t len);

#endif
