/* A batch: the unit that travels between the pipeline threads.
 *
 * The ingest thread fills `data` with whole input lines; a worker decodes,
 * matches and scores them into `res`/`hits` and serialises dead letters and
 * enriched records into `dlq`/`enriched`; the aggregator consumes the
 * results in batch order and returns the batch to the free ring. Batches are
 * allocated once and reused, so the pipeline's memory is bounded by the
 * number of batches whatever the input rate. */
#ifndef EARSHOT_BATCH_INTERNAL_H
#define EARSHOT_BATCH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/mem.h"
#include "earshot/mention.h"

#define ES_BATCH_BYTES (1u << 20)    /* input bytes per batch */
#define ES_BATCH_MAX_LINES 4096      /* lines per batch */
#define ES_RECORD_MAX (ES_BATCH_BYTES - ES_DECODE_PADDING - 1) /* longer records are cut (record_too_long) */
#define ES_TOO_LONG_KEEP 4096        /* bytes of a too-long record kept for its dead letter */

/* Result of one line. */
typedef struct es_line_res {
  int64_t ts_ms;
  uint64_t author_hash, followers;
  uint64_t content_hash; /* es_content_hash of the text (matched mentions) */
  uint64_t simhash;      /* its SimHash (matched mentions) */
  const char *author; /* copied into the batch arena when the mention matched */
  uint32_t author_len;
  const char *id;     /* the mention id, copied like the author; NULL when absent */
  uint32_t id_len;
  const char *terms;  /* es_content_terms of the text, copied like the author */
  uint32_t terms_len;
  uint32_t hit_off, nhits; /* into batch->hits */
  float compound;
  /* triage (when the run has a triage file): situations (mask), the
   * worker's part of the route (es_triage_pre), and its triage record's
   * prefix: index + 1 into trm (0: none) */
  uint32_t situations, crisis;
  int32_t route;
  uint32_t tri;
  uint8_t label;
  uint8_t response;   /* a response (in_reply_to): id holds the answered mention's id; not a mention */
  uint8_t reason;     /* ES_REASON_NONE when accepted (possibly repaired) */
} es_line_res;

/* A record written by a worker into dlq or enriched, located in that buffer
 * so a Kafka sink can send records one by one. */
typedef struct es_rec_meta {
  uint32_t rec;         /* index of the input record in the batch */
  uint32_t off, len;    /* the JSON record in b->dlq or b->enriched */
  uint8_t reason;       /* dead letters */
  const char *detail;   /* dead letters; in the batch arena */
  const char *key;      /* enriched: the mention id; in the batch arena */
  uint32_t key_len;
} es_rec_meta;

typedef struct es_batch {
  uint64_t seq;
  bool eof;              /* no lines: marks the end of the input */
  bool barrier;          /* no lines: Kafka drain request (partitions being revoked) */
  const struct es_queryset *qs; /* the query set live when the batch was dispatched */
  const struct es_triage *tr;   /* the triage live then (NULL: no triage) */
  int64_t restore_wm;    /* Kafka: watermark committed by an earlier run, INT64_MIN none */
  char *data;
  size_t len;
  uint32_t nlines;
  uint32_t off[ES_BATCH_MAX_LINES], len_[ES_BATCH_MAX_LINES];
  uint64_t line_no[ES_BATCH_MAX_LINES]; /* file: 1-based line; Kafka: offset */
  int32_t kpart[ES_BATCH_MAX_LINES];     /* Kafka partition, -1 for files */
  uint16_t ktopic[ES_BATCH_MAX_LINES];   /* index into the pipeline's input topics */
  int64_t kts[ES_BATCH_MAX_LINES];       /* Kafka message timestamp, INT64_MIN if none */
  uint8_t too_long[ES_BATCH_MAX_LINES];
  es_line_res res[ES_BATCH_MAX_LINES];
  uint32_t *hits;
  uint32_t nhits, cap_hits;
  es_arena arena;
  es_buf dlq, enriched, triage;
  es_rec_meta *dlqm, *enrm, *trm; /* trm: a triage record's start (why: the route's reason, in detail) */
  uint32_t ndlq, cap_dlq, nenr, cap_enr, ntr, cap_tr;
} es_batch;

#endif
