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
#include "earshot/langid.h"
#include "earshot/mention.h"
#include "earshot/query.h"
#include "earshot/config.h"
#include "earshot/mem.h"
#include "earshot/sentiment.h"
#include "earshot/triage.h"

static int usage(FILE *f) {
  fputs("usage: earshot score [options] 'TEXT'\n"
        "       earshot score --batch [options] < TEXTS\n"
        "      --lang CODE     language of the text (default: the default language, en); auto: identify it\n"
        "                      (CLD2) as the engine does for mentions without one; --batch then adds a column\n"
        "      --layers LIST   lexicon layers, e.g. vader,emoji (default: every built-in layer)\n"
        "      --lexicon FILE  a further layer or rules file (repeatable)\n"
        "      --batch         one text per stdin line; prints compound, label, pos, neu, neg\n"
        "      --queries FILE  the words of the queries a text matches are its subject, not scored (as in\n"
        "                      the engine: a brand named \"United\" is not praise)\n"
        "      --situations F  situation rules (a .tsv file, a directory, or builtin:en; repeatable): shown\n"
        "                      for a text (default builtin:en); --batch adds a column of them (comma-separated, -)\n",
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

/* --queries: the queries a text matches, and their subject words. */
typedef struct subject_ctx {
  es_queryset *qs;
  es_match_rt *rt;
  es_fold fold;
  uint32_t *hits;
  const char *w[128];
  uint16_t wl[128];
} subject_ctx;

/* Matches `text` (as the workers do: repaired, folded) and sets the
 * scorer's subject to the matched queries' own words; returns how many
 * queries matched, their indices in ctx->hits. */
static int subject_of(subject_ctx *c, es_sentiment_rt *srt, const char *text, size_t n) {
  es_sentiment_rt_set_subject(srt, NULL, NULL, 0);
  if (!c->qs) return 0;
  char *valid = es_malloc(3 * n + 1);
  size_t vn = valid ? es_utf8_repair(text, n, valid) : 0, fn;
  const char *folded = valid ? es_fold_text(&c->fold, valid, vn, &fn) : NULL;
  es_match_meta meta = {0};
  int nh = folded ? es_queryset_match_meta(c->qs, c->rt, folded, fn, &meta, c->hits) : 0;
  es_free(valid);
  size_t ns = es_queryset_subject(c->qs, c->hits, nh > 0 ? (size_t)nh : 0, c->w, c->wl, sizeof c->w / sizeof *c->w);
  es_sentiment_rt_set_subject(srt, c->w, c->wl, ns);
  return nh < 0 ? 0 : nh;
}

/* The situations of a text (repaired and folded as the workers do): a TSV
 * column, or one line each with the rule and its evidence. */
typedef struct sit_ctx {
  es_situations *S;
  es_situations_rt *rt;
  es_fold fold;
} sit_ctx;

static void print_situations(sit_ctx *c, const char *text, size_t n, const es_sentiment *s, bool column) {
  es_situation_hit h[ES_SITUATIONS_MAX];
  size_t nh = 0;
  char *valid = es_malloc(3 * n + 1);
  size_t vn = valid ? es_utf8_repair(text, n, valid) : 0, fn;
  const char *folded = valid ? es_fold_text(&c->fold, valid, vn, &fn) : NULL;
  if (folded) es_situations_eval(c->S, c->rt, folded, fn, NULL, s, h, &nh);
  if (column) {
    putchar('\t');
    for (size_t i = 0; i < nh; i++) printf("%s%s", i ? "," : "", es_situation_name(c->S, h[i].situation));
    if (!nh) putchar('-');
  } else {
    printf("situations:%s\n", nh ? "" : " none");
    for (size_t i = 0; i < nh; i++) {
      const char *ev[ES_SITUATION_EVIDENCE];
      size_t el[ES_SITUATION_EVIDENCE];
      size_t ne = es_situation_evidence(c->S, c->rt, &h[i], ev, el, ES_SITUATION_EVIDENCE);
      printf("  %-16s rule %-28s evidence: ", es_situation_name(c->S, h[i].situation), es_situation_rule_id(c->S, h[i].rule));
      for (size_t k = 0; k < ne; k++) printf("%s%.*s", k ? ", " : "", (int)el[k], ev[k]);
      putchar('\n');
    }
  }
  es_free(valid);
}

int es__cmd_score(int argc, char **argv) {
  enum { O_LANG = 256, O_LAYERS, O_LEXICON, O_BATCH, O_QUERIES, O_SITUATIONS };
  static const struct option opts[] = {{"lang", required_argument, 0, O_LANG},
                                       {"layers", required_argument, 0, O_LAYERS},
                                       {"lexicon", required_argument, 0, O_LEXICON},
                                       {"batch", no_argument, 0, O_BATCH},
                                       {"queries", required_argument, 0, O_QUERIES},
                                       {"situations", required_argument, 0, O_SITUATIONS},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  es_config cfg;
  es_config_default(&cfg);
  es_diag d = {{0}};
  const char *lang = "", *queries = NULL;
  bool batch = false, autod = false;
  subject_ctx sc = {0};
  const char *sit_paths[16];
  size_t nsit_paths = 0;
  sit_ctx sit = {0};
  es_fold_init(&sit.fold);
  int rc = 2;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    switch (c) {
    case O_LANG: lang = optarg; autod = !strcmp(optarg, "auto"); break;
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
    case O_QUERIES: queries = optarg; break;
    case O_SITUATIONS:
      if (nsit_paths == 16) {
        fputs("earshot score: at most 16 --situations\n", stderr);
        goto out;
      }
      sit_paths[nsit_paths++] = optarg;
      break;
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
  if (!batch && !nsit_paths) sit_paths[nsit_paths++] = "builtin:en";
  int err;
  if (nsit_paths && (!(sit.S = es_situations_load(sit_paths, nsit_paths, &err, &d)) ||
                     !(sit.rt = es_situations_rt_create(sit.S)))) {
    fprintf(stderr, "earshot score: %s\n", sit.S ? "out of memory" : d.msg);
    es_lexicon_destroy(lex);
    goto out;
  }
  if (queries) {
    sc.qs = es_queryset_load(queries, &err, &d);
    if (!sc.qs) {
      fprintf(stderr, "earshot score: %s\n", d.msg);
      es_lexicon_destroy(lex);
      goto out;
    }
    sc.rt = es_match_rt_create(sc.qs);
    sc.hits = es_malloc((es_queryset_count(sc.qs) + 1) * sizeof *sc.hits);
    es_fold_init(&sc.fold);
    sc.fold.strip_marks = es_queryset_accent_insensitive(sc.qs);
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
      es_langid id;
      size_t ln = strlen(lang);
      const char *use = autod ? es_langid_pick("", 0, line, (size_t)n, true, &id, &ln) : lang;
      subject_of(&sc, rt, line, (size_t)n);
      es_sentiment_score_lang(lex, use, ln, rt, line, (size_t)n, &s, NULL);
      printf("%.4f\t%s\t%.3f\t%.3f\t%.3f", s.compound, es_label_name(s.label), s.pos, s.neu, s.neg);
      if (autod) printf("\t%s", id.code[0] ? id.code : "-");
      if (sit.S) print_situations(&sit, line, (size_t)n, &s, true);
      putchar('\n');
    }
    free(line);
    rc = 0;
  } else {
    es_sentiment s;
    es_langid id;
    size_t ln = strlen(lang);
    const char *text = argv[optind], *use = lang;
    if (autod) {
      use = es_langid_pick("", 0, text, strlen(text), true, &id, &ln);
      if (id.code[0])
        printf("language %s (confidence %.2f, %s)%s\n", id.code, id.confidence, id.reliable ? "reliable" : "not reliable",
               id.reliable ? "" : ": scored in the default language");
      else
        puts("language unknown (too little text): scored in the default language");
    }
    int nh = subject_of(&sc, rt, text, strlen(text));
    if (queries) {
      printf("queries matched: ");
      for (int k = 0; k < nh; k++) printf("%s%s", k ? ", " : "", es_queryset_get(sc.qs, sc.hits[k])->id);
      puts(nh ? " (their own words are the subject: not scored)" : "none");
    }
    es_sentiment_score_lang(lex, use, ln, rt, text, strlen(text), &s, tr);
    print_trace(&s, tr);
    if (sit.S) print_situations(&sit, text, strlen(text), &s, false);
    rc = 0;
  }
  es_free(tr);
  es_sentiment_rt_destroy(rt);
  es_free(sc.hits);
  es_match_rt_destroy(sc.rt);
  es_queryset_destroy(sc.qs);
  es_lexicon_destroy(lex);
out:
  es_situations_rt_destroy(sit.rt);
  es_situations_destroy(sit.S);
  es_fold_free(&sit.fold);
  es_config_free(&cfg);
  return rc;
}
