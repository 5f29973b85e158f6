/*
 * `sigil receipt verify`: checks a receipt offline against its boot's
 * attestation document (docs/RECEIPTS.md "Verifying a receipt"): the
 * document under a pinned root at its own timestamp, PCR0 against the pinned
 * measurement, the boot binding's boot id and receipt key, then the
 * receipt's own signature. Client-side code; no secrets (at most a bearer
 * token, sent only to the gateway).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sigil/attest.h"
#include "sigil/codec.h"
#include "sigil/receipt.h"

#define RECEIPT_FILE_MAX ((size_t)1 << 20) /* a whole gateway response may carry it */
#define RECEIPT_FILE_TOKENS 8192
#define ARCHIVE_MAX ((size_t)64 * 1024)
#define ARCHIVE_TOKENS 32
#define DOC_MAX ((size_t)16 * 1024)
#define URL_MAX 2048
#define HTTP_TIMEOUT_S 30L

static const char USAGE[] =
    "usage: sigil receipt verify --receipt FILE --measurement HEX96 (--root aws | "
    "--trust-dev-root PEM) (--attestation FILE | --gateway URL [--token T] [--cacert PEM])";

typedef struct {
    const char *receipt, *measurement, *root, *dev_root;
    const char *attestation, *gateway, *token, *cacert;
} receipt_args;

static int check_args(const receipt_args *a)
{
    ENSURE(a->receipt != NULL, SIGIL_E_USAGE, "receipt verify: --receipt is required");
    ENSURE(a->measurement != NULL, SIGIL_E_USAGE,
           "receipt verify: --measurement is required (the PCR0 you expect)");
    GUARD(cli_root_check(a->root, a->dev_root, "receipt verify"));
    ENSURE((a->attestation != NULL) != (a->gateway != NULL), SIGIL_E_USAGE,
           "receipt verify: exactly one of --attestation FILE and --gateway URL is required");
    ENSURE(a->gateway != NULL || (a->token == NULL && a->cacert == NULL), SIGIL_E_USAGE,
           "receipt verify: --token and --cacert go with --gateway");
    return 0;
}

static int parse_args(receipt_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"receipt", &a->receipt, NULL, false},
        {"measurement", &a->measurement, NULL, false},
        {"root", &a->root, NULL, false},
        {"trust-dev-root", &a->dev_root, NULL, false},
        {"attestation", &a->attestation, NULL, false},
        {"gateway", &a->gateway, NULL, false},
        {"token", &a->token, NULL, false},
        {"cacert", &a->cacert, NULL, false},
    };
    memset(a, 0, sizeof(*a));
    GUARD(cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, USAGE, "receipt verify"));
    return check_args(a);
}

/* ---- the receipt ---- */

/* The receipt object: the file's own object, or its top-level "receipt"
 * member (a /v1/sign response or error body). */
static int find_receipt(sigil_slice *out, const char *text, size_t len)
{
    static sigil_json_tok toks[RECEIPT_FILE_TOKENS];
    sigil_json d;
    GUARD(sigil_json_parse(&d, text, len, toks, RECEIPT_FILE_TOKENS));
    ENSURE(sigil_json_type_of(&d, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "--receipt: expected a JSON object");
    uint32_t t = sigil_json_get(&d, 0, "receipt");
    ENSURE(t == 0 || sigil_json_type_of(&d, t) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "--receipt: the \"receipt\" member is not an object");
    *out = sigil_json_raw(&d, t);
    return 0;
}

/* ---- the boot's document: a file, or the gateway's archive ---- */

/* GET /v1/attestation/boots/{boot_id} (docs/API.md). */
static int fetch_archive(char *buf, size_t cap, size_t *len, const receipt_args *a,
                         const uint8_t boot_id[16])
{
    char base[URL_MAX + 1], url[URL_MAX + 64], auth[CLI_HTTP_AUTH_MAX], id[33];
    cli_http_sink sink = {buf, 0, cap, false};
    cli_http_request req = {
        .url = url, .cacert = a->cacert, .timeout_s = HTTP_TIMEOUT_S, .connect_timeout = true};
    GUARD(cli_http_gateway(base, sizeof(base), a->gateway, URL_MAX));
    if (a->token != NULL) {
        GUARD(cli_http_bearer(auth, a->token));
        req.auth = auth;
    }
    sigil_hex_encode(id, boot_id, 16);
    (void)snprintf(url, sizeof(url), "%s/v1/attestation/boots/%s", base, id);
    GUARD(cli_http_call(&sink, &req));
    *len = sink.len;
    return 0;
}

/* {"boot_id","document" (base64),"measurement","created_at"}: the document,
 * after checking that it is the receipt's boot's. */
static int decode_archive(uint8_t *doc, size_t *doc_len, const char *text, size_t len,
                          const uint8_t boot_id[16])
{
    sigil_json_tok toks[ARCHIVE_TOKENS];
    sigil_json d;
    uint32_t t;
    uint8_t id[16];
    GUARD(sigil_json_parse(&d, text, len, toks, ARCHIVE_TOKENS));
    ENSURE(sigil_json_type_of(&d, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "attestation archive: expected a JSON object");
    GUARD(sigil_json_get_str(&d, 0, "boot_id", false, &t, "attestation archive"));
    if (t != 0) {
        sigil_slice s = sigil_json_raw(&d, t);
        GUARD(sigil_hex_decode_exact(id, 16, s.p, s.len, false, "attestation archive.boot_id"));
        ENSURE(memcmp(id, boot_id, 16) == 0, SIGIL_E_ATTESTATION,
               "attestation: the archived document is for another boot than the receipt's");
    }
    GUARD(sigil_json_get_str(&d, 0, "document", true, &t, "attestation archive"));
    sigil_slice s = sigil_json_raw(&d, t);
    return sigil_b64_decode(doc, DOC_MAX, doc_len, s.p, s.len, SIGIL_B64_STD,
                            "attestation archive.document");
}

/* Raw COSE bytes (they start with 0x84), or the archive's JSON. */
static int load_document(uint8_t *doc, size_t *doc_len, const receipt_args *a,
                         const uint8_t boot_id[16])
{
    static char text[ARCHIVE_MAX];
    size_t len = 0, i = 0;
    if (a->gateway != NULL)
        GUARD(fetch_archive(text, sizeof(text), &len, a, boot_id));
    else
        GUARD(cli_read_public_file(text, sizeof(text), &len, a->attestation, "--attestation"));
    while (i < len && strchr(" \t\r\n", text[i]) != NULL && text[i] != '\0')
        i++;
    if (i < len && text[i] == '{')
        return decode_archive(doc, doc_len, text, len, boot_id);
    ENSURE(a->gateway == NULL, SIGIL_E_PROTOCOL, "gateway: the boot document is not JSON");
    ENSURE(len > 0 && len <= DOC_MAX, SIGIL_E_ATTESTATION,
           "--attestation: empty or larger than %zu bytes", DOC_MAX);
    memcpy(doc, text, len);
    *doc_len = len;
    return 0;
}

/* ---- the checks ---- */

/* The document under the pinned root at its own time: leaf certificates
 * live hours, receipts are checked much later. */
static int verify_document(sigil_attest_doc *d, const uint8_t *doc, size_t len,
                           const receipt_args *a)
{
    uint8_t *dev_root;
    sigil_attest_policy pol = {.allow_debug = false};
    GUARD(sigil_attest_parse(d, doc, len));
    pol.verify_time = (int64_t)(d->timestamp_ms / 1000);
    GUARD(cli_root_load(&pol.root_der, &pol.root_der_len, &dev_root, a->dev_root));
    int rc = sigil_attest_verify(d, &pol, doc, len);
    free(dev_root);
    return rc;
}

/* PCR0, then the boot binding: this boot, and the key its receipts carry. */
static int check_binding(sigil_boot_binding *bb, const sigil_attest_doc *d, const sigil_receipt *r,
                         const uint8_t want[48])
{
    char have_id[33], want_id[33];
    ENSURE((d->pcr_mask & 1u) && memcmp(d->pcrs[0], want, 48) == 0, SIGIL_E_ATTESTATION,
           "attestation: PCR0 does not equal --measurement");
    ENSURE(d->user_data != NULL, SIGIL_E_ATTESTATION,
           "attestation: the document has no boot binding in user_data");
    GUARD(sigil_boot_binding_decode(bb, d->user_data, d->user_data_len));
    sigil_hex_encode(have_id, bb->boot_id, 16);
    sigil_hex_encode(want_id, r->boot_id, 16);
    ENSURE(memcmp(bb->boot_id, r->boot_id, 16) == 0, SIGIL_E_ATTESTATION,
           "attestation: the document attests boot %s, the receipt is from boot %s", have_id,
           want_id);
    ENSURE(memcmp(r->measurement, d->pcrs[0], 48) == 0, SIGIL_E_ATTESTATION,
           "receipt: its measurement is not the document's PCR0");
    return 0;
}

static int write_result(sigil_buf *b, const sigil_receipt *r, const uint8_t hash[32])
{
    char hex[65];
    sigil_jw w;
    sigil_jw_init(&w, b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "ok"));
    GUARD(sigil_jw_bool(&w, true));
    GUARD(sigil_jw_key(&w, "boot_id"));
    sigil_hex_encode(hex, r->boot_id, 16);
    GUARD(sigil_jw_str(&w, hex));
    GUARD(sigil_jw_key(&w, "seq"));
    GUARD(sigil_jw_u64(&w, r->seq));
    GUARD(sigil_jw_key(&w, "decision"));
    GUARD(sigil_jw_str(&w, r->allow ? "allow" : "deny"));
    GUARD(sigil_jw_key(&w, "action"));
    GUARD(sigil_jw_str(&w, r->action));
    GUARD(sigil_jw_key(&w, "key_id"));
    GUARD(sigil_jw_str(&w, r->key_id));
    GUARD(sigil_jw_key(&w, "hash"));
    sigil_hex_encode(hex, hash, 32);
    GUARD(sigil_jw_str(&w, hex));
    return sigil_jw_obj_end(&w);
}

static int verify(sigil_buf *out, const receipt_args *a)
{
    static char file[RECEIPT_FILE_MAX];
    static uint8_t doc[DOC_MAX];
    uint8_t want[48], hash[32];
    size_t file_len, doc_len;
    sigil_slice text;
    sigil_receipt r;
    sigil_attest_doc d;
    sigil_boot_binding bb;
    GUARD(sigil_hex_decode_exact(want, sizeof(want), a->measurement, strlen(a->measurement), false,
                                 "--measurement"));
    GUARD(cli_read_public_file(file, sizeof(file), &file_len, a->receipt, "--receipt"));
    GUARD(find_receipt(&text, file, file_len));
    GUARD(sigil_receipt_parse(&r, hash, text.p, text.len));
    GUARD(load_document(doc, &doc_len, a, r.boot_id));
    GUARD(verify_document(&d, doc, doc_len, a));
    GUARD(check_binding(&bb, &d, &r, want));
    GUARD(sigil_receipt_verify(&r, hash, text.p, text.len, bb.receipt_key));
    return write_result(out, &r, hash);
}

int cmd_receipt(int argc, char **argv)
{
    static char mem[1024];
    receipt_args a;
    sigil_buf out;
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        (void)sigil_fail(SIGIL_E_USAGE, "%s", USAGE);
        return cli_report_error();
    }
    sigil_buf_init(&out, mem, sizeof(mem));
    if (parse_args(&a, argc - 1, argv + 1) != 0 || verify(&out, &a) != 0 ||
        cli_write_line(mem, out.len) != 0)
        return cli_report_error();
    return CLI_EXIT_OK;
}
