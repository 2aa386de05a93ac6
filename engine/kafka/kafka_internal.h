/* Kafka input and outputs of `earshot run`: a consumer-group ingest thread
 * that fills pipeline batches from the input topics, an idempotent producer
 * for windows, alerts, enriched mentions and dead letters, and the offset
 * tracking that commits an input offset only once every window containing
 * the mentions before it has been acknowledged by the broker.
 *
 * Threads: es__kafka_ingest is the pipeline's ingest thread (it also
 * runs the rebalance callback); every other function is called by the
 * aggregator thread only. The pipeline sees all of it through one es_input
 * and its sink (input.c); it does not include this header. */
#ifndef EARSHOT_KAFKA_INTERNAL_H
#define EARSHOT_KAFKA_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../pipeline/pipeline_internal.h"
#include "earshot/detect.h"
#include "earshot/sink.h"

/* Offsets of one input partition awaiting commit: runs of consecutive
 * offsets with the same running maximum of "done when the watermark
 * reaches" marks; a prefix whose mark is <= the watermark is committable. */
typedef struct es_kafka_run {
  int64_t last_offset, mark;
} es_kafka_run;

typedef struct es_kafka_part {
  int topic;
  int32_t partition;
  es_kafka_run *runs;
  size_t head, n, cap;   /* ring of runs */
  int64_t runmax;
  int64_t committed;     /* next offset last committed, -1 none */
  int64_t sent;          /* next offset in the last commit request, -1 none */
  int64_t max_ts;        /* largest event time read from the partition */
  int64_t last_wall;     /* wall clock (ms) of its last record, or of its assignment */
  bool assigned;         /* held by this process now */
  int64_t end;           /* offset at which the consumer last reached its end, -1 never */
  int64_t next;          /* offset after the last record consumed, -1 none */
} es_kafka_part;

/* What the statistics of one client said last (stats.c). */
typedef struct es_kafka_stats {
  bool seen;             /* statistics received at least once */
  int brokers_up;        /* brokers (not the bootstrap ones) in state UP */
  char group_state[24];  /* consumer: cgrp.state ("up" when joined) */
  char join_state[24];   /* consumer: cgrp.join_state ("steady" when settled) */
  int assigned;          /* consumer: cgrp.assignment_size */
  int nparts;
  es_part_status parts[ES_STATUS_MAX_PARTS]; /* consumer: its partitions, lag included */
} es_kafka_stats;

typedef struct es_kafka_tp {
  int topic;
  int32_t partition;
  int64_t end; /* offset at which the consumer last reached its end, -1 never */
} es_kafka_tp;

typedef struct es_kafka {
  const es_kafka_config *kc;
  rd_kafka_t *consumer, *producer;
  rd_kafka_queue_t *queue;
  /* delivery reports (served by rd_kafka_poll on the aggregator thread) */
  uint64_t produced, delivered, failed, failed_reported;
  /* commit tracking (aggregator) */
  es_kafka_part *parts;
  size_t nparts, capparts;
  int64_t last_commit_ms;
  int64_t sent_wm; /* watermark of the last commit request */
  int64_t kc_idle_ms; /* windows.idle_flush */
  int64_t wake_wall;  /* wall clock when a silent partition last received a record */
  uint64_t commits;
  /* restore: the watermark stored with the committed offsets; set by the
   * rebalance callback (ingest thread), handed to the aggregator in the
   * next batch */
  int64_t pending_restore;
  /* set by the commit callback (ingest thread) when a commit failed: the
   * next commit repeats every position, not only those that moved */
  _Atomic bool commit_failed;
  /* the current assignment, written by the rebalance callback (ingest
   * thread) under `lock`; the aggregator copies it when `epoch` moved, so a
   * partition assigned but not yet read holds event time back */
  pthread_mutex_t lock;
  es_kafka_tp *own;
  size_t nown, capown;
  _Atomic uint64_t epoch;
  uint64_t seen_epoch; /* aggregator */
  /* ingest thread: the batch being filled and the next sequence number,
   * here so the rebalance callback can hand them on; `draining` while the
   * pipeline runs (a revocation then waits for the drain) */
  struct es_pipe *p;
  es_batch *cur;
  uint64_t seq;
  bool draining;
  _Atomic uint64_t pauses; /* backpressure pauses of the input */
  /* librdkafka statistics (stats.c): the consumer's, parsed on the ingest
   * thread, the producer's on the aggregator thread; under `lock` */
  es_kafka_stats cstats, pstats;
  /* drain: the aggregator reports the last barrier it committed behind */
  pthread_cond_t drained_cv;
  uint64_t drained; /* under lock: barrier seq + 1 */
} es_kafka;

/* Exactly-once restart (resume.c), before consuming: reads the windows and
 * alerts topics from their first retained record to their end and fills
 * p->sup_win / p->sup_alert (per query and window size, the end of the last
 * window published there) and p->det (the detector state after that
 * window); re-sends alerts whose window was published but whose alert
 * record was not. 0, or ES_EIO with diag when a topic cannot be read. */
int es__kafka_resume(es_kafka *k, es_pipe *p, es_diag *d);

/* Crash points for the fault tests: include/earshot/crash.h. */

/* The statistics callback of both clients (stats.c): parses librdkafka's
 * JSON into k->cstats or k->pstats. */
int es__kafka_on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque);
/* Fills the Kafka part of a status: ready or why not, partitions and lag,
 * pauses, produced, delivered and failed records (aggregator thread). */
void es__kafka_status(es_kafka *k, es_sink_status *st);

/* Creates the consumer (subscribed) and producer. NULL with diag on error. */
es_kafka *es__kafka_create(const es_config *cfg, es_diag *d);
void es__kafka_destroy(es_kafka *k); /* closes the consumer cleanly; NULL-safe */
/* The ingest thread of pipeline p. */
void *es__kafka_ingest(es_kafka *k, es_pipe *p);

/* Outputs (aggregator thread). */
#define ES_HDR_WINDOW "earshot.window" /* "SIZE_MS END_MS ALERT(0|1)" */
#define ES_HDR_STATE "earshot.state"   /* detector state after the window, hex floats */
/* A closed window: to the windows topic, and to the alerts topic when
 * `alert`; `is_alert` says whether it is an alert at all (a header of the
 * window record, so a restart can re-send a lost alert). */
void es__kafka_window(es_kafka *k, const es_query *q, const es_window_result *w, const es_detect_state *st,
                      const char *json, size_t n, bool alert, bool is_alert);
void es__kafka_window_header(rd_kafka_headers_t *h, int64_t size_ms, int64_t end_ms, bool alert);
rd_kafka_headers_t *es__kafka_schema(const char *name);
/* Produces one record (headers owned by it), waiting while the queue is full. */
void es__kafka_produce(es_kafka *k, const char *topic, const char *key, size_t kn, const char *val, size_t vn,
                       rd_kafka_headers_t *hdrs);
void es__kafka_dead(es_kafka *k, const es_sink_dead *e);
/* An early update of an open window, to the windows topic (keyed by query
 * id, schema earshot.window.early.v1). */
void es__kafka_early(es_kafka *k, const es_query *q, const char *json, size_t n);
void es__kafka_enriched(es_kafka *k, const char *key, size_t kn, const char *json, size_t n);
/* A triage record, keyed by its track ("ignore" for a mention not to answer). */
void es__kafka_triage(es_kafka *k, const char *key, size_t kn, const char *json, size_t n);
/* An sla_breach event on the alerts topic, keyed by its track. */
void es__kafka_sla(es_kafka *k, const char *key, size_t kn, const char *json, size_t n);
/* Records that input record `rec` (event time ts, INT64_MIN when rejected)
 * is done once the watermark reaches `mark`. */
void es__kafka_track(es_kafka *k, const es_batch *b, uint32_t rec, int64_t ts, int64_t mark, int64_t now_wall);
/* Event time of the input: the smallest of the assigned partitions' largest
 * event times, ignoring partitions silent for `idle_ms` (a quiet partition
 * must not hold every window open) except for ES_KAFKA_WAKE_GRACE_MS after
 * a silent partition woke up (the others may wake up with older mentions
 * in the next fetch), and empty partitions read to their end; when all are
 * quiet, the largest event time read. INT64_MIN while an assigned
 * partition has delivered nothing yet (less than idle_ms since its
 * assignment): it may hold older mentions, which must not arrive late. */
#define ES_KAFKA_WAKE_GRACE_MS 1000
/* How long a regular commit waits for the producer's outstanding records. */
#define ES_KAFKA_FLUSH_WAIT_MS 5000
int64_t es__kafka_event_time(const es_kafka *k, int64_t now_wall, int64_t idle_ms);
/* Aggregator, on a barrier batch: everything before it is consumed; commits
 * what is committable now (synchronously) and wakes the waiting rebalance
 * callback. */
void es__kafka_drained(es_kafka *k, const es_batch *b, int64_t watermark);
/* Takes over assignment changes made by the rebalance callback; called
 * before each batch, so partitions are known before their first record. */
void es__kafka_sync_assignment(es_kafka *k, int64_t now_wall);
/* Serves delivery reports; commits delivered work every commit interval
 * (or now when `force`). `watermark`: all windows ending at or before it
 * have been emitted. Returns 0 or ES_EIO when delivery failed. */
int es__kafka_tick(es_kafka *k, int64_t watermark, int64_t now_ms, bool force);

#endif
