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
  const char *author; /* copied into the batch arena when the mention matched */
  uint32_t author_len;
  uint32_t hit_off, nhits; /* into batch->hits */
  float compound;
  uint8_t label;
  uint8_t reason;     /* ES_REASON_NONE when accepted (possibly repaired) */
} es_line_res;

typedef struct es_batch {
  uint64_t seq;
  bool eof;              /* no lines: marks the end of the input */
  char *data;
  size_t len;
  uint32_t nlines;
  uint32_t off[ES_BATCH_MAX_LINES], len_[ES_BATCH_MAX_LINES];
  uint64_t line_no[ES_BATCH_MAX_LINES];
  uint8_t too_long[ES_BATCH_MAX_LINES];
  es_line_res res[ES_BATCH_MAX_LINES];
  uint32_t *hits;
  uint32_t nhits, cap_hits;
  es_arena arena;
  es_buf dlq, enriched;
} es_batch;

#endif
