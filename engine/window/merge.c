/* Merging two accumulators of the same window (query, size, index): the
 * step that lets windows be computed in parts (mentions split between
 * processes or threads) and put together.
 *
 * Exact: counts, sums (sentiment in fixed point), reach, situation and track
 * counts, distinct authors and texts (HyperLogLog: register maximum, or the
 * exact sets re-added: the registers one pass over all the mentions gives),
 * the sampled ids (the smallest hashes of both), the authors with the
 * largest reach. Top authors and terms are Space-Saving summaries merged
 * the mergeable way: a counter's count and error add the other summary's
 * (its smallest count when the other does not hold it and is full), the
 * largest counters are kept; the reported lower bound (count - error)
 * stays a lower bound. Near-duplicate clusters merge when their SimHashes
 * are near, else the smaller are evicted as one pass would: an estimate.
 * Aggregator thread only. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/mem.h"
#include "window_internal.h"

/* A merged Space-Saving counter. */
typedef struct ssc {
  uint64_t hash, count, err;
  const void *from; /* the counter whose other fields are kept */
  const void *also; /* the other summary's counter of the same item (NULL none) */
} ssc;

static int ssc_cmp(const void *x, const void *y) {
  const ssc *a = x, *b = y;
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  return a->hash < b->hash ? -1 : a->hash > b->hash;
}

/* The merged counters of summaries A (n1 counters: hashes, counts, errors,
 * where each came from; full when n1 == k) and B, into out: at most k,
 * largest count first, then smaller hash. */
static size_t ss_merge(ssc *out, const uint64_t *ha, const uint64_t *ca, const uint64_t *ea, const void *const *fa,
                       size_t n1, const uint64_t *hb, const uint64_t *cb, const uint64_t *eb, const void *const *fb,
                       size_t n2, size_t k) {
  uint64_t mina = 0, minb = 0;
  if (n1 == k)
    for (size_t i = 0; i < n1; i++) mina = i == 0 || ca[i] < mina ? ca[i] : mina;
  if (n2 == k)
    for (size_t i = 0; i < n2; i++) minb = i == 0 || cb[i] < minb ? cb[i] : minb;
  size_t n = 0;
  for (size_t i = 0; i < n1; i++) {
    size_t j = 0;
    while (j < n2 && hb[j] != ha[i]) j++;
    out[n++] = j < n2 ? (ssc){ha[i], ca[i] + cb[j], ea[i] + eb[j], fa[i], fb[j]}
                      : (ssc){ha[i], ca[i] + minb, ea[i] + minb, fa[i], NULL};
  }
  for (size_t j = 0; j < n2; j++) {
    size_t i = 0;
    while (i < n1 && ha[i] != hb[j]) i++;
    if (i == n1) out[n++] = (ssc){hb[j], cb[j] + mina, eb[j] + mina, fb[j], NULL};
  }
  qsort(out, n, sizeof *out, ssc_cmp);
  return n < k ? n : k;
}

static void merge_top(acc *dst, const acc *src) {
  uint64_t ha[ES_TOPK_COUNTERS], ca[ES_TOPK_COUNTERS], ea[ES_TOPK_COUNTERS], hb[ES_TOPK_COUNTERS], cb[ES_TOPK_COUNTERS],
      eb[ES_TOPK_COUNTERS];
  const void *fa[ES_TOPK_COUNTERS], *fb[ES_TOPK_COUNTERS];
  for (uint32_t i = 0; i < dst->ntop; i++)
    ha[i] = dst->top[i].hash, ca[i] = dst->top[i].count, ea[i] = dst->top[i].err, fa[i] = &dst->top[i];
  for (uint32_t i = 0; i < src->ntop; i++)
    hb[i] = src->top[i].hash, cb[i] = src->top[i].count, eb[i] = src->top[i].err, fb[i] = &src->top[i];
  ssc m[2 * ES_TOPK_COUNTERS];
  size_t n = ss_merge(m, ha, ca, ea, fa, dst->ntop, hb, cb, eb, fb, src->ntop, ES_TOPK_COUNTERS);
  topc out[ES_TOPK_COUNTERS];
  for (size_t i = 0; i < n; i++) {
    out[i] = *(const topc *)m[i].from;
    out[i].count = m[i].count;
    out[i].err = m[i].err;
    if (m[i].also && ((const topc *)m[i].also)->reach > out[i].reach) out[i].reach = ((const topc *)m[i].also)->reach;
  }
  memcpy(dst->top, out, n * sizeof *out);
  dst->ntop = (uint32_t)n;
  memset(dst->tix, 0, sizeof dst->tix);
  for (uint32_t i = 0; i < dst->ntop; i++) es__tix_put(dst, dst->top[i].hash, i);
}

static void merge_terms(acc *dst, const acc *src) {
  if (!src->terms || !src->nterms) return;
  if (!dst->terms && !(dst->terms = es_calloc(1, sizeof(termset)))) return;
  uint64_t ha[ES_TERM_COUNTERS], ca[ES_TERM_COUNTERS], ea[ES_TERM_COUNTERS], hb[ES_TERM_COUNTERS], cb[ES_TERM_COUNTERS],
      eb[ES_TERM_COUNTERS];
  const void *fa[ES_TERM_COUNTERS], *fb[ES_TERM_COUNTERS];
  const termset *a = dst->terms, *b = src->terms;
  for (uint32_t i = 0; i < dst->nterms; i++) ha[i] = a->c[i].hash, ca[i] = a->c[i].count, ea[i] = a->c[i].err, fa[i] = &a->c[i];
  for (uint32_t i = 0; i < src->nterms; i++) hb[i] = b->c[i].hash, cb[i] = b->c[i].count, eb[i] = b->c[i].err, fb[i] = &b->c[i];
  ssc m[2 * ES_TERM_COUNTERS];
  size_t n = ss_merge(m, ha, ca, ea, fa, dst->nterms, hb, cb, eb, fb, src->nterms, ES_TERM_COUNTERS);
  es_term out[ES_TERM_COUNTERS];
  for (size_t i = 0; i < n; i++) {
    out[i] = *(const es_term *)m[i].from;
    out[i].count = (uint32_t)m[i].count;
    out[i].err = (uint32_t)m[i].err;
  }
  termset *ts = dst->terms;
  memcpy(ts->c, out, n * sizeof *out);
  dst->nterms = (uint32_t)n;
  memset(ts->ix, 0, sizeof ts->ix);
  for (uint32_t i = 0; i < dst->nterms; i++) es__term_ix_put(ts, ts->c[i].hash, i);
}

/* The authors with the largest reach: each author's largest, the first
 * ES_TOP_REACH of both lists (exact: each holds its own first ones). */
static void merge_reach(acc *dst, const acc *src) {
  for (uint32_t j = 0; j < src->nreach; j++) {
    const topc *t = &src->reach_top[j];
    uint32_t i = 0;
    while (i < dst->nreach && dst->reach_top[i].hash != t->hash) i++;
    topc e = *t;
    if (i < dst->nreach) { /* known: keep the larger reach, then re-sort */
      if (t->reach <= dst->reach_top[i].reach) continue;
      memmove(&dst->reach_top[i], &dst->reach_top[i + 1], (dst->nreach - i - 1) * sizeof e);
      dst->nreach--;
    }
    if (dst->nreach == ES_TOP_REACH && !es__reach_before(e.reach, e.hash, &dst->reach_top[ES_TOP_REACH - 1])) continue;
    i = dst->nreach < ES_TOP_REACH ? dst->nreach++ : ES_TOP_REACH - 1;
    for (; i > 0 && es__reach_before(e.reach, e.hash, &dst->reach_top[i - 1]); i--) dst->reach_top[i] = dst->reach_top[i - 1];
    dst->reach_top[i] = e;
  }
}

static void merge_near(acc *dst, const acc *src) {
  for (uint32_t j = 0; j < src->ndup; j++) {
    uint32_t m = 0, i = 0;
    for (; i < dst->ndup; i++) {
      if (__builtin_popcountll(dst->dsig[i] ^ src->dsig[j]) <= ES_NEAR_BITS) break;
      if (dst->dcount[i] < dst->dcount[m]) m = i;
    }
    if (i < dst->ndup) {
      dst->dcount[i] += src->dcount[j];
      dst->derr[i] += src->derr[j];
      continue;
    }
    if (dst->ndup < ES_NEAR_CLUSTERS) {
      m = dst->ndup++;
      dst->dcount[m] = dst->derr[m] = 0;
    } else {
      dst->derr[m] = dst->dcount[m]; /* evicted: the newcomer inherits the count as error */
    }
    dst->dsig[m] = src->dsig[j];
    dst->dcount[m] += src->dcount[j];
    dst->derr[m] += src->derr[j];
  }
}

void es__acc_merge(acc *dst, const acc *src) {
  dst->count += src->count;
  dst->pos += src->pos;
  dst->neg += src->neg;
  dst->neu += src->neu;
  dst->unscored += src->unscored;
  dst->reach += src->reach;
  dst->untexted += src->untexted;
  dst->anonymous += src->anonymous;
  dst->sum_compound = (int64_t)((uint64_t)dst->sum_compound + (uint64_t)src->sum_compound); /* (wraps, never UB) */
  dst->term_docs += src->term_docs;
  es_hll_merge(&dst->hll, &src->hll);
  es_hll_merge(&dst->texts, &src->texts);
  for (uint32_t i = 0; i < src->nsamples; i++)
    es__sample_put(dst, src->sample_hash[i], src->sample[i], strlen(src->sample[i]));
  merge_top(dst, src);
  merge_reach(dst, src);
  merge_near(dst, src);
  merge_terms(dst, src);
  for (uint32_t m = src->sitmask; m; m &= m - 1) {
    int b = __builtin_ctz(m);
    if (!(dst->sitmask >> b & 1)) dst->sit[b] = 0, dst->sitmask |= 1u << b;
    dst->sit[b] += src->sit[b];
  }
  for (uint32_t m = src->trkmask; m; m &= m - 1) {
    int b = __builtin_ctz(m);
    if (!(dst->trkmask >> b & 1)) dst->trk[b] = 0, dst->trkmask |= 1u << b;
    dst->trk[b] += src->trk[b];
  }
}
