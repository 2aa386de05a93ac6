/* The naive reference matcher and the tree printer.
 *
 * The reference shares nothing with the Hyperscan path except the parsed
 * tree: atoms are found by plain substring search with explicit checks of
 * the word-boundary rule, phrases by trying every separator run, and the
 * tree is walked recursively. It is slow on purpose-free grounds (quadratic
 * in the worst case) and exists so contract tests can check the fast path
 * against an implementation simple enough to trust. Any thread. */
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "match_internal.h"

/* Code point ending just before byte i (i > 0). */
static int32_t cp_before(const char *s, size_t n, size_t i) {
  size_t j = i - 1, len;
  while (j > 0 && ((unsigned char)s[j] & 0xc0) == 0x80) j--;
  return es__utf8_decode(s, n, j, &len);
}

static int32_t cp_at(const char *s, size_t n, size_t i) {
  size_t len;
  return es__utf8_decode(s, n, i, &len);
}

/* ASCII letters compare caselessly (ASCII text is not folded before
 * matching); all other bytes exactly. Returns the end of the match, or 0. */
static size_t match_word_at(const char *w, size_t wn, const char *s, size_t n, size_t i) {
  size_t k = 0;
  for (; k < wn; k++) {
    if (i >= n) return 0;
    if (w[k] == '?') { /* exactly one word character */
      size_t len;
      if (!es__is_word_cp(es__utf8_decode(s, n, i, &len))) return 0;
      i += len;
      continue;
    }
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c != w[k]) return 0;
    i++;
  }
  return i;
}

static bool edge_word(const char *s, size_t n, bool last) {
  if (!n) return false;
  if (s[last ? n - 1 : 0] == '?') return true; /* a wildcard stands for a word character */
  return es__is_word_cp(last ? cp_before(s, n, n) : cp_at(s, n, 0));
}

/* Tries to match words[wi..] starting exactly at byte i, the previous word
 * having ended at i (or i being the atom's start). Returns the end of the
 * match, or 0. */
static size_t match_from(const es_atom *a, const char *const *words, const size_t *lens, size_t nw, size_t wi,
                         const char *s, size_t n, size_t i) {
  size_t e = match_word_at(words[wi], lens[wi], s, n, i);
  if (!e) return 0;
  if (wi + 1 == nw) {
    if (a->kind == ES_ATOM_PREFIX) return e;
    if (edge_word(a->text, a->len, true) && e < n && es__is_word_cp(cp_at(s, n, e))) return 0;
    return e;
  }
  /* One or more non-word characters, then the next word. */
  size_t j = e, len;
  while (j < n) {
    int32_t cp = es__utf8_decode(s, n, j, &len);
    if (es__is_word_cp(cp)) break;
    j += len;
    size_t end = match_from(a, words, lens, nw, wi + 1, s, n, j);
    if (end) return end;
  }
  return 0;
}

/* Calls fn(start, end) for each occurrence of the atom; stops when fn
 * returns true and returns true then. */
typedef bool (*occ_fn)(void *ctx, size_t start, size_t end);
static bool each_occurrence(const es_atom *a, const char *s, size_t n, occ_fn fn, void *ctx) {
  const char *words[ES_QUERY_MAX_LEN / 2 + 1];
  size_t lens[ES_QUERY_MAX_LEN / 2 + 1], nw = 0;
  for (const char *w = a->text, *end = a->text + a->len; w < end;) {
    const char *sp = a->kind == ES_ATOM_PHRASE ? memchr(w, ' ', (size_t)(end - w)) : NULL;
    words[nw] = w;
    lens[nw++] = sp ? (size_t)(sp - w) : (size_t)(end - w);
    w = sp ? sp + 1 : end;
  }
  bool left = edge_word(a->text, a->len, false);
  for (size_t i = 0; i < n; i++) {
    if (((unsigned char)s[i] & 0xc0) == 0x80) continue; /* only at code point starts */
    if (left && i > 0 && es__is_word_cp(cp_before(s, n, i))) continue;
    size_t e = match_from(a, words, lens, nw, 0, s, n, i);
    if (e && fn(ctx, i, e)) return true;
  }
  return false;
}

static bool first_occurrence(void *ctx, size_t start, size_t end) { return true; }

bool es_reference_atom(const es_atom *a, const char *s, size_t n) {
  return each_occurrence(a, s, n, first_occurrence, NULL);
}

/* ---- proximity, by exhaustive search over token spans ------------------ */

#define REF_MAX_OCC 512

typedef struct ref_span {
  size_t s, e, first, end; /* bytes [s, e), tokens [first, end) */
} ref_span;

typedef struct ref_ops {
  const char *s;
  size_t n;
  ref_span *out;
  size_t nout;
} ref_ops;

static size_t ref_tokens_before(const char *s, size_t n, size_t b) {
  uint32_t starts[1]; /* counting only */
  return es__tokens(s, b < n ? b : n, starts, 0);
}

static bool collect(void *ctx, size_t start, size_t end) {
  ref_ops *o = ctx;
  if (o->nout < REF_MAX_OCC)
    o->out[o->nout++] = (ref_span){start, end, ref_tokens_before(o->s, o->n, start), ref_tokens_before(o->s, o->n, end)};
  return false;
}

static void ref_operand(const es_queryset *qs, const es_qnode *nd, ref_ops *o) {
  if (nd->kind == ES_Q_ATOM) {
    each_occurrence(&qs->atoms[nd->atom], o->s, o->n, collect, o);
    return;
  }
  for (uint32_t i = 0; i < nd->nkids; i++) ref_operand(qs, nd->kids[i], o);
}

/* Tokens between x and y when x ends before y starts; -1 otherwise. */
static long ref_gap(const ref_span *x, const ref_span *y) {
  if (x->e > y->s) return -1;
  return y->first >= x->end ? (long)(y->first - x->end) : 0;
}

/* Is there a chain of operands k.. after `prev` with total gap <= budget? */
static bool ref_chain(ref_span *const *ops, const size_t *nops, uint32_t k, uint32_t m, const ref_span *prev,
                      long budget) {
  if (k == m) return true;
  for (size_t i = 0; i < nops[k]; i++) {
    long g = ref_gap(prev, &ops[k][i]);
    if (g >= 0 && g <= budget && ref_chain(ops, nops, k + 1, m, &ops[k][i], budget - g)) return true;
  }
  return false;
}

static bool ref_near(const es_queryset *qs, const es_qnode *nd, const char *s, size_t n) {
  ref_span *buf = es_malloc((size_t)nd->nkids * REF_MAX_OCC * sizeof *buf);
  if (!buf) return false;
  ref_span *ops[ES_QUERY_MAX_ATOMS];
  size_t nops[ES_QUERY_MAX_ATOMS];
  for (uint32_t k = 0; k < nd->nkids; k++) {
    ref_ops o = {s, n, buf + (size_t)k * REF_MAX_OCC, 0};
    ref_operand(qs, nd->kids[k], &o);
    ops[k] = o.out;
    nops[k] = o.nout;
  }
  long d = (long)nd->dist;
  bool hold = false;
  if (!nd->ordered) {
    for (size_t i = 0; i < nops[0] && !hold; i++)
      for (size_t j = 0; j < nops[1] && !hold; j++) {
        long g1 = ref_gap(&ops[0][i], &ops[1][j]), g2 = ref_gap(&ops[1][j], &ops[0][i]);
        hold = (g1 >= 0 && g1 <= d) || (g2 >= 0 && g2 <= d);
      }
  } else {
    for (size_t i = 0; i < nops[0] && !hold; i++) hold = ref_chain(ops, nops, 1, nd->nkids, &ops[0][i], d);
  }
  es_free(buf);
  return hold;
}

/* A /regex/ atom through PCRE2 (an engine independent of Hyperscan), with
 * the same flags; true when it matches anywhere. */
static bool ref_regex(const es_atom *a, const char *s, size_t n) {
  uint32_t opt = PCRE2_UTF | PCRE2_CASELESS |
                 (a->rx_flags & ES_RX_DOTALL ? PCRE2_DOTALL : 0) | (a->rx_flags & ES_RX_MULTILINE ? PCRE2_MULTILINE : 0) |
                 (a->rx_flags & ES_RX_UCP ? PCRE2_UCP : 0);
  int ecode;
  PCRE2_SIZE eoff;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)(a->text + 1), a->rx_len, opt, &ecode, &eoff, NULL);
  if (!re) return false;
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
  int rc = md ? pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL) : -1;
  pcre2_match_data_free(md);
  pcre2_code_free(re);
  return rc >= 0;
}

static bool eval_node(const es_queryset *qs, const es_qnode *nd, const char *s, size_t n, const es_match_meta *m) {
  switch (nd->kind) {
  case ES_Q_ATOM:
    if (qs->atoms[nd->atom].kind == ES_ATOM_FIELD) return es_field_holds(&qs->atoms[nd->atom], m);
    if (qs->atoms[nd->atom].kind == ES_ATOM_REGEX) return ref_regex(&qs->atoms[nd->atom], s, n);
    return es_reference_atom(&qs->atoms[nd->atom], s, n);
  case ES_Q_NOT: return !eval_node(qs, nd->kids[0], s, n, m);
  case ES_Q_NEAR: return ref_near(qs, nd, s, n);
  case ES_Q_AND:
    for (uint32_t i = 0; i < nd->nkids; i++)
      if (!eval_node(qs, nd->kids[i], s, n, m)) return false;
    return true;
  default:
    for (uint32_t i = 0; i < nd->nkids; i++)
      if (eval_node(qs, nd->kids[i], s, n, m)) return true;
    return false;
  }
}

bool es_reference_match(const es_queryset *qs, size_t q, const char *s, size_t n) {
  return eval_node(qs, qs->queries[q].root, s, n, NULL);
}

bool es_reference_match_meta(const es_queryset *qs, size_t q, const char *s, size_t n, const es_match_meta *m) {
  return eval_node(qs, qs->queries[q].root, s, n, m);
}

typedef struct outbuf {
  char *p;
  size_t cap, len;
} outbuf;

static void put(outbuf *o, const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n && o->len + 1 < o->cap; i++) o->p[o->len++] = s[i];
  if (o->cap) o->p[o->len] = 0;
}

static void fmt(const es_queryset *qs, const es_qnode *nd, outbuf *o, bool top) {
  if (nd->kind == ES_Q_ATOM) {
    const es_atom *a = &qs->atoms[nd->atom];
    if (a->kind == ES_ATOM_PHRASE) put(o, "\"");
    char tmp[ES_QUERY_MAX_LEN + 1];
    snprintf(tmp, sizeof tmp, "%.*s", (int)a->len, a->text);
    put(o, tmp);
    put(o, a->kind == ES_ATOM_PHRASE ? "\"" : a->kind == ES_ATOM_PREFIX ? "*" : "");
    return;
  }
  if (nd->kind == ES_Q_NOT) {
    put(o, "NOT ");
    fmt(qs, nd->kids[0], o, false);
    return;
  }
  char op[32];
  if (nd->kind == ES_Q_NEAR && nd->slop_phrase) {
    put(o, "\"");
    for (uint32_t i = 0; i < nd->nkids; i++) {
      const es_atom *a = &qs->atoms[nd->kids[i]->atom];
      char tmp[ES_QUERY_MAX_LEN + 2];
      snprintf(tmp, sizeof tmp, "%s%.*s", i ? " " : "", (int)a->len, a->text);
      put(o, tmp);
    }
    snprintf(op, sizeof op, "\"~%u", nd->dist);
    put(o, op);
    return;
  }
  snprintf(op, sizeof op, " NEAR/%u%s ", nd->dist, nd->ordered ? "f" : "");
  if (!top) put(o, "(");
  for (uint32_t i = 0; i < nd->nkids; i++) {
    if (i) put(o, nd->kind == ES_Q_AND ? " AND " : nd->kind == ES_Q_NEAR ? op : " OR ");
    fmt(qs, nd->kids[i], o, false);
  }
  if (!top) put(o, ")");
}

void es_query_format(const es_queryset *qs, const es_qnode *node, char *out, size_t cap) {
  outbuf o = {out, cap, 0};
  if (cap) out[0] = 0;
  fmt(qs, node, &o, true);
}
