/* Loading a YAML query file into es_query_def records and compiling them.
 *
 *   queries:
 *     - id: card_fees
 *       name: Card fee complaints
 *       query: '(card OR cards) AND (fee OR fees)'
 *       alert:
 *         negative_at_least: 20
 *
 * Errors name the file, the line, the query id and, for expression errors,
 * the column inside the expression. Called at startup and on reload. */
#include <stdlib.h>
#include <string.h>

#include "../core/yaml_internal.h"
#include "earshot/mem.h"
#include "earshot/query.h"

static const char *const query_keys[] = {"id", "name", "query", "alert", NULL};
static const char *const alert_keys[] = {"negative_at_least", "count_at_least", NULL};

static int load_alert(es_yaml *y, yaml_node_t *m, es_query_def *q, es_diag *d) {
  if (m->type != YAML_MAPPING_NODE)
    return es_diag_set(d, ES_EQUERY, "%s:%d: 'alert' of query '%s' must be a map (negative_at_least: N)", y->path,
                       es__yaml_line(m), q->id ? q->id : "?");
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    yaml_node_t *k = es__yaml_node(y, p->key), *v = es__yaml_node(y, p->value);
    const char *ks = es__yaml_scalar(k);
    int rc;
    if (ks && !strcmp(ks, "negative_at_least")) rc = es__yaml_int(y, v, ks, 1, INT64_MAX, &q->negative_at_least, d);
    else if (ks && !strcmp(ks, "count_at_least")) rc = es__yaml_int(y, v, ks, 1, INT64_MAX, &q->count_at_least, d);
    else rc = es__yaml_unknown_key(y, k, "alert", alert_keys, d);
    if (rc) return ES_EQUERY;
  }
  return 0;
}

/* Reads the query definitions of a YAML file into *defs_out (strings point
 * into y, which the caller frees). 0 or an error code with diag. */
static int load_defs(es_yaml *y, const char *path, es_query_def **defs_out, size_t *n_out, es_diag *d) {
  es_query_def *defs = NULL;
  int rc0 = 0, *err = &rc0;
  yaml_node_t *root = es__yaml_root(y), *list = NULL;
  if (root->type == YAML_MAPPING_NODE) {
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
      yaml_node_t *k = es__yaml_node(y, p->key);
      const char *ks = es__yaml_scalar(k);
      static const char *const top[] = {"queries", NULL};
      if (ks && !strcmp(ks, "queries")) list = es__yaml_node(y, p->value);
      else {
        *err = es__yaml_unknown_key(y, k, "the query file", top, d) ? ES_EQUERY : 0;
        goto done;
      }
    }
  }
  if (!list || list->type != YAML_SEQUENCE_NODE) {
    *err = es_diag_set(d, ES_EQUERY, "%s: expected a top-level 'queries:' list of {id, name, query}", path);
    goto done;
  }
  size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
  if (n > ES_QUERY_MAX_QUERIES) {
    *err = es_diag_set(d, ES_ELIMIT, "%s: %zu queries, more than the %d one rule set may hold (at 100,000 "
                                     "queries the engine needs about 1 GB); split them across processes",
                       path, n, ES_QUERY_MAX_QUERIES);
    goto done;
  }
  defs = es_calloc(n ? n : 1, sizeof *defs);
  if (!defs) {
    *err = es_diag_set(d, ES_ENOMEM, "out of memory loading %s", path);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    yaml_node_t *item = es__yaml_node(y, list->data.sequence.items.start[i]);
    es_query_def *q = &defs[i];
    q->file = path;
    q->line = es__yaml_line(item);
    if (item->type != YAML_MAPPING_NODE) {
      *err = es_diag_set(d, ES_EQUERY, "%s:%d: each query must be a map with id, name and query", path, q->line);
      goto done;
    }
    for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
      yaml_node_t *k = es__yaml_node(y, p->key), *v = es__yaml_node(y, p->value);
      const char *ks = es__yaml_scalar(k);
      int rc;
      if (ks && !strcmp(ks, "id")) rc = es__yaml_string(y, v, ks, &q->id, d);
      else if (ks && !strcmp(ks, "name")) rc = es__yaml_string(y, v, ks, &q->name, d);
      else if (ks && !strcmp(ks, "query")) {
        rc = es__yaml_string(y, v, ks, &q->expr, d);
        q->line = es__yaml_line(v);
      } else if (ks && !strcmp(ks, "alert")) rc = load_alert(y, v, q, d);
      else rc = es__yaml_unknown_key(y, k, "a query", query_keys, d);
      if (rc) {
        *err = ES_EQUERY;
        goto done;
      }
    }
    if (!q->id) {
      *err = es_diag_set(d, ES_EQUERY, "%s:%d: this query has no 'id'", path, es__yaml_line(item));
      goto done;
    }
  }
  *defs_out = defs;
  *n_out = n;
  return 0;
done:
  es_free(defs);
  return *err ? *err : ES_EQUERY;
}

es_queryset *es_queryset_load(const char *path, int *err, es_diag *d) { return es_queryset_load_opts(path, NULL, err, d); }

es_queryset *es_queryset_load_opts(const char *path, const es_query_opts *o, int *err, es_diag *d) {
  es_yaml y;
  es_query_def *defs = NULL;
  es_queryset *qs = NULL;
  size_t n = 0;
  *err = es__yaml_load(&y, path, d);
  if (*err) return NULL;
  *err = load_defs(&y, path, &defs, &n, d);
  if (!*err) qs = es_queryset_compile_opts(defs, n, o, err, d);
  es_free(defs);
  es__yaml_free(&y);
  return qs;
}

typedef struct id_use {
  const char *id;
  int line;
} id_use;

static int by_id(const void *x, const void *y) {
  const id_use *a = x, *b = y;
  int c = strcmp(a->id, b->id);
  return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* Every query id used again, reported at the later use. */
static int report_duplicates(const char *path, const es_query_def *defs, size_t n,
                             void (*report)(void *ctx, const char *msg), void *ctx) {
  id_use *u = es_malloc((n ? n : 1) * sizeof *u);
  if (!u) return 0;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (defs[i].id) u[m++] = (id_use){defs[i].id, defs[i].line};
  qsort(u, m, sizeof *u, by_id);
  int errors = 0;
  for (size_t i = 1, first = 0; i < m; i++) {
    if (strcmp(u[first].id, u[i].id)) {
      first = i;
      continue;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "%s:%d: query id '%s' is used twice (first at line %d); ids must be unique", path,
             u[i].line, u[i].id, u[first].line);
    report(ctx, msg);
    errors++;
  }
  es_free(u);
  return errors;
}

int es_queryset_check(const char *path, void (*report)(void *ctx, const char *msg), void *ctx, size_t *nqueries,
                      size_t *natoms, es_diag *d) {
  es_yaml y;
  es_query_def *defs = NULL;
  size_t n = 0;
  int err = es__yaml_load(&y, path, d);
  if (err) return -1;
  if (load_defs(&y, path, &defs, &n, d)) {
    es__yaml_free(&y);
    return -1;
  }
  /* Together first: a valid file (the usual case) costs one compile. */
  es_diag all_d = {{0}};
  es_queryset *all = es_queryset_compile(defs, n, &err, &all_d);
  int errors = 0;
  if (all) {
    *nqueries = es_queryset_count(all);
    *natoms = es_queryset_atom_count(all);
    es_queryset_destroy(all);
  } else {
    for (size_t i = 0; i < n; i++) { /* each query on its own: every error, not just the first */
      es_diag qd = {{0}};
      es_queryset *one = es_queryset_compile(&defs[i], 1, &err, &qd);
      if (!one) {
        report(ctx, qd.msg);
        errors++;
      }
      es_queryset_destroy(one);
    }
    errors += report_duplicates(path, defs, n, report, ctx);
    if (!errors) { /* only the set as a whole fails (its one database) */
      report(ctx, all_d.msg);
      errors++;
    }
  }
  es_free(defs);
  es__yaml_free(&y);
  return errors;
}
