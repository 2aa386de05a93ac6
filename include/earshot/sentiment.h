/* Sentiment scoring: a lexicon-and-rules scorer of the VADER family.
 *
 * The lexicon (es_lexicon) is immutable once built and shared by all
 * threads; each scoring thread owns an es_sentiment_rt with its token
 * buffers, so scoring allocates nothing once warmed up. Scores follow the
 * published VADER algorithm: valence lexicon, negation in the three
 * preceding tokens, boosters and dampeners, "but" contrast, ALL-CAPS
 * emphasis in mixed-case text, '!' and '?' amplification, and the compound
 * normalisation x / sqrt(x^2 + 15), labelled at +-0.05. */
#ifndef EARSHOT_SENTIMENT_H
#define EARSHOT_SENTIMENT_H

#include <stdbool.h>
#include <stddef.h>

enum es_label { ES_LABEL_NEUTRAL, ES_LABEL_POSITIVE, ES_LABEL_NEGATIVE, ES_LABEL_UNSCORED };
const char *es_label_name(int label); /* "neutral", "positive", "negative", "unscored" */

typedef struct es_sentiment {
  double compound; /* [-1, 1] */
  double pos, neu, neg;
  int label;       /* enum es_label */
} es_sentiment;

typedef struct es_lexicon es_lexicon;
/* The VADER lexicon compiled into the binary (npm vader-sentiment 1.1.3). */
es_lexicon *es_lexicon_create_default(void);
void es_lexicon_destroy(es_lexicon *lex); /* NULL-safe */
size_t es_lexicon_size(const es_lexicon *lex);
/* Valence of a lower-case token; false when absent. */
bool es_lexicon_get(const es_lexicon *lex, const char *tok, size_t n, double *valence);

/* Per-token trace for `earshot score`. */
#define ES_SENTIMENT_MAX_TOKENS 512 /* tokens beyond this are not scored */
typedef struct es_sentiment_token {
  const char *p; /* into the scored text */
  size_t n;
  double lexicon;  /* the lexicon valence, 0 when absent */
  double valence;  /* after all rules */
  char rules[96];  /* rules that fired, comma separated */
} es_sentiment_token;

typedef struct es_sentiment_trace {
  es_sentiment_token tokens[ES_SENTIMENT_MAX_TOKENS];
  size_t ntokens;
  double punct_emphasis;
  bool but_applied, caps_diff;
} es_sentiment_trace;

typedef struct es_sentiment_rt es_sentiment_rt;
es_sentiment_rt *es_sentiment_rt_create(void);
void es_sentiment_rt_destroy(es_sentiment_rt *rt); /* NULL-safe */

/* Scores a UTF-8 text. `trace` may be NULL (the hot path passes NULL). */
void es_sentiment_score(const es_lexicon *lex, es_sentiment_rt *rt, const char *text, size_t n, es_sentiment *out,
                        es_sentiment_trace *trace);
/* Whether a mention's language has a lexicon: English ("en", "en-*") and
 * undetermined ("und", or no lang field). Others are labelled unscored. */
bool es_sentiment_lang_supported(const char *lang, size_t n);

#endif
