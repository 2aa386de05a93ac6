/* The lexicon: an open-addressing hash table from lower-case token to
 * valence, built once from the generated VADER table and then read-only, so
 * all worker threads share it without synchronisation. Later duplicates in
 * the source win, as in the reference implementation. */
#include <string.h>

#include "earshot/hash.h"
#include "earshot/mem.h"
#include "earshot/sentiment.h"
#include "lexicon_internal.h"

/* One table for every per-token fact the rules need, so scoring does one
 * lookup per token. */
typedef struct slot {
  const char *tok; /* NULL = empty */
  uint32_t len;
  es_word_info info;
} slot;

typedef struct wordtab {
  slot *slots;
  size_t mask, n;
} wordtab;

struct es_lexicon {
  wordtab words;
  size_t nvalence;
};

/* Degree adverbs of the published algorithm: boosters add B_INCR (0.293)
 * to the magnitude of the word they precede, dampeners subtract it. */
static const char *const boosters[] = {
  "absolutely", "amazingly", "awfully", "completely", "considerable", "considerably", "decidedly", "deeply",
  "effing", "enormous", "enormously", "entirely", "especially", "exceptional", "exceptionally", "extreme",
  "extremely", "fabulously", "flipping", "flippin", "frackin", "fracking", "fricking", "frickin", "frigging",
  "friggin", "fully", "fuckin", "fucking", "fuggin", "fugging", "greatly", "hella", "highly", "hugely",
  "incredible", "incredibly", "intensely", "major", "majorly", "more", "most", "particularly", "purely", "quite",
  "really", "remarkably", "so", "substantially", "thoroughly", "total", "totally", "tremendous", "tremendously",
  "uber", "unbelievably", "unusually", "utter", "utterly", "very", NULL};
static const char *const dampeners[] = {
  "almost", "barely", "hardly", "kind of", "kinda", "kindof", "kind-of", "less", "little", "marginal",
  "marginally", "occasional", "occasionally", "partly", "scarce", "scarcely", "slight", "slightly", "somewhat",
  "sort of", "sorta", "sortof", "sort-of", NULL};
/* Negations of the published algorithm (any token containing "n't" is a
 * negation too; the scorer checks that separately). */
static const char *const negations[] = {
  "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "ain't", "aren't", "can't",
  "couldn't", "daren't", "didn't", "doesn't", "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt",
  "neither", "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't", "neednt", "needn't",
  "never", "none", "nope", "nor", "not", "nothing", "nowhere", "oughtnt", "shant", "shouldnt", "uhuh", "wasnt",
  "werent", "oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't", "without", "wont", "wouldnt",
  "won't", "wouldn't", "rarely", "seldom", "despite", NULL};

static slot *find(const wordtab *t, const char *tok, size_t n) {
  size_t h = es_hash_bytes(tok, n) & t->mask;
  for (;; h = (h + 1) & t->mask) {
    slot *s = &t->slots[h];
    if (!s->tok || (s->len == n && !memcmp(s->tok, tok, n))) return s;
  }
}

static size_t count(const char *const *list) {
  size_t n = 0;
  while (list[n]) n++;
  return n;
}

static slot *put(wordtab *t, const char *tok) {
  size_t n = strlen(tok);
  slot *s = find(t, tok, n);
  if (!s->tok) {
    t->n++;
    s->tok = tok;
    s->len = (uint32_t)n;
  }
  return s;
}

/* Words some rule tests by identity ("but", "no", "never so" ...). */
static const struct {
  const char *word;
  int id;
} specials[] = {
  {"no", ES_W_NO},       {"but", ES_W_BUT},     {"kind", ES_W_KIND},   {"of", ES_W_OF},
  {"least", ES_W_LEAST}, {"at", ES_W_AT},       {"very", ES_W_VERY},   {"never", ES_W_NEVER},
  {"so", ES_W_SO},       {"this", ES_W_THIS},   {"without", ES_W_WITHOUT}, {"doubt", ES_W_DOUBT},
  {"or", ES_W_OR},       {"nor", ES_W_NOR},     {"sort", ES_W_SORT},   {"just", ES_W_JUST},
  {"enough", ES_W_ENOUGH},
};

es_lexicon *es_lexicon_create_default(void) {
  es_lexicon *lex = es_calloc(1, sizeof *lex);
  if (!lex) return NULL;
  size_t entries = es__vader_lexicon_count + count(boosters) + count(dampeners) + count(negations) +
                   sizeof specials / sizeof *specials;
  size_t cap = 16;
  while (cap < entries * 3) cap <<= 1; /* load factor <= 1/3: short probes */
  lex->words.slots = es_calloc(cap, sizeof *lex->words.slots);
  if (!lex->words.slots) {
    es_free(lex);
    return NULL;
  }
  lex->words.mask = cap - 1;
  for (unsigned i = 0; i < es__vader_lexicon_count; i++) {
    slot *s = put(&lex->words, es__vader_lexicon[i].token);
    lex->nvalence += !s->info.in_lex;
    s->info.in_lex = true;
    s->info.valence = (float)es__vader_lexicon[i].valence; /* later duplicates win */
  }
  for (size_t i = 0; boosters[i]; i++) put(&lex->words, boosters[i])->info.booster = (float)ES_B_INCR;
  for (size_t i = 0; dampeners[i]; i++) put(&lex->words, dampeners[i])->info.booster = (float)-ES_B_INCR;
  for (size_t i = 0; negations[i]; i++) put(&lex->words, negations[i])->info.negation = true;
  for (size_t i = 0; i < sizeof specials / sizeof *specials; i++)
    put(&lex->words, specials[i].word)->info.special = (uint8_t)specials[i].id;
  return lex;
}

void es_lexicon_destroy(es_lexicon *lex) {
  if (!lex) return;
  es_free(lex->words.slots);
  es_free(lex);
}

size_t es_lexicon_size(const es_lexicon *lex) { return lex->nvalence; }

const es_word_info *es__lexicon_word(const es_lexicon *lex, const char *tok, size_t n) {
  const slot *s = find(&lex->words, tok, n);
  return s->tok ? &s->info : NULL;
}

bool es_lexicon_get(const es_lexicon *lex, const char *tok, size_t n, double *valence) {
  const es_word_info *w = es__lexicon_word(lex, tok, n);
  if (!w || !w->in_lex) return false;
  *valence = w->valence;
  return true;
}
