/* The replay pipeline: a JSONL stream in, window records out.
 *
 * Threads: one ingest thread cuts the input into batches of whole lines;
 * N worker threads decode, match, score and serialise dead letters; the
 * calling thread aggregates results in input order into windows, classifies
 * them and writes the outputs. Threads are connected by bounded SPSC rings
 * and a fixed pool of batches, so memory is bounded whatever the input rate
 * and the output is identical for any number of workers. */
#ifndef EARSHOT_PIPELINE_H
#define EARSHOT_PIPELINE_H

#include <stdint.h>

#include "earshot/detect.h"

#include "earshot/config.h"
#include "earshot/query.h"
#include "earshot/sentiment.h"
#include "earshot/sink.h"
#include "earshot/triage.h"

typedef struct es_pipeline_stats {
  uint64_t lines;      /* non-blank input lines */
  uint64_t accepted;   /* decoded mentions (repaired ones included) */
  uint64_t matched;    /* mentions that matched at least one query */
  uint64_t hits;       /* (mention, query) matches */
  uint64_t reasons[ES_REASON_COUNT]; /* dead letters by reason */
  uint64_t windows;    /* closed windows classified */
  uint64_t classes[ES_CLASS_COUNT]; /* closed windows by class (enum es_class) */
  uint64_t thresholds; /* windows that reached a user threshold */
  uint64_t alerts_opened, alerts_resolved;
  uint64_t early_updates; /* early records of open windows written */
  uint64_t bytes;
  es_triage_counts triage; /* with a triage file */
  uint64_t triage_late, triage_unanswered, sla_events; /* time to respond: all tracks */
  double seconds;
  int workers;
} es_pipeline_stats;

/* Runs the pipeline over cfg->input until end of input or until *stop
 * becomes non-zero (SIGINT/SIGTERM), then closes all windows (marked
 * final: false when stopped early). Returns 0 or an ES_E* code with diag. */
int es_replay(const es_config *cfg, const es_queryset *qs, const es_lexicon *lex, volatile int *stop,
              es_pipeline_stats *st, es_diag *d);

/* A source of mentions other than the input file: Kafka's consumer group
 * (es_kafka_input_create, include/earshot/kafka.h), which also brings its
 * own sink (the producer) and decides when input is done. */
typedef struct es_input es_input;
void es_input_destroy(es_input *in); /* NULL-safe */

/* What a run reads from and writes to beyond what cfg says: `input` (NULL:
 * cfg->input, a file or stdin) and extra sinks (the HTTP server's live
 * views), called after the configured ones. The caller keeps ownership. */
typedef struct es_run_io {
  es_input *input;
  /* Triage (NULL: off): the query set must have been compiled with its
   * situation rules (es_query_opts.rules from es_situations_rules). */
  const es_triage *triage;
  es_sink *const *sinks;
  size_t nsinks;
} es_run_io;

/* es_replay with a given input and extra sinks (io may be NULL). */
int es_pipeline_run(const es_config *cfg, const es_queryset *qs, const es_lexicon *lex, const es_run_io *io,
                    volatile int *stop, es_pipeline_stats *st, es_diag *d);

#endif
