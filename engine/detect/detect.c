/* Detection v1: online baselines and window classification (see
 * include/earshot/detect.h). Pure arithmetic on the state passed in; the
 * aggregator thread owns one state per query and window size.
 *
 * Tail probabilities use the identity P(X >= k) = P(k, mu) for Poisson X,
 * where P is the regularised lower incomplete gamma function, evaluated by
 * its power series when mu < k + 1 (the spike region, where it stays
 * accurate down to 1e-300) and by a continued fraction otherwise. */
#include <math.h>

#include "earshot/detect.h"

const char *es_class_name(int cls) {
  switch (cls) {
  case ES_CLASS_NOISE: return "noise";
  case ES_CLASS_SPIKE: return "spike";
  case ES_CLASS_THRESHOLD: return "threshold";
  default: return "normal";
  }
}

void es_detect_params_default(es_detect_params *p) {
  p->min_support = 10;
  p->min_lift = 3.0;
  p->max_p = 1e-6;
  p->halflife = 30;
  p->warmup = 10;
  p->min_expected = 1.0;
  p->freeze = 60;
}

/* Regularised lower incomplete gamma P(a, x), a > 0. */
static double gamma_p(double a, double x) {
  if (x <= 0) return 0;
  double lg = lgamma(a);
  if (x < a + 1) {
    double ap = a, del = 1.0 / a, sum = del;
    for (int n = 0; n < 10000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (fabs(del) < fabs(sum) * 1e-15) break;
    }
    return sum * exp(-x + a * log(x) - lg);
  }
  /* Lentz's continued fraction for Q(a, x); P = 1 - Q. */
  double b = x + 1 - a, c = 1.0 / 1e-300, d = 1.0 / b, h = d;
  for (int i = 1; i < 10000; i++) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (fabs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (fabs(c) < 1e-300) c = 1e-300;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1) < 1e-15) break;
  }
  double q = exp(-x + a * log(x) - lg) * h;
  return 1.0 - q;
}

double es_detect_tail(double k, double mu, double phi) {
  if (k <= 0) return 1.0;
  if (phi < 1) phi = 1;
  if (mu <= 0) return 0.0;
  return gamma_p(k / phi, mu / phi);
}

static void ew_update(es_detect_state *st, double alpha, double x) {
  double diff = x - st->mean, incr = alpha * diff;
  st->mean += incr;
  st->var = (1 - alpha) * (st->var + diff * incr);
}

void es_detect_window(const es_detect_params *p, es_detect_state *st, int64_t index, uint64_t count, uint64_t negative,
                      int64_t negative_at_least, int64_t count_at_least, es_detect_result *out) {
  double alpha = 1.0 - exp2(-1.0 / (p->halflife > 0 ? p->halflife : 1));
  if (st->init && index > st->last_index + 1) {
    /* Empty windows since the last one: each is a zero observation. After a
     * few hundred half-lives the state no longer changes, so the loop is
     * bounded by 20 half-lives. */
    int64_t gap = index - st->last_index - 1, cap = (int64_t)(p->halflife * 20) + 1;
    for (int64_t i = 0; i < gap && i < cap; i++) ew_update(st, alpha, 0);
    st->nwindows += gap;
  }
  out->threshold_breached = (negative_at_least > 0 && (int64_t)negative >= negative_at_least) ||
                            (count_at_least > 0 && (int64_t)count >= count_at_least);
  out->warming_up = st->nwindows < p->warmup;
  double x = (double)count;
  if (!st->init) {
    out->expected = out->lift = out->p_value = NAN;
  } else {
    double mu = st->mean > p->min_expected ? st->mean : p->min_expected;
    double phi = st->var > mu ? st->var / mu : 1.0;
    out->expected = mu;
    out->lift = x / mu;
    out->p_value = es_detect_tail(x, mu, phi);
  }
  if (count < (uint64_t)p->min_support) out->cls = ES_CLASS_NOISE;
  else if (!out->warming_up && st->init && out->lift >= p->min_lift && out->p_value <= p->max_p) out->cls = ES_CLASS_SPIKE;
  else out->cls = ES_CLASS_NORMAL;
  if (out->threshold_breached && out->cls != ES_CLASS_SPIKE) out->cls = ES_CLASS_THRESHOLD;

  /* Fold into the baseline, winsorised at mean + 3 sd once warmed up. A
   * spike window is not folded in at all while the spike run is shorter
   * than `freeze` windows, so an incident cannot drag its own baseline up
   * and "become normal" within minutes; a lasting level shift is learnt
   * after that. */
  st->spike_run = out->cls == ES_CLASS_SPIKE ? st->spike_run + 1 : 0;
  if (!st->init) {
    st->mean = x;
    st->var = 0;
    st->init = true;
  } else if (st->spike_run == 0 || st->spike_run > p->freeze) {
    if (!out->warming_up) {
      double sd = sqrt(st->var > st->mean ? st->var : (st->mean > 1 ? st->mean : 1));
      double cap = st->mean + 3 * sd;
      if (x > cap) x = cap;
    }
    ew_update(st, alpha, x);
  }
  st->last_index = index;
  st->nwindows++;
}
