/* Shared state of one pipeline run: rings, batch pool, per-thread workers
 * and the aggregator's outputs. Each field is written by one thread only
 * (noted), except the rings which synchronise the hand-offs. */
#ifndef EARSHOT_PIPELINE_INTERNAL_H
#define EARSHOT_PIPELINE_INTERNAL_H

#define ES_SUBJECT_WORDS 128 /* subject words kept per mention (its first matched queries') */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "batch_internal.h"
#include "earshot/detect.h"
#include "earshot/output.h"
#include "earshot/pipeline.h"
#include "earshot/sink.h"
#include "earshot/triage.h"
#include "earshot/window.h"
#include "ring_internal.h"

struct es_pipe;

/* An input other than a file (es_input, include/earshot/pipeline.h): its
 * ingest thread fills batches; the aggregator asks it for the event time
 * (it tracks watermarks per partition) and tells it what is done, so it can
 * commit. Every function but ingest_main runs on the aggregator thread. */
struct es_input {
  void *ctx;
  const char *name;            /* the source named in dead letters of records without a topic */
  const char *const *topics;   /* input topics; a batch's ktopic indexes them */
  es_sink *sink;               /* its outputs, called after the pipeline's file sinks; NULL none */
  /* Before the threads start, after the windows and detector state exist:
   * restores what an earlier run left (exactly-once). 0 or ES_E* with diag. */
  int (*attach)(es_input *in, struct es_pipe *p, es_diag *d);
  void *(*ingest_main)(void *pipe);
  /* Takes over assignment changes (before each batch). */
  void (*sync)(void *ctx, int64_t now_wall);
  /* Input record `rec` of batch b (event time ts, INT64_MIN when rejected)
   * is done once the watermark reaches `mark`. */
  void (*track)(void *ctx, const es_batch *b, uint32_t rec, int64_t ts, int64_t mark, int64_t now_wall);
  /* The input's event time (INT64_MIN: unknown yet). */
  int64_t (*event_time)(void *ctx, int64_t now_wall, int64_t idle_ms);
  /* A barrier batch: everything before it is consumed. */
  void (*drained)(void *ctx, const es_batch *b, int64_t watermark);
  /* Fills its part of the status: ready and why not, partitions, pauses,
   * produced and delivered records. */
  void (*status)(void *ctx, es_sink_status *st);
  /* Regular work (delivery reports, commits); `force` at the end. 0 or
   * ES_E* with diag (outputs not delivered). */
  int (*tick)(void *ctx, int64_t watermark, int64_t now_ms, bool force, es_diag *d);
  void (*destroy)(void *ctx);
};

/* Per-worker counters: one cache line apart so workers never share one.
 * Written by their worker only, read by the aggregator for the live status:
 * relaxed atomics bumped with a plain load and store (ES_BUMP; one writer),
 * so the hot path has no locked instruction. */
typedef struct es_worker_counters {
  _Alignas(64) _Atomic uint64_t lines, accepted, matched, hits;
  _Atomic uint64_t reasons[ES_REASON_COUNT];
  /* sampled stage times (decode, match, score): bucket counts and the sum in ns */
  _Atomic uint64_t stage_bucket[ES_STAGE_AGGREGATE][ES_HIST_BUCKETS], stage_ns[ES_STAGE_AGGREGATE];
  _Atomic int64_t busy_since_ms; /* monotonic ms the current batch began; 0 idle */
} es_worker_counters;
#define ES_BUMP(c, v) \
  atomic_store_explicit(&(c), atomic_load_explicit(&(c), memory_order_relaxed) + (v), memory_order_relaxed)
#define ES_READ(c) atomic_load_explicit(&(c), memory_order_relaxed)

typedef struct es_worker {
  struct es_pipe *p;
  int index;
  pthread_t thread;
  es_decoder *dec;
  es_fold fold;
  const es_queryset *qs; /* the set rt and qbuf were made for */
  es_match_rt *rt;
  es_sentiment_rt *srt;
  const es_triage *tr;   /* the triage of the last batch (hot reload); NULL without triage */
  es_triage_bound *tb;   /* tr's routes bound to qs (NULL without triage) */
  es_situations_rt *sitrt; /* for tr's situations */
  es_situation_hit sh[ES_SITUATIONS_MAX];
  uint32_t *qbuf; /* nqueries: matches of the current mention */
  /* The current mention's subject: its matched queries' own words, which
   * sentiment does not score. */
  const char *subj[ES_SUBJECT_WORDS];
  uint16_t subj_len[ES_SUBJECT_WORDS];
  es_worker_counters c;
} es_worker;

/* What the reload thread published (query sets, triage files), in order:
 * kept until no batch can refer to them (under es_pipe.qs_lock). */
typedef struct es_owned {
  void **v;
  size_t n, cap;
} es_owned;

typedef struct es_pipe {
  const es_config *cfg;
  const es_queryset *qs; /* aggregator: the set its windows and baselines are indexed by */
  const es_lexicon *lex;
  volatile int *stop;
  int nworkers;
  es_ring to_worker[ES_MAX_WORKERS], from_worker[ES_MAX_WORKERS], free_batches;
  es_batch **batches;
  size_t nbatches;
  es_worker *workers;
  /* ingest thread */
  pthread_t ingest;
  int in_fd;
  const char *source; /* input name for dead letters */
  const char *const *topics; /* input topics (ktopic indexes them) */
  bool want_enriched;        /* workers serialise enriched records */
  /* triage (NULL: off): workers find situations and the static route,
   * the aggregator decides crisis, hours and overflow in input order.
   * The aggregator's: the one it adopted last (hot reload). */
  const es_triage *triage;
  bool want_triage;          /* workers serialise triage records' prefixes */
  es_triage_bound *tbound;   /* aggregator: routes bound to p->qs */
  es_triage_state *tstate;   /* aggregator */
  es_buf tbuf;               /* aggregator: the triage record being handed to the sinks */
  /* Triage decisions wait until the watermark passes their event time, so
   * the alert state (crisis) and the hour's count (overflow) they see are
   * those of event time, whatever the batching: a min-heap by (ts, seq),
   * their records' prefixes in pbuf. */
  struct es_pend *pend;
  size_t npend, cappend;
  uint64_t pend_seq;
  es_buf pbuf;
  /* Per crisis override and window size: when (window end, event time) its
   * query's alert opened or resolved, the last ES_CRISIS_HIST of them. */
  struct es_crisis_hist *chist;
  uint64_t sla_events;       /* sla_breach events written */
  const char *sitnames[ES_SITUATIONS_MAX]; /* the triage's situation names (window records) */
  const char *trknames[ES_TRIAGE_MAX_TRACKS]; /* and its track names */
  es_input *input;           /* Kafka input and its outputs; NULL for files */
  uint64_t in_size;   /* bytes, 0 when unknown (a pipe) */
  int ingest_err;
  /* aggregator (calling thread) */
  es_sink **sinks;           /* every output, in call order */
  size_t nsinks, nown_sinks; /* the first nown_sinks are the pipeline's own (from cfg) */
  unsigned sink_wants;       /* ES_SINK_* of any sink */
  es_buf dbuf;               /* late dead letters being formatted */
  es_buf wbuf;               /* the window record being handed to the sinks (formatted once) */
  es_windows *win;
  es_detect_state *det; /* nqueries x nsizes */
  /* exactly-once restart: per query x size, the end of the last window
   * (alert) already on the output topic, INT64_MIN none; NULL when off */
  int64_t *sup_win, *sup_alert;
  uint64_t suppressed; /* windows not published again */
  es_pipeline_stats *st;
  es_hist agg_hist;          /* aggregate stage: time per batch */
  int64_t status_mark_ms;    /* when the sinks last got a status (monotonic) */
  int64_t started_wall_ms;
  es_sink_status *status;    /* the status being assembled (sinks want it) */
  uint64_t consumed; /* lines consumed, for the progress bar */
  int64_t log_mark_ms;       /* Kafka progress log: last line's time and count */
  int64_t first_batch_ms, last_batch_ms; /* when records started and stopped flowing */
  uint64_t log_mark_lines;
  int64_t started_ms, last_progress_ms;
  int64_t early_mark_ms;     /* when the last early updates were written (monotonic) */
  bool progress_tty, stopped_early;
  int io_err;
  es_diag *diag;
  /* hot reload (reload.c): the reload thread publishes sets in qs_live and
   * keeps them in qs_owned; the aggregator adopts and frees them */
  _Atomic(const es_queryset *) qs_live;
  pthread_mutex_t qs_lock;
  es_owned qs_owned;
  struct reloader *reloader;
  pthread_t reload_thread;
  _Atomic uint64_t reloads, reload_failures;
  uint64_t adopted;
  /* triage hot reload: the same, for the triage file (under qs_lock) */
  _Atomic(const es_triage *) tr_live;
  es_owned tr_owned;
  _Atomic uint64_t tr_reloads, tr_reload_failures;
  uint64_t tr_adopted;
} es_pipe;

/* The size of one crisis alert history (aggregate.c). */
size_t es__crisis_hist_size(void);

/* Hot reload of the query file (reload.c). */
int es__reload_start(es_pipe *p);
void es__reload_stop(es_pipe *p);
int es__reload_adopt(es_pipe *p, const es_queryset *next);
/* Triage decisions interleaved with window closes, and query renumbering
 * of the mentions waiting for them (aggregate.c). */
void es__triage_before_close(void *ctx, int64_t end);
void es__triage_remap_queries(es_pipe *p, const int64_t *new_of_old, size_t old_nq);
/* Under qs_lock: frees what was published before `next` (the aggregator
 * adopted it: no batch can refer to those). */
void es__owned_forget_before(es_owned *o, const void *next, void (*destroy)(void *));
/* Aggregator: a batch was read under another triage file; adopt it. */
int es__reload_adopt_triage(es_pipe *p, const es_triage *next);

void *es__worker_main(void *arg);
/* Where record i of a batch came from. */
es_src es__record_src(const es_pipe *p, const es_batch *b, uint32_t i);
/* Appends a dead letter for record i to `out` (b->dlq also records where). */
void es__dead_letter(es_pipe *p, es_batch *b, es_buf *out, uint32_t i, int reason, const char *detail);
void *es__ingest_main(void *arg);
/* Aggregator: consumes batches in order until end of input. */
int es__aggregate(es_pipe *p);
/* The window sink of the run: classify, count and format a closed window. */
void es__pipe_window_sink(void *ctx, const es_window_result *w);
/* Ingest side: takes a free batch (blocking: the backpressure point) and
 * hands a filled one to worker seq mod N, advancing *seq. */
es_batch *es__batch_take(es_pipe *p);
void es__batch_dispatch(es_pipe *p, es_batch *b, uint64_t *seq);
es_batch *es__batch_create(void);
void es__batch_destroy(es_batch *b);
void es__batch_reset(es_batch *b);

#endif
