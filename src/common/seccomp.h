/*
 * Kill-by-default system-call allowlists (libseccomp) for the long-running
 * processes: sigil-enclave (dev) and sigil-gateway. Each process keeps its
 * own list next to its code; the filter building, the SIGIL_SECCOMP switch
 * and the dev-only self-test live here once.
 */
#ifndef SIGIL_COMMON_SECCOMP_H
#define SIGIL_COMMON_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

#include "sigil/common.h"

typedef enum {
    SIGIL_SECCOMP_OFF,  /* sanitizer build (SIGIL_NO_HARDENING) */
    SIGIL_SECCOMP_KILL, /* default: any other call kills the process (SIGSYS) */
    SIGIL_SECCOMP_LOG,  /* SIGIL_SECCOMP=log: other calls are logged by the kernel */
} sigil_seccomp_mode;

typedef struct {
    sigil_seccomp_mode mode;
    size_t calls; /* allowed system calls, the shared base included */
} sigil_seccomp_info;

/* Environment variable that arms the self-test (dev mode only, see below). */
#define SIGIL_SECCOMP_SELFTEST_ENV "SIGIL_SECCOMP_SELFTEST"

/*
 * Installs the filter on every thread of the process (TSYNC): the shared
 * base list (seccomp.c) and `allowed` (SCMP_SYS numbers) are allowed,
 * anything else kills the whole process, or is only logged with
 * SIGIL_SECCOMP=log. With `dev` and
 * SIGIL_SECCOMP_SELFTEST=1 in the environment, SIGUSR2 makes the process
 * call execve, which no list allows: tests/hygiene uses it to prove that a
 * forbidden call kills. *info says what was installed, for the caller's log.
 */
SIGIL_WARN_UNUSED_RESULT int sigil_seccomp_install(sigil_seccomp_info *info, const int *allowed,
                                                   size_t n_allowed, bool dev);

/* "kill", "log" or "off (sanitizer build)" */
const char *sigil_seccomp_mode_name(sigil_seccomp_mode mode);

#endif
