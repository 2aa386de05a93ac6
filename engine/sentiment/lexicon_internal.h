/* The sentiment tables of one language, as the scorer reads them, and the
 * embedded data files they are built from (build/lexicon/lexicon_data.c,
 * made by models/embed-lexicons.sh; format in models/sentiment/README.md). */
#ifndef EARSHOT_LEXICON_INTERNAL_H
#define EARSHOT_LEXICON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "earshot/sentiment.h"

typedef struct es_lexicon_file {
  const char *name;          /* "en/care.tsv", "emoji.tsv" */
  const char *const *lines;
  unsigned nlines;
} es_lexicon_file;

extern const es_lexicon_file es__lexicon_files[];
extern const unsigned es__lexicon_file_count;

/* Constants of the published VADER algorithm (Hutto & Gilbert, 2014). */
#define ES_C_INCR 0.733   /* ALL-CAPS emphasis */
#define ES_N_SCALAR -0.74 /* negation factor */

/* Roles a rules file gives words (a word may have several). */
enum {
  ES_R_NEGATION = 1 << 0, ES_R_CONTRAST = 1 << 1, ES_R_NO = 1 << 2, ES_R_NO_LINK = 1 << 3,
  ES_R_NEVER = 1 << 4, ES_R_SO_THIS = 1 << 5, ES_R_WITHOUT = 1 << 6, ES_R_DOUBT = 1 << 7,
  ES_R_LEAST = 1 << 8, ES_R_LEAST_GUARD = 1 << 9, ES_R_KIND_OF = 1 << 10,
  ES_R_STARTS_SEQ = 1 << 11,    /* first word of a phrase, idiom or two-word dampener */
  ES_R_STARTS_PHRASE = 1 << 12, /* first word of a phrase */
  /* Customer-care rules (a rules file of the care layer): */
  ES_R_IRONY = 1 << 13,    /* praise that frames a complaint ("thanks for losing my bag") */
  ES_R_DURATION = 1 << 14, /* a unit of waiting after a number ("3 hours"): its valence in `duration` */
  ES_R_STARTS_OPENER = 1 << 16, /* first word of an opener (care rules); not a sequence start for idioms */
};

/* Everything the rules need to know about one lower-case token. */
typedef struct es_word_info {
  double valence;  /* lexicon valence (when in_lex); double as in the reference */
  double booster;  /* + booster, - dampener, 0 neither */
  uint32_t id;     /* > 0: identifies the word in sequences */
  uint32_t roles;  /* ES_R_* */
  float duration;  /* ES_R_DURATION: the valence of "NUMBER unit" */
  bool in_lex;
  uint8_t phrase_lens; /* bit n: a phrase of n words starts with this word */
} es_word_info;

/* A sequence of 2-4 words: a phrase scored as one word, an idiom that
 * replaces a sentiment word's value, or a two-word dampener. */
enum { ES_SEQ_PHRASE = 1, ES_SEQ_IDIOM = 2, ES_SEQ_DAMP = 4, ES_SEQ_OPENER = 8 };
#define ES_SEQ_MAX 4
typedef struct es_seq_info {
  uint8_t kinds;   /* ES_SEQ_* */
  double phrase, idiom, damp;
  double opener;   /* ES_SEQ_OPENER: a complaint that opens the text ("how hard is it") */
} es_seq_info;

typedef struct es_lang es_lang;

/* The word table's hash. Keys of up to 8 bytes (most tokens) are read as
 * one little-endian word with the bytes past the key zeroed, so hashing
 * needs no branch on the length; longer keys are read 8 bytes at a time,
 * the last load overlapping. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the word table's hash reads keys as little-endian words"
#endif
static inline uint64_t es__key_mix(uint64_t a, size_t n) {
  uint64_t h = (a ^ (n * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 31);
}

static inline uint64_t es__long_key_hash(const char *s, size_t n) {
  uint64_t a, h = n * 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i + 8 < n; i += 8) {
    memcpy(&a, s + i, 8);
    h = (h ^ a) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  memcpy(&a, s + n - 8, 8);
  h ^= a;
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 29);
}

static inline uint64_t es__key_hash(const char *s, size_t n) {
  if (n > 8) return es__long_key_hash(s, n);
  uint64_t a = 0;
  for (size_t i = 0; i < n; i++) a |= (uint64_t)(unsigned char)s[i] << (8 * i);
  return es__key_mix(a, n);
}

/* The same hash for a key with at least 8 readable bytes at s. */
static inline uint64_t es__key_hash_padded(const char *s, size_t n) {
  if (__builtin_expect(n > 8, 0)) return es__long_key_hash(s, n);
  uint64_t a;
  memcpy(&a, s, 8);
  a &= n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
  return es__key_mix(a, n);
}

/* The word table: 8-byte slots (hash tag and entry index) so a probe stays
 * in a small array that fits the cache; the entries and their key bytes
 * live apart and are touched only when the tag matches. Open addressing,
 * load <= 1/3. */
typedef struct wslot {
  uint32_t tag; /* low 32 bits of the hash */
  uint32_t idx; /* entry index + 1; 0 = empty */
} wslot;

typedef struct wentry {
  es_word_info info;
  uint32_t key_off, key_len;
} wentry;

/* In front of the slots, blocked Bloom filters (two bits of one 64-bit
 * word per key, 4 bits per slot: a few per cent false positives) answer for
 * most tokens from a few KiB that stay in the L1 cache; the slots are read
 * only when one says "maybe". `bloom` holds the words that matter on their
 * own, `bloom_any` every word (see bloom_build in lexicon.c). */
typedef struct es_wordtab {
  wslot *slots;
  size_t mask;
  uint64_t *bloom, *bloom_any;
  size_t bmask;    /* bloom words - 1 */
  wentry *entries;
  char *keys;      /* key bytes of all entries */
} es_wordtab;

static inline uint64_t es__bloom_bits(uint64_t h) { return (1ULL << (h & 63)) | (1ULL << ((h >> 6) & 63)); }
static inline size_t es__bloom_word(const es_wordtab *t, uint64_t h) { return (size_t)(h >> 40) & t->bmask; }

/* Equal keys of n bytes; overlapping loads, no call (the common words a
 * table holds for its phrases, "the", "my", "on", are short). */
static inline bool es__key_eq(const char *a, const char *b, size_t n) {
  if (n < 4) return !n || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
  if (n <= 8) {
    uint32_t a0, a1, b0, b1;
    memcpy(&a0, a, 4);
    memcpy(&b0, b, 4);
    memcpy(&a1, a + n - 4, 4);
    memcpy(&b1, b + n - 4, 4);
    return a0 == b0 && a1 == b1;
  }
  uint64_t x, y;
  for (size_t i = 0; i + 8 < n; i += 8) {
    memcpy(&x, a + i, 8);
    memcpy(&y, b + i, 8);
    if (x != y) return false;
  }
  memcpy(&x, a + n - 8, 8);
  memcpy(&y, b + n - 8, 8);
  return x == y;
}

/* The slot of tok (hash h = es__key_hash(tok, n)) in slots[0..mask], or the
 * empty slot where it would go. The one probe loop: building the table
 * (with a new slot array while it grows) and looking up use it. */
static inline wslot *es__probe(wslot *slots, size_t mask, const es_wordtab *t, uint64_t h, const char *tok, size_t n) {
  uint32_t tag = (uint32_t)h;
  for (size_t i = (size_t)(h >> 32) & mask;; i = (i + 1) & mask) {
    wslot *s = &slots[i];
    if (!s->idx) return s;
    if (s->tag == tag) {
      const wentry *e = &t->entries[s->idx - 1];
      if (e->key_len == n && es__key_eq(t->keys + e->key_off, tok, n)) return s;
    }
  }
}

static inline bool es__bloom_has(const uint64_t *bloom, const es_wordtab *t, uint64_t h) {
  uint64_t m = es__bloom_bits(h);
  return (bloom[es__bloom_word(t, h)] & m) == m;
}

static inline const es_word_info *es__word_probe(const es_wordtab *t, uint64_t h, const char *tok, size_t n) {
  const wslot *s = es__probe(t->slots, t->mask, t, h, tok, n);
  return s->idx ? &t->entries[s->idx - 1].info : NULL;
}

/* The facts about a lower-case token (hash h) that matters on its own,
 * or NULL: a word that only takes part in idioms and dampeners gives NULL
 * here. */
static inline const es_word_info *es__word_h(const es_wordtab *t, uint64_t h, const char *tok, size_t n) {
  return es__bloom_has(t->bloom, t, h) ? es__word_probe(t, h, tok, n) : NULL;
}

/* The facts about any lower-case token the table has, or NULL. */
static inline const es_word_info *es__word_any(const es_wordtab *t, const char *tok, size_t n) {
  uint64_t h = es__key_hash(tok, n);
  return es__bloom_has(t->bloom_any, t, h) ? es__word_probe(t, h, tok, n) : NULL;
}

/* es__word_any for a key with at least 8 readable bytes at tok. */
static inline const es_word_info *es__word_any_padded(const es_wordtab *t, const char *tok, size_t n) {
  uint64_t h = es__key_hash_padded(tok, n);
  return es__bloom_has(t->bloom_any, t, h) ? es__word_probe(t, h, tok, n) : NULL;
}

const es_wordtab *es__lang_words(const es_lang *L);
const es_seq_info *es__lang_seq(const es_lang *L, const uint32_t *ids, int n);
int es__lang_max_phrase(const es_lang *L);
/* Negation infixes ("n't"): a token containing one is a negation. */
bool es__lang_infix_negation(const es_lang *L, const char *tok, size_t n);
/* Whether every infix has an ASCII punctuation byte (then a token without
 * one cannot contain an infix). */
bool es__lang_infix_needs_punct(const es_lang *L);
bool es__lang_care_rules(const es_lang *L);
/* Care rules: a word that opens a request ("can", "how"); a word that,
 * right after an exclaimed praise word, makes it sarcasm ("another"). */
bool es__lang_question(const es_lang *L, const char *w, size_t n);
bool es__lang_irony_cue(const es_lang *L, const char *w, size_t n);
/* Care rules: a number word ("three"; digits are numbers anyway). */
bool es__lang_number_word(const es_lang *L, const char *w, size_t n);
/* The opener (care rules) of these 2-4 word ids, or NULL. */
const es_seq_info *es__lang_opener(const es_lang *L, const uint32_t *ids, int n);
const es_lang *es__lexicon_default_lang(const es_lexicon *lex);
/* The table for a language tag, NULL when none. */
const es_lang *es__lexicon_lang(const es_lexicon *lex, const char *lang, size_t n);

#endif
