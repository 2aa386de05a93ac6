/* Inside the windows: a window's accumulator (window.c) and what merges
 * two of them (merge.c). Aggregator thread only. */
#ifndef EARSHOT_WINDOW_INTERNAL_H
#define EARSHOT_WINDOW_INTERNAL_H

#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/window.h"

typedef struct topc {
  uint64_t hash, count, err, reach; /* count overestimates by at most err */
  char name[ES_AUTHOR_NAME_MAX];
} topc;

typedef struct acc {
  struct acc *next_free;
  uint64_t count, pos, neg, neu, unscored, reach;
  uint64_t untexted; /* mentions without a content hash */
  uint64_t anonymous; /* mentions without an author */
  int64_t sum_compound; /* fixed point, 1e-9: a sum independent of arrival order */
  es_hll hll;
  es_hll texts; /* distinct content hashes: the effective volume */
  uint32_t nsamples, ntop, nreach, ndup, nterms;
  struct termset *terms; /* Space-Saving over the mentions' terms (windows that count terms; on first use) */
  uint64_t term_docs;    /* mentions whose terms were counted */
  uint64_t early_count;  /* count when its last early update was emitted */
  uint32_t sitmask;      /* situations counted (their counts in sit) */
  uint32_t trkmask;      /* triage tracks counted (their counts in trk) */
  uint8_t tix[2 * ES_TOPK_COUNTERS]; /* author hash -> counter index + 1 (open addressing) */
  /* From here on, arrays whose valid part the counts above give: a reused
   * accumulator clears only what precedes them. */
  uint64_t sample_hash[ES_SAMPLE_IDS]; /* sorted ascending; nsamples valid */
  char sample[ES_SAMPLE_IDS][ES_SAMPLE_ID_MAX];
  topc top[ES_TOPK_COUNTERS];
  topc reach_top[ES_TOP_REACH]; /* by reach, largest first (count unused) */
  /* Near-duplicate clusters (Space-Saving over SimHashes; a mention joins
   * the first cluster within ES_NEAR_BITS of its representative). */
  uint64_t dsig[ES_NEAR_CLUSTERS];
  uint32_t dcount[ES_NEAR_CLUSTERS], derr[ES_NEAR_CLUSTERS];
  uint32_t sit[32]; /* mentions per situation; valid for the bits of sitmask */
  uint32_t trk[32]; /* mentions routed per triage track; valid for the bits of trkmask */
} acc;

/* A window's term counters and their index (hash -> counter + 1, open
 * addressing), allocated on the first term. */
typedef struct termset {
  es_term c[ES_TERM_COUNTERS];
  uint8_t ix[2 * ES_TERM_COUNTERS];
} termset;
#define TERM_IX_MASK (2 * ES_TERM_COUNTERS - 1)

#define TIX_MASK (2 * ES_TOPK_COUNTERS - 1)

/* The author index: counter i holds author `hash`. */
void es__tix_put(acc *a, uint64_t hash, uint32_t i);
/* The term index: counter i holds term `h`. */
void es__term_ix_put(termset *ts, uint64_t h, uint32_t i);
/* Whether reach r (author hash h) ranks before entry t (window.c). */
bool es__reach_before(uint64_t r, uint64_t h, const topc *t);
/* Inserts a sampled mention id (its hash h) in order (window.c). */
void es__sample_put(acc *a, uint64_t h, const char *id, size_t n);

/* Adds window accumulator src into dst (merge.c): counts and sums exactly,
 * distinct authors and texts by HyperLogLog register maximum (exact: the
 * same registers as one pass over both), samples exactly, top authors and
 * terms as mergeable Space-Saving summaries, near-duplicate clusters
 * approximately (see es_windows_merge). */
void es__acc_merge(acc *dst, const acc *src);
/* A window's state as bytes and back (part.c; layout there). Decoding
 * into a zeroed accumulator (texts.p set as get_acc sets it): 0, ES_EINVAL
 * (malformed, short, or left-over bytes) or ES_ENOMEM. */
void es__acc_encode(es_buf *b, const acc *a);
int es__acc_decode(acc *a, const void *data, size_t n);

#endif
