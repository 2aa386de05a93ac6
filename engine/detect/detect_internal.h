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
  double e;          /* the surprise, in sd: max(|z|, |zs|, likelihood_weight x q) */
  double p;          /* two-sided Gaussian tail of e */
  int sign;          /* +1: above the level, -1: below */
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
/* The record a window's surprise must beat (times record_margin). */
double es__record_gate(const es_detect_params *p, const es_detect_state *st);
/* Folds a window's surprise into the record (or only decays it, `skip`).
 * Call before st->nwindows counts the window. */
void es__record_update(const es_detect_params *p, es_detect_state *st, double e, bool skip);
/* A gauge's additive hour-of-day profile at a window start, and learning
 * residual `g` (value - level - profile) into it. */
double es__gauge_season(const es_detect_state *st, int64_t start_ms);
void es__gauge_season_learn(const es_detect_params *p, es_detect_state *st, int64_t start_ms, int64_t size_ms,
                            double g);

#endif
