/* The engine configuration: defaults, the YAML file, and the flags that
 * override it. Every setting is documented in the README with its default.
 * Loaded once on the main thread; read-only afterwards. */
#ifndef EARSHOT_CONFIG_H
#define EARSHOT_CONFIG_H

#include <stdbool.h>

#include "earshot/detect.h"
#include "earshot/error.h"
#include "earshot/mention.h"
#include "earshot/window.h"

#define ES_MAX_WORKERS 64

typedef struct es_config {
  char *input;           /* JSONL file or "-" for stdin */
  char *queries;         /* YAML query file */
  char *output;          /* window records: file or "-" (stdout) */
  char *enriched_output; /* optional enriched mentions */
  char *dlq_output;      /* dead letters; default "earshot.dlq.jsonl" */
  bool pretty;           /* human-readable window lines instead of JSON */
  char *fields[ES_F_COUNT];
  es_window_opts windows;
  es_decode_opts decode;
  es_detect_params detect;
  int workers;
  bool progress;         /* progress bar on a terminal (stderr) */
} es_config;

void es_config_default(es_config *c);
/* Loads `path` over the current values. Errors name file:line and, for
 * unknown keys, suggest the closest known one. */
int es_config_load(es_config *c, const char *path, es_diag *d);
/* Replaces a string setting (copies `v`). */
int es_config_set_str(char **slot, const char *v);
/* Parses "60s" or "60s,1h" into c->windows sizes. */
int es_config_set_windows(es_config *c, const char *list, es_diag *d);
void es_config_free(es_config *c);

#endif
