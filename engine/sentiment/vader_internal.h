/* Inside the scorer: the tokens and the per-thread runtime that vader.c
 * (the published algorithm) and care.c (the customer-care rules) share.
 * One thread per runtime. */
#ifndef EARSHOT_VADER_INTERNAL_H
#define EARSHOT_VADER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "earshot/sentiment.h"
#include "lexicon_internal.h"

enum { TK_WORD, TK_EMOJI, TK_HANDLE, TK_PHRASE };

#define ES_CARE_DUR_MAX 16 /* units of time a text's waiting is looked for after */

typedef struct tok {
  const char *p;  /* original text */
  const char *lo; /* case-folded key */
  uint16_t n, ln;
  uint8_t kind;   /* TK_* */
  bool upper;     /* Python's str.isupper(): has cased letters, none lower */
  bool negation;  /* a negation word, or contains a negation infix ("n't") */
  bool elongated; /* found after shortening letter runs */
  bool punct;     /* may have ASCII punctuation (a negation infix needs one) */
  /* The word's facts (valence, booster, roles, id): never NULL; an
   * all-zero entry for words the tables do not have. */
  const es_word_info *wi;
} tok;

/* Texts up to this many bytes are tokenized from bitmaps (tokenize). */
#define FAST_MAX 32768
#define MASK_WORDS (FAST_MAX / 64 + 1)

struct es_sentiment_rt {
  tok toks[ES_SENTIMENT_MAX_TOKENS];
  /* One bit per text byte: ASCII space, non-ASCII, upper-case letter,
   * lower-case letter, ASCII punctuation. */
  uint64_t ws[MASK_WORDS], hi[MASK_WORDS], up[MASK_WORDS], lc[MASK_WORDS], pu[MASK_WORDS];
  uint64_t hash[ES_SENTIMENT_MAX_TOKENS];       /* the tokens' key hashes */
  uint32_t scored[ES_SENTIMENT_MAX_TOKENS];     /* the sentiment words' indices */
  uint32_t starts[ES_SENTIMENT_MAX_TOKENS];     /* the indices of tokens that may start a phrase */
  es_word_info phrase[ES_SENTIMENT_MAX_TOKENS]; /* the facts of merged phrases */
  char lower[65536 + 8]; /* + 8: every key has 8 readable bytes (es__key_hash_padded) */
  double val[ES_SENTIMENT_MAX_TOKENS];     /* each sentiment word's valence under the rules */
  uint32_t dur[ES_CARE_DUR_MAX];           /* tokens with the duration role */
  const char *const *subj; /* words not scored: the subject (es_sentiment_rt_set_subject) */
  const uint16_t *subj_len;
  size_t nsubj;
};

static inline bool es__tok_has(const tok *t, uint32_t role) { return (t->wi->roles & role) != 0; }

/* Appends a rule's name to token i's trace (once); tr may be NULL. */
void es__sent_note(es_sentiment_trace *tr, size_t i, const char *rule);

/* The customer-care rules (care.c) over the scored words' valences in
 * rt->val: returns the valence that waiting and a complaint opener add,
 * and turns ironic praise and a request's words in place. */
double es__care_rules(const es_lang *L, es_sentiment_rt *rt, const tok *w, size_t nt, size_t nscored, size_t ndur,
                      const char *text, size_t n, es_sentiment_trace *tr);

#endif
