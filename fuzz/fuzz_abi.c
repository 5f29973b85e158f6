/*
 * Fuzz target for the ABI codec (src/codec/abi.c): the first byte picks what
 * the rest is decoded as (a registry function's return data, or revert
 * data). Properties, checked with abort(): accepted return data is canonical
 * (re-encoding the decoded values gives the input back), the typed registry
 * decoders accept only what the ABI decoder accepts and keep their bounds,
 * decoded slices lie inside the input, and revert data that decodes can
 * always be described.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const FUNCTIONS[] = {"isActive", "getEntry", "historyLength", "historyAt"};
#define NFUNCTIONS (sizeof(FUNCTIONS) / sizeof(FUNCTIONS[0]))

static uint8_t g_again[2 * SIGIL_ABI_DYNAMIC_MAX + 65536];

static bool inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    return n == 0 || (p >= data && p <= data + size && n <= (size_t)(data + size - p));
}

static int typed(const char *name, const uint8_t *p, size_t n)
{
    bool active;
    sigil_registry_entry e;
    uint64_t len;
    sigil_registry_history_item h;
    switch (name[0]) {
    case 'i':
        return sigil_registry_decode_is_active(&active, p, n);
    case 'g':
        if (sigil_registry_decode_get_entry(&e, p, n) != 0)
            return -1;
        if (e.description_len > SIGIL_REGISTRY_DESCRIPTION_MAX ||
            !inside(e.description, e.description_len, p, n) || (e.active && !e.exists) ||
            (e.active && e.deprecated_at != 0))
            abort();
        return 0;
    case 'h':
        if (strcmp(name, "historyLength") == 0)
            return sigil_registry_decode_history_length(&len, p, n);
        if (sigil_registry_decode_history_at(&h, p, n) != 0)
            return -1;
        if (h.description_len > SIGIL_REGISTRY_DESCRIPTION_MAX ||
            !inside(h.description, h.description_len, p, n))
            abort();
        return 0;
    default:
        abort();
    }
}

static void fuzz_return(const char *name, const uint8_t *p, size_t n)
{
    sigil_abi_value v[SIGIL_ABI_MAX_PARAMS];
    sigil_buf b;
    const sigil_abi_function *fn = sigil_registry_function(name);
    if (fn == NULL)
        abort();
    int rc = sigil_abi_decode(v, fn->outputs, fn->noutputs, p, n, name);
    if (typed(name, p, n) == 0 && rc != 0)
        abort(); /* the typed decoders only add checks */
    if (rc != 0)
        return;
    for (size_t i = 0; i < fn->noutputs; i++) {
        if (v[i].type != fn->outputs[i].type || !inside(v[i].p, v[i].len, p, n) ||
            v[i].len > SIGIL_ABI_DYNAMIC_MAX)
            abort();
        if (v[i].type == SIGIL_ABI_BOOL && v[i].u > 1)
            abort();
    }
    sigil_buf_init(&b, g_again, sizeof(g_again));
    if (sigil_abi_encode(&b, v, fn->noutputs) != 0 || b.len != n || memcmp(g_again, p, n) != 0)
        abort(); /* accepted data is exactly the canonical encoding */
}

static void fuzz_revert(const uint8_t *p, size_t n)
{
    static char text[4 * SIGIL_ABI_DYNAMIC_MAX + 1024];
    sigil_abi_revert r;
    sigil_buf b;
    if (sigil_abi_decode_revert(&r, p, n) != 0)
        return;
    if ((r.kind == SIGIL_ABI_REVERT_EMPTY) != (n == 0))
        abort();
    for (size_t i = 0; i < r.nargs; i++)
        if (!inside(r.args[i].p, r.args[i].len, p, n))
            abort();
    sigil_buf_init(&b, text, sizeof(text));
    if (sigil_abi_revert_describe(&b, &r) != 0)
        abort(); /* a decoded revert always has a description */
    for (size_t i = 0; i < b.len; i++)
        if ((uint8_t)text[i] < 0x20 || (uint8_t)text[i] >= 0x7f)
            abort(); /* one line of printable ASCII */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t pick = data[0] % (NFUNCTIONS + 1);
    if (pick == NFUNCTIONS)
        fuzz_revert(data + 1, size - 1);
    else
        fuzz_return(FUNCTIONS[pick], data + 1, size - 1);
    return 0;
}
