/* Text folding for matching: Unicode case folding and NFC composition via
 * utf8proc, into a per-thread code point buffer that is reused, so the hot
 * path does not allocate once the buffer has grown to the longest text.
 * ASCII text is returned untouched: Hyperscan matches it caselessly.
 * Typographic apostrophes are normalised to ' on the way.
 * Also the UTF-8 code point helpers shared by the matcher. Any thread, one
 * es_fold per thread. */
#include <string.h>
#include <utf8proc.h>

#include "match_internal.h"

#define FOLD_OPTS (UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_STABLE)

void es_fold_init(es_fold *f) { memset(f, 0, sizeof *f); }

void es_fold_free(es_fold *f) {
  bool strip = f->strip_marks;
  es_free(f->buf);
  es_fold_init(f);
  f->strip_marks = strip;
}

static bool is_ascii(const char *s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ULL) return false;
  }
  for (; i < n; i++)
    if ((unsigned char)s[i] & 0x80) return false;
  return true;
}

/* Typographic apostrophes (U+2018, U+2019, U+02BC) become ASCII ', so
 * "don't" in a query matches "don’t" in a mention. */
static utf8proc_int32_t apostrophe(utf8proc_int32_t cp, void *data) {
  (void)data;
  return cp == 0x2019 || cp == 0x2018 || cp == 0x02bc ? '\'' : cp;
}

/* True when folding cannot change the text: every non-ASCII code point has
 * no case folding, no decomposition, no combining class, is not a Hangul
 * jamo (which NFC composes) and is not an apostrophe we normalise. Emoji,
 * symbols and most punctuation pass, so mostly-English text with emoji
 * skips utf8proc's normalisation. */
static bool fold_is_identity(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
    if (k <= 0) return false;
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    if (p->casefold_seqindex != UINT16_MAX || p->decomp_seqindex != UINT16_MAX || p->combining_class ||
        (cp >= 0x1100 && cp <= 0x11ff) || cp == 0x2018 || cp == 0x2019 || cp == 0x02bc || (cp >= 0xac00 && cp <= 0xd7a3))
      return false;
    i += (size_t)k;
  }
  return true;
}

const char *es_fold_text(es_fold *f, const char *s, size_t n, size_t *out_n) {
  if (is_ascii(s, n) || fold_is_identity(s, n)) {
    *out_n = n;
    return s;
  }
  utf8proc_option_t opts = FOLD_OPTS | (f->strip_marks ? UTF8PROC_STRIPMARK : 0);
  for (;;) {
    utf8proc_ssize_t r = utf8proc_decompose_custom((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, f->buf,
                                                   (utf8proc_ssize_t)f->cap, opts, apostrophe, NULL);
    if (r < 0) return NULL;
    if ((size_t)r <= f->cap) {
      r = utf8proc_reencode(f->buf, r, opts);
      if (r < 0) return NULL;
      *out_n = (size_t)r;
      return (const char *)f->buf;
    }
    size_t cap = (size_t)r + 64;
    int32_t *nb = es_realloc(f->buf, cap * sizeof *nb);
    if (!nb) return NULL;
    f->buf = nb;
    f->cap = cap;
  }
}

char *es_fold_dup(const char *s, size_t n, size_t *out_n) { return es_fold_dup_opts(s, n, false, out_n); }

char *es_fold_dup_opts(const char *s, size_t n, bool strip_marks, size_t *out_n) {
  es_fold f;
  es_fold_init(&f);
  f.strip_marks = strip_marks;
  size_t k;
  const char *r = es_fold_text(&f, s, n, &k);
  char *out = NULL;
  if (r) {
    out = es_malloc(k + 1);
    if (out) {
      /* ASCII came back unfolded: lower-case it so atoms compare as folded. */
      for (size_t i = 0; i < k; i++) {
        char c = r[i];
        out[i] = r == s && c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
      }
      out[k] = 0;
      *out_n = k;
    }
  }
  es_fold_free(&f);
  return out;
}

int32_t es__utf8_decode_multi(const char *s, size_t n, size_t i, size_t *len) {
  utf8proc_int32_t cp;
  utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
  if (k <= 0) {
    *len = 1;
    return -1;
  }
  *len = (size_t)k;
  return cp;
}

const bool es__word_ascii[128] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['_'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1};

bool es__is_word_cp_multi(int32_t cp) {
  if (cp < 0) return false;
  switch (utf8proc_category(cp)) {
  case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
  case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
    return true;
  default:
    return false;
  }
}

bool es__is_symbol_cp(int32_t cp) { return cp >= 0x80 && utf8proc_category(cp) == UTF8PROC_CATEGORY_SO; }

size_t es__tokens(const char *s, size_t n, uint32_t *starts, size_t cap) {
  size_t nt = 0, i = 0, len;
  bool in_word = false;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80 && nt + (n - i) <= cap) { /* ASCII with room for a token per byte: without branches */
      for (; i < n && (unsigned char)s[i] < 0x80; i++) {
        bool w = es__word_ascii[(unsigned char)s[i]];
        starts[nt] = (uint32_t)i;
        nt += w & !in_word;
        in_word = w;
      }
      continue;
    }
    if (c < 0x80) { /* ASCII: words only, no symbols */
      bool w = es__word_ascii[c];
      if (w && !in_word) {
        if (nt < cap) starts[nt] = (uint32_t)i;
        nt++;
      }
      in_word = w;
      i++;
      continue;
    }
    int32_t cp = es__utf8_decode(s, n, i, &len);
    if (es__is_word_cp(cp)) {
      if (!in_word && nt < cap) starts[nt] = (uint32_t)i;
      if (!in_word) nt++;
      in_word = true;
    } else {
      in_word = false;
      if (es__is_symbol_cp(cp)) {
        if (nt < cap) starts[nt] = (uint32_t)i;
        nt++;
      }
    }
    i += len ? len : 1;
  }
  return nt;
}
