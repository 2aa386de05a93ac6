/* Inside the detector: the level model (level.c) that detect.c's gauge and
 * count paths share. Same thread rules as es_detect_window. */
#ifndef EARSHOT_DETECT_INTERNAL_H
#define EARSHOT_DETECT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "earshot/detect.h"

/* The smoothing weight of a half-life in windows. */
double es__alpha_of(double halflife);

/* One window against the level model. */
typedef struct es_level_test {
  double z, zs, q;   /* value, short level (in sd of the level model); likelihood of the recent surprise */
  /* The three tests: surprise in sd (|z|, |zs|, likelihood_weight x q),
   * the magnitude each one's record keeps (|y - level|, |short - level|
   * in the value's units; likelihood_weight x q), direction. */
  double ek[ES_LEVEL_TESTS], mag[ES_LEVEL_TESTS];
  int sk[ES_LEVEL_TESTS];
  double e;          /* the surprise, in sd: the alarm's test, else the largest */
  double p;          /* two-sided Gaussian tail of e */
  int sign;          /* +1: above the level, -1: below */
  int test;          /* the test that raised the alarm (es__level_alarm), -1 none */
  double bar;        /* the magnitude that test had to beat (0 with an alert open) */
  double sd;         /* the value's standard deviation */
  double short_next, lk_next; /* the short level and surprise average after this window */
} es_level_test;

/* Tests value `y` (variance at least var_floor). */
void es__level_eval(const es_detect_params *p, const es_detect_state *st, double y, double var_floor,
                    es_level_test *t);
/* Folds the window in: the short level and the likelihood always; the long
 * level and variance unless `hold` (residuals clipped at winsor sd once
 * `warm`). Call before st->nwindows counts the window. */
void es__level_learn(const es_detect_params *p, es_detect_state *st, double y, const es_level_test *t, bool hold,
                     bool warm);
void es__level_init(es_detect_state *st, double y);
/* Whether the window is a level-model alarm: some test's tail is at most
 * max_p and (unless an alert is open) its magnitude beats record_margin x
 * that test's record. Sets t->e, t->p, t->sign, t->test to the strongest
 * such test (t->test -1 and e the largest surprise when none); returns
 * t->sign or 0. */
int es__level_alarm(const es_detect_params *p, const es_detect_state *st, es_level_test *t);
/* Record k (ES_LEVEL_RECORDS) as a magnitude must beat it (times
 * record_margin). */
double es__record_gate(const es_detect_params *p, const es_detect_state *st, int k);
/* Folds a window's magnitudes into the records (or only decays them,
 * `skip`). While an alert is open (`opened`: it opened with this window)
 * each record grows to at most record_growth x its value when the alert
 * opened. Call after the lifecycle, before st->nwindows counts the window. */
void es__record_update(const es_detect_params *p, es_detect_state *st, const es_level_test *t, bool skip,
                       bool opened);
/* A gauge's additive hour-of-day profile at a window start, and learning
 * residual `g` (value - level - profile) into it. */
double es__gauge_season(const es_detect_state *st, int64_t start_ms);
void es__gauge_season_learn(const es_detect_params *p, es_detect_state *st, int64_t start_ms, int64_t size_ms,
                            double g);

#endif
