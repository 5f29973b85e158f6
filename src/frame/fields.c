/*
 * Spec-driven reading of frame bodies (args and results), shared by the
 * enclave and the gateway. Untrusted-input layer.
 */
#include <string.h>

#include "sigil/frame.h"

typedef struct {
    const sigil_frame_field *spec;
    size_t n;
    sigil_frame_value *vals;
    sigil_err unknown;
} fields_ctx;

static int read_map_value(sigil_frame_value *v, sigil_cursor *c, const char *name)
{
    sigil_cbor_item it;
    size_t start = c->off;
    GUARD(sigil_cbor_peek(c, &it));
    ENSURE(it.type == SIGIL_CBOR_MAP, SIGIL_E_BAD_FIELD, "%s: expected a map", name);
    GUARD(sigil_cbor_skip(c));
    sigil_cursor_init(&v->map, c->p + start, c->off - start);
    return 0;
}

static int read_value(const sigil_frame_field *fd, sigil_frame_value *v, sigil_cursor *c)
{
    switch (fd->type) {
    case SIGIL_FF_TEXT_OR_NULL:
        if (sigil_cbor_take_null(c)) {
            v->null = true;
            return 0;
        }
        /* fall through */
    case SIGIL_FF_TEXT:
        return sigil_cbor_get_text(c, (const char **)&v->p, &v->len, fd->name);
    case SIGIL_FF_BYTES_OR_NULL:
        if (sigil_cbor_take_null(c)) {
            v->null = true;
            return 0;
        }
        /* fall through */
    case SIGIL_FF_BYTES:
        GUARD(sigil_cbor_get_bytes(c, &v->p, &v->len, fd->name));
        ENSURE(fd->exact == 0 || v->len == fd->exact, SIGIL_E_BAD_FIELD,
               "%s: %zu bytes, expected %zu", fd->name, v->len, fd->exact);
        return 0;
    case SIGIL_FF_BOOL:
        return sigil_cbor_get_bool(c, &v->b, fd->name);
    case SIGIL_FF_UINT:
        return sigil_cbor_get_uint(c, &v->u, fd->name);
    case SIGIL_FF_MAP:
        return read_map_value(v, c, fd->name);
    default:
        BAIL(SIGIL_E_INTERNAL, "frame fields: unknown type");
    }
}

static int field_cb(void *ctx, const char *key, size_t key_len, sigil_cursor *c)
{
    fields_ctx *f = ctx;
    for (size_t i = 0; i < f->n; i++) {
        if (sigil_cbor_text_eq(key, key_len, f->spec[i].name)) {
            f->vals[i].present = true;
            return read_value(&f->spec[i], &f->vals[i], c);
        }
    }
    BAIL(f->unknown, "unknown key '%.*s'", (int)(key_len > 32 ? 32 : key_len), key);
}

int sigil_frame_fields(sigil_cursor body, const sigil_frame_field *spec, size_t n,
                       sigil_frame_value *vals, sigil_err unknown)
{
    fields_ctx f = {.spec = spec, .n = n, .vals = vals, .unknown = unknown};
    memset(vals, 0, n * sizeof(*vals));
    GUARD(sigil_frame_read_map(&body, field_cb, &f));
    for (size_t i = 0; i < n; i++)
        ENSURE(vals[i].present, SIGIL_E_BAD_REQUEST, "'%s' missing", spec[i].name);
    return 0;
}
