/*
 * Route matching over a table of (method, pattern, handler). Untrusted host
 * code: the path comes from the client. Patterns are literal segments and
 * at most one {} segment; no regexes, no allocation.
 */
#include <string.h>

#include "gateway/gateway.h"

#define PARAM_MAX 128

static bool param_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Matches path against pattern; a {} captures one segment. */
static bool path_matches(const char *pattern, const char *path, sigil_slice *param)
{
    const char *p = pattern, *s = path;
    while (*p != '\0') {
        if (p[0] == '{' && p[1] == '}') {
            const char *seg = s;
            while (*s != '\0' && *s != '/' && param_char(*s))
                s++;
            size_t n = (size_t)(s - seg);
            if (n == 0 || n > PARAM_MAX || (*s != '\0' && *s != '/'))
                return false;
            param->p = seg;
            param->len = n;
            p += 2;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *s == '\0';
}

static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t used = strnlen(allow, cap);
    size_t need = strlen(method) + (used > 0 ? 2 : 0);
    if (used + need + 1 > cap || strstr(allow, method) != NULL)
        return;
    if (used > 0) {
        memcpy(allow + used, ", ", sizeof(", ")); /* terminated until method follows */
        used += 2;
    }
    memcpy(allow + used, method, strlen(method) + 1);
}

gw_match gw_route_match(const gw_route *routes, size_t n, const char *method, const char *path,
                        size_t *idx, sigil_slice *param, char *allow, size_t allow_cap)
{
    bool path_seen = false;
    if (allow_cap > 0)
        allow[0] = '\0';
    param->p = NULL;
    param->len = 0;
    for (size_t i = 0; i < n; i++) {
        sigil_slice cap = {NULL, 0};
        if (!path_matches(routes[i].pattern, path, &cap))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            if (allow_cap > 0)
                allow[0] = '\0'; /* Allow is for 405 only */
            *idx = i;
            *param = cap;
            return GW_MATCH_OK;
        }
        path_seen = true;
        allow_add(allow, allow_cap, routes[i].method);
    }
    return path_seen ? GW_MATCH_NO_METHOD : GW_MATCH_NO_ROUTE;
}
