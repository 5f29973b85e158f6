/*
 * Base64 codec (constant-time, libsodium): standard alphabet with padding for
 * venue signatures and secrets, URL-safe without padding for JWTs.
 */
#include <sodium.h>
#include <string.h>

#include "sigil/codec.h"

static int sodium_variant(sigil_b64_variant v)
{
    return v == SIGIL_B64_URL_NP ? sodium_base64_VARIANT_URLSAFE_NO_PADDING
                                 : sodium_base64_VARIANT_ORIGINAL;
}

/* libsodium writes a terminating NUL; the buffer need not have room for it:
 * whole 3-byte groups but the last are encoded in place (the last group's
 * room holds their NUL), the last group through a small stack buffer. */
int sigil_b64_put(sigil_buf *b, const uint8_t *in, size_t n, sigil_b64_variant v)
{
    int sv = sodium_variant(v);
    size_t need = sodium_base64_encoded_len(n, sv) - 1;
    ENSURE(need <= b->cap - b->len, SIGIL_E_TOO_LARGE, "output exceeds %zu bytes", b->cap);
    if (n == 0)
        return 0;
    size_t tail = n % 3 ? n % 3 : 3;
    size_t head = n - tail;
    char last[5];
    if (head > 0) {
        size_t hlen = sodium_base64_encoded_len(head, sv);
        sodium_bin2base64((char *)b->data + b->len, hlen, in, head, sv);
        b->len += hlen - 1;
    }
    size_t tlen = sodium_base64_encoded_len(tail, sv);
    sodium_bin2base64(last, sizeof(last), in + head, tail, sv);
    memcpy(b->data + b->len, last, tlen - 1);
    b->len += tlen - 1;
    sodium_memzero(last, sizeof(last));
    return 0;
}

int sigil_b64_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len,
                     sigil_b64_variant v, const char *what)
{
    const char *end = NULL;
    if (sodium_base642bin(out, out_cap, in, in_len, NULL, out_len, &end, sodium_variant(v)) != 0 ||
        end != in + in_len)
        BAIL(SIGIL_E_BAD_ENCODING, "%s: not valid base64 (or longer than %zu bytes)", what,
             out_cap);
    return 0;
}
