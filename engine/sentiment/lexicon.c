/* The sentiment tables: built once at startup from the data files embedded
 * in the binary (models/sentiment/README.md) plus any the configuration
 * names, then read-only, so all worker threads share them without
 * synchronisation.
 *
 * A data file is a lexicon layer (token or phrase -> valence) or a rules
 * file (word -> role in the VADER rules), for one language or for all ("*").
 * Each language gets one word table (every fact about a lower-case token in
 * one slot, so the scorer does one lookup per token) and one table of word
 * sequences (phrases, idioms, two-word dampeners) keyed by word ids. Files
 * are applied in order; a later entry for the same token replaces an
 * earlier one, so the care layer overrides VADER where they disagree.
 * Main thread. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/hash.h"
#include "earshot/mem.h"
#include "lexicon_internal.h"

#define MAX_LANGS 16

typedef struct sslot {
  uint32_t ids[ES_SEQ_MAX];
  uint8_t n; /* 0 = empty */
  es_seq_info info;
} sslot;

/* A few words that matter only at one place (the first word of a text;
 * right after an exclaimed praise word; before a unit of time), kept out of
 * the word table so that such common words ("is", "can", "more") cost the
 * tokenizer nothing. */
#define ES_WORDLIST_MAX 32
typedef struct es_wordlist {
  char w[ES_WORDLIST_MAX][16];
  uint8_t len[ES_WORDLIST_MAX];
  uint64_t first[4]; /* bit per first byte: most lookups end at one test */
  int n;
} es_wordlist;

struct es_lang {
  es_wordtab tab;  /* the word table the scorer reads (es__lang_words) */
  char name[16];
  size_t wn;       /* entries in use */
  size_t ecap;     /* entries allocated */
  size_t klen, kcap; /* key bytes used and allocated */
  sslot *seqs;
  size_t smask, sn;
  uint32_t next_id;
  int max_phrase;
  char infix[4][8];
  size_t infix_len[4];
  int ninfix;
  bool infix_punct; /* every infix has an ASCII punctuation byte */
  bool care_rules;  /* a rules file gave words care roles (irony, duration) */
  /* Words that matter only at one place (the first word of a text; right
   * after an exclaimed praise word): kept out of the word table, so that
   * such common words ("is", "can", "more") cost the tokenizer nothing. */
  es_wordlist question, cue, numword;
  size_t nvalence, nphrases;
  char layers[96]; /* names of the layers loaded, comma separated */
};

struct es_lexicon {
  es_lang *langs[MAX_LANGS];
  int nlangs;
  int def; /* index of the default language, -1 = none */
};

/* ---- tables ---- */

static int wgrow(es_lang *L) {
  es_wordtab *t = &L->tab;
  size_t cap = (t->mask + 1) * 2;
  wslot *ns = es_calloc(cap, sizeof *ns);
  if (!ns) return ES_ENOMEM;
  for (size_t i = 0; i < L->wn; i++) {
    const wentry *e = &t->entries[i];
    uint64_t h = es__key_hash(t->keys + e->key_off, e->key_len);
    wslot *s = es__probe(ns, cap - 1, t, h, t->keys + e->key_off, e->key_len);
    s->tag = (uint32_t)h;
    s->idx = (uint32_t)i + 1;
  }
  es_free(t->slots);
  t->slots = ns;
  t->mask = cap - 1;
  return 0;
}

/* The Bloom filters, built once the tables are complete (4 bits per slot
 * each): of every word the table has, and of the words that matter on
 * their own wherever they are (a valence, a booster, a role, the start of
 * a phrase). Words that only take part in idioms and two-word dampeners
 * ("the" in "the shit", "bag" in "lost my bag") are left out of the second,
 * so that frequent ones do not cost a probe at every occurrence: the rules
 * look them up only around a sentiment word (es__word_any). */
static int bloom_build(es_lang *L) {
  es_wordtab *t = &L->tab;
  size_t words = (t->mask + 1) / 16;
  uint64_t *b = es_calloc(words, sizeof *b), *ba = es_calloc(words, sizeof *ba);
  if (!b || !ba) {
    es_free(b);
    es_free(ba);
    return ES_ENOMEM;
  }
  es_free(t->bloom);
  es_free(t->bloom_any);
  t->bloom = b;
  t->bloom_any = ba;
  t->bmask = words - 1;
  for (size_t i = 0; i < L->wn; i++) {
    const wentry *e = &t->entries[i];
    const es_word_info *w = &e->info;
    uint64_t h = es__key_hash(t->keys + e->key_off, e->key_len);
    t->bloom_any[es__bloom_word(t, h)] |= es__bloom_bits(h);
    if (w->in_lex || w->booster != 0 || (w->roles & ~ES_R_STARTS_SEQ))
      t->bloom[es__bloom_word(t, h)] |= es__bloom_bits(h);
  }
  return 0;
}

/* The facts of a lower-case token, an entry created when absent. The
 * pointer is valid until the next wput. */
static es_word_info *wput(es_lang *L, const char *tok, size_t n) {
  es_wordtab *t = &L->tab;
  if ((L->wn + 1) * 3 > (t->mask + 1) && wgrow(L)) return NULL; /* load <= 1/3: short probes */
  uint64_t h = es__key_hash(tok, n);
  wslot *s = es__probe(t->slots, t->mask, t, h, tok, n);
  if (!s->idx) {
    if (L->wn == L->ecap) {
      size_t cap = L->ecap ? L->ecap * 2 : 1024;
      wentry *ne = es_realloc(t->entries, cap * sizeof *ne);
      if (!ne) return NULL;
      t->entries = ne;
      L->ecap = cap;
    }
    if (L->klen + n > L->kcap) {
      size_t cap = L->kcap ? L->kcap * 2 : 65536;
      while (cap < L->klen + n) cap *= 2;
      char *nk = es_realloc(t->keys, cap);
      if (!nk) return NULL;
      t->keys = nk;
      L->kcap = cap;
    }
    memcpy(t->keys + L->klen, tok, n);
    wentry *e = &t->entries[L->wn];
    memset(e, 0, sizeof *e);
    e->key_off = (uint32_t)L->klen;
    e->key_len = (uint32_t)n;
    L->klen += n;
    s->tag = (uint32_t)h;
    s->idx = (uint32_t)++L->wn;
  }
  return &t->entries[s->idx - 1].info;
}

static size_t seq_hash(const uint32_t *ids, int n) {
  uint64_t h = (uint64_t)n;
  for (int i = 0; i < n; i++) h = es_hash_mix(h * 0x9e3779b97f4a7c15ULL + ids[i]);
  return (size_t)h;
}

static sslot *sfind(sslot *slots, size_t mask, const uint32_t *ids, int n) {
  size_t h = seq_hash(ids, n) & mask;
  for (;; h = (h + 1) & mask) {
    sslot *s = &slots[h];
    if (!s->n || (s->n == n && !memcmp(s->ids, ids, (size_t)n * sizeof *ids))) return s;
  }
}

static sslot *sput(es_lang *L, const uint32_t *ids, int n) {
  if ((L->sn + 1) * 2 > (L->smask + 1)) {
    size_t cap = (L->smask + 1) * 2;
    sslot *ns = es_calloc(cap, sizeof *ns);
    if (!ns) return NULL;
    for (size_t i = 0; i <= L->smask; i++)
      if (L->seqs[i].n) *sfind(ns, cap - 1, L->seqs[i].ids, L->seqs[i].n) = L->seqs[i];
    es_free(L->seqs);
    L->seqs = ns;
    L->smask = cap - 1;
  }
  sslot *s = sfind(L->seqs, L->smask, ids, n);
  if (!s->n) {
    memcpy(s->ids, ids, (size_t)n * sizeof *ids);
    s->n = (uint8_t)n;
    L->sn++;
  }
  return s;
}

static es_lang *lang_new(const char *name) {
  es_lang *L = es_calloc(1, sizeof *L);
  if (!L) return NULL;
  snprintf(L->name, sizeof L->name, "%s", name);
  L->tab.mask = 1023;
  L->smask = 63;
  L->tab.slots = es_calloc(L->tab.mask + 1, sizeof *L->tab.slots);
  L->seqs = es_calloc(L->smask + 1, sizeof *L->seqs);
  if (!L->tab.slots || !L->seqs) {
    es_free(L->tab.slots);
    es_free(L->seqs);
    es_free(L);
    return NULL;
  }
  return L;
}

static void lang_free(es_lang *L) {
  if (!L) return;
  es_free(L->tab.slots);
  es_free(L->tab.bloom);
  es_free(L->tab.bloom_any);
  es_free(L->tab.entries);
  es_free(L->tab.keys);
  es_free(L->seqs);
  es_free(L);
}

/* ---- data files ---- */

/* One data file: embedded lines or a file read at startup. */
typedef struct dfile {
  const char *name;
  const char *const *lines;
  unsigned nlines;
  char kind[16], lang[16], layer[16];
  bool selected;
  char *text;         /* owned, for files read from disk */
  const char **owned; /* their line array */
} dfile;

static int directives(dfile *f, es_diag *d) {
  for (unsigned i = 0; i < f->nlines; i++) {
    const char *l = f->lines[i];
    if (strncmp(l, "#! ", 3)) continue;
    char key[16], val[16];
    if (sscanf(l + 3, "%15s %15s", key, val) != 2)
      return es_diag_set(d, ES_ECONFIG, "%s:%u: a directive reads '#! kind lexicon', '#! lang en' or '#! layer NAME'",
                         f->name, i + 1);
    if (!strcmp(key, "kind")) snprintf(f->kind, sizeof f->kind, "%s", val);
    else if (!strcmp(key, "lang")) snprintf(f->lang, sizeof f->lang, "%s", val);
    else if (!strcmp(key, "layer")) snprintf(f->layer, sizeof f->layer, "%s", val);
    else return es_diag_set(d, ES_ECONFIG, "%s:%u: unknown directive '%s' (kind, lang, layer)", f->name, i + 1, key);
  }
  if (strcmp(f->kind, "lexicon") && strcmp(f->kind, "rules"))
    return es_diag_set(d, ES_ECONFIG, "%s: needs '#! kind lexicon' or '#! kind rules' near the top", f->name);
  if (!f->lang[0]) return es_diag_set(d, ES_ECONFIG, "%s: needs '#! lang CODE' (or '#! lang *' for every language)", f->name);
  if (!strcmp(f->kind, "lexicon") && !f->layer[0])
    return es_diag_set(d, ES_ECONFIG, "%s: a lexicon file needs '#! layer NAME'", f->name);
  return 0;
}

static int read_file(dfile *f, const char *path, es_diag *d) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return es_diag_set(d, ES_ECONFIG, "sentiment file %s: %s", path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  char *t = es_malloc(cap);
  size_t r;
  while (t && (r = fread(t + len, 1, cap - len - 1, fp)) > 0) {
    len += r;
    if (len + 1 == cap) {
      char *nt = es_realloc(t, cap * 2);
      if (!nt) es_free(t);
      t = nt;
      cap *= 2;
    }
  }
  fclose(fp);
  if (!t) return ES_ENOMEM;
  t[len] = 0;
  size_t nl = 1;
  for (size_t i = 0; i < len; i++) nl += t[i] == '\n';
  const char **lines = es_malloc(nl * sizeof *lines);
  if (!lines) {
    es_free(t);
    return ES_ENOMEM;
  }
  unsigned n = 0;
  for (char *p = t; *p || p == t;) {
    char *e = strchr(p, '\n');
    if (e) *e = 0;
    size_t ll = strlen(p);
    if (ll && p[ll - 1] == '\r') p[ll - 1] = 0;
    lines[n++] = p;
    if (!e) break;
    p = e + 1;
  }
  f->name = path;
  f->text = t;
  f->owned = lines;
  f->lines = lines;
  f->nlines = n;
  return 0;
}

/* Splits "a\tb\tc" into at most 3 fields (in `buf`). */
static int fields(const char *line, char *buf, size_t cap, char **out) {
  size_t n = strlen(line);
  if (n >= cap) return -1;
  memcpy(buf, line, n + 1);
  int k = 0;
  out[k++] = buf;
  for (char *p = buf; *p && k < 3; p++)
    if (*p == '\t') {
      *p = 0;
      out[k++] = p + 1;
    }
  return k;
}

/* Word ids of a space-separated sequence; marks the first word. */
static int seq_ids(es_lang *L, char *words, uint32_t *ids, uint32_t first_roles) {
  int n = 0;
  const char *first = NULL;
  for (char *w = strtok(words, " "); w; w = strtok(NULL, " ")) {
    if (n == ES_SEQ_MAX) return ES_ELIMIT;
    es_word_info *s = wput(L, w, strlen(w));
    if (!s) return ES_ENOMEM;
    if (!s->id) s->id = ++L->next_id;
    if (n == 0) {
      s->roles |= first_roles;
      first = w;
    }
    ids[n++] = s->id;
  }
  if ((first_roles & ES_R_STARTS_PHRASE) && n >= 2) {
    es_word_info *s = wput(L, first, strlen(first)); /* there already */
    if (!s) return ES_ENOMEM;
    s->phrase_lens |= (uint8_t)(1u << n);
  }
  return n;
}

static const struct {
  const char *name;
  uint32_t role;
} roles[] = {
  {"negation", ES_R_NEGATION}, {"contrast", ES_R_CONTRAST}, {"no", ES_R_NO},          {"no_link", ES_R_NO_LINK},
  {"never", ES_R_NEVER},       {"so_this", ES_R_SO_THIS},   {"without", ES_R_WITHOUT}, {"doubt", ES_R_DOUBT},
  {"least", ES_R_LEAST},       {"least_guard", ES_R_LEAST_GUARD}, {"kind_of", ES_R_KIND_OF},
  {"irony", ES_R_IRONY},
};

static int number(const char *s, double lo, double hi, double *out) {
  char *e;
  errno = 0;
  double v = strtod(s, &e);
  if (e == s || *e || errno || !isfinite(v) || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

static int apply(es_lang *L, const dfile *f, es_diag *d) {
  bool rules = !strcmp(f->kind, "rules");
  char buf[1024], *fl[3];
  for (unsigned i = 0; i < f->nlines; i++) {
    const char *line = f->lines[i];
    if (!line[0] || (line[0] == '#' && (line[1] == 0 || line[1] == ' ' || line[1] == '!'))) continue;
    int nf = fields(line, buf, sizeof buf, fl);
    if (nf < 0) return es_diag_set(d, ES_ECONFIG, "%s:%u: line longer than %zu bytes", f->name, i + 1, sizeof buf);
    if (!fl[0][0]) return es_diag_set(d, ES_ECONFIG, "%s:%u: empty token before the tab", f->name, i + 1);
    bool multi = strchr(fl[0], ' ') != NULL;
    uint32_t ids[ES_SEQ_MAX];
    double v = 0;
    if (!rules) {
      if (nf < 2 || number(fl[1], -4.0, 4.0, &v))
        return es_diag_set(d, ES_ECONFIG, "%s:%u: expected TOKEN<TAB>VALENCE with a valence from -4 to 4, got '%s'",
                           f->name, i + 1, line);
      if (multi) {
        int n = seq_ids(L, fl[0], ids, ES_R_STARTS_SEQ | ES_R_STARTS_PHRASE);
        if (n == ES_ENOMEM) return n;
        if (n < 0 || n == 1) return es_diag_set(d, ES_ECONFIG, "%s:%u: a phrase has at most %d words", f->name, i + 1, ES_SEQ_MAX);
        sslot *s = sput(L, ids, n);
        if (!s) return ES_ENOMEM;
        L->nphrases += !(s->info.kinds & ES_SEQ_PHRASE);
        s->info.kinds |= ES_SEQ_PHRASE;
        s->info.phrase = v;
        if (n > L->max_phrase) L->max_phrase = n;
      } else {
        es_word_info *s = wput(L, fl[0], strlen(fl[0]));
        if (!s) return ES_ENOMEM;
        L->nvalence += !s->in_lex;
        s->in_lex = true;
        s->valence = v;
      }
      continue;
    }
    if (nf < 2) return es_diag_set(d, ES_ECONFIG, "%s:%u: expected WORD<TAB>ROLE, got '%s'", f->name, i + 1, line);
    const char *role = fl[1];
    if (!strcmp(role, "booster") || !strcmp(role, "dampener") || !strcmp(role, "idiom")) {
      if (nf < 3 || number(fl[2], -4.0, 4.0, &v))
        return es_diag_set(d, ES_ECONFIG, "%s:%u: role %s needs a value from -4 to 4 after a tab", f->name, i + 1, role);
      bool idiom = role[0] == 'i';
      if (role[0] == 'd') v = -v;
      if (!multi && idiom)
        return es_diag_set(d, ES_ECONFIG, "%s:%u: an idiom has two to %d words", f->name, i + 1, ES_SEQ_MAX);
      if (multi) {
        int n = seq_ids(L, fl[0], ids, ES_R_STARTS_SEQ);
        if (n == ES_ENOMEM) return n;
        if (n < 0 || n == 1) return es_diag_set(d, ES_ECONFIG, "%s:%u: at most %d words", f->name, i + 1, ES_SEQ_MAX);
        sslot *s = sput(L, ids, n);
        if (!s) return ES_ENOMEM;
        s->info.kinds |= idiom ? ES_SEQ_IDIOM : ES_SEQ_DAMP;
        if (idiom) s->info.idiom = v;
        else s->info.damp = v;
      } else {
        es_word_info *s = wput(L, fl[0], strlen(fl[0]));
        if (!s) return ES_ENOMEM;
        s->booster = v;
      }
      continue;
    }
    if (!strcmp(role, "opener")) {
      /* A sequence that, opening a text, complains ("how hard", "is anyone").
       * Its first word starts a sequence but not a phrase: no merging. */
      if (nf < 3 || number(fl[2], -4.0, 4.0, &v))
        return es_diag_set(d, ES_ECONFIG, "%s:%u: role opener needs a valence from -4 to 4 after a tab", f->name, i + 1);
      int n = multi ? seq_ids(L, fl[0], ids, ES_R_STARTS_OPENER) : -1;
      if (n == ES_ENOMEM) return n;
      if (n < 2) return es_diag_set(d, ES_ECONFIG, "%s:%u: an opener has two to %d words", f->name, i + 1, ES_SEQ_MAX);
      sslot *s = sput(L, ids, n);
      if (!s) return ES_ENOMEM;
      s->info.kinds |= ES_SEQ_OPENER;
      s->info.opener = v;
      L->care_rules = true;
      continue;
    }
    es_wordlist *list = !strcmp(role, "question") ? &L->question : !strcmp(role, "irony_cue") ? &L->cue
                      : !strcmp(role, "number")   ? &L->numword
                                                  : NULL;
    if (list) {
      size_t wl = strlen(fl[0]);
      if (multi || wl >= sizeof list->w[0] || list->n == ES_WORDLIST_MAX)
        return es_diag_set(d, ES_ECONFIG, "%s:%u: role %s takes one word of at most 15 bytes, %d words at most", f->name,
                           i + 1, role, ES_WORDLIST_MAX);
      memcpy(list->w[list->n], fl[0], wl + 1);
      list->len[list->n++] = (uint8_t)wl;
      list->first[(unsigned char)fl[0][0] >> 6] |= 1ull << ((unsigned char)fl[0][0] & 63);
      if (list != &L->numword) L->care_rules = true;
      continue;
    }
    if (!strcmp(role, "duration")) {
      if (nf < 3 || number(fl[2], -4.0, 4.0, &v))
        return es_diag_set(d, ES_ECONFIG, "%s:%u: role duration needs a valence from -4 to 4 after a tab", f->name, i + 1);
      if (multi) return es_diag_set(d, ES_ECONFIG, "%s:%u: role duration takes a single word", f->name, i + 1);
      es_word_info *s = wput(L, fl[0], strlen(fl[0]));
      if (!s) return ES_ENOMEM;
      s->roles |= ES_R_DURATION;
      s->duration = (float)v;
      L->care_rules = true;
      continue;
    }
    if (!strcmp(role, "negation_infix")) {
      if (L->ninfix == 4 || strlen(fl[0]) >= sizeof L->infix[0])
        return es_diag_set(d, ES_ECONFIG, "%s:%u: at most 4 negation infixes of up to 7 bytes", f->name, i + 1);
      L->infix_len[L->ninfix] = strlen(fl[0]);
      snprintf(L->infix[L->ninfix++], sizeof L->infix[0], "%s", fl[0]);
      continue;
    }
    uint32_t r = 0;
    for (size_t k = 0; k < sizeof roles / sizeof *roles; k++)
      if (!strcmp(role, roles[k].name)) r = roles[k].role;
    if (!r)
      return es_diag_set(d, ES_ECONFIG,
                         "%s:%u: unknown role '%s' (negation, negation_infix, booster, dampener, contrast, no, "
                         "no_link, never, so_this, without, doubt, least, least_guard, kind_of, idiom, irony, irony_cue, "
                         "duration, number, question, opener)",
                         f->name, i + 1, role);
    if (multi) return es_diag_set(d, ES_ECONFIG, "%s:%u: role %s takes a single word", f->name, i + 1, role);
    es_word_info *s = wput(L, fl[0], strlen(fl[0]));
    if (!s) return ES_ENOMEM;
    s->roles |= r;
    if (r & ES_R_IRONY) L->care_rules = true;
  }
  if (!rules) {
    size_t used = strlen(L->layers);
    snprintf(L->layers + used, sizeof L->layers - used, "%s%s", used ? ", " : "", f->layer);
  }
  return 0;
}

static bool lang_is(const char *file_lang, const char *lang) { return !strcmp(file_lang, "*") || !strcmp(file_lang, lang); }

void es_lexicon_layer_names(char *buf, size_t n) {
  size_t used = 0;
  buf[0] = 0;
  for (unsigned i = 0; i < es__lexicon_file_count; i++) {
    dfile f = {.name = es__lexicon_files[i].name, .lines = es__lexicon_files[i].lines,
               .nlines = es__lexicon_files[i].nlines};
    es_diag d = {0};
    if (directives(&f, &d) || strcmp(f.kind, "lexicon")) continue;
    /* A layer written for several languages (afinn) is named once. */
    bool seen = false;
    for (unsigned j = 0; j < i && !seen; j++) {
      dfile g = {.name = es__lexicon_files[j].name, .lines = es__lexicon_files[j].lines,
                 .nlines = es__lexicon_files[j].nlines};
      seen = !directives(&g, &d) && !strcmp(g.kind, "lexicon") && !strcmp(g.layer, f.layer);
    }
    if (seen) continue;
    used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s", used ? ", " : "", f.layer);
    if (used >= n) break;
  }
}

es_lexicon *es_lexicon_create(const es_sentiment_opts *o, es_diag *d) {
  es_sentiment_opts none = {0};
  if (!o) o = &none;
  size_t nf = es__lexicon_file_count + (size_t)o->nfiles;
  dfile *files = es_calloc(nf, sizeof *files);
  es_lexicon *lex = es_calloc(1, sizeof *lex);
  int rc = (!files || !lex) ? ES_ENOMEM : 0;
  for (unsigned i = 0; !rc && i < es__lexicon_file_count; i++) {
    files[i].name = es__lexicon_files[i].name;
    files[i].lines = es__lexicon_files[i].lines;
    files[i].nlines = es__lexicon_files[i].nlines;
  }
  for (int i = 0; !rc && i < o->nfiles; i++) rc = read_file(&files[es__lexicon_file_count + (unsigned)i], o->files[i], d);
  for (size_t i = 0; !rc && i < nf; i++) rc = directives(&files[i], d);
  /* Selection: rules always; a built-in layer when chosen (or when no
   * choice was made); a named file always. */
  for (int k = 0; !rc && k < o->nlayers; k++) {
    bool known = false;
    for (size_t i = 0; i < nf; i++) known |= !strcmp(files[i].layer, o->layers[k]);
    if (!known) {
      char names[256];
      es_lexicon_layer_names(names, sizeof names);
      rc = es_diag_set(d, ES_ECONFIG, "unknown sentiment layer '%s' (built in: %s)", o->layers[k], names);
    }
  }
  for (size_t i = 0; !rc && i < nf; i++) {
    dfile *f = &files[i];
    /* A rules file of a layer (the care layer's rules) goes with it. */
    f->selected = (!strcmp(f->kind, "rules") && !f->layer[0]) || i >= es__lexicon_file_count || o->nlayers == 0;
    for (int k = 0; k < o->nlayers; k++) f->selected |= !strcmp(f->layer, o->layers[k]);
  }
  /* Languages: those with a chosen lexicon layer of their own. */
  for (size_t i = 0; !rc && i < nf; i++) {
    dfile *f = &files[i];
    if (!f->selected || strcmp(f->kind, "lexicon") || !strcmp(f->lang, "*")) continue;
    bool have = false;
    for (int k = 0; k < lex->nlangs; k++) have |= !strcmp(lex->langs[k]->name, f->lang);
    if (have) continue;
    if (lex->nlangs == MAX_LANGS) {
      rc = es_diag_set(d, ES_ECONFIG, "at most %d sentiment languages", MAX_LANGS);
      break;
    }
    es_lang *L = lang_new(f->lang);
    if (!L) rc = ES_ENOMEM;
    else lex->langs[lex->nlangs++] = L;
  }
  for (int k = 0; !rc && k < lex->nlangs; k++)
    for (size_t i = 0; !rc && i < nf; i++)
      if (files[i].selected && lang_is(files[i].lang, lex->langs[k]->name)) rc = apply(lex->langs[k], &files[i], d);
  for (int k = 0; !rc && k < lex->nlangs; k++) {
    es_lang *L = lex->langs[k];
    rc = bloom_build(L);
    L->infix_punct = true;
    for (int i = 0; i < L->ninfix; i++) {
      bool p = false;
      for (const char *c = L->infix[i]; *c; c++) p |= (*c >= '!' && *c <= '/') || (*c >= ':' && *c <= '@') ||
                                                     (*c >= '[' && *c <= '`') || (*c >= '{' && *c <= '~');
      L->infix_punct &= p;
    }
  }
  const char *def = o->default_lang ? o->default_lang : "en";
  if (lex) lex->def = -1;
  for (int k = 0; !rc && k < lex->nlangs; k++)
    if (!strcmp(lex->langs[k]->name, def)) lex->def = k;
  for (size_t i = 0; files && i < nf; i++) {
    es_free(files[i].text);
    es_free(files[i].owned);
  }
  es_free(files);
  if (rc) {
    if (rc == ES_ENOMEM && d) es_diag_set(d, ES_ENOMEM, "out of memory loading the sentiment lexicons");
    es_lexicon_destroy(lex);
    return NULL;
  }
  return lex;
}

es_lexicon *es_lexicon_create_default(void) {
  es_diag d = {0};
  return es_lexicon_create(NULL, &d);
}

void es_lexicon_destroy(es_lexicon *lex) {
  if (!lex) return;
  for (int k = 0; k < lex->nlangs; k++) lang_free(lex->langs[k]);
  es_free(lex);
}

const es_lang *es__lexicon_default_lang(const es_lexicon *lex) { return lex->def >= 0 ? lex->langs[lex->def] : NULL; }

size_t es_lexicon_size(const es_lexicon *lex) {
  const es_lang *L = es__lexicon_default_lang(lex);
  return L ? L->nvalence : 0;
}

void es_lexicon_describe(const es_lexicon *lex, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = 0;
  for (int k = 0; k < lex->nlangs && used < n; k++) {
    const es_lang *L = lex->langs[k];
    used += (size_t)snprintf(buf + used, n - used, "%s%s (%s: %zu words, %zu phrases)", k ? "; " : "", L->name,
                             L->layers, L->nvalence, L->nphrases);
  }
}

/* The table for a language tag: its primary subtag, case-insensitive. */
static const es_lang *lang_for(const es_lexicon *lex, const char *tag, size_t n) {
  if (n == 0 || (n == 3 && !memcmp(tag, "und", 3))) return es__lexicon_default_lang(lex);
  size_t p = 0;
  char prim[16];
  while (p < n && p + 1 < sizeof prim && tag[p] != '-' && tag[p] != '_') {
    char c = tag[p];
    prim[p++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  if (p < n && tag[p] != '-' && tag[p] != '_') return NULL; /* primary subtag too long */
  prim[p] = 0;
  for (int k = 0; k < lex->nlangs; k++)
    if (!strcmp(lex->langs[k]->name, prim)) return lex->langs[k];
  return NULL;
}

bool es_lexicon_has_lang(const es_lexicon *lex, const char *lang, size_t n) { return lang_for(lex, lang, n) != NULL; }

const es_lang *es__lexicon_lang(const es_lexicon *lex, const char *lang, size_t n) { return lang_for(lex, lang, n); }

const es_wordtab *es__lang_words(const es_lang *L) { return &L->tab; }

const es_seq_info *es__lang_seq(const es_lang *L, const uint32_t *ids, int n) {
  const sslot *s = sfind(L->seqs, L->smask, ids, n);
  return s->n ? &s->info : NULL;
}

int es__lang_max_phrase(const es_lang *L) { return L->max_phrase; }

bool es__lang_infix_needs_punct(const es_lang *L) { return L->infix_punct; }
bool es__lang_care_rules(const es_lang *L) { return L->care_rules; }

static bool in_list(const es_wordlist *l, const char *w, size_t wn) {
  unsigned char c = (unsigned char)w[0];
  if (!wn || !(l->first[c >> 6] >> (c & 63) & 1)) return false;
  for (int k = 0; k < l->n; k++)
    if (l->len[k] == wn && !memcmp(l->w[k], w, wn)) return true;
  return false;
}
bool es__lang_question(const es_lang *L, const char *w, size_t n) { return in_list(&L->question, w, n); }
bool es__lang_irony_cue(const es_lang *L, const char *w, size_t n) { return in_list(&L->cue, w, n); }
bool es__lang_number_word(const es_lang *L, const char *w, size_t n) { return in_list(&L->numword, w, n); }

bool es__lang_infix_negation(const es_lang *L, const char *tok, size_t n) {
  for (int k = 0; k < L->ninfix; k++) {
    size_t m = L->infix_len[k];
    char c = L->infix[k][0];
    for (size_t i = 0; i + m <= n; i++) /* tokens are short: a plain loop beats memchr */
      if (tok[i] == c && !memcmp(tok + i, L->infix[k], m)) return true;
  }
  return false;
}

bool es_lexicon_get(const es_lexicon *lex, const char *tok, size_t n, double *valence) {
  const es_lang *L = es__lexicon_default_lang(lex);
  const es_word_info *w = L ? es__word_any(&L->tab, tok, n) : NULL;
  if (!w || !w->in_lex) return false;
  *valence = w->valence;
  return true;
}
