/* YAML helpers over libyaml's document API (see yaml_internal.h). Errors
 * always carry file:line (and column for syntax errors) and say what to do. */
#include "yaml_internal.h"

#include <errno.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/timeutil.h"

static int load(es_yaml *y, yaml_parser_t *p, const char *name, es_diag *d) {
  y->path = name;
  y->loaded = false;
  if (!yaml_parser_load(p, &y->doc)) {
    int rc = es_diag_set(d, ES_ECONFIG, "%s:%zu:%zu: YAML syntax error: %s%s%s", name, p->problem_mark.line + 1,
                         p->problem_mark.column + 1, p->problem ? p->problem : "unknown problem",
                         p->context ? " " : "", p->context ? p->context : "");
    yaml_parser_delete(p);
    return rc;
  }
  yaml_parser_delete(p);
  y->loaded = true;
  if (!yaml_document_get_root_node(&y->doc)) return es_diag_set(d, ES_ECONFIG, "%s: the file is empty", name);
  return 0;
}

int es__yaml_load(es_yaml *y, const char *path, es_diag *d) {
  memset(y, 0, sizeof *y);
  FILE *f = fopen(path, "rb");
  if (!f) return es_diag_set(d, ES_EIO, "%s: cannot open: %s", path, strerror(errno));
  /* A config or query file is written by people: anything larger than
   * ES_YAML_MAX_BYTES is a mistake (or a file replaced by another) and
   * would take minutes and gigabytes to parse. Refused before reading. */
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0 && sb.st_size > ES_YAML_MAX_BYTES) {
    fclose(f);
    return es_diag_set(d, ES_ELIMIT, "%s: %.1f MiB, over the %d MiB limit for a YAML file (250,000 queries with names take "
                                     "about 40 MiB)", path, (double)sb.st_size / 1048576.0, ES_YAML_MAX_BYTES >> 20);
  }
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_file(&p, f);
  int rc = load(y, &p, path, d);
  fclose(f);
  return rc;
}

int es__yaml_load_string(es_yaml *y, const char *name, const char *text, es_diag *d) {
  memset(y, 0, sizeof *y);
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
  return load(y, &p, name, d);
}

void es__yaml_free(es_yaml *y) {
  if (y && y->loaded) yaml_document_delete(&y->doc);
  if (y) y->loaded = false;
}

yaml_node_t *es__yaml_root(es_yaml *y) { return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL; }
yaml_node_t *es__yaml_node(es_yaml *y, int idx) { return yaml_document_get_node(&y->doc, idx); }

const char *es__yaml_scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return 99;
  size_t row[65];
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t cur = row[j];
      size_t sub = prev + (a[i - 1] != b[j - 1]);
      size_t del = row[j] + 1, ins = row[j - 1] + 1;
      row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
      prev = cur;
    }
  }
  return row[lb];
}

const char *es__suggest(const char *key, const char *const *candidates) {
  const char *best = NULL;
  size_t bd = 3;
  for (const char *const *c = candidates; *c; c++) {
    size_t dd = edit_distance(key, *c);
    if (dd < bd) {
      bd = dd;
      best = *c;
    }
  }
  return best;
}

int es__yaml_unknown_key(es_yaml *y, const yaml_node_t *key, const char *section, const char *const *known, es_diag *d) {
  const char *k = es__yaml_scalar(key);
  const char *hint = k ? es__suggest(k, known) : NULL;
  char list[512] = "";
  for (const char *const *c = known; *c; c++) {
    if (c != known) strncat(list, ", ", sizeof list - strlen(list) - 1);
    strncat(list, *c, sizeof list - strlen(list) - 1);
  }
  if (hint)
    return es_diag_set(d, ES_ECONFIG, "%s:%d: unknown key '%s' in %s: did you mean '%s'?", y->path, es__yaml_line(key),
                       k, section, hint);
  return es_diag_set(d, ES_ECONFIG, "%s:%d: unknown key '%s' in %s (known keys: %s)", y->path, es__yaml_line(key),
                     k ? k : "(not a string)", section, list);
}

int es__yaml_string(es_yaml *y, const yaml_node_t *v, const char *key, const char **out, es_diag *d) {
  const char *s = es__yaml_scalar(v);
  if (!s) return es_diag_set(d, ES_ECONFIG, "%s:%d: '%s' must be a string", y->path, es__yaml_line(v), key);
  *out = s;
  return 0;
}

int es__yaml_int(es_yaml *y, const yaml_node_t *v, const char *key, int64_t lo, int64_t hi, int64_t *out, es_diag *d) {
  const char *s = es__yaml_scalar(v);
  char *end;
  errno = 0;
  long long x = s ? strtoll(s, &end, 10) : 0;
  if (!s || !*s || *end || errno || x < lo || x > hi)
    return es_diag_set(d, ES_ECONFIG, "%s:%d: '%s' must be an integer between %lld and %lld, not '%s'", y->path,
                       es__yaml_line(v), key, (long long)lo, (long long)hi, s ? s : "(a list or map)");
  *out = x;
  return 0;
}

int es__yaml_double(es_yaml *y, const yaml_node_t *v, const char *key, double lo, double hi, double *out, es_diag *d) {
  const char *s = es__yaml_scalar(v);
  char *end;
  double x = s ? strtod(s, &end) : NAN;
  if (!s || !*s || *end || !(x >= lo && x <= hi))
    return es_diag_set(d, ES_ECONFIG, "%s:%d: '%s' must be a number between %g and %g, not '%s'", y->path,
                       es__yaml_line(v), key, lo, hi, s ? s : "(a list or map)");
  *out = x;
  return 0;
}

int es__yaml_bool(es_yaml *y, const yaml_node_t *v, const char *key, bool *out, es_diag *d) {
  const char *s = es__yaml_scalar(v);
  if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))) *out = true;
  else if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))) *out = false;
  else
    return es_diag_set(d, ES_ECONFIG, "%s:%d: '%s' must be true or false, not '%s'", y->path, es__yaml_line(v), key,
                       s ? s : "(a list or map)");
  return 0;
}

int es__yaml_duration(es_yaml *y, const yaml_node_t *v, const char *key, int64_t *ms, es_diag *d) {
  const char *s = es__yaml_scalar(v);
  if (!s || es_duration_parse(s, ms))
    return es_diag_set(d, ES_ECONFIG, "%s:%d: '%s' must be a duration such as 60s, 500ms, 5m or 1h, not '%s'", y->path,
                       es__yaml_line(v), key, s ? s : "(a list or map)");
  return 0;
}
