/* `earshot score 'TEXT'`: the compound score, label and proportions of a
 * text, and each token's lexicon valence, final valence and the rules that
 * changed it. `--batch` scores stdin line by line instead (one TSV line per
 * text: compound, label, pos, neu, neg), for scripts and the agreement test.
 * Main thread. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "cli_internal.h"
#include "earshot/config.h"
#include "earshot/mem.h"
#include "earshot/sentiment.h"

static int usage(FILE *f) {
  fputs("usage: earshot score [options] 'TEXT'\n"
        "       earshot score --batch [options] < TEXTS\n"
        "      --lang CODE     language of the text (default: the default language, en)\n"
        "      --layers LIST   lexicon layers, e.g. vader,emoji (default: every built-in layer)\n"
        "      --lexicon FILE  a further layer or rules file (repeatable)\n"
        "      --batch         one text per stdin line; prints compound, label, pos, neu, neg\n",
        f);
  return f == stderr ? 2 : 0;
}

static void print_trace(const es_sentiment *s, const es_sentiment_trace *tr) {
  printf("compound %+.4f  label %s  (pos %.3f  neu %.3f  neg %.3f)\n", s->compound, es_label_name(s->label), s->pos,
         s->neu, s->neg);
  if (s->label == ES_LABEL_UNSCORED) {
    puts("no lexicon for this language: the mention is counted as unscored, not neutral");
    return;
  }
  printf("%-24s %8s %8s  %s\n", "token", "lexicon", "valence", "rules");
  for (size_t i = 0; i < tr->ntokens; i++) {
    const es_sentiment_token *t = &tr->tokens[i];
    /* Pad by display width, not bytes (emoji, accented letters). */
    int width = 0;
    for (size_t k = 0; k < t->n;) {
      utf8proc_int32_t cp;
      utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)t->p + k, (utf8proc_ssize_t)(t->n - k), &cp);
      if (l <= 0) l = 1, cp = '?';
      width += utf8proc_charwidth(cp);
      k += (size_t)l;
    }
    printf("%.*s%*s %8.3f %8.3f  %s\n", (int)t->n, t->p, width < 24 ? 24 - width : 0, "", t->lexicon, t->valence,
           t->rules);
  }
  if (tr->but_applied) puts("contrast: words before \"but\" x0.5, after it x1.5");
  if (tr->punct_emphasis > 0) printf("punctuation emphasis %+.3f\n", tr->punct_emphasis);
  if (tr->caps_diff) puts("ALL-CAPS emphasis active (mixed-case text)");
}

int es__cmd_score(int argc, char **argv) {
  enum { O_LANG = 256, O_LAYERS, O_LEXICON, O_BATCH };
  static const struct option opts[] = {{"lang", required_argument, 0, O_LANG},
                                       {"layers", required_argument, 0, O_LAYERS},
                                       {"lexicon", required_argument, 0, O_LEXICON},
                                       {"batch", no_argument, 0, O_BATCH},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  es_config cfg;
  es_config_default(&cfg);
  es_diag d = {{0}};
  const char *lang = "";
  bool batch = false;
  int rc = 2;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    switch (c) {
    case O_LANG: lang = optarg; break;
    case O_LAYERS:
      if (es_config_set_layers(&cfg, optarg, &d)) {
        fprintf(stderr, "earshot score: %s\n", d.msg);
        goto out;
      }
      break;
    case O_LEXICON:
      if (cfg.nsentiment_files == ES_SENTIMENT_MAX_LAYERS) {
        fprintf(stderr, "earshot score: at most %d --lexicon files\n", ES_SENTIMENT_MAX_LAYERS);
        goto out;
      }
      cfg.sentiment_files[cfg.nsentiment_files++] = es_strdup(optarg);
      break;
    case O_BATCH: batch = true; break;
    case 'h': rc = usage(stdout); goto out;
    default: rc = usage(stderr); goto out;
    }
  }
  if (batch ? optind != argc : optind != argc - 1) {
    rc = usage(stderr);
    goto out;
  }
  es_sentiment_opts so;
  es_config_sentiment_opts(&cfg, &so);
  es_lexicon *lex = es_lexicon_create(&so, &d);
  if (!lex) {
    fprintf(stderr, "earshot score: %s\n", d.msg);
    goto out;
  }
  es_sentiment_rt *rt = es_sentiment_rt_create();
  es_sentiment_trace *tr = es_malloc(sizeof *tr);
  rc = 1;
  if (!rt || !tr) {
    fputs("earshot score: out of memory\n", stderr);
  } else if (batch) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
      if (n > 0 && line[n - 1] == '\n') n--;
      es_sentiment s;
      es_sentiment_score_lang(lex, lang, strlen(lang), rt, line, (size_t)n, &s, NULL);
      printf("%.4f\t%s\t%.3f\t%.3f\t%.3f\n", s.compound, es_label_name(s.label), s.pos, s.neu, s.neg);
    }
    free(line);
    rc = 0;
  } else {
    es_sentiment s;
    es_sentiment_score_lang(lex, lang, strlen(lang), rt, argv[optind], strlen(argv[optind]), &s, tr);
    print_trace(&s, tr);
    rc = 0;
  }
  es_free(tr);
  es_sentiment_rt_destroy(rt);
  es_lexicon_destroy(lex);
out:
  es_config_free(&cfg);
  return rc;
}
