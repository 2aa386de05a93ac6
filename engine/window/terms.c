/* A query's term baseline and the terms a window over-represents against
 * it (see include/earshot/window.h). The baseline counts, in mentions, the
 * terms of a sample of the query's mentions in a small set-associative
 * table (64 entries, 2 per set): a term takes the weaker entry of its set
 * only when that entry has counted no more than once, so the usual words
 * stay; when the baseline passes ES_TERMBASE_HALVE mentions, every count
 * and the total are halved, so it follows what the query's mentions are
 * usually about. Entries keep only the term's hash (windows keep texts). */
#include <math.h>
#include <string.h>

#include "earshot/mem.h"
#include "earshot/window.h"

#define ES_TERMBASE_SETS 32
#define ES_TERMBASE_HALVE 4096.0

typedef struct bentry {
  uint64_t hash; /* 0 = empty */
  float count;
} bentry;

struct es_termbase {
  bentry e[ES_TERMBASE_SETS][2];
  double docs;
};

es_termbase *es_termbase_create(void) { return es_calloc(1, sizeof(es_termbase)); }
void es_termbase_destroy(es_termbase *b) { es_free(b); }

static bentry *set_of(es_termbase *b, uint64_t h) { return b->e[(h >> 40) % ES_TERMBASE_SETS]; }

void es_termbase_add(es_termbase *b, const uint64_t *hashes, int n) {
  b->docs += 1;
  for (int k = 0; k < n; k++) {
    uint64_t h = hashes[k] | 1; /* never 0: 0 marks an empty entry */
    bentry *s = set_of(b, h);
    if (s[0].hash == h) s[0].count += 1;
    else if (s[1].hash == h) s[1].count += 1;
    else {
      bentry *weak = s[0].count <= s[1].count ? &s[0] : &s[1];
      if (!weak->hash || weak->count <= 1) {
        weak->hash = h;
        weak->count = 1;
      }
    }
  }
  if (b->docs > ES_TERMBASE_HALVE) {
    b->docs /= 2;
    for (int i = 0; i < ES_TERMBASE_SETS; i++) {
      b->e[i][0].count /= 2;
      b->e[i][1].count /= 2;
    }
  }
}

int es_terms_hot(const es_termbase *b, const es_window_result *w, es_hot_term *hot, int max) {
  if (!b || b->docs < 50 || w->term_docs < 3) return 0; /* nothing to compare with yet */
  double score[ES_HOT_TERMS] = {0};
  int n = 0;
  for (int k = 0; k < w->nterms; k++) {
    const es_term *t = &w->terms[k];
    uint32_t g = t->count - t->err;
    if (g < 3) continue;
    uint64_t h = t->hash | 1;
    const bentry *s = b->e[(h >> 40) % ES_TERMBASE_SETS];
    double base;
    if (s[0].hash == h) base = s[0].count;
    else if (s[1].hash == h) base = s[1].count;
    else if (s[0].hash && s[1].hash) base = fmin(s[0].count, s[1].count); /* a full set: it may have been as usual as the weaker */
    else base = 0; /* not among the usual words */
    if (base < 0.5) base = 0.5;
    double lift = ((double)g / (double)w->term_docs) / (base / b->docs);
    if (lift < 2) continue;
    double sc = (double)g * log(lift);
    int at = n < max ? n : max;
    while (at > 0 && (sc > score[at - 1] || (sc == score[at - 1] && strcmp(t->text, hot[at - 1].text) < 0)))
      at--; /* equal scores in word order, whatever order the counters are in */
    if (at >= max) continue;
    int last = n < max ? n : max - 1;
    for (int i = last; i > at; i--) {
      hot[i] = hot[i - 1];
      score[i] = score[i - 1];
    }
    memcpy(hot[at].text, t->text, sizeof hot[at].text);
    hot[at].count = g;
    hot[at].lift = lift;
    score[at] = sc;
    if (n < max) n++;
  }
  return n;
}
