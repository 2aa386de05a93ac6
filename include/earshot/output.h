/* Output record formats. The JSON shapes are contracts (README, "Output
 * records"): extend, never rename. Pure formatting into a caller's buffer;
 * any thread. */
#ifndef EARSHOT_OUTPUT_H
#define EARSHOT_OUTPUT_H

#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/detect.h"
#include "earshot/mention.h"
#include "earshot/query.h"
#include "earshot/langid.h"
#include "earshot/sentiment.h"
#include "earshot/window.h"

/* One window record as a JSON line (with '\n'). */
void es_output_window_json(es_buf *b, const es_query *q, const es_window_result *w, const es_detect_result *d);
/* The start of a period's summary line: "<start> <size>s" (no newline). */
void es_output_period_pretty(es_buf *b, const es_window_result *w);
/* One human-readable detail line for terminals (with '\n'). */
void es_output_window_pretty(es_buf *b, const es_query *q, const es_window_result *w, const es_detect_result *d);
/* Where a record came from: a file and line, or a topic, partition and
 * offset (partition >= 0). */
typedef struct es_src {
  const char *name;
  int32_t partition;
  uint64_t pos;
} es_src;

/* A dead-letter record: reason, action, detail, position and the original
 * input as a string. `input` may be invalid UTF-8: it is repaired for the
 * JSON string and `input_repaired` says so. */
void es_output_dlq(es_buf *b, int reason, const char *detail, const es_src *src, const char *input, size_t input_len);
/* An enriched mention: the decoded fields, matched query ids and sentiment;
 * with `lid` (may be NULL) naming a language, the identified language of
 * a mention that came without one. */
void es_output_enriched(es_buf *b, const es_mention *m, const char *gen_id, const es_queryset *qs,
                        const uint32_t *queries, size_t nq, const es_sentiment *s, const es_langid *lid);

#endif
