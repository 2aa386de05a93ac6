/* Situations: rule files (models/situations/README.md) loaded into rules,
 * their expressions compiled into the word matcher (sitmatch.c), and
 * evaluated per matched mention with its sentiment. Loading: main thread;
 * evaluation: any thread with its own es_situations_rt. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/mem.h"
#include "earshot/output.h"
#include "earshot/triage.h"
#include "triage_internal.h"

extern const unsigned char es_situations_en[];
extern const unsigned int es_situations_en_len;

typedef struct sit_rule {
  uint8_t situation;
  char *id;          /* "situation/rule" */
  int32_t def;       /* its expression: index in defs and the matcher; -1 none */
  uint8_t labels;    /* labels it allows (bit per enum es_label); 0 any */
  double cmin, cmax; /* compound range */
  char *when;        /* the sentiment condition as written; NULL none */
} sit_rule;

struct es_situations {
  char names[ES_SITUATIONS_MAX][ES_SITUATION_NAME_MAX];
  size_t nsit;
  sit_rule *rules;
  size_t nrules, caprules;
  es_query_def *defs; /* the expressions, in rule order */
  uint32_t *def_rule; /* rule of each expression */
  size_t ndefs, capdefs;
  uint32_t *plain;    /* rules without an expression */
  size_t nplain;
  uint32_t unless[ES_SITUATIONS_MAX]; /* situation i is dropped when one of these is there */
  char **files;       /* file names the defs point at */
  size_t nfiles;
  es_sitm *m;         /* the expressions, compiled */
  /* Rules looked at for every text: those without an expression or whose
   * expression holds on a text where nothing matched (a bit per rule);
   * the others only when one of their expression's atoms matched. */
  uint64_t *base;
  size_t nwords;
};

struct es_situations_rt {
  es_sitm_rt *r;
  uint64_t *cand; /* the rules to look at for this text */
};

/* After compiling: the rules every text looks at. 0 or ES_ENOMEM. */
static int finish(es_situations *S, es_diag *d) {
  S->nwords = (S->nrules + 63) / 64;
  if (!(S->base = es_calloc(S->nwords + 1, sizeof *S->base))) return es_diag_set(d, ES_ENOMEM, "out of memory");
  for (size_t ri = 0; ri < S->nrules; ri++)
    if (S->rules[ri].def < 0 || es__sitm_always(S->m, (size_t)S->rules[ri].def)) S->base[ri >> 6] |= 1ull << (ri & 63);
  return 0;
}

static bool name_ok(const char *s, size_t n) {
  if (!n || n >= ES_SITUATION_NAME_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return false;
  return true;
}

int es_situation_find(const es_situations *S, const char *name, size_t n) {
  for (size_t i = 0; i < S->nsit; i++)
    if (strlen(S->names[i]) == n && !memcmp(S->names[i], name, n)) return (int)i;
  return -1;
}

/* The situation `name`, added when new; -1 when there are too many. */
static int situation(es_situations *S, const char *name) {
  int i = es_situation_find(S, name, strlen(name));
  if (i >= 0) return i;
  if (S->nsit == ES_SITUATIONS_MAX) return -1;
  snprintf(S->names[S->nsit], ES_SITUATION_NAME_MAX, "%s", name);
  return (int)S->nsit++;
}

/* "negative", "not_positive", "compound<=-0.5" ..., comma-separated. */
static int parse_when(sit_rule *r, char *w, char *why, size_t cap) {
  r->cmin = -1;
  r->cmax = 1;
  if (!strcmp(w, "-")) return 0;
  r->when = es_strdup(w);
  if (!r->when) return ES_ENOMEM;
  uint8_t allow = 0, deny = 0;
  for (char *save, *t = strtok_r(w, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    bool neg = !strncmp(t, "not_", 4);
    const char *l = neg ? t + 4 : t;
    int label = !strcmp(l, "negative") ? ES_LABEL_NEGATIVE
                : !strcmp(l, "positive") ? ES_LABEL_POSITIVE
                : !strcmp(l, "neutral")  ? ES_LABEL_NEUTRAL
                                         : -1;
    if (label >= 0) {
      if (neg) deny |= (uint8_t)(1u << label);
      else allow |= (uint8_t)(1u << label);
      continue;
    }
    char *end;
    if (!strncmp(t, "compound<=", 10) || !strncmp(t, "compound>=", 10)) {
      double v = strtod(t + 10, &end);
      if (end != t + 10 && !*end && v >= -1 && v <= 1) {
        if (t[8] == '<') r->cmax = v;
        else r->cmin = v;
        continue;
      }
    }
    snprintf(why, cap, "'%s' is not a sentiment condition: use negative, neutral, positive, not_negative, "
             "not_positive, not_neutral, compound<=X or compound>=X (X in -1..1), comma-separated, or -", t);
    return ES_ECONFIG;
  }
  if (!allow) allow = (1u << ES_LABEL_NEGATIVE) | (1u << ES_LABEL_POSITIVE) | (1u << ES_LABEL_NEUTRAL);
  r->labels = allow & (uint8_t)~deny;
  return 0;
}

static int grow(void **p, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return 0;
  size_t c = *cap ? *cap * 2 : 64;
  void *x = es_realloc(*p, c * size);
  if (!x) return ES_ENOMEM;
  *p = x;
  *cap = c;
  return 0;
}

/* One file's text (NUL-terminated, modified in place). */
static int load_text(es_situations *S, const char *file, char *text, es_diag *d) {
  char *fname = es_strdup(file);
  char **files = es_realloc(S->files, (S->nfiles + 1) * sizeof *files);
  if (!fname || !files) {
    es_free(fname);
    if (files) S->files = files;
    return es_diag_set(d, ES_ENOMEM, "out of memory reading %s", file);
  }
  S->files = files;
  S->files[S->nfiles++] = fname;
  int lineno = 0;
  bool kind = false;
  for (char *line = text, *next; line; line = next) {
    lineno++;
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r') line[--n] = 0;
    if (!n) continue;
    if (!strncmp(line, "#! ", 3)) {
      char *a = line + 3;
      if (!strcmp(a, "kind situations")) {
        kind = true;
        continue;
      }
      if (!strncmp(a, "lang ", 5)) continue;
      if (!strncmp(a, "unless ", 7)) {
        char *save2, *who = strtok_r(a + 7, " ", &save2);
        int s = who && name_ok(who, strlen(who)) ? situation(S, who) : -1;
        int nother = 0;
        for (char *o = strtok_r(NULL, " ", &save2); s >= 0 && o; o = strtok_r(NULL, " ", &save2)) {
          int k = name_ok(o, strlen(o)) ? situation(S, o) : -1;
          if (k < 0 || k == s) {
            s = -1;
            break;
          }
          S->unless[s] |= 1u << k;
          nother++;
        }
        if (s < 0 || !nother)
          return es_diag_set(d, ES_ECONFIG, "%s:%d: write '#! unless SITUATION OTHER...' (names of a-z, 0-9 and '_', "
                             "at most %d situations): SITUATION is dropped when one of the others is there",
                             file, lineno, ES_SITUATIONS_MAX);
        continue;
      }
      return es_diag_set(d, ES_ECONFIG, "%s:%d: unknown directive '%s' (kind situations, lang, unless)", file, lineno, a);
    }
    if (line[0] == '#') continue;
    if (!kind)
      return es_diag_set(d, ES_ECONFIG, "%s:%d: a situation rules file starts with '#! kind situations'", file, lineno);
    char *f[4];
    int nf = 0;
    for (char *p = line; nf < 4; nf++) {
      f[nf] = p;
      char *tab = strchr(p, '\t');
      if (!tab) {
        nf++;
        break;
      }
      *tab = 0;
      p = tab + 1;
    }
    if (nf != 4 || strchr(f[3], '\t'))
      return es_diag_set(d, ES_ECONFIG, "%s:%d: expected SITUATION<TAB>RULE<TAB>SENTIMENT<TAB>EXPRESSION (4 fields)",
                         file, lineno);
    if (!name_ok(f[0], strlen(f[0])) || !name_ok(f[1], strlen(f[1])))
      return es_diag_set(d, ES_ECONFIG, "%s:%d: situation and rule names are 1-31 characters of a-z, 0-9 and '_'",
                         file, lineno);
    int s = situation(S, f[0]);
    if (s < 0) return es_diag_set(d, ES_ECONFIG, "%s:%d: more than %d situations", file, lineno, ES_SITUATIONS_MAX);
    if (grow((void **)&S->rules, &S->caprules, S->nrules, sizeof *S->rules))
      return es_diag_set(d, ES_ENOMEM, "out of memory");
    sit_rule *r = &S->rules[S->nrules];
    memset(r, 0, sizeof *r);
    r->situation = (uint8_t)s;
    r->def = -1;
    char id[2 * ES_SITUATION_NAME_MAX];
    snprintf(id, sizeof id, "%s/%s", f[0], f[1]);
    for (size_t i = 0; i < S->nrules; i++)
      if (!strcmp(S->rules[i].id, id))
        return es_diag_set(d, ES_ECONFIG, "%s:%d: rule %s is defined twice", file, lineno, id);
    r->id = es_strdup(id);
    if (!r->id) return es_diag_set(d, ES_ENOMEM, "out of memory");
    S->nrules++;
    char why[256];
    int rc = parse_when(r, f[2], why, sizeof why);
    if (rc) return es_diag_set(d, rc, "%s:%d: %s", file, lineno, rc == ES_ENOMEM ? "out of memory" : why);
    bool has_expr = strcmp(f[3], "-") != 0;
    if (!has_expr && !r->when)
      return es_diag_set(d, ES_ECONFIG, "%s:%d: rule %s has neither a sentiment condition nor an expression", file,
                         lineno, id);
    if (!has_expr) {
      uint32_t *pl = es_realloc(S->plain, (S->nplain + 1) * sizeof *pl);
      if (!pl) return es_diag_set(d, ES_ENOMEM, "out of memory");
      S->plain = pl;
      S->plain[S->nplain++] = (uint32_t)(S->nrules - 1);
      continue;
    }
    if (grow((void **)&S->defs, &S->capdefs, S->ndefs, sizeof *S->defs)) return es_diag_set(d, ES_ENOMEM, "out of memory");
    uint32_t *dr = es_realloc(S->def_rule, S->capdefs * sizeof *dr);
    if (!dr) return es_diag_set(d, ES_ENOMEM, "out of memory");
    S->def_rule = dr;
    char *expr = es_strdup(f[3]);
    if (!expr) return es_diag_set(d, ES_ENOMEM, "out of memory");
    S->defs[S->ndefs] = (es_query_def){.id = r->id, .name = r->id, .expr = expr, .file = fname, .line = lineno};
    S->def_rule[S->ndefs] = (uint32_t)(S->nrules - 1);
    r->def = (int32_t)S->ndefs++;
  }
  if (!kind) return es_diag_set(d, ES_ECONFIG, "%s: not a situation rules file (no '#! kind situations' line)", file);
  return 0;
}

static int load_file(es_situations *S, const char *path, es_diag *d) {
  FILE *f = fopen(path, "rb");
  if (!f) return es_diag_set(d, ES_EIO, "cannot open situation rules %s: %s", path, strerror(errno));
  es_buf b = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) es_buf_put(&b, chunk, n);
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    es_buf_free(&b);
    return es_diag_set(d, ES_EIO, "cannot read situation rules %s", path);
  }
  es_buf_putc(&b, 0);
  if (memchr(b.data, 0, b.len - 1)) {
    es_buf_free(&b);
    return es_diag_set(d, ES_ECONFIG, "%s: not a text file (NUL byte)", path);
  }
  int rc = load_text(S, path, b.data, d);
  es_buf_free(&b);
  return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int load_path(es_situations *S, const char *path, es_diag *d) {
  if (!strcmp(path, "builtin") || !strcmp(path, "builtin:en")) {
    char *text = es_malloc(es_situations_en_len + 1);
    if (!text) return es_diag_set(d, ES_ENOMEM, "out of memory");
    memcpy(text, es_situations_en, es_situations_en_len + 1);
    int rc = load_text(S, "builtin:en (models/situations/en/situations.tsv)", text, d);
    es_free(text);
    return rc;
  }
  DIR *dir = opendir(path);
  if (!dir) return load_file(S, path, d); /* a file (or the error of one) */
  char **names = NULL;
  size_t n = 0;
  int rc = 0;
  for (struct dirent *e; (e = readdir(dir));) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 4, ".tsv")) continue;
    char **x = es_realloc(names, (n + 1) * sizeof *x);
    if (!x) {
      rc = es_diag_set(d, ES_ENOMEM, "out of memory");
      break;
    }
    names = x;
    if (!(names[n] = es_malloc(strlen(path) + l + 2))) {
      rc = es_diag_set(d, ES_ENOMEM, "out of memory");
      break;
    }
    sprintf(names[n++], "%s/%s", path, e->d_name);
  }
  closedir(dir);
  if (!rc && !n) rc = es_diag_set(d, ES_ECONFIG, "%s: no situation rules (*.tsv) in this directory", path);
  if (!rc) qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    if (!rc) rc = load_file(S, names[i], d);
    es_free(names[i]);
  }
  es_free(names);
  return rc;
}

es_situations *es_situations_parse(const char *name, const char *text, int *err, es_diag *d) {
  es_situations *S = es_calloc(1, sizeof *S);
  char *copy = es_strdup(text);
  int rc = S && copy ? load_text(S, name, copy, d) : es_diag_set(d, ES_ENOMEM, "out of memory");
  es_free(copy);
  if (!rc && !(S->m = es__sitm_compile(S->defs, S->ndefs, &rc, d)) && !rc) rc = ES_ENOMEM;
  if (!rc) rc = finish(S, d);
  if (rc) {
    es_situations_destroy(S);
    *err = rc;
    return NULL;
  }
  *err = 0;
  return S;
}

es_situations *es_situations_load(const char *const *paths, size_t n, int *err, es_diag *d) {
  es_situations *S = es_calloc(1, sizeof *S);
  if (!S) {
    *err = es_diag_set(d, ES_ENOMEM, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    int rc = load_path(S, paths[i], d);
    if (rc) {
      *err = rc;
      es_situations_destroy(S);
      return NULL;
    }
  }
  if (!(S->m = es__sitm_compile(S->defs, S->ndefs, err, d)) || (*err = finish(S, d))) {
    es_situations_destroy(S);
    return NULL;
  }
  *err = 0;
  return S;
}

es_situations_rt *es_situations_rt_create(const es_situations *S) {
  es_situations_rt *rt = es_calloc(1, sizeof *rt);
  if (rt && (!(rt->r = es__sitm_rt_create(S->m)) || !(rt->cand = es_calloc(S->nwords + 1, sizeof *rt->cand)))) {
    es__sitm_rt_destroy(rt->r);
    es_free(rt);
    return NULL;
  }
  return rt;
}

void es_situations_rt_destroy(es_situations_rt *rt) {
  if (!rt) return;
  es__sitm_rt_destroy(rt->r);
  es_free(rt->cand);
  es_free(rt);
}

void es_situations_destroy(es_situations *S) {
  if (!S) return;
  for (size_t i = 0; i < S->nrules; i++) {
    es_free(S->rules[i].id);
    es_free(S->rules[i].when);
  }
  for (size_t i = 0; i < S->ndefs; i++) es_free((char *)S->defs[i].expr);
  es_free(S->base);
  for (size_t i = 0; i < S->nfiles; i++) es_free(S->files[i]);
  es_free(S->files);
  es_free(S->rules);
  es_free(S->defs);
  es_free(S->def_rule);
  es_free(S->plain);
  es__sitm_destroy(S->m);
  es_free(S);
}

size_t es_situations_count(const es_situations *S) { return S->nsit; }
const char *es_situation_name(const es_situations *S, size_t i) { return S->names[i]; }
const char *es_situation_rule_id(const es_situations *S, size_t rule) { return S->rules[rule].id; }

static bool sentiment_holds(const sit_rule *r, const es_sentiment *s) {
  if (!r->when) return true;
  if (s->label < 0 || s->label > ES_LABEL_NEGATIVE || !(r->labels >> s->label & 1)) return false;
  return s->compound >= r->cmin && s->compound <= r->cmax;
}

uint32_t es_situations_eval(const es_situations *S, es_situations_rt *rt, const char *folded, size_t n,
                            const es_match_meta *meta, const es_sentiment *s, es_situation_hit *hits, size_t *nhits) {
  uint32_t best[ES_SITUATIONS_MAX], mask = 0;
  *nhits = 0;
  if (S->ndefs && es__sitm_scan(S->m, rt->r, folded, n, meta)) return 0;
  /* The rules that may hold: every text's, and those one of whose atoms
   * matched. In file order: a situation's first rule that holds is its
   * evidence; the sentiment condition first (cheap), then the expression. */
  memcpy(rt->cand, S->base, S->nwords * sizeof *rt->cand);
  const uint32_t *tl;
  size_t nt = S->ndefs ? es__sitm_touched(rt->r, &tl) : 0;
  for (size_t i = 0; i < nt; i++) {
    uint32_t ri = S->def_rule[tl[i]];
    rt->cand[ri >> 6] |= 1ull << (ri & 63);
  }
  for (size_t wi = 0; wi < S->nwords; wi++)
    for (uint64_t c = rt->cand[wi]; c; c &= c - 1) {
      size_t ri = (wi << 6) + (size_t)__builtin_ctzll(c);
      const sit_rule *r = &S->rules[ri];
      uint32_t bit = 1u << r->situation;
      if ((mask & bit) || !sentiment_holds(r, s)) continue;
      if (r->def >= 0 && !es__sitm_holds(S->m, rt->r, (size_t)r->def)) continue;
      best[r->situation] = (uint32_t)ri;
      mask |= bit;
    }
  uint32_t drop = 0;
  for (size_t k = 0; k < S->nsit; k++)
    if ((mask >> k & 1) && (S->unless[k] & mask)) drop |= 1u << k;
  mask &= ~drop;
  size_t k2 = 0;
  for (size_t k = 0; k < S->nsit; k++)
    if (mask >> k & 1) hits[k2++] = (es_situation_hit){.situation = (uint8_t)k, .rule = (uint16_t)best[k]};
  *nhits = k2;
  return mask;
}

size_t es_situation_evidence(const es_situations *S, const es_situations_rt *rt, const es_situation_hit *h,
                             const char **words, size_t *lens, size_t cap) {
  const sit_rule *r = &S->rules[h->rule];
  size_t n = r->def >= 0 ? es__sitm_evidence(S->m, rt->r, (size_t)r->def, words, lens, cap) : 0;
  if (r->when && n < cap) { /* the sentiment condition is evidence too */
    words[n] = r->when;
    lens[n++] = strlen(r->when);
  }
  return n;
}

void es_situations_json(es_buf *b, const es_situations *S, const es_situations_rt *rt, const es_situation_hit *hits,
                        size_t nhits) {
  es_buf_puts(b, "\"situations\":[");
  for (size_t i = 0; i < nhits; i++) {
    const char *words[ES_SITUATION_EVIDENCE];
    size_t lens[ES_SITUATION_EVIDENCE];
    size_t nw = es_situation_evidence(S, rt, &hits[i], words, lens, ES_SITUATION_EVIDENCE);
    if (i) es_buf_putc(b, ',');
    es_buf_puts(b, "{\"situation\":");
    const char *name = S->names[hits[i].situation];
    es_buf_json_str(b, name, strlen(name));
    es_buf_puts(b, ",\"rule\":");
    const char *id = S->rules[hits[i].rule].id;
    es_buf_json_str(b, id, strlen(id));
    es_buf_puts(b, ",\"evidence\":[");
    for (size_t k = 0; k < nw; k++) {
      if (k) es_buf_putc(b, ',');
      es_buf_json_str(b, words[k], lens[k]);
    }
    es_buf_puts(b, "]}");
  }
  es_buf_putc(b, ']');
}
