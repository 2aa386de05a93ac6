/* What every sink shares (include/earshot/sink.h): the failure record and
 * the latency histograms of the status. Any thread. */
#include <stdarg.h>
#include <stdio.h>

#include "earshot/sink.h"

int es_sink_fail(es_sink *s, int err, const char *fmt, ...) {
  if (s->err) return err;
  s->err = err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->diag.msg, sizeof s->diag.msg, fmt, ap);
  va_end(ap);
  return err;
}

const es_buf *es_sink_window_json(const es_sink_window *e, es_buf *scratch) {
  es_buf *b = e->json ? e->json : scratch;
  if (!e->json || !b->len) {
    es_buf_clear(b);
    es_output_window_json(b, e->q, e->w, e->d);
  }
  return b;
}

void es_sink_destroy(es_sink *s) {
  if (s) s->ops->destroy(s);
}

const double es_hist_bounds[ES_HIST_BUCKETS - 1] = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4,
                                                     2.5e-4, 5e-4, 1e-3, 1e-2, 1e-1, 1};

int es_hist_bucket(uint64_t ns) {
  double s = (double)ns * 1e-9;
  int i = 0;
  while (i < ES_HIST_BUCKETS - 1 && s > es_hist_bounds[i]) i++;
  return i;
}

const char *es_stage_name(int stage) {
  static const char *const names[ES_STAGE_COUNT] = {"decode", "match", "score", "aggregate"};
  return stage >= 0 && stage < ES_STAGE_COUNT ? names[stage] : "unknown";
}
