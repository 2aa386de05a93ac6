/* `earshot score 'TEXT'`: the compound score, label and proportions of a
 * text, and each token's lexicon valence, final valence and the rules that
 * changed it. Main thread. */
#include <stdio.h>
#include <string.h>

#include "cli_internal.h"
#include "earshot/mem.h"
#include "earshot/sentiment.h"

int es__cmd_score(int argc, char **argv) {
  if (argc != 2) {
    fputs("usage: earshot score 'TEXT'\n", stderr);
    return 2;
  }
  const char *text = argv[1];
  es_lexicon *lex = es_lexicon_create_default();
  es_sentiment_rt *rt = es_sentiment_rt_create();
  es_sentiment_trace *tr = es_malloc(sizeof *tr);
  if (!lex || !rt || !tr) {
    fputs("earshot score: out of memory\n", stderr);
    return 1;
  }
  es_sentiment s;
  es_sentiment_score(lex, rt, text, strlen(text), &s, tr);
  printf("compound %+.4f  label %s  (pos %.3f  neu %.3f  neg %.3f)\n", s.compound, es_label_name(s.label), s.pos,
         s.neu, s.neg);
  printf("%-20s %8s %8s  %s\n", "token", "lexicon", "valence", "rules");
  for (size_t i = 0; i < tr->ntokens; i++) {
    const es_sentiment_token *t = &tr->tokens[i];
    printf("%-20.*s %8.3f %8.3f  %s\n", (int)t->n, t->p, t->lexicon, t->valence, t->rules);
  }
  if (tr->punct_emphasis > 0) printf("punctuation emphasis %+.3f\n", tr->punct_emphasis);
  if (tr->caps_diff) printf("ALL-CAPS emphasis active (mixed-case text)\n");
  es_free(tr);
  es_sentiment_rt_destroy(rt);
  es_lexicon_destroy(lex);
  return 0;
}
