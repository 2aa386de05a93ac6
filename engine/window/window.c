/* Tumbling event-time windows (see include/earshot/window.h).
 *
 * Design: for each window size, the open windows live in a short array
 * sorted by window index (only windows that saw a mention exist, so a jump
 * in event time costs nothing). Each open window has a lazily filled
 * per-query accumulator table and the list of queries it touched. The
 * watermark is the maximum event time seen minus the allowed lateness; on
 * every advance the oldest windows whose end is at or below it are closed,
 * across sizes in order of end time, then size, then query index, so the
 * output order is a pure function of the input order. Accumulators are
 * pooled: steady state does not allocate. Aggregator thread only. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "earshot/error.h"
#include "earshot/mem.h"
#include "earshot/sentiment.h"
#include "earshot/hash.h"
#include "earshot/window.h"
#include "window_internal.h"


typedef struct slot {
  int64_t index;
  acc **accs;        /* per query, NULL until touched */
  uint32_t *touched; /* queries with an accumulator, in first-touch order */
  uint32_t ntouched;
} slot;

typedef struct sizeset {
  int64_t size;
  slot *open;        /* sorted by index */
  size_t nopen, capopen;
  int64_t closed_below; /* windows with index < this are closed */
  int64_t prior_below;  /* windows with index < this were published by an earlier run */
} sizeset;

struct es_windows {
  es_window_opts o;
  size_t nq;
  sizeset sizes[ES_MAX_WINDOW_SIZES];
  slot *free_slots;  /* pool of slot arrays (accs/touched kept allocated) */
  size_t nfree, capfree;
  acc *free_accs;
  es_window_sink sink;
  void *ctx;
  void (*before_close)(void *ctx, int64_t end); /* es_windows_before_close */
  void *before_ctx;
  int64_t max_ts;
  bool any;
  int64_t last_progress_wall;
  int64_t idle_mark; /* effective watermark reached by idle flushes */
  /* Watched (query, size): its windows are emitted even when empty (an
   * open alert must see its quiet windows to resolve). */
  uint8_t *watch[ES_MAX_WINDOW_SIZES];
  size_t nwatch[ES_MAX_WINDOW_SIZES];
  uint32_t *emit_list; /* scratch for close_slot, nq entries */
  uint64_t *terms_after[ES_MAX_WINDOW_SIZES]; /* per query: count terms beyond this many mentions */
  es_termbase **tbase;                        /* per query, NULL until its first sampled mention */
};

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

es_windows *es_windows_create(const es_window_opts *o, size_t nqueries, es_window_sink sink, void *ctx) {
  if (o->nsizes < 1 || o->nsizes > ES_MAX_WINDOW_SIZES) return NULL;
  es_windows *w = es_calloc(1, sizeof *w);
  if (!w) return NULL;
  w->o = *o;
  w->nq = nqueries;
  w->sink = sink;
  w->ctx = ctx;
  w->idle_mark = INT64_MIN;
  for (int i = 0; i < o->nsizes; i++) {
    w->sizes[i].size = o->size_ms[i];
    w->sizes[i].closed_below = INT64_MIN;
    w->sizes[i].prior_below = INT64_MIN;
    w->watch[i] = es_calloc(nqueries ? nqueries : 1, 1);
    w->terms_after[i] = es_malloc((nqueries ? nqueries : 1) * sizeof **w->terms_after);
    if (!w->watch[i] || !w->terms_after[i]) {
      es_windows_destroy(w);
      return NULL;
    }
  }
  for (int i = 0; i < o->nsizes; i++)
    for (size_t q = 0; q < nqueries; q++) w->terms_after[i][q] = UINT64_MAX;
  w->emit_list = es_malloc((nqueries ? nqueries : 1) * sizeof *w->emit_list);
  w->tbase = es_calloc(nqueries ? nqueries : 1, sizeof *w->tbase);
  if (!w->emit_list || !w->tbase) {
    es_windows_destroy(w);
    return NULL;
  }
  return w;
}

void es_windows_watch(es_windows *w, uint32_t q, int size_idx, bool on) {
  if (q >= w->nq || size_idx < 0 || size_idx >= w->o.nsizes) return;
  uint8_t *f = &w->watch[size_idx][q];
  if (*f == on) return;
  *f = on;
  if (on) w->nwatch[size_idx]++;
  else w->nwatch[size_idx]--;
}

void es_windows_terms_after(es_windows *w, uint32_t q, int size_idx, uint64_t after) {
  if (q < w->nq && size_idx >= 0 && size_idx < w->o.nsizes) w->terms_after[size_idx][q] = after;
}

static void free_slot_arrays(slot *s) {
  es_free(s->accs);
  es_free(s->touched);
}

void es_windows_destroy(es_windows *w) {
  if (!w) return;
  for (int i = 0; i < ES_MAX_WINDOW_SIZES; i++) {
    es_free(w->watch[i]);
    es_free(w->terms_after[i]);
  }
  for (size_t q = 0; w->tbase && q < w->nq; q++) es_termbase_destroy(w->tbase[q]);
  es_free(w->tbase);
  es_free(w->emit_list);
  for (int i = 0; i < w->o.nsizes; i++) {
    sizeset *ss = &w->sizes[i];
    for (size_t k = 0; k < ss->nopen; k++) {
      slot *s = &ss->open[k];
      for (uint32_t t = 0; t < s->ntouched; t++) {
        es_hll_free(&s->accs[s->touched[t]]->hll);
        es_hll_free(&s->accs[s->touched[t]]->texts);
        es_free(s->accs[s->touched[t]]->terms);
        es_free(s->accs[s->touched[t]]);
      }
      free_slot_arrays(s);
    }
    es_free(ss->open);
  }
  for (size_t k = 0; k < w->nfree; k++) free_slot_arrays(&w->free_slots[k]);
  es_free(w->free_slots);
  for (acc *a = w->free_accs, *n; a; a = n) {
    n = a->next_free;
    es_hll_free(&a->hll);
    es_hll_free(&a->texts);
    es_free(a->terms);
    es_free(a);
  }
  es_free(w);
}

/* Renumbers 32 counters valid for the bits of *mask. */
static void renumber(uint32_t *mask, uint32_t c[32], const int8_t new_of_old[32]) {
  uint32_t n[32], m2 = 0;
  for (uint32_t m = *mask; m; m &= m - 1) {
    int k = __builtin_ctz(m), j = new_of_old[k];
    if (j >= 0) n[j] = c[k], m2 |= 1u << j;
  }
  for (uint32_t m = m2; m; m &= m - 1) c[__builtin_ctz(m)] = n[__builtin_ctz(m)];
  *mask = m2;
}

void es_windows_remap_triage(es_windows *w, const int8_t sit_new_of_old[32], const int8_t trk_new_of_old[32]) {
  for (int i = 0; i < w->o.nsizes; i++)
    for (size_t o = 0; o < w->sizes[i].nopen; o++) {
      slot *s = &w->sizes[i].open[o];
      for (uint32_t t = 0; t < s->ntouched; t++) {
        acc *a = s->accs[s->touched[t]];
        renumber(&a->sitmask, a->sit, sit_new_of_old);
        renumber(&a->trkmask, a->trk, trk_new_of_old);
      }
    }
}

void es_windows_count_track(es_windows *w, uint32_t q, int64_t ts, int track) {
  if (q >= w->nq || track < 0 || track >= 32) return;
  for (int i = 0; i < w->o.nsizes; i++) {
    sizeset *ss = &w->sizes[i];
    int64_t idx = floor_div(ts, ss->size);
    for (size_t o = 0; o < ss->nopen && ss->open[o].index <= idx; o++) {
      if (ss->open[o].index != idx) continue;
      acc *a = ss->open[o].accs[q];
      if (!a) break;
      if (!(a->trkmask >> track & 1)) a->trk[track] = 0, a->trkmask |= 1u << track;
      a->trk[track]++;
      break;
    }
  }
}

void es_windows_before_close(es_windows *w, void (*fn)(void *ctx, int64_t end), void *ctx) {
  w->before_close = fn;
  w->before_ctx = ctx;
}

int es_windows_remap(es_windows *w, size_t new_nq, const int64_t *old_of_new) {
  int64_t *new_of_old = es_malloc((w->nq ? w->nq : 1) * sizeof *new_of_old);
  if (!new_of_old) return ES_ENOMEM;
  for (size_t q = 0; q < w->nq; q++) new_of_old[q] = -1;
  for (size_t j = 0; j < new_nq; j++)
    if (old_of_new[j] >= 0) new_of_old[old_of_new[j]] = (int64_t)j;
  /* New arrays for every open slot first, so a failure changes nothing. */
  size_t nslots = 0;
  for (int i = 0; i < w->o.nsizes; i++) nslots += w->sizes[i].nopen;
  acc ***accs = es_calloc(nslots + 1, sizeof *accs);
  uint32_t **touched = es_calloc(nslots + 1, sizeof *touched);
  uint8_t *watch[ES_MAX_WINDOW_SIZES] = {0};
  uint64_t *after[ES_MAX_WINDOW_SIZES] = {0};
  uint32_t *emit_list = es_malloc((new_nq ? new_nq : 1) * sizeof *emit_list);
  es_termbase **tbase = es_calloc(new_nq ? new_nq : 1, sizeof *tbase);
  bool ok = accs && touched && emit_list && tbase;
  for (int i = 0; ok && i < w->o.nsizes; i++)
    ok = (watch[i] = es_calloc(new_nq ? new_nq : 1, 1)) != NULL &&
         (after[i] = es_malloc((new_nq ? new_nq : 1) * sizeof **after)) != NULL;
  for (size_t k = 0; ok && k < nslots; k++) {
    accs[k] = es_calloc(new_nq ? new_nq : 1, sizeof **accs);
    touched[k] = es_malloc((new_nq ? new_nq : 1) * sizeof **touched);
    ok = accs[k] && touched[k];
  }
  if (!ok) {
    for (size_t k = 0; accs && touched && k < nslots; k++) es_free(accs[k]), es_free(touched[k]);
    for (int i = 0; i < w->o.nsizes; i++) es_free(watch[i]), es_free(after[i]);
    es_free(emit_list);
    es_free(tbase);
    es_free(accs);
    es_free(touched);
    es_free(new_of_old);
    return ES_ENOMEM;
  }
  size_t k = 0;
  for (int i = 0; i < w->o.nsizes; i++) {
    sizeset *ss = &w->sizes[i];
    for (size_t o = 0; o < ss->nopen; o++, k++) {
      slot *s = &ss->open[o];
      uint32_t nt = 0;
      for (uint32_t t = 0; t < s->ntouched; t++) {
        uint32_t q = s->touched[t];
        acc *a = s->accs[q];
        if (new_of_old[q] >= 0) {
          accs[k][new_of_old[q]] = a;
          touched[k][nt++] = (uint32_t)new_of_old[q];
        } else { /* the query was removed: its open windows go */
          es_hll_reset(&a->hll);
          es_hll_reset(&a->texts);
          a->next_free = w->free_accs;
          w->free_accs = a;
        }
      }
      free_slot_arrays(s);
      s->accs = accs[k];
      s->touched = touched[k];
      s->ntouched = nt;
    }
  }
  /* Watched queries follow their ids; pooled slot arrays have the old size. */
  for (int i = 0; i < w->o.nsizes; i++) {
    size_t cnt = 0;
    for (size_t j = 0; j < new_nq; j++)
      if (old_of_new[j] >= 0 && w->watch[i][old_of_new[j]]) watch[i][j] = 1, cnt++;
    es_free(w->watch[i]);
    w->watch[i] = watch[i];
    w->nwatch[i] = cnt;
    for (size_t j = 0; j < new_nq; j++) after[i][j] = old_of_new[j] >= 0 ? w->terms_after[i][old_of_new[j]] : UINT64_MAX;
    es_free(w->terms_after[i]);
    w->terms_after[i] = after[i];
  }
  /* Term baselines follow their query; those of removed queries go. */
  for (size_t j = 0; j < new_nq; j++)
    if (old_of_new[j] >= 0) {
      tbase[j] = w->tbase[old_of_new[j]];
      w->tbase[old_of_new[j]] = NULL;
    }
  for (size_t q = 0; q < w->nq; q++) es_termbase_destroy(w->tbase[q]);
  es_free(w->tbase);
  w->tbase = tbase;
  es_free(w->emit_list);
  w->emit_list = emit_list;
  for (size_t f = 0; f < w->nfree; f++) free_slot_arrays(&w->free_slots[f]);
  w->nfree = 0;
  w->nq = new_nq;
  es_free(accs);
  es_free(touched);
  es_free(new_of_old);
  return 0;
}

static slot *open_slot(es_windows *w, sizeset *ss, int64_t index) {
  size_t lo = 0, hi = ss->nopen;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (ss->open[mid].index < index) lo = mid + 1;
    else hi = mid;
  }
  if (lo < ss->nopen && ss->open[lo].index == index) return &ss->open[lo];
  if (ss->nopen == ss->capopen) {
    size_t cap = ss->capopen ? ss->capopen * 2 : 8;
    slot *n = es_realloc(ss->open, cap * sizeof *n);
    if (!n) return NULL;
    ss->open = n;
    ss->capopen = cap;
  }
  slot s;
  if (w->nfree) {
    s = w->free_slots[--w->nfree];
  } else {
    s.accs = es_calloc(w->nq ? w->nq : 1, sizeof *s.accs);
    s.touched = es_malloc((w->nq ? w->nq : 1) * sizeof *s.touched);
    if (!s.accs || !s.touched) {
      free_slot_arrays(&s);
      return NULL;
    }
  }
  s.index = index;
  s.ntouched = 0;
  memmove(&ss->open[lo + 1], &ss->open[lo], (ss->nopen - lo) * sizeof *ss->open);
  ss->open[lo] = s;
  ss->nopen++;
  return &ss->open[lo];
}

/* Keeps the ids with the smallest hashes (ties by the id itself). */
static void sample_add(acc *a, const char *id, size_t n) {
  if (n >= ES_SAMPLE_ID_MAX) n = ES_SAMPLE_ID_MAX - 1;
  es__sample_put(a, es_hash_bytes(id, n), id, n);
}

void es__sample_put(acc *a, uint64_t h, const char *id, size_t n) {
  uint32_t k = a->nsamples;
  for (uint32_t i = 0; i < a->nsamples; i++) {
    if (a->sample_hash[i] == h && !strncmp(a->sample[i], id, n) && a->sample[i][n] == 0) return; /* seen */
    if (h < a->sample_hash[i] || (h == a->sample_hash[i] && strncmp(id, a->sample[i], n) < 0)) {
      k = i;
      break;
    }
  }
  if (k >= ES_SAMPLE_IDS) return;
  uint32_t last = a->nsamples < ES_SAMPLE_IDS ? a->nsamples : ES_SAMPLE_IDS - 1;
  for (uint32_t i = last; i > k; i--) {
    a->sample_hash[i] = a->sample_hash[i - 1];
    memcpy(a->sample[i], a->sample[i - 1], ES_SAMPLE_ID_MAX);
  }
  a->sample_hash[k] = h;
  memcpy(a->sample[k], id, n);
  a->sample[k][n] = 0;
  if (a->nsamples < ES_SAMPLE_IDS) a->nsamples++;
}

static acc *get_acc(es_windows *w, slot *s, uint32_t q) {
  acc *a = s->accs[q];
  if (a) return a;
  /* Only the header is cleared, new or reused: the arrays are valid up to
   * their counts, and pages of them a small window never reaches are never
   * touched (with 10,000 queries most windows are small). */
  uint8_t *regs = NULL, *tregs = NULL;
  if (w->free_accs) {
    a = w->free_accs;
    w->free_accs = a->next_free;
    regs = a->hll.regs; /* the dense registers are kept for reuse */
    tregs = a->texts.regs;
    es_free(a->terms);
  } else if (!(a = es_malloc(sizeof *a))) {
    return NULL;
  }
  memset(a, 0, offsetof(acc, sample_hash));
  a->hll.regs = regs;
  a->texts.regs = tregs;
  a->texts.p = ES_HLL_P_SMALL; /* effective volume: a coarser estimate is enough */
  s->accs[q] = a;
  s->touched[s->ntouched++] = q;
  return a;
}

/* Space-Saving heavy hitters: a known author increments its counter; a new
 * one takes a free counter or replaces the smallest, inheriting its count
 * as the error bound. Any author with more than N/ES_TOPK_COUNTERS of a
 * window's N mentions is guaranteed a counter; reported counts are the
 * guaranteed lower bounds (count - err), exact unless evictions happened. */
static uint32_t tix_home(uint64_t hash) { return (uint32_t)(hash >> 57) & TIX_MASK; } /* bit 0 is always set */

void es__tix_put(acc *a, uint64_t hash, uint32_t i) {
  uint32_t s = tix_home(hash);
  while (a->tix[s]) s = (s + 1) & TIX_MASK;
  a->tix[s] = (uint8_t)(i + 1);
}

static void copy_name(char *dst, const es_window_obs *m) {
  size_t n = m->author_len < ES_AUTHOR_NAME_MAX - 1 ? m->author_len : ES_AUTHOR_NAME_MAX - 1;
  while (n > 0 && n < m->author_len && ((unsigned char)m->author[n] & 0xc0) == 0x80) n--; /* whole code points */
  memcpy(dst, m->author, n);
  dst[n] = 0;
}

static void top_add(acc *a, const es_window_obs *m) {
  /* The index finds a known author without scanning the counters. */
  for (uint32_t s = tix_home(m->author_hash); a->tix[s]; s = (s + 1) & TIX_MASK) {
    topc *t = &a->top[a->tix[s] - 1];
    if (t->hash == m->author_hash) {
      t->count++;
      if (m->followers > t->reach) t->reach = m->followers; /* the largest: order-independent */
      return;
    }
  }
  topc *c;
  if (a->ntop < ES_TOPK_COUNTERS) {
    c = &a->top[a->ntop];
    c->count = 1;
    c->err = 0;
    es__tix_put(a, m->author_hash, a->ntop++);
  } else {
    uint32_t min_i = 0; /* the first counter with the smallest count */
    for (uint32_t i = 1; i < a->ntop; i++)
      if (a->top[i].count < a->top[min_i].count) min_i = i;
    c = &a->top[min_i];
    c->err = c->count;
    c->count++;
    c->hash = m->author_hash;
    memset(a->tix, 0, sizeof a->tix); /* an eviction: rebuild the index */
    for (uint32_t i = 0; i < a->ntop; i++) es__tix_put(a, a->top[i].hash, i);
  }
  c->hash = m->author_hash;
  c->reach = m->followers;
  copy_name(c->name, m);
}

/* Whether reach r (author hash h) ranks before entry t: larger reach
 * first, then the smaller hash, so the result does not depend on the
 * order mentions arrive in. */
bool es__reach_before(uint64_t r, uint64_t h, const topc *t) { return r != t->reach ? r > t->reach : h < t->hash; }

/* The authors with the largest reach: each author's largest, exact. */
static void reach_add(acc *a, const es_window_obs *m) {
  uint32_t i = 0;
  for (; i < a->nreach && a->reach_top[i].hash != m->author_hash; i++) {}
  if (i < a->nreach) { /* known: its reach may grow, then it may move up */
    if (m->followers <= a->reach_top[i].reach) return;
    topc t = a->reach_top[i];
    t.reach = m->followers;
    for (; i > 0 && es__reach_before(t.reach, t.hash, &a->reach_top[i - 1]); i--) a->reach_top[i] = a->reach_top[i - 1];
    a->reach_top[i] = t;
    return;
  }
  if (a->nreach == ES_TOP_REACH && !es__reach_before(m->followers, m->author_hash, &a->reach_top[ES_TOP_REACH - 1])) return;
  i = a->nreach < ES_TOP_REACH ? a->nreach++ : ES_TOP_REACH - 1;
  for (; i > 0 && es__reach_before(m->followers, m->author_hash, &a->reach_top[i - 1]); i--) a->reach_top[i] = a->reach_top[i - 1];
  topc *t = &a->reach_top[i];
  t->hash = m->author_hash;
  t->reach = m->followers;
  copy_name(t->name, m);
}


/* One mention's terms, split and hashed once for all its queries. */
typedef struct mterms {
  uint64_t hash[ES_MENTION_TERMS];
  const char *p[ES_MENTION_TERMS];
  uint8_t len[ES_MENTION_TERMS];
  int n;
} mterms;

static void mterms_split(mterms *mt, const char *t, size_t n) {
  mt->n = 0;
  for (size_t i = 0; i < n && mt->n < ES_MENTION_TERMS;) {
    size_t j = i;
    while (j < n && t[j] != ' ') j++;
    size_t len = j - i < ES_TERM_MAX - 1 ? j - i : ES_TERM_MAX - 1;
    if (len) {
      mt->hash[mt->n] = es_hash_bytes(t + i, len);
      mt->p[mt->n] = t + i;
      mt->len[mt->n++] = (uint8_t)len;
    }
    i = j + 1;
  }
}

void es__term_ix_put(termset *ts, uint64_t h, uint32_t i) {
  uint32_t s = (uint32_t)(h >> 58) & TERM_IX_MASK;
  while (ts->ix[s]) s = (s + 1) & TERM_IX_MASK;
  ts->ix[s] = (uint8_t)(i + 1);
}

/* A mention's SimHash into the window's near-duplicate clusters. */
static void near_add(acc *a, uint64_t sig) {
  uint32_t m = 0;
  for (uint32_t i = 0; i < a->ndup; i++) {
    if (__builtin_popcountll(a->dsig[i] ^ sig) <= ES_NEAR_BITS) {
      a->dcount[i]++;
      return;
    }
    if (a->dcount[i] < a->dcount[m]) m = i;
  }
  if (a->ndup < ES_NEAR_CLUSTERS) {
    m = a->ndup++;
    a->dcount[m] = a->derr[m] = 0;
  } else {
    a->derr[m] = a->dcount[m]; /* evicted: the newcomer inherits the count as error */
  }
  a->dsig[m] = sig;
  a->dcount[m]++;
}

/* Counts one mention's terms in the window's Space-Saving counters. */
static void terms_add(acc *a, const mterms *mt) {
  if (!a->terms && !(a->terms = es_calloc(1, sizeof(termset)))) return;
  termset *ts = a->terms;
  a->term_docs++;
  for (int k = 0; k < mt->n; k++) {
    uint64_t h = mt->hash[k];
    uint32_t s = (uint32_t)(h >> 58) & TERM_IX_MASK;
    for (; ts->ix[s] && ts->c[ts->ix[s] - 1].hash != h; s = (s + 1) & TERM_IX_MASK) {}
    if (ts->ix[s]) {
      ts->c[ts->ix[s] - 1].count++;
      continue;
    }
    es_term *c;
    if (a->nterms < ES_TERM_COUNTERS) {
      c = &ts->c[a->nterms];
      c->count = 1;
      c->err = 0;
      ts->ix[s] = (uint8_t)(++a->nterms);
    } else { /* evict the first counter with the smallest count, rebuild the index */
      uint32_t m = 0;
      for (uint32_t i = 1; i < a->nterms; i++)
        if (ts->c[i].count < ts->c[m].count) m = i;
      c = &ts->c[m];
      c->err = c->count;
      c->count++;
      c->hash = h;
      memset(ts->ix, 0, sizeof ts->ix);
      for (uint32_t i = 0; i < a->nterms; i++) es__term_ix_put(ts, ts->c[i].hash, i);
    }
    c->hash = h;
    memcpy(c->text, mt->p[k], mt->len[k]);
    c->text[mt->len[k]] = 0;
  }
}


static int top_cmp(const void *x, const void *y) {
  const topc *a = x, *b = y;
  uint64_t ga = a->count - a->err, gb = b->count - b->err;
  if (ga != gb) return ga > gb ? -1 : 1;
  if (a->reach != b->reach) return a->reach > b->reach ? -1 : 1;
  return strcmp(a->name, b->name);
}

static int u32_cmp(const void *x, const void *y) {
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return a < b ? -1 : a > b;
}

/* The record of query q's window in slot s; the window is left as it was
 * (an early update keeps using it). */
static void fill_result(es_windows *w, int size_idx, const slot *s, uint32_t q, const acc *a, es_window_result *rp) {
  memset(rp, 0, sizeof *rp);
  int64_t size = w->sizes[size_idx].size;
  rp->query = q;
  rp->size_idx = size_idx;
  rp->size_ms = size;
  rp->index = s->index;
  rp->start_ms = s->index * size;
  rp->end_ms = rp->start_ms + size;
  rp->final = true;
  if (a) {
    rp->count = a->count;
    rp->positive = a->pos;
    rp->negative = a->neg;
    rp->neutral = a->neu;
    rp->unscored = a->unscored;
    rp->situation_mask = a->sitmask;
    for (uint32_t sm = a->sitmask; sm; sm &= sm - 1) rp->situations[__builtin_ctz(sm)] = a->sit[__builtin_ctz(sm)];
    rp->track_mask = a->trkmask;
    for (uint32_t sm = a->trkmask; sm; sm &= sm - 1) rp->tracks[__builtin_ctz(sm)] = a->trk[__builtin_ctz(sm)];
    uint64_t scored = a->count - a->unscored;
    rp->sentiment_mean = scored ? (double)a->sum_compound / 1e9 / (double)scored : 0.0;
    rp->unique_authors = es_hll_count(&a->hll);
    rp->anonymous = a->anonymous;
    /* Distinct texts, never more than the mentions (the estimate is exact up
     * to 32 and within 1.6 % beyond); mentions without a content hash count
     * as distinct. */
    uint64_t texts = es_hll_count(&a->texts) + a->untexted;
    rp->effective = texts < a->count ? texts : a->count;
    /* Near-duplicates: each cluster's mentions beyond its first (its
     * guaranteed count) are copies too. */
    uint64_t near = 0;
    for (uint32_t i = 0; i < a->ndup; i++)
      if (a->dcount[i] - a->derr[i] > 1) near += a->dcount[i] - a->derr[i] - 1;
    if (a->count - near < rp->effective) rp->effective = a->count - near;
    rp->nsamples = (int)a->nsamples;
    for (uint32_t i = 0; i < a->nsamples; i++) memcpy(rp->samples[i], a->sample[i], ES_SAMPLE_ID_MAX);
    rp->reach = a->reach;
    _Static_assert(ES_TOPK_COUNTERS <= 32, "one bit per counter");
    /* The first ES_TOP_AUTHORS in top_cmp's order, picked without moving
     * the counters (their order is their index's, and they are large). */
    uint32_t taken = 0; /* bit per counter */
    for (uint32_t i = 0; i < a->ntop && i < ES_TOP_AUTHORS; i++) {
      int best = -1;
      for (uint32_t k = 0; k < a->ntop; k++)
        if (!(taken >> k & 1) && (best < 0 || top_cmp(&a->top[k], &a->top[best]) < 0)) best = (int)k;
      taken |= 1u << best;
      const topc *t = &a->top[best];
      memcpy(rp->top[i].name, t->name, sizeof rp->top[i].name);
      rp->top[i].count = t->count - t->err;
      rp->top[i].reach = t->reach;
      rp->ntop++;
    }
    for (uint32_t i = 0; i < a->nreach; i++) {
      memcpy(rp->top_reach[i].name, a->reach_top[i].name, sizeof rp->top_reach[i].name);
      rp->top_reach[i].reach = a->reach_top[i].reach;
    }
    rp->ntop_reach = (int)a->nreach;
    if (a->terms) {
      rp->terms = a->terms->c;
      rp->nterms = (int)a->nterms;
      rp->term_docs = a->term_docs;
      rp->nhot = es_terms_hot(w->tbase[q], rp, rp->hot, ES_HOT_TERMS);
    }
  }
}

static void emit(es_windows *w, int size_idx, const slot *s, uint32_t q, acc *a) {
  es_window_result r;
  fill_result(w, size_idx, s, q, a, &r);
  w->sink(w->ctx, &r);
}

/* The queries of slot s with an accumulator (and, with `watch`, the
 * watched ones), in query order, into out (nq entries). A slot that most
 * queries touched is read in one pass over them instead of sorted. */
static size_t in_query_order(const es_windows *w, const slot *s, const uint8_t *watch, uint32_t *out) {
  size_t n = 0;
  if (watch || (size_t)s->ntouched * 8 >= w->nq) {
    for (uint32_t q = 0; q < w->nq; q++)
      if (s->accs[q] || (watch && watch[q])) out[n++] = q;
    return n;
  }
  memcpy(out, s->touched, s->ntouched * sizeof *out);
  qsort(out, s->ntouched, sizeof *out, u32_cmp);
  return s->ntouched;
}

size_t es_windows_early(es_windows *w, es_window_sink sink, void *ctx) {
  size_t n = 0;
  es_window_result r;
  for (int i = 0; i < w->o.nsizes; i++) {
    sizeset *ss = &w->sizes[i];
    for (size_t k = 0; k < ss->nopen; k++) {
      slot *s = &ss->open[k];
      size_t m = in_query_order(w, s, NULL, w->emit_list);
      for (size_t j = 0; j < m; j++) {
        acc *a = s->accs[w->emit_list[j]];
        if (a->count == a->early_count) continue; /* unchanged since the last early update */
        fill_result(w, i, s, w->emit_list[j], a, &r);
        r.final = false;
        r.early = true;
        a->early_count = a->count;
        sink(ctx, &r);
        n++;
      }
    }
  }
  return n;
}

static void close_slot(es_windows *w, int size_idx) {
  sizeset *ss = &w->sizes[size_idx];
  slot s = ss->open[0];
  memmove(&ss->open[0], &ss->open[1], (ss->nopen - 1) * sizeof *ss->open);
  ss->nopen--;
  ss->closed_below = s.index + 1;
  if (w->o.emit_empty) {
    for (uint32_t q = 0; q < w->nq; q++) emit(w, size_idx, &s, q, s.accs[q]);
  } else { /* touched queries (and watched ones), in query order */
    size_t n = in_query_order(w, &s, w->nwatch[size_idx] ? w->watch[size_idx] : NULL, w->emit_list);
    for (size_t k = 0; k < n; k++) emit(w, size_idx, &s, w->emit_list[k], s.accs[w->emit_list[k]]);
  }
  for (uint32_t t = 0; t < s.ntouched; t++) {
    acc *a = s.accs[s.touched[t]];
    es_hll_reset(&a->hll);
    es_hll_reset(&a->texts);
    a->next_free = w->free_accs;
    w->free_accs = a;
    s.accs[s.touched[t]] = NULL;
  }
  s.ntouched = 0;
  if (w->nfree == w->capfree) {
    size_t cap = w->capfree ? w->capfree * 2 : 8;
    slot *n = es_realloc(w->free_slots, cap * sizeof *n);
    if (!n) {
      free_slot_arrays(&s);
      return;
    }
    w->free_slots = n;
    w->capfree = cap;
  }
  w->free_slots[w->nfree++] = s;
}

/* Closes, in end-time order across sizes, every window ending at or before
 * `mark` (all of them when `all`). */
static void close_upto(es_windows *w, int64_t mark, bool all) {
  for (;;) {
    int best = -1;
    int64_t best_end = 0;
    for (int i = 0; i < w->o.nsizes; i++) {
      sizeset *ss = &w->sizes[i];
      if (!ss->nopen) continue;
      int64_t end = (ss->open[0].index + 1) * ss->size;
      if (!all && end > mark) continue;
      if (best < 0 || end < best_end) {
        best = i;
        best_end = end;
      }
    }
    if (best < 0) return;
    if (w->before_close) w->before_close(w->before_ctx, best_end);
    close_slot(w, best);
  }
}

int64_t es_windows_max_event(const es_windows *w) { return w->any ? w->max_ts : INT64_MIN; }

int64_t es_windows_watermark(const es_windows *w) {
  if (!w->any) return INT64_MIN;
  int64_t wm = w->max_ts - w->o.lateness_ms;
  return wm > w->idle_mark ? wm : w->idle_mark;
}

unsigned es_windows_observe(es_windows *w, const es_window_obs *m, const uint32_t *queries, size_t nq) {
  unsigned late = 0;
  mterms mt; /* split on first use: most mentions need no terms */
  mt.n = -1;
  bool sampled = (m->content_hash >> 11) % 16 == 0;
  for (int i = 0; i < w->o.nsizes; i++) {
    sizeset *ss = &w->sizes[i];
    int64_t idx = floor_div(m->ts_ms, ss->size);
    if (idx < ss->closed_below) {
      /* A window an earlier run published (restart) already holds this
       * mention: neither counted again nor late. */
      if (idx >= ss->prior_below) late |= 1u << i;
      continue;
    }
    slot *s = open_slot(w, ss, idx);
    if (!s) continue;
    for (size_t k = 0; k < nq; k++) {
      acc *a = get_acc(w, s, queries[k]);
      if (!a) continue;
      a->count++;
      a->reach += m->followers;
      switch (m->label) {
      case ES_LABEL_POSITIVE: a->pos++; break;
      case ES_LABEL_NEGATIVE: a->neg++; break;
      case ES_LABEL_UNSCORED: a->unscored++; break;
      default: a->neu++; break;
      }
      if (m->label != ES_LABEL_UNSCORED) a->sum_compound += llround(m->compound * 1e9);
      for (uint32_t sm = m->situations; sm; sm &= sm - 1) {
        int b = __builtin_ctz(sm);
        if (!(a->sitmask >> b & 1)) a->sit[b] = 0, a->sitmask |= 1u << b;
        a->sit[b]++;
      }
      if (m->content_hash) es_hll_add(&a->texts, m->content_hash);
      else a->untexted++;
      if (m->simhash) near_add(a, m->simhash);
      if (m->id_len) sample_add(a, m->id, m->id_len);
      if (m->terms_len) {
        uint32_t q = queries[k];
        bool counting = a->count > w->terms_after[i][q];
        if (counting || (i == 0 && sampled)) {
          if (mt.n < 0) mterms_split(&mt, m->terms, m->terms_len);
          if (counting) {
            terms_add(a, &mt);
          } else { /* the baseline's sample */
            if (!w->tbase[q]) w->tbase[q] = es_termbase_create();
            if (w->tbase[q]) es_termbase_add(w->tbase[q], mt.hash, mt.n);
          }
        }
      }
      if (m->author_hash) {
        es_hll_add(&a->hll, m->author_hash);
        top_add(a, m);
        reach_add(a, m);
      } else {
        a->anonymous++;
      }
    }
  }
  if (!w->o.manual_advance) es_windows_advance(w, m->ts_ms);
  return late;
}

void es_windows_advance(es_windows *w, int64_t ts) {
  if (w->any && ts <= w->max_ts) return;
  w->max_ts = ts;
  w->any = true;
  close_upto(w, es_windows_watermark(w), false);
}

void es_windows_touch(es_windows *w, int64_t wall_ms) { w->last_progress_wall = wall_ms; }

/* Closes every window ending at or before `mark`, for good. */
static void close_through(es_windows *w, int64_t mark) {
  if (mark <= w->idle_mark) return;
  w->idle_mark = mark;
  close_upto(w, mark, false);
  for (int i = 0; i < w->o.nsizes; i++) {
    int64_t below = floor_div(mark, w->sizes[i].size);
    if (below > w->sizes[i].closed_below) w->sizes[i].closed_below = below;
  }
}

void es_windows_idle(es_windows *w, int64_t wall_ms) {
  if (!w->any || w->o.idle_flush_ms <= 0) return;
  if (wall_ms - w->last_progress_wall < w->o.idle_flush_ms) return;
  /* The input has been quiet long enough: close every open window, and
   * move the watermark to the end of the last one so that mentions arriving
   * later for them are reported late, never emitted twice. */
  int64_t mark = INT64_MIN;
  for (int i = 0; i < w->o.nsizes; i++) {
    const sizeset *ss = &w->sizes[i];
    if (ss->nopen) {
      int64_t end = (ss->open[ss->nopen - 1].index + 1) * ss->size;
      if (end > mark) mark = end;
    }
  }
  if (mark == INT64_MIN) return;
  close_through(w, mark);
}

void es_windows_flush(es_windows *w) { close_upto(w, 0, true); }

void es_windows_restore(es_windows *w, int64_t mark) {
  close_through(w, mark);
  for (int i = 0; i < w->o.nsizes; i++) {
    int64_t below = floor_div(mark, w->sizes[i].size);
    if (below > w->sizes[i].prior_below) w->sizes[i].prior_below = below;
  }
}

int es_windows_merge(es_windows *dst, const es_windows *src, uint64_t *dropped) {
  if (dst->nq != src->nq || dst->o.nsizes != src->o.nsizes) return ES_EINVAL;
  for (int i = 0; i < src->o.nsizes; i++)
    if (src->sizes[i].size != dst->sizes[i].size) return ES_EINVAL;
  for (int i = 0; i < src->o.nsizes; i++) {
    const sizeset *ss = &src->sizes[i];
    for (size_t o = 0; o < ss->nopen; o++) {
      const slot *s = &ss->open[o];
      if (s->index < dst->sizes[i].closed_below) { /* dst closed that window already */
        if (dropped) *dropped += s->ntouched;
        continue;
      }
      slot *d = open_slot(dst, &dst->sizes[i], s->index);
      if (!d) return ES_ENOMEM;
      for (uint32_t t = 0; t < s->ntouched; t++) {
        uint32_t q = s->touched[t];
        acc *a = get_acc(dst, d, q);
        if (!a) return ES_ENOMEM;
        es__acc_merge(a, s->accs[q]);
      }
    }
  }
  return 0;
}

/* The open window (size_idx, index) and query q's accumulator in it. */
static const acc *open_acc(const es_windows *w, uint32_t q, int size_idx, int64_t index) {
  if (q >= w->nq || size_idx < 0 || size_idx >= w->o.nsizes) return NULL;
  const sizeset *ss = &w->sizes[size_idx];
  for (size_t o = 0; o < ss->nopen; o++)
    if (ss->open[o].index == index) return ss->open[o].accs[q];
  return NULL;
}

void es_windows_each_open(const es_windows *w, void (*fn)(void *ctx, uint32_t q, int size_idx, int64_t index),
                          void *ctx) {
  for (int i = 0; i < w->o.nsizes; i++)
    for (size_t o = 0; o < w->sizes[i].nopen; o++) {
      const slot *s = &w->sizes[i].open[o];
      for (uint32_t t = 0; t < s->ntouched; t++) fn(ctx, s->touched[t], i, s->index);
    }
}

int es_windows_part(const es_windows *w, uint32_t q, int size_idx, int64_t index, es_buf *out) {
  const acc *a = open_acc(w, q, size_idx, index);
  if (!a) return ES_ENOTFOUND;
  es__acc_encode(out, a);
  return out->oom ? ES_ENOMEM : 0;
}

int es_windows_add_part(es_windows *w, uint32_t q, int size_idx, int64_t index, const void *data, size_t n) {
  if (q >= w->nq || size_idx < 0 || size_idx >= w->o.nsizes) return ES_EINVAL;
  sizeset *ss = &w->sizes[size_idx];
  if (index < ss->closed_below) return ES_ERANGE; /* that window closed here already */
  acc *part = es_calloc(1, sizeof *part);
  if (!part) return ES_ENOMEM;
  part->texts.p = ES_HLL_P_SMALL;
  int rc = es__acc_decode(part, data, n);
  slot *s = rc ? NULL : open_slot(w, ss, index);
  acc *a = s ? get_acc(w, s, q) : NULL;
  if (!rc && !a) rc = ES_ENOMEM;
  if (!rc) es__acc_merge(a, part);
  es_hll_free(&part->hll);
  es_hll_free(&part->texts);
  es_free(part->terms);
  es_free(part);
  return rc;
}
