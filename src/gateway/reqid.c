/*
 * Request ids (docs/OBSERVABILITY.md): the client's X-Request-Id when it is
 * sane, else a fresh one. Untrusted host code; the header comes from the
 * client, so it is bounded and charset-checked before it reaches a log
 * line or a response header. Fresh ids cost no system call per request: a
 * random 64-bit prefix per thread (drawn once) and a per-thread counter.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gateway.h"

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':';
}

bool gw_request_id_valid(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > GW_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!id_char(s[i]))
            return false;
    return true;
}

void gw_request_id_assign(gw_req *rq)
{
    static _Thread_local uint64_t prefix, counter;
    const char *h = rq->request_id_hdr;
    size_t n = h != NULL ? strnlen(h, GW_REQUEST_ID_MAX + 1) : 0;
    if (rq->request_id_count == 1 && gw_request_id_valid(h, n)) {
        memcpy(rq->request_id, h, n);
        rq->request_id[n] = '\0';
        return;
    }
    if (prefix == 0)
        randombytes_buf(&prefix, sizeof(prefix)); /* libsodium: never fails once initialised */
    counter++;
    snprintf(rq->request_id, sizeof(rq->request_id), "%016llx%016llx", (unsigned long long)prefix,
             (unsigned long long)counter);
}
