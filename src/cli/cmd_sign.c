/*
 * `sigil sign --venue V --credentials FILE [--network mainnet|testnet]`:
 * one request JSON on stdin, the signed request JSON on stdout. Offline
 * signing uses the timestamps it is given; freshness is the service's job.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sigil/venues.h"
#include "venues/venues_internal.h"

#define CRED_FILE_MAX ((size_t)64 * 1024)
#define OUT_MAX (2 * SIGIL_REQUEST_MAX_BYTES)

static char g_req[SIGIL_REQUEST_MAX_BYTES];
static char g_out[OUT_MAX];

typedef struct {
    const char *venue;
    const char *credentials;
    const char *network;
} sign_args;

static int parse_args(sign_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"venue", &a->venue, NULL, true},
        {"credentials", &a->credentials, NULL, true},
        {"network", &a->network, NULL, false},
    };
    GUARD(cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL,
                      "usage: sigil sign --venue V --credentials FILE [--network mainnet|testnet]",
                      "sign"));
    if (a->network == NULL)
        a->network = "mainnet";
    return 0;
}

int cmd_sign(int argc, char **argv)
{
    sign_args a;
    sigil_network net;
    sigil_credentials cred;
    size_t req_len;
    SIGIL_SECRET(cred_text);

    if (parse_args(&a, argc, argv) != 0 || sigil_network_parse(&net, a.network) != 0)
        return cli_report_error();
    const sigil_venue *v = sigil_venue_find(a.venue);
    if (v == NULL) {
        (void)sigil_fail(SIGIL_E_UNKNOWN_VENUE, "--venue: unknown venue (see `sigil help`)");
        return cli_report_error();
    }
    if (cli_read_secret_file(&cred_text, a.credentials, CRED_FILE_MAX) != 0 ||
        sigil_credentials_parse(&cred, v, (const char *)cred_text.p, cred_text.len) != 0)
        return cli_report_error();
    sigil_secret_free(&cred_text);

    sigil_buf out;
    sigil_buf_init(&out, g_out, sizeof(g_out) - 1);
    int rc = cli_read_stdin(g_req, sizeof(g_req), &req_len);
    if (rc == 0)
        rc = sigil_sign(&out, v, &cred, net, g_req, req_len);
    sigil_credentials_free(&cred);
    if (rc != 0)
        return cli_report_error();
    g_out[out.len] = '\n';
    bool written = fwrite(g_out, 1, out.len + 1, stdout) == out.len + 1 && fflush(stdout) == 0;
    /* Some outputs carry what the venue treats as a credential (OKX's
     * passphrase header, KuCoin's derived passphrase): do not keep them. */
    sigil_wipe(g_out, out.len + 1);
    if (!written) {
        (void)sigil_fail(SIGIL_E_IO, "stdout: write failed");
        return cli_report_error();
    }
    return CLI_EXIT_OK;
}
