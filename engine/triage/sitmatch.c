/* The situation rules' matcher: rule expressions in the query language,
 * evaluated over the words of a mention rather than compiled into the
 * queries' Hyperscan database.
 *
 * Why not the Hyperscan pass: situation rules are made of the commonest
 * words of customer care ("still", "again", "never", "no one", "thank
 * you"); compiled with 1,000 listening queries, they matched several times
 * per mention and halved the engine's throughput (bench/run triage, README
 * "Triage"). Here a mention's words are cut once and each is looked up in
 * one hash table of the rules' words (terms, the first words of phrases);
 * prefixes and '?' wildcards are compared per word; regexes (/.../), which
 * rules use for what words cannot say (a card number, a question opener),
 * go through a small Hyperscan database of their own.
 *
 * Words: runs of letters, digits, '_' and apostrophes (’ is '), ASCII
 * lower-cased, with a leading # or @ kept; an emoji or other symbol is a
 * word of its own; everything else separates words. A term matches a word
 * equal to it, a phrase consecutive words, NEAR/n words at most n apart.
 * Compiled once (main thread); a runtime per thread. */
#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>

#include "../match/match_internal.h"
#include "../core/bits_internal.h"
#include "earshot/mem.h"
#include "triage_internal.h"

#define MAX_OCC 512     /* occurrences kept for NEAR */

/* has: and starts: features, computed from the text itself. */
enum { F_QUESTION_MARK, F_CARD_NUMBER, F_SSN, F_DURATION, F_STARTS_HANDLE, ES_SITM_FEATURES };
static const char *const feature_names[ES_SITM_FEATURES] = {"has:question_mark", "has:card_number", "has:ssn",
                                                            "has:duration", "starts:handle"};

typedef struct wentry {
  uint64_t hash;
  uint32_t word_off, word_len; /* in m->words */
  uint32_t term_off, nterm;    /* atoms equal to this word: m->list[term_off ..] */
  uint32_t phr_off, nphr;      /* phrase atoms starting with it */
  uint8_t flags;               /* W_*: what has:duration needs of it */
} wentry;
enum { W_NUMBER = 1, W_UNIT = 2 };
enum { FB_PREFIX = 1,  /* a prefix starts with it (a word starting otherwise skips them) */
       FB_NUMBER = 2 }; /* a digit: the word may be a number (also a W_NUMBER word) */ /* has:duration: a number (digits, or two .. ten, several, many)
                                     * then a unit of time or of attempts ("45 minutes", "3hrs", "5 calls") */

struct es_sitm {
  es_arena arena;
  es_atom_table tab;
  const es_qnode **roots; /* per rule */
  size_t nrules;
  /* atoms as words: each atom's word sequence (terms: one word, or several
   * when the term holds separators) in words[], CSR by atom */
  char *words;
  size_t nwords_bytes;
  uint32_t *aw_off;   /* atom a's words: aw[aw_off[a] .. aw_off[a+1]) */
  uint32_t *aw;       /* (offset << 8 | len) into words; len < 256 */
  uint64_t *awh;      /* their hashes (as the tokenizer's) */
  wentry *ents;
  size_t nents;
  uint32_t *slots;    /* open addressing: entry + 1 */
  size_t mask;
  uint32_t *list;     /* atom lists of the entries */
  /* phrases by their first two words: key pair_key(hash0, hash1) -> list */
  struct pent {
    uint64_t key;
    uint32_t off, n;
  } *pents;
  size_t npents;
  uint32_t *pslots;   /* open addressing: pent + 1 */
  size_t pmask;
  uint32_t *plist;
  uint32_t *prefixes, *wilds, *fields;
  size_t nprefix, nwild, nfield;
  /* features (terms first:WORD, has:NAME, starts:NAME): atoms by feature */
  uint32_t *firsts;   /* first:WORD atoms; their word is the atom's word */
  size_t nfirst;
  int32_t feature[ES_SITM_FEATURES]; /* atom of each has:/starts: feature, -1 none */
  bool *positional;   /* atoms inside a NEAR */
  /* Rules that can hold only when one of their atoms matched are looked at
   * only then: atom -> rules (CSR); `always` those that hold on a text
   * with no atom (NOT alone). */
  uint32_t *ar_off, *ar, *ar_n;
  bool *always;
  /* OR nodes with many atoms: a bitmap of those atoms each (nd->near holds
   * its index + 1; NEAR nodes use the field, OR nodes do not), so that the
   * OR is looked up from the text's few matched atoms instead of walking
   * every atom of it */
  uint64_t *orbm;
  size_t norbm, bmwords;
  uint8_t *fb;        /* FB_* by a word's first byte */
  hs_database_t *rxdb;
};

struct es_sitm_rt {
  const es_sitm *m;
  uint64_t *bits;
  uint32_t *first_start, *first_end; /* first occurrence (bytes) per atom; end only for regexes */
  es_words w;                   /* the text's words (words.c) */
  uint8_t tflags[ES_WORDS_MAX]; /* W_* of each word's table entry */
  uint32_t num[ES_WORDS_MAX];   /* the words that may be numbers: a digit first, or W_NUMBER */
  size_t nnum;
  struct {
    uint32_t atom, first, last;
  } occ[MAX_OCC];
  size_t nocc;
  uint32_t *set;      /* atoms set for this text, to clear */
  size_t nset;
  uint32_t *mark, stamp; /* per atom: NEAR operand membership, by stamp */
  uint8_t *touched;   /* per rule: one of its atoms matched this text */
  uint32_t *tlist;
  size_t ntouched;
  hs_scratch_t *scratch;
  const char *text;
};

static bool bit(const es_sitm_rt *rt, uint32_t a) { return (rt->bits[a >> 6] >> (a & 63)) & 1; }

static void set_atom(es_sitm_rt *rt, uint32_t a, uint32_t start, uint32_t end) {
  if (bit(rt, a)) return;
  rt->bits[a >> 6] |= 1ull << (a & 63);
  rt->first_start[a] = start;
  rt->first_end[a] = end;
  rt->set[rt->nset++] = a;
}

/* ---- compile ---- */

static size_t word_hash(const char *w, size_t n) { return (size_t)es__word_hash(w, n); }

static inline uint64_t pair_key(uint64_t h0, uint64_t h1) { return h0 ^ (h1 * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL); }

static long find_pair(const es_sitm *m, uint64_t key) {
  for (size_t h = key & m->pmask; m->pslots[h]; h = (h + 1) & m->pmask)
    if (m->pents[m->pslots[h] - 1].key == key) return (long)m->pslots[h] - 1;
  return -1;
}

static long find_entry(const es_sitm *m, uint64_t hash, const char *w, size_t n) {
  for (size_t h = hash & m->mask; m->slots[h]; h = (h + 1) & m->mask) {
    const wentry *e = &m->ents[m->slots[h] - 1];
    if (e->hash == hash && e->word_len == n && !memcmp(m->words + e->word_off, w, n)) return (long)m->slots[h] - 1;
  }
  return -1;
}

/* find_entry for a text's word (8 readable bytes past it; so are the table's). */
static inline long find_word(const es_sitm *m, uint64_t hash, const char *w, size_t n) {
  for (size_t h = hash & m->mask; m->slots[h]; h = (h + 1) & m->mask) {
    const wentry *e = &m->ents[m->slots[h] - 1];
    if (e->hash == hash && e->word_len == n && es__word_eq_padded(m->words + e->word_off, w, n))
      return (long)m->slots[h] - 1;
  }
  return -1;
}

/* Whether a subtree holds on a text where no atom matched. */
static bool holds_empty(const es_qnode *nd) {
  switch (nd->kind) {
  case ES_Q_ATOM: return false;
  case ES_Q_NEAR: return false;
  case ES_Q_NOT: return !holds_empty(nd->kids[0]);
  case ES_Q_AND:
    for (uint32_t k = 0; k < nd->nkids; k++)
      if (!holds_empty(nd->kids[k])) return false;
    return true;
  default:
    for (uint32_t k = 0; k < nd->nkids; k++)
      if (holds_empty(nd->kids[k])) return true;
    return false;
  }
}

/* Counts (fill NULL) or lists rule r under each of its atoms. */
static void index_atoms(const es_qnode *nd, uint32_t r, uint32_t *cnt, uint32_t *fill, const uint32_t *off, uint32_t *ar) {
  if (nd->kind == ES_Q_ATOM) {
    uint32_t a = nd->atom;
    if (!fill) cnt[a]++;
    else if (!fill[a] || ar[off[a] + fill[a] - 1] != r) ar[off[a] + fill[a]++] = r;
    return;
  }
  for (uint32_t k = 0; k < nd->nkids; k++) index_atoms(nd->kids[k], r, cnt, fill, off, ar);
}

#define OR_BITMAP_MIN 8 /* atoms of an OR node that get a bitmap */

static size_t or_atoms(const es_qnode *nd) {
  size_t n = 0;
  for (uint32_t k = 0; k < nd->nkids; k++) n += nd->kids[k]->kind == ES_Q_ATOM;
  return n;
}

/* Counts (bm NULL) or fills the OR bitmaps. */
static void or_bitmaps(es_sitm *m, es_qnode *nd, size_t *count) {
  if (nd->kind == ES_Q_OR && or_atoms(nd) >= OR_BITMAP_MIN) {
    if (m->orbm) {
      uint64_t *bm = m->orbm + *count * m->bmwords;
      for (uint32_t k = 0; k < nd->nkids; k++)
        if (nd->kids[k]->kind == ES_Q_ATOM) bm[nd->kids[k]->atom >> 6] |= 1ull << (nd->kids[k]->atom & 63);
      nd->near = (uint32_t)*count + 1;
    }
    ++*count;
  }
  for (uint32_t k = 0; k < nd->nkids; k++) or_bitmaps(m, nd->kids[k], count);
}

static void collect_positional(es_sitm *m, const es_qnode *nd, bool in_near) {
  if (nd->kind == ES_Q_ATOM) {
    if (in_near) m->positional[nd->atom] = true;
    return;
  }
  for (uint32_t k = 0; k < nd->nkids; k++) collect_positional(m, nd->kids[k], in_near || nd->kind == ES_Q_NEAR);
}

es_sitm *es__sitm_compile(const es_query_def *defs, size_t n, int *err, es_diag *d) {
  es_sitm *m = es_calloc(1, sizeof *m);
  es_sitm_rt *tmp = NULL;
  unsigned *flags = NULL, *ids = NULL;
  char **pats = NULL;
  hs_compile_error_t *cerr = NULL;
  *err = ES_ENOMEM;
  if (!m) goto oom;
  es_arena_init(&m->arena, 65536);
  m->roots = es_calloc(n ? n : 1, sizeof *m->roots);
  if (!m->roots) goto oom;
  m->nrules = n;
  for (size_t i = 0; i < n; i++) {
    es_diag pd;
    m->roots[i] = es__query_parse(defs[i].id, defs[i].expr, false, &m->arena, &m->tab, err, &pd);
    if (!m->roots[i]) {
      es_diag_set(d, *err, "%s:%d: %s", defs[i].file ? defs[i].file : "rules", defs[i].line, pd.msg);
      goto fail;
    }
  }
  size_t na = m->tab.n;
  m->positional = es_calloc(na + 1, sizeof *m->positional);
  m->aw_off = es_calloc(na + 1, sizeof *m->aw_off);
  m->prefixes = es_malloc((na + 1) * sizeof *m->prefixes);
  m->wilds = es_malloc((na + 1) * sizeof *m->wilds);
  m->fields = es_malloc((na + 1) * sizeof *m->fields);
  m->firsts = es_malloc((na + 1) * sizeof *m->firsts);
  if (!m->positional || !m->aw_off || !m->prefixes || !m->wilds || !m->fields || !m->firsts) goto oom;
  for (int f = 0; f < ES_SITM_FEATURES; f++) m->feature[f] = -1;
  for (size_t i = 0; i < n; i++) collect_positional(m, m->roots[i], false);
  m->bmwords = (na + 63) / 64 + 1;
  for (size_t i = 0; i < n; i++) or_bitmaps(m, (es_qnode *)m->roots[i], &m->norbm);
  if (m->norbm) {
    if (!(m->orbm = es_calloc(m->norbm * m->bmwords, sizeof *m->orbm))) goto oom;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) or_bitmaps(m, (es_qnode *)m->roots[i], &k);
  }
  m->ar_off = es_calloc(na + 2, sizeof *m->ar_off);
  m->always = es_calloc(n + 1, sizeof *m->always);
  uint32_t *fill = es_calloc(na + 1, sizeof *fill);
  if (!m->ar_off || !m->always || !fill) {
    es_free(fill);
    goto oom;
  }
  for (size_t i = 0; i < n; i++) {
    m->always[i] = holds_empty(m->roots[i]);
    index_atoms(m->roots[i], (uint32_t)i, m->ar_off + 1, NULL, NULL, NULL);
  }
  for (size_t a = 0; a < na; a++) m->ar_off[a + 1] += m->ar_off[a];
  m->ar = es_malloc((m->ar_off[na] + 1) * sizeof *m->ar);
  if (!m->ar) {
    es_free(fill);
    goto oom;
  }
  for (size_t i = 0; i < n; i++) index_atoms(m->roots[i], (uint32_t)i, NULL, fill, m->ar_off, m->ar);
  m->ar_n = fill; /* a rule once per atom (a rule may use an atom twice: the counts above are bounds) */
  /* Each word atom as normalised words, with the tokenizer itself. */
  if (!(tmp = es_calloc(1, sizeof *tmp))) goto oom;
  size_t cap_aw = 256, naw = 0, cap_words = 4096;
  m->aw = es_malloc(cap_aw * sizeof *m->aw);
  m->words = es_malloc(cap_words);
  if (!m->aw || !m->words) goto oom;
  size_t nrx = 0;
  for (size_t a = 0; a < na; a++) {
    es_atom *at = &m->tab.atoms[a];
    m->aw_off[a] = (uint32_t)naw;
    if (at->kind == ES_ATOM_REGEX) {
      nrx++;
      continue;
    }
    if (at->kind == ES_ATOM_FIELD) {
      es__parse_field(at);
      m->fields[m->nfield++] = (uint32_t)a;
      continue;
    }
    if (at->kind == ES_ATOM_TERM && (!strncmp(at->text, "has:", 4) || !strncmp(at->text, "starts:", 7))) {
      int f = -1;
      for (int k = 0; k < ES_SITM_FEATURES; k++)
        if (strlen(feature_names[k]) == at->len && !memcmp(feature_names[k], at->text, at->len)) f = k;
      if (f < 0) {
        *err = es_diag_set(d, ES_EQUERY, "situation rules: unknown feature '%s' (has:question_mark, has:card_number, "
                           "has:ssn, has:duration, starts:handle; first:WORD for the first word)", at->text);
        goto fail;
      }
      m->feature[f] = (int32_t)a;
      continue;
    }
    bool first = at->kind == ES_ATOM_TERM && !strncmp(at->text, "first:", 6);
    if (es__words_cut(&tmp->w, first ? at->text + 6 : at->text, first ? at->len - 6 : at->len)) goto oom;
    if (first && tmp->w.n != 1) {
      *err = es_diag_set(d, ES_EQUERY, "situation rules: '%s' must name one word (first:how)", at->text);
      goto fail;
    }
    if (first) m->firsts[m->nfirst++] = (uint32_t)a;
    if (!tmp->w.n) {
      *err = es_diag_set(d, ES_EQUERY, "situation rules: '%s' has no word to match", at->text);
      goto fail;
    }
    for (size_t k = 0; k < tmp->w.n; k++) {
      if (tmp->w.nlen[k] > 255) {
        *err = es_diag_set(d, ES_EQUERY, "situation rules: the word '%.40s...' is too long", at->text);
        goto fail;
      }
      if (naw == cap_aw && !(m->aw = es_realloc(m->aw, (cap_aw *= 2) * sizeof *m->aw))) goto oom;
      while (m->nwords_bytes + tmp->w.nlen[k] + 8 > cap_words) /* + 8: read in whole blocks */
        if (!(m->words = es_realloc(m->words, cap_words *= 2))) goto oom;
      memcpy(m->words + m->nwords_bytes, tmp->w.norm + tmp->w.nstart[k], tmp->w.nlen[k]);
      m->aw[naw++] = (uint32_t)(m->nwords_bytes << 8 | tmp->w.nlen[k]);
      m->nwords_bytes += tmp->w.nlen[k];
    }
    if (first) continue;
    if (at->kind == ES_ATOM_PREFIX) m->prefixes[m->nprefix++] = (uint32_t)a;
    else if (at->kind == ES_ATOM_TERM && memchr(at->text, '?', at->len)) m->wilds[m->nwild++] = (uint32_t)a;
  }
  m->aw_off[na] = (uint32_t)naw;
  if (!(m->fb = es_calloc(256, 1))) goto oom;
  for (size_t k = 0; k < m->nprefix; k++) m->fb[(unsigned char)m->words[m->aw[m->aw_off[m->prefixes[k]]] >> 8]] |= FB_PREFIX;
  for (int c = '0'; c <= '9'; c++) m->fb[c] |= FB_NUMBER;
  if (!(m->awh = es_malloc((naw + 1) * sizeof *m->awh))) goto oom;
  for (size_t k = 0; k < naw; k++) m->awh[k] = es__word_hash(m->words + (m->aw[k] >> 8), m->aw[k] & 255);
  /* The word table: every term's (or phrase's) first word. */
  size_t slots = 64;
  while (slots < (na + 64) * 4) slots *= 2;
  m->slots = es_calloc(slots, sizeof *m->slots);
  m->ents = es_calloc(na + 64, sizeof *m->ents);
  uint32_t *cnt_t = es_calloc(na + 64, sizeof *cnt_t), *cnt_p = es_calloc(na + 64, sizeof *cnt_p); /* entries: na + 64 */
  uint32_t *ent_of = es_malloc((na + 1) * sizeof *ent_of);
  if (!m->slots || !m->ents || !cnt_t || !cnt_p || !ent_of) {
    es_free(cnt_t), es_free(cnt_p), es_free(ent_of);
    goto oom;
  }
  m->mask = slots - 1;
  for (size_t a = 0; a < na; a++) {
    es_atom *at = &m->tab.atoms[a];
    ent_of[a] = UINT32_MAX;
    bool word_atom = at->kind == ES_ATOM_PHRASE || (at->kind == ES_ATOM_TERM && !memchr(at->text, '?', at->len) &&
                                                    strncmp(at->text, "first:", 6) && strncmp(at->text, "has:", 4) &&
                                                    strncmp(at->text, "starts:", 7));
    if (!word_atom) continue;
    uint32_t w0 = m->aw[m->aw_off[a]];
    const char *w = m->words + (w0 >> 8);
    size_t wl = w0 & 255;
    long e = find_entry(m, word_hash(w, wl), w, wl);
    if (e < 0) {
      e = (long)m->nents++;
      m->ents[e].hash = word_hash(w, wl);
      m->ents[e].word_off = w0 >> 8;
      m->ents[e].word_len = (uint32_t)wl;
      size_t h = word_hash(w, wl) & m->mask;
      while (m->slots[h]) h = (h + 1) & m->mask;
      m->slots[h] = (uint32_t)e + 1;
    }
    ent_of[a] = (uint32_t)e;
    bool single = m->aw_off[a + 1] - m->aw_off[a] == 1;
    if (single) cnt_t[e]++;
    else cnt_p[e]++;
  }
  /* the words has:duration looks for, as entries of their own (no atoms) */
  static const char *const numbers[] = {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                                        "twelve", "several", "many", "multiple", NULL};
  static const char *const units[] = {"min", "mins", "minute", "minutes", "hour", "hours", "hr", "hrs", "day", "days",
                                      "week", "weeks", "wk", "wks", "month", "months", "calls", "emails", "times",
                                      "attempts", NULL};
  for (int pass = 0; pass < 2 && m->feature[F_DURATION] >= 0; pass++)
    for (const char *const *w = pass ? units : numbers; *w; w++) {
      size_t wl = strlen(*w);
      long e = find_entry(m, word_hash(*w, wl), *w, wl);
      if (e < 0) {
        if (m->nents == na + 64) break; /* (room below) */
        while (m->nwords_bytes + wl + 8 > cap_words)
          if (!(m->words = es_realloc(m->words, cap_words *= 2))) {
            es_free(cnt_t), es_free(cnt_p), es_free(ent_of);
            goto oom;
          }
        memcpy(m->words + m->nwords_bytes, *w, wl);
        e = (long)m->nents++;
        m->ents[e].hash = word_hash(*w, wl);
        m->ents[e].word_off = (uint32_t)m->nwords_bytes;
        m->ents[e].word_len = (uint32_t)wl;
        m->nwords_bytes += wl;
        size_t h = m->ents[e].hash & m->mask;
        while (m->slots[h]) h = (h + 1) & m->mask;
        m->slots[h] = (uint32_t)e + 1;
      }
      m->ents[e].flags |= pass ? W_UNIT : W_NUMBER;
    }
  memset(m->words + m->nwords_bytes, 0, 8);
  size_t total = 0;
  for (size_t e = 0; e < m->nents; e++) {
    m->ents[e].term_off = (uint32_t)total;
    total += cnt_t[e];
    m->ents[e].phr_off = (uint32_t)total;
    total += cnt_p[e];
  }
  m->list = es_malloc((total + 1) * sizeof *m->list);
  if (!m->list) {
    es_free(cnt_t), es_free(cnt_p), es_free(ent_of);
    goto oom;
  }
  for (size_t a = 0; a < na; a++) {
    if (ent_of[a] == UINT32_MAX) continue;
    wentry *e = &m->ents[ent_of[a]];
    if (m->aw_off[a + 1] - m->aw_off[a] == 1) m->list[e->term_off + e->nterm++] = (uint32_t)a;
    else m->list[e->phr_off + e->nphr++] = (uint32_t)a;
  }
  es_free(cnt_t), es_free(cnt_p), es_free(ent_of);
  /* Phrases by their first two words. */
  {
    size_t np = 0, ps = 64;
    for (size_t a = 0; a < na; a++) np += m->aw_off[a + 1] - m->aw_off[a] > 1 && m->tab.atoms[a].kind == ES_ATOM_PHRASE;
    while (ps < np * 4) ps *= 2;
    m->pslots = es_calloc(ps, sizeof *m->pslots);
    m->pents = es_calloc(np + 1, sizeof *m->pents);
    m->plist = es_malloc((np + 1) * sizeof *m->plist);
    uint32_t *pn = es_calloc(np + 1, sizeof *pn);
    if (!m->pslots || !m->pents || !m->plist || !pn) {
      es_free(pn);
      goto oom;
    }
    m->pmask = ps - 1;
    for (int pass = 0; pass < 2; pass++) {
      for (size_t a = 0; a < na; a++) {
        uint32_t o = m->aw_off[a];
        if (m->aw_off[a + 1] - o < 2 || m->tab.atoms[a].kind != ES_ATOM_PHRASE) continue;
        uint64_t key = pair_key(m->awh[o], m->awh[o + 1]);
        long e = find_pair(m, key);
        if (e < 0) {
          e = (long)m->npents++;
          m->pents[e].key = key;
          size_t h = key & m->pmask;
          while (m->pslots[h]) h = (h + 1) & m->pmask;
          m->pslots[h] = (uint32_t)e + 1;
        }
        if (pass == 0) m->pents[e].n++;
        else m->plist[m->pents[e].off + pn[e]++] = (uint32_t)a;
      }
      if (pass == 0)
        for (size_t e = 0, off = 0; e < m->npents; e++) m->pents[e].off = (uint32_t)off, off += m->pents[e].n;
    }
    es_free(pn);
  }
  /* Regexes: their own database. */
  if (nrx) {
    pats = es_calloc(nrx, sizeof *pats);
    flags = es_calloc(nrx, sizeof *flags);
    ids = es_calloc(nrx, sizeof *ids);
    if (!pats || !flags || !ids) goto oom;
    size_t k = 0;
    for (size_t a = 0; a < na; a++) {
      const es_atom *at = &m->tab.atoms[a];
      if (at->kind != ES_ATOM_REGEX) continue;
      if (!(pats[k] = es_strndup(at->text + 1, at->rx_len))) goto oom;
      flags[k] = HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH | HS_FLAG_CASELESS |
                 (at->rx_flags & ES_RX_DOTALL ? HS_FLAG_DOTALL : 0) | (at->rx_flags & ES_RX_MULTILINE ? HS_FLAG_MULTILINE : 0) |
                 (at->rx_flags & ES_RX_UCP ? HS_FLAG_UCP : 0);
      ids[k++] = (unsigned)a;
    }
    if (hs_compile_multi((const char *const *)pats, flags, ids, (unsigned)nrx, HS_MODE_BLOCK, NULL, &m->rxdb, &cerr) !=
        HS_SUCCESS) {
      *err = es_diag_set(d, ES_EHYPERSCAN, "situation rules: Hyperscan rejected a regex: %s",
                         cerr ? cerr->message : "unknown error");
      goto fail;
    }
  }
  for (size_t k = 0; pats && k < nrx; k++) es_free(pats[k]);
  es_free(pats), es_free(flags), es_free(ids);
  if (tmp) es__words_free(&tmp->w);
  es_free(tmp);
  *err = 0;
  return m;
oom:
  *err = es_diag_set(d, ES_ENOMEM, "out of memory compiling the situation rules");
fail:
  if (cerr) hs_free_compile_error(cerr);
  for (size_t k = 0; pats && ids && k < m->tab.n && pats[k]; k++) es_free(pats[k]);
  es_free(pats), es_free(flags), es_free(ids);
  if (tmp) es__words_free(&tmp->w);
  es_free(tmp);
  es__sitm_destroy(m);
  return NULL;
}

void es__sitm_destroy(es_sitm *m) {
  if (!m) return;
  if (m->rxdb) hs_free_database(m->rxdb);
  es__atom_table_free(&m->tab);
  es_arena_destroy(&m->arena);
  es_free(m->roots);
  es_free(m->positional);
  es_free(m->ar_off);
  es_free(m->ar);
  es_free(m->ar_n);
  es_free(m->always);
  es_free(m->orbm);
  es_free(m->fb);
  es_free(m->aw_off);
  es_free(m->aw);
  es_free(m->awh);
  es_free(m->words);
  es_free(m->ents);
  es_free(m->slots);
  es_free(m->list);
  es_free(m->pents);
  es_free(m->pslots);
  es_free(m->plist);
  es_free(m->prefixes);
  es_free(m->wilds);
  es_free(m->fields);
  es_free(m->firsts);
  es_free(m);
}

es_sitm_rt *es__sitm_rt_create(const es_sitm *m) {
  es_sitm_rt *rt = es_calloc(1, sizeof *rt);
  if (!rt) return NULL;
  size_t na = m->tab.n + 1;
  rt->m = m;
  rt->bits = es_calloc((na + 63) / 64, sizeof *rt->bits);
  rt->first_start = es_malloc(na * sizeof *rt->first_start);
  rt->first_end = es_malloc(na * sizeof *rt->first_end);
  rt->set = es_malloc(na * sizeof *rt->set);
  rt->touched = es_calloc(m->nrules + 1, 1);
  rt->mark = es_calloc(na, sizeof *rt->mark);
  rt->tlist = es_malloc((m->nrules + 1) * sizeof *rt->tlist);
  if (!rt->bits || !rt->first_start || !rt->first_end || !rt->set || !rt->touched || !rt->tlist || !rt->mark ||
      (m->rxdb && hs_alloc_scratch(m->rxdb, &rt->scratch) != HS_SUCCESS)) {
    es__sitm_rt_destroy(rt);
    return NULL;
  }
  return rt;
}

void es__sitm_rt_destroy(es_sitm_rt *rt) {
  if (!rt) return;
  if (rt->scratch) hs_free_scratch(rt->scratch);
  es_free(rt->bits);
  es_free(rt->first_start);
  es_free(rt->first_end);
  es_free(rt->set);
  es_free(rt->touched);
  es_free(rt->mark);
  es_free(rt->tlist);
  es__words_free(&rt->w);
  es_free(rt);
}

/* ---- match ---- */

static void occur(es_sitm_rt *rt, uint32_t a, uint32_t first, uint32_t last) {
  if (rt->m->positional[a] && rt->nocc < MAX_OCC) {
    rt->occ[rt->nocc].atom = a;
    rt->occ[rt->nocc].first = first;
    rt->occ[rt->nocc++].last = last;
  }
}

static bool word_eq(const es_sitm *m, const es_sitm_rt *rt, uint32_t w, size_t tok) {
  return rt->w.nlen[tok] == (w & 255) && es__word_eq_padded(rt->w.norm + rt->w.nstart[tok], m->words + (w >> 8), w & 255);
}

static int on_rx(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx) {
  (void)from, (void)flags;
  es_sitm_rt *rt = ctx;
  set_atom(rt, id, UINT32_MAX, (uint32_t)to); /* start unknown: the pattern is the evidence */
  return 0;
}

int es__sitm_scan(const es_sitm *m, es_sitm_rt *rt, const char *s, size_t n, const es_match_meta *meta) {
  for (size_t i = 0; i < rt->nset; i++) rt->bits[rt->set[i] >> 6] = 0;
  rt->nset = 0;
  for (size_t i = 0; i < rt->ntouched; i++) rt->touched[rt->tlist[i]] = 0;
  rt->ntouched = 0;
  rt->nocc = 0;
  rt->text = s;
  if (es__words_cut(&rt->w, s, n)) return ES_ENOMEM;
  rt->nnum = 0;
  const uint8_t *fb = m->fb;
  bool wild = m->nwild > 0;
  for (size_t t = 0; t < rt->w.n; t++) {
    const char *w = rt->w.norm + rt->w.nstart[t];
    size_t wl = rt->w.nlen[t];
    long e = find_word(m, rt->w.hash[t], w, wl);
    uint8_t tf = e >= 0 ? m->ents[e].flags : 0, f = fb[(unsigned char)w[0]] | (tf & W_NUMBER ? FB_NUMBER : 0);
    rt->tflags[t] = tf;
    if (f & FB_NUMBER) rt->num[rt->nnum++] = (uint32_t)t;
    if (e >= 0) {
      const wentry *en = &m->ents[e];
      for (uint32_t k = 0; k < en->nterm; k++) {
        uint32_t a = m->list[en->term_off + k];
        set_atom(rt, a, rt->w.start[t], rt->w.end[t]);
        occur(rt, a, (uint32_t)t, (uint32_t)t);
      }
      long pe = en->nphr && t + 1 < rt->w.n ? find_pair(m, pair_key(rt->w.hash[t], rt->w.hash[t + 1])) : -1;
      for (uint32_t k = 0; pe >= 0 && k < m->pents[pe].n; k++) {
        uint32_t a = m->plist[m->pents[pe].off + k], nw = m->aw_off[a + 1] - m->aw_off[a];
        if (t + nw > rt->w.n) continue;
        uint32_t j = 0, o = m->aw_off[a];
        while (j < nw && rt->w.hash[t + j] == m->awh[o + j] && word_eq(m, rt, m->aw[o + j], t + j)) j++;
        if (j < nw) continue;
        set_atom(rt, a, rt->w.start[t], rt->w.end[t + nw - 1]);
        occur(rt, a, (uint32_t)t, (uint32_t)(t + nw - 1));
      }
    }
    for (size_t k = 0; (f & FB_PREFIX) && k < m->nprefix; k++) {
      uint32_t a = m->prefixes[k], pw = m->aw[m->aw_off[a]];
      const char *p = m->words + (pw >> 8);
      if (wl >= (pw & 255) && w[0] == p[0] && es__word_eq_padded(w, p, pw & 255)) {
        set_atom(rt, a, rt->w.start[t], rt->w.end[t]);
        occur(rt, a, (uint32_t)t, (uint32_t)t);
      }
    }
    for (size_t k = 0; wild && k < m->nwild; k++) {
      uint32_t a = m->wilds[k], pw = m->aw[m->aw_off[a]];
      const char *p = m->words + (pw >> 8);
      if (wl != (pw & 255)) continue;
      size_t j = 0;
      while (j < wl && (p[j] == '?' || p[j] == w[j])) j++;
      if (j == wl) {
        set_atom(rt, a, rt->w.start[t], rt->w.end[t]);
        occur(rt, a, (uint32_t)t, (uint32_t)t);
      }
    }
  }
  /* features */
  size_t ft = 0; /* the first word that is not an @handle */
  while (ft < rt->w.n && rt->w.norm[rt->w.nstart[ft]] == '@') ft++;
  if (ft < rt->w.n)
    for (size_t k = 0; k < m->nfirst; k++) {
      uint32_t a = m->firsts[k];
      if (rt->w.hash[ft] == m->awh[m->aw_off[a]] && word_eq(m, rt, m->aw[m->aw_off[a]], ft))
        set_atom(rt, a, rt->w.start[ft], rt->w.end[ft]);
    }
  if (m->feature[F_STARTS_HANDLE] >= 0 && rt->w.n && rt->w.norm[rt->w.nstart[0]] == '@') {
    size_t j = 0;
    while (j < rt->w.start[0] && (s[j] == ' ' || s[j] == '.' || s[j] == '"')) j++;
    if (j == rt->w.start[0]) set_atom(rt, (uint32_t)m->feature[F_STARTS_HANDLE], rt->w.start[0], rt->w.end[0]);
  }
  if (m->feature[F_DURATION] >= 0)
    for (size_t k = 0; k < rt->nnum; k++) {
      size_t t = rt->num[k];
      const char *w = rt->w.norm + rt->w.nstart[t];
      size_t wl = rt->w.nlen[t], d = 0;
      while (d < wl && w[d] >= '0' && w[d] <= '9') d++;
      if (!d && !(rt->tflags[t] & W_NUMBER)) continue;
      if (d && d < wl) { /* "3hrs" */
        long e = find_word(m, es__word_hash_padded(w + d, wl - d), w + d, wl - d);
        if (e >= 0 && (m->ents[e].flags & W_UNIT)) {
          set_atom(rt, (uint32_t)m->feature[F_DURATION], rt->w.start[t], rt->w.end[t]);
          break;
        }
        continue;
      }
      if (t + 1 < rt->w.n && (rt->tflags[t + 1] & W_UNIT)) {
        set_atom(rt, (uint32_t)m->feature[F_DURATION], rt->w.start[t], rt->w.end[t + 1]);
        break;
      }
    }
  if (m->feature[F_QUESTION_MARK] >= 0) {
    const char *q = memchr(s, '?', n);
    if (q) set_atom(rt, (uint32_t)m->feature[F_QUESTION_MARK], (uint32_t)(q - s), (uint32_t)(q - s + 1));
  }
  if (m->feature[F_CARD_NUMBER] >= 0 || m->feature[F_SSN] >= 0) {
    /* runs of digit words joined by one space or dash: 13-19 digits a card,
     * 3-2-4 with dashes a social security number */
    for (size_t k = 0, next = 0; k < rt->nnum; k++) {
      size_t t = rt->num[k];
      if (t < next) continue; /* inside the last run */
      size_t digits = 0, u = t, parts = 0, plen[8] = {0};
      bool dashes = true;
      for (; u < rt->w.n; u++) {
        size_t l = rt->w.end[u] - rt->w.start[u], j = 0;
        while (j < l && s[rt->w.start[u] + j] >= '0' && s[rt->w.start[u] + j] <= '9') j++;
        if (j != l || (u > t && (rt->w.start[u] != rt->w.end[u - 1] + 1 || (s[rt->w.end[u - 1]] != ' ' && s[rt->w.end[u - 1]] != '-'))))
          break;
        if (u > t && s[rt->w.end[u - 1]] != '-') dashes = false;
        if (parts < 8) plen[parts] = l;
        parts++;
        digits += l;
      }
      if (u == t) continue;
      if (m->feature[F_CARD_NUMBER] >= 0 && digits >= 13 && digits <= 19)
        set_atom(rt, (uint32_t)m->feature[F_CARD_NUMBER], rt->w.start[t], rt->w.end[u - 1]);
      if (m->feature[F_SSN] >= 0 && parts == 3 && dashes && plen[0] == 3 && plen[1] == 2 && plen[2] == 4)
        set_atom(rt, (uint32_t)m->feature[F_SSN], rt->w.start[t], rt->w.end[u - 1]);
      next = u;
    }
  }
  for (size_t k = 0; meta && k < m->nfield; k++)
    if (es_field_holds(&m->tab.atoms[m->fields[k]], meta)) set_atom(rt, m->fields[k], UINT32_MAX, UINT32_MAX);
  if (m->rxdb && n && n < UINT32_MAX && hs_scan(m->rxdb, s, (unsigned)n, 0, rt->scratch, on_rx, rt) != HS_SUCCESS)
    return ES_EHYPERSCAN;
  for (size_t i = 0; i < rt->nset; i++) {
    uint32_t a = rt->set[i];
    for (uint32_t k = m->ar_off[a]; k < m->ar_off[a] + m->ar_n[a]; k++)
      if (!rt->touched[m->ar[k]]) {
        rt->touched[m->ar[k]] = 1;
        rt->tlist[rt->ntouched++] = m->ar[k];
      }
  }
  return 0;
}

/* The spans (token first, last) of a NEAR operand: an atom or an OR of atoms. */
static size_t spans(es_sitm_rt *rt, const es_qnode *op, uint32_t *first, uint32_t *last, size_t cap) {
  size_t n = 0;
  if (++rt->stamp == 0) { /* wrapped: start again */
    memset(rt->mark, 0, (rt->m->tab.n + 1) * sizeof *rt->mark);
    rt->stamp = 1;
  }
  if (op->kind == ES_Q_ATOM) rt->mark[op->atom] = rt->stamp;
  else
    for (uint32_t k = 0; k < op->nkids; k++)
      if (op->kids[k]->kind == ES_Q_ATOM) rt->mark[op->kids[k]->atom] = rt->stamp;
  for (size_t i = 0; i < rt->nocc && n < cap; i++)
    if (rt->mark[rt->occ[i].atom] == rt->stamp) first[n] = rt->occ[i].first, last[n++] = rt->occ[i].last;
  return n;
}

/* Ordered chain from operand k on, starting after token `after`, with at
 * most `left` tokens of gap in all. */
static bool chain(es_sitm_rt *rt, const es_qnode *nd, uint32_t k, long after, long left) {
  if (k == nd->nkids) return true;
  uint32_t f[64], l[64];
  size_t n = spans(rt, nd->kids[k], f, l, 64);
  for (size_t i = 0; i < n; i++) {
    long gap = (long)f[i] - after - 1;
    if (k == 0) gap = 0;
    if (gap < 0 || gap > left) continue;
    if (chain(rt, nd, k + 1, (long)l[i], left - gap)) return true;
  }
  return false;
}

static bool near_holds(es_sitm_rt *rt, const es_qnode *nd) {
  if (nd->ordered || nd->nkids != 2) return chain(rt, nd, 0, -1, (long)nd->dist);
  uint32_t fa[64], la[64], fb[64], lb[64];
  size_t na = spans(rt, nd->kids[0], fa, la, 64), nb = spans(rt, nd->kids[1], fb, lb, 64);
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++) {
      long g1 = (long)fb[j] - (long)la[i] - 1, g2 = (long)fa[i] - (long)lb[j] - 1;
      if ((g1 >= 0 && g1 <= (long)nd->dist) || (g2 >= 0 && g2 <= (long)nd->dist)) return true;
    }
  return false;
}

static bool holds(es_sitm_rt *rt, const es_qnode *nd) {
  switch (nd->kind) {
  case ES_Q_ATOM: return bit(rt, nd->atom);
  case ES_Q_NOT: return !holds(rt, nd->kids[0]);
  case ES_Q_NEAR: return near_holds(rt, nd);
  case ES_Q_AND:
    for (uint32_t k = 0; k < nd->nkids; k++)
      if (!holds(rt, nd->kids[k])) return false;
    return true;
  default:
    if (nd->kind == ES_Q_OR && nd->near) { /* many atoms: from the text's matched atoms */
      const uint64_t *bm = rt->m->orbm + (size_t)(nd->near - 1) * rt->m->bmwords;
      for (size_t i = 0; i < rt->nset; i++)
        if (bm[rt->set[i] >> 6] >> (rt->set[i] & 63) & 1) return true;
      for (uint32_t k = 0; k < nd->nkids; k++)
        if (nd->kids[k]->kind != ES_Q_ATOM && holds(rt, nd->kids[k])) return true;
      return false;
    }
    for (uint32_t k = 0; k < nd->nkids; k++)
      if (holds(rt, nd->kids[k])) return true;
    return false;
  }
}

size_t es__sitm_touched(const es_sitm_rt *rt, const uint32_t **rules) {
  *rules = rt->tlist;
  return rt->ntouched;
}
bool es__sitm_always(const es_sitm *m, size_t rule) { return m->always[rule]; }

bool es__sitm_holds(const es_sitm *m, es_sitm_rt *rt, size_t rule) {
  if (!rt->touched[rule] && !m->always[rule]) return false; /* none of its atoms matched */
  return holds(rt, m->roots[rule]);
}

/* The words that made a subtree hold, outside any NOT: matched text. */
static void collect(const es_sitm *m, es_sitm_rt *rt, const es_qnode *nd, const char **w, size_t *l, size_t *n,
                    size_t cap) {
  if (*n >= cap || nd->kind == ES_Q_NOT || !holds(rt, nd)) return;
  if (nd->kind == ES_Q_ATOM) {
    const es_atom *at = &m->tab.atoms[nd->atom];
    const char *p;
    size_t pl;
    if (rt->first_start[nd->atom] != UINT32_MAX) {
      p = rt->text + rt->first_start[nd->atom];
      pl = rt->first_end[nd->atom] - rt->first_start[nd->atom];
    } else {
      p = at->text; /* a regex (its pattern) or a field filter */
      pl = at->len;
    }
    for (size_t i = 0; i < *n; i++) {
      if (l[i] == pl && !memcmp(w[i], p, pl)) return;
      if (p >= w[i] && p + pl <= w[i] + l[i]) return; /* inside a span already there ("charged" in "charged twice") */
      if (w[i] >= p && w[i] + l[i] <= p + pl) { /* the longer span instead */
        w[i] = p;
        l[i] = pl;
        return;
      }
    }
    w[*n] = p;
    l[(*n)++] = pl;
    return;
  }
  for (uint32_t k = 0; k < nd->nkids; k++) {
    const es_qnode *kid = nd->kids[k];
    if (nd->kind == ES_Q_NEAR && kid->kind != ES_Q_ATOM) {
      for (uint32_t j = 0; j < kid->nkids; j++) collect(m, rt, kid->kids[j], w, l, n, cap);
      continue;
    }
    collect(m, rt, kid, w, l, n, cap);
  }
}

size_t es__sitm_evidence(const es_sitm *m, es_sitm_rt *rt, size_t rule, const char **w, size_t *l, size_t cap) {
  size_t n = 0;
  collect(m, rt, m->roots[rule], w, l, &n, cap);
  return n;
}
