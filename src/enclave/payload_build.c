/*
 * Rebuilding a provisioning payload (trusted; docs/PROVISIONING.md): the
 * members in their documented order, some replaced (a policy update's new
 * policy, a generated key's credentials), the others copied as they are.
 * The output holds the credentials, so it is built in locked memory.
 */
#include <string.h>

#include "enclave/enclave.h"

/* Payload members in their order; "generate" is never written back: a
 * generated key's payload carries the credentials drawn for it. */
static const char *const MEMBERS[] = {
    "v",           "tenant",       "key_id",        "venue",  "network",         "key_type",
    "credentials", "owner_pubkey", "client_pubkey", "policy", "policy_signature"};

static const enclave_member *override_of(const char *name, const enclave_member *over, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(over[i].name, name) == 0)
            return &over[i];
    return NULL;
}

static int put_member(sigil_buf *b, const sigil_json *d, const char *name, bool *first,
                      const enclave_member *over, size_t n)
{
    const enclave_member *o = override_of(name, over, n);
    uint32_t t = sigil_json_get(d, 0, name);
    if (o == NULL && t == 0)
        return 0; /* an optional member the payload does not have */
    GUARD(sigil_buf_put(b, *first ? "{\"" : ",\"", 2));
    *first = false;
    GUARD(sigil_buf_put(b, name, strlen(name)));
    GUARD(sigil_buf_put(b, "\":", 2));
    if (o != NULL)
        return sigil_buf_put(b, o->json, o->len);
    sigil_slice raw = sigil_json_raw(d, t);
    bool quoted = sigil_json_type_of(d, t) == SIGIL_JSON_STRING;
    if (quoted)
        GUARD(sigil_buf_put(b, "\"", 1));
    GUARD(sigil_buf_put(b, raw.p, raw.len));
    return quoted ? sigil_buf_put(b, "\"", 1) : 0;
}

int enclave_payload_rebuild(sigil_secret *out, const enclave_payload *p, const enclave_member *over,
                            size_t n)
{
    sigil_buf b;
    bool first = true;
    size_t cap = p->doc.len + 256;
    for (size_t i = 0; i < n; i++)
        cap += over[i].len;
    GUARD(sigil_secret_alloc(out, cap));
    sigil_buf_init(&b, out->p, out->cap);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MEMBERS); i++)
        GUARD(put_member(&b, &p->doc, MEMBERS[i], &first, over, n));
    GUARD(sigil_buf_put(&b, "}", 1));
    out->len = b.len;
    return 0;
}
