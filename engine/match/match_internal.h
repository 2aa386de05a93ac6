/* Internals shared by the query parser, the compiler and the matchers. */
#ifndef EARSHOT_MATCH_INTERNAL_H
#define EARSHOT_MATCH_INTERNAL_H

#include <hs/hs.h>

#include "earshot/mem.h"
#include "earshot/query.h"

/* Postfix program ops: top 2 bits opcode, low 30 bits argument. */
enum { ES_OP_PUSH = 0, ES_OP_AND = 1, ES_OP_OR = 2, ES_OP_NOT = 3 };
#define ES_OP(code, arg) (((uint32_t)(code) << 30) | (uint32_t)(arg))
#define ES_OP_CODE(op) ((op) >> 30)
#define ES_OP_ARG(op) ((op) & 0x3fffffffu)
#define ES_OP_NEAR_FLAG (1u << 29) /* PUSH of a NEAR node's truth, not an atom's */

/* Atom registry used while compiling: dedupes atoms across all queries. */
typedef struct es_atom_table {
  es_atom *atoms;
  size_t n, cap;
  uint32_t *slots; /* open addressing: atom index + 1, 0 = empty */
  size_t nslots;
} es_atom_table;

/* An index entry: a query whose trigger set has the atom (its index with
 * ES_POSTING_HOLDS, else where its record starts in qeval), and an atom the
 * query requires besides (ES_ATOM_ALWAYS(qs) when there is none). */
typedef struct es_posting {
  uint32_t query, filter;
} es_posting;
/* In es_posting.query: the query holds whenever it is a candidate (only
 * atoms and ORs), so it is not evaluated, and the rest is its index. */
#define ES_POSTING_HOLDS (1u << 31)
/* In es_posting.query: the query's trigger set is this one atom, so it is
 * reached at most once per text and needs no stamp. */
#define ES_POSTING_ONCE (1u << 30)
#define ES_POSTING_QUERY (ES_POSTING_ONCE - 1)
/* A bit past the atoms' words that is set for every text. */
#define ES_ATOM_ALWAYS(qs) ((uint32_t)(((qs)->natoms + 63) / 64 * 64))

/* What matching needs of an atom, in 16 bytes: for the callback, and its
 * postings in the index (each thread keeps a copy with its own index). */
typedef struct es_atom_cb {
  uint32_t post, npost; /* postings: the index's list[post .. post + npost) */
  uint32_t len;
  uint8_t flags; /* ES_CB_* */
} es_atom_cb;
enum { ES_CB_REGEX = 1, ES_CB_WILD = 2, ES_CB_LEFT = 4, ES_CB_RIGHT = 8, ES_CB_POSITIONAL = 16, ES_CB_PHRASE_FIRST = 32 };

struct es_queryset {
  es_arena arena;          /* AST nodes and strings */
  es_query *queries;
  size_t nqueries;
  es_atom *atoms;
  size_t natoms;
  char **patterns;         /* Hyperscan expression per atom; NULL for phrases */
  uint32_t *phrase_words;  /* CSR: the word atoms of phrase atom p are */
  uint32_t *phrase_off;    /*   phrase_words[phrase_off[p] .. phrase_off[p+1]) */
  uint32_t *first_off;     /* CSR: phrases whose first word is atom a are */
  uint32_t *first_of;      /*   first_of[first_off[a] .. first_off[a+1]) */
  hs_database_t *db;       /* NULL when there are no atoms */
  uint32_t *atom_q_off;    /* CSR: queries that mention atom a are */
  es_posting *atom_q;      /*   atom_q[atom_q_off[a] .. atom_q_off[a+1]) */
  es_atom_cb *cb;          /* per atom, for the match callback */
  uint32_t *qeval_off;     /* per query: where its conjunctive form starts in qeval */
  uint32_t *qeval;
  size_t max_postings;     /* bound on any index's postings: the queries' atom nodes */
  uint32_t *uses;          /* per atom: how many times the queries use it */
  uint32_t *always;        /* queries true on a text with no atom (pure NOT) */
  size_t nalways;
  const es_qnode **nears;  /* every NEAR node, numbered per query in order */
  size_t nnears;
  bool accent_insensitive; /* atoms folded without accents; texts must be too */
  uint32_t *id_slot;       /* query ids: open addressing, query index + 1, 0 empty */
  size_t id_mask;
  uint32_t *fields;        /* field-filter atoms, evaluated per mention from metadata */
  size_t nfields;
};

/* Parses one expression into a tree allocated in `arena`, registering atoms
 * in `tab`. On error returns NULL and fills diag with the id and column. */
es_qnode *es__query_parse(const char *id, const char *expr, bool strip_marks, es_arena *arena, es_atom_table *tab,
                          int *err, es_diag *diag);
void es__atom_table_free(es_atom_table *tab);
/* Fills a field filter atom's field, comparison and value from its text. */
void es__parse_field(es_atom *a);
/* Returns the atom index for (kind, folded text), adding it if new; takes
 * ownership of `text`. Negative on OOM. */
long es__atom_intern(es_atom_table *tab, int kind, char *text, size_t len);
/* Whether the code point is a word character in Hyperscan's UCP sense
 * (letters, numbers, '_'). ASCII inline; the rest from Unicode categories. */
bool es__is_word_cp_multi(int32_t cp);
extern const bool es__word_ascii[128];
static inline bool es__is_word_cp(int32_t cp) {
  if (cp >= 0 && cp < 0x80) return (uint32_t)((cp | 0x20) - 'a') < 26u || (uint32_t)(cp - '0') < 10u || cp == '_';
  return es__is_word_cp_multi(cp);
}
/* Whether the code point is an "other symbol" (emoji and the like): one
 * token on its own for proximity. */
bool es__is_symbol_cp(int32_t cp);
/* Tokens for proximity (NEAR, "..."~n): maximal runs of word characters,
 * and each symbol code point. Writes up to `cap` token start offsets and
 * returns the number of tokens. Punctuation and spaces are not tokens. */
size_t es__tokens(const char *s, size_t n, uint32_t *starts, size_t cap);
/* Decodes the code point at s[i]; sets *len (1 and -1 for an invalid
 * sequence). ASCII inline. */
int32_t es__utf8_decode_multi(const char *s, size_t n, size_t i, size_t *len);
static inline int32_t es__utf8_decode(const char *s, size_t n, size_t i, size_t *len) {
  if ((unsigned char)s[i] < 0x80) {
    *len = 1;
    return (unsigned char)s[i];
  }
  return es__utf8_decode_multi(s, n, i, len);
}
/* Builds the atom -> index entries table (CSR: off[a] .. off[a+1] in list)
 * over each query's trigger set, chosen by `cost` per atom (queryset.c). */
void es__index_build(const es_queryset *qs, const uint64_t *cost, uint64_t *seen, uint32_t *fill, uint32_t *off,
                     es_posting *list, uint32_t *always, size_t *nalways);
/* Conjunctive forms (qeval): ES_EVAL_PROG marks a query evaluated by its
 * program; ES_EVAL_NEG a negated literal. */
#define ES_EVAL_PROG (1u << 31)
#define ES_EVAL_NEG (1u << 31)
/* Evaluates a postfix program against an atom bitmap and a NEAR bitmap. */
bool es__prog_eval(const uint32_t *prog, uint32_t n, const uint64_t *bits, const uint64_t *nbits);

#endif
