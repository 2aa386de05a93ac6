/* libFuzzer target: one raw line through the mention decoder. Whatever the
 * bytes, the decoder returns a reason and, for accepted records, a text that
 * is valid UTF-8 within the configured limit (invalid bytes are repaired,
 * oversized texts truncated: never a crash, never invalid output). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/error.h"
#include "earshot/mention.h"

static es_decoder *dec;
static es_decode_opts opts;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  es_decode_opts_default(&opts);
  es_diag d;
  dec = es_decoder_create(&opts, &d);
  return dec ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  char *line = malloc(n + ES_DECODE_PADDING);
  if (!line) return 0;
  memcpy(line, data, n);
  memset(line + n, 0, ES_DECODE_PADDING);
  es_mention m;
  char detail[160];
  int reason = es_decoder_decode(dec, line, n, 1767571200000, &m, detail);
  if (reason == ES_REASON_NONE) {
    if (es_utf8_valid_prefix(m.text.p, m.text.n) != m.text.n) abort();
  } else if (!memchr(detail, 0, sizeof detail)) {
    abort();
  }
  free(line);
  return 0;
}
