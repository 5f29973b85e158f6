/*
 * sigil-launch --enclave PATH --state DIR --ready-file FILE [--module-id ID]
 *              -- [enclave args...]
 * Dev stand-in for the Nitro hypervisor (DESIGN.md §2): loads or creates the
 * dev CA in DIR, measures and starts the enclave with an NSM socket
 * (`--nsm-fd N`), answers its NSM requests, restarts it with backoff when it
 * exits, and stops it on SIGTERM/SIGINT. Untrusted for secrets, trusted for
 * measurement.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "launch/launch.h"

#define USAGE                                                                                      \
    "usage: sigil-launch --enclave PATH --state DIR --ready-file FILE [--module-id ID] -- "        \
    "[enclave args...]\n"                                                                          \
    "       sigil-launch --state DIR --init   (create the dev CA, print its root path)"

void launch_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    fprintf(stderr, "sigil-launch: %s\n", line);
}

int64_t launch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_args(launcher *l, const char **state, bool *init, int argc, char **argv)
{
    static const struct option OPTS[] = {
        {"enclave", required_argument, NULL, 'e'},
        {"state", required_argument, NULL, 's'},
        {"ready-file", required_argument, NULL, 'r'},
        {"module-id", required_argument, NULL, 'm'},
        {"init", no_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+", OPTS, NULL)) != -1) {
        switch (opt) {
        case 'e':
            l->enclave = optarg;
            break;
        case 's':
            *state = optarg;
            break;
        case 'r':
            l->ready_file = optarg;
            break;
        case 'm':
            l->module_id = optarg;
            break;
        case 'i':
            *init = true;
            break;
        default:
            BAIL(SIGIL_E_USAGE, USAGE);
        }
    }
    if (*init) {
        ENSURE(*state != NULL && l->enclave == NULL && optind == argc, SIGIL_E_USAGE, USAGE);
        return 0;
    }
    ENSURE(l->enclave != NULL && *state != NULL && l->ready_file != NULL, SIGIL_E_USAGE, USAGE);
    ENSURE(optind == argc || strcmp(argv[optind - 1], "--") == 0, SIGIL_E_USAGE,
           "enclave arguments go after --");
    l->args = argv + optind;
    l->nargs = argc - optind;
    return 0;
}

static int setup(launcher *l, const char *state)
{
    char dir[PATH_MAX];
    GUARD(sigil_devca_load_or_create(&l->ca, state));
    ENSURE(realpath(state, dir) != NULL, SIGIL_E_IO, "--state: %s", strerror(errno));
    int n = snprintf(l->root_pem, sizeof(l->root_pem), "%s/root.pem", dir);
    ENSURE(n > 0 && (size_t)n < sizeof(l->root_pem), SIGIL_E_USAGE, "--state: path too long");
    if (l->module_id != NULL) {
        sigil_nsm_soft *probe;
        uint8_t zero[48] = {0};
        GUARD(sigil_nsm_soft_new(&probe, NULL, l->module_id, zero)); /* validates the id */
        sigil_nsm_soft_free(probe);
    }
    return 0;
}

static int signal_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ENSURE(sigprocmask(SIG_BLOCK, &set, NULL) == 0, SIGIL_E_INTERNAL, "sigprocmask failed");
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    ENSURE(fd >= 0, SIGIL_E_INTERNAL, "signalfd failed: %s", strerror(errno));
    return fd;
}

/* 1 when asked to stop. */
static int drain_signals(launcher *l, int sigfd)
{
    struct signalfd_siginfo si;
    int stop = 0;
    while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            stop = 1;
    }
    launch_reap(l);
    return stop;
}

static void try_spawn(launcher *l)
{
    l->restart_at_ms = 0;
    if (launch_spawn(l) == 0)
        return;
    launch_log("%s; retrying in %lld ms", sigil_errmsg(), (long long)l->backoff_ms);
    l->restart_at_ms = launch_now_ms() + l->backoff_ms;
    l->backoff_ms = l->backoff_ms * 2 > 5000 ? 5000 : l->backoff_ms * 2;
}

static int poll_timeout(const launcher *l)
{
    if (l->restart_at_ms == 0)
        return -1;
    int64_t left = l->restart_at_ms - launch_now_ms();
    return left < 0 ? 0 : (int)left;
}

static void run(launcher *l, int sigfd)
{
    for (;;) {
        struct pollfd p[2] = {{.fd = sigfd, .events = POLLIN},
                              {.fd = l->conn.fd, .events = nsm_conn_events(&l->conn)}};
        int rc = poll(p, l->conn.fd >= 0 ? 2 : 1, poll_timeout(l));
        if (rc < 0 && errno != EINTR) {
            launch_log("poll failed: %s", strerror(errno));
            return;
        }
        if (rc > 0 && l->conn.fd >= 0 && p[1].revents != 0)
            nsm_conn_service(&l->conn, l->soft, p[1].revents);
        if (rc > 0 && (p[0].revents & POLLIN) && drain_signals(l, sigfd))
            return;
        if (l->pid == 0 && l->restart_at_ms != 0 && launch_now_ms() >= l->restart_at_ms)
            try_spawn(l);
    }
}

int main(int argc, char **argv)
{
    launcher l = {.backoff_ms = 100, .conn = {.fd = -1}};
    const char *state = NULL;
    bool init = false;
    if (sigil_init() != 0 || parse_args(&l, &state, &init, argc, argv) != 0 ||
        setup(&l, state) != 0) {
        launch_log("%s", sigil_errmsg());
        sigil_devca_free(l.ca);
        return 2;
    }
    if (init) { /* the key service needs the root before any enclave starts */
        printf("%s\n", l.root_pem);
        sigil_devca_free(l.ca);
        return 0;
    }
    int sigfd = signal_fd();
    if (sigfd < 0) {
        launch_log("%s", sigil_errmsg());
        return 1;
    }
    launch_log("dev CA root %s", l.root_pem);
    try_spawn(&l);
    run(&l, sigfd);
    launch_stop(&l, sigfd);
    (void)unlink(l.ready_file);
    sigil_nsm_soft_free(l.soft);
    sigil_devca_free(l.ca);
    launch_log("stopped");
    return 0;
}
