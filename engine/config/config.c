/* Configuration loading (see include/earshot/config.h). The YAML is walked
 * section by section; each section lists its known keys, so an unknown or
 * misspelt key is an error with file:line and a "did you mean" hint.
 * Main thread, at startup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/yaml_internal.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/mem.h"
#include "earshot/timeutil.h"

void es_config_default(es_config *c) {
  memset(c, 0, sizeof *c);
  es_decode_opts_default(&c->decode);
  es_detect_params_default(&c->detect);
  c->windows.size_ms[0] = 60000;
  c->windows.nsizes = 1;
  c->windows.lateness_ms = 10000;
  c->windows.idle_flush_ms = 30000;
  c->workers = 1;
  c->sentiment_detect_lang = true;
  c->progress = true;
  c->reload = true;
  c->kafka.commit_interval_ms = 1000;
  c->http.history = 120;
  c->http.max_connections = 64;
  c->http.head_timeout_ms = 10000;
}

int es_config_add_topic(es_config *c, const char *topic, es_diag *d) {
  if (c->kafka.ntopics == ES_MAX_TOPICS) return es_diag_set(d, ES_ECONFIG, "at most %d input topics", ES_MAX_TOPICS);
  if (!*topic) return es_diag_set(d, ES_ECONFIG, "an input topic name is empty");
  return es_config_set_str(&c->kafka.topics[c->kafka.ntopics++], topic);
}

int es_config_set_str(char **slot, const char *v) {
  char *n = v ? es_strdup(v) : NULL;
  if (v && !n) return ES_ENOMEM;
  es_free(*slot);
  *slot = n;
  return 0;
}

int es_config_set_layers(es_config *c, const char *list, es_diag *d) {
  for (int i = 0; i < c->nsentiment_layers; i++) es_free(c->sentiment_layers[i]);
  c->nsentiment_layers = 0;
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 0) return es_diag_set(d, ES_ECONFIG, "sentiment layers: an empty name in '%s'", list);
    if (c->nsentiment_layers == ES_SENTIMENT_MAX_LAYERS)
      return es_diag_set(d, ES_ECONFIG, "at most %d sentiment layers", ES_SENTIMENT_MAX_LAYERS);
    char *name = es_malloc(n + 1);
    if (!name) return ES_ENOMEM;
    memcpy(name, p, n);
    name[n] = 0;
    c->sentiment_layers[c->nsentiment_layers++] = name;
    p += n + (e != NULL);
  }
  return 0;
}

void es_config_sentiment_opts(const es_config *c, es_sentiment_opts *o) {
  memset(o, 0, sizeof *o);
  for (int i = 0; i < c->nsentiment_layers; i++) o->layers[o->nlayers++] = c->sentiment_layers[i];
  for (int i = 0; i < c->nsentiment_files; i++) o->files[o->nfiles++] = c->sentiment_files[i];
  o->default_lang = c->sentiment_default_lang;
}

void es_config_free(es_config *c) {
  if (!c) return;
  for (int i = 0; i < c->nsentiment_layers; i++) es_free(c->sentiment_layers[i]);
  for (int i = 0; i < c->nsentiment_files; i++) es_free(c->sentiment_files[i]);
  es_free(c->sentiment_default_lang);
  es_free(c->input);
  es_free(c->queries);
  es_free(c->output);
  es_free(c->enriched_output);
  es_free(c->triage);
  es_free(c->triage_output);
  es_free(c->alerts_output);
  es_free(c->dlq_output);
  for (int i = 0; i < ES_F_COUNT; i++) es_free(c->fields[i]);
  es_free(c->http.listen);
  es_free(c->http.token);
  es_free(c->http.token_file);
  es_kafka_config *k = &c->kafka;
  es_free(k->brokers);
  es_free(k->group);
  es_free(k->windows_topic);
  es_free(k->alerts_topic);
  es_free(k->enriched_topic);
  es_free(k->dlq_topic);
  es_free(k->triage_topic);
  for (int i = 0; i < k->ntopics; i++) es_free(k->topics[i]);
  for (int i = 0; i < k->nprops; i++) {
    es_free(k->props[i][0]);
    es_free(k->props[i][1]);
  }
  memset(c, 0, sizeof *c);
}

static int set_sizes(es_config *c, const int64_t *sizes, int n, const char *where, es_diag *d) {
  if (n < 1 || n > ES_MAX_WINDOW_SIZES)
    return es_diag_set(d, ES_ECONFIG, "%s: give between 1 and %d window sizes", where, ES_MAX_WINDOW_SIZES);
  for (int i = 0; i < n; i++) {
    if (sizes[i] < 1000 || sizes[i] % 1000)
      return es_diag_set(d, ES_ECONFIG, "%s: window sizes must be whole seconds of at least 1s", where);
    for (int k = 0; k < i; k++)
      if (sizes[k] >= sizes[i])
        return es_diag_set(d, ES_ECONFIG, "%s: list window sizes in increasing order without repeats", where);
  }
  memcpy(c->windows.size_ms, sizes, (size_t)n * sizeof *sizes);
  c->windows.nsizes = n;
  return 0;
}

int es_config_set_windows(es_config *c, const char *list, es_diag *d) {
  int64_t sizes[ES_MAX_WINDOW_SIZES + 1];
  int n = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (n > ES_MAX_WINDOW_SIZES) break;
    if (es_duration_parse(tok, &sizes[n++]))
      return es_diag_set(d, ES_ECONFIG, "--window: '%s' is not a duration such as 60s, 5m or 1h", tok);
  }
  return set_sizes(c, sizes, n, "--window", d);
}

typedef struct ctx {
  es_yaml *y;
  es_config *c;
  es_diag *d;
} ctx;

#define FOR_PAIRS(node, k, v)                                                                       \
  for (yaml_node_pair_t *p_ = (node)->data.mapping.pairs.start; p_ < (node)->data.mapping.pairs.top; p_++) \
    for (yaml_node_t *k = es__yaml_node(x->y, p_->key), *v = es__yaml_node(x->y, p_->value); k; k = NULL)

static int need_map(ctx *x, yaml_node_t *n, const char *what) {
  if (n->type == YAML_MAPPING_NODE) return 0;
  return es_diag_set(x->d, ES_ECONFIG, "%s:%d: '%s' must be a map of settings", x->y->path, es__yaml_line(n), what);
}

static int str_setting(ctx *x, yaml_node_t *v, const char *key, char **slot) {
  const char *s;
  int rc = es__yaml_string(x->y, v, key, &s, x->d);
  if (rc) return rc;
  return es_config_set_str(slot, s);
}

/* A setting that is one of two words: *second = whether it is the second. */
static int choice(ctx *x, yaml_node_t *v, const char *what, const char *first, const char *second_word, bool *second) {
  const char *s = es__yaml_scalar(v);
  if (s && (!strcmp(s, first) || !strcmp(s, second_word))) {
    *second = !strcmp(s, second_word);
    return 0;
  }
  return es_diag_set(x->d, ES_ECONFIG, "%s:%d: %s must be %s or %s", x->y->path, es__yaml_line(v), what, first,
                     second_word);
}

static int load_output(ctx *x, yaml_node_t *m) {
  static const char *const keys[] = {"windows", "enriched", "alerts", "dlq", "triage", "format", "empty_windows", NULL};
  if (need_map(x, m, "output")) return ES_ECONFIG;
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    int rc;
    if (!ks) rc = es__yaml_unknown_key(x->y, k, "output", keys, x->d);
    else if (!strcmp(ks, "windows")) rc = str_setting(x, v, ks, &x->c->output);
    else if (!strcmp(ks, "enriched")) rc = str_setting(x, v, ks, &x->c->enriched_output);
    else if (!strcmp(ks, "triage")) rc = str_setting(x, v, ks, &x->c->triage_output);
    else if (!strcmp(ks, "alerts")) rc = str_setting(x, v, ks, &x->c->alerts_output);
    else if (!strcmp(ks, "dlq")) rc = str_setting(x, v, ks, &x->c->dlq_output);
    else if (!strcmp(ks, "empty_windows")) rc = es__yaml_bool(x->y, v, ks, &x->c->windows.emit_empty, x->d);
    else if (!strcmp(ks, "format")) rc = choice(x, v, "'format'", "json", "pretty", &x->c->pretty);
    else rc = es__yaml_unknown_key(x->y, k, "output", keys, x->d);
    if (rc) return ES_ECONFIG;
  }
  return 0;
}

static int load_fields(ctx *x, yaml_node_t *m) {
  if (need_map(x, m, "fields")) return ES_ECONFIG;
  static const char *const keys[ES_F_COUNT + 1] = {"id", "ts", "text", "author", "followers", "lang", "source",
                                                   "in_reply_to", NULL};
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    int f = -1;
    for (int i = 0; ks && i < ES_F_COUNT; i++)
      if (!strcmp(ks, es_field_names[i])) f = i;
    if (f < 0) return es__yaml_unknown_key(x->y, k, "fields", keys, x->d);
    if (str_setting(x, v, ks, &x->c->fields[f])) return ES_ECONFIG;
    if (!*x->c->fields[f] || strstr(x->c->fields[f], "..") || x->c->fields[f][0] == '.' ||
        x->c->fields[f][strlen(x->c->fields[f]) - 1] == '.')
      return es_diag_set(x->d, ES_ECONFIG, "%s:%d: field path '%s' must be dotted keys such as data.text", x->y->path,
                         es__yaml_line(v), x->c->fields[f]);
  }
  return 0;
}

static int load_windows(ctx *x, yaml_node_t *m) {
  static const char *const keys[] = {"sizes", "size", "lateness", "idle_flush", "early_updates", NULL};
  if (need_map(x, m, "windows")) return ES_ECONFIG;
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    int rc;
    char where[512];
    snprintf(where, sizeof where, "%s:%d", x->y->path, es__yaml_line(v));
    if (!ks) rc = es__yaml_unknown_key(x->y, k, "windows", keys, x->d);
    else if (!strcmp(ks, "size")) {
      int64_t s;
      rc = es__yaml_duration(x->y, v, ks, &s, x->d) || set_sizes(x->c, &s, 1, where, x->d);
    } else if (!strcmp(ks, "sizes")) {
      int64_t sizes[ES_MAX_WINDOW_SIZES];
      int n = 0;
      if (v->type != YAML_SEQUENCE_NODE) {
        rc = es_diag_set(x->d, ES_ECONFIG, "%s: 'sizes' must be a list such as [60s, 1h]", where);
      } else {
        rc = 0;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top && !rc; it++) {
          if (n == ES_MAX_WINDOW_SIZES) {
            rc = es_diag_set(x->d, ES_ECONFIG, "%s: at most %d window sizes", where, ES_MAX_WINDOW_SIZES);
            break;
          }
          rc = es__yaml_duration(x->y, es__yaml_node(x->y, *it), "sizes", &sizes[n++], x->d);
        }
        if (!rc) rc = set_sizes(x->c, sizes, n, where, x->d);
      }
    } else if (!strcmp(ks, "lateness")) rc = es__yaml_duration(x->y, v, ks, &x->c->windows.lateness_ms, x->d);
    else if (!strcmp(ks, "idle_flush")) rc = es__yaml_duration(x->y, v, ks, &x->c->windows.idle_flush_ms, x->d);
    else if (!strcmp(ks, "early_updates")) {
      rc = es__yaml_duration(x->y, v, ks, &x->c->windows.early_ms, x->d);
      if (!rc && x->c->windows.early_ms && x->c->windows.early_ms < ES_EARLY_MIN_MS)
        rc = es_diag_set(x->d, ES_ECONFIG, "%s: 'early_updates' must be 0 (off) or at least %dms", where, ES_EARLY_MIN_MS);
    }
    else rc = es__yaml_unknown_key(x->y, k, "windows", keys, x->d);
    if (rc) return ES_ECONFIG;
  }
  return 0;
}

static int load_limits(ctx *x, yaml_node_t *m) {
  static const char *const keys[] = {"max_text_bytes", "min_ts", "max_ts", NULL};
  if (need_map(x, m, "limits")) return ES_ECONFIG;
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    int rc;
    if (!ks) rc = es__yaml_unknown_key(x->y, k, "limits", keys, x->d);
    else if (!strcmp(ks, "max_text_bytes")) {
      int64_t n;
      rc = es__yaml_int(x->y, v, ks, 16, 1 << 20, &n, x->d);
      x->c->decode.max_text_bytes = (size_t)n;
    } else if (!strcmp(ks, "min_ts") || !strcmp(ks, "max_ts")) {
      const char *s = es__yaml_scalar(v);
      int64_t *dst = ks[1] == 'i' ? &x->c->decode.ts_min_ms : &x->c->decode.ts_max_ms;
      rc = !s || es_time_parse_rfc3339(s, strlen(s), dst)
               ? es_diag_set(x->d, ES_ECONFIG, "%s:%d: '%s' must be an RFC 3339 time such as 2000-01-01T00:00:00Z",
                             x->y->path, es__yaml_line(v), ks)
               : 0;
    } else rc = es__yaml_unknown_key(x->y, k, "limits", keys, x->d);
    if (rc) return ES_ECONFIG;
  }
  return 0;
}

/* A YAML list of strings into slots (copied). */
static int str_list(ctx *x, yaml_node_t *v, const char *key, char **slots, int max, int *n) {
  if (v->type != YAML_SEQUENCE_NODE)
    return es_diag_set(x->d, ES_ECONFIG, "%s:%d: '%s' must be a list such as [a, b]", x->y->path, es__yaml_line(v), key);
  for (int i = 0; i < *n; i++) es_free(slots[i]);
  *n = 0;
  for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
    const char *t;
    int rc = es__yaml_string(x->y, es__yaml_node(x->y, *it), key, &t, x->d);
    if (rc) return rc;
    if (*n == max) return es_diag_set(x->d, ES_ECONFIG, "%s:%d: at most %d entries in '%s'", x->y->path, es__yaml_line(v), max, key);
    if (!(slots[(*n)++] = es_strdup(t))) return ES_ENOMEM;
  }
  return 0;
}

static int load_sentiment(ctx *x, yaml_node_t *m) {
  static const char *const keys[] = {"layers", "files", "default_lang", "detect_lang", NULL};
  if (need_map(x, m, "sentiment")) return ES_ECONFIG;
  es_config *c = x->c;
  FOR_PAIRS(m, key, v) {
    const char *ks = es__yaml_scalar(key);
    int rc = 0;
    if (!ks) rc = es__yaml_unknown_key(x->y, key, "sentiment", keys, x->d);
    else if (!strcmp(ks, "layers"))
      rc = str_list(x, v, ks, c->sentiment_layers, ES_SENTIMENT_MAX_LAYERS, &c->nsentiment_layers);
    else if (!strcmp(ks, "files"))
      rc = str_list(x, v, ks, c->sentiment_files, ES_SENTIMENT_MAX_LAYERS, &c->nsentiment_files);
    else if (!strcmp(ks, "default_lang")) rc = str_setting(x, v, ks, &c->sentiment_default_lang);
    else if (!strcmp(ks, "detect_lang")) rc = es__yaml_bool(x->y, v, ks, &c->sentiment_detect_lang, x->d);
    else rc = es__yaml_unknown_key(x->y, key, "sentiment", keys, x->d);
    if (rc) return ES_ECONFIG;
  }
  return 0;
}

static int load_detection(ctx *x, yaml_node_t *m) {
  if (need_map(x, m, "detection")) return ES_ECONFIG;
  es_detect_params *p = &x->c->detect;
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    const es_detect_param_info *pi = es_detect_param_find(ks);
    int rc;
    if (!pi) rc = es__yaml_unknown_key(x->y, k, "detection", es_detect_param_names(), x->d);
    else if (pi->type == 'i')
      rc = es__yaml_int(x->y, v, ks, (int64_t)pi->lo, (int64_t)pi->hi, (int64_t *)(void *)((char *)p + pi->offset), x->d);
    else rc = es__yaml_double(x->y, v, ks, pi->lo, pi->hi, (double *)(void *)((char *)p + pi->offset), x->d);
    if (rc) return ES_ECONFIG;
  }
  return 0;
}

static int load_kafka(ctx *x, yaml_node_t *m) {
  static const char *const keys[] = {"brokers", "topics", "group", "windows_topic", "alerts_topic", "enriched_topic",
                                     "dlq_topic", "triage_topic", "commit_interval", "flush_on_shutdown", "exactly_once", "properties",
                                     NULL};
  if (need_map(x, m, "kafka")) return ES_ECONFIG;
  es_kafka_config *k = &x->c->kafka;
  FOR_PAIRS(m, key, v) {
    const char *ks = es__yaml_scalar(key);
    int rc = 0;
    if (!ks) rc = es__yaml_unknown_key(x->y, key, "kafka", keys, x->d);
    else if (!strcmp(ks, "brokers")) rc = str_setting(x, v, ks, &k->brokers);
    else if (!strcmp(ks, "group")) rc = str_setting(x, v, ks, &k->group);
    else if (!strcmp(ks, "windows_topic")) rc = str_setting(x, v, ks, &k->windows_topic);
    else if (!strcmp(ks, "alerts_topic")) rc = str_setting(x, v, ks, &k->alerts_topic);
    else if (!strcmp(ks, "enriched_topic")) rc = str_setting(x, v, ks, &k->enriched_topic);
    else if (!strcmp(ks, "dlq_topic")) rc = str_setting(x, v, ks, &k->dlq_topic);
    else if (!strcmp(ks, "triage_topic")) rc = str_setting(x, v, ks, &k->triage_topic);
    else if (!strcmp(ks, "commit_interval")) rc = es__yaml_duration(x->y, v, ks, &k->commit_interval_ms, x->d);
    else if (!strcmp(ks, "flush_on_shutdown")) rc = es__yaml_bool(x->y, v, ks, &k->flush_on_shutdown, x->d);
    else if (!strcmp(ks, "exactly_once")) rc = es__yaml_bool(x->y, v, ks, &k->exactly_once, x->d);
    else if (!strcmp(ks, "topics")) {
      if (v->type != YAML_SEQUENCE_NODE) {
        rc = es_diag_set(x->d, ES_ECONFIG, "%s:%d: 'topics' must be a list such as [mentions]", x->y->path, es__yaml_line(v));
      } else {
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top && !rc; it++) {
          const char *t;
          rc = es__yaml_string(x->y, es__yaml_node(x->y, *it), "topics", &t, x->d);
          if (!rc) rc = es_config_add_topic(x->c, t, x->d);
        }
      }
    } else if (!strcmp(ks, "properties")) {
      if (need_map(x, v, "kafka.properties")) return ES_ECONFIG;
      for (yaml_node_pair_t *pp = v->data.mapping.pairs.start; pp < v->data.mapping.pairs.top && !rc; pp++) {
        const char *pk = es__yaml_scalar(es__yaml_node(x->y, pp->key));
        const char *pv = es__yaml_scalar(es__yaml_node(x->y, pp->value));
        if (!pk || !pv) {
          rc = es_diag_set(x->d, ES_ECONFIG, "%s:%d: kafka.properties must map librdkafka property names to values",
                           x->y->path, es__yaml_line(v));
        } else if (k->nprops == ES_MAX_KAFKA_PROPS) {
          rc = es_diag_set(x->d, ES_ECONFIG, "%s:%d: at most %d kafka.properties", x->y->path, es__yaml_line(v),
                           ES_MAX_KAFKA_PROPS);
        } else {
          k->props[k->nprops][0] = es_strdup(pk);
          k->props[k->nprops][1] = es_strdup(pv);
          k->nprops++;
        }
      }
    } else rc = es__yaml_unknown_key(x->y, key, "kafka", keys, x->d);
    if (rc) return ES_ECONFIG;
  }
  return 0;
}

static int load_http(ctx *x, yaml_node_t *m) {
  static const char *const keys[] = {"listen", "token", "token_file", "history", "max_connections", "head_timeout",
                                     NULL};
  if (need_map(x, m, "http")) return ES_ECONFIG;
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    int rc;
    int64_t n;
    if (!ks) rc = es__yaml_unknown_key(x->y, k, "http", keys, x->d);
    else if (!strcmp(ks, "listen")) rc = str_setting(x, v, ks, &x->c->http.listen);
    else if (!strcmp(ks, "token")) rc = str_setting(x, v, ks, &x->c->http.token);
    else if (!strcmp(ks, "token_file")) rc = str_setting(x, v, ks, &x->c->http.token_file);
    else if (!strcmp(ks, "history")) {
      rc = es__yaml_int(x->y, v, ks, 1, 100000, &n, x->d);
      x->c->http.history = (int)n;
    } else if (!strcmp(ks, "head_timeout")) {
      const char *t;
      rc = es__yaml_string(x->y, v, ks, &t, x->d);
      if (!rc && (es_duration_parse(t, &x->c->http.head_timeout_ms) || x->c->http.head_timeout_ms <= 0))
        rc = es_diag_set(x->d, ES_ECONFIG, "%s:%d: http.head_timeout must be a duration such as 10s", x->y->path,
                         es__yaml_line(v));
    } else if (!strcmp(ks, "max_connections")) {
      rc = es__yaml_int(x->y, v, ks, 1, 100000, &n, x->d);
      x->c->http.max_connections = (int)n;
    } else rc = es__yaml_unknown_key(x->y, k, "http", keys, x->d);
    if (rc) return ES_ECONFIG;
  }
  return 0;
}

static int load_log(ctx *x, yaml_node_t *m) {
  static const char *const keys[] = {"format", NULL};
  if (need_map(x, m, "log")) return ES_ECONFIG;
  FOR_PAIRS(m, k, v) {
    const char *ks = es__yaml_scalar(k);
    int rc;
    if (ks && !strcmp(ks, "format")) rc = choice(x, v, "log.format", "logfmt", "json", &x->c->log_json);
    else rc = es__yaml_unknown_key(x->y, k, "log", keys, x->d);
    if (rc) return ES_ECONFIG;
  }
  return 0;
}

int es_config_load(es_config *c, const char *path, es_diag *d) {
  static const char *const keys[] = {"input", "queries", "triage", "output", "fields", "windows", "workers",
                                     "limits", "detection", "progress", "reload", "accents", "kafka", "sentiment",
                                     "http", "log", NULL};
  es_yaml y;
  int rc = es__yaml_load(&y, path, d);
  if (rc) {
    es__yaml_free(&y);
    return rc;
  }
  ctx cx = {&y, c, d}, *x = &cx;
  yaml_node_t *root = es__yaml_root(&y);
  if (root->type != YAML_MAPPING_NODE) {
    rc = es_diag_set(d, ES_ECONFIG, "%s: the config must be a map of settings (input:, queries:, output: ...)", path);
    goto done;
  }
  FOR_PAIRS(root, k, v) {
    const char *ks = es__yaml_scalar(k);
    if (!ks) rc = es__yaml_unknown_key(&y, k, "the config", keys, d);
    else if (!strcmp(ks, "input")) rc = str_setting(x, v, ks, &c->input);
    else if (!strcmp(ks, "queries")) rc = str_setting(x, v, ks, &c->queries);
    else if (!strcmp(ks, "triage")) rc = str_setting(x, v, ks, &c->triage);
    else if (!strcmp(ks, "output")) rc = load_output(x, v);
    else if (!strcmp(ks, "fields")) rc = load_fields(x, v);
    else if (!strcmp(ks, "windows")) rc = load_windows(x, v);
    else if (!strcmp(ks, "limits")) rc = load_limits(x, v);
    else if (!strcmp(ks, "detection")) rc = load_detection(x, v);
    else if (!strcmp(ks, "progress")) rc = es__yaml_bool(&y, v, ks, &c->progress, d);
    else if (!strcmp(ks, "reload")) rc = es__yaml_bool(&y, v, ks, &c->reload, d);
    else if (!strcmp(ks, "accents")) {
      const char *a;
      rc = es__yaml_string(&y, v, ks, &a, d);
      if (!rc && !strcmp(a, "insensitive")) c->accent_insensitive = true;
      else if (!rc && !strcmp(a, "sensitive")) c->accent_insensitive = false;
      else if (!rc)
        rc = es_diag_set(d, ES_ECONFIG, "%s:%d: accents must be 'sensitive' or 'insensitive' (cafe = café)", path,
                         es__yaml_line(v));
    }
    else if (!strcmp(ks, "kafka")) rc = load_kafka(x, v);
    else if (!strcmp(ks, "http")) rc = load_http(x, v);
    else if (!strcmp(ks, "log")) rc = load_log(x, v);
    else if (!strcmp(ks, "sentiment")) rc = load_sentiment(x, v);
    else if (!strcmp(ks, "workers")) {
      int64_t n;
      rc = es__yaml_int(&y, v, ks, 1, ES_MAX_WORKERS, &n, d);
      c->workers = (int)n;
    } else rc = es__yaml_unknown_key(&y, k, "the config", keys, d);
    if (rc) {
      rc = ES_ECONFIG;
      goto done;
    }
  }
  if (c->decode.ts_min_ms >= c->decode.ts_max_ms)
    rc = es_diag_set(d, ES_ECONFIG, "%s: limits.min_ts must be before limits.max_ts", path);
done:
  es__yaml_free(&y);
  return rc;
}

bool es_config_secret_key(const char *key) {
  static const char *const words[] = {"password", "secret", "token", "key", "credential", "jaas", NULL};
  char low[128];
  size_t n = 0;
  for (; key[n] && n < sizeof low - 1; n++) low[n] = (char)((key[n] >= 'A' && key[n] <= 'Z') ? key[n] + 32 : key[n]);
  low[n] = 0;
  for (int i = 0; words[i]; i++)
    if (strstr(low, words[i])) return true;
  return false;
}

/* `prefix` (the key, with its punctuation) then s as a JSON string, or null. */
static void key_str(es_buf *b, const char *prefix, const char *s) {
  es_buf_puts(b, prefix);
  if (s) es_buf_json_str(b, s, strlen(s));
  else es_buf_puts(b, "null");
}

void es_config_json(const es_config *c, es_buf *b) {
  key_str(b, "{\"queries\":", c->queries);
  key_str(b, ",\"input\":", c->input);
  key_str(b, ",\"triage\":", c->triage);
  key_str(b, ",\"output\":{\"windows\":", c->output);
  key_str(b, ",\"alerts\":", c->alerts_output);
  key_str(b, ",\"enriched\":", c->enriched_output);
  key_str(b, ",\"triage\":", c->triage_output);
  key_str(b, ",\"dlq\":", c->dlq_output);
  es_buf_printf(b, ",\"format\":\"%s\"},\"windows\":{\"sizes_seconds\":[", c->pretty ? "pretty" : "json");
  for (int i = 0; i < c->windows.nsizes; i++) es_buf_printf(b, "%s%lld", i ? "," : "", (long long)(c->windows.size_ms[i] / 1000));
  es_buf_printf(b, "],\"lateness_ms\":%lld,\"idle_flush_ms\":%lld,\"early_ms\":%lld},\"workers\":%d,\"reload\":%s,",
                (long long)c->windows.lateness_ms, (long long)c->windows.idle_flush_ms, (long long)c->windows.early_ms,
                c->workers, c->reload ? "true" : "false");
  es_buf_puts(b, "\"detection\":{");
  bool first = true;
#define ES_DETECT_JSON(name, type, def, lo, hi, doc)                                   \
  es_buf_printf(b, "%s\"" #name "\":", first ? "" : ",");                              \
  first = false;                                                                       \
  es_buf_printf(b, "%.17g", (double)c->detect.name);
  ES_DETECT_PARAMS(ES_DETECT_JSON)
#undef ES_DETECT_JSON
  const es_kafka_config *k = &c->kafka;
  key_str(b, "},\"kafka\":{\"brokers\":", k->brokers);
  es_buf_puts(b, ",\"topics\":[");
  for (int i = 0; i < k->ntopics; i++) {
    if (i) es_buf_putc(b, ',');
    es_buf_json_str(b, k->topics[i], strlen(k->topics[i]));
  }
  key_str(b, "],\"group\":", k->group);
  key_str(b, ",\"windows_topic\":", k->windows_topic);
  key_str(b, ",\"alerts_topic\":", k->alerts_topic);
  key_str(b, ",\"enriched_topic\":", k->enriched_topic);
  key_str(b, ",\"dlq_topic\":", k->dlq_topic);
  key_str(b, ",\"triage_topic\":", k->triage_topic);
  es_buf_printf(b, ",\"exactly_once\":%s,\"properties\":{", k->exactly_once ? "true" : "false");
  for (int i = 0; i < k->nprops; i++) {
    if (i) es_buf_putc(b, ',');
    es_buf_json_str(b, k->props[i][0], strlen(k->props[i][0]));
    es_buf_putc(b, ':');
    if (es_config_secret_key(k->props[i][0])) es_buf_puts(b, "\"[redacted]\"");
    else es_buf_json_str(b, k->props[i][1], strlen(k->props[i][1]));
  }
  key_str(b, "}},\"http\":{\"listen\":", c->http.listen);
  es_buf_printf(b, ",\"token\":%s,\"history\":%d,\"max_connections\":%d},\"log\":{\"format\":\"%s\"}}",
                c->http.token || c->http.token_file ? "\"[redacted]\"" : "null", c->http.history,
                c->http.max_connections, c->log_json ? "json" : "logfmt");
}
