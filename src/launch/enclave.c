/*
 * sigil-launch: measuring, starting, reaping and stopping the enclave, and
 * the ready file. The executable is opened once, measured through that
 * descriptor and started from it (fexecve), so the bytes that run are the
 * bytes that were measured even if the file is replaced on disk meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch/launch.h"
#include "sigil/codec.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define STABLE_UPTIME_MS 30000
#define STOP_GRACE_MS 3000

extern char **environ;

static int fresh_module_id(char *out, size_t cap)
{
    uint8_t r[8];
    char hex[17];
    ENSURE(getentropy(r, sizeof(r)) == 0, SIGIL_E_CRYPTO, "no randomness for the module id");
    sigil_hex_encode(hex, r, sizeof(r));
    snprintf(out, cap, "i-00000000000000000-enc%s", hex);
    return 0;
}

/* Child side of fork: only async-signal-safe calls until exec. */
static void exec_enclave(int exe_fd, int nsm_fd, char **argv)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (fcntl(nsm_fd, F_SETFD, 0) != 0)
        _exit(126);
    fexecve(exe_fd, argv, environ);
    /* A script (#!) cannot run from a close-on-exec descriptor: by path. */
    if (errno == ENOENT)
        execv(argv[0], argv);
    _exit(127);
}

static char **build_argv(const launcher *l, char *fd_text)
{
    char **argv = calloc((size_t)l->nargs + 4, sizeof(char *));
    if (argv == NULL)
        return NULL;
    argv[0] = (char *)l->enclave;
    for (int i = 0; i < l->nargs; i++)
        argv[1 + i] = l->args[i];
    argv[1 + l->nargs] = "--nsm-fd";
    argv[2 + l->nargs] = fd_text;
    return argv;
}

static int start_child(launcher *l, int exe_fd)
{
    int sv[2];
    char fd_text[16];
    ENSURE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, SIGIL_E_IO,
           "socketpair failed: %s", strerror(errno));
    snprintf(fd_text, sizeof(fd_text), "%d", sv[1]);
    char **argv = build_argv(l, fd_text);
    pid_t pid = argv != NULL ? fork() : -1;
    if (pid == 0)
        exec_enclave(exe_fd, sv[1], argv);
    int err = errno;
    free(argv);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        BAIL(SIGIL_E_IO, "cannot start the enclave: %s", strerror(err));
    }
    l->pid = pid;
    l->started_ms = launch_now_ms();
    nsm_conn_open(&l->conn, sv[0]);
    return 0;
}

static int new_boot(launcher *l, int exe_fd)
{
    char module_id[128];
    if (l->module_id != NULL)
        snprintf(module_id, sizeof(module_id), "%s", l->module_id);
    else
        GUARD(fresh_module_id(module_id, sizeof(module_id)));
    GUARD(sigil_attest_measure_fd(l->measurement, exe_fd, l->enclave));
    sigil_nsm_soft_free(l->soft);
    l->soft = NULL;
    return sigil_nsm_soft_new(&l->soft, l->ca, module_id, l->measurement);
}

int launch_spawn(launcher *l)
{
    int exe_fd = open(l->enclave, O_RDONLY | O_CLOEXEC);
    ENSURE(exe_fd >= 0, SIGIL_E_IO, "cannot open the enclave %s: %s", l->enclave, strerror(errno));
    int rc = new_boot(l, exe_fd);
    if (rc == 0)
        rc = start_child(l, exe_fd);
    close(exe_fd);
    GUARD(rc);
    char hex[97];
    sigil_hex_encode(hex, l->measurement, sizeof(l->measurement));
    launch_log("enclave started: pid %ld, measurement %s", (long)l->pid, hex);
    if (launch_write_ready(l) != 0)
        launch_log("cannot write the ready file: %s", sigil_errmsg());
    return 0;
}

static void describe_exit(int status, char *out, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, cap, "stopped (status 0x%x)", (unsigned)status);
}

static void enclave_gone(launcher *l, int status)
{
    char what[64];
    int64_t now = launch_now_ms(), up = now - l->started_ms;
    describe_exit(status, what, sizeof(what));
    nsm_conn_close(&l->conn);
    if (up >= STABLE_UPTIME_MS)
        l->backoff_ms = BACKOFF_MIN_MS;
    launch_log("enclave pid %ld %s after %lld ms; restarting in %lld ms", (long)l->pid, what,
               (long long)up, (long long)l->backoff_ms);
    l->pid = 0;
    l->restart_at_ms = now + l->backoff_ms;
    l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

void launch_reap(launcher *l)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == l->pid)
            enclave_gone(l, status);
}

/* Waits for the child up to ms, draining SIGCHLD notifications. */
static bool wait_child(launcher *l, int sigfd, int64_t ms)
{
    int64_t deadline = launch_now_ms() + ms;
    for (;;) {
        int status;
        if (waitpid(l->pid, &status, WNOHANG) == l->pid)
            return true;
        int64_t left = deadline - launch_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = sigfd, .events = POLLIN};
        if (poll(&p, 1, (int)left) > 0) {
            struct signalfd_siginfo si;
            (void)!read(sigfd, &si, sizeof(si));
        }
    }
}

void launch_stop(launcher *l, int sigfd)
{
    nsm_conn_close(&l->conn);
    if (l->pid <= 0)
        return;
    launch_log("stopping enclave pid %ld", (long)l->pid);
    (void)kill(l->pid, SIGTERM);
    if (!wait_child(l, sigfd, STOP_GRACE_MS)) {
        launch_log("enclave pid %ld ignored SIGTERM for %d ms; killing it", (long)l->pid,
                   STOP_GRACE_MS);
        (void)kill(l->pid, SIGKILL);
        (void)waitpid(l->pid, NULL, 0);
    }
    l->pid = 0;
}

static int ready_json(const launcher *l, sigil_buf *b)
{
    sigil_jw w;
    char hex[97];
    sigil_hex_encode(hex, l->measurement, sizeof(l->measurement));
    sigil_jw_init(&w, b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "measurement"));
    GUARD(sigil_jw_str(&w, hex));
    GUARD(sigil_jw_key(&w, "root"));
    GUARD(sigil_jw_str(&w, l->root_pem));
    GUARD(sigil_jw_key(&w, "pid"));
    GUARD(sigil_jw_u64(&w, (uint64_t)getpid()));
    GUARD(sigil_jw_key(&w, "enclave_pid"));
    GUARD(sigil_jw_u64(&w, (uint64_t)l->pid));
    GUARD(sigil_jw_obj_end(&w));
    return sigil_buf_putc(b, '\n');
}

int launch_write_ready(const launcher *l)
{
    char mem[8192], tmp[4200];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    GUARD(ready_json(l, &b));
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", l->ready_file);
    ENSURE(n > 0 && (size_t)n < sizeof(tmp), SIGIL_E_USAGE, "--ready-file: path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ENSURE(fd >= 0, SIGIL_E_IO, "cannot create %s: %s", tmp, strerror(errno));
    bool ok = write(fd, mem, b.len) == (ssize_t)b.len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, l->ready_file) != 0) {
        int err = errno;
        (void)unlink(tmp);
        BAIL(SIGIL_E_IO, "cannot write %s: %s", l->ready_file, strerror(err));
    }
    return 0;
}
