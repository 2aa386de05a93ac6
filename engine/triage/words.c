/* Words of a text for the situation rules (see sitmatch.c for what a word
 * is): runs of letters, digits, '_' and apostrophes (’ is '), ASCII
 * lower-cased, a leading # or @ kept, a symbol a word of its own. ASCII
 * texts are classified 16 bytes at a time. Any thread (one es_words each). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "earshot/mem.h"
#include "triage_internal.h"


/* The code point at s[i] (length in *len; invalid bytes are 1-byte U+FFFD). */
static int32_t cp_at(const char *s, size_t n, size_t i, size_t *len) {
  unsigned char c = (unsigned char)s[i];
  if (c < 0x80) return *len = 1, c;
  int k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
  if (k == 1 || i + (size_t)k > n) return *len = 1, 0xfffd;
  int32_t cp = c & (0x3f >> (k - 1));
  for (int j = 1; j < k; j++) cp = (cp << 6) | ((unsigned char)s[i + (size_t)j] & 0x3f);
  *len = (size_t)k;
  return cp;
}

enum { C_SEP, C_WORD, C_APOS, C_SYMBOL, C_SKIP };

static int classify(int32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_') return C_WORD;
    return cp == '\'' ? C_APOS : C_SEP;
  }
  if (cp == 0x2019 || cp == 0x2018 || cp == 0x02bc) return C_APOS;
  if (cp == 0xfe0f || cp == 0xfe0e || cp == 0x200d || (cp >= 0x1f3fb && cp <= 0x1f3ff)) return C_SKIP; /* selectors, joiners, skin tones */
  if ((cp >= 0x2000 && cp <= 0x206f) || cp == 0xa0 || cp == 0x3000 || (cp >= 0xa1 && cp <= 0xbf) || cp == 0xd7 ||
      cp == 0xf7)
    return C_SEP; /* punctuation and spaces */
  if ((cp >= 0x2190 && cp <= 0x2bff) || (cp >= 0x1f000 && cp <= 0x1faff) || (cp >= 0x2600 && cp <= 0x27bf)) return C_SYMBOL;
  return C_WORD; /* letters of other scripts */
}

/* ASCII bytes: 0 separator, 1 letter or digit or '_', 2 apostrophe. */
static const uint8_t ascii_class[128] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,
    ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['_'] = 1, ['\''] = 2};

/* The class of the code point at s[i] and its length. */
static int class_at(const char *s, size_t n, size_t i, size_t *len) {
  unsigned char c = (unsigned char)s[i];
  if (c < 0x80) {
    *len = 1;
    return ascii_class[c] == 1 ? C_WORD : ascii_class[c] == 2 ? C_APOS : C_SEP;
  }
  return classify(cp_at(s, n, i, len));
}

#if defined(__SSE2__)
#include <emmintrin.h>
#define FAST_MAX 4096 /* ASCII texts up to this long take the bitmap path */


/* The words of an ASCII text: classified 16 bytes at a time into bitmaps
 * (word bytes, apostrophes, # and @) and lower-cased in place of the same
 * offsets. A word is a run of word bytes and apostrophes from its first
 * word byte (a # or @ just before it kept), apostrophes at its end cut:
 * found from the runs' start bits, one bit scan each. The same words as
 * the byte loop (es__words_cut_bytes). */
static void tokenize_ascii(es_words *w, const char *s, size_t n) {
  enum { NB = FAST_MAX / 64 + 1 };
  uint64_t word[NB], run[NB];
  size_t nb = (n + 63) / 64;
  char *lo = w->norm;
  memcpy(lo, s, n);
  memset(lo + n, 0, nb * 64 - n + 8);
  const __m128i A1 = _mm_set1_epi8('A' - 1), Z1 = _mm_set1_epi8('Z' + 1), a1 = _mm_set1_epi8('a' - 1),
                z1 = _mm_set1_epi8('z' + 1), d1 = _mm_set1_epi8('0' - 1), d9 = _mm_set1_epi8('9' + 1),
                us = _mm_set1_epi8('_'), ap = _mm_set1_epi8('\''), b20 = _mm_set1_epi8(0x20);
  for (size_t k = 0; k < nb; k++) {
    uint64_t W = 0, P = 0;
    for (int j = 0; j < 4; j++) {
      char *q = lo + k * 64 + j * 16;
      __m128i v = _mm_loadu_si128((const __m128i *)q);
      __m128i up = _mm_and_si128(_mm_cmpgt_epi8(v, A1), _mm_cmplt_epi8(v, Z1));
      __m128i l = _mm_add_epi8(v, _mm_and_si128(up, b20));
      _mm_storeu_si128((__m128i *)q, l);
      __m128i x = _mm_or_si128(_mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(l, a1), _mm_cmplt_epi8(l, z1)),
                                            _mm_and_si128(_mm_cmpgt_epi8(v, d1), _mm_cmplt_epi8(v, d9))),
                               _mm_cmpeq_epi8(v, us));
      W |= (uint64_t)(uint32_t)_mm_movemask_epi8(x) << (j * 16);
      P |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, ap)) << (j * 16);
    }
    word[k] = W;
    run[k] = W | P;
  }
  word[nb] = run[nb] = 0;
  w->n = 0;
  uint64_t carry = 0; /* the last byte of the block before is in a run */
  for (size_t k = 0; k < nb; k++) {
    uint64_t R = run[k], starts = R & ~((R << 1) | carry);
    carry = R >> 63;
    for (; starts; starts &= starts - 1) {
      size_t r = (k << 6) + (size_t)__builtin_ctzll(starts);
      /* the run's end: its first byte not in it */
      size_t e = r, kk = k;
      uint64_t rest = ~run[kk] & (~0ULL << (r & 63));
      while (!rest) rest = ~run[++kk];
      e = (kk << 6) + (size_t)__builtin_ctzll(rest);
      size_t i = r;
      if (!((word[k] >> (r & 63)) & 1)) { /* apostrophes first: the word starts at the first word byte */
        while (i < e && lo[i] == '\'') i++;
        if (i == e) continue;
      }
      size_t we = e;
      while (lo[we - 1] == '\'') we--; /* customers' -> customers */
      size_t ts = i - (i > 0 && (lo[i - 1] == '#' || lo[i - 1] == '@'));
      size_t t = w->n++;
      w->start[t] = (uint32_t)ts;
      w->end[t] = (uint32_t)e;
      w->nstart[t] = (uint32_t)ts;
      w->nlen[t] = (uint32_t)(we - ts);
      w->hash[t] = es__word_hash_padded(lo + ts, we - ts);
      if (w->n == ES_WORDS_MAX) return;
    }
  }
}
#endif

static int reserve(es_words *w, size_t n) {
  if (w->cap < 2 * n + 72) {
    size_t cap = 2 * n + 256;
    char *x = es_realloc(w->norm, cap);
    if (!x) return ES_ENOMEM;
    w->norm = x;
    w->cap = cap;
  }
  return 0;
}

static void cut_bytes(es_words *w, const char *s, size_t n);

/* Cuts text into words: byte spans and their normalised forms (ASCII lower
 * case, apostrophes as ', none at either end) in w->norm, with hashes. */
int es__words_cut(es_words *w, const char *s, size_t n) {
  if (reserve(w, n)) return ES_ENOMEM;
#if defined(__SSE2__)
  if (n <= FAST_MAX) {
    uint64_t hi = 0;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
      uint64_t w;
      memcpy(&w, s + k, 8);
      hi |= w;
    }
    for (; k < n; k++) hi |= (unsigned char)s[k];
    bool ascii = !(hi & 0x8080808080808080ULL);
    if (ascii) {
      tokenize_ascii(w, s, n);
      return 0;
    }
  }
#endif
  cut_bytes(w, s, n);
  return 0;
}

int es__words_cut_bytes(es_words *w, const char *s, size_t n) {
  if (reserve(w, n)) return ES_ENOMEM;
  cut_bytes(w, s, n);
  return 0;
}

/* The byte loop: any text. */
static void cut_bytes(es_words *w, const char *s, size_t n) {
  size_t out = 0, i = 0, len;
  w->n = 0;
  while (i < n && w->n < ES_WORDS_MAX) {
    unsigned char c = (unsigned char)s[i];
    int k;
    if (c < 0x80) {
      k = ascii_class[c];
      if (!k && (c == '#' || c == '@') && i + 1 < n && class_at(s, n, i + 1, &len) == C_WORD) k = 3; /* #tag, @handle */
      if (!k || k == 2) {
        i++;
        continue;
      }
      len = 1;
    } else {
      k = classify(cp_at(s, n, i, &len));
      if (k == C_SYMBOL) {
        w->start[w->n] = (uint32_t)i;
        w->end[w->n] = (uint32_t)(i + len);
        w->nstart[w->n] = (uint32_t)out;
        memcpy(w->norm + out, s + i, len);
        out += len;
        w->nlen[w->n] = (uint32_t)len;
        w->hash[w->n] = es__word_hash_padded(w->norm + out - len, len);
        w->n++;
        i += len;
        continue;
      }
      if (k != C_WORD) {
        i += len;
        continue;
      }
    }
    size_t ts = i, ns = out;
    if (k == 3) w->norm[out++] = s[i++];
    while (i < n) {
      unsigned char b = (unsigned char)s[i];
      if (b < 0x80) {
        uint8_t a = ascii_class[b];
        if (a == 1) {
          w->norm[out++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
          i++;
        } else if (a == 2) {
          w->norm[out++] = '\'';
          i++;
        } else break;
        continue;
      }
      int k2 = classify(cp_at(s, n, i, &len));
      if (k2 == C_WORD) memcpy(w->norm + out, s + i, len), out += len;
      else if (k2 == C_APOS) w->norm[out++] = '\'';
      else if (k2 != C_SKIP) break;
      i += len;
    }
    size_t te = i;
    while (out > ns && w->norm[out - 1] == '\'') out--; /* customers' -> customers */
    size_t skip = 0;
    while (ns + skip < out && w->norm[ns + skip] == '\'') skip++;
    if (out == ns + skip) continue;
    w->start[w->n] = (uint32_t)ts;
    w->end[w->n] = (uint32_t)te;
    w->nstart[w->n] = (uint32_t)(ns + skip);
    w->nlen[w->n] = (uint32_t)(out - ns - skip);
    w->hash[w->n] = es__word_hash_padded(w->norm + ns + skip, out - ns - skip);
    w->n++;
  }
}

void es__words_free(es_words *w) { es_free(w->norm); }
