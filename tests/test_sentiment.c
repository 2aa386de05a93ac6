/* The scorer against the published VADER examples (compound scores of the
 * reference implementation, to 4 decimals) and its rules one by one. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

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
  cr_expect(!es_lexicon_has_lang(lex, "es", 2));
  cr_expect(!es_lexicon_has_lang(lex, "eng", 3));
  es_sentiment s;
  es_sentiment_score_lang(lex, "es", 2, rt, "muy bueno :)", 12, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_UNSCORED, "no Spanish lexicon: unscored, not neutral");
  cr_expect_eq(s.compound, 0);
  es_sentiment_score_lang(lex, "en-US", 5, rt, "very good :)", 12, &s, NULL);
  cr_expect_eq(s.label, ES_LABEL_POSITIVE);
}
