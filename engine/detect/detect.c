/* Detection v3: online baselines and window classification (see
 * include/earshot/detect.h). The level model that both kinds of series
 * share is in level.c; the parameter table is generated from
 * ES_DETECT_PARAMS. Pure arithmetic on the state passed in; the aggregator
 * thread owns one state per query and window size.
 *
 * Tail probabilities use the identity P(X >= k) = P(k, mu) for Poisson X,
 * where P is the regularised lower incomplete gamma function, evaluated by
 * its power series when mu < k + 1 (the spike region, where it stays
 * accurate down to 1e-300) and by a continued fraction otherwise. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/detect.h"
#include "earshot/error.h"
#include "detect_internal.h"

const char *es_class_name(int cls) {
  switch (cls) {
  case ES_CLASS_NOISE: return "noise";
  case ES_CLASS_SPIKE: return "spike";
  case ES_CLASS_THRESHOLD: return "threshold";
  case ES_CLASS_TREND: return "trend";
  case ES_CLASS_NEGATIVE: return "negative_surge";
  case ES_CLASS_DROP: return "drop";
  default: return "normal";
  }
}

void es_detect_params_default(es_detect_params *p) {
#define DEFAULT(name, type, def, lo, hi, doc) p->name = def;
  ES_DETECT_PARAMS(DEFAULT)
#undef DEFAULT
}

#define INFO(name, type, def, lo, hi, doc) {#name, doc, #type[0], offsetof(es_detect_params, name), lo, hi},
static const es_detect_param_info param_info[] = {ES_DETECT_PARAMS(INFO)};
#undef INFO
#define NAME(name, type, def, lo, hi, doc) #name,
static const char *const param_names[] = {ES_DETECT_PARAMS(NAME) NULL};
#undef NAME

const es_detect_param_info *es_detect_param_find(const char *name) {
  for (size_t i = 0; name && i < sizeof param_info / sizeof *param_info; i++)
    if (!strcmp(param_info[i].name, name)) return &param_info[i];
  return NULL;
}

const char *const *es_detect_param_names(void) { return param_names; }

int es_detect_param_set(es_detect_params *p, const char *name, const char *value, es_diag *d) {
  const es_detect_param_info *pi = es_detect_param_find(name);
  if (!pi) return es_diag_set(d, ES_EINVAL, "unknown detection parameter '%s'", name ? name : "");
  char *end;
  errno = 0;
  double x = value ? strtod(value, &end) : NAN;
  if (!value || !*value || *end || errno == ERANGE || !(x >= pi->lo && x <= pi->hi) ||
      (pi->type == 'i' && x != floor(x)))
    return es_diag_set(d, ES_EINVAL, "detection parameter '%s' must be %s between %g and %g, not '%s'", name,
                       pi->type == 'i' ? "a whole number" : "a number", pi->lo, pi->hi, value ? value : "");
  if (pi->type == 'i') *(int64_t *)((char *)p + pi->offset) = (int64_t)x;
  else *(double *)((char *)p + pi->offset) = x;
  return 0;
}

const char *es_alert_state_name(int state) {
  switch (state) {
  case ES_ALERT_OPENED: return "opened";
  case ES_ALERT_UPDATED: return "updated";
  case ES_ALERT_RESOLVED: return "resolved";
  default: return "none";
  }
}

/* Severity 1-5 of an alerting window from its magnitude: the lift for a
 * spike or trend, its inverse for a drop, the negative share's lift for a
 * surge; a user threshold is 1 unless the volume says more. */
static int severity_of(const es_detect_result *r, double share_lift) {
  double m = r->lift == r->lift ? r->lift : 1;
  if (r->cls == ES_CLASS_DROP) m = r->lift > 0 ? 1 / r->lift : 100;
  if (r->cls == ES_CLASS_NEGATIVE) m = share_lift;
  int s = 1 + (m >= 2) + (m >= 3) + (m >= 5) + (m >= 10);
  if (r->p_value == r->p_value && r->p_value < 1e-30 && s < 5 && r->cls != ES_CLASS_DROP) s++;
  return s > 5 ? 5 : s;
}

/* The alert lifecycle after a classified window; `resolve_after` quiet
 * windows resolve an open alert (the count or the gauge setting). */
static void lifecycle(const es_detect_params *p, int64_t resolve_after, es_detect_state *st, int64_t index,
                      uint64_t count, double share_lift, es_detect_result *out) {
  bool alerting = es_detect_alerting(out->cls) || out->threshold_breached;
  out->alert_state = ES_ALERT_NONE;
  out->severity = alerting ? severity_of(out, share_lift) : 0;
  if (alerting) {
    if (!st->alert_open) {
      bool reopen = st->alert_opened >= 0 && p->cooldown > 0 && index - st->alert_resolved <= p->cooldown;
      out->alert_state = reopen ? ES_ALERT_UPDATED : ES_ALERT_OPENED;
      if (!reopen) {
        st->alert_opened = index;
        st->alert_windows = 0;
        st->alert_peak_lift = 0;
        st->alert_peak_count = 0;
        st->alert_classes = 0;
        st->alert_severity = 0;
      }
      st->alert_open = true;
    } else {
      out->alert_state = ES_ALERT_UPDATED;
    }
    st->alert_last = index;
    st->alert_quiet = 0;
    st->alert_windows++;
    double lift = out->lift == out->lift ? out->lift : 0;
    if (lift > st->alert_peak_lift) st->alert_peak_lift = lift;
    if (count > st->alert_peak_count) st->alert_peak_count = count;
    st->alert_classes |= 1u << out->cls;
    if (out->threshold_breached) st->alert_classes |= 1u << ES_CLASS_THRESHOLD;
    if (out->severity > st->alert_severity) st->alert_severity = out->severity;
  } else if (st->alert_open) {
    /* Quiet windows since the last alerting one, empty ones included. */
    st->alert_quiet = index - st->alert_last;
    if (st->alert_quiet >= resolve_after) {
      out->alert_state = ES_ALERT_RESOLVED;
      st->alert_open = false;
      st->alert_resolved = index;
    }
  }
  out->alert_opened = st->alert_opened;
  out->alert_severity = st->alert_severity;
  out->alert_windows = st->alert_windows;
  out->alert_peak_lift = st->alert_peak_lift;
  out->alert_peak_count = st->alert_peak_count;
  out->alert_classes = st->alert_classes;
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

/* Regularised incomplete beta I_x(a, b) by its continued fraction. */
static double beta_cf(double a, double b, double x) {
  double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
  if (fabs(d) < 1e-300) d = 1e-300;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 10000; m++) {
    double m2 = 2.0 * m, aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (fabs(d) < 1e-300) d = 1e-300;
    c = 1 + aa / c;
    if (fabs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (fabs(d) < 1e-300) d = 1e-300;
    c = 1 + aa / c;
    if (fabs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1) < 1e-15) break;
  }
  return h;
}

static double beta_i(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double bt = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return bt * beta_cf(a, b, x) / a;
  return 1 - bt * beta_cf(b, a, 1 - x) / b;
}

/* P(X >= k) for X negative binomial with mean mu and shape r (variance
 * mu + mu^2 / r): I_q(k, r) with q = mu / (mu + r). */
static double nb_tail(double k, double mu, double r) {
  if (k <= 0) return 1.0;
  if (mu <= 0) return 0.0;
  return beta_i(k, r, mu / (mu + r));
}

double es_detect_tail(double k, double mu, double phi) {
  if (k <= 0) return 1.0;
  if (phi < 1) phi = 1;
  if (mu <= 0) return 0.0;
  return gamma_p(k / phi, mu / phi);
}

double es_detect_lower_tail(double k, double mu, double phi) {
  if (k < 0) return 0.0;
  if (phi < 1) phi = 1;
  if (mu <= 0) return 1.0;
  /* P(X <= k) = 1 - P(X >= k + 1) */
  return 1.0 - gamma_p((k + 1) / phi, mu / phi);
}

static void ew_update(es_detect_state *st, double alpha, double x) {
  double diff = x - st->mean, incr = alpha * diff;
  st->mean += incr;
  st->var = (1 - alpha) * (st->var + diff * incr);
}


#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL

/* The hour-of-day (UTC) and day-of-week (Monday 0) bins of a window start. */
static int hour_bin(int64_t start_ms) { return (int)((start_ms % DAY_MS + DAY_MS) % DAY_MS / HOUR_MS); }
static int day_bin(int64_t start_ms) { return (int)(((start_ms / DAY_MS) % 7 + 7 + 3) % 7); } /* 1970-01-01: a Thursday */

/* History after which the hour-of-day factors are used. */
#define HOD_AFTER (2 * DAY_MS)

/* The day-of-week factors are the mean volume of each weekday (complete
 * days only, each new one weighing half), used once all seven have been
 * seen: a day's mean volume does not depend on the hour-of-day factors, so
 * the first days, before those are learnt, teach them nothing wrong. */
static bool dow_ready(const es_detect_state *st) { return st->dow_seen == 0x7f; }

/* The seasonal factor of a window, each part normalised to mean 1. */
static double season_factor(const es_detect_state *st, int64_t start_ms, int64_t hist_ms) {
  double f = 1;
  if (hist_ms >= HOD_AFTER) {
    double m = 0;
    for (int h = 0; h < 24; h++) m += st->hod[h];
    if (m > 0) f *= st->hod[hour_bin(start_ms)] * 24 / m;
  }
  if (dow_ready(st)) {
    double m = 0;
    for (int d = 0; d < 7; d++) m += st->dow[d];
    if (m > 0) f *= st->dow[day_bin(start_ms)] * 7 / m;
  }
  return f > 0.05 ? f : 0.05;
}

static int64_t day_of(int64_t start_ms) { return start_ms >= 0 ? start_ms / DAY_MS : -((-start_ms + DAY_MS - 1) / DAY_MS); }

/* A window of a new day closes the day before: a complete one (every
 * window of it seen, empty ones included) updates its weekday. */
static void dow_roll(es_detect_state *st, int64_t start_ms, int64_t size_ms) {
  int64_t day = day_of(start_ms), per_day = DAY_MS / size_ms;
  if (day == st->acc_day) return;
  if (per_day >= 1 && st->acc_n >= per_day && day == st->acc_day + 1) {
    double mean = st->acc_sum / (double)st->acc_n;
    int d = day_bin(st->acc_day * DAY_MS);
    st->dow[d] = (st->dow_seen >> d) & 1 ? (float)(st->dow[d] + 0.5 * (mean - st->dow[d])) : (float)mean;
    st->dow_seen |= (uint8_t)(1u << d);
  }
  st->acc_day = day;
  st->acc_sum = 0;
  st->acc_n = 0;
}

/* Learns the hour-of-day factors from a window that is not part of an
 * alert: each hour's volume against a one-day level of the deseasonalised
 * volume. */
static void season_learn(const es_detect_params *p, es_detect_state *st, int64_t start_ms, int64_t size_ms,
                         double x) {
  double per_day = (double)DAY_MS / (double)(size_ms > 0 ? size_ms : 60000);
  /* The one-day level starts as a running mean (a warm start), then is
   * exponentially weighted with a half-life of a day. */
  double a_day = es__alpha_of(per_day), warm = 1.0 / (double)(st->nwindows + 1);
  if (warm > a_day) a_day = warm;
  int h = hour_bin(start_ms);
  double hf = st->hod[h], df = 1;
  if (dow_ready(st)) {
    double m = 0;
    for (int d = 0; d < 7; d++) m += st->dow[d];
    if (m > 0) df = st->dow[day_bin(start_ms)] * 7 / m;
  }
  if (df < 0.05) df = 0.05;
  st->day += a_day * (x / (hf * df > 0.05 ? hf * df : 0.05) - st->day);
  if (st->day <= 0) return;
  double per_hour = per_day / 24 > 1 ? per_day / 24 : 1;
  double rh = x / (st->day * df);
  if (rh > 10) rh = 10;
  /* Each day moves an hour bin by a weight w: the whole way (about two
   * thirds of it a day) over the first two days, while the one-day level
   * they are learnt against settles; a running mean of the days after,
   * then exponentially weighted (half-life hour_halflife days). Factors
   * that kept moving two thirds of the way each day made one busy hour, or
   * a burst at an hour, the next day's expectation. */
  double days = (double)st->nwindows / per_day, w = es__alpha_of(p->hour_halflife);
  double run = days < 2 ? 1 : 1 / (days - 1);
  if (run > w) w = run > 1 ? 1 : run;
  st->hod[h] += (float)((rh - hf) / per_hour * w);
}

static void state_init(const es_detect_params *p, es_detect_state *st) {
  st->disp = p->disp_prior;
  for (int h = 0; h < 24; h++) st->hod[h] = 1;
  for (int d = 0; d < 7; d++) st->dow[d] = 1;
  st->acc_day = INT64_MIN;
  st->alert_opened = st->alert_last = st->alert_resolved = -1;
}

static void level_evidence(const es_level_test *t, es_detect_result *out) {
  out->level_test = t->test;
  out->level_sd = t->e;
  out->level_magnitude = t->mag[t->test];
  out->level_bar = t->bar;
}

/* A gauge series (any measurement, not a mention count): the level model
 * alone (level.c) on the value less its hour-of-day profile; a window is a
 * spike (or a drop) when its surprise's two-sided tail is at most max_p and
 * the surprise is beyond the series' record. Missing windows are missing,
 * not zeros. */
static void gauge_window(const es_detect_params *p, es_detect_state *st, const es_detect_obs *o,
                         es_detect_result *out) {
  int64_t size = o->size_ms > 0 ? o->size_ms : 60000, start_ms = o->index * size;
  double x = o->value, sea = st->init ? es__gauge_season(st, start_ms) : 0, y = x - sea;
  out->season = 1;
  out->neg_share_expected = NAN;
  out->threshold_breached = false;
  out->warming_up = st->nwindows < p->gauge_warmup;
  out->level_test = -1;
  out->level_sd = out->level_magnitude = out->level_bar = 0;
  out->cls = ES_CLASS_NORMAL;
  es_level_test t = {0};
  if (!st->init) {
    out->expected = out->lift = out->p_value = NAN;
    es__level_init(st, x);
    for (int h = 0; h < 24; h++) st->hod[h] = 0;
    st->init = true;
  } else {
    es__level_eval(p, st, y, 0, &t);
    out->expected = st->lvl + sea;
    out->lift = out->expected != 0 ? x / out->expected : NAN;
    int sign = out->warming_up ? 0 : es__level_alarm(p, st, &t);
    out->p_value = t.p;
    if (sign) {
      level_evidence(&t, out);
      out->cls = sign > 0 ? ES_CLASS_SPIKE : ES_CLASS_DROP;
    }
  }
  lifecycle(p, p->gauge_resolve_after, st, o->index, 0, 1, out);
  /* The records take every window, an alert's only up to record_growth x
   * what they were when it opened. */
  if (!out->warming_up) es__record_update(p, st, &t, false, out->alert_state == ES_ALERT_OPENED);
  bool alerting = es_detect_alerting(out->cls);
  st->spike_run = alerting ? st->spike_run + 1 : 0;
  if (st->nwindows > 0) {
    double g = x - st->lvl - sea;
    if (!out->warming_up && fabs(g) > p->winsor * t.sd) g = (g > 0 ? p->winsor : -p->winsor) * t.sd;
    es__gauge_season_learn(p, st, start_ms, size, g);
    es__level_learn(p, st, y, &t, st->spike_run > 0 && st->spike_run <= p->freeze, !out->warming_up);
  }
  st->last_index = o->index;
  st->nwindows++;
}

void es_detect_window(const es_detect_params *p, es_detect_state *st, const es_detect_obs *o, es_detect_result *out) {
  if (o->gauge) {
    if (!st->init) state_init(p, st);
    gauge_window(p, st, o, out);
    return;
  }
  double alpha = es__alpha_of(p->halflife), a_slow = es__alpha_of(p->trend_halflife);
  int64_t size = o->size_ms > 0 ? o->size_ms : 60000, start_ms = o->index * size;
  if (!st->init) state_init(p, st);
  if (isnan(st->disp)) st->disp = p->disp_prior; /* a state saved before it existed */
  if (st->init && o->index > st->last_index + 1) {
    /* Empty windows since the last one: each is a zero observation. After a
     * few hundred half-lives the state no longer changes, so the loop is
     * bounded by 20 half-lives. */
    int64_t gap = o->index - st->last_index - 1, cap = (int64_t)(p->trend_halflife * 20) + 1;
    for (int64_t i = 0; i < gap && i < cap; i++) {
      int64_t gs = (st->last_index + 1 + i) * size;
      ew_update(st, alpha, 0);
      st->slow -= a_slow * st->slow;
      st->neg -= alpha * st->neg;
      st->auth -= alpha * st->auth;
      season_learn(p, st, gs, size, 0);
      dow_roll(st, gs, size);
      st->acc_n++;
      /* The level model sees the empty window too. */
      es_level_test gt;
      es__level_eval(p, st, 0, st->lvl > 0 ? st->lvl : 0, &gt);
      es__record_update(p, st, &gt, st->nwindows < p->level_warmup, false);
      es__level_learn(p, st, 0, &gt, false, st->nwindows >= p->level_warmup);
      st->nwindows++;
    }
    if (gap > cap) st->nwindows += gap - cap;
    st->spike_run = st->trend_run = st->neg_run = 0;
  }
  int64_t hist_ms = st->nwindows * size;
  if (st->init && st->nwindows > 0) {
    /* The seasonal factors change with this window: the hour-of-day ones
     * switch on, or a day ends and its weekday's mean (or, the first
     * time all are known, the day-of-week factors) changes. The levels
     * were learnt in the old terms (at the first Monday, a weekend level
     * without weekday correction); restate them in the new ones, by the
     * factors of the last window folded in. */
    int64_t prev_start = (o->index - 1) * size, prev_hist = hist_ms - size;
    double f_old = season_factor(st, prev_start, prev_hist);
    dow_roll(st, start_ms, size);
    double g = season_factor(st, prev_start, hist_ms) / f_old;
    if (g != 1 && g > 0) {
      st->mean /= g;
      st->var /= g * g;
      st->slow /= g;
      st->neg /= g;
      st->auth /= g;
      /* The level model's short level is recent volume in the same
       * terms; its long level and spread average over every hour and
       * day, which the factors leave as they were. */
      st->lshort /= g;
    }
  } else {
    dow_roll(st, start_ms, size);
  }
  double f = season_factor(st, start_ms, hist_ms);
  out->season = f;
  out->threshold_breached = (o->negative_at_least > 0 && (int64_t)o->negative >= o->negative_at_least) ||
                            (o->count_at_least > 0 && (int64_t)o->count >= o->count_at_least);
  out->warming_up = st->nwindows < p->warmup;
  out->level_test = -1;
  out->level_sd = out->level_magnitude = out->level_bar = 0;
  double x = (double)o->count, xs = x / f, nx = (double)o->negative;
  double mu = 0, phi = 1, r_shape = INFINITY;
  if (!st->init) {
    out->expected = out->lift = out->p_value = out->neg_share_expected = NAN;
  } else {
    double m = st->mean * f;
    mu = m > p->min_expected ? m : p->min_expected;
    /* The fast variance is of deseasonalised counts (x / f): a window's
     * own dispersion is Var(x) / E(x) = f var / mean. */
    phi = st->mean > 0 && f * st->var > st->mean ? f * st->var / st->mean : 1.0;
    /* The slow estimate of the over-dispersion, when it says more. */
    double disp = st->disp > 0 ? st->disp : 0;
    if (1 + mu * disp > phi) phi = 1 + mu * disp;
    if (disp > 0) r_shape = 1 / disp;
    out->expected = mu;
    out->lift = x / mu;
    out->p_value = es_detect_tail(x, mu, phi);
    /* Volume noise is partly multiplicative (var = mu + mu^2 / r, the
     * gamma-Poisson or negative binomial model): at high volume its tail
     * is the gamma tail of the lift, heavier than the quasi-Poisson one.
     * The larger of the two is used. */
    if (st->mean > 0 && st->var > st->mean / f) {
      /* Var(x) = f^2 var = mu + mu^2 / r with mu = f mean. */
      double r_fast = st->mean * st->mean / (st->var - st->mean / f);
      if (r_fast < r_shape) r_shape = r_fast;
    }
    /* At most disp_max of it: a series more heavy-tailed than that (the
     * load balancer behind a busy site, mention volume in bursts) would
     * excuse a 7x burst as its usual variation; such tails are the level
     * model's records' business, which learn them from the series. */
    if (p->disp_max > 0 && r_shape < 1 / p->disp_max) r_shape = 1 / p->disp_max;
    if (!isinf(r_shape)) {
      /* The negative binomial tail (a continued fraction) only where it can
       * change a decision: when the quasi-Poisson one is already small. */
      if (out->p_value <= p->max_p) {
        double g = nb_tail(x, mu, r_shape);
        if (g > out->p_value) out->p_value = g;
      }
    }
    out->neg_share_expected = st->mean > 0 ? st->neg / st->mean : NAN;
  }
  bool ready = st->init && !out->warming_up;
  bool drop = ready && mu >= p->drop_min_expected && x <= p->drop_ratio * mu &&
              es_detect_lower_tail(x, mu, phi) <= p->max_p &&
              (isinf(r_shape) || 1 - nb_tail(x + 1, mu, r_shape) <= p->max_p);
  bool spike = ready && out->lift >= p->min_lift && out->p_value <= p->max_p;
  /* A blip: a window that would be a spike, whose excess is carried by
   * fewer than min_authors authors beyond the usual ones. */
  double auth_expected = st->init ? st->auth * f : 0;
  bool noise = o->count < (uint64_t)p->min_support || o->authors < (uint64_t)p->min_authors ||
               (spike && (double)o->authors - floor(auth_expected) < (double)p->min_authors);
  if (spike && !noise && o->top2 > 0) {
    /* Without the two most active authors' extra mentions (one each is
     * theirs to post), would it still be a spike? */
    double rest = x - (double)o->top2 + fmin((double)o->top2, 2.0);
    if (rest < 0) rest = 0;
    noise = !(rest >= p->min_lift * mu && es_detect_tail(rest, mu, phi) <= p->max_p);
  }
  bool blip = spike && noise; /* carried by a few accounts: not the volume's own variation */
  bool negative = false;
  double p0 = out->neg_share_expected;
  if (ready && !noise && p0 == p0 && x > 0) {
    double share = nx / x, base = p0 < 0.01 ? 0.01 : p0 > 0.99 ? 0.99 : p0;
    negative = share >= p->neg_min_lift * base && nx >= 5 && es_detect_tail(nx, base * x, 1) <= p->max_p;
  }
  /* The slow climb: the fast level well above the slow one, significantly,
   * for trend_windows windows in a row; only once the hour-of-day factors
   * have three days of history (before, the daily ramp is a "trend"). */
  bool settled = hist_ms >= 3 * DAY_MS;
  bool climbing = false;
  if (ready && settled && st->nwindows >= (int64_t)(2 * p->trend_halflife) && st->slow > 0) {
    double sd_fast = sqrt((st->var > st->mean ? st->var : st->mean) * alpha / (2 - alpha));
    climbing = st->mean >= p->trend_lift * st->slow && sd_fast > 0 && (st->mean - st->slow) / sd_fast >= 4;
  }
  st->trend_run = climbing ? st->trend_run + 1 : 0;
  /* CUSUMs: log-likelihood ratios of a shifted Poisson rate against the
   * reference, scaled down by the over-dispersion: what accumulates over
   * windows that are each unremarkable. The volume references the slow
   * level (frozen during an alarm), the negatives the baseline share. */
  bool cus_trend = false, cus_drop = false, cus_neg = false;
  if (ready && settled && st->slow > 0) {
    double ref = st->slow * f;
    if (ref < p->min_expected) ref = p->min_expected;
    /* Dispersion at this level: quasi-Poisson, or the negative binomial
     * 1 + ref / r when that is larger. One window adds at most a third of
     * the alarm level: a single odd window is the spike test's business. */
    double disp = phi > 1 ? phi : 1;
    if (!isinf(r_shape) && 1 + ref / r_shape > disp) disp = 1 + ref / r_shape;
    double cap = p->cusum_h / 3;
    /* Targets: twice the volume; half the drop ratio (an outage, not a
     * quiet hour); 1.8x the negative share. An alarm restarts its CUSUM,
     * so a lasting shift raises it again only on fresh evidence. */
    double dr = p->drop_ratio / 2;
    double up = fmin((x * log(2.0) - ref) / disp, cap);
    double down = fmin((ref * (1 - dr) + x * log(dr)) / disp, cap);
    st->cus_up = fmax(0, st->cus_up + up);
    st->cus_down = ref >= p->drop_min_expected / 4 ? fmax(0, st->cus_down + down) : 0;
    if ((cus_trend = st->cus_up >= p->cusum_h)) st->cus_up = 0;
    if ((cus_drop = st->cus_down >= p->cusum_h)) st->cus_down = 0;
    if (p0 == p0 && x > 0) {
      double base = p0 < 0.01 ? 0.01 : p0 > 0.99 ? 0.99 : p0, nref = base * x;
      st->cus_neg = fmax(0, st->cus_neg + fmin(nx * log(1.8) - 0.8 * nref, cap));
      if ((cus_neg = st->cus_neg >= p->cusum_h)) st->cus_neg = 0;
    }
  }
  /* The level model (level.c) on the deseasonalised volume, with the
   * Poisson variance as its floor: how surprising the window is for this
   * series, and whether that is beyond its record. Every volume alarm of
   * the count model (spike, drop, trend) must also be a level-model alarm
   * in the same direction: real volume has heavier tails and more rhythm
   * than any count model, and this is what keeps such a series quiet on
   * its usual bursts while a well-modelled one alerts as before. Every
   * class obeys min_support and min_authors. */
  es_level_test lt = {0};
  bool lvl_up = false, lvl_down = false;
  if (st->init) {
    es__level_eval(p, st, xs, st->lvl > 0 ? st->lvl / f : 0, &lt);
    int sign = ready ? es__level_alarm(p, st, &lt) : 0;
    lvl_up = sign > 0;
    lvl_down = sign < 0;
    if (sign) level_evidence(&lt, out);
  }
  /* A drop's support is its expected volume (at least drop_min_expected
   * for the one-window test, min_support for the CUSUM). */
  if ((drop || (cus_drop && mu >= (double)p->min_support)) && lvl_down) out->cls = ES_CLASS_DROP;
  else if (noise) out->cls = ES_CLASS_NOISE;
  else if (spike && lvl_up) out->cls = ES_CLASS_SPIKE;
  else if (negative || cus_neg) out->cls = ES_CLASS_NEGATIVE;
  else if ((st->trend_run >= p->trend_windows || cus_trend) && lvl_up) out->cls = ES_CLASS_TREND;
  else out->cls = ES_CLASS_NORMAL;
  if (out->threshold_breached && !es_detect_alerting(out->cls)) out->cls = ES_CLASS_THRESHOLD;
  /* The level model's evidence belongs to the volume classes it confirmed. */
  if (out->cls != ES_CLASS_SPIKE && out->cls != ES_CLASS_DROP && out->cls != ES_CLASS_TREND) out->level_test = -1;
  double share_lift = p0 == p0 && p0 > 0 && x > 0 ? (nx / x) / p0 : 1;
  lifecycle(p, p->resolve_after, st, o->index, o->count, share_lift, out);
  /* The level model learns every window of its first level_warmup (its
   * records start after them, and alerting windows are not held out
   * before): a young model has not seen the series' usual bursts, and
   * holding them out would leave it a level and spread that never had them,
   * so that each of them pages. */
  bool level_warm = st->nwindows >= p->level_warmup;
  if (level_warm) es__record_update(p, st, &lt, false, out->alert_state == ES_ALERT_OPENED);
  if (!st->init) es__level_init(st, xs);
  else es__level_learn(p, st, xs, &lt, level_warm && es_detect_alerting(out->cls) && st->spike_run < p->freeze, level_warm);

  /* Fold into the baselines. Spike and drop windows stay out of them while
   * their run is shorter than `freeze` windows, so an incident cannot drag
   * its own baseline along and "become normal" within minutes; a lasting
   * level shift is learnt after that. Other windows are winsorised at
   * mean + 3 sd once warmed up. The negative share freezes during a surge,
   * the slow level during a trend, the seasonal factors during any. */
  bool shock = out->cls == ES_CLASS_SPIKE || out->cls == ES_CLASS_DROP;
  st->spike_run = shock ? st->spike_run + 1 : 0;
  st->neg_run = out->cls == ES_CLASS_NEGATIVE ? st->neg_run + 1 : 0;
  if (!st->init) {
    st->mean = st->slow = st->day = xs;
    st->neg = nx / f;
    st->auth = (double)o->authors / f;
    st->var = 0;
    st->init = true;
  } else if (st->spike_run == 0 || st->spike_run > p->freeze) {
    double xw = xs;
    if (!out->warming_up) {
      double sd = sqrt(st->var > st->mean ? st->var : (st->mean > 1 ? st->mean : 1));
      double cap = st->mean + 3 * sd;
      if (xw > cap) xw = cap;
    }
    /* The over-dispersion, from ordinary windows with some volume: the
     * relative excess of the squared residual over the Poisson variance,
     * each window's share bounded; the prior weighs like 30 windows. */
    double m = st->mean * f;
    if (!es_detect_alerting(out->cls) && !blip && st->spike_run == 0 && m >= 1) {
      double e = ((x - m) * (x - m) - m) / (m * m);
      e = e < -1 ? -1 : e > 3 ? 3 : e;
      double a = fmax(a_slow, 1.0 / (double)(st->nwindows + 30));
      st->disp += a * (e - st->disp);
    }
    ew_update(st, alpha, xw);
    st->auth += alpha * ((double)o->authors / f - st->auth);
    if (st->neg_run == 0 || st->neg_run > p->freeze) st->neg += alpha * (nx / f - st->neg);
    if ((st->trend_run < p->trend_windows && out->cls != ES_CLASS_TREND) || st->trend_run > 6 * p->freeze) {
      st->slow += a_slow * (xw - st->slow);
      st->shift_run = 0;
    } else if (st->shift_run++ == 0) {
      st->shift_ref = st->mean;
    } else if (st->shift_run > p->freeze) {
      /* The slow level has been held for `freeze` windows. If the fast
       * level stopped climbing meanwhile (within 5 % of where it stood
       * when the hold began; a linear climb to 2x over 4 hours still
       * moves 12 % in an hour), the rise has become a lasting level: it
       * is learnt at once, so the trend alert resolves instead of staying
       * open for days. A climb still under way is held on. */
      if (fabs(st->mean - st->shift_ref) <= 0.05 * st->shift_ref) {
        st->slow = st->mean;
        st->cus_up = 0;
        st->trend_run = 0;
      }
      st->shift_run = 0;
    }
    /* Not during an incident, nor while the level climbs (a trend would
     * be learnt as "this hour is busy") or falls (the first windows of an
     * outage, before it is called, would make this hour quiet tomorrow,
     * and its ordinary volume then a climb); before the factors have 4 days of
     * history the climb test is off: the daily ramp itself looks like one. */
    if (st->spike_run == 0 && st->neg_run == 0 && st->trend_run == 0 && st->cus_up < p->cusum_h / 2 &&
        st->cus_down < p->cusum_h / 2)
      season_learn(p, st, start_ms, size, xw * f);
  }
  /* The day's volume, for its weekday: an alerting window counts as
   * expected. */
  st->acc_sum += es_detect_alerting(out->cls) && mu > 0 ? mu : x;
  st->acc_n++;
  st->last_index = o->index;
  st->nwindows++;
}

void es_detect_state_format(const es_detect_state *st, char *buf, size_t n) {
  int k = snprintf(buf, n, "v6 %a %a %a %a %a %a %a %a %a %a %a %a %a %a %a %a %a %a %a %a %a %a %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %llu %u %d %d %u",
                   st->mean, st->var, st->slow, st->neg, st->day, st->auth, st->cus_up, st->cus_down, st->cus_neg,
                   st->alert_peak_lift, st->disp, st->acc_sum, st->record[0], st->shift_ref, st->lvl, st->lvar, st->lshort,
                   st->lk_short, st->lk_mean, st->lk_var, st->rec_snap[0], st->rec_prev[0], (long long)st->alert_opened, (long long)st->alert_last,
                   (long long)st->alert_resolved, (long long)st->alert_quiet, (long long)st->alert_windows,
                   (long long)st->last_index, (long long)st->nwindows, (long long)st->spike_run,
                   (long long)st->trend_run, (long long)st->neg_run, (long long)st->acc_day, (long long)st->acc_n,
                   (long long)st->shift_run, (unsigned long long)st->alert_peak_count, st->alert_classes, st->alert_severity, st->alert_open,
                   (unsigned)st->dow_seen);
  for (int h = 0; h < 24 && k > 0 && (size_t)k < n; h++) k += snprintf(buf + k, n - (size_t)k, " %a", (double)st->hod[h]);
  for (int d = 0; d < 7 && k > 0 && (size_t)k < n; d++) k += snprintf(buf + k, n - (size_t)k, " %a", (double)st->dow[d]);
  /* v6: the other tests' records and the caps of an open alert. */
  for (int t = 1; t < ES_LEVEL_RECORDS && k > 0 && (size_t)k < n; t++)
    k += snprintf(buf + k, n - (size_t)k, " %a %a %a", st->record[t], st->rec_snap[t], st->rec_prev[t]);
  for (int t = 0; t < ES_LEVEL_RECORDS && k > 0 && (size_t)k < n; t++)
    k += snprintf(buf + k, n - (size_t)k, " %a", st->rec_cap[t]);
}

int es_detect_state_parse(const char *text, es_detect_state *st) {
  /* v3 (before the slow over-dispersion and the daily day-of-week means)
   * is read too: disp NaN = the prior; its day-of-week factors stay in use. */
  es_detect_state s = {.init = true, .disp = NAN, .acc_day = INT64_MIN, .dow_seen = 0x7f};
  char *e;
  const char *c = text;
  /* Fields per version: v3 10 + 10, v4 12 + 12 (over-dispersion, weekday
   * means), v5 22 + 13 (the record, the level model, the held slow level),
   * v6 = v5 + the records of the short-level and likelihood tests and the
   * caps after the day-of-week means (v5 had one record, in sd, for all
   * three: converted). An older state starts the level model from its fast
   * mean. */
  int ver = !strncmp(c, "v6 ", 3) ? 6 : !strncmp(c, "v5 ", 3) ? 5 : !strncmp(c, "v4 ", 3) ? 4 : !strncmp(c, "v3 ", 3) ? 3 : 0;
  if (!ver) return -1;
  bool v4 = ver >= 4;
  size_t missing_d = ver >= 5 ? 0 : ver == 4 ? 10 : 12, missing_i = ver >= 5 ? 0 : ver == 4 ? 1 : 3;
  c += 3;
  double *d[] = {&s.mean, &s.var, &s.slow, &s.neg, &s.day, &s.auth, &s.cus_up, &s.cus_down, &s.cus_neg,
                 &s.alert_peak_lift, &s.disp, &s.acc_sum, &s.record[0], &s.shift_ref, &s.lvl, &s.lvar, &s.lshort,
                 &s.lk_short, &s.lk_mean, &s.lk_var, &s.rec_snap[0], &s.rec_prev[0]};
  /* The text comes from a topic anyone may write to: every value must be
   * finite and every counter and index in range, or the whole state is
   * refused (a corrupted header must not become arithmetic on NaN or an
   * index that overflows). */
  for (size_t i = 0; i < sizeof d / sizeof *d - missing_d; i++) {
    *d[i] = strtod(c, &e);
    if (e == c || !isfinite(*d[i])) return -1;
    c = e;
  }
  /* The range of each value: levels of volume below 1e15 mentions a
   * window, variances below 1e40 (their square, with room), records and
   * peaks below 1e30; the detector's updates keep a state that is in range
   * in range, so a state read is a state that can be written and read
   * again. */
  static const struct {
    size_t off;
    double lo, hi;
  } bounds[] = {
#define B(f, lo, hi) {offsetof(es_detect_state, f), lo, hi}
      B(mean, 0, 1e15),     B(var, 0, 1e40),      B(slow, 0, 1e15),     B(neg, 0, 1e15),    B(day, 0, 1e15),
      B(auth, 0, 1e15),     B(cus_up, 0, 1e30),   B(cus_down, 0, 1e30), B(cus_neg, 0, 1e30),
      B(alert_peak_lift, 0, 1e30),                B(disp, -1e3, 1e3),   B(acc_sum, 0, 1e30),
      B(record[0], 0, 1e30), B(shift_ref, 0, 1e15), B(lvl, -1e15, 1e15), B(lvar, 0, 1e40), B(lshort, -1e15, 1e15),
      B(lk_short, 0, 1e6),  B(lk_mean, 0, 1e6),   B(lk_var, 0, 1e12),   B(rec_snap[0], 0, 1e30), B(rec_prev[0], 0, 1e30),
#undef B
  };
  for (size_t i = 0; i < sizeof bounds / sizeof *bounds; i++) {
    double v = *(const double *)(const void *)((const char *)&s + bounds[i].off);
    if (v != v && bounds[i].off == offsetof(es_detect_state, disp)) continue; /* v3: the prior */
    if (!(v >= bounds[i].lo && v <= bounds[i].hi)) return -1;
  }
  int64_t *iv[] = {&s.alert_opened, &s.alert_last, &s.alert_resolved, &s.alert_quiet, &s.alert_windows,
                   &s.last_index, &s.nwindows, &s.spike_run, &s.trend_run, &s.neg_run, &s.acc_day, &s.acc_n,
                   &s.shift_run};
  for (size_t i = 0; i < sizeof iv / sizeof *iv - missing_i; i++) {
    *iv[i] = strtoll(c, &e, 10);
    if (e == c) return -1;
    c = e;
  }
  /* Window indices (start / size) of real times stay far below 1e13; the
   * day of the week's accumulator may be unset (INT64_MIN). */
  const int64_t lim = 10000000000000LL;
  for (size_t i = 0; i < sizeof iv / sizeof *iv - missing_i; i++) {
    if (iv[i] == &s.acc_day && s.acc_day == INT64_MIN) continue;
    bool index = iv[i] == &s.last_index || iv[i] == &s.acc_day || iv[i] == &s.alert_opened ||
                 iv[i] == &s.alert_last || iv[i] == &s.alert_resolved || iv[i] == &s.alert_quiet;
    int64_t lo = index ? -lim : 0;
    if (*iv[i] < lo || *iv[i] > lim) return -1;
  }
  s.alert_peak_count = strtoull(c, &e, 10);
  if (e == c) return -1;
  c = e;
  long cls = strtol(c, &e, 10);
  if (e == c) return -1;
  s.alert_classes = (uint32_t)cls;
  c = e;
  s.alert_severity = (int)strtol(c, &e, 10);
  if (e == c) return -1;
  c = e;
  long open = strtol(c, &e, 10);
  if (e == c) return -1;
  s.alert_open = open != 0;
  c = e;
  if (v4) {
    long seen = strtol(c, &e, 10);
    if (e == c || seen < 0 || seen > 0x7f) return -1;
    s.dow_seen = (uint8_t)seen;
    c = e;
  }
  for (int h = 0; h < 24; h++) {
    s.hod[h] = (float)strtod(c, &e); /* seasonal factors: not negative */
    if (e == c || !(s.hod[h] >= 0 && s.hod[h] <= 1e6f)) return -1;
    c = e;
  }
  for (int k = 0; k < 7; k++) {
    s.dow[k] = (float)strtod(c, &e);
    if (e == c || !(s.dow[k] >= 0 && s.dow[k] <= 1e12f)) return -1;
    c = e;
  }
  if (ver == 6) {
    for (int t = 0; t < ES_LEVEL_RECORDS; t++) {
      double *r[] = {&s.record[t], &s.rec_snap[t], &s.rec_prev[t]};
      for (int j = 0; j < 3 && t > 0; j++) {
        *r[j] = strtod(c, &e);
        if (e == c || !(*r[j] >= 0 && *r[j] <= 1e30)) return -1;
        c = e;
      }
    }
    for (int t = 0; t < ES_LEVEL_RECORDS; t++) {
      s.rec_cap[t] = strtod(c, &e);
      if (e == c || !(s.rec_cap[t] >= 0 && s.rec_cap[t] <= 1e30)) return -1;
      c = e;
    }
  } else {
    /* One record in sd for every test and direction: in each record's
     * units (the short level's spread as for the default shift_halflife of
     * 3), the caps as for the default record_growth of 2. */
    double fl = 1e-3 * fabs(s.lvl) + 1e-9, sd = sqrt(s.lvar + fl * fl), as = 1 - exp2(-1.0 / 3);
    double ss = sd * sqrt(as / (2 - as)), unit[ES_LEVEL_RECORDS] = {sd, sd, ss, ss, 1};
    double rec = s.record[0], snap = s.rec_snap[0], prev = s.rec_prev[0];
    /* Within the bounds a v6 state is read with, so that it reads back. */
    for (int t = 0; t < ES_LEVEL_RECORDS; t++) {
      s.record[t] = fmin(rec * unit[t], 1e30);
      s.rec_snap[t] = fmin(snap * unit[t], 1e30);
      s.rec_prev[t] = fmin(prev * unit[t], 1e30);
      s.rec_cap[t] = fmin(2 * s.record[t], 1e30);
    }
  }
  if (ver < 5) {
    s.lvl = s.lshort = s.mean;
    s.lvar = s.var;
  }
  *st = s;
  return 0;
}
