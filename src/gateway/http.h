/*
 * The HTTP server of sigil-gateway (libmicrohttpd). Untrusted host code.
 */
#ifndef SIGIL_GATEWAY_HTTP_H
#define SIGIL_GATEWAY_HTTP_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "gateway/gateway.h"

typedef struct {
    struct sockaddr_storage addr; /* --listen */
    bool ipv6;
    unsigned threads;
    size_t body_limit;
    const char *tls_cert; /* PEM file paths; NULL = plain HTTP */
    const char *tls_key;
} gw_http_config;

typedef struct gw_http gw_http;

/* Starts listening and serving; *port is the bound port (for --listen :0). */
SIGIL_WARN_UNUSED_RESULT int gw_http_start(gw_http **out, gw_server *g, const gw_http_config *cfg,
                                           uint16_t *port);
void gw_http_stop(gw_http *h);

#endif
