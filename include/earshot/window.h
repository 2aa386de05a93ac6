/* Event-time tumbling windows per query.
 *
 * The aggregator thread feeds every accepted mention, in input order, with
 * the queries it matched; es_windows keeps the open windows of every
 * configured size, advances a watermark (max event time seen minus the
 * allowed lateness) and hands each window to the sink once the watermark
 * passes its end. Time is always passed in: event time with each mention,
 * wall-clock time to es_windows_idle, so tests drive it without sleeping.
 * Not thread-safe: one owner (the aggregator). */
#ifndef EARSHOT_WINDOW_H
#define EARSHOT_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"

#define ES_MAX_WINDOW_SIZES 4
#define ES_TOP_AUTHORS 5        /* reported per window */
#define ES_TOPK_COUNTERS 32     /* Space-Saving counters per window: authors above 1/32 of it are kept */
#define ES_AUTHOR_NAME_MAX 64   /* bytes kept of an author handle */
#define ES_TOP_REACH 3          /* authors with the largest reach reported per window */
#define ES_TERM_COUNTERS 32     /* Space-Saving counters of a window's terms (smallest size only) */
#define ES_TERM_MAX 24          /* bytes kept of a term (longer words are not terms) */
#define ES_MENTION_TERMS 10     /* terms taken from one mention */
#define ES_HOT_TERMS 5          /* over-represented terms reported per window */
#define ES_NEAR_CLUSTERS 8      /* near-duplicate clusters tracked per window */
#define ES_NEAR_BITS 3          /* SimHashes this close are near-duplicates (the published choice for 64 bits) */
#define ES_NEAR_MIN_WORDS 8     /* words of 4 bytes or more a text needs for a SimHash */

/* A term of a window: a word of its mentions' texts, counted once per
 * mention (count overestimates by at most err). */
typedef struct es_term {
  char text[ES_TERM_MAX];
  uint64_t hash;
  uint32_t count, err;
} es_term;

/* A query's term baseline: what its mentions are usually about. */
typedef struct es_termbase es_termbase;
es_termbase *es_termbase_create(void);
void es_termbase_destroy(es_termbase *b); /* NULL-safe */
/* Counts one mention's terms (their hashes, es_hash_bytes of each). */
void es_termbase_add(es_termbase *b, const uint64_t *hashes, int n);
struct es_window_result;

/* A term over-represented in a window compared with its query's baseline. */
typedef struct es_hot_term {
  char text[ES_TERM_MAX];
  uint32_t count;  /* mentions of the window with it (a lower bound) */
  double lift;     /* its share of the window's mentions / its share in the baseline */
} es_hot_term;

#define ES_EARLY_MIN_MS 10 /* the shortest interval of early updates */

typedef struct es_window_opts {
  int64_t size_ms[ES_MAX_WINDOW_SIZES];
  int nsizes;
  int64_t lateness_ms;   /* watermark = max event time - lateness */
  int64_t idle_flush_ms; /* wall-clock idle time after which all open windows close; 0 = never */
  int64_t early_ms;      /* wall-clock interval of early updates of open windows; 0 = none */
  bool emit_empty;       /* also emit zero windows for queries without mentions */
  bool manual_advance;   /* event time is advanced only by es_windows_advance (Kafka:
                            the minimum over input partitions), not by each mention */
} es_window_opts;

#define ES_SAMPLE_IDS 3
#define ES_SAMPLE_ID_MAX 64 /* longer ids are cut */

typedef struct es_window_obs {
  int64_t ts_ms;
  uint64_t author_hash; /* 0 = anonymous: not counted as an author */
  const char *author;
  size_t author_len;
  uint64_t followers;
  double compound;
  int label;            /* enum es_label */
  uint64_t content_hash; /* es_content_hash of the text: equal for duplicates; 0 = unknown */
  uint64_t simhash;      /* its SimHash (es_content_hash_terms): near for near-duplicates; 0 = unknown */
  const char *id;        /* the mention id (NULL when it has none) */
  size_t id_len;
  const char *terms;     /* es_content_terms of the text (may be empty) */
  size_t terms_len;
  uint32_t situations;   /* triage situations of the mention (bit i: situation i); 0 none */
} es_window_obs;

/* A hash of a mention's text that is equal for copies of it: lower-cased,
 * with URLs, @handles, a leading "RT", digits, punctuation and spacing left
 * out, so retweets, copy-paste and bot swarms that vary a link, a handle or
 * a number hash alike. Never 0. */
uint64_t es_content_hash(const char *text, size_t n);

/* The terms of a text, as es_content_hash sees its words (lower-cased,
 * without URLs, handles, a leading "RT", digits and punctuation): the first
 * ES_MENTION_TERMS distinct words of 4 to ES_TERM_MAX - 1 bytes, separated
 * by single spaces, into out (cap bytes; at least ES_MENTION_TERMS *
 * ES_TERM_MAX). Returns the length written. */
size_t es_content_terms(const char *text, size_t n, char *out, size_t cap);
/* All at once (one pass): returns the hash, writes the terms' length and
 * the text's SimHash (64 bits over its words of 4 bytes or more; 0 when it
 * has fewer than ES_NEAR_MIN_WORDS of them). */
uint64_t es_content_hash_terms(const char *text, size_t n, char *out, size_t cap, size_t *olen, uint64_t *simhash);
/* The same, a byte at a time: the reference the classified fast path must
 * equal (tests). */
uint64_t es__content_hash_terms_bytes(const char *text, size_t n, char *out, size_t cap, size_t *olen, uint64_t *simhash);

typedef struct es_top_author {
  char name[ES_AUTHOR_NAME_MAX];
  uint64_t count, reach;
} es_top_author;

typedef struct es_window_result {
  uint32_t query;
  int size_idx;
  int64_t size_ms, start_ms, end_ms;
  int64_t index; /* start_ms / size_ms */
  uint64_t count, positive, negative, neutral, unscored;
  double sentiment_mean; /* mean compound over scored mentions; 0 when none */
  uint64_t unique_authors, reach;
  uint64_t anonymous;    /* mentions without an author (not in unique_authors) */
  uint64_t effective;    /* distinct texts (es_content_hash, and SimHash near-duplicate clusters): the volume detection sees */
  /* A few mention ids of the window: those with the smallest id hashes, so
   * the choice does not depend on arrival order. */
  char samples[ES_SAMPLE_IDS][ES_SAMPLE_ID_MAX];
  int nsamples;
  es_top_author top[ES_TOP_AUTHORS];
  int ntop;
  /* The authors with the largest reach (followers; an author's largest)
   * in the window, largest first; exact. count is not set. */
  es_top_author top_reach[ES_TOP_REACH];
  int ntop_reach;
  /* The window's most frequent terms (Space-Saving, ES_TERM_COUNTERS
   * counters, in no order; valid during the sink call) and the mentions
   * they were counted over. */
  const es_term *terms;
  int nterms;
  uint64_t term_docs;
  /* The terms over-represented against the query's baseline (es_terms_hot):
   * what the output reports as "terms". */
  es_hot_term hot[ES_HOT_TERMS];
  int nhot;
  /* Mentions per triage situation (bit i of situation_mask: count in
   * situations[i]); names from the run's triage (situation_names, NULL
   * without triage). */
  uint32_t situation_mask;
  uint32_t situations[32];
  const char *const *situation_names;
  /* Mentions routed per triage track (bit i of track_mask: count in
   * tracks[i]); names from the run's triage (track_names). */
  uint32_t track_mask;
  uint32_t tracks[32];
  const char *const *track_names;
  bool final;
  bool early; /* an early update of a window still open (es_windows_early) */
} es_window_result;

/* The terms of window w over-represented against baseline b (NULL: none
 * yet): at least 3 of its mentions and at least twice the baseline's share
 * of mentions, best first by count x log(lift) (ties in word order), at most max (<=
 * ES_HOT_TERMS). Returns how many were written to hot. */
int es_terms_hot(const es_termbase *b, const es_window_result *w, es_hot_term *hot, int max);

typedef void (*es_window_sink)(void *ctx, const es_window_result *r);

typedef struct es_windows es_windows;
es_windows *es_windows_create(const es_window_opts *o, size_t nqueries, es_window_sink sink, void *ctx);
void es_windows_destroy(es_windows *w); /* NULL-safe */

/* Adds one mention matched by `queries` (may be empty). Returns a bitmask
 * of the size indices for which the mention arrived after its window had
 * closed (late: not counted there; the caller routes it to the DLQ), then
 * advances the watermark, which may close windows through the sink. */
unsigned es_windows_observe(es_windows *w, const es_window_obs *m, const uint32_t *queries, size_t nq);
/* Moves event time to `ts` if later (then closes what the watermark
 * passed). With manual_advance this is the only way event time moves. */
void es_windows_advance(es_windows *w, int64_t ts);
/* Idle flush: when `wall_ms` (the current wall clock) is idle_flush_ms or
 * more past the last es_windows_touch, closes every open window; mentions
 * that arrive later for them are late. */
void es_windows_idle(es_windows *w, int64_t wall_ms);
/* Terms: the windows of query q and size size_idx count their mentions'
 * terms once they hold more than `after` mentions (0: all; UINT64_MAX, the
 * default: none), so only windows that may be incidents pay for it; the
 * caller sets it from detection (expected volume x min_lift, 0 while an
 * alert is open). A sample of every query's mentions (1 in 16, by content
 * hash; windows that count terms excluded) feeds the query's baseline. */
void es_windows_terms_after(es_windows *w, uint32_t q, int size_idx, uint64_t after);
/* Records the wall clock at which the caller last saw input (progress). */
void es_windows_touch(es_windows *w, int64_t wall_ms);
/* Restart: windows ending at or before `mark` were emitted by an earlier
 * run (the watermark committed with the input offsets). They are closed;
 * a mention read again for them is not counted again and not late (the
 * earlier run handled it), so observe does not report it. */
void es_windows_restore(es_windows *w, int64_t mark);
/* The query set changed (reload): query j of the new set is query
 * old_of_new[j] of the old one, or new (-1). Open windows follow their
 * query; those of removed queries are dropped. 0 or ES_ENOMEM (then
 * nothing changed). */
int es_windows_remap(es_windows *w, size_t new_nq, const int64_t *old_of_new);
/* The triage's situations and tracks were renumbered (a reload): open
 * windows' counts follow them (new_of_old[i]: i's new index, -1 gone). */
void es_windows_remap_triage(es_windows *w, const int8_t sit_new_of_old[32], const int8_t trk_new_of_old[32]);
/* A mention of query q at event time ts was routed to triage track `track`
 * (< 32): counted in its windows still open. */
void es_windows_count_track(es_windows *w, uint32_t q, int64_t ts, int track);
/* Adds src's open windows into dst's (the same queries and sizes): windows
 * computed in parts, over parts of the mentions, put together. Exact:
 * counts, sentiment sums, reach, situation and track counts, unique authors
 * and effective volume (the HyperLogLog registers one pass gives), sampled
 * ids, top reach. Top authors and terms: mergeable Space-Saving (the lower
 * bounds stay lower bounds; exact while the authors fit the counters).
 * Near-duplicate clusters: an estimate. Term baselines are not merged.
 * dst's watermark is unchanged; a window dst has closed is not reopened:
 * its parts are counted in *dropped (may be NULL). 0, ES_EINVAL (other
 * queries or sizes) or ES_ENOMEM. */
int es_windows_merge(es_windows *dst, const es_windows *src, uint64_t *dropped);
/* The same across processes: query q's open window (size_idx, index) as
 * bytes (engine/window/part.c has the layout), ES_ENOTFOUND when it has
 * none; and such bytes added into another es_windows' window (opened when
 * needed): 0, ES_ERANGE (closed there already), ES_EINVAL (malformed or
 * another version: nothing added) or ES_ENOMEM. */
int es_windows_part(const es_windows *w, uint32_t q, int size_idx, int64_t index, es_buf *out);
int es_windows_add_part(es_windows *w, uint32_t q, int size_idx, int64_t index, const void *data, size_t n);
/* fn for every open (query, window) with mentions. */
void es_windows_each_open(const es_windows *w, void (*fn)(void *ctx, uint32_t q, int size_idx, int64_t index),
                          void *ctx);
/* fn(ctx, end) runs before windows ending at `end` close (triage decides the
 * mentions before `end` first, so their tracks are counted in them). */
void es_windows_before_close(es_windows *w, void (*fn)(void *ctx, int64_t end), void *ctx);
/* Emit the windows of query q and size size_idx even when empty (the
 * aggregator watches queries with an open alert). */
void es_windows_watch(es_windows *w, uint32_t q, int size_idx, bool on);
/* End of input: closes every open window (final). */
void es_windows_flush(es_windows *w);
/* Early updates: calls sink with the record of every open window whose
 * count changed since its last early update (early = true, final = false;
 * the window stays open and unchanged). Returns how many. */
size_t es_windows_early(es_windows *w, es_window_sink sink, void *ctx);
int64_t es_windows_watermark(const es_windows *w);
/* The largest event time observed, INT64_MIN before any. */
int64_t es_windows_max_event(const es_windows *w);

/* HyperLogLog with an exact sparse phase (engine/window/hll.c). */
#define ES_HLL_SPARSE 32
#define ES_HLL_P 12 /* 4096 registers: 1.6% standard error (the default) */
#define ES_HLL_P_SMALL 8 /* 256 registers: 6.5% standard error */
typedef struct es_hll {
  uint64_t sparse[ES_HLL_SPARSE];
  uint32_t nsparse; /* exact while <= ES_HLL_SPARSE and regs == NULL */
  uint8_t p;        /* register bits: 0 = ES_HLL_P; kept by es_hll_reset */
  uint8_t *regs;
} es_hll;
void es_hll_init(es_hll *h);
void es_hll_add(es_hll *h, uint64_t hash);
uint64_t es_hll_count(const es_hll *h);
void es_hll_reset(es_hll *h); /* keeps the register array for reuse */
/* dst becomes the sketch of both sets: the registers (or the exact set) one
 * pass over both gives. Same precision only (else dst is left as it was). */
void es_hll_merge(es_hll *dst, const es_hll *src);
void es_hll_free(es_hll *h);

#endif
