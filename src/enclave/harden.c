/*
 * Dev-mode hardening of the enclave process (trusted). On Nitro the
 * hypervisor isolates the enclave; on a plain Linux host we do what a
 * process can: lock all memory (no swap), refuse core dumps and ptrace, and
 * after start-up a seccomp allowlist that kills the process on any other
 * system call (SIGIL_SECCOMP=log logs instead, to debug the list).
 * SIGIL_NO_HARDENING (sanitizer builds) turns all of it off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <seccomp.h>

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

/* What the loop, the workers, libcurl/OpenSSL (key service over TLS),
 * libsodium and the NSM socket need once running. */
static const int ALLOWED[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendto),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmsg),
    SCMP_SYS(close),
    SCMP_SYS(socket),
    SCMP_SYS(connect),
    SCMP_SYS(accept4),
    SCMP_SYS(shutdown),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(socketpair),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(eventfd2),
    SCMP_SYS(pipe2),
    SCMP_SYS(fcntl),
    SCMP_SYS(ioctl),
    SCMP_SYS(futex),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    SCMP_SYS(mlock),
    SCMP_SYS(munlock),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(getrandom),
    SCMP_SYS(openat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(fstat),
    SCMP_SYS(lseek),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(uname),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sched_yield),
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(tgkill),
    SCMP_SYS(sysinfo),
    SCMP_SYS(statx),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(prlimit64),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(getdents64),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(membarrier),
};

int enclave_harden_seccomp(void)
{
    if (!hardening)
        return 0;
    const char *mode = getenv("SIGIL_SECCOMP");
    uint32_t deflt =
        mode != NULL && strcmp(mode, "log") == 0 ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
    scmp_filter_ctx ctx = seccomp_init(deflt);
    ENSURE(ctx != NULL, SIGIL_E_INTERNAL, "seccomp: init failed");
    int rc = 0;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(ALLOWED) && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, ALLOWED[i], 0);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    ENSURE(rc == 0, SIGIL_E_INTERNAL, "seccomp: cannot install the filter (%d)", rc);
    return 0;
}
