/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
 * whole-buffer and streaming (for bytes produced while decoding). */
#include <string.h>

#include "sigil/codec.h"

bool sigil_utf8_feed(sigil_utf8_state *s, uint8_t c)
{
    if (s->need == 0) {
        if (c < 0x80)
            return true;
        if ((c & 0xE0) == 0xC0)
            s->need = 1, s->cp = c & 0x1F, s->min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            s->need = 2, s->cp = c & 0x0F, s->min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            s->need = 3, s->cp = c & 0x07, s->min = 0x10000;
        else
            return false;
        return true;
    }
    if ((c & 0xC0) != 0x80)
        return false;
    s->cp = s->cp << 6 | (c & 0x3F);
    if (--s->need > 0)
        return true;
    return s->cp >= s->min && s->cp <= 0x10FFFF && !(s->cp >= 0xD800 && s->cp <= 0xDFFF);
}

bool sigil_utf8_valid(const uint8_t *p, size_t n)
{
    sigil_utf8_state s = {0};
    size_t i = 0;
    while (i < n) {
        if (s.need == 0 && n - i >= 8) { /* ASCII fast path, eight bytes at a time */
            uint64_t w;
            memcpy(&w, p + i, sizeof(w));
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        if (!(p[i] < 0x80 && s.need == 0) && !sigil_utf8_feed(&s, p[i]))
            return false;
        i++;
    }
    return s.need == 0;
}
