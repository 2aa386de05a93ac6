/* The situation rules' matcher (sitmatch.c), used by situation.c. */
#ifndef EARSHOT_TRIAGE_INTERNAL_H
#define EARSHOT_TRIAGE_INTERNAL_H

#include "earshot/query.h"

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
/* The matched words of rule `rule` (spans of the text, or a regex's pattern). */
size_t es__sitm_evidence(const es_sitm *m, es_sitm_rt *rt, size_t rule, const char **w, size_t *l, size_t cap);

#endif
