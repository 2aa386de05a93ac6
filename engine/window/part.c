/* A window's state as bytes: what one process computed of a window, to be
 * merged into another process's window (es_windows_merge's semantics).
 *
 * Layout (version 1, little-endian, no padding):
 *   "ESW1"
 *   u64 count, positive, negative, neutral, unscored, reach, untexted, anonymous
 *   i64 sentiment sum (compound x 1e9)         u64 term_docs
 *   2 x HyperLogLog (unique authors, then distinct texts):
 *       u8 p; u32 n (0xffffffff: dense); n x u64 hashes, or 2^p register bytes
 *   u8 n; n x {u64 hash; u8 len; len bytes}                 sampled ids
 *   u8 n; n x {u64 hash, count, err, reach; u8 len; bytes}  top authors
 *   u8 n; n x {u64 hash, reach; u8 len; bytes}              top reach
 *   u8 n; n x {u64 simhash; u32 count, err}                 near-duplicate clusters
 *   u8 n; n x {u64 hash; u32 count, err; u8 len; bytes}     terms
 *   u32 situation mask; a u32 count per bit set, lowest first
 *   u32 track mask; the same
 * Reading checks every length against its limit and the bytes left: a
 * short or malformed state is refused, never read past. Aggregator thread
 * only. */
#include <string.h>

#include "earshot/error.h"
#include "earshot/mem.h"
#include "window_internal.h"

static void u8(es_buf *b, uint8_t v) { es_buf_put(b, &v, 1); }
static void u32(es_buf *b, uint32_t v) { es_buf_put(b, &v, 4); }
static void u64(es_buf *b, uint64_t v) { es_buf_put(b, &v, 8); }
static void str(es_buf *b, const char *s) {
  size_t n = strlen(s);
  u8(b, (uint8_t)n);
  es_buf_put(b, s, n);
}

static void hll_out(es_buf *b, const es_hll *h) {
  unsigned p = h->p ? h->p : ES_HLL_P;
  u8(b, (uint8_t)p);
  u32(b, h->nsparse);
  if (h->nsparse == UINT32_MAX) es_buf_put(b, h->regs, (size_t)1 << p);
  else
    for (uint32_t i = 0; i < h->nsparse; i++) u64(b, h->sparse[i]);
}

void es__acc_encode(es_buf *b, const acc *a) {
  es_buf_put(b, "ESW1", 4);
  const uint64_t c[] = {a->count, a->pos, a->neg, a->neu, a->unscored, a->reach, a->untexted, a->anonymous,
                        (uint64_t)a->sum_compound, a->term_docs};
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) u64(b, c[i]);
  hll_out(b, &a->hll);
  hll_out(b, &a->texts);
  u8(b, (uint8_t)a->nsamples);
  for (uint32_t i = 0; i < a->nsamples; i++) u64(b, a->sample_hash[i]), str(b, a->sample[i]);
  u8(b, (uint8_t)a->ntop);
  for (uint32_t i = 0; i < a->ntop; i++) {
    const topc *t = &a->top[i];
    u64(b, t->hash), u64(b, t->count), u64(b, t->err), u64(b, t->reach), str(b, t->name);
  }
  u8(b, (uint8_t)a->nreach);
  for (uint32_t i = 0; i < a->nreach; i++) u64(b, a->reach_top[i].hash), u64(b, a->reach_top[i].reach), str(b, a->reach_top[i].name);
  u8(b, (uint8_t)a->ndup);
  for (uint32_t i = 0; i < a->ndup; i++) u64(b, a->dsig[i]), u32(b, a->dcount[i]), u32(b, a->derr[i]);
  uint32_t nt = a->terms ? a->nterms : 0;
  u8(b, (uint8_t)nt);
  for (uint32_t i = 0; i < nt; i++) {
    const es_term *t = &a->terms->c[i];
    u64(b, t->hash), u32(b, t->count), u32(b, t->err), str(b, t->text);
  }
  u32(b, a->sitmask);
  for (uint32_t m = a->sitmask; m; m &= m - 1) u32(b, a->sit[__builtin_ctz(m)]);
  u32(b, a->trkmask);
  for (uint32_t m = a->trkmask; m; m &= m - 1) u32(b, a->trk[__builtin_ctz(m)]);
}

typedef struct rd {
  const unsigned char *p;
  size_t n;
  bool bad;
} rd;

static bool take(rd *r, void *out, size_t n) {
  if (r->bad || r->n < n) return !(r->bad = true);
  memcpy(out, r->p, n);
  r->p += n;
  r->n -= n;
  return true;
}
static uint8_t g8(rd *r) {
  uint8_t v = 0;
  take(r, &v, 1);
  return v;
}
static uint32_t g32(rd *r) {
  uint32_t v = 0;
  take(r, &v, 4);
  return v;
}
static uint64_t g64(rd *r) {
  uint64_t v = 0;
  take(r, &v, 8);
  return v;
}
/* A string of at most cap - 1 bytes into out (NUL-terminated). */
static void gstr(rd *r, char *out, size_t cap) {
  uint8_t n = g8(r);
  out[0] = 0;
  if (r->bad || n >= cap) {
    r->bad = true;
    return;
  }
  if (take(r, out, n)) out[n] = 0;
}

static void hll_in(rd *r, es_hll *h, unsigned want_p) {
  unsigned p = g8(r);
  uint32_t n = g32(r);
  if (r->bad || p != want_p) {
    r->bad = true;
    return;
  }
  if (n == UINT32_MAX) {
    size_t M = (size_t)1 << p;
    if (r->n < M || (!h->regs && !(h->regs = es_malloc(M)))) {
      r->bad = true;
      return;
    }
    take(r, h->regs, M);
    for (size_t i = 0; i < M; i++)
      if (h->regs[i] > 64 - p + 1) r->bad = true; /* no rank is that large */
    h->nsparse = UINT32_MAX;
    return;
  }
  if (n > ES_HLL_SPARSE) {
    r->bad = true;
    return;
  }
  for (uint32_t i = 0; i < n; i++) h->sparse[i] = g64(r);
  h->nsparse = n;
}

int es__acc_decode(acc *a, const void *data, size_t n) {
  rd r = {data, n, false};
  char magic[4];
  if (!take(&r, magic, 4) || memcmp(magic, "ESW1", 4)) return ES_EINVAL;
  a->count = g64(&r), a->pos = g64(&r), a->neg = g64(&r), a->neu = g64(&r), a->unscored = g64(&r);
  a->reach = g64(&r), a->untexted = g64(&r), a->anonymous = g64(&r);
  a->sum_compound = (int64_t)g64(&r);
  a->term_docs = g64(&r);
  /* what a window can hold: each mention in one label, each compound in
   * [-1, 1], at most 2^33 mentions */
  uint64_t scored = a->pos + a->neg + a->neu;
  if (a->count > (1ull << 33) || a->pos > a->count || a->neg > a->count || a->neu > a->count ||
      a->unscored > a->count || scored + a->unscored != a->count ||
      (a->sum_compound < 0 ? -(uint64_t)a->sum_compound : (uint64_t)a->sum_compound) > scored * 1000000000ull)
    r.bad = true;
  hll_in(&r, &a->hll, a->hll.p ? a->hll.p : ES_HLL_P);
  hll_in(&r, &a->texts, a->texts.p ? a->texts.p : ES_HLL_P);
  if ((a->nsamples = g8(&r)) > ES_SAMPLE_IDS) r.bad = true;
  for (uint32_t i = 0; !r.bad && i < a->nsamples; i++) {
    a->sample_hash[i] = g64(&r);
    gstr(&r, a->sample[i], ES_SAMPLE_ID_MAX);
  }
  if ((a->ntop = g8(&r)) > ES_TOPK_COUNTERS) r.bad = true;
  for (uint32_t i = 0; !r.bad && i < a->ntop; i++) {
    topc *t = &a->top[i];
    t->hash = g64(&r), t->count = g64(&r), t->err = g64(&r), t->reach = g64(&r);
    gstr(&r, t->name, ES_AUTHOR_NAME_MAX);
    if (t->err > t->count) r.bad = true;
  }
  if ((a->nreach = g8(&r)) > ES_TOP_REACH) r.bad = true;
  for (uint32_t i = 0; !r.bad && i < a->nreach; i++) {
    a->reach_top[i].hash = g64(&r), a->reach_top[i].reach = g64(&r);
    gstr(&r, a->reach_top[i].name, ES_AUTHOR_NAME_MAX);
  }
  if ((a->ndup = g8(&r)) > ES_NEAR_CLUSTERS) r.bad = true;
  for (uint32_t i = 0; !r.bad && i < a->ndup; i++) a->dsig[i] = g64(&r), a->dcount[i] = g32(&r), a->derr[i] = g32(&r);
  uint32_t nt = g8(&r);
  if (nt > ES_TERM_COUNTERS) r.bad = true;
  if (!r.bad && nt && !a->terms && !(a->terms = es_calloc(1, sizeof(termset)))) return ES_ENOMEM;
  for (uint32_t i = 0; !r.bad && i < nt; i++) {
    es_term *t = &a->terms->c[i];
    t->hash = g64(&r), t->count = g32(&r), t->err = g32(&r);
    gstr(&r, t->text, ES_TERM_MAX);
    if (t->err > t->count) r.bad = true;
  }
  a->nterms = r.bad ? 0 : nt;
  a->sitmask = g32(&r);
  for (uint32_t m = a->sitmask; !r.bad && m; m &= m - 1) a->sit[__builtin_ctz(m)] = g32(&r);
  a->trkmask = g32(&r);
  for (uint32_t m = a->trkmask; !r.bad && m; m &= m - 1) a->trk[__builtin_ctz(m)] = g32(&r);
  if (r.bad || r.n) return ES_EINVAL; /* (bytes left over: not a state of this version) */
  /* the indexes the counters are found by */
  memset(a->tix, 0, sizeof a->tix);
  for (uint32_t i = 0; i < a->ntop; i++) es__tix_put(a, a->top[i].hash, i);
  if (a->terms) {
    memset(a->terms->ix, 0, sizeof a->terms->ix);
    for (uint32_t i = 0; i < a->nterms; i++) es__term_ix_put(a->terms, a->terms->c[i].hash, i);
  }
  return 0;
}
