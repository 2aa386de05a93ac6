/* The VADER-family scorer (see include/earshot/sentiment.h and
 * models/sentiment/README.md).
 *
 * Tokens are whitespace-separated (ASCII and Unicode spaces); an emoji
 * (with its modifiers and ZWJ sequence) is a token of its own even when
 * glued to a word; URLs are dropped; @handles are tokens that are never
 * scored. Surrounding ASCII punctuation is stripped unless that would leave
 * two characters or fewer (so emoticons such as ":)" survive). Each token is
 * case-folded (ASCII fast path, utf8proc for the rest) into a per-thread
 * buffer and looked up once in the language's word table; an unknown word
 * with a letter repeated three times or more is looked up again with the
 * runs shortened ("goooood" -> "good"). Phrases of the chosen layers
 * ("on hold") are then merged into one token, and every rule reads the token
 * array: O(tokens) work, no allocation. Called by worker threads, one
 * es_sentiment_rt each; the tables are shared read-only. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "earshot/mem.h"
#include "lexicon_internal.h"
#include "vader_internal.h"

static const es_word_info no_info;

void es_sentiment_rt_set_subject(es_sentiment_rt *rt, const char *const *words, const uint16_t *lens, size_t n) {
  rt->subj = words;
  rt->subj_len = lens;
  rt->nsubj = words && lens ? n : 0;
}

static bool is_subject(const es_sentiment_rt *rt, const tok *t) {
  if (t->kind != TK_WORD) return false;
  for (size_t k = 0; k < rt->nsubj; k++)
    if (rt->subj_len[k] == t->ln && !memcmp(rt->subj[k], t->lo, t->ln)) return true;
  return false;
}

const char *es_label_name(int label) {
  switch (label) {
  case ES_LABEL_POSITIVE: return "positive";
  case ES_LABEL_NEGATIVE: return "negative";
  case ES_LABEL_UNSCORED: return "unscored";
  default: return "neutral";
  }
}

void es_sentiment_rt_destroy(es_sentiment_rt *rt) { es_free(rt); }

/* Byte classes for the tokenizer: one table lookup per ASCII byte. */
enum { C_WS = 1, C_PUNCT = 2, C_UPPER = 4, C_LOWER = 8, C_HIGH = 16 };
static uint8_t cls[256];
static pthread_once_t cls_once = PTHREAD_ONCE_INIT;

static void cls_init(void) {
  for (int c = 0; c < 256; c++) {
    uint8_t k = 0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') k |= C_WS;
    if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')) k |= C_PUNCT;
    if (c >= 'A' && c <= 'Z') k |= C_UPPER;
    if (c >= 'a' && c <= 'z') k |= C_LOWER;
    if (c >= 0x80) k |= C_HIGH;
    cls[c] = k;
  }
}

static inline uint8_t cl(char c) { return cls[(unsigned char)c]; }

es_sentiment_rt *es_sentiment_rt_create(void) {
  pthread_once(&cls_once, cls_init);
  return es_calloc(1, sizeof(es_sentiment_rt));
}

/* One code point at s (n > 0 bytes left); invalid bytes read as U+FFFD. */
static inline size_t decode(const char *s, size_t n, int32_t *cp) {
  utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, cp);
  if (k <= 0) {
    *cp = 0xFFFD;
    return 1;
  }
  return (size_t)k;
}

static bool uni_space(int32_t cp) {
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static bool emoji_start(int32_t cp) {
  int bc = utf8proc_get_property(cp)->boundclass;
  return bc == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC || bc == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR;
}

/* Emoji modifiers that do not change the lookup key: variation selectors,
 * skin tones, tag characters. */
static bool emoji_ignorable(int32_t cp) {
  return cp == 0xFE0F || cp == 0xFE0E || (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0020 && cp <= 0xE007F);
}

typedef struct scan {
  const char *s;
  size_t n;
  char *lo;       /* rt->lower */
  size_t lo_used;
} scan;

/* The emoji token at s[i]: its end, and its key (without ignorable
 * modifiers) appended to the lower buffer. */
static size_t emoji_token(scan *sc, size_t i, int32_t first, size_t first_len, tok *t) {
  const char *s = sc->s;
  size_t n = sc->n, j = i + first_len;
  char *key = sc->lo + sc->lo_used;
  size_t kl = (size_t)utf8proc_encode_char(first, (utf8proc_uint8_t *)key);
  bool ri = first >= 0x1F1E6 && first <= 0x1F1FF;
  while (j < n) {
    int32_t cp;
    size_t l = decode(s + j, n - j, &cp);
    if (emoji_ignorable(cp)) {
      j += l;
    } else if (cp == 0x20E3 || (ri && cp >= 0x1F1E6 && cp <= 0x1F1FF)) {
      kl += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)key + kl);
      j += l;
      ri = false;
    } else if (cp == 0x200D && j + l < n) {
      int32_t next;
      size_t l2 = decode(s + j + l, n - j - l, &next);
      if (!emoji_start(next)) break;
      kl += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)key + kl);
      kl += (size_t)utf8proc_encode_char(next, (utf8proc_uint8_t *)key + kl);
      j += l + l2;
    } else {
      break;
    }
    if (kl > 200) break; /* absurd sequence: cut it */
  }
  t->p = s + i;
  t->n = (uint16_t)(j - i);
  t->lo = key;
  t->ln = (uint16_t)kl;
  t->kind = TK_EMOJI;
  t->upper = false;
  sc->lo_used += kl;
  return j;
}

static bool starts_ci(const char *s, size_t n, const char *prefix) {
  size_t m = strlen(prefix);
  if (n <= m) return false;
  for (size_t i = 0; i < m; i++)
    if ((char)(s[i] | (cl(s[i]) & C_UPPER ? 32 : 0)) != prefix[i]) return false;
  return true;
}

/* More than two code points in s[0, n)? (The published stripping keeps
 * the punctuation of tokens that would be left with two or fewer.) */
static bool over_two_code_points(const char *s, size_t n) {
  if (n <= 2) return false;
  if (n > 8) return true; /* at most 4 bytes per code point */
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k > 2;
}

/* The word token starting at s[b] (not a space, not an emoji), read in one
 * pass: its end is the next space or emoji, and its case-folded bytes go to
 * the lower buffer as they are read. Surrounding ASCII punctuation is then
 * cut from both the original and the folded key (punctuation folds to
 * itself, one byte each). Returns the end; t->n == 0 for a URL. Texts up to
 * FAST_MAX bytes reach it only for tokens with non-ASCII bytes or longer
 * than 57 bytes (tokenize reads the others from its bitmaps). */
static size_t word_token(scan *sc, size_t b, tok *t) {
  const char *s = sc->s;
  size_t n = sc->n, e = b;
  char *out = sc->lo + sc->lo_used;
  size_t o = 0;
  bool cased = false, any_lower = false, high = false, punct = false;
  size_t lim = n - b > 4096 ? b + 4096 : n; /* a token reads at most 4096 bytes */
  while (e < lim) {
    char c = s[e];
    uint8_t ck = cl(c);
    if (!(ck & C_HIGH)) {
      if (ck & C_WS) break;
      if (ck & C_UPPER) {
        cased = true;
        c = (char)(c + 32);
      } else if (ck & C_LOWER) {
        cased = any_lower = true;
      }
      punct |= (ck & C_PUNCT) != 0;
      out[o++] = c;
      e++;
      continue;
    }
    int32_t cp;
    size_t l = decode(s + e, lim - e, &cp);
    if (uni_space(cp) || (e > b && emoji_start(cp))) break;
    high = true;
    e += l;
    int cat = utf8proc_get_property(cp)->category;
    if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT) cased = true;
    else if (cat == UTF8PROC_CATEGORY_LL) cased = any_lower = true;
    utf8proc_int32_t folded[4];
    int last = 0;
    utf8proc_ssize_t nf = utf8proc_decompose_char(cp, folded, 4, UTF8PROC_CASEFOLD, &last);
    if (nf <= 0 || nf > 4) {
      folded[0] = cp;
      nf = 1;
    }
    for (utf8proc_ssize_t q = 0; q < nf; q++) o += (size_t)utf8proc_encode_char(folded[q], (utf8proc_uint8_t *)out + o);
  }
  t->punct = punct;
  t->n = 0;
  char c0 = s[b] | 32;
  if ((c0 == 'h' || c0 == 'w') &&
      (starts_ci(s + b, e - b, "http://") || starts_ci(s + b, e - b, "https://") || starts_ci(s + b, e - b, "www.")))
    return e;
  t->kind = s[b] == '@' && e - b > 1 ? TK_HANDLE : TK_WORD;
  size_t lead = 0, trail = 0, len = e - b;
  while (lead < len && (cl(s[b + lead]) & C_PUNCT)) lead++;
  while (trail < len - lead && (cl(s[e - 1 - trail]) & C_PUNCT)) trail++;
  size_t left = len - lead - trail;
  if (high ? !over_two_code_points(s + b + lead, left) : left <= 2) lead = trail = 0;
  t->p = s + b + lead;
  t->n = (uint16_t)(len - lead - trail);
  t->lo = out + lead;
  t->ln = (uint16_t)(o - lead - trail);
  t->upper = cased && !any_lower;
  sc->lo_used += o;
  return e;
}

/* One step of the token-by-token tokenizer at s[i] (not an ASCII space):
 * skips a Unicode space, or reads an emoji or a word token. Returns the
 * next position, or SIZE_MAX when the lower buffer is full. */
static size_t token_step(es_sentiment_rt *rt, scan *sc, size_t i, size_t *nt) {
  /* A token reads at most 4096 bytes, case folding may triple them, an
   * emoji key is < 256. */
  if (sc->lo_used > sizeof rt->lower - (3 * 4096 + 256)) return SIZE_MAX;
  if (cl(sc->s[i]) & C_HIGH) {
    int32_t cp;
    size_t l = decode(sc->s + i, sc->n - i, &cp);
    if (uni_space(cp)) return i + l;
    if (emoji_start(cp)) return emoji_token(sc, i, cp, l, &rt->toks[(*nt)++]);
  }
  i = word_token(sc, i, &rt->toks[*nt]);
  if (rt->toks[*nt].n) (*nt)++;
  return i;
}

/* The tokenizer of any text, token by token. */
static size_t tokenize_from(es_sentiment_rt *rt, scan *sc, size_t i, size_t nt) {
  while (i < sc->n && nt < ES_SENTIMENT_MAX_TOKENS) {
    if (cl(sc->s[i]) & C_WS) {
      i++;
      continue;
    }
    if ((i = token_step(rt, sc, i, &nt)) == SIZE_MAX) break;
  }
  return nt;
}

/* The first position >= i whose bit is set in a (or n). */
static inline size_t next_set(const uint64_t *a, size_t i, size_t n) {
  size_t w = i >> 6;
  uint64_t x = a[w] & (~0ULL << (i & 63));
  while (!x) {
    if (++w << 6 >= n) return n;
    x = a[w];
  }
  size_t p = (w << 6) + (size_t)__builtin_ctzll(x);
  return p < n ? p : n;
}

/* Classifies every byte of the text at once (64 at a time, 16 per SSE2
 * step) into the bitmaps and writes its ASCII-lower-cased copy to the lower
 * buffer at the same offsets (up to the next multiple of 64), so an ASCII
 * token's key is lower + its start. */
static void classify(es_sentiment_rt *rt, const char *s, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  char pad[64];
  for (; i < n; i += 64) {
    const char *src = s + i;
    if (i + 64 > n) { /* the last block, zero-padded: zero bytes set no bit */
      memset(pad, 0, sizeof pad);
      memcpy(pad, s + i, n - i);
      src = pad;
    }
    uint64_t ws = 0, hi = 0, up = 0, lc = 0, pu = 0;
    for (unsigned k = 0; k < 64; k += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + k));
#define RANGE(lo, hi) _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)((lo) - 1))), _mm_cmplt_epi8(v, _mm_set1_epi8((char)((hi) + 1))))
      __m128i u = RANGE('A', 'Z'), l = RANGE('a', 'z');
      __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), RANGE(9, 13));
      __m128i p = _mm_or_si128(_mm_or_si128(RANGE('!', '/'), RANGE(':', '@')), _mm_or_si128(RANGE('[', '`'), RANGE('{', '~')));
#undef RANGE
      _mm_storeu_si128((__m128i *)(void *)(rt->lower + i + k), _mm_add_epi8(v, _mm_and_si128(u, _mm_set1_epi8(0x20))));
      ws |= (uint64_t)(unsigned)_mm_movemask_epi8(sp) << k;
      hi |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << k;
      up |= (uint64_t)(unsigned)_mm_movemask_epi8(u) << k;
      lc |= (uint64_t)(unsigned)_mm_movemask_epi8(l) << k;
      pu |= (uint64_t)(unsigned)_mm_movemask_epi8(p) << k;
    }
    size_t w = i >> 6;
    rt->ws[w] = ws;
    rt->hi[w] = hi;
    rt->up[w] = up;
    rt->lc[w] = lc;
    rt->pu[w] = pu;
  }
#else
  size_t words = (n + 63) / 64;
  memset(rt->ws, 0, words * 8);
  memset(rt->hi, 0, words * 8);
  memset(rt->up, 0, words * 8);
  memset(rt->lc, 0, words * 8);
  memset(rt->pu, 0, words * 8);
  for (; i < n; i++) {
    uint8_t k = cl(s[i]);
    uint64_t b = 1ULL << (i & 63);
    size_t w = i >> 6;
    if (k & C_WS) rt->ws[w] |= b;
    if (k & C_HIGH) rt->hi[w] |= b;
    if (k & C_UPPER) rt->up[w] |= b;
    if (k & C_LOWER) rt->lc[w] |= b;
    if (k & C_PUNCT) rt->pu[w] |= b;
    rt->lower[i] = (char)(s[i] + ((k & C_UPPER) ? 32 : 0));
  }
#endif
}

/* Shortens runs of 3+ equal ASCII letters to `keep` (2 or 1) into out. */
static size_t shorten_runs(const char *s, size_t n, size_t keep, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && s[j] == s[i]) j++;
    size_t run = j - i;
    bool letter = (cl(s[i]) & C_LOWER) != 0;
    size_t k = letter && run >= 3 ? keep : run;
    memset(out + o, s[i], k);
    o += k;
    i = j;
  }
  return o;
}

/* Whether s[0, n) may have a run of three equal bytes: exact for keys of
 * 3 to 8 bytes, eight bytes at once (the lower buffer has room past every
 * key); longer keys may. No branch: the tokens' lookup pass calls it for
 * every token. */
static inline bool may_have_run(const char *s, size_t n) {
  uint64_t x, hi = 0x8080808080808080ULL, lo7 = 0x7f7f7f7f7f7f7f7fULL;
  memcpy(&x, s, 8);
  uint64_t d = x ^ (x >> 8);                  /* byte i: s[i] ^ s[i+1] */
  uint64_t z = ~(((d & lo7) + lo7) | d) & hi; /* byte i: s[i] == s[i+1] */
  size_t k = n - 2;                           /* positions where a run of 3 may start */
  uint64_t valid = k >= 8 ? ~0ULL : (1ULL << (8 * k)) - 1;
  return (n > 8) | ((z & (z >> 8) & valid) != 0);
}

static bool has_long_run(const char *s, size_t n) {
  for (size_t i = 2; i < n; i++)
    if (s[i] == s[i - 1] && s[i] == s[i - 2] && (cl(s[i]) & C_LOWER)) return true;
  return false;
}

/* An unknown word with letter runs, looked up again with the runs shortened. */
static __attribute__((noinline)) const es_word_info *lookup_elongated(const es_wordtab *W, const char *lo, size_t ln) {
  if (!has_long_run(lo, ln)) return NULL;
  const es_word_info *wi = NULL;
  char buf[128];
  for (size_t keep = 2; keep >= 1 && !wi; keep--) wi = es__word_any_padded(W, buf, shorten_runs(lo, ln, keep, buf));
  return wi;
}

static bool has(const tok *t, uint32_t role) { return es__tok_has(t, role); }

/* What the rules need to know about the token sequence as a whole. */
typedef struct tstats {
  size_t upper;    /* ALL-CAPS tokens */
  size_t but;      /* the first contrast word, SIZE_MAX when none */
  size_t nscored;  /* rt->scored: the sentiment words (in a lexicon, not boosters) */
  size_t nstarts;  /* rt->starts: tokens that may start a phrase */
  bool any_infix;  /* a negation infix may be in a token without punctuation */
  size_t ndur;     /* rt->dur: tokens with the duration role (care rules) */
  const es_wordtab *W;
  /* Tokens to look up (mark): maybe in the table, maybe elongated, maybe
   * with a negation infix. */
  uint64_t cand[(ES_SENTIMENT_MAX_TOKENS + 63) / 64];
} tstats;

/* Lookups take two steps, so that the per-token outcome (most tokens are
 * in no table) is not a branch the processor keeps mispredicting. First,
 * as soon as the tokenizer has read token i: its key's hash, the Bloom
 * filter's answer and whether it needs more, all without branching; the
 * token starts as a word the tables do not have. */
static inline __attribute__((always_inline)) void mark(es_sentiment_rt *rt, tstats *st, size_t i, uint8_t kind,
                                                      const char *lo, size_t ln, bool punct, bool upper) {
  uint64_t h = es__key_hash_padded(lo, ln), m = es__bloom_bits(h);
  rt->hash[i] = h;
  bool word = kind == TK_WORD;
  bool c = ((st->W->bloom[es__bloom_word(st->W, h)] & m) == m) & (kind != TK_HANDLE);
  c |= word & (punct | st->any_infix);
  c |= word & (ln >= 3) & (ln <= 128) & may_have_run(lo, ln);
  st->cand[i >> 6] |= (uint64_t)c << (i & 63);
  st->upper += upper;
}

/* mark for tokens [from, to) of the token-by-token path. */
static __attribute__((noinline)) void mark_tokens(es_sentiment_rt *rt, tstats *st, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    tok *t = &rt->toks[i];
    t->wi = &no_info;
    t->negation = t->elongated = false;
    mark(rt, st, i, t->kind, t->lo, t->ln, t->punct, t->upper);
  }
}

/* Second, the marked tokens only: the table itself, elongations, negation
 * infixes; and the lists the rules start from. */
static void lookup_marked(es_sentiment_rt *rt, const es_lang *L, size_t nt, tstats *st) {
  const es_wordtab *W = st->W;
  for (size_t k = 0; k < (nt + 63) / 64; k++) {
    for (uint64_t c = st->cand[k]; c; c &= c - 1) {
      size_t i = (k << 6) + (size_t)__builtin_ctzll(c);
      tok *t = &rt->toks[i];
      const es_word_info *wi = NULL;
      if (t->kind != TK_HANDLE) {
        wi = es__word_h(W, rt->hash[i], t->lo, t->ln);
        if (!wi && t->kind == TK_WORD && t->ln >= 3 && t->ln <= 128 && may_have_run(t->lo, t->ln)) {
          /* A word that only continues sequences is taken as it is. */
          if (!(wi = es__word_any_padded(W, t->lo, t->ln))) {
            wi = lookup_elongated(W, t->lo, t->ln);
            t->elongated = wi != NULL;
          }
        }
      }
      bool negation = false;
      if (wi) {
        t->wi = wi;
        uint32_t r = wi->roles;
        negation = (r & ES_R_NEGATION) != 0;
        if (r & ES_R_STARTS_PHRASE) rt->starts[st->nstarts++] = (uint32_t)i;
        if ((r & ES_R_CONTRAST) && st->but == SIZE_MAX) st->but = i;
        if (wi->in_lex && wi->booster == 0) rt->scored[st->nscored++] = (uint32_t)i;
        if ((r & ES_R_DURATION) && st->ndur < ES_CARE_DUR_MAX) rt->dur[st->ndur++] = (uint32_t)i;
      }
      if (!negation && t->kind == TK_WORD && (t->punct || st->any_infix))
        negation = es__lang_infix_negation(L, t->lo, t->ln);
      t->negation = negation;
    }
  }
}

/* Tokenizes the text. Pure-ASCII tokens come
 * straight from the bitmaps (their starts are the non-space bytes after a
 * space); a token with a non-ASCII byte (and an emoji) goes through
 * word_token/emoji_token, which define the semantics: both paths give the
 * same tokens. */
static size_t tokenize(es_sentiment_rt *rt, const char *s, size_t n, tstats *st) {
  scan sc = {s, n, rt->lower, 0};
  if (n > FAST_MAX) {
    size_t nt = tokenize_from(rt, &sc, 0, 0);
    mark_tokens(rt, st, 0, nt);
    return nt;
  }
  size_t nt = 0;
  classify(rt, s, n);
  sc.lo_used = (n + 63) & ~(size_t)63; /* the aligned copy, then other keys */
  size_t nw = (n + 63) / 64;
  uint64_t carry = 1; /* the text starts after a space */
  for (size_t w = 0; w < nw; w++) {
    uint64_t sp = rt->ws[w];
    uint64_t starts = ~sp & ((sp << 1) | carry);
    carry = sp >> 63;
    if (w == nw - 1 && (n & 63)) starts &= (1ULL << (n & 63)) - 1;
    for (; starts; starts &= starts - 1) {
      if (nt >= ES_SENTIMENT_MAX_TOKENS) return nt;
      /* The run of non-space bytes [b, e). */
      size_t b = (w << 6) + (size_t)__builtin_ctzll(starts);
      size_t e = next_set(rt->ws, b, n), len = e - b;
      /* The token's bits of every map at once (tokens up to 57 bytes). */
      uint64_t hi = 1, up = 0, lc = 0, pu = 0, full = 0;
      size_t tw = b >> 6, sh = b & 63;
      if (sh + len <= 64) { /* within one word of the maps: most tokens */
        full = len == 64 ? ~0ULL : (1ULL << len) - 1;
        hi = (rt->hi[tw] >> sh) & full;
        up = (rt->up[tw] >> sh) & full;
        lc = (rt->lc[tw] >> sh) & full;
        pu = (rt->pu[tw] >> sh) & full;
        if (len > 57) hi = 1;
      } else if (len <= 57) {
        full = (1ULL << len) - 1;
#define TAKE(m) ((((m)[tw] >> sh) | ((m)[tw + 1] << (64 - sh))) & full)
        hi = TAKE(rt->hi);
        up = TAKE(rt->up);
        lc = TAKE(rt->lc);
        pu = TAKE(rt->pu);
#undef TAKE
      }
      if (hi) {
        /* Non-ASCII inside (an emoji, a Unicode space, accented letters),
         * or a long token: the token-by-token path over this run. */
        size_t k = b, first = nt;
        while (k < e && nt < ES_SENTIMENT_MAX_TOKENS)
          if ((k = token_step(rt, &sc, k, &nt)) == SIZE_MAX) break;
        mark_tokens(rt, st, first, nt);
        if (k == SIZE_MAX) return nt; /* the lower buffer is full */
        continue;
      }
      char c0 = s[b] | 32;
      if ((c0 == 'h' || c0 == 'w') &&
          (starts_ci(s + b, len, "http://") || starts_ci(s + b, len, "https://") || starts_ci(s + b, len, "www.")))
        continue;
      size_t lead = 0, trail = 0;
      if (pu) {
        lead = pu == full ? len : (size_t)__builtin_ctzll(~pu);
        if (lead < len) trail = (size_t)__builtin_clzll(~(pu << (64 - len)));
        if (len - lead - trail <= 2) lead = trail = 0;
      }
      tok *t = &rt->toks[nt];
      const char *lo = rt->lower + b + lead;
      size_t ln = len - lead - trail;
      uint8_t kind = s[b] == '@' && len > 1 ? TK_HANDLE : TK_WORD;
      bool upper = up && !lc, punct = ((pu >> lead) & ((1ULL << ln) - 1)) != 0; /* inside what is left */
      t->p = s + b + lead;
      t->lo = lo;
      t->n = t->ln = (uint16_t)ln;
      t->kind = kind;
      t->upper = upper;
      t->punct = punct;
      t->negation = t->elongated = false;
      t->wi = &no_info;
      mark(rt, st, nt++, kind, lo, ln, punct, upper);
    }
  }
  return nt;
}

void es__sent_note(es_sentiment_trace *tr, size_t i, const char *rule) {
  if (!tr) return;
  char *r = tr->tokens[i].rules;
  size_t len = strlen(r);
  if (strstr(r, rule)) return; /* once per token */
  snprintf(r + len, sizeof tr->tokens[i].rules - len, "%s%s", len ? "," : "", rule);
}

/* The facts of token t; a token the tokenizer's lookup left without any
 * (a word that only takes part in idioms and dampeners is not looked up
 * there) is looked up now. */
static const es_word_info *info_of(const es_lang *L, const tok *t) {
  if (t->wi != &no_info || t->kind == TK_HANDLE) return t->wi;
  const es_word_info *x = es__word_any_padded(es__lang_words(L), t->lo, t->ln);
  return x ? x : &no_info;
}

/* The sequence value of w[from .. from+n) of the given kind, or NULL. */
static const es_seq_info *seq_at(const es_lang *L, const tok *w, size_t nt, long from, int n, int kind) {
  if (from < 0 || (size_t)from + (size_t)n > nt || !(info_of(L, &w[from])->roles & ES_R_STARTS_SEQ)) return NULL;
  uint32_t ids[ES_SEQ_MAX];
  for (int k = 0; k < n; k++)
    if (!(ids[k] = info_of(L, &w[from + k])->id)) return NULL;
  const es_seq_info *s = es__lang_seq(L, ids, n);
  return s && (s->kinds & kind) ? s : NULL;
}

/* Merges phrases of the lexicon into single tokens, trying only the tokens
 * that may start one (rt->starts, in order); returns the new count and, when
 * anything merged, the statistics of the new sequence. */
static size_t merge_phrases(const es_lang *L, es_sentiment_rt *rt, size_t nt, tstats *st) {
  int maxp = es__lang_max_phrase(L);
  if (maxp < 2) return nt;
  tok *w = rt->toks;
  size_t o = 0, i = 0; /* w[0, o) is final; w[i, nt) is still to read */
  for (size_t k = 0; k < st->nstarts; k++) {
    size_t j = rt->starts[k];
    if (j < i) continue; /* inside a phrase merged already */
    for (int len = maxp; len >= 2; len--) {
      if (!(w[j].wi->phrase_lens & (1u << len))) continue;
      const es_seq_info *s = seq_at(L, w, nt, (long)j, len, ES_SEQ_PHRASE);
      if (!s) continue;
      tok m = w[j];
      const tok *last = &w[j + (size_t)len - 1];
      m.n = (uint16_t)(last->p + last->n - w[j].p);
      m.kind = TK_PHRASE;
      for (int q = 1; q < len; q++) m.upper = m.upper && w[j + (size_t)q].upper;
      if (o != i) memmove(&w[o], &w[i], (j - i) * sizeof *w);
      o += j - i;
      es_word_info *pi = &rt->phrase[o];
      memset(pi, 0, sizeof *pi);
      pi->in_lex = true;
      pi->valence = s->phrase;
      m.wi = pi;
      m.negation = false;
      m.elongated = false;
      w[o++] = m;
      i = j + (size_t)len;
      break;
    }
  }
  if (i == 0) return nt; /* nothing merged */
  if (o != i) memmove(&w[o], &w[i], (nt - i) * sizeof *w);
  nt = o + (nt - i);
  st->upper = st->nscored = st->ndur = 0;
  st->but = SIZE_MAX;
  for (size_t q = 0; q < nt; q++) {
    st->upper += w[q].upper;
    if (st->but == SIZE_MAX && has(&w[q], ES_R_CONTRAST)) st->but = q;
    if (w[q].wi->in_lex && w[q].wi->booster == 0) rt->scored[st->nscored++] = (uint32_t)q;
    if (has(&w[q], ES_R_DURATION) && st->ndur < ES_CARE_DUR_MAX) rt->dur[st->ndur++] = (uint32_t)q;
  }
  return nt;
}

static double scalar_inc_dec(const tok *w, double valence, bool cap_diff) {
  double scalar = w->wi->booster;
  if (scalar == 0) return 0;
  if (valence < 0) scalar = -scalar;
  if (w->upper && cap_diff) scalar += valence > 0 ? ES_C_INCR : -ES_C_INCR;
  return scalar;
}

/* The published negation check at distance start_i + 1 ("never so/this"
 * intensifies, "without doubt" keeps, otherwise a negation word flips). */
static double negation_check(const tok *w, size_t i, int start_i, double v, es_sentiment_trace *tr) {
  if (start_i == 0) {
    if (w[i - 1].negation) {
      es__sent_note(tr, i, "negation");
      v *= ES_N_SCALAR;
    }
  } else if (start_i == 1) {
    if (has(&w[i - 2], ES_R_NEVER) && has(&w[i - 1], ES_R_SO_THIS)) {
      es__sent_note(tr, i, "never-so");
      v *= 1.25;
    } else if (has(&w[i - 2], ES_R_WITHOUT) && has(&w[i - 1], ES_R_DOUBT)) {
      es__sent_note(tr, i, "without-doubt");
    } else if (w[i - 2].negation) {
      es__sent_note(tr, i, "negation");
      v *= ES_N_SCALAR;
    }
  } else {
    if ((has(&w[i - 3], ES_R_NEVER) && has(&w[i - 2], ES_R_SO_THIS)) || has(&w[i - 1], ES_R_SO_THIS)) {
      /* As published: "so/this" right before the word also counts here. */
      es__sent_note(tr, i, "never-so");
      v *= 1.25;
    } else if (has(&w[i - 3], ES_R_WITHOUT) && (has(&w[i - 2], ES_R_DOUBT) || has(&w[i - 1], ES_R_DOUBT))) {
      es__sent_note(tr, i, "without-doubt");
    } else if (w[i - 3].negation) {
      es__sent_note(tr, i, "negation");
      v *= ES_N_SCALAR;
    }
  }
  return v;
}

/* Idioms around a sentiment word and two-word dampeners before it. */
static double idioms_check(const es_lang *L, const tok *w, size_t nt, size_t i, double v, es_sentiment_trace *tr) {
  static const struct {
    int from, n;
  } before[] = {{-1, 2}, {-2, 3}, {-2, 2}, {-3, 3}, {-3, 2}};
  long li = (long)i;
  for (size_t k = 0; k < sizeof before / sizeof *before; k++) {
    const es_seq_info *s = seq_at(L, w, nt, li + before[k].from, before[k].n, ES_SEQ_IDIOM);
    if (s) {
      es__sent_note(tr, i, "idiom");
      v = s->idiom;
      break;
    }
  }
  const es_seq_info *s = seq_at(L, w, nt, li, 2, ES_SEQ_IDIOM);
  if (s && i + 1 < nt) {
    es__sent_note(tr, i, "idiom");
    v = s->idiom;
  }
  s = seq_at(L, w, nt, li, 3, ES_SEQ_IDIOM);
  if (s && i + 2 < nt) {
    es__sent_note(tr, i, "idiom");
    v = s->idiom;
  }
  static const struct {
    int from, n;
  } damp[] = {{-3, 3}, {-3, 2}, {-2, 2}};
  for (size_t k = 0; k < sizeof damp / sizeof *damp; k++) {
    s = seq_at(L, w, nt, li + damp[k].from, damp[k].n, ES_SEQ_DAMP);
    if (s) {
      es__sent_note(tr, i, "dampener");
      v += s->damp;
    }
  }
  return v;
}

static double token_valence(const es_lang *L, const tok *w, size_t nt, size_t i, bool cap_diff,
                            es_sentiment_trace *tr) {
  const tok *t = &w[i];
  double v = t->wi->valence;
  if (has(t, ES_R_NO) && i + 1 < nt && w[i + 1].wi->in_lex) {
    es__sent_note(tr, i, "no-as-modifier");
    v = 0;
  }
  if ((i > 0 && has(&w[i - 1], ES_R_NO)) || (i > 1 && has(&w[i - 2], ES_R_NO)) ||
      (i > 2 && has(&w[i - 3], ES_R_NO) && has(&w[i - 1], ES_R_NO_LINK))) {
    es__sent_note(tr, i, "no-negation");
    v = t->wi->valence * ES_N_SCALAR;
  }
  if (t->upper && cap_diff) {
    es__sent_note(tr, i, "caps");
    v += v > 0 ? ES_C_INCR : -ES_C_INCR;
  }
  for (int start_i = 0; start_i < 3; start_i++) {
    if (i <= (size_t)start_i) break;
    const tok *prev = &w[i - (size_t)start_i - 1];
    if (prev->wi->in_lex) continue;
    double s = scalar_inc_dec(prev, v, cap_diff);
    if (s != 0) {
      es__sent_note(tr, i, s * (v < 0 ? -1 : 1) > 0 ? "booster" : "dampener");
      if (start_i == 1) s *= 0.95;
      if (start_i == 2) s *= 0.9;
    }
    v += s;
    v = negation_check(w, i, start_i, v, tr);
    if (start_i == 2) v = idioms_check(L, w, nt, i, v, tr);
  }
  /* "least": negates unless in "at least" / "very least". */
  if (i > 1 && !w[i - 1].wi->in_lex && has(&w[i - 1], ES_R_LEAST)) {
    if (!has(&w[i - 2], ES_R_LEAST_GUARD)) {
      es__sent_note(tr, i, "least");
      v *= ES_N_SCALAR;
    }
  } else if (i > 0 && !w[i - 1].wi->in_lex && has(&w[i - 1], ES_R_LEAST)) {
    es__sent_note(tr, i, "least");
    v *= ES_N_SCALAR;
  }
  return v;
}

static void score(const es_lang *L, es_sentiment_rt *rt, const char *text, size_t n, es_sentiment *out,
                  es_sentiment_trace *tr) {
  tstats st = {.but = SIZE_MAX, .any_infix = !es__lang_infix_needs_punct(L), .W = es__lang_words(L)};
  size_t nt = tokenize(rt, text, n, &st);
  lookup_marked(rt, L, nt, &st);
  tok *w = rt->toks;
  if (st.nstarts) nt = merge_phrases(L, rt, nt, &st);
  size_t upper = st.upper, but = st.but;
  bool cap_diff = upper > 0 && upper < nt;
  if (tr) {
    memset(tr, 0, sizeof *tr);
    tr->ntokens = nt;
    tr->caps_diff = cap_diff;
    tr->but_applied = but != SIZE_MAX;
    for (size_t i = 0; i < nt; i++) {
      tr->tokens[i].p = w[i].p;
      tr->tokens[i].n = w[i].n;
      tr->tokens[i].lexicon = w[i].wi->in_lex ? w[i].wi->valence : 0;
      if (w[i].kind == TK_PHRASE) es__sent_note(tr, i, "phrase");
      if (w[i].kind == TK_EMOJI) es__sent_note(tr, i, "emoji");
      if (w[i].kind == TK_HANDLE) es__sent_note(tr, i, "handle-not-scored");
      if (w[i].elongated) es__sent_note(tr, i, "elongated");
    }
  }
  /* Each sentiment word's valence under the rules, the contrast weight
   * (what follows the first "but" weighs 3x what precedes it), and the sums;
   * every other token counts as neutral. */
  double sum = 0, pos = 0, neg = 0;
  size_t nonzero = 0;
  for (size_t k = 0; k < st.nscored; k++) {
    size_t i = rt->scored[k];
    rt->val[k] = 0;
    if (i + 1 < nt && has(&w[i], ES_R_KIND_OF) && seq_at(L, w, nt, (long)i, 2, ES_SEQ_DAMP)) continue;
    if (rt->nsubj && is_subject(rt, &w[i])) {
      es__sent_note(tr, i, "query-term-not-scored");
      continue;
    }
    double v = token_valence(L, w, nt, i, cap_diff, tr);
    if (but != SIZE_MAX && v != 0 && i != but) {
      v *= i < but ? 0.5 : 1.5;
      es__sent_note(tr, i, i < but ? "before-but" : "after-but");
    }
    rt->val[k] = v;
  }
  double waited = es__lang_care_rules(L) ? es__care_rules(L, rt, w, nt, st.nscored, st.ndur, text, n, tr) : 0;
  if (waited != 0) {
    sum += waited;
    neg += waited - 1;
    nonzero++;
  }
  for (size_t k = 0; k < st.nscored; k++) {
    double v = rt->val[k];
    sum += v;
    if (v > 0) pos += v + 1;
    else if (v < 0) neg += v - 1;
    nonzero += v != 0;
    if (tr) tr->tokens[rt->scored[k]].valence = v;
  }
  double neu = (double)(nt - nonzero);
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

static void unscored(es_sentiment *out, es_sentiment_trace *tr) {
  memset(out, 0, sizeof *out);
  out->label = ES_LABEL_UNSCORED;
  if (tr) memset(tr, 0, sizeof *tr);
}

void es_sentiment_score(const es_lexicon *lex, es_sentiment_rt *rt, const char *text, size_t n, es_sentiment *out,
                        es_sentiment_trace *tr) {
  const es_lang *L = es__lexicon_default_lang(lex);
  if (L) score(L, rt, text, n, out, tr);
  else unscored(out, tr);
}

void es_sentiment_score_lang(const es_lexicon *lex, const char *lang, size_t ln, es_sentiment_rt *rt,
                             const char *text, size_t n, es_sentiment *out, es_sentiment_trace *tr) {
  const es_lang *L = es__lexicon_lang(lex, lang, ln);
  if (L) score(L, rt, text, n, out, tr);
  else unscored(out, tr);
}
