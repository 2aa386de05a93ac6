/* The level model: how surprising a window's value is for its own series,
 * shared by gauge series (any measurement) and mention volume. Pure
 * arithmetic on the state passed in, O(1) per window; the aggregator thread
 * (or `earshot detect`) owns the state.
 *
 * Per window, with y the value (for volume: deseasonalised by the count
 * model's factors; for a gauge: less its own additive hour-of-day profile):
 *   - z:  y against a long exponentially weighted level and variance
 *         (half-life level_halflife), in standard deviations;
 *   - zs: a short level (half-life shift_halflife) against the long one, in
 *         units of the short level's own spread: a shift that no single
 *         window shows;
 *   - q:  the anomaly likelihood of the recent surprise: a short average
 *         (half-life likelihood_short) of min(|z|, 10) against the long-run
 *         mean and spread of that average (half-life likelihood_long), in
 *         standard deviations: what makes a series whose prediction errors
 *         suddenly grow (more noise, a new rhythm) surprising, where each
 *         window alone is not.
 * Each test alarms on its own: its tail (Gaussian, of |z|, |zs| or
 * likelihood_weight x q) at most max_p, and its magnitude (|y - level|,
 * |short - level| in the value's units, likelihood_weight x q) beyond
 * record_margin x that test's *record*: a decaying maximum (half-life
 * record_halflife) of the magnitudes of the series' earlier windows, as it
 * stood record_lag to 2 x record_lag windows ago, so the first windows of a
 * rising anomaly cannot raise the bar it is judged by. An alert raises
 * each record at most record_growth-fold: a second incident like the first
 * is heard, a pattern that repeats stops paging after a few repetitions. */
#include <math.h>

#include "detect_internal.h"

/* Surprise values above 10 sd say nothing more about a change of rhythm. */
#define LK_CAP 10.0

double es__alpha_of(double halflife) { return 1.0 - exp2(-1.0 / (halflife > 0 ? halflife : 1)); }

void es__level_eval(const es_detect_params *p, const es_detect_state *st, double y, double var_floor,
                    es_level_test *t) {
  /* A flat series has no variance: a floor of 0.1 % of its level (or
   * 1e-9) keeps z finite. */
  double fl = 1e-3 * fabs(st->lvl) + 1e-9, var = st->lvar > var_floor ? st->lvar : var_floor;
  t->sd = sqrt(var + fl * fl);
  t->z = (y - st->lvl) / t->sd;
  t->zs = 0;
  t->short_next = y;
  t->ek[0] = fabs(t->z);
  t->mag[0] = fabs(y - st->lvl);
  t->sk[0] = t->z >= 0 ? 1 : -1;
  t->ek[1] = t->mag[1] = 0;
  t->sk[1] = t->sk[0];
  if (p->shift_halflife > 0) {
    double as = es__alpha_of(p->shift_halflife);
    t->short_next = st->lshort + as * (y - st->lshort);
    t->zs = (t->short_next - st->lvl) / (t->sd * sqrt(as / (2 - as)));
    t->ek[1] = fabs(t->zs);
    t->mag[1] = fabs(t->short_next - st->lvl);
    t->sk[1] = t->zs >= 0 ? 1 : -1;
  }
  double u = fmin(fmax(t->ek[0], t->ek[1]), LK_CAP);
  t->lk_next = st->lk_short + es__alpha_of(p->likelihood_short) * (u - st->lk_short);
  t->q = (t->lk_next - st->lk_mean) / sqrt(st->lk_var + 1e-6);
  /* The likelihood's direction: where the short level stands. */
  t->ek[2] = t->mag[2] = p->likelihood_weight * t->q;
  t->sk[2] = t->short_next >= st->lvl ? 1 : -1;
  int best = 0;
  for (int k = 1; k < ES_LEVEL_TESTS; k++)
    if (t->ek[k] > t->ek[best]) best = k;
  t->e = t->ek[best];
  t->sign = t->sk[best];
  t->test = -1;
  t->p = erfc(t->e / sqrt(2.0));
}

/* The record of test k in direction `sign`: the value and the short level
 * keep one per direction (a series whose bursts go up still pages on a
 * fall), the likelihood one. */
static int record_of(int k, int sign) { return k < 2 ? 2 * k + (sign < 0) : 4; }

int es__level_alarm(const es_detect_params *p, const es_detect_state *st, es_level_test *t) {
  int best = -1;
  double bar[ES_LEVEL_TESTS];
  for (int k = 0; k < ES_LEVEL_TESTS; k++) {
    if (erfc(t->ek[k] / sqrt(2.0)) > p->max_p) continue;
    bar[k] = st->alert_open ? 0 : p->record_margin * es__record_gate(p, st, record_of(k, t->sk[k]));
    if (!st->alert_open && !(t->mag[k] > bar[k])) continue;
    if (best < 0 || t->ek[k] > t->ek[best]) best = k;
  }
  t->test = best;
  t->bar = best < 0 ? 0 : bar[best];
  if (best < 0) return 0;
  t->e = t->ek[best];
  t->sign = t->sk[best];
  t->p = erfc(t->e / sqrt(2.0));
  return t->sign;
}

void es__level_learn(const es_detect_params *p, es_detect_state *st, double y, const es_level_test *t, bool hold,
                     bool warm) {
  st->lshort = t->short_next;
  double al = fmax(es__alpha_of(p->likelihood_long), 1.0 / (double)(st->nwindows + 1));
  double d = t->lk_next - st->lk_mean;
  st->lk_short = t->lk_next;
  st->lk_mean += al * d;
  st->lk_var = (1 - al) * (st->lk_var + d * al * d);
  if (hold) return;
  double r = y - st->lvl;
  if (warm && fabs(r) > p->winsor * t->sd) r = (r > 0 ? p->winsor : -p->winsor) * t->sd;
  /* Early on, the plain mean and variance of what has been seen: a weight
   * of 1/3000 would leave the first value in charge for days. */
  double a = fmax(es__alpha_of(p->level_halflife), 1.0 / (double)(st->nwindows + 1)), incr = a * r;
  st->lvl += incr;
  st->lvar = (1 - a) * (st->lvar + r * incr);
}

const char *es_level_test_name(int test) {
  static const char *const names[] = {"value", "short_level", "likelihood"};
  return test >= 0 && test < ES_LEVEL_TESTS ? names[test] : "none";
}

void es__level_init(es_detect_state *st, double y) {
  st->lvl = st->lshort = y;
  st->lvar = st->lk_short = st->lk_mean = st->lk_var = 0;
}

double es__record_gate(const es_detect_params *p, const es_detect_state *st, int k) {
  if (p->record_lag <= 0) return st->record[k];
  int64_t j = st->nwindows % p->record_lag;
  return st->rec_prev[k] * exp2(-(double)(j + p->record_lag) / p->record_halflife);
}

void es__record_update(const es_detect_params *p, es_detect_state *st, const es_level_test *t, bool skip,
                       bool opened) {
  double decay = exp2(-1.0 / p->record_halflife), mag[ES_LEVEL_RECORDS] = {0};
  for (int k = 0; k < ES_LEVEL_TESTS; k++) mag[record_of(k, t->sk[k])] = t->mag[k] > 0 ? t->mag[k] : 0;
  for (int k = 0; k < ES_LEVEL_RECORDS; k++) {
    /* An alert may teach its record only so much: the same kind of event
     * again, some time later, is still heard; it stops paging after a few
     * repetitions, each of which raised the record. */
    if (opened) st->rec_cap[k] = p->record_growth * fmax(st->record[k], es__record_gate(p, st, k));
    double v = mag[k];
    if (!skip && st->alert_open && v > st->rec_cap[k]) v = st->rec_cap[k];
    st->record[k] = skip ? st->record[k] * decay : fmax(v, st->record[k] * decay);
    if (p->record_lag > 0 && st->nwindows % p->record_lag == p->record_lag - 1) {
      st->rec_prev[k] = st->rec_snap[k];
      st->rec_snap[k] = st->record[k];
    }
  }
}

/* The additive hour-of-day profile of a gauge (the count model's factors
 * are multiplicative): 24 offsets from the level, read with linear
 * interpolation between hour centres, each moving at the rate of
 * season_halflife days, kept summing to zero. */
/* The two hour bins around a window start (between hour centres) and the
 * weight of the second. */
static double hour_pair(int64_t start_ms, int *h0, int *h1) {
  double hf = (double)((start_ms % 86400000 + 86400000) % 86400000) / 3600000.0 - 0.5;
  double fl = floor(hf);
  *h0 = ((int)fl + 24) % 24;
  *h1 = (*h0 + 1) % 24;
  return hf - fl;
}

double es__gauge_season(const es_detect_state *st, int64_t start_ms) {
  int h0, h1;
  double w = hour_pair(start_ms, &h0, &h1);
  return st->hod[h0] * (1 - w) + st->hod[h1] * w;
}

void es__gauge_season_learn(const es_detect_params *p, es_detect_state *st, int64_t start_ms, int64_t size_ms,
                            double g) {
  if (p->season_halflife <= 0 || size_ms >= 86400000) return;
  int h0, h1;
  double w = hour_pair(start_ms, &h0, &h1);
  /* An hour is visited 3600 / size times a day. */
  double per_hour = 3600000.0 / (double)size_ms;
  if (per_hour < 1) per_hour = 1;
  double a = es__alpha_of(p->season_halflife) / per_hour;
  st->hod[h0] += (float)((1 - w) * g * a);
  st->hod[h1] += (float)(w * g * a);
  double mean = 0;
  for (int h = 0; h < 24; h++) mean += st->hod[h];
  mean /= 24;
  for (int h = 0; h < 24; h++) st->hod[h] -= (float)mean;
}
