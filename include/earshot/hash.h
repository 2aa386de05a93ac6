/* 64-bit hashing for author ids, HyperLogLog and hash tables. Not
 * cryptographic. Any thread. */
#ifndef EARSHOT_HASH_H
#define EARSHOT_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t es_hash_mix(uint64_t x) {
  /* The splitmix64 finaliser: full avalanche, so HLL can take register
   * index and rank from any bits. */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

/* Reads 8 bytes at a time and mixes; fast on short keys such as handles. */
static inline uint64_t es_hash_bytes(const void *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = es_hash_mix(h ^ w);
    s += 8;
    n -= 8;
  }
  uint64_t w = 0;
  for (size_t i = 0; i < n; i++) w |= (uint64_t)s[i] << (8 * i);
  return es_hash_mix(h ^ w ^ 0x2545f4914f6cdd1dULL);
}

#endif
