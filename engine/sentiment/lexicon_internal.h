/* The generated lexicon table (build/lexicon/vader_lexicon.c, made by
 * models/fetch-lexicon.sh) and the lexicon hash table. */
#ifndef EARSHOT_LEXICON_INTERNAL_H
#define EARSHOT_LEXICON_INTERNAL_H

typedef struct es_lexicon_entry {
  const char *token;
  double valence;
} es_lexicon_entry;

extern const es_lexicon_entry es__vader_lexicon[];
extern const unsigned es__vader_lexicon_count;

#include <stdbool.h>
#include <stddef.h>

#include "earshot/sentiment.h"

/* Constants of the published VADER algorithm (Hutto & Gilbert, 2014). */
#define ES_B_INCR 0.293   /* booster/dampener step */
#define ES_C_INCR 0.733   /* ALL-CAPS emphasis */
#define ES_N_SCALAR -0.74 /* negation factor */

#include <stdint.h>

/* Words that rules recognise by identity. */
enum { ES_W_NONE, ES_W_NO, ES_W_BUT, ES_W_KIND, ES_W_OF, ES_W_LEAST, ES_W_AT, ES_W_VERY, ES_W_NEVER, ES_W_SO,
       ES_W_THIS, ES_W_WITHOUT, ES_W_DOUBT, ES_W_OR, ES_W_NOR, ES_W_SORT, ES_W_JUST, ES_W_ENOUGH };

/* Everything the rules need to know about one lower-case token. */
typedef struct es_word_info {
  float valence;   /* lexicon valence (when in_lex) */
  float booster;   /* +0.293 booster, -0.293 dampener, 0 neither */
  bool in_lex;
  bool negation;
  uint8_t special; /* ES_W_* */
} es_word_info;

/* The facts about a lower-case token, or NULL when the table has none. */
const es_word_info *es__lexicon_word(const es_lexicon *lex, const char *tok, size_t n);

#endif
