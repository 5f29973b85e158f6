/*
 * The sigil command-line tool: one file per subcommand, sharing the error
 * output and input helpers declared here.
 */
#ifndef SIGIL_CLI_H
#define SIGIL_CLI_H

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

/* Ed25519 key files {"type":"ed25519","public_key","secret_key"} (cmd_keygen.c).
 * Errors name the option opt. */
/* Makes a new key and writes its file (mode 0600, created exclusively). */
SIGIL_WARN_UNUSED_RESULT int cli_key_file_create(uint8_t pk[32], const char *path, const char *opt);
/* Reads a key file; with seed NULL only the public key is read and a file
 * holding just {"public_key"} is accepted too. The seed goes to locked memory. */
SIGIL_WARN_UNUSED_RESULT int cli_key_file_load(uint8_t pk[32], sigil_secret *seed, const char *path,
                                               const char *opt);
/* The public half must be the key of the seed (bad_credentials otherwise). */
SIGIL_WARN_UNUSED_RESULT int cli_key_pair_check(const uint8_t pk[32], const sigil_secret *seed,
                                                const char *opt);

int cmd_sign(int argc, char **argv);
int cmd_keygen(int argc, char **argv);       /* cmd_keygen.c */
int cmd_seal(int argc, char **argv);         /* cmd_seal.c */
int cmd_attestation(int argc, char **argv);  /* cmd_attestation.c */
int cmd_measure(int argc, char **argv);      /* cmd_attestation.c */
int cmd_admin(int argc, char **argv);        /* cmd_admin.c */
int cmd_sign_request(int argc, char **argv); /* cmd_sign_request.c */
int cmd_policy(int argc, char **argv);       /* cmd_policy.c */
int cmd_audit(int argc, char **argv);        /* cmd_audit.c */
int cmd_receipt(int argc, char **argv);      /* cmd_receipt.c */

#endif
