/* Internals of triage: the situation rules' matcher (sitmatch.c, used by
 * situation.c), and the triage file's and the aggregator's state shared by
 * triage_file.c, route.c and respond.c. */
#ifndef EARSHOT_TRIAGE_INTERNAL_H
#define EARSHOT_TRIAGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "earshot/query.h"
#include "earshot/triage.h"

/* The hash of a word's normalised bytes: eight bytes at a time (the last
 * block zero-filled), one multiplication each; cheaper than es_hash_bytes
 * on the short keys words are. es__word_hash_padded gives the same value
 * reading whole blocks: the caller has 8 readable bytes past the word. */
static inline uint64_t es__word_block(uint64_t h, uint64_t x) {
  h = (h ^ x) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}
static inline uint64_t es__word_hash_padded(const char *p, size_t n) {
  uint64_t h = (uint64_t)n * 0xff51afd7ed558ccdULL, x;
  for (; n > 8; p += 8, n -= 8) memcpy(&x, p, 8), h = es__word_block(h, x);
  memcpy(&x, p, 8);
  return es__word_block(h, x & (n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1));
}
static inline uint64_t es__word_hash(const char *p, size_t n) {
  uint64_t h = (uint64_t)n * 0xff51afd7ed558ccdULL, x;
  for (; n > 8; p += 8, n -= 8) memcpy(&x, p, 8), h = es__word_block(h, x);
  x = 0;
  for (size_t i = 0; i < n; i++) x |= (uint64_t)(unsigned char)p[i] << (8 * i);
  return es__word_block(h, x);
}
/* Whether a[0, n) == b[0, n); both have 8 readable bytes past n. */
static inline bool es__word_eq_padded(const char *a, const char *b, size_t n) {
  if (n > 8) return !memcmp(a, b, n);
  uint64_t x, y;
  memcpy(&x, a, 8);
  memcpy(&y, b, 8);
  return !((x ^ y) & (n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1));
}

/* A text's words (words.c): byte spans in the text, normalised forms in
 * norm (8 readable bytes past each), and their hashes (es__word_hash). */
#define ES_WORDS_MAX 2048 /* words looked at per mention */
typedef struct es_words {
  uint32_t start[ES_WORDS_MAX], end[ES_WORDS_MAX], nstart[ES_WORDS_MAX], nlen[ES_WORDS_MAX];
  uint64_t hash[ES_WORDS_MAX];
  size_t n;
  char *norm;
  size_t cap;
} es_words;
/* Cuts s into words (at most ES_WORDS_MAX). 0 or ES_ENOMEM. */
int es__words_cut(es_words *w, const char *s, size_t n);
/* The same with the byte loop alone (the ASCII path is checked against it). */
int es__words_cut_bytes(es_words *w, const char *s, size_t n);
void es__words_free(es_words *w); /* its buffer */

typedef struct es_sitm es_sitm;
typedef struct es_sitm_rt es_sitm_rt;

/* Parses rule expressions (query language) into a matcher; on error NULL
 * with diag naming file:line (defs[i].file, .line). */
es_sitm *es__sitm_compile(const es_query_def *defs, size_t n, int *err, es_diag *d);
void es__sitm_destroy(es_sitm *m); /* NULL-safe */
es_sitm_rt *es__sitm_rt_create(const es_sitm *m);
void es__sitm_rt_destroy(es_sitm_rt *rt); /* NULL-safe */
/* Looks at a (folded) text; then es__sitm_holds and es__sitm_evidence
 * answer for it. 0 or ES_E*. */
int es__sitm_scan(const es_sitm *m, es_sitm_rt *rt, const char *text, size_t n, const es_match_meta *meta);
bool es__sitm_holds(const es_sitm *m, es_sitm_rt *rt, size_t rule);
/* The rules one of whose atoms matched the last text (each once, in no order). */
size_t es__sitm_touched(const es_sitm_rt *rt, const uint32_t **rules);
/* Whether rule `rule` may hold on a text where no atom matched (NOT alone). */
bool es__sitm_always(const es_sitm *m, size_t rule);
/* The matched words of rule `rule` (spans of the text, or a regex's pattern). */
size_t es__sitm_evidence(const es_sitm *m, es_sitm_rt *rt, size_t rule, const char **w, size_t *l, size_t cap);

/* ---- the triage file (triage_file.c loads it; route.c decides with it) ---- */

#define MAX_LIST 16 /* values in one condition list (queries, situations, lists, langs, sources) */

typedef struct cond {
  char *queries[MAX_LIST];
  int nqueries;
  uint32_t situations, not_situations; /* masks */
  uint8_t labels;                      /* bit per enum es_label; 0 any */
  double cmin, cmax;
  uint32_t lists, not_lists;           /* author list masks */
  int64_t fmin, fmax;                  /* followers */
  char *langs[MAX_LIST], *sources[MAX_LIST];
  int nlangs, nsources;
} cond;

typedef struct route {
  char *name;
  cond when;
  int action;       /* ES_TRIAGE_ROUTE or ES_TRIAGE_IGNORE */
  int32_t track;
  int priority;
  int64_t sla_ms;   /* -1: the track's */
  char *reason;     /* ignore */
} route;

typedef struct crisis {
  char *query;
  char *name;       /* "crisis:QUERY" */
  cond when;
  int32_t track;
  int priority;
  int64_t sla_ms;
} crisis;

typedef struct track {
  char *name;
  int64_t sla_ms;
  int64_t capacity;   /* per hour of event time; 0 unlimited */
  int32_t overflow;   /* -1 none */
  bool keeps_hours;
} track;

/* A zone's UTC offsets: `off[i]` seconds east from `at[i]` (UTC s) on. */
typedef struct zone {
  int64_t *at;
  int32_t *off;
  size_t n;
} zone;

struct es_triage {
  es_situations *sit;
  track tracks[ES_TRIAGE_MAX_TRACKS];
  size_t ntracks;
  route routes[ES_TRIAGE_MAX_ROUTES];
  size_t nroutes;
  crisis crises[ES_TRIAGE_MAX_CRISIS];
  size_t ncrises;
  char *lists[ES_TRIAGE_MAX_LISTS];
  size_t nlists;
  /* handles of every list: open addressing of (lower-case handle, mask) */
  char **handles;
  uint32_t *handle_mask;
  size_t handle_cap, nhandles;
  /* office hours */
  bool has_hours;
  uint8_t open[7][96];  /* per weekday (0 = Monday) and quarter hour: open */
  zone tz;
  char *tz_name;
  int32_t off_hours;    /* track, -1 none */
  /* the files it was read from (the triage file, its lists, its situation
   * rule files or directories): what hot reload watches */
  char *files[ES_TRIAGE_MAX_FILES];
  size_t nfiles;
};

/* Notes a file the triage was read from (a copy; at most ES_TRIAGE_MAX_FILES kept). */
void es__triage_note_file(es_triage *t, const char *path);

/* A handle as compared: without a leading @, ASCII lower case (triage_file.c). */
size_t es__norm_handle(const char *s, size_t n, char *out, size_t cap);

/* ---- the aggregator's state (route.c; time to respond in respond.c) ---- */

#define HOUR_SLOTS 8
#define HOUR_MS 3600000
#define AWAIT_MAX (1u << 20)     /* routed mentions awaiting an answer, at most (about 100 MB); more are not tracked */
#define AWAIT_KEEP_MS 86400000LL /* an unanswered mention is forgotten a day after its respond-by */
#define SAMPLE_MAX 65536          /* response times kept per track and hour (p90) */

/* A routed mention awaiting its answer. */
typedef struct await {
  char *id;
  uint32_t idn;
  int32_t track;
  int64_t ts, due;  /* due: when the heap next looks at it */
  int64_t due_first; /* its respond-by */
  bool late; /* its respond-by passed unanswered (counted) */
} await;

/* Per track and event-time hour: the response times collected (the event
 * time of the answer, or of a respond-by passed unanswered: +infinity), in
 * a ring of hours so that the next hour fills while the watermark has not
 * closed the last. */
#define SLA_HOURS 4
typedef struct sla_hour {
  int64_t hour;        /* INT64_MIN: empty */
  uint32_t *times;     /* seconds; UINT32_MAX: unanswered */
  uint32_t n, cap, answered, late, unanswered;
} sla_hour;
typedef struct track_sla {
  sla_hour h[SLA_HOURS];
  bool breach_open;
} track_sla;

struct es_triage_state {
  size_t ntracks;
  int64_t hour[ES_TRIAGE_MAX_TRACKS][HOUR_SLOTS]; /* event-time hour of each slot */
  uint64_t in_hour[ES_TRIAGE_MAX_TRACKS][HOUR_SLOTS];
  uint64_t routed_to[ES_TRIAGE_MAX_TRACKS];
  es_triage_counts c;
  es_triage_sla_counts sla[ES_TRIAGE_MAX_TRACKS];
  /* awaiting answers: open addressing by id (index + 1 into aw; 0 empty,
   * UINT32_MAX a removed slot) and a min-heap of indices by respond-by */
  await *aw;
  uint32_t naw, capaw, *freeaw, nfree;
  uint32_t *slots;
  size_t mask, used;
  uint32_t *heap;
  size_t nheap;
  track_sla ts[ES_TRIAGE_MAX_TRACKS];
};

#endif
