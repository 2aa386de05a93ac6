/* A thin layer over libyaml's document API for the config and query files:
 * load with line/column errors, typed scalar access, and "did you mean"
 * hints for unknown keys. Used at startup and on reload; not thread-safe per
 * document. */
#ifndef EARSHOT_YAML_INTERNAL_H
#define EARSHOT_YAML_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "earshot/error.h"

typedef struct es_yaml {
  yaml_document_t doc;
  const char *path;
  bool loaded;
} es_yaml;

/* The largest YAML file read (config and query files): 64 MiB. */
#define ES_YAML_MAX_BYTES (64 << 20)
int es__yaml_load(es_yaml *y, const char *path, es_diag *d);
int es__yaml_load_string(es_yaml *y, const char *name, const char *text, es_diag *d);
void es__yaml_free(es_yaml *y);
yaml_node_t *es__yaml_root(es_yaml *y);
yaml_node_t *es__yaml_node(es_yaml *y, int idx);
static inline int es__yaml_line(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }
static inline int es__yaml_col(const yaml_node_t *n) { return (int)n->start_mark.column + 1; }
/* Scalar text, or NULL when the node is not a scalar. */
const char *es__yaml_scalar(const yaml_node_t *n);
/* Closest candidate within edit distance 2 of `key`, or NULL. */
const char *es__suggest(const char *key, const char *const *candidates);
/* "file:line: <key> ... did you mean 'x'?" for an unknown key. */
int es__yaml_unknown_key(es_yaml *y, const yaml_node_t *key, const char *section, const char *const *known, es_diag *d);
/* Typed reads with file:line errors naming the key. */
int es__yaml_int(es_yaml *y, const yaml_node_t *v, const char *key, int64_t lo, int64_t hi, int64_t *out, es_diag *d);
int es__yaml_double(es_yaml *y, const yaml_node_t *v, const char *key, double lo, double hi, double *out, es_diag *d);
int es__yaml_bool(es_yaml *y, const yaml_node_t *v, const char *key, bool *out, es_diag *d);
int es__yaml_duration(es_yaml *y, const yaml_node_t *v, const char *key, int64_t *ms, es_diag *d);
int es__yaml_string(es_yaml *y, const yaml_node_t *v, const char *key, const char **out, es_diag *d);

#endif
