/* libFuzzer target, differential: the input is a query expression, a line
 * break, and a text. A query that compiles must match the text exactly as
 * the naive reference evaluator says (engine/match/reference.c); a query
 * that does not must say why. Any disagreement aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/error.h"
#include "earshot/mention.h"
#include "earshot/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  if (n > 4096) return 0; /* queries are short; long ones only slow the search */
  char *buf = malloc(n + 1);
  if (!buf) return 0;
  memcpy(buf, data, n);
  buf[n] = 0;
  char *nl = memchr(buf, '\n', n);
  const char *text = "";
  size_t tn = 0;
  if (nl) {
    *nl = 0;
    text = nl + 1;
    tn = n - (size_t)(nl + 1 - buf);
  }
  if (strlen(buf) == 0) {
    free(buf);
    return 0;
  }
  es_query_def def = {.id = "q", .name = "fuzz", .expr = buf};
  int err = 0;
  es_diag d = {{0}};
  es_queryset *qs = es_queryset_compile(&def, 1, &err, &d);
  if (!qs) {
    if (!d.msg[0]) abort(); /* a refused query always says why */
    free(buf);
    return 0;
  }
  es_match_rt *rt = es_match_rt_create(qs);
  /* The matcher sees what the decoder hands on: valid UTF-8 (invalid
   * sequences repaired to U+FFFD). */
  char *valid = malloc(3 * tn + 1);
  if (!valid) abort();
  size_t vn = es_utf8_repair(text, tn, valid);
  es_fold f;
  es_fold_init(&f);
  size_t fn;
  const char *folded = es_fold_text(&f, valid, vn, &fn);
  uint32_t out[4];
  int m = es_queryset_match(qs, rt, folded, fn, out);
  if (m < 0) abort();
  bool hs = m == 1 && out[0] == 0, ref = es_reference_match(qs, 0, folded, fn);
  if (hs != ref) abort();
  es_fold_free(&f);
  free(valid);
  es_match_rt_destroy(rt);
  es_queryset_destroy(qs);
  free(buf);
  return 0;
}
