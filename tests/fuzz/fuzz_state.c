/* libFuzzer target: the detector state text (Kafka header earshot.state,
 * read back from a topic on an exactly-once restart). A text is refused or
 * read; a state that was read is driven through a few windows and written
 * back, and that text is read again (a value driven out of its range may
 * be refused then, as any other): never a crash, a hang or undefined
 * arithmetic. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  if (n >= ES_DETECT_STATE_TEXT) return 0;
  char text[ES_DETECT_STATE_TEXT];
  memcpy(text, data, n);
  text[n] = 0;
  es_detect_state st;
  if (es_detect_state_parse(text, &st)) return 0;
  es_detect_params p;
  es_detect_params_default(&p);
  /* A saved state names its last window; the next ones follow it, within a
   * bounded gap (the gap loop is bounded by 20 half-lives in any case). */
  int64_t idx = st.last_index > INT64_MAX / 2 || st.last_index < -(INT64_MAX / 2) ? 0 : st.last_index;
  for (int i = 1; i <= 4; i++) {
    es_detect_result r;
    es_detect_obs o = {.index = idx + i * 3, .size_ms = 60000, .count = (uint64_t)(i * 37), .negative = (uint64_t)i,
                       .authors = (uint64_t)(i * 30), .gauge = data[0] & 1, .value = i * 1.5};
    es_detect_window(&p, &st, &o, &r);
  }
  char back[ES_DETECT_STATE_TEXT];
  es_detect_state_format(&st, back, sizeof back);
  if (!memchr(back, 0, sizeof back)) abort();
  es_detect_state again;
  (void)es_detect_state_parse(back, &again);
  return 0;
}
