/*
 * sigil: the command-line tool. Dispatches to one file per subcommand.
 * Secrets pass through this process, so it is hardened before anything else:
 * no core dumps, not ptrace-attachable by other users.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sigil/venues.h"

static int cmd_help(int argc, char **argv);

static const cli_command COMMANDS[] = {
    {"sign", "sign one request offline: sign --venue V --credentials FILE [--network N]", cmd_sign},
    {"keygen", "new Ed25519 owner/client key: keygen --out FILE", cmd_keygen},
    {"seal", "verify the attestation, seal and upload a credential (docs/PROVISIONING.md)",
     cmd_seal},
    {"sign-request", "client-sign a /v1/sign body: sign-request --key-id ID --client-key FILE",
     cmd_sign_request},
    {"policy", "policy lint FILE | policy sign --policy FILE --owner-key FILE --key-id ID",
     cmd_policy},
    {"keys", "data-key rotation: keys rewrap --gateway URL --token T (--key-id ID | --all)",
     cmd_keys},
    {"revoke", "owner-signed key revocation: revoke sign --owner-key FILE --tenant T --key-id ID",
     cmd_revoke},
    {"attestation", "attestation verify --document FILE (--root aws | --trust-dev-root FILE) ...",
     cmd_attestation},
    {"measure",
     "dev measurement of an enclave executable (measure FILE) or PCR0/1/2 of an EIF (measure --eif "
     "FILE)",
     cmd_measure},
    {"admin", "tenants and tokens: admin --home DIR tenant|token ...", cmd_admin},
    {"audit", "check the audit log's chain and receipts: audit verify --home DIR ...", cmd_audit},
    {"receipt", "receipt verify --receipt FILE --measurement HEX (--root aws | ...) ...",
     cmd_receipt},
    {"registry",
     "registry check --rpc URL --contract ADDR --owner ADDR --measurement HEX96 (on-chain "
     "measurement registry)",
     cmd_registry},
    {"verify-deployment",
     "attestation, registry and key policy against a pinned measurement (docs/CLI.md)",
     cmd_verify_deployment},
    {"help", "this text", cmd_help},
};

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("usage: sigil <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(COMMANDS); i++)
        printf("  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    printf("\nvenues:");
    for (const sigil_venue *const *v = sigil_venue_all(); *v != NULL; v++)
        printf(" %s", (*v)->name);
    printf("\n\nSee docs/CLI.md for request and output formats.\n");
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (sigil_harden_process() != 0 || sigil_init() != 0)
        return cli_report_error();
    if (argc < 2) {
        (void)sigil_fail(SIGIL_E_USAGE, "usage: sigil <command> [options] (try `sigil help`)");
        return cli_report_error();
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(COMMANDS); i++) {
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].run(argc - 1, argv + 1);
    }
    (void)sigil_fail(SIGIL_E_USAGE, "unknown command (try `sigil help`)");
    return cli_report_error();
}
