/* earshot error vocabulary.
 *
 * Every fallible function returns int: 0 on success, a negative ES_E* code on
 * failure. The codes and their messages come from one X-macro table, so
 * es_strerror() can never disagree with the enum. Functions that can fail on
 * user input (config, queries) also fill an es_diag with a message that says
 * what was wrong, where, and what to do. */
#ifndef EARSHOT_ERROR_H
#define EARSHOT_ERROR_H

#include <stddef.h>

#define ES_ERRNO_MAP(X)                                              \
  X(NOMEM, "out of memory")                                          \
  X(INVAL, "invalid argument")                                       \
  X(IO, "input/output error")                                        \
  X(CONFIG, "invalid configuration")                                 \
  X(QUERY, "invalid query")                                          \
  X(HYPERSCAN, "pattern compilation or scan failed")                 \
  X(RANGE, "value out of range")                                     \
  X(NOTFOUND, "not found")                                           \
  X(LIMIT, "limit exceeded")                                         \
  X(THREAD, "thread error")

enum es__errno_index {
  ES__ENONE = 0,
#define ES__X(name, msg) ES__E##name,
  ES_ERRNO_MAP(ES__X)
#undef ES__X
};

enum es_errno {
#define ES__X(name, msg) ES_E##name = -ES__E##name,
  ES_ERRNO_MAP(ES__X)
#undef ES__X
};

/* Message for an ES_E* code (or 0). Never NULL; static storage. */
const char *es_strerror(int err);

/* A user-facing diagnostic: filled by parsers on failure. `msg` is always
 * NUL-terminated; empty when nothing was reported. */
typedef struct es_diag {
  char msg[1024];
} es_diag;

/* printf-style: overwrite d->msg (d may be NULL). Returns `err` so callers
 * can write `return es_diag_set(d, ES_EQUERY, "...")`. */
int es_diag_set(es_diag *d, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
