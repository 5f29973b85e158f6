/*
 * sigil-gateway's seccomp allowlist (untrusted host code): after start-up,
 * any system call outside this list kills the process (SIGSYS), so a
 * compromised request path cannot exec, ptrace, mount or load modules.
 * SIGIL_SECCOMP=log logs instead; the sanitizer build installs nothing.
 */
#include <seccomp.h>

#include "common/seccomp.h"
#include "gateway/gateway.h"
#include "gateway/harden.h"

/* What the gateway needs on top of the shared base (src/common/seccomp.c),
 * collected with strace -f over the end-to-end suites (docs/HARDENING.md):
 * SQLite's WAL, locks and syncs (per-thread reader connections open
 * lazily; WAL and journal files are created, chowned to the database's
 * owner, truncated and removed), the ready file's rename, and sigwait in
 * the main thread. libmicrohttpd (TLS included), the enclave client, the
 * PostgreSQL store (libpq, traced through tests/pg/run.sh) and the IMDS
 * client need nothing beyond the base, except sendmmsg: glibc's resolver
 * sends its A and AAAA queries with it when --imds names a host that DNS
 * resolves. */
static const int ALLOWED[] = {
    SCMP_SYS(pread64),   SCMP_SYS(pwrite64), SCMP_SYS(fsync),  SCMP_SYS(fdatasync),
    SCMP_SYS(ftruncate), SCMP_SYS(fchown),   SCMP_SYS(fchmod), SCMP_SYS(unlink),
    SCMP_SYS(rename),    SCMP_SYS(readlink), SCMP_SYS(getcwd), SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(sendmmsg),
};

int gw_harden_seccomp(bool dev)
{
    sigil_seccomp_info info;
    GUARD(sigil_seccomp_install(&info, ALLOWED, SIGIL_ARRAY_LEN(ALLOWED), dev));
    gw_log("seccomp allowlist of %zu system calls, mode %s", info.calls,
           sigil_seccomp_mode_name(info.mode));
    return 0;
}
