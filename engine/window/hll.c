/* HyperLogLog distinct counting for unique authors per window.
 *
 * A window starts exact: up to 32 distinct 64-bit hashes kept in a small
 * array. Past that it switches to 2^12 one-byte registers (standard error
 * 1.04/sqrt(4096) = 1.6%), with the usual linear-counting correction for
 * small cardinalities. One owner thread. */
#include <math.h>
#include <string.h>

#include "earshot/mem.h"
#include "earshot/window.h"

static inline unsigned bits(const es_hll *h) { return h->p ? h->p : ES_HLL_P; }

void es_hll_init(es_hll *h) { memset(h, 0, sizeof *h); }

static void reg_add(uint8_t *regs, unsigned p, uint64_t hash) {
  uint32_t idx = (uint32_t)(hash >> (64 - p));
  uint64_t rest = hash << p;
  uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - p + 1);
  if (rank > regs[idx]) regs[idx] = rank;
}

void es_hll_add(es_hll *h, uint64_t hash) {
  unsigned p = bits(h), M = 1u << p;
  if (h->regs && h->nsparse == UINT32_MAX) {
    reg_add(h->regs, p, hash);
    return;
  }
  for (uint32_t i = 0; i < h->nsparse; i++)
    if (h->sparse[i] == hash) return;
  if (h->nsparse < ES_HLL_SPARSE) {
    h->sparse[h->nsparse++] = hash;
    return;
  }
  if (!h->regs && !(h->regs = es_malloc(M))) return; /* OOM: stay at the exact 32 */
  memset(h->regs, 0, M);
  for (uint32_t i = 0; i < h->nsparse; i++) reg_add(h->regs, p, h->sparse[i]);
  reg_add(h->regs, p, hash);
  h->nsparse = UINT32_MAX; /* dense from now on */
}

uint64_t es_hll_count(const es_hll *h) {
  if (h->nsparse != UINT32_MAX) return h->nsparse;
  unsigned M = 1u << bits(h);
  /* 2^-r for every possible rank (at most 64 - p + 1). */
  static double inv_pow2[66];
  if (inv_pow2[0] == 0)
    for (int r = 0; r < 66; r++) inv_pow2[r] = ldexp(1.0, -r);
  double sum = 0;
  unsigned zeros = 0;
  for (unsigned i = 0; i < M; i++) {
    sum += inv_pow2[h->regs[i]];
    zeros += h->regs[i] == 0;
  }
  double alpha = 0.7213 / (1 + 1.079 / M); /* bias constant for m >= 128 (Flajolet et al.) */
  double e = alpha * M * M / sum;
  if (e <= 2.5 * M && zeros) e = M * log((double)M / zeros); /* linear counting */
  return (uint64_t)(e + 0.5);
}

void es_hll_reset(es_hll *h) {
  /* Back to the exact phase; the sparse slots are overwritten before they
   * are read, the registers cleared when the set next turns dense. */
  h->nsparse = 0;
}

void es_hll_free(es_hll *h) {
  es_free(h->regs);
  memset(h, 0, sizeof *h);
}

void es_hll_merge(es_hll *dst, const es_hll *src) {
  if (src->nsparse != UINT32_MAX) { /* exact: its hashes, as if added here */
    for (uint32_t i = 0; i < src->nsparse; i++) es_hll_add(dst, src->sparse[i]);
    return;
  }
  unsigned p = bits(dst), M = 1u << p;
  if (bits(src) != p) return; /* (like with like only: the callers merge the same field) */
  if (dst->nsparse != UINT32_MAX) { /* dense now: its exact hashes into registers */
    if (!dst->regs && !(dst->regs = es_malloc(M))) return;
    memset(dst->regs, 0, M);
    for (uint32_t i = 0; i < dst->nsparse; i++) reg_add(dst->regs, p, dst->sparse[i]);
    dst->nsparse = UINT32_MAX;
  }
  for (unsigned i = 0; i < M; i++)
    if (src->regs[i] > dst->regs[i]) dst->regs[i] = src->regs[i];
}
