/*
 * The sigil command-line tool: one file per subcommand, sharing the error
 * output and input helpers declared here.
 */
#ifndef SIGIL_CLI_H
#define SIGIL_CLI_H

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
/* Reads a whole file into locked memory. */
SIGIL_WARN_UNUSED_RESULT int cli_read_secret_file(sigil_secret *out, const char *path, size_t max);

int cmd_sign(int argc, char **argv);
int cmd_keygen(int argc, char **argv);      /* cmd_keygen.c */
int cmd_seal(int argc, char **argv);        /* cmd_seal.c */
int cmd_attestation(int argc, char **argv); /* cmd_attestation.c */
int cmd_measure(int argc, char **argv);     /* cmd_attestation.c */
int cmd_admin(int argc, char **argv);       /* cmd_admin.c */

#endif
