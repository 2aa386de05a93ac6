/* Per-mention matching of a compiled query set (see queryset.c).
 *
 * A worker thread scans a folded text with its own scratch, collects
 * matched atoms in a bitmap (and word positions for phrase words), walks
 * the index entries of the matched atoms (each with a filter atom the
 * query also requires), stamps candidate queries (no clearing of
 * per-query state between mentions) and evaluates them: from their
 * conjunctive form, or their program when they have a NEAR. Each thread
 * re-chooses the index from what its own texts contain (reindex). No
 * allocation and no shared writes per mention. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "match_internal.h"

#define ES_MAX_OCCURRENCES 4096 /* phrase-word positions kept per text; more are ignored */

typedef struct occ {
  uint32_t atom, start, end;
} occ;

/* An operand occurrence for proximity: bytes [s, e), tokens [first, end). */
typedef struct span {
  uint32_t s, e, first, end;
  uint32_t op; /* operand index (ordered NEAR of many operands) */
} span;

struct es_match_rt {
  const es_queryset *qs;
  es_atom_cb *cb;       /* qs->cb, with this thread's index */
  const char *text; /* the text being scanned */
  size_t n;
  occ *occs;
  uint32_t nocc;
  hs_scratch_t *scratch;
  uint64_t *bits;     /* matched atoms of the current text */
  uint32_t *hits;     /* their indices, to clear the bitmap cheaply */
  uint32_t nhits;
  uint32_t *stamp;    /* per query: the text number it was last queued for */
  uint32_t cur;
  uint32_t *cands;
  /* proximity: NEAR truths of the current text (computed on demand) */
  uint64_t *nbits;
  uint32_t *nstamp;   /* per NEAR node: the text number it was computed for */
  uint32_t *tok;      /* token start offsets of the current text */
  size_t captok;
  uint64_t *tbits;    /* token starts of the current text, a bit per byte */
  uint32_t *trank;    /* tokens before each 64-byte block */
  size_t capw;        /* tbits and trank: 64-byte blocks of the longest text */
  bool tok_done;
  bool provenance;    /* record every occurrence (explain) */
  span *spans[2];     /* operand occurrences while evaluating one NEAR */
  span *chain;        /* ordered NEAR with more operands: all occurrences */
  /* Trigger sets re-chosen from the atoms' frequency in this thread's
   * texts (see reindex). q_list: the index in use (offsets in cb). */
  const es_posting *q_list;
  uint32_t *freq;     /* per atom: texts it matched, halved at each re-choice */
  uint64_t ntexts, next_reindex;
  uint32_t *ix_off, *ix_fill;
  es_posting *ix_list;
  uint64_t *ix_cost, *ix_seen;
};

/* Texts between re-choices of the trigger sets: the first after 1,024
 * texts, then 8x further apart up to every 2^20 texts. */
#define ES_REINDEX_FIRST 1024u
#define ES_REINDEX_EVERY (1u << 20)

/* Whether a conjunctive form (see queryset.c) holds for the atom bitmap. */
static bool eval_holds(const uint32_t *e, const uint64_t *bits) {
  uint32_t nc = *e++;
  for (uint32_t c = 0; c < nc; c++) {
    uint32_t m = *e++, any = 0;
    for (uint32_t j = 0; j < m; j++) {
      uint32_t a = e[j] & ~ES_EVAL_NEG;
      any |= (uint32_t)(bits[a >> 6] >> (a & 63) & 1) ^ (e[j] >> 31);
    }
    if (!any) return false;
    e += m;
  }
  return true;
}

/* Points the per-atom records at an index (CSR offsets and entries). */
static void use_index(es_match_rt *rt, const uint32_t *off, const es_posting *list) {
  for (size_t a = 0; a < rt->qs->natoms; a++) {
    rt->cb[a].post = off[a];
    rt->cb[a].npost = off[a + 1] - off[a];
  }
  rt->q_list = list;
}

es_match_rt *es_match_rt_create(const es_queryset *qs) {
  es_match_rt *rt = es_calloc(1, sizeof *rt);
  if (!rt) return NULL;
  size_t nq = qs->nqueries ? qs->nqueries : 1, na = qs->natoms ? qs->natoms : 1;
  rt->bits = es_calloc((na + 63) / 64 + 1, sizeof *rt->bits);
  rt->hits = es_malloc((na + 1) * sizeof *rt->hits); /* set_hit writes one past the last */
  rt->stamp = es_calloc(nq, sizeof *rt->stamp);
  rt->cands = es_malloc((nq + 1) * sizeof *rt->cands); /* the index walk writes one past the last */
  rt->occs = es_malloc(ES_MAX_OCCURRENCES * sizeof *rt->occs);
  rt->qs = qs;
  rt->cb = es_malloc((qs->natoms ? qs->natoms : 1) * sizeof *rt->cb);
  if (!rt->cb) goto fail;
  memcpy(rt->cb, qs->cb, qs->natoms * sizeof *rt->cb);
  use_index(rt, qs->atom_q_off, qs->atom_q);
  if (!rt->bits || !rt->hits || !rt->stamp || !rt->cands || !rt->occs) goto fail;
  if (qs->nnears) {
    rt->nbits = es_calloc((qs->nnears + 63) / 64, sizeof *rt->nbits);
    rt->nstamp = es_calloc(qs->nnears, sizeof *rt->nstamp);
    for (int i = 0; i < 2; i++) rt->spans[i] = es_malloc(ES_MAX_OCCURRENCES * sizeof *rt->spans[i]);
    rt->chain = es_malloc(ES_MAX_OCCURRENCES * sizeof *rt->chain);
    if (!rt->nbits || !rt->nstamp || !rt->spans[0] || !rt->spans[1] || !rt->chain) goto fail;
  }
  rt->bits[ES_ATOM_ALWAYS(qs) >> 6] = 1ULL << (ES_ATOM_ALWAYS(qs) & 63); /* never cleared */
  rt->next_reindex = ES_REINDEX_FIRST;
  if (qs->nqueries && qs->natoms) {
    rt->freq = es_calloc(na, sizeof *rt->freq);
    rt->ix_off = es_malloc((na + 1) * sizeof *rt->ix_off);
    rt->ix_fill = es_malloc((na + 1) * sizeof *rt->ix_fill);
    rt->ix_list = es_malloc((qs->max_postings ? qs->max_postings : 1) * sizeof *rt->ix_list);
    rt->ix_cost = es_malloc(na * sizeof *rt->ix_cost);
    rt->ix_seen = es_calloc((na + 63) / 64 + 1, sizeof *rt->ix_seen);
    if (!rt->freq || !rt->ix_off || !rt->ix_fill || !rt->ix_list || !rt->ix_cost || !rt->ix_seen) goto fail;
  }
  if (qs->db && hs_alloc_scratch(qs->db, &rt->scratch) != HS_SUCCESS) goto fail;
  return rt;
fail:
  es_match_rt_destroy(rt);
  return NULL;
}

void es_match_rt_destroy(es_match_rt *rt) {
  if (!rt) return;
  if (rt->scratch) hs_free_scratch(rt->scratch);
  es_free(rt->bits);
  es_free(rt->hits);
  es_free(rt->stamp);
  es_free(rt->cands);
  es_free(rt->occs);
  es_free(rt->nbits);
  es_free(rt->nstamp);
  es_free(rt->tok);
  es_free(rt->tbits);
  es_free(rt->trank);
  es_free(rt->spans[0]);
  es_free(rt->spans[1]);
  es_free(rt->chain);
  es_free(rt->freq);
  es_free(rt->cb);
  es_free(rt->ix_off);
  es_free(rt->ix_fill);
  es_free(rt->ix_list);
  es_free(rt->ix_cost);
  es_free(rt->ix_seen);
  es_free(rt);
}

/* Whether the character before / at byte i is a word character: ASCII
 * inline, the rest out of line (rare in most texts). */
static __attribute__((noinline)) bool word_before_multi(const char *s, size_t n, size_t i) {
  size_t j = i - 1, len;
  while (j > 0 && ((unsigned char)s[j] & 0xc0) == 0x80) j--;
  return es__is_word_cp(es__utf8_decode(s, n, j, &len));
}

static __attribute__((noinline)) bool word_at_multi(const char *s, size_t n, size_t i) {
  size_t len;
  return es__is_word_cp(es__utf8_decode(s, n, i, &len));
}

static inline bool word_before(const char *s, size_t n, size_t i) {
  unsigned char c = (unsigned char)s[i - 1];
  return c < 0x80 ? es__word_ascii[c] : word_before_multi(s, n, i);
}

static inline bool word_at(const char *s, size_t n, size_t i) {
  unsigned char c = (unsigned char)s[i];
  return c < 0x80 ? es__word_ascii[c] : word_at_multi(s, n, i);
}

static void set_hit(es_match_rt *rt, uint32_t id) {
  uint64_t m = 1ULL << (id & 63), w = rt->bits[id >> 6];
  rt->bits[id >> 6] = w | m;
  rt->hits[rt->nhits] = id;   /* without a branch: kept only when new */
  rt->nhits += !(w & m);
}

/* Hyperscan reports the end of each literal occurrence; the word-boundary
 * rule is checked here on the decoded neighbours (Unicode categories). */
/* A '?' atom matched bytes [start, end): each '?' must have matched one
 * word character. */
static bool wild_ok(const es_atom *a, const char *s, size_t n, size_t start, size_t end) {
  size_t j = start, len;
  for (size_t i = 0; i < a->len; i++) {
    if (a->text[i] != '?') {
      j++;
      continue;
    }
    if (j >= end || !es__is_word_cp(es__utf8_decode(s, n, j, &len))) return false;
    j += len;
  }
  return j == end;
}

/* A literal occurrence at bytes [start, end) counts when no word character
 * touches it on a side where it starts or ends with one. */
static inline int accept(es_match_rt *rt, unsigned id, es_atom_cb a, size_t start, size_t end) {
  if ((a.flags & ES_CB_LEFT) && start > 0 && word_before(rt->text, rt->n, start)) return 0;
  if ((a.flags & ES_CB_RIGHT) && end < rt->n && word_at(rt->text, rt->n, end)) return 0;
  set_hit(rt, id);
  if (((a.flags & ES_CB_POSITIONAL) || rt->provenance) && rt->nocc < ES_MAX_OCCURRENCES)
    rt->occs[rt->nocc++] = (occ){.atom = id, .start = (uint32_t)start, .end = (uint32_t)end};
  return 0;
}

/* The rare kinds of match, out of line: a regex (the user's expression
 * decides) and a '?' wildcard (each '?' must have matched one word
 * character; Hyperscan reports its leftmost start). */
static __attribute__((noinline)) int on_match_rare(es_match_rt *rt, unsigned id, size_t from, size_t end,
                                                   es_atom_cb a) {
  if (a.flags & ES_CB_REGEX) {
    set_hit(rt, id);
    return 0;
  }
  if (!wild_ok(&rt->qs->atoms[id], rt->text, rt->n, from, end)) return 0;
  return accept(rt, id, a, from, end);
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned fl, void *ctx) {
  es_match_rt *rt = ctx;
  es_atom_cb a = rt->cb[id]; /* 16 bytes, not the 72 of es_atom */
  if (a.flags & (ES_CB_REGEX | ES_CB_WILD)) return on_match_rare(rt, id, (size_t)from, (size_t)to, a);
  return accept(rt, id, a, (size_t)to - a.len, (size_t)to);
}

static bool occurs_at(const es_match_rt *rt, uint32_t atom, size_t start, size_t *end) {
  for (uint32_t i = 0; i < rt->nocc; i++)
    if (rt->occs[i].atom == atom && rt->occs[i].start == start) {
      *end = rt->occs[i].end;
      return true;
    }
  return false;
}

/* A phrase holds when its words occur in order, each separated from the
 * previous one by one or more non-word characters. Returns the end of the
 * phrase occurrence that starts with occurrence i of its first word, or 0. */
static size_t phrase_end_from(const es_queryset *qs, const es_match_rt *rt, uint32_t p, uint32_t i) {
  uint32_t w0 = qs->phrase_off[p], w1 = qs->phrase_off[p + 1];
  {
    size_t pos = rt->occs[i].end;
    uint32_t k = w0 + 1;
    for (; k < w1; k++) {
      /* The next word may start anywhere after at least one separator
       * character, up to the first word character (a word such as #fail
       * starts with a non-word character). */
      size_t q = pos, len, next;
      bool found = false;
      while (q < rt->n) {
        bool word = es__is_word_cp(es__utf8_decode(rt->text, rt->n, q, &len));
        if (q > pos && occurs_at(rt, qs->phrase_words[k], q, &next)) {
          found = true;
          break;
        }
        if (word) break;
        q += len;
      }
      if (!found) break;
      pos = next;
    }
    return k == w1 ? pos : 0;
  }
}

static bool phrase_holds(const es_queryset *qs, const es_match_rt *rt, uint32_t p) {
  uint32_t w0 = qs->phrase_off[p], w1 = qs->phrase_off[p + 1];
  for (uint32_t k = w0; k < w1; k++)
    if (!es_match_rt_atom_hit(rt, qs->phrase_words[k])) return false;
  for (uint32_t i = 0; i < rt->nocc; i++)
    if (rt->occs[i].atom == qs->phrase_words[w0] && phrase_end_from(qs, rt, p, i)) return true;
  return false;
}

/* ---- proximity ---------------------------------------------------------- */

/* Token starts of the current text as a bitmap with a count per 64-bit
 * word, so the tokens before a byte take one popcount. ASCII texts (most)
 * are classified 16 bytes at a time; others go through es__tokens. */
static uint64_t ascii_word_bits(const char *s, size_t n, bool *ascii) {
  uint64_t w = 0;
  size_t j = 0;
#if defined(__SSE2__)
  for (; j + 16 <= n; j += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(s + j)), lo = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lo, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(lo, _mm_set1_epi8('z' + 1)));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    __m128i word = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
    if (_mm_movemask_epi8(v)) *ascii = false;
    w |= (uint64_t)(uint32_t)_mm_movemask_epi8(word) << j;
  }
#endif
  for (; j < n; j++) {
    unsigned char c = (unsigned char)s[j];
    if (c >= 0x80) *ascii = false;
    w |= (uint64_t)(c < 0x80 && es__word_ascii[c]) << j;
  }
  return w;
}

static bool tokenize(es_match_rt *rt) {
  if (rt->tok_done) return true;
  size_t nw = rt->n / 64 + 1;
  if (rt->capw < nw) { /* grows to the longest text seen, then stays */
    uint64_t *b = es_realloc(rt->tbits, nw * sizeof *b);
    if (b) rt->tbits = b;
    uint32_t *r = es_realloc(rt->trank, nw * sizeof *r);
    if (r) rt->trank = r;
    if (!b || !r) return false;
    rt->capw = nw;
  }
  bool ascii = true;
  uint64_t carry = 0;
  for (size_t k = 0; k < nw && ascii; k++) {
    size_t at = k * 64, len = rt->n - at < 64 ? rt->n - at : 64;
    uint64_t w = ascii_word_bits(rt->text + at, len, &ascii);
    rt->tbits[k] = w & ~(w << 1 | carry); /* a word character after a non-word one */
    carry = w >> 63;
  }
  if (!ascii) { /* symbols are tokens too, and letters of any script */
    if (rt->captok < rt->n) {
      uint32_t *t = es_realloc(rt->tok, rt->n * sizeof *t);
      if (!t) return false;
      rt->tok = t;
      rt->captok = rt->n;
    }
    size_t nt = es__tokens(rt->text, rt->n, rt->tok, rt->captok); /* at most one per byte */
    memset(rt->tbits, 0, nw * sizeof *rt->tbits);
    for (size_t i = 0; i < nt; i++) rt->tbits[rt->tok[i] >> 6] |= 1ULL << (rt->tok[i] & 63);
  }
  uint32_t count = 0;
  for (size_t k = 0; k < nw; k++) {
    rt->trank[k] = count;
    count += (uint32_t)__builtin_popcountll(rt->tbits[k]);
  }
  rt->tok_done = true;
  return true;
}

/* Tokens starting before byte b (b <= n). */
static uint32_t tokens_before(const es_match_rt *rt, uint32_t b) {
  uint64_t below = rt->tbits[b >> 6] & ((1ULL << (b & 63)) - 1);
  return rt->trank[b >> 6] + (uint32_t)__builtin_popcountll(below);
}

static void add_span(const es_match_rt *rt, span *out, uint32_t *n, uint32_t s, uint32_t e, uint32_t op) {
  if (*n >= ES_MAX_OCCURRENCES) return;
  out[(*n)++] = (span){.s = s, .e = e, .first = tokens_before(rt, s), .end = tokens_before(rt, e), .op = op};
}

/* Occurrences of an operand (an atom or an OR of operands). */
static void operand_spans(const es_queryset *qs, const es_match_rt *rt, const es_qnode *nd, span *out, uint32_t *n,
                          uint32_t op) {
  if (nd->kind != ES_Q_ATOM) {
    for (uint32_t i = 0; i < nd->nkids; i++) operand_spans(qs, rt, nd->kids[i], out, n, op);
    return;
  }
  uint32_t a = nd->atom;
  if (!es_match_rt_atom_hit(rt, a)) return;
  if (qs->atoms[a].kind != ES_ATOM_PHRASE) {
    for (uint32_t i = 0; i < rt->nocc; i++)
      if (rt->occs[i].atom == a) add_span(rt, out, n, rt->occs[i].start, rt->occs[i].end, op);
    return;
  }
  uint32_t w0 = qs->phrase_words[qs->phrase_off[a]];
  for (uint32_t i = 0; i < rt->nocc; i++) {
    if (rt->occs[i].atom != w0) continue;
    size_t e = phrase_end_from(qs, rt, a, i);
    if (e) add_span(rt, out, n, rt->occs[i].start, (uint32_t)e, op);
  }
}

/* Tokens between x and y when x ends before y starts; -1 otherwise. */
static long gap(const span *x, const span *y) {
  if (x->e > y->s) return -1;
  return y->first >= x->end ? (long)(y->first - x->end) : 0;
}

/* Ordered chain over operands from..m-1 starting after `cur`: the smallest
 * total gap, or -1 when there is none. Greedy: the earliest next operand
 * occurrence keeps every later gap smallest (operand widths are fixed). */
static long chain_from(const span *all, uint32_t nall, const span *cur, uint32_t op, uint32_t m) {
  long total = 0;
  for (; op < m; op++) {
    const span *best = NULL;
    for (uint32_t i = 0; i < nall; i++) {
      const span *y = &all[i];
      if (y->op != op || gap(cur, y) < 0) continue;
      if (!best || y->first < best->first || (y->first == best->first && y->e < best->e)) best = y;
    }
    if (!best) return -1;
    total += gap(cur, best);
    cur = best;
  }
  return total;
}

static bool near_holds(const es_queryset *qs, es_match_rt *rt, const es_qnode *nd) {
  if (!tokenize(rt)) return false;
  if (nd->nkids == 2 && !nd->ordered) {
    uint32_t na = 0, nb = 0;
    operand_spans(qs, rt, nd->kids[0], rt->spans[0], &na, 0);
    operand_spans(qs, rt, nd->kids[1], rt->spans[1], &nb, 1);
    for (uint32_t i = 0; i < na; i++)
      for (uint32_t j = 0; j < nb; j++) {
        long g1 = gap(&rt->spans[0][i], &rt->spans[1][j]), g2 = gap(&rt->spans[1][j], &rt->spans[0][i]);
        if ((g1 >= 0 && g1 <= (long)nd->dist) || (g2 >= 0 && g2 <= (long)nd->dist)) return true;
      }
    return false;
  }
  uint32_t n = 0;
  for (uint32_t k = 0; k < nd->nkids; k++) operand_spans(qs, rt, nd->kids[k], rt->chain, &n, k);
  for (uint32_t i = 0; i < n; i++) {
    if (rt->chain[i].op != 0) continue;
    long t = chain_from(rt->chain, n, &rt->chain[i], 1, nd->nkids);
    if (t >= 0 && t <= (long)nd->dist) return true;
  }
  return false;
}

/* Computes the NEAR nodes of query q for the current text (once each). */
static void eval_nears(const es_queryset *qs, es_match_rt *rt, const es_query *q) {
  for (uint32_t j = q->near_first; j < q->near_first + q->nnear; j++) {
    if (rt->nstamp[j] == rt->cur) continue;
    rt->nstamp[j] = rt->cur;
    uint64_t m = 1ULL << (j & 63);
    if (near_holds(qs, rt, qs->nears[j])) rt->nbits[j >> 6] |= m;
    else rt->nbits[j >> 6] &= ~m;
  }
}

bool es_match_rt_atom_hit(const es_match_rt *rt, uint32_t a) { return (rt->bits[a >> 6] >> (a & 63)) & 1; }

void es_match_rt_set_provenance(es_match_rt *rt, bool on) { rt->provenance = on; }
size_t es_queryset_near_count(const es_queryset *qs) { return qs->nnears; }
const es_qnode *es_queryset_near(const es_queryset *qs, size_t j) { return qs->nears[j]; }
bool es_match_rt_near_hit(const es_match_rt *rt, size_t j) {
  return rt->nstamp && rt->nstamp[j] == rt->cur && ((rt->nbits[j >> 6] >> (j & 63)) & 1);
}

size_t es_match_rt_occurrences(const es_queryset *qs, const es_match_rt *rt, uint32_t a, uint32_t *starts,
                               uint32_t *ends, size_t cap) {
  size_t n = 0;
  if (!es_match_rt_atom_hit(rt, a)) return 0;
  if (qs->atoms[a].kind == ES_ATOM_PHRASE) {
    uint32_t w0 = qs->phrase_words[qs->phrase_off[a]];
    for (uint32_t i = 0; i < rt->nocc && n < cap; i++) {
      if (rt->occs[i].atom != w0) continue;
      size_t e = phrase_end_from(qs, rt, a, i);
      if (e) starts[n] = rt->occs[i].start, ends[n++] = (uint32_t)e;
    }
    return n;
  }
  for (uint32_t i = 0; i < rt->nocc && n < cap; i++)
    if (rt->occs[i].atom == a) starts[n] = rt->occs[i].start, ends[n++] = rt->occs[i].end;
  return n;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void sort_u32(uint32_t *v, uint32_t n) {
  if (n > 32) {
    qsort(v, n, sizeof *v, cmp_u32);
    return;
  }
  for (uint32_t i = 1; i < n; i++) { /* candidate lists are short */
    uint32_t x = v[i], j = i;
    while (j > 0 && v[j - 1] > x) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

/* Re-chooses every query's trigger set by how often its atoms matched this
 * thread's texts (ties and unseen atoms: by how many queries use them).
 * The set compiled in knows only the queries, and a word such as "check"
 * that few queries use but most mentions contain made thousands of
 * candidates per text at 10,000 queries; an atom no text contained is the
 * best trigger. Any trigger set gives the same matches (only fewer or more
 * candidates), so results never depend on when this runs. */
static void reindex(const es_queryset *qs, es_match_rt *rt) {
  for (size_t a = 0; a < qs->natoms; a++) {
    rt->ix_cost[a] = ((uint64_t)rt->freq[a] << 20) + qs->uses[a];
    rt->freq[a] >>= 1; /* older texts count half at the next re-choice */
  }
  /* Between texts, so the index in use may be rebuilt in place. */
  es__index_build(qs, rt->ix_cost, rt->ix_seen, rt->ix_fill, rt->ix_off, rt->ix_list, NULL, NULL);
  use_index(rt, rt->ix_off, rt->ix_list);
  rt->next_reindex += rt->next_reindex < ES_REINDEX_EVERY / 8 ? rt->next_reindex * 7 : ES_REINDEX_EVERY;
}

int es_queryset_match(const es_queryset *qs, es_match_rt *rt, const char *text, size_t n, uint32_t *out) {
  return es_queryset_match_meta(qs, rt, text, n, NULL, out);
}

int es_queryset_match_meta(const es_queryset *qs, es_match_rt *rt, const char *text, size_t n,
                           const es_match_meta *meta, uint32_t *out) {
  for (uint32_t i = 0; i < rt->nhits; i++) rt->bits[rt->hits[i] >> 6] = 0;
  rt->nhits = 0;
  rt->nocc = 0;
  rt->tok_done = false;
  rt->text = text;
  rt->n = n;
  if (qs->db && n) {
    if (n > UINT32_MAX) return ES_ERANGE;
    if (hs_scan(qs->db, text, (unsigned)n, 0, rt->scratch, on_match, rt) != HS_SUCCESS) return ES_EHYPERSCAN;
  }
  /* Phrases, from the positions of their words. */
  for (uint32_t i = 0, nh = rt->nhits; i < nh; i++) {
    uint32_t a = rt->hits[i];
    if (!(rt->cb[a].flags & ES_CB_PHRASE_FIRST)) continue;
    for (uint32_t k = qs->first_off[a]; k < qs->first_off[a + 1]; k++)
      if (!es_match_rt_atom_hit(rt, qs->first_of[k]) && phrase_holds(qs, rt, qs->first_of[k])) set_hit(rt, qs->first_of[k]);
  }
  /* Field filters, from the metadata. */
  for (size_t i = 0; meta && i < qs->nfields; i++)
    if (es_field_holds(&qs->atoms[qs->fields[i]], meta)) set_hit(rt, qs->fields[i]);
  if (++rt->cur == 0) { /* stamp wrapped after 4 billion texts: reset */
    memset(rt->stamp, 0, qs->nqueries * sizeof *rt->stamp);
    if (rt->nstamp) memset(rt->nstamp, 0, qs->nnears * sizeof *rt->nstamp);
    rt->cur = 1;
  }
  if (rt->freq) {
    for (uint32_t i = 0; i < rt->nhits; i++) rt->freq[rt->hits[i]]++;
    if (++rt->ntexts == rt->next_reindex) reindex(qs, rt);
  }
  const es_posting *q_list = rt->q_list;
  uint32_t nc = 0;
  for (uint32_t i = 0; i < rt->nhits; i++) {
    uint32_t a = rt->hits[i];
    for (uint32_t k = rt->cb[a].post, end = k + rt->cb[a].npost; k < end; k++) {
      /* without branches on the filter: whether it passes is unpredictable */
      uint32_t pq = q_list[k].query, f = q_list[k].filter, pass = (uint32_t)(rt->bits[f >> 6] >> (f & 63)) & 1;
      rt->cands[nc] = pq & ~ES_POSTING_ONCE;
      if (!(pq & ES_POSTING_ONCE)) { /* the query may be reached through another atom too */
        uint32_t q = pq & ES_POSTING_HOLDS ? pq & ES_POSTING_QUERY : qs->qeval[pq & ES_POSTING_QUERY], st = rt->stamp[q];
        pass &= st != rt->cur;
        rt->stamp[q] = pass ? rt->cur : st;
      }
      nc += pass;
    }
  }
  for (size_t i = 0; i < qs->nalways; i++) rt->cands[nc++] = qs->qeval_off[qs->always[i]]; /* never in the index */
  int nout = 0;
  for (uint32_t i = 0; i < nc; i++) {
    if (rt->cands[i] & ES_POSTING_HOLDS) { /* without looking at the query */
      out[nout++] = rt->cands[i] & ~ES_POSTING_HOLDS;
      continue;
    }
    const uint32_t *e = qs->qeval + rt->cands[i]; /* the query's index, then its form */
    if (!(e[1] & ES_EVAL_PROG)) {
      if (eval_holds(e + 1, rt->bits)) out[nout++] = e[0];
      continue;
    }
    const es_query *q = &qs->queries[e[0]];
    if (q->nnear) eval_nears(qs, rt, q);
    if (es__prog_eval(q->prog, q->nprog, rt->bits, rt->nbits)) out[nout++] = e[0];
  }
  sort_u32(out, (uint32_t)nout);
  return nout;
}
