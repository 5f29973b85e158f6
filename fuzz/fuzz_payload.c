/*
 * libFuzzer target: the provisioning payload as the enclave reads it from a
 * sealed box or a blob (src/enclave/payload.c), the "generate" variant and
 * the payload the enclave rebuilds around a generated key
 * (src/enclave/keygen.c, payload_build.c). Properties: a payload that
 * parses has exactly one of credentials and generate; a generated key's
 * rebuilt payload parses, no longer asks for a key, keeps every other
 * member's text and carries a valid secp256k1 key; rebuilding any parsed
 * payload with no replacement gives a payload that parses to the same
 * tenant, key id, venue, network, key type and owner key.
 */
#include <stdint.h>
#include <string.h>

#include "enclave/keygen.c"
#include "enclave/payload.c"
#include "enclave/payload_build.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

uint64_t enclave_now_ms(void)
{
    return 1700000000000ull;
}

static sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
static sigil_json_tok toks2[ENCLAVE_PAYLOAD_TOKENS];
static enclave_payload p, q;

static void same_facts(const enclave_payload *a, const enclave_payload *b)
{
    if (strcmp(a->tenant, b->tenant) != 0 || strcmp(a->key_id, b->key_id) != 0 ||
        strcmp(a->venue, b->venue) != 0 || strcmp(a->network, b->network) != 0 ||
        strcmp(a->key_type, b->key_type) != 0 || memcmp(a->owner_pk, b->owner_pk, 32) != 0 ||
        a->has_client_pk != b->has_client_pk)
        __builtin_trap();
}

static void generated(void)
{
    SIGIL_SECRET(out);
    uint8_t key[32];
    if (enclave_keygen_payload(&out, &p) != 0)
        return;
    if (enclave_payload_parse(&q, (const char *)out.p, out.len, toks2) != 0 || q.generate)
        __builtin_trap();
    same_facts(&p, &q);
    uint32_t c = sigil_json_get(&q.doc, 0, "credentials");
    uint32_t k = c != 0 ? sigil_json_get(&q.doc, c, "private_key") : 0;
    sigil_slice s = k != 0 ? sigil_json_raw(&q.doc, k) : (sigil_slice){NULL, 0};
    if (s.len != 66 || sigil_hex_decode_exact(key, 32, s.p + 2, 64, false, "key") != 0 ||
        sigil_secp256k1_check_key(key) != 0)
        __builtin_trap();
    sodium_memzero(key, sizeof(key));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        init = sigil_init() == 0;
        if (!init)
            __builtin_trap();
    }
    if (enclave_payload_parse(&p, (const char *)data, size, toks) != 0)
        return 0;
    uint32_t cred = sigil_json_get(&p.doc, 0, "credentials");
    bool has_cred = cred != 0 && sigil_json_type_of(&p.doc, cred) == SIGIL_JSON_OBJECT;
    if (has_cred == p.generate)
        __builtin_trap();
    if (p.generate) {
        generated();
        return 0;
    }
    SIGIL_SECRET(out);
    if (enclave_payload_rebuild(&out, &p, NULL, 0) != 0)
        __builtin_trap();
    if (enclave_payload_parse(&q, (const char *)out.p, out.len, toks2) != 0)
        __builtin_trap();
    same_facts(&p, &q);
    return 0;
}
