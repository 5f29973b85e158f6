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
    "usage: sigil-enclave --listen unix:PATH|vsock:CID:PORT --kms-url URL [--kms-ca PEM]\n"
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
    ENSURE(cfg->listen != NULL && cfg->kms_url != NULL, SIGIL_E_USAGE,
           "--listen and --kms-url are required\n%s", USAGE);
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
