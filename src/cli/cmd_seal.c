/*
 * `sigil seal`: provisions a credential (docs/PROVISIONING.md). Chooses the
 * key id, binds a client key (a new one by default), verifies the enclave's
 * attestation (pinned root and measurement, fresh nonce, boot binding),
 * builds the provisioning payload with the owner-signed policy, seals it to
 * the attested X25519 key and uploads it. Client-side code handling secrets:
 * credentials and the owner seed stay in locked memory and are never printed;
 * the gateway only ever sees the sealed box.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sigil/attest.h"
#include "sigil/policy.h"
#include "sigil/venues.h"

#define CRED_FILE_MAX ((size_t)64 * 1024)
#define RESPONSE_MAX ((size_t)256 * 1024)
#define URL_MAX CLI_ATTESTATION_URL_MAX
#define HTTP_TIMEOUT_S 60L
#define KEY_ID_BYTES (SIGIL_KEY_ID_HEX / 2)

static const char USAGE[] =
    "usage: sigil seal --gateway URL --token T --venue V --network mainnet|testnet "
    "(--credentials FILE | --generate) --policy FILE --owner-key FILE --measurement HEX96 "
    "(--root aws | --trust-dev-root PEM) [--rotate KEY_ID] [--client-key FILE | "
    "--client-key-out FILE | --no-client-key] [--cacert PEM]";

static const char NO_CLIENT_KEY_WARNING[] =
    "{\"warning\":{\"code\":\"no_client_key\",\"message\":\"--no-client-key: the key will sign "
    "requests without a client signature, so the gateway operator can submit any request the "
    "policy allows\"}}\n";

typedef struct {
    const char *gateway, *token, *venue, *network, *credentials, *policy, *owner_key;
    const char *measurement, *root, *dev_root, *client_key, *client_key_out, *cacert;
    const char *rotate; /* the key id whose credentials are replaced; NULL: a new key */
    bool no_client_key;
    bool generate; /* the enclave makes the key */
} seal_args;

/* Everything the upload needs, gathered and checked before any network I/O. */
typedef struct {
    const sigil_venue *venue;
    sigil_network network;
    sigil_policy policy;
    char policy_text[SIGIL_POLICY_MAX_BYTES];
    size_t policy_len;
    sigil_secret cred_text; /* the credentials file (none with --generate) */
    bool generate;          /* "generate": true instead of credentials */
    const char *key_type;
    sigil_secret seed; /* the owner's Ed25519 seed */
    uint8_t owner_pk[32];
    char key_id[SIGIL_KEY_ID_HEX + 1];
    uint8_t client_pk[32];
    bool has_client;
    const char *client_file;  /* the client key's file (given or written); NULL without one */
    char default_out[64];     /* ./sigil-client-<key_id>.json */
    bool client_file_written; /* this run created client_file */
    bool upload_attempted;    /* POST /v1/keys was sent: the key may be bound */
    uint8_t measurement[48];
    const uint8_t *root_der;
    size_t root_len;
    uint8_t *root_owned; /* a dev root's DER (the AWS root is built in) */
    char base_url[URL_MAX];
    char auth_header[CLI_HTTP_AUTH_MAX];
} seal_ctx;

static int parse_args(seal_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"gateway", &a->gateway, NULL, true},
        {"token", &a->token, NULL, true},
        {"venue", &a->venue, NULL, true},
        {"network", &a->network, NULL, true},
        {"credentials", &a->credentials, NULL, false},
        {"policy", &a->policy, NULL, true},
        {"owner-key", &a->owner_key, NULL, true},
        {"measurement", &a->measurement, NULL, true},
        {"root", &a->root, NULL, false},
        {"trust-dev-root", &a->dev_root, NULL, false},
        {"client-key", &a->client_key, NULL, false},
        {"client-key-out", &a->client_key_out, NULL, false},
        {"no-client-key", NULL, &a->no_client_key, false},
        {"generate", NULL, &a->generate, false},
        {"rotate", &a->rotate, NULL, false},
        {"cacert", &a->cacert, NULL, false},
    };
    memset(a, 0, sizeof(*a));
    GUARD(cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, USAGE, "seal"));
    ENSURE((a->credentials != NULL) != a->generate, SIGIL_E_USAGE,
           "seal: exactly one of --credentials FILE and --generate is required");
    ENSURE((a->root != NULL) != (a->dev_root != NULL), SIGIL_E_USAGE,
           "seal: exactly one of --root aws and --trust-dev-root PEM is required");
    ENSURE(a->root == NULL || strcmp(a->root, "aws") == 0, SIGIL_E_USAGE,
           "--root: the only built-in root is aws (use --trust-dev-root for a dev root)");
    int client_opts = (a->client_key != NULL) + (a->client_key_out != NULL) + a->no_client_key;
    ENSURE(client_opts <= 1, SIGIL_E_USAGE,
           "seal: --client-key, --client-key-out and --no-client-key are exclusive");
    return 0;
}

/* ---- local inputs ---- */

static const char *key_type_name(sigil_key_type t)
{
    switch (t) {
    case SIGIL_KEY_HMAC:
        return "hmac";
    case SIGIL_KEY_ED25519:
        return "ed25519";
    case SIGIL_KEY_RSA:
        return "rsa";
    case SIGIL_KEY_SECP256K1:
        return "secp256k1";
    default:
        return NULL;
    }
}

/* The policy must be for the tenant, venue and network being provisioned. */
static int load_policy(seal_ctx *c, const seal_args *a)
{
    GUARD(cli_read_public_file(c->policy_text, sizeof(c->policy_text), &c->policy_len, a->policy,
                               "--policy"));
    GUARD(sigil_policy_parse(&c->policy, c->policy_text, c->policy_len));
    ENSURE(strcmp(c->policy.venue, a->venue) == 0, SIGIL_E_BAD_FIELD,
           "policy.venue: does not match --venue");
    ENSURE(c->policy.network == c->network, SIGIL_E_BAD_FIELD,
           "policy.network: does not match --network");
    ENSURE(c->policy.not_after > (uint64_t)time(NULL), SIGIL_E_BAD_FIELD,
           "policy.not_after: already in the past");
    return 0;
}

/* Parses the credentials as the enclave will (so a bad file fails here,
 * not after upload) and takes their key type. */
static int load_credentials(seal_ctx *c, const seal_args *a)
{
    sigil_credentials cred;
    if (a->generate) {
        ENSURE(sigil_venue_can_generate(c->venue), SIGIL_E_USAGE,
               "--generate: %s keys cannot be generated in the enclave (" SIGIL_VENUE_GENERATE_NAMES
               " can)",
               c->venue->name);
        c->key_type = "secp256k1";
        c->generate = true;
        return 0;
    }
    GUARD(cli_read_secret_file_as(&c->cred_text, a->credentials, CRED_FILE_MAX, "--credentials"));
    GUARD(sigil_credentials_parse(&cred, c->venue, (const char *)c->cred_text.p, c->cred_text.len));
    c->key_type = key_type_name(cred.type);
    sigil_credentials_free(&cred);
    ENSURE(c->key_type != NULL, SIGIL_E_INTERNAL, "credentials: unknown key type");
    return 0;
}

static int load_inputs(seal_ctx *c, const seal_args *a)
{
    c->venue = sigil_venue_find(a->venue);
    ENSURE(c->venue != NULL, SIGIL_E_UNKNOWN_VENUE, "--venue: unknown venue (see `sigil help`)");
    GUARD(sigil_network_parse(&c->network, a->network));
    GUARD(sigil_hex_decode_exact(c->measurement, 48, a->measurement, strlen(a->measurement), false,
                                 "--measurement"));
    GUARD(cli_http_gateway(c->base_url, sizeof(c->base_url), a->gateway, URL_MAX - 64));
    GUARD(cli_http_bearer(c->auth_header, a->token));
    GUARD(load_policy(c, a));
    GUARD(load_credentials(c, a));
    GUARD(cli_key_pair_load(c->owner_pk, &c->seed, a->owner_key, "--owner-key"));
    if (a->client_key != NULL) {
        GUARD(cli_key_file_load(c->client_pk, NULL, a->client_key, "--client-key"));
        c->has_client = true;
        c->client_file = a->client_key;
    }
    return cli_root_load(&c->root_der, &c->root_len, &c->root_owned, a->dev_root);
}

/* ---- key id and client key ---- */

/* 16 random bytes as 32 lowercase hex digits: the client chooses the id the
 * policy signature binds. A rotation keeps the key's id. */
static int choose_key_id(seal_ctx *c, const seal_args *a)
{
    uint8_t id[KEY_ID_BYTES];
    if (a->rotate != NULL) {
        GUARD(sigil_key_id_valid(a->rotate, strlen(a->rotate)));
        (void)snprintf(c->key_id, sizeof(c->key_id), "%s", a->rotate);
        return 0;
    }
    randombytes_buf(id, sizeof(id));
    sigil_hex_encode(c->key_id, id, sizeof(id));
    return 0;
}

/* Unless told otherwise, a new client key is made and its file written
 * before anything leaves the machine, so a key is never bound to a secret
 * that was not saved. */
static int bind_client_key(seal_ctx *c, const seal_args *a)
{
    if (c->has_client)
        return 0;
    if (a->no_client_key) {
        ENSURE(fputs(NO_CLIENT_KEY_WARNING, stderr) != EOF, SIGIL_E_IO, "stderr: write failed");
        return 0;
    }
    const char *path = a->client_key_out;
    if (path == NULL) {
        (void)snprintf(c->default_out, sizeof(c->default_out), "./sigil-client-%s.json", c->key_id);
        path = c->default_out;
    }
    GUARD(cli_key_file_create(c->client_pk, path, "--client-key-out"));
    c->has_client = true;
    c->client_file = path;
    c->client_file_written = true;
    return 0;
}

/* After a failure: a client key file this run wrote is removed while its key
 * cannot be bound (nothing was uploaded); once the upload was sent it is kept
 * (the enclave may have the key), and the error says where. */
static void release_client_key(const seal_ctx *c)
{
    if (!c->client_file_written)
        return;
    if (!c->upload_attempted) {
        (void)unlink(c->client_file);
        return;
    }
    char msg[400];
    sigil_err e = sigil_errno();
    (void)snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
    (void)sigil_fail(e,
                     "%s (the client key file %s is kept: the upload may have reached the "
                     "enclave)",
                     msg, c->client_file);
}

/* GET (body NULL) or POST/PUT (method) a JSON body; the 2xx response body goes to sink. */
static int http_call(const seal_ctx *c, const seal_args *a, const char *url, const char *method,
                     const char *body, size_t body_len, cli_http_sink *sink)
{
    const cli_http_request req = {.url = url,
                                  .method = method,
                                  .auth = c->auth_header,
                                  .cacert = a->cacert,
                                  .body = body,
                                  .body_len = body_len,
                                  .timeout_s = HTTP_TIMEOUT_S,
                                  .connect_timeout = true};
    return cli_http_call(sink, &req);
}

/* ---- attestation ---- */

typedef struct {
    uint8_t sealing_key[32];
} attested;

/* A fresh document (cli_attestation_fetch.c) whose PCR0 is the pinned
 * measurement and whose boot binding names the sealing key the gateway
 * handed us; the response's informational measurement must agree. */
static int fetch_attestation(attested *out, const seal_ctx *c, const seal_args *a)
{
    static cli_attestation att;
    sigil_boot_binding bb;
    const cli_attestation_source src = {.base_url = c->base_url,
                                        .auth = c->auth_header,
                                        .cacert = a->cacert,
                                        .want_sealing_key = true};
    const cli_attestation_check chk = {.root_der = c->root_der,
                                       .root_len = c->root_len,
                                       .pinned = c->measurement,
                                       .prefix = "attestation: ",
                                       .nonce_hint = ""};
    GUARD(cli_attestation_fetch(&att, &src));
    GUARD(cli_attestation_verify(&att, &chk));
    ENSURE(att.doc.user_data != NULL, SIGIL_E_ATTESTATION, "attestation: no boot binding");
    GUARD(sigil_boot_binding_decode(&bb, att.doc.user_data, att.doc.user_data_len));
    ENSURE(memcmp(bb.sealing_key, att.sealing_key, 32) == 0, SIGIL_E_ATTESTATION,
           "attestation: sealing_key is not the attested one");
    memcpy(out->sealing_key, bb.sealing_key, 32);
    ENSURE(!att.has_measurement || memcmp(att.measurement, c->measurement, 48) == 0,
           SIGIL_E_PROTOCOL, "attestation response.measurement: differs from the document's PCR0");
    return 0;
}

/* ---- payload, seal, upload ---- */

/* The payload of docs/PROVISIONING.md, members in this order, in locked memory. */
static int build_payload(sigil_secret *out, const seal_ctx *c)
{
    uint8_t sig[64];
    sigil_buf b;
    sigil_jw w;
    GUARD(sigil_policy_sign(sig, &c->policy, c->policy_text, c->policy_len, c->key_id, c->seed.p));
    GUARD(sigil_policy_verify(&c->policy, c->policy_text, c->policy_len, c->key_id, sig,
                              c->owner_pk));
    GUARD(sigil_secret_alloc(out, c->cred_text.len + c->policy_len + 1024));
    sigil_buf_init(&b, out->p, out->cap);
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "v"));
    GUARD(sigil_jw_u64(&w, 1));
    GUARD(sigil_jw_key(&w, "tenant"));
    GUARD(sigil_jw_str(&w, c->policy.tenant));
    GUARD(sigil_jw_key(&w, "key_id"));
    GUARD(sigil_jw_str(&w, c->key_id));
    GUARD(sigil_jw_key(&w, "venue"));
    GUARD(sigil_jw_str(&w, c->venue->name));
    GUARD(sigil_jw_key(&w, "network"));
    GUARD(sigil_jw_str(&w, c->network == SIGIL_NET_TESTNET ? "testnet" : "mainnet"));
    GUARD(sigil_jw_key(&w, "key_type"));
    GUARD(sigil_jw_str(&w, c->key_type));
    if (c->generate) {
        GUARD(sigil_jw_key(&w, "generate"));
        GUARD(sigil_jw_bool(&w, true));
    } else {
        GUARD(sigil_jw_key(&w, "credentials"));
        GUARD(cli_copy_json_object(&w, (const char *)c->cred_text.p, c->cred_text.len,
                                   "credentials"));
    }
    GUARD(sigil_jw_key(&w, "owner_pubkey"));
    GUARD(sigil_jw_hex(&w, c->owner_pk, 32));
    GUARD(sigil_jw_key(&w, "client_pubkey"));
    GUARD(c->has_client ? sigil_jw_hex(&w, c->client_pk, 32) : sigil_jw_null(&w));
    GUARD(sigil_jw_key(&w, "policy"));
    GUARD(cli_copy_json_object(&w, c->policy_text, c->policy_len, "policy"));
    GUARD(sigil_jw_key(&w, "policy_signature"));
    GUARD(sigil_jw_hex(&w, sig, 64));
    GUARD(sigil_jw_obj_end(&w));
    out->len = b.len;
    return 0;
}

/* crypto_box_seal to the attested key, then {"sealed":"<base64>"}. */
static int seal_body(char **body, size_t *body_len, const sigil_secret *payload,
                     const uint8_t pk[32])
{
    size_t clen = payload->len + crypto_box_SEALBYTES;
    size_t cap = SIGIL_B64_LEN(clen) + 16;
    uint8_t *ct = malloc(clen);
    *body = malloc(cap);
    if (ct == NULL || *body == NULL) {
        free(ct);
        free(*body);
        *body = NULL;
        BAIL(SIGIL_E_NO_MEMORY, "cannot allocate the sealed payload");
    }
    sigil_buf b;
    sigil_buf_init(&b, *body, cap);
    int rc = crypto_box_seal(ct, payload->p, payload->len, pk) == 0
                 ? 0
                 : sigil_fail(SIGIL_E_CRYPTO, "crypto_box_seal failed");
    if (rc == 0)
        rc = sigil_buf_puts(&b, "{\"sealed\":\"");
    if (rc == 0)
        rc = sigil_b64_put(&b, ct, clen, SIGIL_B64_STD);
    if (rc == 0)
        rc = sigil_buf_puts(&b, "\"}");
    free(ct);
    *body_len = b.len;
    if (rc != 0) {
        free(*body);
        *body = NULL;
    }
    return rc;
}

/* The key the gateway stored must be the one we sealed: same id, and when it
 * names the policy hash, our policy's. */
static int check_response(const seal_ctx *c, const sigil_json *d)
{
    static const char WHAT[] = "gateway: the key response";
    uint32_t t;
    char hash_hex[65];
    ENSURE(sigil_json_type_of(d, 0) == SIGIL_JSON_OBJECT, SIGIL_E_PROTOCOL, "%s is not an object",
           WHAT);
    ENSURE(sigil_json_get(d, 0, "client_key_file") == 0, SIGIL_E_PROTOCOL,
           "%s has an unexpected client_key_file", WHAT);
    t = sigil_json_get(d, 0, "key_id");
    ENSURE(t != 0 && sigil_json_type_of(d, t) == SIGIL_JSON_STRING &&
               sigil_json_str_eq(d, t, c->key_id),
           SIGIL_E_PROTOCOL, "%s: key_id is not the sealed key id %s", WHAT, c->key_id);
    t = sigil_json_get(d, 0, "policy_hash");
    sigil_hex_encode(hash_hex, c->policy.hash, sizeof(c->policy.hash));
    ENSURE(t == 0 ||
               (sigil_json_type_of(d, t) == SIGIL_JSON_STRING && sigil_json_str_eq(d, t, hash_hex)),
           SIGIL_E_PROTOCOL, "%s: policy_hash is not the sealed policy's", WHAT);
    return 0;
}

/* One line: the gateway's JSON object with "client_key_file" appended. */
static int print_result(const seal_ctx *c, const char *resp, size_t len)
{
    static sigil_json_tok toks[256];
    static char out[RESPONSE_MAX + 8192];
    sigil_json d;
    sigil_buf b;
    sigil_jw w;
    if (sigil_json_parse(&d, resp, len, toks, SIGIL_ARRAY_LEN(toks)) != 0)
        BAIL(SIGIL_E_PROTOCOL, "gateway: the key response is not strict JSON");
    GUARD(check_response(c, &d));
    sigil_buf_init(&b, out, sizeof(out));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_copy(&w, &d, 0));
    b.len--; /* reopen the object: it has members (key_id), so a comma follows */
    GUARD(sigil_buf_puts(&b, ",\"client_key_file\":"));
    sigil_jw_init(&w, &b);
    GUARD(c->client_file != NULL ? sigil_jw_str(&w, c->client_file) : sigil_jw_null(&w));
    GUARD(sigil_buf_putc(&b, '}'));
    return cli_write_line(out, b.len);
}

static int upload(seal_ctx *c, const seal_args *a, const attested *att)
{
    static char resp[RESPONSE_MAX];
    cli_http_sink sink = {resp, 0, sizeof(resp), false};
    char url[URL_MAX + 64 + SIGIL_KEY_ID_HEX], *body = NULL;
    size_t body_len;
    SIGIL_SECRET(payload);
    GUARD(build_payload(&payload, c));
    GUARD(seal_body(&body, &body_len, &payload, att->sealing_key));
    sigil_secret_free(&payload);
    if (a->rotate != NULL)
        (void)snprintf(url, sizeof(url), "%s/v1/keys/%s/credentials", c->base_url, c->key_id);
    else
        (void)snprintf(url, sizeof(url), "%s/v1/keys", c->base_url);
    c->upload_attempted = true;
    int rc = http_call(c, a, url, a->rotate != NULL ? "PUT" : NULL, body, body_len, &sink);
    free(body);
    GUARD(rc);
    return print_result(c, resp, sink.len);
}

static void seal_ctx_free(seal_ctx *c)
{
    sigil_secret_free(&c->cred_text);
    sigil_secret_free(&c->seed);
    free(c->root_owned);
    sodium_memzero(c->auth_header, sizeof(c->auth_header));
}

int cmd_seal(int argc, char **argv)
{
    static seal_ctx c; /* large (the policy text): not on the stack */
    seal_args a;
    attested att;
    memset(&c, 0, sizeof(c));
    int rc = parse_args(&a, argc, argv);
    if (rc == 0)
        rc = load_inputs(&c, &a);
    if (rc == 0)
        rc = choose_key_id(&c, &a);
    if (rc == 0)
        rc = bind_client_key(&c, &a);
    if (rc == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        rc = sigil_fail(SIGIL_E_INTERNAL, "cannot initialise libcurl");
    if (rc == 0) {
        rc = fetch_attestation(&att, &c, &a);
        if (rc == 0)
            rc = upload(&c, &a, &att);
        curl_global_cleanup();
    }
    if (rc != 0)
        release_client_key(&c);
    seal_ctx_free(&c);
    return rc == 0 ? CLI_EXIT_OK : cli_report_error();
}
