/* Listening queries: parsing, compilation into one Hyperscan database, and
 * per-mention evaluation.
 *
 * An es_queryset is immutable once compiled and shared by all threads. Each
 * thread that matches owns an es_match_rt (Hyperscan scratch, match bitmaps).
 * Texts are matched after es_fold (Unicode case folding, NFC), so matching
 * is case-insensitive for every script Unicode folds.
 *
 * Language: terms (whole words, case-insensitive), "exact phrases", field
 * filters (lang:fr, followers:>1000),
 * trailing wildcards (deliver*), single-character wildcards (colo?r), proximity (a NEAR/n b, a NEAR/nf b,
 * "a b c"~n), expert /regex/flags, AND, OR, NOT, parentheses; adjacency means AND; precedence
 * NOT > NEAR > AND > OR. Terms may be #hashtags, @handles or emoji.
 * A term must not be glued to word characters on a side where it begins or
 * ends with a word character (letters, digits and '_' of any script). */
#ifndef EARSHOT_QUERY_H
#define EARSHOT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "earshot/error.h"

/* Limits, each reported with a clear error when exceeded. */
#define ES_QUERY_MAX_LEN 4096   /* bytes of one query expression */
#define ES_QUERY_MAX_ATOMS 256  /* terms and phrases in one query */
#define ES_QUERY_MAX_DEPTH 32   /* nesting of parentheses and NOT */
#define ES_QUERY_MIN_STEM 3     /* characters before a trailing * (not counting '?') */
#define ES_QUERY_MIN_LITERAL 2  /* characters other than '?' in a term with '?' */

enum es_atom_kind { ES_ATOM_TERM, ES_ATOM_PHRASE, ES_ATOM_PREFIX, ES_ATOM_FIELD, ES_ATOM_REGEX };

/* /regex/flags: a Hyperscan expression over the mention text (case-folded
 * outside ASCII, NFC), UTF-8 mode, always case-insensitive like every
 * atom; flags s (dot matches newline), m (multi-line ^ $), u (Unicode
 * classes for \w, \d...), i (accepted; already the case). True when it
 * matches anywhere in the mention; no word-boundary rule is added. */
enum { ES_RX_CASELESS = 1, ES_RX_DOTALL = 2, ES_RX_MULTILINE = 4, ES_RX_UCP = 8 };

/* Field filters on mention metadata: lang:en, source:reviews,
 * author:acmebank (a leading @ is ignored), followers:>1000 (also >=, <,
 * <=, = or a bare number). Text values compare case-insensitively (ASCII). */
enum es_filter_field { ES_FIELD_LANG, ES_FIELD_SOURCE, ES_FIELD_AUTHOR, ES_FIELD_FOLLOWERS };
enum es_cmp { ES_CMP_EQ, ES_CMP_GT, ES_CMP_GE, ES_CMP_LT, ES_CMP_LE };

/* The metadata a field filter reads; NULL/0-length strings are missing
 * (lang then counts as "und", source as "unknown"). */
typedef struct es_match_meta {
  const char *lang, *source, *author;
  size_t lang_n, source_n, author_n;
  uint64_t followers;
} es_match_meta;

typedef struct es_atom {
  int kind;      /* enum es_atom_kind */
  char *text;    /* folded; a phrase's words are separated by one space */
  size_t len;
  bool left_word, right_word; /* first / last character is a word character */
  bool positional;            /* a word of some phrase: occurrences are recorded */
  bool wild;                  /* contains '?': exactly one word character there */
  int field, cmp;             /* ES_ATOM_FIELD: enum es_filter_field, enum es_cmp */
  uint64_t num;               /* ES_ATOM_FIELD followers: the number */
  size_t val;                 /* ES_ATOM_FIELD text fields: the value starts at text + val */
  int rx_flags;               /* ES_ATOM_REGEX: ES_RX_*; text is "/pattern/flags" */
  size_t rx_len;              /* ES_ATOM_REGEX: the pattern is text[1 .. 1 + rx_len) */
} es_atom;

enum es_qnode_kind { ES_Q_ATOM, ES_Q_AND, ES_Q_OR, ES_Q_NOT, ES_Q_NEAR };

/* ES_Q_NEAR: operands (atoms or OR-groups of atoms) whose occurrences are
 * at most `dist` tokens apart. Unordered (a NEAR/n b, two operands): either
 * order, at most `dist` tokens between them. Ordered (a NEAR/nf b, and
 * "a b c"~n whose operands are the words): in this order, without overlap,
 * at most `dist` tokens in all between consecutive operands. Tokens are
 * runs of word characters and single symbols (emoji); punctuation is not
 * one. */
#define ES_QUERY_MAX_DIST 100

typedef struct es_qnode {
  int kind;                /* enum es_qnode_kind */
  uint32_t atom;           /* ES_Q_ATOM: index into the queryset's atoms */
  uint32_t dist;           /* ES_Q_NEAR: tokens allowed between operands */
  bool ordered;            /* ES_Q_NEAR: operands in order */
  bool slop_phrase;        /* ES_Q_NEAR written as "a b c"~n */
  uint32_t near;           /* ES_Q_NEAR: index among the query set's NEAR nodes */
  uint32_t col;            /* 1-based column in the query expression */
  uint32_t nkids;
  struct es_qnode **kids;
} es_qnode;

/* One query as written by the analyst. */
typedef struct es_query_def {
  const char *id;    /* [a-z0-9_-]+, unique */
  const char *name;
  const char *expr;
  int64_t negative_at_least; /* alert when a window has >= this many negative mentions; 0 = off */
  int64_t count_at_least;    /* alert when a window has >= this many mentions; 0 = off */
  const char *file;          /* where it was defined, for messages (may be NULL) */
  int line;
} es_query_def;

typedef struct es_query {
  char *id, *name, *expr;
  int64_t negative_at_least, count_at_least;
  es_qnode *root;
  uint32_t *prog;   /* postfix program evaluated per mention */
  uint32_t nprog;
  uint32_t near_first, nnear; /* its NEAR nodes: the query set's near_first .. +nnear */
  bool any_atom;              /* only atoms and ORs: true as soon as it is a candidate */
  /* Its subject words: the words of its plain terms and phrases outside
   * any NOT (folded, as matched). Sentiment does not score them in the
   * mentions the query matched: the subject is not the sentiment. */
  const char **subject;
  uint16_t *subject_len;
  uint32_t nsubject;
} es_query;

typedef struct es_queryset es_queryset;

/* The most queries one query file may hold. 100,000 generated queries
 * compile in 1.5 s and take about 1 GB (bench/run memory); a file of
 * millions (a mistake, or a file replaced by something else) would take
 * minutes and tens of GB before failing, so it is refused at once and a
 * reload keeps the rules in force. */
#define ES_QUERY_MAX_QUERIES 250000

/* Compiles `n` definitions. On error returns NULL, *err is set (ES_EQUERY,
 * ES_EHYPERSCAN, ES_ENOMEM) and diag names the query id, the column and
 * what to do. Any thread; the result may be shared by all threads. */
es_queryset *es_queryset_compile(const es_query_def *defs, size_t n, int *err, es_diag *diag);
/* Options of a whole query set. */
typedef struct es_query_opts {
  bool accent_insensitive; /* terms and texts folded without accents: cafe = café */
} es_query_opts;
es_queryset *es_queryset_compile_opts(const es_query_def *defs, size_t n, const es_query_opts *o, int *err,
                                      es_diag *diag);
es_queryset *es_queryset_load_opts(const char *path, const es_query_opts *o, int *err, es_diag *diag);
/* Whether texts must be folded with es_fold.strip_marks for this set. */
bool es_queryset_accent_insensitive(const es_queryset *qs);
/* Loads a YAML query file (top-level `queries:` list) and compiles it. */
es_queryset *es_queryset_load(const char *path, int *err, es_diag *diag);
void es_queryset_destroy(es_queryset *qs); /* NULL-safe */
/* The subject words of the matched queries hits[0 .. nh), in order, at most
 * cap of them, into words/lens (pointers into qs): what sentiment does not
 * score in that mention (es_sentiment_rt_set_subject). Returns the count. */
size_t es_queryset_subject(const es_queryset *qs, const uint32_t *hits, size_t nh, const char **words, uint16_t *lens,
                           size_t cap);
/* Validates a query file query by query, calling report() with each error
 * (file:line, query id, column, hint). Returns the number of errors, or -1
 * when the file itself cannot be read (diag says why); on 0 fills the
 * query and distinct-atom counts. */
int es_queryset_check(const char *path, void (*report)(void *ctx, const char *msg), void *ctx, size_t *nqueries,
                      size_t *natoms, es_diag *d);

size_t es_queryset_count(const es_queryset *qs);
/* The index of the query with id key[0..n), or -1. */
int64_t es_queryset_find(const es_queryset *qs, const char *key, size_t n);
const es_query *es_queryset_get(const es_queryset *qs, size_t i);
size_t es_queryset_atom_count(const es_queryset *qs);
const es_atom *es_queryset_atom(const es_queryset *qs, size_t i);
/* The query set's Hyperscan database (NULL without atoms) and its size in
 * bytes, for benchmarks that scan it raw. */
const void *es_queryset_hs_database(const es_queryset *qs);
size_t es_queryset_db_bytes(const es_queryset *qs);
/* The Hyperscan pattern an atom compiled to (for explain). */
const char *es_queryset_atom_pattern(const es_queryset *qs, size_t i);

/* Per-thread text folding: Unicode case folding + NFC into a reusable
 * buffer. ASCII text is returned as is (Hyperscan matches it caselessly). */
typedef struct es_fold {
  int32_t *buf;
  size_t cap;       /* in code points */
  bool strip_marks; /* accent-insensitive: drop combining marks (é -> e) */
} es_fold;
void es_fold_init(es_fold *f);
void es_fold_free(es_fold *f);
/* Returns the folded text (valid until the next call) and its length, or
 * NULL on OOM or invalid UTF-8. */
const char *es_fold_text(es_fold *f, const char *s, size_t n, size_t *out_n);
/* Folds into a fresh malloc'd string (compile time). */
char *es_fold_dup(const char *s, size_t n, size_t *out_n);
char *es_fold_dup_opts(const char *s, size_t n, bool strip_marks, size_t *out_n);

/* Per-thread matching state. */
typedef struct es_match_rt es_match_rt;
es_match_rt *es_match_rt_create(const es_queryset *qs);
void es_match_rt_destroy(es_match_rt *rt); /* NULL-safe */

/* Matches a folded text. Writes the indices of the matching queries, in
 * ascending order, to `out` (capacity es_queryset_count(qs)) and returns how
 * many, or a negative ES_E* code. No allocation. */
int es_queryset_match(const es_queryset *qs, es_match_rt *rt, const char *folded, size_t n, uint32_t *out);
/* The same with the mention's metadata for field filters (NULL: every
 * field filter is false). */
int es_queryset_match_meta(const es_queryset *qs, es_match_rt *rt, const char *folded, size_t n,
                           const es_match_meta *meta, uint32_t *out);
/* Whether a field filter holds for the metadata (NULL: false). */
bool es_field_holds(const es_atom *a, const es_match_meta *meta);
/* After es_queryset_match: whether atom `a` matched the last text. */
bool es_match_rt_atom_hit(const es_match_rt *rt, uint32_t a);
/* Provenance (explain, enriched output): when on, every occurrence of every
 * term, wildcard and phrase is recorded, and es_match_rt_occurrences gives
 * their byte ranges [start, end) in the matched (folded) text, which is the
 * original text wherever it is ASCII. Regexes and field filters have none. */
void es_match_rt_set_provenance(es_match_rt *rt, bool on);
/* The NEAR nodes of the query set (explain) and, after matching, whether
 * NEAR node j held (false when its query was not evaluated). */
size_t es_queryset_near_count(const es_queryset *qs);
const es_qnode *es_queryset_near(const es_queryset *qs, size_t j);
bool es_match_rt_near_hit(const es_match_rt *rt, size_t j);
size_t es_match_rt_occurrences(const es_queryset *qs, const es_match_rt *rt, uint32_t a, uint32_t *starts,
                               uint32_t *ends, size_t cap);

/* The naive reference matcher: evaluates query `q` over a folded text with
 * plain string search and a recursive walk of the tree, sharing nothing
 * with the Hyperscan path but the parsed tree. For contract tests. */
bool es_reference_match(const es_queryset *qs, size_t q, const char *folded, size_t n);
bool es_reference_match_meta(const es_queryset *qs, size_t q, const char *folded, size_t n, const es_match_meta *meta);
/* Naive truth of one atom. */
bool es_reference_atom(const es_atom *a, const char *folded, size_t n);

/* Writes the tree with explicit parentheses into out (NUL-terminated,
 * truncated to cap). */
void es_query_format(const es_queryset *qs, const es_qnode *node, char *out, size_t cap);

#endif
