/* libFuzzer target: the strict JSON reader and the writer's copy of it. */
#include <stdint.h>
#include <string.h>

#include "sigil/codec.h"

static sigil_json_tok toks[4096];
static uint8_t out_mem[1 << 21];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sigil_json d;
    if (sigil_json_parse(&d, (const char *)data, size, toks, 4096) != 0)
        return 0;
    /* A parsed document must re-emit and re-parse to the same token shape. */
    sigil_buf b;
    sigil_jw w;
    sigil_buf_init(&b, out_mem, sizeof(out_mem));
    sigil_jw_init(&w, &b);
    if (sigil_jw_copy(&w, &d, 0) != 0)
        __builtin_trap();
    uint32_t n = d.ntoks;
    sigil_json d2;
    static sigil_json_tok toks2[4096];
    if (sigil_json_parse(&d2, (const char *)out_mem, b.len, toks2, 4096) != 0 || d2.ntoks != n)
        __builtin_trap();
    for (uint32_t k = sigil_json_first(&d, 0); k != 0; k = sigil_json_sibling(&d, 0, k)) {
        char s[256];
        sigil_buf sb;
        sigil_buf_init(&sb, s, sizeof(s));
        if (sigil_json_type_of(&d, k) == SIGIL_JSON_STRING)
            (void)sigil_json_str(&d, k, &sb);
    }
    return 0;
}
