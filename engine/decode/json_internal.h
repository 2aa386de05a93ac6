/* C interface of the simdjson shim (json_simd.cpp). simdjson's DOM parser
 * was chosen over jansson and cJSON by measurement on mention JSON
 * (bench/json/decode_bench.cpp; figures in the README). One es_json per
 * thread: values point into its memory until the next parse. */
#ifndef EARSHOT_JSON_INTERNAL_H
#define EARSHOT_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ES_JSON_MAX_DEPTH 8 /* dotted-path components */

typedef struct es_json_path {
  const char *keys[ES_JSON_MAX_DEPTH];
  size_t lens[ES_JSON_MAX_DEPTH];
  int nkeys;
} es_json_path;

enum es_json_kind { ES_JSON_MISSING, ES_JSON_STRING, ES_JSON_INT, ES_JSON_DOUBLE, ES_JSON_BOOL, ES_JSON_NULL, ES_JSON_OTHER };

typedef struct es_json_value {
  int kind;
  const char *s; /* ES_JSON_STRING: unescaped, valid UTF-8, not NUL-terminated */
  size_t n;
  int64_t i;     /* ES_JSON_INT (also set for unsigned values that fit) */
  double d;      /* ES_JSON_DOUBLE, and ES_JSON_INT as a double */
} es_json_value;

enum es_json_status { ES_JSON_OK = 0, ES_JSON_BAD_UTF8 = 1, ES_JSON_BAD_STRING = 2, ES_JSON_MALFORMED = 3, ES_JSON_NOT_OBJECT = 4 };

typedef struct es_json es_json;
es_json *es__json_create(void);
void es__json_destroy(es_json *j);
/* Parses buf[0..len) (followed by 64 readable bytes) and looks up each path.
 * On failure returns a status and sets *err to simdjson's message. */
int es__json_parse(es_json *j, const char *buf, size_t len, const es_json_path *paths, int npaths,
                   es_json_value *out, const char **err);

#ifdef __cplusplus
}
#endif
#endif
