/* libFuzzer target: the input is a window's state as bytes (what one
 * process sends another: es_windows_part's layout). Any bytes are added to
 * a window or refused with ES_EINVAL, never read past their end; a window
 * that took them closes with counts it can report. */
#include <stdint.h>
#include <stdlib.h>

#include "earshot/error.h"
#include "earshot/window.h"

static void sink(void *ctx, const es_window_result *r) {
  (void)ctx;
  if (r->ntop < 0 || r->ntop > ES_TOP_AUTHORS || r->nsamples < 0 || r->nsamples > ES_SAMPLE_IDS) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  es_window_opts o = {.nsizes = 1, .manual_advance = true};
  o.size_ms[0] = 60000;
  es_windows *w = es_windows_create(&o, 2, sink, NULL);
  if (!w) return 0;
  int rc = es_windows_add_part(w, 1, 0, 3, data, n);
  if (rc && rc != ES_EINVAL && rc != ES_ENOMEM) abort();
  if (!rc) { /* taken: a second time is taken too (the merge of two) */
    if (es_windows_add_part(w, 1, 0, 3, data, n) == ES_EINVAL) abort();
  }
  es_windows_flush(w);
  es_windows_destroy(w);
  return 0;
}
