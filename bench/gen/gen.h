/* The synthetic mention generator: realistic mention JSON with planted,
 * labelled incidents, for tests, the demo and benchmarks.
 *
 * Deterministic: the same options (seed included) give byte-identical
 * output. Text lengths 20-280 characters, a Zipfian vocabulary, Zipfian
 * authors with heavy-tailed follower counts, diurnal volume, emoji, URLs,
 * hashtags, @handles and a share of non-English mentions. One owner thread
 * per generator. */
#ifndef EARSHOT_GEN_H
#define EARSHOT_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "earshot/buf.h"

#define ES_GEN_MAX_INCIDENTS 16

/* Topics the generator talks about; models/queries/demo.yaml has one query
 * per topic. */
enum es_gen_topic {
  ES_GEN_FEES,
  ES_GEN_APP,
  ES_GEN_DELIVERY,
  ES_GEN_SUPPORT,
  ES_GEN_REWARDS,
  ES_GEN_BRANCH,
  ES_GEN_NTOPICS
};

typedef struct es_gen_incident {
  int64_t start_ms;  /* absolute event time */
  int64_t dur_ms;
  double multiplier; /* topic volume during the incident, as a multiple of its base */
  int topic;         /* enum es_gen_topic */
} es_gen_incident;

typedef struct es_gen_opts {
  uint64_t seed;
  uint64_t count;        /* mentions to generate */
  int64_t start_ms;      /* event time of the first mention */
  double rate_per_min;   /* mean background volume, all topics together */
  double diurnal_amp;    /* 0..0.9: relative amplitude of the daily cycle */
  double non_english;    /* share of mentions in es/de/fr */
  double epoch_ts_share; /* share of mentions whose ts is epoch ms, not RFC 3339 */
  uint32_t authors;      /* distinct authors in the population */
  double author_skew;    /* Zipf exponent of author activity (default 1.05; 0 = uniform) */
  int n_incidents;
  es_gen_incident incidents[ES_GEN_MAX_INCIDENTS];
} es_gen_opts;

void es_gen_opts_default(es_gen_opts *o);

typedef struct es_gen es_gen;
es_gen *es_gen_create(const es_gen_opts *o);
void es_gen_destroy(es_gen *g); /* NULL-safe */
/* Appends the next mention (one JSON object and '\n') to `out`. Returns 0,
 * or 1 when `count` mentions have been produced. `ts_ms` (may be NULL)
 * receives the mention's event time. */
int es_gen_next(es_gen *g, es_buf *out, int64_t *ts_ms);
/* Writes the incidents as a JSON array of labels to `f`. */
void es_gen_write_labels(const es_gen_opts *o, FILE *f);
/* Writes a YAML query set of `n` queries: the demo queries first, then
 * queries built from the vocabulary the way analysts write them. */
void es_gen_write_queries(uint64_t seed, uint32_t n, FILE *f);
const char *es_gen_topic_name(int topic);

#endif
