/* The text pass behind duplicate detection and alert terms (see
 * include/earshot/window.h): one pass over a mention's text yields the hash
 * of its words (copies and retweets hash alike: URLs, handles, digits,
 * punctuation and case left out), its first distinct words of 4 bytes or
 * more (the terms) and its 64-bit SimHash (near-copies). Worker threads,
 * no allocation. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "earshot/hash.h"
#include "../core/bits_internal.h"
#include "earshot/window.h"

/* Whether a URL starts at s[i] (http..., www.). */
static inline bool url_at(const char *s, size_t n, size_t i) {
  char c = (char)(s[i] | 32);
  if (c == 'h') return n - i > 7 && s[i + 1] == 't' && s[i + 2] == 't' && s[i + 3] == 'p';
  if (c == 'w') return n - i > 4 && s[i + 1] == 'w' && s[i + 2] == 'w' && s[i + 3] == '.';
  return false;
}

/* A SimHash's votes, bit-sliced: plane p holds bit p of each of the 64
 * per-position counts of words with that bit set (up to 63 words). */
typedef struct simvotes {
  uint64_t plane[6];
} simvotes;

static inline void sim_vote(simvotes *v, uint64_t wh) {
  uint64_t carry = wh;
  for (int p = 0; p < 6 && carry; p++) {
    uint64_t t = v->plane[p] & carry;
    v->plane[p] ^= carry;
    carry = t;
  }
}

/* Bit b set when more than half of the n words had it set: the 64 counts
 * compared with n / 2 + 1 at once, plane by plane from the top. */
static uint64_t sim_result(const simvotes *v, int n) {
  unsigned t = (unsigned)n / 2 + 1;
  uint64_t gt = 0, eq = ~0ULL;
  for (int p = 5; p >= 0; p--) {
    uint64_t tb = (t >> p) & 1 ? ~0ULL : 0;
    gt |= eq & v->plane[p] & ~tb;
    eq &= ~(v->plane[p] ^ tb);
  }
  return gt | eq;
}

/* A word's hash: its bytes (at most 32, in a buffer with 32 readable
 * bytes) 8 at a time. */
static inline uint64_t word_hash(const char *w, size_t n) {
  uint64_t h = n * 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t x;
    memcpy(&x, w + i, 8);
    if (n - i < 8) x &= (1ULL << (8 * (n - i))) - 1;
    h = (h ^ x) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  return es_hash_mix(h);
}

/* The state of one text pass: the running hash, the SimHash votes and the
 * terms so far. */
typedef struct scan {
  uint64_t h; /* the words' hashes, in order */
  simvotes votes;
  int nsim; /* words that voted (the first 63) */
  char *out;
  size_t cap, o;
  int nt;
  uint64_t thash[ES_MENTION_TERMS]; /* the terms so far: hash, place in out, length */
  size_t toff[ES_MENTION_TERMS], tlen[ES_MENTION_TERMS];
  bool sim;
} scan;

/* One word: w holds its first min(wl, 32) bytes, lower-cased, with 8 more
 * readable bytes; lh the FNV-1a of the bytes past the 32nd. */
static inline void scan_word(scan *st, const char *w, size_t wl, uint64_t lh) {
  uint64_t wh = word_hash(w, wl < 32 ? wl : 32);
  if (wl > 32) wh = es_hash_mix(wh ^ lh ^ wl);
  st->h = es_hash_mix(st->h ^ wh); /* order matters: "a b" is not "b a" */
  if (st->sim && wl >= 4 && st->nsim < 63) { /* short words (the, and, my) would make every text alike */
    sim_vote(&st->votes, wh);
    st->nsim++;
  }
  if (!st->out || st->nt >= ES_MENTION_TERMS || wl < 4 || wl > ES_TERM_MAX - 1 || st->o + wl + 1 > st->cap) return;
  for (int k = 0; k < st->nt; k++) /* distinct within the mention */
    if (st->thash[k] == wh && st->tlen[k] == wl && !memcmp(st->out + st->toff[k], w, wl)) return;
  if (st->o) st->out[st->o++] = ' ';
  memcpy(st->out + st->o, w, wl);
  st->thash[st->nt] = wh;
  st->toff[st->nt] = st->o;
  st->tlen[st->nt] = wl;
  st->o += wl;
  st->nt++;
}

static uint64_t scan_finish(scan *st, size_t *olen, uint64_t *sim) {
  if (olen) *olen = st->o;
  if (sim) {
    uint64_t x = sim_result(&st->votes, st->nsim);
    /* 0: too few words to tell a near-copy from a different short text
     * (the exact hash still finds copies). */
    *sim = st->nsim >= ES_NEAR_MIN_WORDS ? (x ? x : 1) : 0;
  }
  uint64_t h = st->h;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h ? h : 1;
}

/* The text pass a byte at a time (any length; the reference for the fast
 * path below). */
static uint64_t content_scan_bytes(const char *s, size_t n, char *out, size_t cap, size_t *olen, uint64_t *sim) {
  scan st = {.h = 0x2545f4914f6cdd1dULL, .out = out, .cap = cap, .sim = sim != NULL};
  size_t i = 0;
  char w[40] = {0}; /* a word's first 32 bytes (8 more readable for word_hash) */
  /* A leading "RT" (and what follows up to the colon) marks a repost. */
  if (n >= 3 && (s[0] | 32) == 'r' && (s[1] | 32) == 't' && s[2] == ' ') i = 3;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    if (c == '@' || url_at(s, n, i)) {
      while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') i++; /* handle or URL: skipped */
      continue;
    }
    /* A word: the bytes kept, lower-cased; hashed as a whole and, when
     * wanted, kept as a term. */
    c = (unsigned char)(c + ((c >= 'A' && c <= 'Z') ? 32 : 0));
    if (!((c >= 'a' && c <= 'z') || c >= 0x80)) {
      i++; /* a separator */
      continue;
    }
    size_t wl = 0;
    uint64_t lh = 0xcbf29ce484222325ULL; /* bytes past the 32nd, FNV-1a */
    do {
      if (wl < 32) w[wl] = (char)c;
      else lh = (lh ^ c) * 0x100000001b3ULL;
      wl++;
      if (++i >= n || url_at(s, n, i)) break; /* a URL starting inside the word ends it */
      c = (unsigned char)s[i];
      c = (unsigned char)(c + ((c >= 'A' && c <= 'Z') ? 32 : 0));
    } while ((c >= 'a' && c <= 'z') || c >= 0x80);
    scan_word(&st, w, wl, lh);
  }
  return scan_finish(&st, olen, sim);
}

#if defined(__SSE2__)
#define SCAN_FAST_MAX 4096 /* longer texts take the byte loop */


/* The same pass with the text classified 16 bytes at a time: bitmaps of
 * letters (A-Z, a-z and every byte >= 0x80), '@', whitespace and URL
 * candidates ('h', 'w'), and a lower-cased copy; words are then found
 * with bit scans. Equal to content_scan_bytes on every text. */
static uint64_t content_scan(const char *s, size_t n, char *out, size_t cap, size_t *olen, uint64_t *sim) {
  if (n > SCAN_FAST_MAX) return content_scan_bytes(s, n, out, cap, olen, sim);
  enum { NB = SCAN_FAST_MAX / 64 };
  _Alignas(16) char lo[SCAN_FAST_MAX + 48];
  uint64_t letter[NB], at[NB], space[NB], hw[NB];
  size_t nb = (n + 63) / 64;
  memcpy(lo, s, n);
  memset(lo + n, 0, nb * 64 - n + 40); /* zeros: no class; 8+ readable bytes past any word */
  const __m128i A1 = _mm_set1_epi8('A' - 1), Z1 = _mm_set1_epi8('Z' + 1), a1 = _mm_set1_epi8('a' - 1),
                z1 = _mm_set1_epi8('z' + 1), sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'),
                nl = _mm_set1_epi8('\n'), atc = _mm_set1_epi8('@'), hc = _mm_set1_epi8('h'), wc = _mm_set1_epi8('w'),
                b20 = _mm_set1_epi8(0x20);
  for (size_t k = 0; k < nb; k++) {
    uint64_t L = 0, T = 0, S = 0, H = 0;
    for (int j = 0; j < 4; j++) {
      char *p = lo + k * 64 + j * 16;
      __m128i v = _mm_load_si128((const __m128i *)p);
      __m128i up = _mm_and_si128(_mm_cmpgt_epi8(v, A1), _mm_cmplt_epi8(v, Z1)); /* signed: bytes >= 0x80 are not */
      __m128i l = _mm_add_epi8(v, _mm_and_si128(up, b20));
      _mm_store_si128((__m128i *)p, l);
      __m128i let = _mm_and_si128(_mm_cmpgt_epi8(l, a1), _mm_cmplt_epi8(l, z1));
      uint64_t hi = (uint32_t)_mm_movemask_epi8(v); /* bytes >= 0x80 */
      L |= ((uint64_t)(uint32_t)_mm_movemask_epi8(let) | hi) << (j * 16);
      T |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, atc)) << (j * 16);
      S |= (uint64_t)(uint32_t)_mm_movemask_epi8(
               _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)), _mm_cmpeq_epi8(v, nl)))
           << (j * 16);
      H |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(l, hc), _mm_cmpeq_epi8(l, wc))) << (j * 16);
    }
    letter[k] = L;
    at[k] = T;
    space[k] = S;
    hw[k] = H;
  }
  uint64_t notletter[NB], start[NB];
  for (size_t k = 0; k < nb; k++) {
    notletter[k] = ~letter[k];
    start[k] = letter[k] | at[k]; /* where the byte loop does something other than skip a separator */
  }
  scan st = {.h = 0x2545f4914f6cdd1dULL, .out = out, .cap = cap, .sim = sim != NULL};
  size_t i = 0;
  if (n >= 3 && (s[0] | 32) == 'r' && (s[1] | 32) == 't' && s[2] == ' ') i = 3;
  for (;;) {
    i = es__next_bit(start, nb, i, n);
    if (i >= n) break;
    if (s[i] == '@' || (((hw[i >> 6] >> (i & 63)) & 1) && url_at(s, n, i))) {
      i = es__next_bit(space, nb, i, n); /* handle or URL: skipped */
      continue;
    }
    size_t e = es__next_bit(notletter, nb, i + 1, n);
    /* a URL starting inside the word ends it */
    for (size_t j = es__next_bit(hw, nb, i + 1, n); j < e; j = es__next_bit(hw, nb, j + 1, n))
      if (url_at(s, n, j)) {
        e = j;
        break;
      }
    size_t wl = e - i;
    uint64_t lh = 0xcbf29ce484222325ULL;
    for (size_t j = 32; j < wl; j++) lh = (lh ^ (unsigned char)lo[i + j]) * 0x100000001b3ULL;
    scan_word(&st, lo + i, wl, lh);
    i = e;
  }
  return scan_finish(&st, olen, sim);
}
#else
static uint64_t content_scan(const char *s, size_t n, char *out, size_t cap, size_t *olen, uint64_t *sim) {
  return content_scan_bytes(s, n, out, cap, olen, sim);
}
#endif

uint64_t es__content_hash_terms_bytes(const char *s, size_t n, char *out, size_t cap, size_t *olen, uint64_t *simhash) {
  return content_scan_bytes(s, n, out, cap, olen, simhash);
}

uint64_t es_content_hash(const char *s, size_t n) { return content_scan(s, n, NULL, 0, NULL, NULL); }

size_t es_content_terms(const char *s, size_t n, char *out, size_t cap) {
  size_t o;
  content_scan(s, n, out, cap, &o, NULL);
  return o;
}

uint64_t es_content_hash_terms(const char *s, size_t n, char *out, size_t cap, size_t *olen, uint64_t *simhash) {
  return content_scan(s, n, out, cap, olen, simhash);
}
