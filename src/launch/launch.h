/*
 * sigil-launch internals: the dev stand-in for the Nitro hypervisor. It is
 * untrusted for secrets (it never sees one) but trusted for measurement: it
 * hashes the enclave executable, starts it, and answers its NSM requests
 * with documents signed by the dev CA, which the enclave never holds.
 */
#ifndef SIGIL_LAUNCH_H
#define SIGIL_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "sigil/attest.h"

void launch_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t launch_now_ms(void); /* CLOCK_MONOTONIC */

/* One NSM connection: u32 BE length + CBOR each way, one request at a time,
 * non-blocking so a stalled enclave never stalls the launcher. */
typedef struct {
    int fd; /* -1: closed */
    uint8_t hdr[4];
    size_t hdr_got;
    size_t need; /* body length being received */
    size_t got;
    bool discarding; /* body over 4096 bytes: dropped, then InputTooLarge */
    uint8_t req[SIGIL_NSM_REQUEST_MAX];
    uint8_t out[4 + SIGIL_NSM_RESPONSE_MAX];
    size_t out_len;
    size_t out_off;
} nsm_conn;

void nsm_conn_open(nsm_conn *c, int fd);
void nsm_conn_close(nsm_conn *c);
/* poll events the connection waits for (0 when closed). */
short nsm_conn_events(const nsm_conn *c);
/* Makes progress after poll; closes the connection on EOF, I/O errors and
 * broken framing (logged). */
void nsm_conn_service(nsm_conn *c, sigil_nsm_soft *soft, short revents);

/* The supervised enclave. */
typedef struct {
    const char *enclave; /* executable path */
    char **args;         /* extra enclave arguments */
    int nargs;
    const char *module_id; /* NULL: a fresh one per boot */
    const char *ready_file;
    char root_pem[4096]; /* absolute path of the dev root */
    sigil_devca *ca;
    pid_t pid; /* 0: not running */
    int64_t started_ms;
    int64_t restart_at_ms; /* 0: none scheduled */
    int64_t backoff_ms;
    uint8_t measurement[48];
    sigil_nsm_soft *soft;
    nsm_conn conn;
} launcher;

/* Measures and starts the enclave with a fresh soft NSM, then rewrites the
 * ready file. On failure the caller schedules a retry. */
SIGIL_WARN_UNUSED_RESULT int launch_spawn(launcher *l);
/* Reaps children; schedules the restart when the enclave exited. */
void launch_reap(launcher *l);
/* SIGTERM, then SIGKILL after 3 s. */
void launch_stop(launcher *l, int sigfd);
SIGIL_WARN_UNUSED_RESULT int launch_write_ready(const launcher *l);

#endif
