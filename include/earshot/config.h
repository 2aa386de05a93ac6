/* The engine configuration: defaults, the YAML file, and the flags that
 * override it. Every setting is documented in the README with its default.
 * Loaded once on the main thread; read-only afterwards. */
#ifndef EARSHOT_CONFIG_H
#define EARSHOT_CONFIG_H

#include <stdbool.h>

#include "earshot/detect.h"
#include "earshot/error.h"
#include "earshot/mention.h"
#include "earshot/sentiment.h"
#include "earshot/window.h"

#define ES_MAX_WORKERS 64

#define ES_MAX_TOPICS 16
#define ES_MAX_KAFKA_PROPS 64

/* Kafka input and outputs (`earshot run`). */
typedef struct es_kafka_config {
  char *brokers;                  /* bootstrap list host:port[,...] */
  char *topics[ES_MAX_TOPICS];    /* input topics */
  int ntopics;
  char *group;                    /* consumer group id */
  char *windows_topic, *alerts_topic, *enriched_topic, *dlq_topic; /* enriched NULL = off */
  char *triage_topic;             /* triage records keyed by track; NULL = off */
  int64_t commit_interval_ms;     /* how often delivered work is committed */
  bool flush_on_shutdown;         /* emit open windows (final: false) on SIGTERM */
  bool exactly_once;              /* suppress windows and alerts already published */
  char *props[ES_MAX_KAFKA_PROPS][2]; /* librdkafka properties passed through */
  int nprops;
} es_kafka_config;

/* The HTTP endpoint (health, metrics, API, live views, dashboard). */
typedef struct es_http_config {
  char *listen;       /* HOST:PORT; NULL: the command's default */
  char *token;        /* bearer token every endpoint but /healthz and /readyz requires; NULL none */
  char *token_file;   /* or read from this file (its first line) */
  int history;        /* closed windows kept per query and window size for the API */
  int max_connections;
  int64_t head_timeout_ms; /* a request head must arrive within this */
} es_http_config;

typedef struct es_config {
  char *input;           /* JSONL file or "-" for stdin */
  char *queries;         /* YAML query file */
  char *output;          /* window records: file or "-" (stdout) */
  char *enriched_output; /* optional enriched mentions */
  char *alerts_output;   /* optional alert events (window records with an alert) */
  char *dlq_output;      /* dead letters; default "earshot.dlq.jsonl" */
  char *triage;          /* triage file (situations, routes); NULL: no triage */
  char *triage_output;   /* optional triage records */
  bool pretty;           /* human-readable window lines instead of JSON */
  char *fields[ES_F_COUNT];
  es_window_opts windows;
  es_decode_opts decode;
  es_detect_params detect;
  int workers;
  bool progress;         /* progress bar on a terminal (stderr) */
  bool reload;           /* reload the query file on change and SIGHUP */
  bool accent_insensitive; /* accents: insensitive (cafe = café) */
  /* sentiment: which lexicon layers, further data files, default language */
  char *sentiment_layers[ES_SENTIMENT_MAX_LAYERS];
  int nsentiment_layers;
  char *sentiment_files[ES_SENTIMENT_MAX_LAYERS];
  int nsentiment_files;
  char *sentiment_default_lang;
  bool sentiment_detect_lang; /* identify the language of mentions without one (CLD2); default on */
  es_kafka_config kafka;
  es_http_config http;
  bool log_json;         /* log.format: json (one object per line) instead of logfmt */
} es_config;

void es_config_default(es_config *c);
/* Loads `path` over the current values. Errors name file:line and, for
 * unknown keys, suggest the closest known one. */
int es_config_load(es_config *c, const char *path, es_diag *d);
/* Replaces a string setting (copies `v`). */
int es_config_set_str(char **slot, const char *v);
/* Adds an input topic (copied). */
int es_config_add_topic(es_config *c, const char *topic, es_diag *d);
/* Parses "60s" or "60s,1h" into c->windows sizes. */
int es_config_set_windows(es_config *c, const char *list, es_diag *d);
/* Replaces the sentiment layers with a comma-separated list ("vader,emoji"). */
int es_config_set_layers(es_config *c, const char *list, es_diag *d);
/* The scorer options the config describes (pointers into c). */
void es_config_sentiment_opts(const es_config *c, es_sentiment_opts *o);
/* The settings as one JSON object (GET /api/v1/status), with secrets
 * redacted: http.token, and every kafka.properties value whose key names a
 * password, secret, token, key or credential (sasl.jaas.config too). */
struct es_buf;
void es_config_json(const es_config *c, struct es_buf *out);
/* Whether a librdkafka property holds a secret (its value is never printed). */
bool es_config_secret_key(const char *key);
void es_config_free(es_config *c);

#endif
