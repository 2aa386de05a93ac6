/* Sinks: everything the aggregator emits goes through this one interface.
 *
 * A pipeline run is given a list of sinks (the window file or stdout as
 * JSON lines or the pretty terminal view, the alerts, enriched and
 * dead-letter files, the Kafka producer, the live views of the HTTP
 * server) and calls each, in list order, for every record:
 *   - window:   a closed window with its detection (its alert event, when
 *               the detection opened, updated or resolved one, is the same
 *               record: a sink that wants alerts takes those), or an early
 *               update of an open window (`d` NULL);
 *   - enriched: a matched mention with its queries and sentiment;
 *   - triage:   a matched mention with its situations and route (the run
 *               has a triage file), keyed by its track;
 *   - sla:      a track's time-to-respond alert (sla_breach) event;
 *   - dead:     a record that could not be used, with why and where from;
 *   - flush:    the stream went quiet or early updates were written: push
 *               out what is buffered;
 *   - status:   the run's counters and health, at most every
 *               ES_STATUS_PERIOD_MS and once at the end (live views,
 *               metrics);
 *   - finish:   the end of the run.
 * The aggregator knows none of them. All calls come from the aggregator
 * thread, one at a time; a sink that serves other threads (a live view)
 * synchronises inside. A sink never fails the pipeline mid-run: it keeps its
 * first error (es_sink_fail) and the run reports it at the end. */
#ifndef EARSHOT_SINK_H
#define EARSHOT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "earshot/detect.h"
#include "earshot/error.h"
#include "earshot/output.h"
#include "earshot/query.h"
#include "earshot/window.h"

/* The records a sink takes (es_sink.wants). */
enum {
  ES_SINK_WINDOWS = 1u << 0,  /* closed windows */
  ES_SINK_EARLY = 1u << 1,    /* early updates of open windows */
  ES_SINK_ENRICHED = 1u << 2, /* enriched mentions (the workers serialise them only when some sink takes them) */
  ES_SINK_DEAD = 1u << 3,     /* dead letters */
  ES_SINK_TRIAGE = 1u << 4,   /* triage records (routed or ignored mentions; the run needs a triage file) */
  ES_SINK_SLA = 1u << 5,      /* time-to-respond alerts (sla_breach) of the triage tracks */
};

typedef struct es_sink_window {
  const es_query *q;
  const es_window_result *w;
  const es_detect_result *d;  /* NULL: an early update of an open window (no detection yet) */
  const es_detect_state *st;  /* the detector state after the window (closed windows) */
  bool alert_published;       /* exactly-once restart: its alert record is already on the output */
  es_buf *json;               /* its record as a JSON line, formatted once for every sink (es_sink_window_json); may be NULL */
} es_sink_window;

/* The window's record as a JSON line (with '\n'), formatted once per window
 * whatever the number of sinks that write it: into e->json on the first
 * call, when the pipeline gave one; otherwise into `scratch`. */
const es_buf *es_sink_window_json(const es_sink_window *e, es_buf *scratch);

typedef struct es_sink_dead {
  int reason;                 /* enum es_reason */
  const char *detail;
  es_src src;                 /* where the record came from */
  const char *input;          /* the record as read (may be invalid UTF-8) */
  size_t input_len;
  const char *json;           /* the dead-letter record as a JSON line (with '\n') */
  size_t json_len;
} es_sink_dead;

/* Latency histograms: fixed buckets, upper bounds in seconds (the last is
 * +Inf). From 1 us (a short mention's decode) to 1 s (a stalled batch). */
#define ES_HIST_BUCKETS 14
extern const double es_hist_bounds[ES_HIST_BUCKETS - 1];
typedef struct es_hist {
  uint64_t bucket[ES_HIST_BUCKETS]; /* not cumulative */
  uint64_t count;
  double sum; /* seconds */
} es_hist;
/* The bucket of a duration in nanoseconds. */
int es_hist_bucket(uint64_t ns);

/* Stages timed: decode, match and score per mention (one mention in
 * ES_STAGE_SAMPLE is timed, so the hot path reads the clock rarely),
 * aggregate per batch. */
enum es_stage { ES_STAGE_DECODE, ES_STAGE_MATCH, ES_STAGE_SCORE, ES_STAGE_AGGREGATE, ES_STAGE_COUNT };
#define ES_STAGE_SAMPLE 64
const char *es_stage_name(int stage);

#define ES_STATUS_PERIOD_MS 200
#define ES_STATUS_MAX_PARTS 256
typedef struct es_part_status {
  char topic[96];
  int32_t partition;
  int64_t position;  /* next offset to read, -1 unknown */
  int64_t committed; /* next offset committed, -1 none */
  int64_t end;       /* the partition's end (high watermark) as last fetched, -1 unknown */
  int64_t lag;       /* end less the consumer's position (or committed offset), -1 unknown */
} es_part_status;

/* A run's counters and health, as of `now_ms`. Counters are totals since
 * the run started. */
typedef struct es_sink_status {
  int64_t now_ms, started_ms;           /* wall clock */
  int64_t watermark;                    /* event time up to which windows are closed; INT64_MIN none */
  uint64_t lines, accepted, matched, hits;
  uint64_t reasons[ES_REASON_COUNT];    /* dead letters by reason */
  uint64_t windows, classes[ES_CLASS_COUNT], thresholds, early_updates;
  uint64_t alerts_opened, alerts_resolved;
  es_hist stage[ES_STAGE_COUNT];
  uint32_t batches, batches_busy;       /* the batch pool and how many are in flight */
  uint64_t queries, query_reloads, query_reload_failures, query_sets_adopted;
  uint64_t triage_reloads, triage_reload_failures; /* triage file reloads (with a triage file) */
  int64_t stalled_ms;                   /* longest a worker has been on one batch (0: idle) */
  bool finished;                        /* the run is over (the last status) */
  /* The input. */
  const char *input;                    /* "kafka", a file name or "stdin" */
  bool ready;                           /* it can deliver: Kafka group joined and partitions assigned */
  char not_ready[160];                  /* why not */
  uint64_t input_pauses;                /* backpressure pauses */
  uint64_t produced, delivered, produce_errors;
  int nparts;
  es_part_status parts[ES_STATUS_MAX_PARTS];
} es_sink_status;

typedef struct es_sink es_sink;
typedef struct es_sink_ops {
  void (*window)(es_sink *s, const es_sink_window *e);
  void (*enriched)(es_sink *s, const char *key, size_t key_len, const char *json, size_t json_len);
  void (*dead)(es_sink *s, const es_sink_dead *e);
  /* key: the track, or "ignore" for a mention a route says not to answer */
  void (*triage)(es_sink *s, const char *key, size_t key_len, const char *json, size_t json_len);
  /* an sla_breach alert event of a track (key: the track) */
  void (*sla)(es_sink *s, const char *key, size_t key_len, const char *json, size_t json_len);
  void (*flush)(es_sink *s);
  void (*status)(es_sink *s, const es_sink_status *st); /* NULL: not wanted */
  void (*finish)(es_sink *s);       /* end of the run: write out and close what it opened */
  void (*destroy)(es_sink *s);      /* frees it (after finish, or instead of it) */
} es_sink_ops;

/* Implementations put this first in their own struct. */
struct es_sink {
  const es_sink_ops *ops;
  const char *name;                 /* for messages: "the window output" */
  unsigned wants;                   /* ES_SINK_* */
  int err;                          /* first failure (ES_E*), 0 none */
  es_diag diag;                     /* its message */
};

/* Records a failure unless one is recorded already. Returns `err`. */
int es_sink_fail(es_sink *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void es_sink_destroy(es_sink *s); /* NULL-safe */

/* File sinks (engine/output/sink_file.c). `path` "-" is stdout (never
 * closed). NULL with diag when the file cannot be opened. */
/* Window records as JSON lines, closed and (when `early`) early ones,
 * written in 1 MiB chunks. */
es_sink *es_sink_json_create(const char *path, bool early, es_diag *d);
/* The terminal view: one line per window period with every query's volume,
 * a detail line for each alert event. */
es_sink *es_sink_pretty_create(const char *path, es_diag *d);
/* Alert events only (windows whose detection opened, updated or resolved an
 * alert), as window records. */
es_sink *es_sink_alerts_create(const char *path, es_diag *d);
/* Enriched mentions as JSON lines. */
es_sink *es_sink_enriched_create(const char *path, es_diag *d);
/* Triage records as JSON lines. */
es_sink *es_sink_triage_create(const char *path, es_diag *d);
/* Dead letters as JSON lines; the file is created with the first one. */
es_sink *es_sink_dead_create(const char *path, es_diag *d);

#endif
