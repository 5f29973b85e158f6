/*
 * The sigil command-line tool: one file per subcommand, sharing the error
 * output and input helpers declared here.
 */
#ifndef SIGIL_CLI_H
#define SIGIL_CLI_H

#include <stdbool.h>

#include "sigil/abi.h"
#include "sigil/attest.h"
#include "sigil/codec.h"
#include "sigil/common.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_INTERNAL 1
#define CLI_EXIT_BAD_INPUT 2

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_command;

/* Prints the current error as one line {"error":{"code","message"}} on
 * stderr and returns the exit code for it. */
int cli_report_error(void);
/* Reads all of stdin into buf (at most cap bytes; more is too_large). */
SIGIL_WARN_UNUSED_RESULT int cli_read_stdin(char *buf, size_t cap, size_t *len);
/* Reads a whole file into locked memory (errors name --credentials). */
SIGIL_WARN_UNUSED_RESULT int cli_read_secret_file(sigil_secret *out, const char *path, size_t max);
/* The same, errors naming the option opt. */
SIGIL_WARN_UNUSED_RESULT int cli_read_secret_file_as(sigil_secret *out, const char *path,
                                                     size_t max, const char *opt);
/* Reads a whole file that holds no secret (at most cap bytes; more is too_large). */
SIGIL_WARN_UNUSED_RESULT int cli_read_public_file(char *buf, size_t cap, size_t *len,
                                                  const char *path, const char *opt);
/* Parses text strictly (a JSON object) and writes it to w compactly, members
 * and number/string texts as written; `what` names it in errors. */
#define CLI_JSON_MAX_TOKENS 8192
SIGIL_WARN_UNUSED_RESULT int cli_copy_json_object(sigil_jw *w, const char *text, size_t len,
                                                  const char *what);
/* Writes n bytes and a newline to stdout, flushed. */
SIGIL_WARN_UNUSED_RESULT int cli_write_line(const char *p, size_t n);
/* One option of a command's table (cli_options.c): --NAME with an argument,
 * its text in *value, or with flag set (and value NULL) --NAME alone,
 * *flag true. A required one (never a flag) missing is "<what>: --NAME is
 * required". */
typedef struct {
    const char *name;
    const char **value;
    bool *flag;
    bool required;
} cli_opt;
#define CLI_OPTS_MAX 24
/* getopt_long over argv[1..] into the table (n entries): every value NULL
 * and flag false first. An unknown option is usage (the usage text), a
 * repeated one "<what>: an option is given twice". With rest NULL a stray
 * argument is "<what>: unexpected argument"; else *rest is the index of the
 * first non-option argument, for the caller to check. */
SIGIL_WARN_UNUSED_RESULT int cli_options(int argc, char **argv, const cli_opt *opts, size_t n,
                                         int *rest, const char *usage, const char *what);

/* ---- HTTP to the gateway (cli_http.c) ---- */
#define CLI_HTTP_TOKEN_MAX 512
#define CLI_HTTP_AUTH_MAX (CLI_HTTP_TOKEN_MAX + 32)

/* A response body, at most cap bytes (more is too_large). */
typedef struct {
    char *data;
    size_t len, cap;
    bool overflow;
} cli_http_sink;

typedef struct {
    const char *url;
    const char *method; /* NULL: GET, or POST when body is set; else PUT or POST (body optional) */
    const char *auth;   /* a whole "Authorization: Bearer ..." header, or NULL */
    const char *cacert; /* CA bundle for https, or NULL for the system's */
    const char *body;   /* POSTed as JSON when not NULL */
    size_t body_len;
    long timeout_s;       /* the whole exchange */
    bool connect_timeout; /* give up connecting after 10 s (else libcurl's default) */
} cli_http_request;

/* --gateway (at most max printable ASCII bytes, no spaces): an http:// or
 * https:// base URL without query or fragment, written to base without
 * trailing slashes. */
SIGIL_WARN_UNUSED_RESULT int cli_http_gateway(char *base, size_t cap, const char *gateway,
                                              size_t max);
/* The "Authorization: Bearer" header for --token (at most CLI_HTTP_TOKEN_MAX
 * printable ASCII bytes, no spaces). */
SIGIL_WARN_UNUSED_RESULT int cli_http_bearer(char out[CLI_HTTP_AUTH_MAX], const char *token);
/* Sends the request and reads the whole response into sink, its status to
 * *status. Fails (too_large, timeout, unavailable; messages name "gateway")
 * when no complete response came. */
SIGIL_WARN_UNUSED_RESULT int cli_http_send(long *status, cli_http_sink *sink,
                                           const cli_http_request *req);
/* cli_http_send; then a status outside 2xx becomes this process's error: the
 * code and message of the gateway's {"error":{"code","message"}} body, or
 * protocol_error without one. */
SIGIL_WARN_UNUSED_RESULT int cli_http_call(cli_http_sink *sink, const cli_http_request *req);

/* ---- a fresh attestation document from the gateway (cli_attestation_fetch.c) ---- */
#define CLI_ATTESTATION_NONCE_LEN 32
#define CLI_ATTESTATION_DOC_MAX ((size_t)16 * 1024)
#define CLI_ATTESTATION_URL_MAX 2048 /* base_url's buffer */

typedef struct {
    const char *base_url;  /* from cli_http_gateway */
    const char *auth;      /* from cli_http_bearer, or NULL to send none */
    const char *cacert;    /* or NULL */
    bool want_sealing_key; /* the response's "sealing_key" is required (else not read) */
} cli_attestation_source;

typedef struct {
    uint8_t nonce[CLI_ATTESTATION_NONCE_LEN]; /* ours, random */
    uint8_t bytes[CLI_ATTESTATION_DOC_MAX];   /* the document */
    size_t len;
    uint8_t sealing_key[32]; /* the response's, with want_sealing_key */
    uint8_t measurement[48]; /* the response's informational member, when present */
    bool has_measurement;
    sigil_attest_doc doc; /* set by cli_attestation_verify (pointers into bytes) */
} cli_attestation;

typedef struct {
    const uint8_t *root_der; /* from cli_root_load */
    size_t root_len;
    const uint8_t *pinned;  /* 48 bytes PCR0 must equal (checked first), or NULL */
    const char *prefix;     /* put before each message of these checks */
    const char *nonce_hint; /* put after the nonce check's message */
} cli_attestation_check;

/* GET /v1/attestation?nonce=<fresh random> and its members: "document"
 * (standard base64), "sealing_key" (64 hex, when asked for) and an optional
 * "measurement" (96 hex); protocol_error naming the member otherwise. */
SIGIL_WARN_UNUSED_RESULT int cli_attestation_fetch(cli_attestation *out,
                                                   const cli_attestation_source *src);
/* The document's own checks (pinned root, chain at now, signature, not
 * debug), then: PCR0 the pinned one (when given), our nonce, at most 5
 * minutes old and at most 60 s ahead (attestation errors). */
SIGIL_WARN_UNUSED_RESULT int cli_attestation_verify(cli_attestation *a,
                                                    const cli_attestation_check *chk);

/* ---- the pinned root (--root aws | --trust-dev-root PEM) ---- */
/* Exactly one of the two, and --root names aws; cmd names the subcommand. */
SIGIL_WARN_UNUSED_RESULT int cli_root_check(const char *root, const char *dev_root,
                                            const char *cmd);
/* The root's DER: read from the dev root's PEM file (*owned, for the caller
 * to free) or the built-in AWS root (*owned NULL). */
SIGIL_WARN_UNUSED_RESULT int cli_root_load(const uint8_t **der, size_t *len, uint8_t **owned,
                                           const char *dev_root);

/* Ed25519 key files {"type":"ed25519","public_key","secret_key"} (cmd_keygen.c).
 * Errors name the option opt. */
/* Makes a new key and writes its file (mode 0600, created exclusively). */
SIGIL_WARN_UNUSED_RESULT int cli_key_file_create(uint8_t pk[32], const char *path, const char *opt);
/* Reads a key file; with seed NULL only the public key is read and a file
 * holding just {"public_key"} is accepted too. The seed goes to locked memory. */
SIGIL_WARN_UNUSED_RESULT int cli_key_file_load(uint8_t pk[32], sigil_secret *seed, const char *path,
                                               const char *opt);
/* Reads a key file with its seed and checks that the public half is the
 * seed's key (bad_credentials otherwise). */
SIGIL_WARN_UNUSED_RESULT int cli_key_pair_load(uint8_t pk[32], sigil_secret *seed, const char *path,
                                               const char *opt);

/* ---- the measurement registry over JSON-RPC (cmd_registry.c) ---- */
#define CLI_REGISTRY_RETURN_MAX 8192

typedef struct {
    const char *rpc; /* checked http(s) URL; never printed (it may hold an API key) */
    uint8_t contract[20];
    uint8_t owner[20];
} cli_registry;

typedef struct {
    sigil_registry_entry entry; /* its description is a slice of ret */
    uint8_t ret[CLI_REGISTRY_RETURN_MAX];
    size_t ret_len;
} cli_registry_answer;

/* --measurement: 96 hex digits (0x optional), refused when all zero. */
SIGIL_WARN_UNUSED_RESULT int cli_measurement_parse(uint8_t out[48], const char *hex);
/* Checks --rpc, --contract and --owner (usage / bad_address naming the option). */
SIGIL_WARN_UNUSED_RESULT int cli_registry_init(cli_registry *r, const char *rpc,
                                               const char *contract, const char *owner);
/* getEntry(owner, measurement) by eth_call on the latest block. Errors:
 * unavailable / timeout (the node or a JSON-RPC error), protocol_error (a
 * malformed reply), bad_field (no code at --contract, a revert, an answer
 * the registry cannot give), bad_encoding (malformed return data). */
SIGIL_WARN_UNUSED_RESULT int cli_registry_get_entry(cli_registry_answer *a, const cli_registry *r,
                                                    const uint8_t measurement[48]);
/* "[self-reported by 0x<EIP-55 owner>] <description>", the description's
 * invalid UTF-8, controls and invisible reordering characters as U+FFFD. */
SIGIL_WARN_UNUSED_RESULT int cli_registry_description(sigil_buf *out, const uint8_t owner[20],
                                                      const uint8_t *p, size_t n);
/* "active for 0x… since <UTC>" (true), "deprecated at <UTC> (unix N) by 0x…"
 * or "not registered by 0x…" (false). */
bool cli_registry_reason(char *out, size_t cap, const sigil_registry_entry *e,
                         const uint8_t owner[20]);
/* Unix seconds as 2026-01-01T00:00:00Z. */
void cli_utc_time(char out[32], uint64_t t);

int cmd_sign(int argc, char **argv);
int cmd_keygen(int argc, char **argv);       /* cmd_keygen.c */
int cmd_seal(int argc, char **argv);         /* cmd_seal.c */
int cmd_attestation(int argc, char **argv);  /* cmd_attestation.c */
int cmd_measure(int argc, char **argv);      /* cmd_attestation.c */
int cmd_admin(int argc, char **argv);        /* cmd_admin.c */
int cmd_sign_request(int argc, char **argv); /* cmd_sign_request.c */
int cmd_policy(int argc, char **argv);       /* cmd_policy.c */
int cmd_keys(int argc, char **argv);         /* cmd_keys.c */
int cmd_revoke(int argc, char **argv);       /* cmd_revoke.c */
int cmd_audit(int argc, char **argv);        /* cmd_audit.c */
int cmd_receipt(int argc, char **argv);      /* cmd_receipt.c */
int cmd_registry(int argc, char **argv);     /* cmd_registry.c */

/* cmd_verify_deployment.c */
int cmd_verify_deployment(int argc, char **argv);

#endif
