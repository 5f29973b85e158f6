/*
 * Stored revocations on their way back into the enclave (docs/POLICY.md
 * "Revocation"). Untrusted host code: the enclave keeps its revocation set
 * in memory only, so the gateway replays every stored revocation — the
 * owner's signature with the blob that carries the owner key — on each
 * (re)connection before it counts as ready, and again when another gateway
 * stores a new one (enclave_client.c). Nothing here is secret.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"

static int add(void *ctx, const sigil_revocation_record *r, const uint8_t *blob, size_t blob_len)
{
    gw_revocations *l = ctx;
    ENSURE(blob_len > 0 && blob_len <= GW_BLOB_MAX, SIGIL_E_INTERNAL,
           "store: revocation blob has a bad length");
    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? 2 * l->cap : 16;
        gw_revocation *v = realloc(l->v, cap * sizeof(*v));
        ENSURE(v != NULL, SIGIL_E_NO_MEMORY, "revocations: out of memory");
        l->v = v;
        l->cap = cap;
    }
    uint8_t *copy = malloc(blob_len);
    ENSURE(copy != NULL, SIGIL_E_NO_MEMORY, "revocations: out of memory");
    memcpy(copy, blob, blob_len);
    l->v[l->n++] = (gw_revocation){.rec = *r, .blob = copy, .blob_len = blob_len, .replay = true};
    return 0;
}

void gw_revocations_free(gw_revocations *l)
{
    for (size_t i = 0; i < l->n; i++)
        free((void *)l->v[i].blob);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int gw_revocations_load(sigil_store *s, gw_revocations *out)
{
    memset(out, 0, sizeof(*out));
    if (s->ops->revocation_list(s, add, out) != 0) {
        gw_revocations_free(out);
        return -1;
    }
    return 0;
}

int gw_revocation_args(void *ctx, sigil_buf *b)
{
    const gw_revocation *r = ctx;
    GUARD(sigil_cbor_put_cstr(b, "tenant"));
    GUARD(sigil_cbor_put_cstr(b, r->rec.tenant));
    GUARD(sigil_cbor_put_cstr(b, "key_id"));
    GUARD(sigil_cbor_put_cstr(b, r->rec.key_id));
    GUARD(sigil_cbor_put_cstr(b, "blob"));
    GUARD(sigil_cbor_put_bytes(b, r->blob, r->blob_len));
    GUARD(sigil_cbor_put_cstr(b, "signature"));
    GUARD(sigil_cbor_put_bytes(b, r->rec.signature, sizeof(r->rec.signature)));
    GUARD(sigil_cbor_put_cstr(b, "replay"));
    return sigil_cbor_put_bool(b, r->replay);
}
