/* The query parser: tokenizer and recursive-descent parser producing the
 * tree of es_qnode, with atoms (terms, phrases, prefixes) registered once
 * per distinct folded text across the whole query set.
 *
 * Grammar (precedence NOT > NEAR > AND > OR; adjacency is AND):
 *   or      := and ('OR' and)*
 *   and     := near (['AND'] near)*
 *   near    := unary ['NEAR/n' | 'NEAR/nf' unary]
 *   unary   := 'NOT' unary | primary
 *   primary := '(' or ')' | TERM | "PHRASE" | "PHRASE"~n
 * NEAR operands must be terms, phrases, wildcards or OR-groups of them.
 * Operators are upper case only; "and" in lower case is a term, as in the
 * listening tools analysts know. Runs at compile time, any thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/hash.h"
#include "match_internal.h"

enum tok_kind { T_END, T_LP, T_RP, T_AND, T_OR, T_NOT, T_TERM, T_PHRASE, T_NEAR, T_REGEX };

typedef struct parser {
  const char *id, *s;
  size_t n, pos;
  /* current token */
  int kind;
  size_t start, len; /* token text (inside the quotes for phrases) */
  long slop;         /* T_PHRASE: n of "..."~n, -1 none; T_NEAR: n */
  bool ordered;      /* T_NEAR: NEAR/nf */
  int depth, natoms;
  es_arena *arena;
  es_atom_table *tab;
  es_diag *diag;
  int err;
  bool strip; /* accent-insensitive query set */
} parser;

static int fail(parser *p, size_t at, const char *fmt, const char *arg) {
  char what[512];
  snprintf(what, sizeof what, fmt, arg ? arg : "");
  es_diag_set(p->diag, ES_EQUERY, "query '%s', column %zu: %s", p->id, at + 1, what);
  p->err = ES_EQUERY;
  return -1;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int next(parser *p) {
  while (p->pos < p->n && is_space(p->s[p->pos])) p->pos++;
  p->start = p->pos;
  if (p->pos >= p->n) return p->kind = T_END;
  char c = p->s[p->pos];
  if (c == '(' || c == ')') {
    p->pos++;
    p->len = 1;
    return p->kind = c == '(' ? T_LP : T_RP;
  }
  if (c == '"') {
    size_t close = p->pos + 1;
    while (close < p->n && p->s[close] != '"') close++;
    if (close >= p->n) return fail(p, p->pos, "the phrase opened here has no closing '\"'%s", NULL);
    p->start = p->pos + 1;
    p->len = close - p->start;
    p->pos = close + 1;
    p->slop = -1;
    if (p->pos < p->n && p->s[p->pos] == '~') {
      size_t at = p->pos++;
      long v = 0;
      size_t digits = 0;
      while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9' && digits < 6) v = v * 10 + (p->s[p->pos++] - '0'), digits++;
      if (!digits) return fail(p, at, "'~' after a phrase needs a number of words: \"card fee\"~3%s", NULL);
      if (v > ES_QUERY_MAX_DIST) return fail(p, at, "proximity above 100 words; use AND for words anywhere in the text%s", NULL);
      p->slop = v;
    }
    return p->kind = T_PHRASE;
  }
  if (c == '/') { /* /regex/flags: spaces and parentheses belong to it */
    size_t close = p->pos + 1;
    while (close < p->n && p->s[close] != '/') close += p->s[close] == '\\' && close + 1 < p->n ? 2 : 1;
    if (close >= p->n || close == p->pos + 1)
      return fail(p, p->pos, "a /regex/ needs a closing '/' and a non-empty pattern%s", NULL);
    size_t f = close + 1;
    while (f < p->n && !is_space(p->s[f]) && p->s[f] != ')' && p->s[f] != '(') f++;
    p->len = f - p->pos;
    p->pos = f;
    return p->kind = T_REGEX;
  }
  size_t e = p->pos;
  while (e < p->n && !is_space(p->s[e]) && p->s[e] != '(' && p->s[e] != ')' && p->s[e] != '"') e++;
  p->len = e - p->pos;
  p->pos = e;
  const char *w = p->s + p->start;
  if (p->len == 3 && !memcmp(w, "AND", 3)) return p->kind = T_AND;
  if (p->len == 2 && !memcmp(w, "OR", 2)) return p->kind = T_OR;
  if (p->len == 3 && !memcmp(w, "NOT", 3)) return p->kind = T_NOT;
  if (p->len >= 5 && !memcmp(w, "NEAR/", 5)) {
    size_t i = 5;
    long v = 0;
    while (i < p->len && w[i] >= '0' && w[i] <= '9' && i < 11) v = v * 10 + (w[i++] - '0');
    p->ordered = i < p->len && w[i] == 'f';
    if (i == 5 || i + (size_t)p->ordered != p->len)
      return fail(p, p->start, "NEAR needs a distance: NEAR/3 (either order) or NEAR/3f (in this order)%s", NULL);
    if (v > ES_QUERY_MAX_DIST) return fail(p, p->start, "NEAR distance above 100 words; use AND for words anywhere in the text%s", NULL);
    p->slop = v;
    return p->kind = T_NEAR;
  }
  if (p->len == 4 && !memcmp(w, "NEAR", 4))
    return fail(p, p->start, "NEAR needs a distance: NEAR/3 (either order) or NEAR/3f (in this order)%s", NULL);
  return p->kind = T_TERM;
}

static uint64_t atom_hash(int kind, const char *t, size_t n) { return es_hash_bytes(t, n) ^ (uint64_t)kind; }

static int table_grow(es_atom_table *tab) {
  size_t ns = tab->nslots ? tab->nslots * 2 : 1024;
  uint32_t *slots = es_calloc(ns, sizeof *slots);
  if (!slots) return ES_ENOMEM;
  for (size_t i = 0; i < tab->n; i++) {
    size_t h = atom_hash(tab->atoms[i].kind, tab->atoms[i].text, tab->atoms[i].len) & (ns - 1);
    while (slots[h]) h = (h + 1) & (ns - 1);
    slots[h] = (uint32_t)i + 1;
  }
  es_free(tab->slots);
  tab->slots = slots;
  tab->nslots = ns;
  return 0;
}

long es__atom_intern(es_atom_table *tab, int kind, char *text, size_t len) {
  if (tab->n * 2 >= tab->nslots && table_grow(tab)) goto oom;
  size_t h = atom_hash(kind, text, len) & (tab->nslots - 1);
  for (; tab->slots[h]; h = (h + 1) & (tab->nslots - 1)) {
    es_atom *a = &tab->atoms[tab->slots[h] - 1];
    if (a->kind == kind && a->len == len && !memcmp(a->text, text, len)) {
      es_free(text);
      return (long)tab->slots[h] - 1;
    }
  }
  if (tab->n == tab->cap) {
    size_t cap = tab->cap ? tab->cap * 2 : 256;
    es_atom *atoms = es_realloc(tab->atoms, cap * sizeof *atoms);
    if (!atoms) goto oom;
    tab->atoms = atoms;
    tab->cap = cap;
  }
  tab->atoms[tab->n] = (es_atom){.kind = kind, .text = text, .len = len};
  tab->slots[h] = (uint32_t)++tab->n;
  return (long)tab->n - 1;
oom:
  es_free(text);
  return -1;
}

void es__atom_table_free(es_atom_table *tab) {
  for (size_t i = 0; i < tab->n; i++) es_free(tab->atoms[i].text);
  es_free(tab->atoms);
  es_free(tab->slots);
  memset(tab, 0, sizeof *tab);
}

static es_qnode *new_node(parser *p, int kind, size_t col) {
  es_qnode *nd = es_arena_alloc(p->arena, sizeof *nd);
  if (!nd) {
    p->err = es_diag_set(p->diag, ES_ENOMEM, "out of memory while parsing query '%s'", p->id);
    return NULL;
  }
  memset(nd, 0, sizeof *nd);
  nd->kind = kind;
  nd->col = (uint32_t)col + 1;
  return nd;
}

/* An atom node for `text` (owned from here, NULL meaning out of memory),
 * counted against the query's atom limit and interned in the set. */
static es_qnode *leaf(parser *p, int kind, char *text, size_t len, size_t at) {
  if (++p->natoms > ES_QUERY_MAX_ATOMS) {
    es_free(text);
    return fail(p, at, "too many terms: a query may have at most 256 terms and phrases; split it%s", NULL), NULL;
  }
  long a = text ? es__atom_intern(p->tab, kind, text, len) : -1;
  if (a < 0) {
    p->err = es_diag_set(p->diag, ES_ENOMEM, "out of memory while parsing query '%s'", p->id);
    return NULL;
  }
  es_qnode *nd = new_node(p, ES_Q_ATOM, at);
  if (nd) nd->atom = (uint32_t)a;
  return nd;
}

static es_qnode *intern_node(parser *p, int kind, const char *text, size_t n, size_t at) {
  size_t flen;
  char *folded = es_fold_dup_opts(text, n, p->strip, &flen);
  if (!folded) return fail(p, at, "the term is not valid UTF-8%s", NULL), NULL;
  return leaf(p, kind, folded, flen, at);
}

/* A field filter: lang:en, source:x, author:x, followers:>1000. Interned
 * by its canonical text (lower case, no '@', the comparison spelled out). */
static es_qnode *field_node(parser *p, int field, const char *w, size_t n, size_t name_len, size_t at) {
  const char *v = w + name_len;
  size_t vn = n - name_len;
  char canon[ES_QUERY_MAX_LEN + 16];
  int cn;
  if (field == ES_FIELD_FOLLOWERS) {
    const char *op = "=";
    if (vn >= 2 && (v[0] == '>' || v[0] == '<') && v[1] == '=') op = v[0] == '>' ? ">=" : "<=", v += 2, vn -= 2;
    else if (vn >= 1 && (v[0] == '>' || v[0] == '<' || v[0] == '=')) op = v[0] == '>' ? ">" : v[0] == '<' ? "<" : "=", v++, vn--;
    bool digits = vn > 0 && vn <= 18;
    for (size_t i = 0; i < vn && digits; i++) digits = v[i] >= '0' && v[i] <= '9';
    if (!digits)
      return fail(p, at, "followers: needs a comparison and a whole number, such as followers:>1000 "
                  "(>, >=, <, <=, =)%s", NULL), NULL;
    cn = snprintf(canon, sizeof canon, "followers:%s%.*s", op, (int)vn, v);
  } else {
    if (field == ES_FIELD_AUTHOR && vn && v[0] == '@') v++, vn--;
    static const char *const names[] = {"lang", "source", "author"};
    if (!vn) return fail(p, at, "%s: needs a value, such as lang:en, source:reviews or author:acmebank", names[field]), NULL;
    for (size_t i = 0; i < vn; i++)
      if (v[i] == '*' || v[i] == '?' || v[i] == ':')
        return fail(p, at + (size_t)(v + i - w), "field values are matched exactly: no '*', '?' or ':' in them%s", NULL), NULL;
    cn = snprintf(canon, sizeof canon, "%s:", names[field]);
    for (size_t i = 0; i < vn; i++) canon[cn++] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
    canon[cn] = 0;
  }
  return leaf(p, ES_ATOM_FIELD, es_strndup(canon, (size_t)cn), (size_t)cn, at);
}

/* /pattern/flags, checked by Hyperscan now so that its errors name the
 * query and the column. */
static es_qnode *regex_node(parser *p) {
  const char *w = p->s + p->start;
  size_t n = p->len, at = p->start;
  size_t close = n - 1;
  while (w[close] != '/') close--;
  int flags = 0;
  unsigned hf = HS_FLAG_UTF8 | HS_FLAG_CASELESS; /* case-insensitive, like every atom */
  for (size_t i = close + 1; i < n; i++) {
    switch (w[i]) {
    case 'i': flags |= ES_RX_CASELESS, hf |= HS_FLAG_CASELESS; break;
    case 's': flags |= ES_RX_DOTALL, hf |= HS_FLAG_DOTALL; break;
    case 'm': flags |= ES_RX_MULTILINE, hf |= HS_FLAG_MULTILINE; break;
    case 'u': flags |= ES_RX_UCP, hf |= HS_FLAG_UCP; break;
    default: return fail(p, at + i, "unknown regex flag; use i, s, m or u (/fee|charge/i)%s", NULL), NULL;
    }
  }
  char pat[ES_QUERY_MAX_LEN + 1];
  size_t pn = close - 1;
  memcpy(pat, w + 1, pn);
  pat[pn] = 0;
  hs_expr_info_t *info = NULL;
  hs_compile_error_t *cerr = NULL;
  if (hs_expression_info(pat, hf, &info, &cerr) != HS_SUCCESS) {
    fail(p, at, "this regex cannot be compiled: %s", cerr ? cerr->message : "unknown error");
    hs_free_compile_error(cerr);
    return NULL;
  }
  bool empty = info->min_width == 0;
  free(info); /* allocated by Hyperscan's default allocator */
  if (empty) return fail(p, at, "this regex can match an empty text, so it would match every mention%s", NULL), NULL;
  es_qnode *nd = leaf(p, ES_ATOM_REGEX, es_strndup(w, n), n, at); /* not folded: the pattern is the user's */
  if (nd) {
    p->tab->atoms[nd->atom].rx_flags = flags;
    p->tab->atoms[nd->atom].rx_len = pn;
  }
  return nd;
}

/* "a b c"~n: the words in this order with at most n tokens in all between
 * them, as an ordered NEAR of the words. */
static es_qnode *slop_phrase(parser *p, const char *norm, size_t nn, size_t at) {
  es_qnode *kids[ES_QUERY_MAX_ATOMS];
  uint32_t nk = 0;
  for (size_t i = 0; i < nn;) {
    const char *sp = memchr(norm + i, ' ', nn - i);
    size_t wn = sp ? (size_t)(sp - (norm + i)) : nn - i;
    if (nk == ES_QUERY_MAX_ATOMS)
      return fail(p, at, "too many terms: a query may have at most 256 terms and phrases; split it%s", NULL), NULL;
    if (!(kids[nk++] = intern_node(p, ES_ATOM_TERM, norm + i, wn, at))) return NULL;
    i += wn + 1;
  }
  if (nk == 1) return kids[0];
  es_qnode *nd = new_node(p, ES_Q_NEAR, at - 1);
  if (!nd || !(nd->kids = es_arena_alloc(p->arena, nk * sizeof *nd->kids))) return NULL;
  memcpy(nd->kids, kids, nk * sizeof *kids);
  nd->nkids = nk;
  nd->dist = (uint32_t)p->slop;
  nd->ordered = true;
  nd->slop_phrase = true;
  return nd;
}

/* Builds the atom for the current TERM or PHRASE token. */
static es_qnode *atom_node(parser *p) {
  const char *w = p->s + p->start;
  size_t n = p->len, at = p->start;
  int kind = p->kind == T_PHRASE ? ES_ATOM_PHRASE : ES_ATOM_TERM;
  char norm[ES_QUERY_MAX_LEN + 1];
  size_t nn = 0;
  if (kind == ES_ATOM_PHRASE) { /* collapse whitespace runs to one space */
    for (size_t i = 0; i < n; i++) {
      if (is_space(w[i])) {
        if (nn && norm[nn - 1] != ' ') norm[nn++] = ' ';
      } else {
        norm[nn++] = w[i];
      }
    }
    while (nn && norm[nn - 1] == ' ') nn--;
    if (!nn) return fail(p, at - 1, "empty phrase \"\"%s", NULL), NULL;
    const char *q = memchr(norm, '?', nn);
    if (q) return fail(p, at + (size_t)(q - norm), "'?' wildcards belong in terms, not inside \"phrases\"%s", NULL), NULL;
    if (!memchr(norm, ' ', nn)) kind = ES_ATOM_TERM;
  } else {
    memcpy(norm, w, n);
    nn = n;
    static const char *const fields[] = {"lang:", "source:", "author:", "followers:"};
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
      if (nn >= strlen(fields[f]) && !strncmp(norm, fields[f], strlen(fields[f])))
        return field_node(p, (int)f, norm, nn, strlen(fields[f]), at);
    for (size_t i = 0; i < nn; i++) {
      if (norm[i] == '*' && i + 1 < nn)
        return fail(p, at + i, "'*' is only allowed at the end of a term (deliver*)%s", NULL), NULL;
    }
    size_t literal = 0, wild = 0;
    for (size_t i = 0; i < nn; i++) {
      if (norm[i] == '?') wild++;
      else if (norm[i] != '*') literal += ((unsigned char)norm[i] & 0xc0) != 0x80;
    }
    if (wild && literal < ES_QUERY_MIN_LITERAL)
      return fail(p, at, "a term with '?' needs at least 2 other characters (colo?r); this one would match "
                  "almost every short word%s", NULL), NULL;
    if (norm[nn - 1] == '*') {
      size_t stem_cps = 0;
      for (size_t i = 0; i + 1 < nn; i++) stem_cps += ((unsigned char)norm[i] & 0xc0) != 0x80 && norm[i] != '?';
      if (stem_cps < ES_QUERY_MIN_STEM) {
        char stem[64];
        snprintf(stem, sizeof stem, "%.*s", (int)(nn - 1 < 60 ? nn - 1 : 60), norm);
        return fail(p, at, "the wildcard stem '%s' is too short: at least 3 characters (not counting '?') before '*' "
                    "(a shorter stem would match almost every mention)", stem), NULL;
      }
      kind = ES_ATOM_PREFIX;
      nn--;
    }
  }
  if (kind == ES_ATOM_PHRASE && p->slop >= 0) return slop_phrase(p, norm, nn, at);
  return intern_node(p, kind, norm, nn, kind == ES_ATOM_PHRASE ? at - 1 : at);
}

static es_qnode *parse_or(parser *p);

static const char *tok_name(int kind) {
  switch (kind) {
  case T_END: return "the end of the query";
  case T_RP: return "')'";
  case T_AND: return "'AND'";
  case T_OR: return "'OR'";
  case T_NEAR: return "'NEAR'";
  default: return "this";
  }
}

static es_qnode *parse_primary(parser *p) {
  if (p->kind == T_LP) {
    size_t open = p->start;
    if (++p->depth > ES_QUERY_MAX_DEPTH)
      return fail(p, p->start, "nesting deeper than 32 levels; simplify the query%s", NULL), NULL;
    if (next(p) < 0) return NULL;
    if (p->kind == T_RP) return fail(p, open, "empty parentheses%s", NULL), NULL;
    es_qnode *in = parse_or(p);
    if (!in) return NULL;
    if (p->kind != T_RP) return fail(p, open, "the '(' opened here is never closed%s", NULL), NULL;
    p->depth--;
    if (next(p) < 0) return NULL;
    return in;
  }
  if (p->kind == T_REGEX) {
    es_qnode *a = regex_node(p);
    if (!a || next(p) < 0) return NULL;
    return a;
  }
  if (p->kind == T_TERM || p->kind == T_PHRASE) {
    es_qnode *a = atom_node(p);
    if (!a || next(p) < 0) return NULL;
    return a;
  }
  return fail(p, p->start, "expected a term, a \"phrase\" or '(' but found %s", tok_name(p->kind)), NULL;
}

static es_qnode *parse_unary(parser *p) {
  if (p->kind != T_NOT) return parse_primary(p);
  size_t at = p->start;
  if (++p->depth > ES_QUERY_MAX_DEPTH)
    return fail(p, at, "nesting deeper than 32 levels; simplify the query%s", NULL), NULL;
  if (next(p) < 0) return NULL;
  es_qnode *kid = parse_unary(p);
  if (!kid) return NULL;
  p->depth--;
  es_qnode *nd = new_node(p, ES_Q_NOT, at);
  if (!nd) return NULL;
  nd->kids = es_arena_alloc(p->arena, sizeof *nd->kids);
  if (!nd->kids) return NULL;
  nd->kids[0] = kid;
  nd->nkids = 1;
  return nd;
}

/* Makes an n-ary node from collected operands; one operand stands alone. */
static es_qnode *nary(parser *p, int kind, es_qnode **ops, uint32_t n, size_t at) {
  if (n == 1) return ops[0];
  es_qnode *nd = new_node(p, kind, at);
  if (!nd) return NULL;
  nd->kids = es_arena_alloc(p->arena, n * sizeof *nd->kids);
  if (!nd->kids) return NULL;
  memcpy(nd->kids, ops, n * sizeof *nd->kids);
  nd->nkids = n;
  return nd;
}

/* A NEAR operand: an atom with positions (not a field filter) or an OR of
 * operands. */
static bool near_operand(const parser *p, const es_qnode *nd) {
  if (nd->kind == ES_Q_ATOM) {
    int k = p->tab->atoms[nd->atom].kind;
    return k != ES_ATOM_FIELD && k != ES_ATOM_REGEX;
  }
  if (nd->kind != ES_Q_OR) return false;
  for (uint32_t i = 0; i < nd->nkids; i++)
    if (!near_operand(p, nd->kids[i])) return false;
  return true;
}

static es_qnode *parse_near(parser *p) {
  es_qnode *left = parse_unary(p);
  if (!left || p->kind != T_NEAR) return left;
  size_t at = p->start;
  uint32_t dist = (uint32_t)p->slop;
  bool ordered = p->ordered;
  if (next(p) < 0) return NULL;
  es_qnode *right = parse_unary(p);
  if (!right) return NULL;
  if (!near_operand(p, left) || !near_operand(p, right))
    return fail(p, at, "NEAR joins terms, phrases, wildcards or OR-groups of them (not field filters or regexes), such as "
                "(card OR cards) NEAR/3 (fee OR fees); move AND, NOT and other NEARs outside it%s", NULL), NULL;
  if (p->kind == T_NEAR)
    return fail(p, p->start, "NEAR cannot be chained; use AND between two NEARs: (a NEAR/3 b) AND (b NEAR/3 c)%s", NULL), NULL;
  es_qnode *nd = new_node(p, ES_Q_NEAR, at);
  if (!nd || !(nd->kids = es_arena_alloc(p->arena, 2 * sizeof *nd->kids))) return NULL;
  nd->kids[0] = left;
  nd->kids[1] = right;
  nd->nkids = 2;
  nd->dist = dist;
  nd->ordered = ordered;
  return nd;
}

static es_qnode *parse_and(parser *p) {
  es_qnode *ops[ES_QUERY_MAX_ATOMS];
  uint32_t n = 0;
  size_t at = p->start;
  for (;;) {
    es_qnode *kid = parse_near(p);
    if (!kid) return NULL;
    ops[n++] = kid; /* n <= atoms in the query, checked by atom_node */
    if (p->kind == T_AND) {
      if (next(p) < 0) return NULL;
      continue;
    }
    if (p->kind == T_NOT || p->kind == T_TERM || p->kind == T_PHRASE || p->kind == T_LP || p->kind == T_REGEX) continue;
    break;
  }
  return nary(p, ES_Q_AND, ops, n, at);
}

static es_qnode *parse_or(parser *p) {
  es_qnode *ops[ES_QUERY_MAX_ATOMS];
  uint32_t n = 0;
  size_t at = p->start;
  for (;;) {
    es_qnode *kid = parse_and(p);
    if (!kid) return NULL;
    ops[n++] = kid;
    if (p->kind != T_OR) break;
    if (next(p) < 0) return NULL;
  }
  return nary(p, ES_Q_OR, ops, n, at);
}

es_qnode *es__query_parse(const char *id, const char *expr, bool strip_marks, es_arena *arena, es_atom_table *tab,
                          int *err, es_diag *diag) {
  parser p = {.id = id, .s = expr, .n = strlen(expr), .arena = arena, .tab = tab, .diag = diag, .strip = strip_marks};
  *err = 0;
  if (p.n > ES_QUERY_MAX_LEN) {
    *err = es_diag_set(diag, ES_EQUERY, "query '%s' is %zu bytes long; the limit is %d: split it into several queries",
                       id, p.n, ES_QUERY_MAX_LEN);
    return NULL;
  }
  if (next(&p) < 0) goto fail;
  if (p.kind == T_END) {
    fail(&p, 0, "the query is empty%s", NULL);
    goto fail;
  }
  es_qnode *root = parse_or(&p);
  if (!root) goto fail;
  if (p.kind != T_END) {
    if (p.kind == T_RP) fail(&p, p.start, "')' has no matching '('%s", NULL);
    else fail(&p, p.start, "unexpected %s", tok_name(p.kind));
    goto fail;
  }
  return root;
fail:
  *err = p.err ? p.err : ES_EQUERY;
  return NULL;
}
