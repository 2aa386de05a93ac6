/* The VADER-family scorer (see include/earshot/sentiment.h).
 *
 * Tokens are whitespace-separated; surrounding ASCII punctuation is stripped
 * unless that would leave two characters or fewer (so emoticons such as ":)"
 * survive), and URLs are dropped. Each token's lower-case form is written to
 * a per-thread buffer and looked up once in the word table; every rule then
 * reads the token array: O(tokens) work, one hash lookup per token, no
 * allocation. Called by worker threads, one
 * es_sentiment_rt each; the lexicon is shared read-only. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "earshot/mem.h"
#include "lexicon_internal.h"

typedef struct tok {
  const char *p;  /* original text */
  const char *lo; /* lower-case copy */
  uint16_t n;
  bool upper;     /* Python's str.isupper(): has cased letters, none lower */
  bool in_lex;
  bool negation;  /* a negation word, or contains "n't" */
  uint8_t special;
  double lex;     /* lexicon valence, 0 when absent */
  double booster; /* booster/dampener scalar, 0 when neither */
} tok;

struct es_sentiment_rt {
  tok toks[ES_SENTIMENT_MAX_TOKENS];
  double val[ES_SENTIMENT_MAX_TOKENS];
  char lower[65536];
};

const char *es_label_name(int label) {
  switch (label) {
  case ES_LABEL_POSITIVE: return "positive";
  case ES_LABEL_NEGATIVE: return "negative";
  case ES_LABEL_UNSCORED: return "unscored";
  default: return "neutral";
  }
}

void es_sentiment_rt_destroy(es_sentiment_rt *rt) { es_free(rt); }

bool es_sentiment_lang_supported(const char *lang, size_t n) {
  if (n == 0 || (n == 3 && !memcmp(lang, "und", 3))) return true;
  return n >= 2 && (lang[0] | 32) == 'e' && (lang[1] | 32) == 'n' && (n == 2 || lang[2] == '-' || lang[2] == '_');
}

/* Byte classes for the tokenizer: one table lookup per byte. */
enum { C_WS = 1, C_PUNCT = 2, C_UPPER = 4, C_LOWER = 8 };
static uint8_t cls[256];
static pthread_once_t cls_once = PTHREAD_ONCE_INIT;

static void cls_init(void) {
  for (int c = 0; c < 256; c++) {
    uint8_t k = 0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') k |= C_WS;
    if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')) k |= C_PUNCT;
    if (c >= 'A' && c <= 'Z') k |= C_UPPER;
    if (c >= 'a' && c <= 'z') k |= C_LOWER;
    cls[c] = k;
  }
}

static inline uint8_t cl(char c) { return cls[(unsigned char)c]; }

es_sentiment_rt *es_sentiment_rt_create(void) {
  pthread_once(&cls_once, cls_init);
  return es_calloc(1, sizeof(es_sentiment_rt));
}

static size_t tokenize(es_sentiment_rt *rt, const char *s, size_t n) {
  size_t nt = 0, lo = 0, i = 0;
  while (i < n && nt < ES_SENTIMENT_MAX_TOKENS) {
    while (i < n && (cl(s[i]) & C_WS)) i++;
    size_t b = i;
    while (i < n && !(cl(s[i]) & C_WS)) i++;
    size_t e = i;
    if (b == e) break;
    if ((e - b > 7 && !memcmp(s + b, "http://", 7)) || (e - b > 8 && !memcmp(s + b, "https://", 8))) continue;
    size_t sb = b, se = e;
    while (sb < se && (cl(s[sb]) & C_PUNCT)) sb++;
    while (se > sb && (cl(s[se - 1]) & C_PUNCT)) se--;
    if (se - sb > 2) {
      b = sb;
      e = se;
    }
    if (e - b > UINT16_MAX || lo + (e - b) > sizeof rt->lower) break;
    tok *t = &rt->toks[nt++];
    t->p = s + b;
    t->n = (uint16_t)(e - b);
    t->lo = rt->lower + lo;
    bool cased = false, any_lower = false;
    for (size_t k = b; k < e; k++) {
      char c = s[k];
      uint8_t k2 = cl(c);
      if (k2 & C_UPPER) {
        cased = true;
        c = (char)(c + 32);
      } else if (k2 & C_LOWER) {
        cased = any_lower = true;
      }
      rt->lower[lo++] = c;
    }
    t->upper = cased && !any_lower;
  }
  return nt;
}

static bool is(const tok *t, int special) { return t->special == special; }

static void note(es_sentiment_trace *tr, size_t i, const char *rule) {
  if (!tr) return;
  char *r = tr->tokens[i].rules;
  size_t len = strlen(r);
  snprintf(r + len, sizeof tr->tokens[i].rules - len, "%s%s", len ? "," : "", rule);
}

static double scalar_inc_dec(const tok *w, double valence, bool cap_diff) {
  double scalar = w->booster;
  if (scalar == 0) return 0;
  if (valence < 0) scalar = -scalar;
  if (w->upper && cap_diff) scalar += valence > 0 ? ES_C_INCR : -ES_C_INCR;
  return scalar;
}

static bool damp_bigram(const tok *a, const tok *b) {
  return ((is(a, ES_W_KIND) || is(a, ES_W_SORT)) && is(b, ES_W_OF)) || (is(a, ES_W_JUST) && is(b, ES_W_ENOUGH));
}

static bool so_or_this(const tok *t) { return is(t, ES_W_SO) || is(t, ES_W_THIS); }

static double negation_check(const tok *w, size_t i, int start_i, double v, es_sentiment_trace *tr) {
  const tok *prev = &w[i - (size_t)start_i - 1];
  if (start_i == 1 && is(&w[i - 2], ES_W_NEVER) && so_or_this(&w[i - 1])) {
    note(tr, i, "never-so");
    return v * 1.25;
  }
  if (start_i == 2 && is(&w[i - 3], ES_W_NEVER) && (so_or_this(&w[i - 2]) || so_or_this(&w[i - 1]))) {
    note(tr, i, "never-so");
    return v * 1.25;
  }
  if (start_i >= 1 && is(&w[i - (size_t)start_i - 1], ES_W_WITHOUT) &&
      (is(&w[i - 1], ES_W_DOUBT) || (start_i == 2 && is(&w[i - 2], ES_W_DOUBT))))
    return v;
  if (prev->negation) {
    note(tr, i, "negation");
    return v * ES_N_SCALAR;
  }
  return v;
}

static double token_valence(const tok *w, size_t nt, size_t i, bool cap_diff, es_sentiment_trace *tr) {
  const tok *t = &w[i];
  double v = t->lex;
  if (is(t, ES_W_NO) && i + 1 < nt && w[i + 1].in_lex) {
    note(tr, i, "no-as-modifier");
    v = 0;
  }
  if ((i > 0 && is(&w[i - 1], ES_W_NO)) || (i > 1 && is(&w[i - 2], ES_W_NO)) ||
      (i > 2 && is(&w[i - 3], ES_W_NO) && (is(&w[i - 1], ES_W_OR) || is(&w[i - 1], ES_W_NOR)))) {
    note(tr, i, "no-negation");
    v = t->lex * ES_N_SCALAR;
  }
  if (t->upper && cap_diff) {
    note(tr, i, "caps");
    v += v > 0 ? ES_C_INCR : -ES_C_INCR;
  }
  for (int start_i = 0; start_i < 3; start_i++) {
    if (i <= (size_t)start_i) break;
    const tok *prev = &w[i - (size_t)start_i - 1];
    if (prev->in_lex) continue;
    double s = scalar_inc_dec(prev, v, cap_diff);
    if (s != 0) {
      note(tr, i, s * (v < 0 ? -1 : 1) > 0 ? "booster" : "dampener");
      if (start_i == 1) s *= 0.95;
      if (start_i == 2) s *= 0.9;
    }
    v += s;
    v = negation_check(w, i, start_i, v, tr);
    if (start_i == 2) {
      /* Two-word dampeners ("kind of", "sort of", "just enough") just
       * before the word, or one word earlier. */
      if (damp_bigram(&w[i - 2], &w[i - 1])) {
        note(tr, i, "dampener");
        v -= ES_B_INCR;
      }
      if (damp_bigram(&w[i - 3], &w[i - 2])) {
        note(tr, i, "dampener");
        v -= ES_B_INCR;
      }
    }
  }
  /* "least": negates unless in "at least" / "very least". */
  if (i > 1 && !w[i - 1].in_lex && is(&w[i - 1], ES_W_LEAST)) {
    if (!is(&w[i - 2], ES_W_AT) && !is(&w[i - 2], ES_W_VERY)) {
      note(tr, i, "least");
      v *= ES_N_SCALAR;
    }
  } else if (i > 0 && !w[i - 1].in_lex && is(&w[i - 1], ES_W_LEAST)) {
    note(tr, i, "least");
    v *= ES_N_SCALAR;
  }
  return v;
}

void es_sentiment_score(const es_lexicon *lex, es_sentiment_rt *rt, const char *text, size_t n, es_sentiment *out,
                        es_sentiment_trace *tr) {
  size_t nt = tokenize(rt, text, n);
  tok *w = rt->toks;
  size_t upper = 0;
  for (size_t i = 0; i < nt; i++) {
    const es_word_info *wi = es__lexicon_word(lex, w[i].lo, w[i].n);
    w[i].in_lex = wi && wi->in_lex;
    w[i].lex = w[i].in_lex ? wi->valence : 0;
    w[i].booster = wi ? wi->booster : 0;
    w[i].special = wi ? wi->special : ES_W_NONE;
    w[i].negation = wi && wi->negation;
    for (size_t k = 0; !w[i].negation && k + 3 <= w[i].n; k++)
      if (w[i].lo[k] == 'n' && w[i].lo[k + 1] == '\'' && w[i].lo[k + 2] == 't') w[i].negation = true;
    upper += w[i].upper;
  }
  bool cap_diff = upper > 0 && upper < nt;
  if (tr) {
    memset(tr, 0, sizeof *tr);
    tr->ntokens = nt;
    tr->caps_diff = cap_diff;
    for (size_t i = 0; i < nt; i++) {
      tr->tokens[i].p = w[i].p;
      tr->tokens[i].n = w[i].n;
      tr->tokens[i].lexicon = w[i].lex;
    }
  }
  double *val = rt->val;
  size_t but = SIZE_MAX;
  for (size_t i = 0; i < nt; i++) {
    val[i] = 0;
    if (but == SIZE_MAX && is(&w[i], ES_W_BUT)) but = i;
    if (w[i].booster != 0) continue;
    if (i + 1 < nt && is(&w[i], ES_W_KIND) && is(&w[i + 1], ES_W_OF)) continue;
    if (!w[i].in_lex) continue;
    val[i] = token_valence(w, nt, i, cap_diff, tr);
  }
  if (but != SIZE_MAX) {
    /* Contrast: what follows "but" weighs 3x what precedes it. */
    for (size_t i = 0; i < nt; i++) {
      if (val[i] == 0 || i == but) continue;
      val[i] *= i < but ? 0.5 : 1.5;
      note(tr, i, i < but ? "before-but" : "after-but");
    }
    if (tr) tr->but_applied = true;
  }
  double sum = 0, pos = 0, neg = 0, neu = 0;
  for (size_t i = 0; i < nt; i++) {
    sum += val[i];
    if (val[i] > 0) pos += val[i] + 1;
    else if (val[i] < 0) neg += val[i] - 1;
    else neu += 1;
    if (tr) tr->tokens[i].valence = val[i];
  }
  /* '!' adds 0.292 each (at most 4); '?' adds 0.18 each from the second on,
   * capped at 0.96 from the fourth: the published empirical values. */
  size_t excl = 0, qm = 0;
  for (const char *q = memchr(text, '!', n); q; q = memchr(q + 1, '!', (size_t)(text + n - q - 1))) excl++;
  for (const char *q = memchr(text, '?', n); q; q = memchr(q + 1, '?', (size_t)(text + n - q - 1))) qm++;
  double emph = (double)(excl > 4 ? 4 : excl) * 0.292;
  if (qm > 1) emph += qm <= 3 ? (double)qm * 0.18 : 0.96;
  if (tr) tr->punct_emphasis = emph;
  memset(out, 0, sizeof *out);
  if (nt == 0) {
    out->neu = 0;
    out->label = ES_LABEL_NEUTRAL;
    return;
  }
  if (sum > 0) sum += emph;
  else if (sum < 0) sum -= emph;
  double c = sum / sqrt(sum * sum + 15.0);
  out->compound = c < -1 ? -1 : c > 1 ? 1 : c;
  if (pos > fabs(neg)) pos += emph;
  else if (pos < fabs(neg)) neg -= emph;
  double total = pos + fabs(neg) + neu;
  if (total > 0) {
    out->pos = fabs(pos / total);
    out->neg = fabs(neg / total);
    out->neu = fabs(neu / total);
  }
  out->label = out->compound >= 0.05 ? ES_LABEL_POSITIVE : out->compound <= -0.05 ? ES_LABEL_NEGATIVE : ES_LABEL_NEUTRAL;
}
