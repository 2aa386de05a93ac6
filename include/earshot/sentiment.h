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
#include <stdint.h>

#include "earshot/error.h"

enum es_label { ES_LABEL_NEUTRAL, ES_LABEL_POSITIVE, ES_LABEL_NEGATIVE, ES_LABEL_UNSCORED };
const char *es_label_name(int label); /* "neutral", "positive", "negative", "unscored" */

typedef struct es_sentiment {
  double compound; /* [-1, 1] */
  double pos, neu, neg;
  int label;       /* enum es_label */
} es_sentiment;

typedef struct es_lexicon es_lexicon;

/* Which lexicons to load (models/sentiment/README.md). A language is scored
 * when some chosen lexicon layer is written for it; the rules file of the
 * language is always loaded. */
#define ES_SENTIMENT_MAX_LAYERS 8
typedef struct es_sentiment_opts {
  const char *layers[ES_SENTIMENT_MAX_LAYERS]; /* layer names; none = every built-in layer */
  int nlayers;
  const char *files[ES_SENTIMENT_MAX_LAYERS];  /* further layer or rules files, loaded after */
  int nfiles;
  const char *default_lang; /* for mentions with no lang or "und"; NULL = "en" */
} es_sentiment_opts;

/* Builds the tables from the embedded data files (and opts->files). NULL
 * opts = the defaults. On error returns NULL with d set (file:line). */
es_lexicon *es_lexicon_create(const es_sentiment_opts *opts, es_diag *d);
es_lexicon *es_lexicon_create_default(void);
void es_lexicon_destroy(es_lexicon *lex); /* NULL-safe */
/* Single-word valence entries of the default language. */
size_t es_lexicon_size(const es_lexicon *lex);
/* "en (vader, emoji, care: 7,603 words, 60 phrases)"; languages separated by "; ". */
void es_lexicon_describe(const es_lexicon *lex, char *buf, size_t n);
/* The names of the built-in layers, for messages ("vader, emoji, care"). */
void es_lexicon_layer_names(char *buf, size_t n);
/* Valence of a lower-case token in the default language; false when absent. */
bool es_lexicon_get(const es_lexicon *lex, const char *tok, size_t n, double *valence);
/* Whether mentions in `lang` are scored: a table exists for its primary
 * subtag ("en-GB" -> "en"); no lang or "und" means the default language. */
bool es_lexicon_has_lang(const es_lexicon *lex, const char *lang, size_t n);

/* Per-token trace for `earshot score`. */
#define ES_SENTIMENT_MAX_TOKENS 512 /* tokens beyond this are not scored */
typedef struct es_sentiment_token {
  const char *p; /* into the scored text */
  size_t n;
  double lexicon;  /* the lexicon valence, 0 when absent */
  double valence;  /* after all rules */
  char rules[112]; /* rules that fired, comma separated */
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
/* The subject of the texts scored next with `rt`: words (lower case, as a
 * query set folds them) that are not scored, because they name what the
 * mention is about (a matched query's own terms: "United", "Delta" are
 * names, not praise). The arrays are not copied and must outlive the
 * scoring; n = 0 clears it. */
void es_sentiment_rt_set_subject(es_sentiment_rt *rt, const char *const *words, const uint16_t *lens, size_t n);

/* Scores a UTF-8 text in the default language. `trace` may be NULL (the
 * hot path passes NULL). */
void es_sentiment_score(const es_lexicon *lex, es_sentiment_rt *rt, const char *text, size_t n, es_sentiment *out,
                        es_sentiment_trace *trace);
/* Scores a text in `lang` (see es_lexicon_has_lang); a language without a
 * table gives label ES_LABEL_UNSCORED and zero scores. */
void es_sentiment_score_lang(const es_lexicon *lex, const char *lang, size_t ln, es_sentiment_rt *rt,
                             const char *text, size_t n, es_sentiment *out, es_sentiment_trace *trace);

#endif
