/*
 * Gateway log lines and clocks. Untrusted host code: callers pass only
 * methods, routes, statuses, latencies, tenant names and key ids.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "gateway/gateway.h"

/* Log lines go through a 64 KiB stdio buffer flushed every 100 ms by a
 * small thread, not one write(2) per request; a crash loses at most the
 * last 100 ms of log lines (never audit records: those are in the store). */
#define LOG_FLUSH_MS 100

static void *log_flusher(void *arg)
{
    (void)arg;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = LOG_FLUSH_MS * 1000000L};
    for (;;) {
        (void)nanosleep(&ts, NULL);
        (void)fflush(stderr);
    }
    return NULL;
}

int gw_log_start(void)
{
    static char buf[1 << 16];
    pthread_t t;
    ENSURE(setvbuf(stderr, buf, _IOFBF, sizeof(buf)) == 0, SIGIL_E_INTERNAL, "log: setvbuf");
    ENSURE(pthread_create(&t, NULL, log_flusher, NULL) == 0, SIGIL_E_INTERNAL,
           "log: cannot start the flusher");
    (void)pthread_detach(t);
    return 0;
}

void gw_log(const char *fmt, ...)
{
    char line[512];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    (void)gmtime_r(&ts.tv_sec, &tm);
    va_start(ap, fmt);
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive, va_start(ap) above
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ sigil-gateway %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            line);
}

uint64_t gw_mono_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
