/*
 * sigil-enclave (trusted): the only process that sees plaintext secrets.
 * Start-up order matters: harden, open the NSM and key-service clients and
 * the listening socket, then install the seccomp allowlist and serve.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enclave/enclave.h"

static const char USAGE[] =
    "usage: sigil-enclave --listen unix:PATH|vsock:CID:PORT (--kms-url URL | --kms-region R)\n"
    "                     [--kms-proxy vsock:CID:PORT|tcp:IP:PORT] [--kms-ca PEM]\n"
    "                     [--kms-key-id ID] [--nsm-fd N] [--mode dev|nitro]\n"
    "                     [--skew-ms N] [--workers N] [--key-ttl-ms N] [--key-cache N]\n";

static int parse_u64(uint64_t *out, const char *s, const char *what)
{
    char *end;
    ENSURE(*s >= '0' && *s <= '9', SIGIL_E_USAGE, "%s: expected a number", what);
    unsigned long long v = strtoull(s, &end, 10);
    ENSURE(*end == '\0', SIGIL_E_USAGE, "%s: expected a number", what);
    *out = v;
    return 0;
}

/* Checked here so that a typo is a usage error at start, not a key
 * service that is down later. --kms-url wins over --kms-region. */
static int check_kms_route(const enclave_config *cfg)
{
    char url[SIGIL_KMS_URL_MAX];
    sigil_kms_proxy p;
    if (cfg->kms_url == NULL)
        GUARD(sigil_kms_region_endpoint(url, sizeof(url), cfg->kms_region));
    if (cfg->kms_proxy != NULL)
        GUARD(sigil_kms_proxy_parse(&p, cfg->kms_proxy));
    return 0;
}

static int parse_args(enclave_config *cfg, int argc, char **argv)
{
    uint64_t v;
    *cfg = (enclave_config){.nsm_fd = -1,
                            .kms_key_id = "alias/sigil",
                            .mode = "dev",
                            .skew_ms = 30000,
                            .workers = 4,
                            .data_key_ttl_ms = 300000,
                            .data_key_cache_max = 4096};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        ENSURE(val != NULL, SIGIL_E_USAGE, "%s needs a value\n%s", a, USAGE);
        i++;
        if (strcmp(a, "--listen") == 0)
            cfg->listen = val;
        else if (strcmp(a, "--kms-url") == 0)
            cfg->kms_url = val;
        else if (strcmp(a, "--kms-region") == 0)
            cfg->kms_region = val;
        else if (strcmp(a, "--kms-proxy") == 0)
            cfg->kms_proxy = val;
        else if (strcmp(a, "--kms-ca") == 0)
            cfg->kms_ca = val;
        else if (strcmp(a, "--kms-key-id") == 0)
            cfg->kms_key_id = val;
        else if (strcmp(a, "--mode") == 0)
            cfg->mode = val;
        else if (strcmp(a, "--nsm-fd") == 0) {
            GUARD(parse_u64(&v, val, a));
            ENSURE(v <= 1024, SIGIL_E_USAGE, "--nsm-fd out of range");
            cfg->nsm_fd = (int)v;
        } else if (strcmp(a, "--skew-ms") == 0)
            GUARD(parse_u64(&cfg->skew_ms, val, a));
        else if (strcmp(a, "--workers") == 0) {
            GUARD(parse_u64(&v, val, a));
            ENSURE(v >= 1 && v <= 64, SIGIL_E_USAGE, "--workers must be 1..64");
            cfg->workers = (unsigned)v;
        } else if (strcmp(a, "--key-ttl-ms") == 0)
            GUARD(parse_u64(&cfg->data_key_ttl_ms, val, a));
        else if (strcmp(a, "--key-cache") == 0) {
            GUARD(parse_u64(&v, val, a));
            ENSURE(v >= 1 && v <= 1u << 20, SIGIL_E_USAGE, "--key-cache must be 1..1048576");
            cfg->data_key_cache_max = (unsigned)v;
        } else
            BAIL(SIGIL_E_USAGE, "unknown option %s\n%s", a, USAGE);
    }
    ENSURE(cfg->listen != NULL && (cfg->kms_url != NULL || cfg->kms_region != NULL), SIGIL_E_USAGE,
           "--listen and --kms-url (or --kms-region) are required\n%s", USAGE);
    GUARD(check_kms_route(cfg));
    ENSURE(strcmp(cfg->mode, "dev") == 0 || strcmp(cfg->mode, "nitro") == 0, SIGIL_E_USAGE,
           "--mode must be dev or nitro");
    return 0;
}

static int run(int argc, char **argv)
{
    enclave_config cfg;
    static enclave_state st;
    sigil_addr addr;
    int lfd;
    GUARD(parse_args(&cfg, argc, argv));
    GUARD(enclave_harden_early());
    GUARD(sigil_init());
    GUARD(enclave_keycache_init(cfg.data_key_cache_max, cfg.data_key_ttl_ms));
    GUARD(enclave_state_init(&st, &cfg));
    GUARD(sigil_addr_parse(&addr, cfg.listen));
    GUARD(sigil_transport_listen(&addr, &lfd));
    char hex[97];
    sigil_hex_encode(hex, st.measurement, sizeof(st.measurement));
    fprintf(stderr, "sigil-enclave: listening on %s, mode %s, measurement %s\n", cfg.listen,
            cfg.mode, hex);
    char url[SIGIL_KMS_URL_MAX];
    if (cfg.kms_url == NULL)
        GUARD(sigil_kms_region_endpoint(url, sizeof(url), cfg.kms_region));
    fprintf(stderr, "sigil-enclave: key service %s%s%s\n", cfg.kms_url ? cfg.kms_url : url,
            cfg.kms_proxy ? " via " : "", cfg.kms_proxy ? cfg.kms_proxy : "");
    GUARD(enclave_harden_seccomp());
    return enclave_serve(&st, lfd);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (run(argc, argv) != 0) {
        fprintf(stderr, "sigil-enclave: %s: %s\n", sigil_err_code(sigil_errno()), sigil_errmsg());
        return sigil_errno() == SIGIL_E_USAGE ? 2 : 1;
    }
    return 0;
}
