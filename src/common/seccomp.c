/*
 * Kill-by-default seccomp filters from a per-process allowlist (trusted and
 * untrusted processes alike: no secrets here). The sanitizer build
 * (SIGIL_NO_HARDENING) installs nothing, since ASan and UBSan make calls
 * that no allowlist should carry.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/seccomp.h"

/* What every long-running Sigil server calls once it serves: I/O on open
 * descriptors and sockets, event loops, threads, memory, clocks,
 * randomness, signals and exit, plus what glibc, OpenSSL, libsodium and
 * libcurl call underneath. Each process adds its own (the ALLOWED lists
 * in src/enclave/harden.c and src/gateway/harden.c). */
static const int BASE[] = {
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

/* One rule with an argument check: prctl(PR_SET_NAME) (below). */
#define PRCTL_RULES 1

static const char *const MODE_NAMES[] = {
    [SIGIL_SECCOMP_OFF] = "off (sanitizer build)",
    [SIGIL_SECCOMP_KILL] = "kill",
    [SIGIL_SECCOMP_LOG] = "log",
};

const char *sigil_seccomp_mode_name(sigil_seccomp_mode mode)
{
    return (size_t)mode < SIGIL_ARRAY_LEN(MODE_NAMES) ? MODE_NAMES[mode] : "unknown";
}

/* The self-test: execve is in no allowlist. If the process is still alive
 * afterwards (log mode, or no filter), it says so and exits with 70, which
 * a test tells apart from SIGSYS. Async-signal-safe calls only. */
static void call_forbidden(int sig)
{
    static const char msg[] = "seccomp self-test: execve was allowed\n";
    (void)sig;
    (void)syscall(SYS_execve, NULL, NULL, NULL); /* EFAULT when allowed */
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(70);
}

static int arm_selftest(bool dev)
{
    const char *v = getenv(SIGIL_SECCOMP_SELFTEST_ENV);
    if (!dev || v == NULL || strcmp(v, "1") != 0)
        return 0;
    struct sigaction sa = {.sa_handler = call_forbidden};
    sigemptyset(&sa.sa_mask);
    ENSURE(sigaction(SIGUSR2, &sa, NULL) == 0, SIGIL_E_INTERNAL, "seccomp: self-test handler");
    return 0;
}

#ifdef SIGIL_NO_HARDENING
int sigil_seccomp_install(sigil_seccomp_info *info, const int *allowed, size_t n_allowed, bool dev)
{
    (void)allowed;
    (void)BASE; /* counted, not installed: not only in sizeof (clang's unneeded-declaration) */
    *info =
        (sigil_seccomp_info){SIGIL_SECCOMP_OFF, SIGIL_ARRAY_LEN(BASE) + PRCTL_RULES + n_allowed};
    return arm_selftest(dev);
}
#else
static int allow_all(scmp_filter_ctx ctx, const int *calls, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
    return rc;
}

int sigil_seccomp_install(sigil_seccomp_info *info, const int *allowed, size_t n_allowed, bool dev)
{
    const char *env = getenv("SIGIL_SECCOMP");
    bool log = env != NULL && strcmp(env, "log") == 0;
    *info = (sigil_seccomp_info){log ? SIGIL_SECCOMP_LOG : SIGIL_SECCOMP_KILL,
                                 SIGIL_ARRAY_LEN(BASE) + PRCTL_RULES + n_allowed};
    GUARD(arm_selftest(dev));
    scmp_filter_ctx ctx = seccomp_init(log ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
    ENSURE(ctx != NULL, SIGIL_E_INTERNAL, "seccomp: init failed");
    /* Threads started before the filter (the gateway's) get it too. */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    /* Every system call runs the filter: a binary tree over the allowlist
     * costs a handful of comparisons instead of one per allowed call. */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc == 0)
        rc = allow_all(ctx, BASE, SIGIL_ARRAY_LEN(BASE));
    /* Threads that libmicrohttpd started before the filter name themselves. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)PR_SET_NAME));
    if (rc == 0)
        rc = allow_all(ctx, allowed, n_allowed);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    ENSURE(rc == 0, SIGIL_E_INTERNAL, "seccomp: cannot install the filter (%d)", rc);
    return 0;
}
#endif
