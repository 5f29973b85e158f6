/*
 * Transport addresses ("unix:/path", "vsock:CID:PORT") and the table that
 * picks the back-end file for each (transport_unix.c, transport_vsock.c).
 */
#include <stdlib.h>
#include <string.h>

#include "frame/transport_internal.h"

static const struct {
    sigil_transport_kind kind;
    int (*listen)(const sigil_addr *a, int *fd);
    int (*connect)(const sigil_addr *a, int *fd);
} TRANSPORTS[] = {
    {SIGIL_TRANSPORT_UNIX, sigil_unix_listen, sigil_unix_connect},
    {SIGIL_TRANSPORT_VSOCK, sigil_vsock_listen, sigil_vsock_connect},
};

static int parse_u32(uint32_t *out, const char *s, const char *what)
{
    char *end;
    ENSURE(*s >= '0' && *s <= '9', SIGIL_E_BAD_FIELD, "address: %s must be a decimal number", what);
    unsigned long long v = strtoull(s, &end, 10);
    ENSURE(end != s && v <= UINT32_MAX, SIGIL_E_OUT_OF_RANGE, "address: %s out of range", what);
    ENSURE(*end == '\0' || *end == ':', SIGIL_E_BAD_FIELD, "address: %s must be a decimal number",
           what);
    *out = (uint32_t)v;
    return 0;
}

int sigil_addr_parse(sigil_addr *a, const char *s)
{
    memset(a, 0, sizeof(*a));
    if (strncmp(s, "unix:", 5) == 0) {
        size_t n = strlen(s + 5);
        ENSURE(n > 0 && n < sizeof(a->path), SIGIL_E_BAD_FIELD,
               "address: unix socket path must be 1..%zu bytes", sizeof(a->path) - 1);
        a->kind = SIGIL_TRANSPORT_UNIX;
        memcpy(a->path, s + 5, n + 1);
        return 0;
    }
    if (strncmp(s, "vsock:", 6) == 0) {
        const char *colon = strchr(s + 6, ':');
        ENSURE(colon != NULL, SIGIL_E_BAD_FIELD, "address: expected vsock:CID:PORT");
        a->kind = SIGIL_TRANSPORT_VSOCK;
        GUARD(parse_u32(&a->cid, s + 6, "vsock CID"));
        ENSURE(strchr(colon + 1, ':') == NULL, SIGIL_E_BAD_FIELD,
               "address: expected vsock:CID:PORT");
        return parse_u32(&a->port, colon + 1, "vsock port");
    }
    BAIL(SIGIL_E_BAD_FIELD, "address: expected unix:/path or vsock:CID:PORT");
}

int sigil_transport_listen(const sigil_addr *a, int *fd)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(TRANSPORTS); i++)
        if (TRANSPORTS[i].kind == a->kind)
            return TRANSPORTS[i].listen(a, fd);
    BAIL(SIGIL_E_INTERNAL, "transport: unknown kind");
}

int sigil_transport_connect(const sigil_addr *a, int *fd)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(TRANSPORTS); i++)
        if (TRANSPORTS[i].kind == a->kind)
            return TRANSPORTS[i].connect(a, fd);
    BAIL(SIGIL_E_INTERNAL, "transport: unknown kind");
}
