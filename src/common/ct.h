/*
 * Constant-time byte classes (internal): comparisons on secret characters
 * without branches, for decoders and validators that see secrets. The
 * valgrind ctime test (tests/ctime) holds every user to it.
 */
#ifndef SIGIL_COMMON_CT_H
#define SIGIL_COMMON_CT_H

#include <stdint.h>

/* 1 when lo <= c <= hi (all below 2^31): a difference goes negative exactly
 * when c is outside. */
static inline uint32_t sigil_ct_in_range(uint32_t c, uint32_t lo, uint32_t hi)
{
    return 1u ^ (((c - lo) | (hi - c)) >> 31);
}

#endif
