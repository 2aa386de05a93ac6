/* Bitmap scans for text passes that classify bytes 16 at a time
 * (engine/window/text.c). */
#ifndef EARSHOT_BITS_INTERNAL_H
#define EARSHOT_BITS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Index of the first set bit at or after i in a bitmap of nb words, or n. */
static inline size_t es__next_bit(const uint64_t *m, size_t nb, size_t i, size_t n) {
  size_t k = i >> 6;
  if (k >= nb) return n;
  uint64_t x = m[k] & (~0ULL << (i & 63));
  while (!x) {
    if (++k >= nb) return n;
    x = m[k];
  }
  size_t r = (k << 6) + (size_t)__builtin_ctzll(x);
  return r < n ? r : n;
}

#endif
