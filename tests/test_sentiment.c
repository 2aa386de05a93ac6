/* The scorer against the published VADER examples (compound scores of the
 * reference implementation, to 4 decimals) and its rules one by one. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "earshot/langid.h"
#include "earshot/sentiment.h"

static es_lexicon *lex;
static es_sentiment_rt *rt;
static void setup(void) {
  lex = es_lexicon_create_default();
  rt = es_sentiment_rt_create();
  cr_assert(lex && rt);
}
static void teardown(void) {
  es_sentiment_rt_destroy(rt);
  es_lexicon_destroy(lex);
}
TestSuite(sentiment, .init = setup, .fini = teardown);

static double compound(const char *t) {
  es_sentiment s;
  es_sentiment_score(lex, rt, t, strlen(t), &s, NULL);
  return s.compound;
}

Test(sentiment, lexicon_is_the_pinned_vader_lexicon) {
  cr_expect_gt(es_lexicon_size(lex), 7400);
  double v;
  cr_expect(es_lexicon_get(lex, "good", 4, &v) && fabs(v - 1.9) < 1e-6);
  cr_expect(es_lexicon_get(lex, "horrible", 8, &v) && fabs(v - (-2.5)) < 1e-6);
  cr_expect(!es_lexicon_get(lex, "card", 4, &v));
}

/* The examples of the reference implementation's documentation. */
Test(sentiment, published_examples) {
  struct {
    const char *text;
    double compound;
  } ex[] = {
    {"VADER is smart, handsome, and funny.", 0.8316},
    {"VADER is smart, handsome, and funny!", 0.8439},
    {"VADER is very smart, handsome, and funny.", 0.8545},
    {"VADER is VERY SMART, handsome, and FUNNY.", 0.9227},
    {"VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342},
    {"VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", 0.9469},
    {"VADER is not smart, handsome, nor funny.", -0.7424},
    {"The book was good.", 0.4404},
    {"At least it isn't a horrible book.", 0.431},
    {"The book was only kind of good.", 0.3832},
    {"The plot was good, but the characters are uncompelling and the dialog is not great.", -0.7042},
    {"Today SUX!", -0.5461},
    {"Make sure you :) or :D today!", 0.8633},
    {"Not bad at all", 0.431},
  };
  for (size_t i = 0; i < sizeof ex / sizeof *ex; i++) {
    double c = compound(ex[i].text);
    cr_expect(fabs(c - ex[i].compound) < 0.00051, "'%s': %.4f, reference %.4f", ex[i].text, c, ex[i].compound);
  }
}

Test(sentiment, labels_and_proportions) {
  es_sentiment s;
  es_sentiment_score(lex, rt, "I love this", 11, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_POSITIVE);
  cr_expect(fabs(s.pos + s.neu + s.neg - 1.0) < 1e-9);
  es_sentiment_score(lex, rt, "terrible service", 16, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_NEGATIVE);
  es_sentiment_score(lex, rt, "the card arrived", 16, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_NEUTRAL);
  cr_expect_eq(s.compound, 0);
  es_sentiment_score(lex, rt, "", 0, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_NEUTRAL);
}

Test(sentiment, rules) {
  cr_expect_lt(compound("not good"), 0, "negation flips");
  cr_expect_lt(compound("isn't good"), 0, "n't negates");
  cr_expect_gt(compound("very good"), compound("good"), "booster");
  cr_expect_lt(compound("slightly good"), compound("good"), "dampener");
  cr_expect_gt(compound("GOOD food here"), compound("good food here"), "caps in mixed case");
  cr_expect_eq(compound("GOOD"), compound("good"), "all-caps text is not emphasis");
  cr_expect_gt(compound("good!!"), compound("good"), "exclamation");
  cr_expect_eq(compound("good!!!!!!!!"), compound("good!!!!"), "exclamation is capped at 4");
  cr_expect_lt(compound("good but terrible"), compound("terrible"), "but weights the second clause");
  cr_expect_lt(compound("bad"), 0);
  cr_expect_eq(compound("https://good.example/ok"), 0, "URLs are not words");
}

Test(sentiment, trace_explains_rules) {
  es_sentiment s;
  static es_sentiment_trace tr;
  es_sentiment_score(lex, rt, "not very good", 13, &s, &tr);
  cr_assert_eq(tr.ntokens, 3);
  cr_expect(strstr(tr.tokens[2].rules, "booster"), "%s", tr.tokens[2].rules);
  cr_expect(strstr(tr.tokens[2].rules, "negation"), "%s", tr.tokens[2].rules);
  cr_expect_float_eq(tr.tokens[2].lexicon, 1.9, 1e-6);
}

Test(sentiment, languages) {
  cr_expect(es_lexicon_has_lang(lex, "en", 2));
  cr_expect(es_lexicon_has_lang(lex, "en-GB", 5));
  cr_expect(es_lexicon_has_lang(lex, "EN_us", 5));
  cr_expect(es_lexicon_has_lang(lex, "und", 3), "undetermined: the default language");
  cr_expect(es_lexicon_has_lang(lex, "", 0), "no lang: the default language");
  for (const char *const *l = (const char *const[]){"es", "fr", "de", "pt", NULL}; *l; l++)
    cr_expect(es_lexicon_has_lang(lex, *l, 2), "%s ships", *l);
  cr_expect(!es_lexicon_has_lang(lex, "it", 2));
  cr_expect(!es_lexicon_has_lang(lex, "eng", 3));
  es_sentiment s;
  es_sentiment_score_lang(lex, "it", 2, rt, "molto buono :)", 14, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_UNSCORED, "no Italian lexicon: unscored, not neutral");
  cr_expect_eq(s.compound, 0);
  es_sentiment_score_lang(lex, "es", 2, rt, "muy bueno :)", 12, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_POSITIVE);
  es_sentiment_score_lang(lex, "es", 2, rt, "no es bueno", 11, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_NEGATIVE, "Spanish negation");
  es_sentiment_score_lang(lex, "en-US", 5, rt, "very good :)", 12, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_POSITIVE);
}

static es_sentiment_trace tr2;

static const char *rules_of(const char *text, const char *token) {
  es_sentiment s;
  es_sentiment_score(lex, rt, text, strlen(text), &s, &tr2);
  for (size_t i = 0; i < tr2.ntokens; i++)
    if (tr2.tokens[i].n == strlen(token) && !memcmp(tr2.tokens[i].p, token, tr2.tokens[i].n)) return tr2.tokens[i].rules;
  return NULL;
}

Test(sentiment, published_rules_from_the_rules_file) {
  /* "never so/this" intensifies instead of negating. */
  cr_expect_gt(compound("it was never so good"), compound("it was good"));
  cr_expect_lt(compound("it was never good"), 0);
  /* "without doubt" keeps the valence; "without" alone negates. */
  cr_expect_gt(compound("without a doubt excellent"), 0);
  /* "no" negates the next lexicon words and loses its own valence. */
  cr_expect_lt(compound("no love or joy here"), 0);
  /* Idioms replace the sentiment word's value. */
  const char *r = rules_of("he has a broken heart", "broken");
  cr_assert(r);
  cr_expect(strstr(r, "idiom"), "%s", r);
  cr_expect_lt(compound("he has a broken heart"), compound("he has a broken arm"));
  /* Contrast is found in any case ("But"), as published. */
  cr_expect_lt(compound("the food was good. But the service was terrible"), compound("the service was terrible"));
}

Test(sentiment, tokens_emoji_handles_urls_elongation) {
  /* An emoji is a token even glued to a word; skin tones and variation
   * selectors do not change its valence. */
  cr_expect_gt(compound("thanks😍"), compound("thanks"));
  cr_expect_eq(compound("ok 👍🏽"), compound("ok 👍"));
  cr_expect_eq(compound("love ❤️"), compound("love ❤"));
  cr_expect_lt(compound("😡"), 0);
  /* @handles are never scored; hashtags are ("#fail"). */
  cr_expect_eq(compound("@HappyFeet"), 0);
  cr_expect_lt(compound("#fail"), 0);
  cr_expect_eq(compound("see www.great.example"), 0);
  /* Elongated words are found after shortening the runs. */
  cr_expect_eq(compound("goooood"), compound("good"));
  cr_expect_gt(compound("sooooo good"), compound("good"));
  const char *r = rules_of("coooool", "coooool");
  cr_assert(r);
  cr_expect(strstr(r, "elongated"), "%s", r);
  /* Unicode: case folding and ALL-CAPS on non-ASCII letters, Unicode spaces. */
  cr_expect_gt(compound("GOOD idea\xC2\xA0thanks"), compound("good idea\xC2\xA0thanks"));
  cr_expect_eq(compound("good\xE3\x80\x80idea"), compound("good idea"));
}

Test(sentiment, care_layer_phrases) {
  const char *r = rules_of("been on hold for an hour", "on hold");
  cr_assert(r, "'on hold' is one token");
  cr_expect(strstr(r, "phrase"), "%s", r);
  cr_expect_lt(compound("still waiting for my refund"), -0.3);
  cr_expect_lt(compound("charged twice this month"), -0.3);
  cr_expect_lt(compound("two weeks and still no refund"), 0, "the phrase wins over the 'no' rule");
  cr_expect_gt(compound("refunded within a day"), 0);
  /* Negation applies to a phrase as to a word. */
  cr_expect_gt(compound("the flight was not delayed"), 0);
}

Test(sentiment, layers_are_selectable) {
  es_diag d = {{0}};
  es_sentiment_opts o = {.layers = {"vader"}, .nlayers = 1};
  es_lexicon *v = es_lexicon_create(&o, &d);
  cr_assert(v, "%s", d.msg);
  es_sentiment s1, s2;
  const char *t = "on hold 😡";
  es_sentiment_score(v, rt, t, strlen(t), &s1, NULL);
  es_sentiment_score(lex, rt, t, strlen(t), &s2, NULL);
  cr_expect_eq(s1.compound, 0, "VADER alone knows neither the phrase nor the emoji");
  cr_expect_lt(s2.compound, -0.5);
  es_lexicon_destroy(v);
  es_sentiment_opts bad = {.layers = {"vadr"}, .nlayers = 1};
  cr_expect_null(es_lexicon_create(&bad, &d));
  cr_expect(strstr(d.msg, "unknown sentiment layer 'vadr'") && strstr(d.msg, "vader, emoji, afinn, care"), "%s", d.msg);
}

static const char *write_tmp(const char *text) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/earshot-lex-%d.tsv", (int)getpid());
  FILE *f = fopen(path, "w");
  cr_assert(f);
  fputs(text, f);
  fclose(f);
  return path;
}

Test(sentiment, a_language_is_a_data_file) {
  es_diag d = {{0}};
  const char *p = write_tmp("#! kind lexicon\n#! lang it\n#! layer it-base\nbuono\t1.9\ncattivo\t-2.0\nnon\t-1.0\n"
                            "molto\t0\n");
  es_sentiment_opts o = {.files = {p}, .nfiles = 1};
  es_lexicon *l = es_lexicon_create(&o, &d);
  cr_assert(l, "%s", d.msg);
  cr_expect(es_lexicon_has_lang(l, "it-CH", 5));
  es_sentiment s;
  es_sentiment_score_lang(l, "it", 2, rt, "molto buono", 11, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_POSITIVE);
  es_sentiment_score_lang(l, "it", 2, rt, "molto cattivo", 13, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_NEGATIVE);
  char desc[256];
  es_lexicon_describe(l, desc, sizeof desc);
  cr_expect(strstr(desc, "it (emoji, it-base"), "%s", desc);
  es_lexicon_destroy(l);
  unlink(p);
}

Test(sentiment, broken_lexicon_files_are_clear_errors) {
  struct {
    const char *text, *msg;
  } cases[] = {
    {"#! lang en\n#! layer x\nbad\t-1\n", "needs '#! kind lexicon'"},
    {"#! kind lexicon\n#! layer x\nbad\t-1\n", "needs '#! lang CODE'"},
    {"#! kind lexicon\n#! lang en\nbad\t-1\n", "needs '#! layer NAME'"},
    {"#! kind lexicon\n#! lang en\n#! layer x\nbad\tvery\n", ":4: expected TOKEN<TAB>VALENCE"},
    {"#! kind lexicon\n#! lang en\n#! layer x\nbad\t-9\n", ":4: expected TOKEN<TAB>VALENCE with a valence from -4 to 4"},
    {"#! kind rules\n#! lang en\nnot\tnegator\n", ":3: unknown role 'negator'"},
    {"#! kind rules\n#! lang en\nvery\tbooster\n", ":3: role booster needs a value"},
    {"#! kind lexicon\n#! lang en\n#! layer x\na b c d e\t-1\n", ":4: a phrase has at most 4 words"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    es_diag d = {{0}};
    const char *p = write_tmp(cases[i].text);
    es_sentiment_opts o = {.files = {p}, .nfiles = 1};
    es_lexicon *l = es_lexicon_create(&o, &d);
    cr_expect_null(l, "case %zu loaded", i);
    cr_expect(strstr(d.msg, cases[i].msg) && strstr(d.msg, p), "case %zu: %s", i, d.msg);
    es_lexicon_destroy(l);
    unlink(p);
  }
  es_diag d = {{0}};
  es_sentiment_opts o = {.files = {"/nonexistent/x.tsv"}, .nfiles = 1};
  cr_expect_null(es_lexicon_create(&o, &d));
  cr_expect(strstr(d.msg, "/nonexistent/x.tsv") && strstr(d.msg, "No such file"), "%s", d.msg);
}

/* Texts at the limits: a 100,000-byte word, long runs of emoji, letters
 * whose case folding expands (İ, ﬃ), tokens cut at 4,096 bytes in the
 * middle of a character. Nothing overflows (the ASan job runs this) and the
 * scores stay sane. */
Test(sentiment, texts_at_the_limits) {
  static char big[120000];
  es_sentiment s;
  memset(big, 'a', 100000);
  es_sentiment_score(lex, rt, big, 100000, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_NEUTRAL);
  size_t n = 0;
  while (n + 4 < 100000) { /* İ folds to 3 bytes */
    memcpy(big + n, "\xC4\xB0", 2);
    n += 2;
  }
  es_sentiment_score(lex, rt, big, n, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_NEUTRAL);
  n = 0;
  while (n + 8 < 100000) {
    memcpy(big + n, "\xF0\x9F\x98\x8D", 4); /* 😍 */
    n += 4;
    if (n % 4000 == 0) big[n++] = ' ';
  }
  es_sentiment_score(lex, rt, big, n, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_POSITIVE);
  n = 0;
  for (int k = 0; k < 25; k++) { /* 25 x 4,098 bytes fit in big */
    memset(big + n, 'A', 4095);
    n += 4095;
    memcpy(big + n, "\xC3\xA9 ", 3); /* é straddles the 4,096-byte cut */
    n += 3;
  }
  es_sentiment_score(lex, rt, big, n, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_NEUTRAL);
  es_sentiment_score(lex, rt, "good", 4, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_POSITIVE, "the runtime is still sound afterwards");
}

/* Texts up to 32 KiB are tokenized from bitmaps of the whole text, longer
 * ones token by token: both paths must give the same scores. Padding a
 * text with spaces past the limit switches paths without changing it. */
Test(sentiment, both_tokenizers_agree) {
  static const char *texts[] = {
    "The flight was delayed AGAIN!!! still waiting on hold 😡 #fail @united",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "not bad at all :) but the app KEEPS crashing... http://x.example/a www.y.z",
    "sooooo goooood 👍🏽 love ❤️ it, É ß ΑΒΓ énorme!!!?? \"great\" (good) 'fine'",
    "no love or joy here, never so good, without a doubt, at least, kind of good",
    "  leading and trailing spaces\t\tand tabs\n",
  };
  static char big[40000];
  for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
    size_t n = strlen(texts[k]);
    memcpy(big, texts[k], n);
    memset(big + n, ' ', 33000);
    es_sentiment a, b;
    es_sentiment_score(lex, rt, texts[k], n, &a, NULL);
    es_sentiment_score(lex, rt, big, n + 33000, &b, NULL);
    cr_expect(a.compound == b.compound && a.pos == b.pos && a.neg == b.neg && a.label == b.label,
              "'%s': %.4f vs %.4f", texts[k], a.compound, b.compound);
  }
}

/* Language identification (CLD2) of mentions that come without a
 * language: what is told, what is not, and which language is scored. */
TestSuite(langid, .init = setup, .fini = teardown);

Test(langid, identifies_the_five_languages_and_says_when_it_cannot) {
  static const struct {
    const char *text, *code;
  } cases[] = {
      {"the card fee is awful and I want my money back", "en"},
      {"les frais de carte sont scandaleux, je veux être remboursé", "fr"},
      {"la comisión de la tarjeta es un robo, quiero mi dinero de vuelta", "es"},
      {"die Kartengebühr ist eine Frechheit, ich will mein Geld zurück", "de"},
      {"a taxa do cartão é um absurdo, quero meu dinheiro de volta", "pt"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    es_langid id;
    es_langid_detect(cases[i].text, strlen(cases[i].text), &id);
    cr_expect_str_eq(id.code, cases[i].code, "%s", cases[i].text);
    cr_expect(id.reliable && id.confidence > 0.8f, "%s: %.2f", cases[i].text, id.confidence);
  }
  /* Too little text, or no letters: no language. */
  es_langid id;
  es_langid_detect("lol ok", 6, &id);
  cr_expect(!id.reliable, "'lol ok' is not reliably any language (%s)", id.code);
  es_langid_detect("12345 :) 😀", strlen("12345 :) 😀"), &id);
  cr_expect_str_eq(id.code, "");
  es_langid_detect(NULL, 0, &id);
  cr_expect_str_eq(id.code, "");
}

Test(langid, pick_keeps_a_given_language_and_falls_back_to_the_default) {
  const char *fr = "les frais de carte sont scandaleux, je veux être remboursé";
  es_langid id;
  size_t n;
  /* A given language wins, even against the text. */
  const char *l = es_langid_pick("en", 2, fr, strlen(fr), true, &id, &n);
  cr_expect(n == 2 && !strncmp(l, "en", 2) && id.code[0] == 0);
  /* None, or "und" (any case): identified. */
  l = es_langid_pick(NULL, 0, fr, strlen(fr), true, &id, &n);
  cr_expect(n == 2 && !strncmp(l, "fr", 2) && !strcmp(id.code, "fr"));
  l = es_langid_pick("UND", 3, fr, strlen(fr), true, &id, &n);
  cr_expect(n == 2 && !strncmp(l, "fr", 2));
  /* Detection off, or a text too short to tell: the default language (""). */
  l = es_langid_pick("und", 3, fr, strlen(fr), false, &id, &n);
  cr_expect(n == 0 && id.code[0] == 0);
  l = es_langid_pick(NULL, 0, "fee lol", 7, true, &id, &n);
  cr_expect(n == 0);
  /* And the scorer: French is scored in French; Italian has no lexicon, so
   * it is unscored, never neutral. */
  es_sentiment s;
  l = es_langid_pick(NULL, 0, fr, strlen(fr), true, &id, &n);
  es_sentiment_score_lang(lex, l, n, rt, fr, strlen(fr), &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_NEGATIVE);
  const char *it = "la commissione della carta è un furto, rivoglio i miei soldi subito";
  l = es_langid_pick(NULL, 0, it, strlen(it), true, &id, &n);
  cr_expect(n == 2 && !strncmp(l, "it", 2), "%.*s", (int)n, l);
  es_sentiment_score_lang(lex, l, n, rt, it, strlen(it), &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_UNSCORED);
}

/* The subject is not the sentiment: words set as the subject are not
 * scored (and the trace says so); everything else is as before. */
Test(sentiment, subject_words_are_not_scored_issue21) {
  const char *t = "Flying United today, great service";
  es_sentiment before, after;
  es_sentiment_score(lex, rt, t, strlen(t), &before, NULL);
  const char *w[] = {"united"};
  const uint16_t wl[] = {6};
  es_sentiment_rt_set_subject(rt, w, wl, 1);
  es_sentiment_trace *tr = malloc(sizeof *tr);
  cr_assert(tr);
  es_sentiment_score(lex, rt, t, strlen(t), &after, tr);
  cr_expect(after.compound < before.compound, "%f vs %f", after.compound, before.compound);
  cr_expect(after.compound > 0, "'great service' still counts: %f", after.compound);
  cr_expect(strstr(tr->tokens[1].rules, "query-term-not-scored") && tr->tokens[1].valence == 0, "%s", tr->tokens[1].rules);
  /* Only the subject: "united" alone in another text is neutral now. */
  es_sentiment_score(lex, rt, "united", 6, &after, NULL);
  cr_expect_eq(after.label, ES_LABEL_NEUTRAL);
  es_sentiment_rt_set_subject(rt, NULL, NULL, 0);
  es_sentiment_score(lex, rt, "united", 6, &after, NULL);
  cr_expect_eq(after.label, ES_LABEL_POSITIVE);
  free(tr);
}
