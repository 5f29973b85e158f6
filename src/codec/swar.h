/*
 * Word-at-a-time byte tests for the JSON hot loops (public data only).
 * Each returns a mask with 0x80 set in every byte of w that matches; the
 * "below" test is exact only for bytes < 0x80, so callers test high bytes
 * first or alongside.
 */
#ifndef SIGIL_CODEC_SWAR_H
#define SIGIL_CODEC_SWAR_H

#include <stdint.h>
#include <string.h>

#define SWAR_ONES 0x0101010101010101ull
#define SWAR_HIGH 0x8080808080808080ull

static inline uint64_t swar_load(const void *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

static inline uint64_t swar_eq(uint64_t w, uint8_t c)
{
    uint64_t x = w ^ (SWAR_ONES * c);
    return (x - SWAR_ONES) & ~x & SWAR_HIGH;
}

static inline uint64_t swar_below(uint64_t w, uint8_t c)
{
    return (w - SWAR_ONES * c) & ~w & SWAR_HIGH;
}

/* Bytes a JSON string cannot hold as they are: controls, '"' and '\\'. */
static inline uint64_t swar_json_special(uint64_t w)
{
    return swar_below(w, 0x20) | swar_eq(w, '"') | swar_eq(w, '\\');
}

#endif
