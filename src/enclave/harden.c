/*
 * Dev-mode hardening of the enclave process (trusted). On Nitro the
 * hypervisor isolates the enclave; on a plain Linux host we do what a
 * process can: lock all memory (no swap), refuse core dumps and ptrace, and
 * after start-up a seccomp allowlist that kills the process on any other
 * system call (src/common/seccomp.c; SIGIL_SECCOMP=log logs instead, to
 * debug the list). SIGIL_NO_HARDENING (sanitizer builds) turns all of it off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <seccomp.h>

#include "common/seccomp.h"
#include "enclave/enclave.h"

#ifdef SIGIL_NO_HARDENING
static const int hardening = 0;
#else
static const int hardening = 1;
#endif

int enclave_harden_early(void)
{
    GUARD(sigil_harden_process());
    if (!hardening)
        return 0;
    /* Secrets are in sodium_malloc'd pages, locked one by one, either way;
     * mlockall keeps everything else (request buffers, stacks) out of swap
     * too. Without the privilege or limit for it, say so loudly. */
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        ENSURE(getenv("SIGIL_REQUIRE_MLOCKALL") == NULL, SIGIL_E_NO_MEMORY,
               "mlockall: %s (raise RLIMIT_MEMLOCK, e.g. ulimit -l unlimited)", strerror(errno));
        fprintf(stderr,
                "sigil-enclave: WARNING: mlockall failed (%s); only secret buffers are "
                "locked. Raise RLIMIT_MEMLOCK (ulimit -l unlimited) to lock all memory.\n",
                strerror(errno));
    }
    return 0;
}

/* What the enclave needs on top of the shared base (src/common/seccomp.c):
 * the loop, the workers, libcurl/OpenSSL (key service over TLS), libsodium
 * and the NSM socket are covered there, all but socketpair. */
static const int ALLOWED[] = {
    SCMP_SYS(socketpair),
};

/* The self-test hook is armed in both modes: on Nitro the enclave's
 * environment comes from the image, not from the host, and all the hook
 * can do is kill the process. */
int enclave_harden_seccomp(void)
{
    sigil_seccomp_info info;
    GUARD(sigil_seccomp_install(&info, ALLOWED, SIGIL_ARRAY_LEN(ALLOWED), true));
    fprintf(stderr, "sigil-enclave: seccomp allowlist of %zu system calls, mode %s\n", info.calls,
            sigil_seccomp_mode_name(info.mode));
    return 0;
}
