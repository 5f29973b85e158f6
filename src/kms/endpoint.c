/*
 * Key-service endpoint (trusted, enclave side): the KMS URL of an AWS region
 * by a partition table, and the proxy the client's connections go through
 * (the parent's vsock-proxy on Nitro, a TCP forwarder in tests). No DNS:
 * an enclave has none, so proxy addresses are numeric.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sigil/kms.h"

/* ---- region -> endpoint ---- */
/* DNS suffixes of the AWS partitions (the SDKs' partitions.json), by region
 * prefix; the first matching row wins, the last row matches everything. */
static const struct {
    const char *prefix;
    const char *suffix;
} PARTITIONS[] = {
    {"cn-", "amazonaws.com.cn"},   /* aws-cn */
    {"us-isob-", "sc2s.sgov.gov"}, /* aws-iso-b */
    {"us-iso-", "c2s.ic.gov"},     /* aws-iso */
    {"", "amazonaws.com"},         /* aws, aws-us-gov */
};

/* Lowercase words of [a-z0-9] joined by single '-', at least three words
 * ("us-east-1", "us-gov-west-1", "cn-north-1"). */
static int check_region(const char *r)
{
    size_t n = strnlen(r, 33), words = 1;
    ENSURE(n >= 5 && n <= 32, SIGIL_E_USAGE, "kms region: must be 5..32 characters");
    ENSURE(r[0] != '-' && r[n - 1] != '-', SIGIL_E_USAGE, "kms region: '%s' is not a region name",
           r);
    for (size_t i = 0; i < n; i++) {
        char c = r[i];
        if (c == '-') {
            ENSURE(r[i + 1] != '-', SIGIL_E_USAGE, "kms region: '%s' is not a region name", r);
            words++;
            continue;
        }
        ENSURE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'), SIGIL_E_USAGE,
               "kms region: only a-z, 0-9 and '-' allowed");
    }
    ENSURE(words >= 3, SIGIL_E_USAGE, "kms region: '%s' is not a region name", r);
    return 0;
}

int sigil_kms_region_endpoint(char *url, size_t cap, const char *region)
{
    ENSURE(region != NULL, SIGIL_E_USAGE, "kms region: required");
    GUARD(check_region(region));
    size_t i = 0;
    while (strncmp(region, PARTITIONS[i].prefix, strlen(PARTITIONS[i].prefix)) != 0)
        i++; /* the last row's empty prefix always matches */
    int n = snprintf(url, cap, "https://kms.%s.%s", region, PARTITIONS[i].suffix);
    ENSURE(n > 0 && (size_t)n < cap, SIGIL_E_USAGE, "kms region: endpoint too long");
    return 0;
}

/* ---- proxy address ---- */
static int parse_u32(uint32_t *out, const char *s, uint32_t max, const char *what)
{
    char *end = NULL;
    ENSURE(s[0] >= '0' && s[0] <= '9', SIGIL_E_USAGE, "kms proxy: bad %s", what);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    ENSURE(errno == 0 && *end == '\0' && v <= max, SIGIL_E_USAGE, "kms proxy: bad %s", what);
    *out = (uint32_t)v;
    return 0;
}

/* "CID:PORT" */
static int parse_vsock(sigil_kms_proxy *p, const char *rest)
{
    char cid[16];
    const char *colon = strchr(rest, ':');
    uint32_t port;
    ENSURE(colon != NULL && (size_t)(colon - rest) < sizeof(cid), SIGIL_E_USAGE,
           "kms proxy: expected vsock:CID:PORT");
    memcpy(cid, rest, (size_t)(colon - rest));
    cid[colon - rest] = '\0';
    GUARD(parse_u32(&p->cid, cid, UINT32_MAX - 1, "vsock CID"));
    GUARD(parse_u32(&port, colon + 1, 65535, "port"));
    ENSURE(port > 0, SIGIL_E_USAGE, "kms proxy: bad port");
    p->port = (uint16_t)port;
    return 0;
}

/* "IPV4:PORT" or "[IPV6]:PORT" */
static int parse_tcp(sigil_kms_proxy *p, const char *rest)
{
    const char *colon = strrchr(rest, ':');
    uint32_t port;
    ENSURE(colon != NULL && colon != rest, SIGIL_E_USAGE, "kms proxy: expected tcp:IP:PORT");
    const char *ip = rest;
    size_t n = (size_t)(colon - rest);
    bool v6 = ip[0] == '[';
    if (v6) {
        ENSURE(n >= 2 && ip[n - 1] == ']', SIGIL_E_USAGE, "kms proxy: expected tcp:[IPV6]:PORT");
        ip++;
        n -= 2;
    }
    ENSURE(n > 0 && n < sizeof(p->ip), SIGIL_E_USAGE, "kms proxy: bad address");
    memcpy(p->ip, ip, n);
    p->ip[n] = '\0';
    uint8_t tmp[16];
    ENSURE(inet_pton(v6 ? AF_INET6 : AF_INET, p->ip, tmp) == 1, SIGIL_E_USAGE,
           "kms proxy: '%s' is not a numeric IPv%d address", p->ip, v6 ? 6 : 4);
    GUARD(parse_u32(&port, colon + 1, 65535, "port"));
    ENSURE(port > 0, SIGIL_E_USAGE, "kms proxy: bad port");
    p->port = (uint16_t)port;
    return 0;
}

static const struct {
    const char *scheme;
    sigil_kms_proxy_kind kind;
    int (*parse)(sigil_kms_proxy *p, const char *rest);
} PROXY_KINDS[] = {
    {"vsock:", SIGIL_KMS_PROXY_VSOCK, parse_vsock},
    {"tcp:", SIGIL_KMS_PROXY_TCP, parse_tcp},
};

int sigil_kms_proxy_parse(sigil_kms_proxy *out, const char *spec)
{
    memset(out, 0, sizeof(*out));
    ENSURE(spec != NULL, SIGIL_E_USAGE, "kms proxy: required");
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(PROXY_KINDS); i++) {
        size_t n = strlen(PROXY_KINDS[i].scheme);
        if (strncmp(spec, PROXY_KINDS[i].scheme, n) == 0) {
            out->kind = PROXY_KINDS[i].kind;
            if (PROXY_KINDS[i].parse(out, spec + n) != 0) {
                memset(out, 0, sizeof(*out));
                return -1;
            }
            return 0;
        }
    }
    BAIL(SIGIL_E_USAGE, "kms proxy: expected vsock:CID:PORT or tcp:IP:PORT");
}

/* ---- proxy connection: the socket address by kind ---- */
typedef union {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr_vm vm;
} proxy_sockaddr;

static socklen_t addr_of(proxy_sockaddr *a, const sigil_kms_proxy *p)
{
    memset(a, 0, sizeof(*a));
    switch (p->kind) {
    case SIGIL_KMS_PROXY_VSOCK:
        a->vm.svm_family = AF_VSOCK;
        a->vm.svm_cid = p->cid;
        a->vm.svm_port = p->port;
        return sizeof(a->vm);
    case SIGIL_KMS_PROXY_TCP:
        if (inet_pton(AF_INET, p->ip, &a->in4.sin_addr) == 1) {
            a->in4.sin_family = AF_INET;
            a->in4.sin_port = htons(p->port);
            return sizeof(a->in4);
        }
        if (inet_pton(AF_INET6, p->ip, &a->in6.sin6_addr) == 1) {
            a->in6.sin6_family = AF_INET6;
            a->in6.sin6_port = htons(p->port);
            return sizeof(a->in6);
        }
        return 0;
    default:
        return 0;
    }
}

/* Non-blocking connect bounded by timeout_ms, then back to blocking. */
static int connect_bounded(int fd, const proxy_sockaddr *a, socklen_t len, long timeout_ms)
{
    int fl = fcntl(fd, F_GETFL);
    ENSURE(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0, SIGIL_E_IO, "kms proxy: fcntl");
    if (connect(fd, &a->sa, len) != 0) {
        ENSURE(errno == EINPROGRESS, SIGIL_E_KEY_SERVICE, "kms: unreachable: proxy connect: %s",
               strerror(errno));
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int n;
        do
            n = poll(&pfd, 1, (int)timeout_ms);
        while (n < 0 && errno == EINTR);
        ENSURE(n == 1, SIGIL_E_KEY_SERVICE, "kms: unreachable: proxy connect timed out");
        int err = 0;
        socklen_t el = sizeof(err);
        ENSURE(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0,
               SIGIL_E_KEY_SERVICE, "kms: unreachable: proxy connect: %s", strerror(err));
    }
    ENSURE(fcntl(fd, F_SETFL, fl) == 0, SIGIL_E_IO, "kms proxy: fcntl");
    return 0;
}

int sigil_kms_proxy_connect(int *out, const sigil_kms_proxy *p, long timeout_ms)
{
    proxy_sockaddr a;
    *out = -1;
    socklen_t len = addr_of(&a, p);
    ENSURE(len > 0, SIGIL_E_USAGE, "kms proxy: bad address");
    int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ENSURE(fd >= 0, SIGIL_E_KEY_SERVICE, "kms: unreachable: proxy socket: %s", strerror(errno));
    if (connect_bounded(fd, &a, len, timeout_ms > 0 ? timeout_ms : 5000) != 0) {
        (void)close(fd);
        return -1;
    }
    *out = fd;
    return 0;
}
