/* libFuzzer target: arbitrary bytes (any UTF-8, invalid sequences, control
 * characters) through the sentiment scorer with the default lexicon and the
 * per-token trace. The compound stays in [-1, 1] and the proportions sum to
 * 1 (or are 0 for a text without tokens). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "earshot/sentiment.h"

static es_lexicon *lex;
static es_sentiment_rt *rt;
static es_sentiment_trace trace;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  lex = es_lexicon_create_default();
  rt = es_sentiment_rt_create();
  return lex && rt ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  es_sentiment s;
  es_sentiment_score(lex, rt, (const char *)data, n, &s, n & 1 ? &trace : NULL);
  if (!(s.compound >= -1 && s.compound <= 1)) abort();
  double sum = s.pos + s.neu + s.neg;
  if (sum != 0 && fabs(sum - 1) > 1e-6) abort();
  return 0;
}
