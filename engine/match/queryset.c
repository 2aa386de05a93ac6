/* Query set compilation (the matching itself is in match.c).
 *
 * Every query is parsed into a tree and a postfix program. Terms and
 * wildcard stems of all queries become byte literals in one Hyperscan
 * database (an atom shared by a thousand queries is scanned once); phrases
 * are not patterns but sequences of word atoms, checked from the word
 * positions. Literals compile fast (10,000 in about half a second here)
 * where Hyperscan's Unicode word boundaries (\b is unsupported in UCP mode,
 * and UCP classes took 50 ms per pattern) would not; the Unicode-exact
 * word-boundary rule is checked in the match callback instead, by decoding
 * the neighbouring code points. An index maps each atom to the queries
 * whose trigger set holds it (es__index_build), so a mention only evaluates
 * queries that may hold, plus those true with none (pure NOT queries). NOT
 * is evaluated after the whole text was scanned, never by Hyperscan's
 * early-firing combination logic. */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "earshot/buf.h"
#include "earshot/hash.h"
#include "match_internal.h"

bool es__prog_eval(const uint32_t *prog, uint32_t n, const uint64_t *bits, const uint64_t *nbits) {
  /* Depth never exceeds the number of PUSH ops, bounded by the atom limit. */
  uint8_t st[ES_QUERY_MAX_ATOMS + 1];
  int sp = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t op = prog[i], arg = ES_OP_ARG(op);
    switch (ES_OP_CODE(op)) {
    case ES_OP_PUSH:
      if (arg & ES_OP_NEAR_FLAG) {
        arg &= ~ES_OP_NEAR_FLAG;
        st[sp++] = (nbits[arg >> 6] >> (arg & 63)) & 1;
      } else {
        st[sp++] = (bits[arg >> 6] >> (arg & 63)) & 1;
      }
      break;
    case ES_OP_NOT: st[sp - 1] = !st[sp - 1]; break;
    case ES_OP_AND: {
      uint8_t v = 1;
      for (uint32_t k = 0; k < arg; k++) v &= st[sp - 1 - (int)k];
      sp -= (int)arg;
      st[sp++] = v;
      break;
    }
    default: { /* ES_OP_OR */
      uint8_t v = 0;
      for (uint32_t k = 0; k < arg; k++) v |= st[sp - 1 - (int)k];
      sp -= (int)arg;
      st[sp++] = v;
    }
    }
  }
  return sp == 1 && st[0];
}

static size_t prog_len(const es_qnode *nd) {
  size_t n = 1;
  if (nd->kind == ES_Q_NEAR) return 1; /* evaluated from positions, pushed as one value */
  for (uint32_t i = 0; i < nd->nkids; i++) n += prog_len(nd->kids[i]);
  return n;
}

static void prog_emit(const es_qnode *nd, uint32_t *out, uint32_t *n) {
  if (nd->kind == ES_Q_NEAR) {
    out[(*n)++] = ES_OP(ES_OP_PUSH, ES_OP_NEAR_FLAG | nd->near);
    return;
  }
  for (uint32_t i = 0; i < nd->nkids; i++) prog_emit(nd->kids[i], out, n);
  switch (nd->kind) {
  case ES_Q_ATOM: out[(*n)++] = ES_OP(ES_OP_PUSH, nd->atom); break;
  case ES_Q_NOT: out[(*n)++] = ES_OP(ES_OP_NOT, 0); break;
  case ES_Q_AND: out[(*n)++] = ES_OP(ES_OP_AND, nd->nkids); break;
  default: out[(*n)++] = ES_OP(ES_OP_OR, nd->nkids); break;
  }
}

/* A Hyperscan expression matching exactly the bytes of a folded atom:
 * every byte outside [a-z0-9_ ] is written as \xHH, so the expression is a
 * literal (compiled without HS_FLAG_UTF8: bytes, caseless for ASCII). */
static char *atom_pattern(const es_atom *a) {
  if (a->kind == ES_ATOM_REGEX) return es_strndup(a->text + 1, a->rx_len);
  es_buf b;
  es_buf_init(&b);
  for (size_t i = 0; i < a->len; i++) {
    unsigned char c = (unsigned char)a->text[i];
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') es_buf_putc(&b, (char)c);
    else if (c == '?') /* one code point; the callback checks it is a word character */
      es_buf_puts(&b, "(?:[0-9a-z_]|[\\xc0-\\xdf][\\x80-\\xbf]|[\\xe0-\\xef][\\x80-\\xbf]{2}|[\\xf0-\\xf7][\\x80-\\xbf]{3})");
    else es_buf_printf(&b, "\\x%02x", c);
  }
  es_buf_putc(&b, 0);
  if (b.oom) {
    es_buf_free(&b);
    return NULL;
  }
  return b.data;
}

static bool edge_is_word(const char *s, size_t n, bool last) {
  size_t i = 0, len;
  if (last) {
    i = n - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80) i--;
  }
  return es__is_word_cp(es__utf8_decode(s, n, i, &len));
}

/* Splits every phrase into word atoms (interned as terms, so a word shared
 * with a term or another phrase is scanned once) and records them in CSR
 * form. Runs before the table is handed to the query set. */
static int expand_phrases(es_atom_table *tab, uint32_t **words_out, uint32_t **off_out) {
  size_t nphrase_atoms = tab->n, total = 0;
  uint32_t *off = es_calloc(nphrase_atoms + 1, sizeof *off);
  if (!off) return ES_ENOMEM;
  for (size_t a = 0; a < nphrase_atoms; a++) {
    off[a + 1] = off[a];
    if (tab->atoms[a].kind != ES_ATOM_PHRASE) continue;
    for (size_t i = 0; i < tab->atoms[a].len; i++) off[a + 1] += tab->atoms[a].text[i] == ' ';
    off[a + 1]++;
  }
  total = off[nphrase_atoms];
  uint32_t *words = es_malloc((total ? total : 1) * sizeof *words);
  if (!words) {
    es_free(off);
    return ES_ENOMEM;
  }
  for (size_t a = 0; a < nphrase_atoms; a++) {
    if (tab->atoms[a].kind != ES_ATOM_PHRASE) continue;
    uint32_t k = off[a];
    /* tab->atoms may move while interning: re-read it each time. */
    for (size_t pos = 0; pos < tab->atoms[a].len;) {
      const char *t = tab->atoms[a].text;
      const char *sp = memchr(t + pos, ' ', tab->atoms[a].len - pos);
      size_t wn = sp ? (size_t)(sp - (t + pos)) : tab->atoms[a].len - pos;
      char *w = es_strndup(t + pos, wn);
      long id = w ? es__atom_intern(tab, ES_ATOM_TERM, w, wn) : -1;
      if (id < 0) {
        es_free(off);
        es_free(words);
        return ES_ENOMEM;
      }
      words[k++] = (uint32_t)id;
      pos += wn + 1;
    }
  }
  /* Atoms interned above have no phrase entry: extend off with empty rows. */
  uint32_t *off2 = es_realloc(off, (tab->n + 1) * sizeof *off2);
  if (!off2) {
    es_free(off);
    es_free(words);
    return ES_ENOMEM;
  }
  for (size_t a = nphrase_atoms; a < tab->n; a++) off2[a + 1] = off2[a];
  *words_out = words;
  *off_out = off2;
  return 0;
}

/* A trigger set of a tree: atoms such that the tree can only be true when
 * one of them matched. AND needs just one of its children's sets (the one
 * whose atoms are used by the fewest queries, a proxy for rare words); OR
 * needs all of them; NOT gives none. Returns true when no such set exists
 * (the tree can hold with no atom at all): the query is evaluated for every
 * mention. Indexing queries by trigger sets keeps "brand AND rare word"
 * queries from being evaluated on every mention of the brand. */
static bool trigger_set(const es_qnode *nd, const uint64_t *cost, uint32_t *out, uint32_t *n) {
  switch (nd->kind) {
  case ES_Q_ATOM: out[(*n)++] = nd->atom; return false;
  case ES_Q_NOT: return true;
  case ES_Q_OR:
    for (uint32_t i = 0; i < nd->nkids; i++)
      if (trigger_set(nd->kids[i], cost, out, n)) return true;
    return false;
  default: { /* AND */
    uint32_t best[ES_QUERY_MAX_ATOMS], nbest = 0, tmp[ES_QUERY_MAX_ATOMS];
    uint64_t best_cost = UINT64_MAX;
    for (uint32_t i = 0; i < nd->nkids; i++) {
      uint32_t k = 0;
      if (trigger_set(nd->kids[i], cost, tmp, &k)) continue;
      uint64_t c = 0;
      for (uint32_t j = 0; j < k; j++) c += cost[tmp[j]];
      if (c < best_cost) {
        best_cost = c;
        nbest = k;
        memcpy(best, tmp, k * sizeof *tmp);
      }
    }
    if (best_cost == UINT64_MAX) return true;
    memcpy(out + *n, best, nbest * sizeof *best);
    *n += nbest;
    return false;
  }
  }
}

/* Atom nodes of a tree, NEAR operands included. */
static size_t atom_nodes(const es_qnode *nd) {
  size_t n = nd->kind == ES_Q_ATOM;
  for (uint32_t i = 0; i < nd->nkids; i++) n += atom_nodes(nd->kids[i]);
  return n;
}

/* Atoms that must have matched for the tree to hold (those of its ANDs and
 * NEARs down to the first OR or NOT). */
static void required_atoms(const es_qnode *nd, uint32_t *out, uint32_t *n) {
  if (nd->kind == ES_Q_ATOM) out[(*n)++] = nd->atom;
  if (nd->kind == ES_Q_AND || nd->kind == ES_Q_NEAR)
    for (uint32_t i = 0; i < nd->nkids; i++) required_atoms(nd->kids[i], out, n);
}

/* Builds the atom -> postings index (CSR: off[a] .. off[a+1] in list) over
 * each query's trigger set, chosen by `cost` per atom; queries with none go
 * to `always` when it is not NULL. Each posting carries a filter: the
 * cheapest atom the query requires besides its trigger set (or the atom
 * that is always set), tested before the query becomes a candidate. A
 * "brand AND common AND common" query is then evaluated only on texts with
 * both common words, not on every text with one of them. list holds at
 * most qs->max_postings entries; seen (natoms bits) must be zero and is
 * left zero. No allocation. */
void es__index_build(const es_queryset *qs, const uint64_t *cost, uint64_t *seen, uint32_t *fill, uint32_t *off,
                     es_posting *list, uint32_t *always, size_t *nalways) {
  memset(off, 0, (qs->natoms + 1) * sizeof *off);
  memset(fill, 0, (qs->natoms + 1) * sizeof *fill);
  if (always) *nalways = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t q = 0; q < qs->nqueries; q++) {
      uint32_t set[ES_QUERY_MAX_ATOMS], n = 0, req[ES_QUERY_MAX_ATOMS], nreq = 0, filter = ES_ATOM_ALWAYS(qs);
      if (trigger_set(qs->queries[q].root, cost, set, &n)) {
        if (pass == 0 && always) always[(*nalways)++] = (uint32_t)q;
        continue;
      }
      if (pass == 1) {
        required_atoms(qs->queries[q].root, req, &nreq);
        uint64_t best = UINT64_MAX;
        for (uint32_t i = 0; i < nreq; i++) {
          bool in_set = false;
          for (uint32_t j = 0; j < n && !in_set; j++) in_set = set[j] == req[i];
          if (!in_set && cost[req[i]] < best) {
            best = cost[req[i]];
            filter = req[i];
          }
        }
      }
      for (uint32_t i = 0; i < n; i++) {
        uint32_t a = set[i];
        if (seen[a >> 6] >> (a & 63) & 1) continue;
        seen[a >> 6] |= 1ULL << (a & 63);
        if (pass == 0) off[a + 1]++;
        else
          list[off[a] + fill[a]++] = (es_posting){
              (qs->queries[q].any_atom ? (uint32_t)q | ES_POSTING_HOLDS : qs->qeval_off[q]) | (n == 1 ? ES_POSTING_ONCE : 0),
              filter};
      }
      for (uint32_t i = 0; i < n; i++) seen[set[i] >> 6] = 0;
    }
    if (pass == 0)
      for (size_t a = 0; a < qs->natoms; a++) off[a + 1] += off[a];
  }
}

/* Field, comparison and value of a field filter from its canonical text
 * (written by the parser: "lang:en", "followers:>=1000"). */
void es__parse_field(es_atom *a) {
  static const char *const names[] = {"lang:", "source:", "author:", "followers:"};
  for (int f = 0; f < 4; f++)
    if (!strncmp(a->text, names[f], strlen(names[f]))) {
      a->field = f;
      a->val = strlen(names[f]);
    }
  a->cmp = ES_CMP_EQ;
  if (a->field != ES_FIELD_FOLLOWERS) return;
  const char *v = a->text + a->val;
  if (v[0] == '>') a->cmp = v[1] == '=' ? ES_CMP_GE : ES_CMP_GT;
  else if (v[0] == '<') a->cmp = v[1] == '=' ? ES_CMP_LE : ES_CMP_LT;
  while (*v && (*v < '0' || *v > '9')) v++;
  a->num = strtoull(v, NULL, 10);
}

static bool same_ci(const char *x, size_t xn, const char *v, size_t vn) {
  if (xn != vn) return false;
  for (size_t i = 0; i < xn; i++) {
    char c = x[i] >= 'A' && x[i] <= 'Z' ? (char)(x[i] + 32) : x[i];
    if (c != v[i]) return false;
  }
  return true;
}

bool es_field_holds(const es_atom *a, const es_match_meta *m) {
  if (!m || a->kind != ES_ATOM_FIELD) return false;
  const char *v = a->text + a->val;
  size_t vn = a->len - a->val;
  switch (a->field) {
  case ES_FIELD_LANG: return m->lang_n ? same_ci(m->lang, m->lang_n, v, vn) : same_ci("und", 3, v, vn);
  case ES_FIELD_SOURCE: return m->source_n ? same_ci(m->source, m->source_n, v, vn) : same_ci("unknown", 7, v, vn);
  case ES_FIELD_AUTHOR: {
    const char *s = m->author;
    size_t n = m->author_n;
    if (n && s[0] == '@') s++, n--;
    return n && same_ci(s, n, v, vn);
  }
  default:
    switch (a->cmp) {
    case ES_CMP_GT: return m->followers > a->num;
    case ES_CMP_GE: return m->followers >= a->num;
    case ES_CMP_LT: return m->followers < a->num;
    case ES_CMP_LE: return m->followers <= a->num;
    default: return m->followers == a->num;
    }
  }
}

static bool tree_has_atom(const es_qnode *nd, uint32_t a) {
  if (nd->kind == ES_Q_ATOM) return nd->atom == a;
  for (uint32_t i = 0; i < nd->nkids; i++)
    if (tree_has_atom(nd->kids[i], a)) return true;
  return false;
}

/* The id of the first query that uses atom a (for error messages). */
static const char *query_of_atom(const es_queryset *qs, uint32_t a) {
  for (size_t q = 0; q < qs->nqueries; q++)
    if (tree_has_atom(qs->queries[q].root, a)) return qs->queries[q].id;
  return "?";
}

/* Only atoms and ORs: the query's trigger set is all of its atoms, so it
 * holds whenever it is a candidate. */
/* The words of a query's plain terms and phrases outside NOT (each once):
 * its subject words. Prefixes, wildcards and patterns name families of
 * words (a topic, not a name) and stay scored. */
#define ES_SUBJECT_MAX 64
static void subject_walk(const es_queryset *qs, const es_qnode *nd, const char **w, uint16_t *wl, uint32_t *n) {
  if (nd->kind == ES_Q_NOT) return;
  if (nd->kind != ES_Q_ATOM) {
    for (uint32_t i = 0; i < nd->nkids; i++) subject_walk(qs, nd->kids[i], w, wl, n);
    return;
  }
  const es_atom *a = &qs->atoms[nd->atom];
  if ((a->kind != ES_ATOM_TERM && a->kind != ES_ATOM_PHRASE) || a->wild || memchr(a->text, '?', a->len)) return;
  for (size_t i = 0; i < a->len && *n < ES_SUBJECT_MAX;) {
    size_t j = i;
    while (j < a->len && a->text[j] != ' ') j++;
    bool dup = false;
    for (uint32_t k = 0; k < *n && !dup; k++) dup = wl[k] == j - i && !memcmp(w[k], a->text + i, j - i);
    if (!dup && j > i && j - i < 65536) {
      w[*n] = a->text + i;
      wl[(*n)++] = (uint16_t)(j - i);
    }
    i = j + 1;
  }
}

static int subject_words(es_queryset *qs, es_query *q) {
  const char *w[ES_SUBJECT_MAX];
  uint16_t wl[ES_SUBJECT_MAX];
  uint32_t n = 0;
  subject_walk(qs, q->root, w, wl, &n);
  q->nsubject = n;
  if (!n) return 0;
  q->subject = es_arena_alloc(&qs->arena, n * sizeof *q->subject);
  q->subject_len = es_arena_alloc(&qs->arena, n * sizeof *q->subject_len);
  if (!q->subject || !q->subject_len) return -1;
  memcpy(q->subject, w, n * sizeof *w);
  memcpy(q->subject_len, wl, n * sizeof *wl);
  return 0;
}

size_t es_queryset_subject(const es_queryset *qs, const uint32_t *hits, size_t nh, const char **words, uint16_t *lens,
                           size_t cap) {
  size_t n = 0;
  for (size_t k = 0; k < nh; k++) {
    const es_query *q = &qs->queries[hits[k]];
    for (uint32_t j = 0; j < q->nsubject && n < cap; j++, n++) {
      words[n] = q->subject[j];
      lens[n] = q->subject_len[j];
    }
  }
  return n;
}

static bool any_atom(const es_qnode *nd) {
  if (nd->kind == ES_Q_ATOM) return true;
  if (nd->kind != ES_Q_OR) return false;
  for (uint32_t i = 0; i < nd->nkids; i++)
    if (!any_atom(nd->kids[i])) return false;
  return true;
}

/* Numbers the NEAR nodes of a tree and lists them in qs->nears. */
static int collect_nears(es_queryset *qs, es_qnode *nd) {
  if (nd->kind == ES_Q_NEAR) {
    if (qs->nnears % 64 == 0) {
      const es_qnode **n = es_realloc(qs->nears, (qs->nnears + 64) * sizeof *n);
      if (!n) return ES_ENOMEM;
      qs->nears = n;
    }
    nd->near = (uint32_t)qs->nnears;
    qs->nears[qs->nnears++] = nd;
    return 0; /* operands are atoms and ORs */
  }
  for (uint32_t i = 0; i < nd->nkids; i++)
    if (collect_nears(qs, nd->kids[i])) return ES_ENOMEM;
  return 0;
}

/* Operand atoms of NEAR nodes record their occurrences (phrases: their
 * words already do). */
static void mark_positional(es_queryset *qs, const es_qnode *nd) {
  if (nd->kind == ES_Q_ATOM) {
    if (qs->atoms[nd->atom].kind != ES_ATOM_PHRASE) qs->atoms[nd->atom].positional = true;
    return;
  }
  for (uint32_t i = 0; i < nd->nkids; i++) mark_positional(qs, nd->kids[i]);
}

/* The conjunctive form queries are evaluated in when they have one: an AND
 * of clauses, each an OR of literals (an atom, or NOT an atom). Written
 * per query at qeval_off[q] in qeval: the query's index (index entries of
 * evaluated queries point here), the number of clauses (or
 * ES_EVAL_PROG: evaluate the query's program, which NEARs need), then per
 * clause its number of literals and the literals (atom | ES_EVAL_NEG).
 * Candidates are then checked from one small array, without the query's
 * record or a stack machine. */

static bool literal_of(const es_qnode *nd, uint32_t *lit) {
  if (nd->kind == ES_Q_ATOM) return *lit = nd->atom, true;
  if (nd->kind == ES_Q_NOT && nd->kids[0]->kind == ES_Q_ATOM) return *lit = nd->kids[0]->atom | ES_EVAL_NEG, true;
  return false;
}

/* Appends a clause (count, literals) for nd, or returns false. */
static bool clause_of(const es_qnode *nd, uint32_t *out, uint32_t *n) {
  uint32_t start = *n;
  out[(*n)++] = 0;
  if (literal_of(nd, &out[*n])) {
    (*n)++;
  } else if (nd->kind == ES_Q_OR) {
    for (uint32_t i = 0; i < nd->nkids; i++)
      if (!literal_of(nd->kids[i], &out[(*n)++])) return false;
  } else {
    return false;
  }
  out[start] = *n - start - 1;
  return true;
}

/* Writes the conjunctive form of a query (at most 2 * nprog + 1 words). */
static uint32_t eval_form(const es_query *q, uint32_t *out) {
  uint32_t n = 1;
  bool ok = true;
  if (q->root->kind == ES_Q_AND) {
    for (uint32_t i = 0; i < q->root->nkids && ok; i++) ok = clause_of(q->root->kids[i], out, &n);
    out[0] = q->root->nkids;
  } else {
    ok = clause_of(q->root, out, &n);
    out[0] = 1;
  }
  if (ok) return n;
  out[0] = ES_EVAL_PROG;
  return 1;
}

static int valid_id(const char *id) {
  if (!id || !*id || strlen(id) > 128) return 0;
  for (const char *c = id; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')) return 0;
  return 1;
}

es_queryset *es_queryset_compile(const es_query_def *defs, size_t n, int *err, es_diag *diag) {
  return es_queryset_compile_opts(defs, n, NULL, err, diag);
}

bool es_queryset_accent_insensitive(const es_queryset *qs) { return qs->accent_insensitive; }

es_queryset *es_queryset_compile_opts(const es_query_def *defs, size_t n, const es_query_opts *o, int *err,
                                      es_diag *diag) {
  es_atom_table tab = {0};
  hs_compile_error_t *cerr = NULL;
  unsigned *flags = NULL, *ids = NULL;
  uint32_t *fill = NULL, *idslot;
  *err = ES_ENOMEM;
  es_queryset *qs = es_calloc(1, sizeof *qs);
  if (!qs) goto oom;
  es_arena_init(&qs->arena, 65536);
  if (n > ES_POSTING_QUERY) {
    *err = es_diag_set(diag, ES_EQUERY, "%zu queries: at most %u fit in one query set", n, ES_POSTING_QUERY);
    goto fail;
  }
  qs->accent_insensitive = o && o->accent_insensitive;
  qs->queries = es_calloc(n ? n : 1, sizeof *qs->queries);
  size_t idcap = 16;
  while (idcap < n * 2) idcap *= 2;
  idslot = qs->id_slot = es_calloc(idcap, sizeof *idslot);
  qs->id_mask = idcap - 1;
  if (!qs->queries || !idslot) goto oom;
  for (size_t i = 0; i < n; i++) {
    const es_query_def *d = &defs[i];
    const char *where = d->file ? d->file : "queries";
    if (!valid_id(d->id)) {
      *err = es_diag_set(diag, ES_EQUERY, "%s:%d: query id '%s' is invalid: use 1-128 characters of a-z, 0-9, '_' and '-'",
                         where, d->line, d->id ? d->id : "");
      goto fail;
    }
    /* ids seen so far, in an open-addressing table kept for
     * es_queryset_find (a pairwise check took 20 s for 100,000 queries) */
    size_t h = (size_t)es_hash_bytes(d->id, strlen(d->id)) & (idcap - 1);
    for (; idslot[h]; h = (h + 1) & (idcap - 1))
      if (!strcmp(defs[idslot[h] - 1].id, d->id)) {
        *err = es_diag_set(diag, ES_EQUERY, "%s:%d: query id '%s' is used twice (first at line %d); ids must be unique",
                           where, d->line, d->id, defs[idslot[h] - 1].line);
        goto fail;
      }
    idslot[h] = (uint32_t)i + 1;
    if (!d->expr) {
      *err = es_diag_set(diag, ES_EQUERY, "%s:%d: query '%s' has no 'query' expression", where, d->line, d->id);
      goto fail;
    }
    es_query *q = &qs->queries[i];
    es_diag pd;
    q->root = es__query_parse(d->id, d->expr, qs->accent_insensitive, &qs->arena, &tab, err, &pd);
    if (!q->root) {
      es_diag_set(diag, *err, "%s:%d: %s", where, d->line, pd.msg);
      goto fail;
    }
    q->id = es_arena_strndup(&qs->arena, d->id, strlen(d->id));
    const char *name = d->name ? d->name : d->id;
    q->name = es_arena_strndup(&qs->arena, name, strlen(name));
    q->expr = es_arena_strndup(&qs->arena, d->expr, strlen(d->expr));
    q->near_first = (uint32_t)qs->nnears;
    if (collect_nears(qs, q->root)) goto oom;
    q->nnear = (uint32_t)qs->nnears - q->near_first;
    q->any_atom = any_atom(q->root);
    q->nprog = (uint32_t)prog_len(q->root);
    q->prog = es_arena_alloc(&qs->arena, q->nprog * sizeof *q->prog);
    if (!q->id || !q->name || !q->expr || !q->prog) goto oom;
    uint32_t k = 0;
    prog_emit(q->root, q->prog, &k);
    q->negative_at_least = d->negative_at_least;
    q->count_at_least = d->count_at_least;
    qs->nqueries++;
  }
  {
    size_t total = 0;
    for (size_t q = 0; q < qs->nqueries; q++) total += 2 * (size_t)qs->queries[q].nprog + 2;
    if (total > ES_POSTING_QUERY) {
      *err = es_diag_set(diag, ES_EQUERY, "the queries are too large for one query set (%zu words of programs)", total);
      goto fail;
    }
    qs->qeval_off = es_malloc((qs->nqueries ? qs->nqueries : 1) * sizeof *qs->qeval_off);
    qs->qeval = es_malloc((total ? total : 1) * sizeof *qs->qeval);
    if (!qs->qeval_off || !qs->qeval) goto oom;
    uint32_t at = 0;
    for (size_t q = 0; q < qs->nqueries; q++) {
      qs->qeval_off[q] = at;
      qs->qeval[at] = (uint32_t)q;
      at += 1 + eval_form(&qs->queries[q], qs->qeval + at + 1);
    }
  }
  if (expand_phrases(&tab, &qs->phrase_words, &qs->phrase_off)) goto oom;
  /* Take the atoms over from the table. */
  qs->atoms = tab.atoms;
  qs->natoms = tab.n;
  tab.atoms = NULL;
  tab.n = 0;
  es__atom_table_free(&tab);

  for (size_t q = 0; q < qs->nqueries; q++)
    if (subject_words(qs, &qs->queries[q])) goto oom;

  qs->first_off = es_calloc(qs->natoms + 1, sizeof *qs->first_off);
  qs->fields = es_malloc((qs->natoms ? qs->natoms : 1) * sizeof *qs->fields);
  if (!qs->fields) goto oom;
  qs->patterns = es_calloc(qs->natoms ? qs->natoms : 1, sizeof *qs->patterns);
  flags = es_calloc(qs->natoms ? qs->natoms : 1, sizeof *flags);
  ids = es_calloc(qs->natoms ? qs->natoms : 1, sizeof *ids);
  if (!qs->first_off || !qs->patterns || !flags || !ids) goto oom;
  unsigned npat = 0;
  for (size_t a = 0; a < qs->natoms; a++) {
    es_atom *at = &qs->atoms[a];
    if (at->kind == ES_ATOM_REGEX) { /* the user's expression decides everything */
      if (!(qs->patterns[npat] = atom_pattern(at))) goto oom;
      flags[npat] = HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH | HS_FLAG_CASELESS |
                    (at->rx_flags & ES_RX_DOTALL ? HS_FLAG_DOTALL : 0) |
                    (at->rx_flags & ES_RX_MULTILINE ? HS_FLAG_MULTILINE : 0) | (at->rx_flags & ES_RX_UCP ? HS_FLAG_UCP : 0);
      ids[npat++] = (unsigned)a;
      continue;
    }
    at->wild = at->kind != ES_ATOM_PHRASE && memchr(at->text, '?', at->len) != NULL;
    at->left_word = at->text[0] == '?' || edge_is_word(at->text, at->len, false);
    at->right_word = at->text[at->len - 1] == '?' || edge_is_word(at->text, at->len, true);
    if (at->kind == ES_ATOM_FIELD) {
      es__parse_field(at);
      qs->fields[qs->nfields++] = (uint32_t)a;
      continue;
    }
    if (at->kind == ES_ATOM_PHRASE) {
      for (uint32_t k = qs->phrase_off[a]; k < qs->phrase_off[a + 1]; k++) qs->atoms[qs->phrase_words[k]].positional = true;
      qs->first_off[qs->phrase_words[qs->phrase_off[a]] + 1]++;
      continue;
    }
    if (!(qs->patterns[npat] = atom_pattern(at))) goto oom;
    flags[npat] = HS_FLAG_CASELESS | (at->wild ? HS_FLAG_SOM_LEFTMOST : 0);
    ids[npat++] = (unsigned)a;
  }
  for (size_t a = 0; a < qs->natoms; a++) qs->first_off[a + 1] += qs->first_off[a];
  for (size_t j = 0; j < qs->nnears; j++) mark_positional(qs, qs->nears[j]);
  qs->cb = es_calloc(qs->natoms ? qs->natoms : 1, sizeof *qs->cb);
  if (!qs->cb) goto oom;
  for (size_t a = 0; a < qs->natoms; a++) {
    const es_atom *at = &qs->atoms[a];
    qs->cb[a].len = (uint32_t)at->len;
    qs->cb[a].flags = (uint8_t)((at->kind == ES_ATOM_REGEX ? ES_CB_REGEX : 0) | (at->wild ? ES_CB_WILD : 0) |
                                (at->left_word ? ES_CB_LEFT : 0) |
                                (at->kind == ES_ATOM_TERM && at->right_word ? ES_CB_RIGHT : 0) |
                                (at->positional ? ES_CB_POSITIONAL : 0) |
                                (qs->first_off[a + 1] > qs->first_off[a] ? ES_CB_PHRASE_FIRST : 0));
  }
  qs->first_of = es_malloc((qs->first_off[qs->natoms] + 1) * sizeof *qs->first_of);
  fill = es_calloc(qs->natoms + 1, sizeof *fill);
  if (!qs->first_of || !fill) goto oom;
  for (size_t a = 0; a < qs->natoms; a++) {
    if (qs->atoms[a].kind != ES_ATOM_PHRASE) continue;
    uint32_t w = qs->phrase_words[qs->phrase_off[a]];
    qs->first_of[qs->first_off[w] + fill[w]++] = (uint32_t)a;
  }
  memset(fill, 0, (qs->natoms + 1) * sizeof *fill);
  if (npat) {
    hs_error_t he = hs_compile_multi((const char *const *)qs->patterns, flags, ids, npat, HS_MODE_BLOCK, NULL, &qs->db,
                                     &cerr);
    if (he != HS_SUCCESS) {
      int bad = cerr && cerr->expression >= 0 ? (int)ids[cerr->expression] : -1;
      *err = es_diag_set(diag, ES_EHYPERSCAN, "Hyperscan rejected the term '%s' (query '%s'): %s",
                         bad >= 0 ? qs->atoms[bad].text : "?", bad >= 0 ? query_of_atom(qs, (uint32_t)bad) : "?",
                         cerr ? cerr->message : "unknown error");
      goto fail;
    }
  }
  /* patterns[] was filled densely for Hyperscan; store it per atom. */
  char **per_atom = es_calloc(qs->natoms ? qs->natoms : 1, sizeof *per_atom);
  if (!per_atom) goto oom;
  for (unsigned i = 0; i < npat; i++) per_atom[ids[i]] = qs->patterns[i];
  es_free(qs->patterns);
  qs->patterns = per_atom;
  /* Atom -> queries index (CSR) over each query's trigger set, chosen
   * first by how many queries use each atom. */
  qs->uses = es_calloc(qs->natoms + 1, sizeof *qs->uses);
  qs->always = es_malloc((qs->nqueries ? qs->nqueries : 1) * sizeof *qs->always);
  if (!qs->uses || !qs->always) goto oom;
  for (size_t q = 0; q < qs->nqueries; q++) {
    qs->max_postings += atom_nodes(qs->queries[q].root); /* a trigger set has at most these */
    for (uint32_t i = 0; i < qs->queries[q].nprog; i++)
      if (ES_OP_CODE(qs->queries[q].prog[i]) == ES_OP_PUSH && !(qs->queries[q].prog[i] & ES_OP_NEAR_FLAG))
        qs->uses[ES_OP_ARG(qs->queries[q].prog[i])]++;
  }
  {
    uint64_t *cost = es_malloc((qs->natoms + 1) * sizeof *cost);
    uint64_t *seen = es_calloc((qs->natoms + 63) / 64 + 1, sizeof *seen);
    qs->atom_q_off = es_malloc((qs->natoms + 1) * sizeof *qs->atom_q_off);
    qs->atom_q = es_malloc((qs->max_postings ? qs->max_postings : 1) * sizeof *qs->atom_q);
    bool ok = cost && seen && qs->atom_q_off && qs->atom_q;
    if (ok) {
      for (size_t a = 0; a < qs->natoms; a++) cost[a] = qs->uses[a];
      es__index_build(qs, cost, seen, fill, qs->atom_q_off, qs->atom_q, qs->always, &qs->nalways);
    }
    es_free(cost);
    es_free(seen);
    if (!ok) goto oom;
  }
  es_free(flags);
  es_free(ids);
  es_free(fill);
  *err = 0;
  return qs;
oom:
  *err = es_diag_set(diag, ES_ENOMEM, "out of memory while compiling queries");
fail:
  if (cerr) hs_free_compile_error(cerr);
  es__atom_table_free(&tab);
  es_free(flags);
  es_free(ids);
  es_free(fill);
  es_queryset_destroy(qs);
  return NULL;
}

void es_queryset_destroy(es_queryset *qs) {
  if (!qs) return;
  for (size_t a = 0; a < qs->natoms; a++) {
    es_free(qs->atoms[a].text);
    if (qs->patterns) es_free(qs->patterns[a]);
  }
  es_free(qs->atoms);
  es_free(qs->patterns);
  if (qs->db) hs_free_database(qs->db);
  es_free(qs->atom_q_off);
  es_free(qs->atom_q);
  es_free(qs->uses);
  es_free(qs->cb);
  es_free(qs->qeval_off);
  es_free(qs->qeval);
  es_free(qs->always);
  es_free(qs->phrase_words);
  es_free(qs->phrase_off);
  es_free(qs->first_off);
  es_free(qs->first_of);
  es_free(qs->nears);
  es_free(qs->id_slot);
  es_free(qs->fields);
  es_free(qs->queries);
  es_arena_destroy(&qs->arena);
  es_free(qs);
}

size_t es_queryset_count(const es_queryset *qs) { return qs->nqueries; }

int64_t es_queryset_find(const es_queryset *qs, const char *key, size_t n) {
  if (!key) return -1;
  for (size_t h = (size_t)es_hash_bytes(key, n) & qs->id_mask; qs->id_slot[h]; h = (h + 1) & qs->id_mask) {
    const char *id = qs->queries[qs->id_slot[h] - 1].id;
    if (strlen(id) == n && !memcmp(id, key, n)) return qs->id_slot[h] - 1;
  }
  return -1;
}
const void *es_queryset_hs_database(const es_queryset *qs) { return qs->db; }
size_t es_queryset_db_bytes(const es_queryset *qs) {
  size_t n = 0;
  if (qs->db && hs_database_size(qs->db, &n) != HS_SUCCESS) n = 0;
  return n;
}
const es_query *es_queryset_get(const es_queryset *qs, size_t i) { return &qs->queries[i]; }
size_t es_queryset_atom_count(const es_queryset *qs) { return qs->natoms; }
const es_atom *es_queryset_atom(const es_queryset *qs, size_t i) { return &qs->atoms[i]; }
const char *es_queryset_atom_pattern(const es_queryset *qs, size_t i) { return qs->patterns[i]; }
