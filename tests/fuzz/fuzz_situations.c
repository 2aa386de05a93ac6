/* libFuzzer target: the input is a situation rules file, a line "----",
 * and a mention text. Rules that load must evaluate any text (repaired and
 * folded as the workers do) under each sentiment label; evidence spans lie
 * within the text or the rules; rules that do not load must say why. The
 * text's words are the same from the ASCII bitmap path and the byte loop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/mention.h"
#include "earshot/query.h"
#include "earshot/triage.h"
#include "../../engine/triage/triage_internal.h"

/* Both word cutters give the same words of s. */
static void same_words(const char *s, size_t n) {
  es_words a = {0}, b = {0};
  if (es__words_cut(&a, s, n) || es__words_cut_bytes(&b, s, n)) abort();
  if (a.n != b.n) abort();
  for (size_t i = 0; i < a.n; i++)
    if (a.start[i] != b.start[i] || a.end[i] != b.end[i] || a.nlen[i] != b.nlen[i] || a.hash[i] != b.hash[i] ||
        memcmp(a.norm + a.nstart[i], b.norm + b.nstart[i], a.nlen[i]))
      abort();
  es__words_free(&a);
  es__words_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  if (n > 65536) return 0;
  char *buf = malloc(n + 1);
  if (!buf) return 0;
  memcpy(buf, data, n);
  buf[n] = 0;
  char *sep = strstr(buf, "\n----\n");
  const char *text = "";
  size_t tn = 0;
  if (sep) {
    *sep = 0;
    text = sep + 6;
    tn = n - (size_t)(text - buf);
  }
  int err = 0;
  es_diag d = {{0}};
  es_situations *S = es_situations_parse("fuzz.tsv", buf, &err, &d);
  if (!S) {
    if (!d.msg[0] || !err) abort(); /* a refused file always says why */
    free(buf);
    return 0;
  }
  es_situations_rt *rt = es_situations_rt_create(S);
  char *valid = malloc(3 * tn + 1);
  if (!rt || !valid) abort();
  size_t vn = es_utf8_repair(text, tn, valid);
  es_fold f;
  es_fold_init(&f);
  size_t fn;
  const char *folded = es_fold_text(&f, valid, vn, &fn);
  same_words(text, tn);
  if (folded) same_words(folded, fn);
  es_match_meta meta = {.lang = "en", .lang_n = 2, .author = "someone", .author_n = 7, .followers = 10};
  static const es_sentiment sents[] = {{.compound = -0.7, .label = ES_LABEL_NEGATIVE},
                                       {.compound = 0, .label = ES_LABEL_NEUTRAL},
                                       {.compound = 0.7, .label = ES_LABEL_POSITIVE}};
  for (size_t k = 0; folded && k < 3; k++) {
    es_situation_hit h[ES_SITUATIONS_MAX];
    size_t nh;
    uint32_t mask = es_situations_eval(S, rt, folded, fn, &meta, &sents[k], h, &nh);
    if (nh > ES_SITUATIONS_MAX || (nh == 0) != (mask == 0)) abort();
    for (size_t i = 0; i < nh; i++) {
      if (!(mask >> h[i].situation & 1)) abort();
      const char *w[ES_SITUATION_EVIDENCE];
      size_t l[ES_SITUATION_EVIDENCE];
      size_t nw = es_situation_evidence(S, rt, &h[i], w, l, ES_SITUATION_EVIDENCE);
      for (size_t j = 0; j < nw; j++) {
        bool in_text = w[j] >= folded && w[j] + l[j] <= folded + fn;
        if (in_text) continue;
        volatile char c = l[j] ? w[j][l[j] - 1] : 0; /* else a string of the rules: readable */
        (void)c;
      }
    }
  }
  es_fold_free(&f);
  free(valid);
  es_situations_rt_destroy(rt);
  es_situations_destroy(S);
  free(buf);
  return 0;
}
