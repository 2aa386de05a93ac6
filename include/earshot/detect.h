/* Detection per query and window size (detection v3).
 *
 * Two models judge each window. The count model below (seasonal factors,
 * quasi-Poisson and negative binomial tails, CUSUMs) says whether a window
 * is a spike, drop or trend *for mention volume*; the level model
 * (engine/detect/level.c: long level, short level, anomaly likelihood of
 * the recent surprise, each a test in standard deviations) says whether it
 * is surprising *for this series*, beyond the records its own earlier
 * windows set for that test and direction. A volume class needs both. Gauge series (any
 * measurement, `earshot detect --values gauge`) use the level model alone.
 *
 * Each query has online, O(1) baselines of its window volume:
 *   - seasonal factors by hour of day (used after 2 days of history,
 *     learnt against a one-day level) and day of week (each weekday's mean
 *     volume over complete days, used once all seven have been seen);
 *     every count is divided by them ("deseasonalised") before the
 *     baselines below, which are restated when the factors change;
 *   - a fast exponentially weighted mean and variance (half-life `halflife`
 *     windows): the expected volume and its over-dispersion;
 *   - a slow mean (half-life `trend_halflife`): what a slow climb is
 *     measured against;
 *   - the volume's over-dispersion over the same slow half-life: the mean
 *     of ((x - mu)^2 - mu) / mu^2, an estimate of 1/r of a negative
 *     binomial (variance mu + mu^2 / r), starting from disp_prior; the
 *     fast variance alone, from a few dozen windows, often underestimates
 *     it, and the tails with it;
 *   - the negative share (EW negatives / EW mentions).
 * Each closed window is classified, first match wins:
 *   drop      - expected >= drop_min_expected and the volume fell below
 *               drop_ratio of it with a lower-tail probability <= max_p,
 *               or a CUSUM for a fall to drop_ratio reached cusum_h (an
 *               ingestion outage, a silenced topic);
 *   noise     - fewer than min_support mentions, or fewer than min_authors
 *               distinct authors beyond the expected number, or a window
 *               that would be a spike but is not one once its two most
 *               active authors count one mention each (a blip carried by
 *               one or two accounts);
 *   spike     - after warm-up, volume >= min_lift x expected and an
 *               upper-tail probability <= max_p (quasi-Poisson);
 *   negative_surge - the negative count is improbable (<= max_p) for the
 *               baseline share at this volume and the share rose by
 *               neg_min_lift or more, or a CUSUM for negatives at 1.8x
 *               the baseline share reached cusum_h;
 *   trend     - a sustained rise: the fast level has stood >= trend_lift x
 *               the slow level, significantly (z >= 4), for trend_windows
 *               windows in a row, or a CUSUM for a doubling of the volume
 *               against the slow level reached cusum_h (catches what no
 *               single window shows: 2x at high volume, 10x at 1/min);
 *   threshold - a user threshold of the query was reached;
 *   normal    - anything else.
 * Every class obeys min_support and min_authors. Alerting windows are kept
 * out of the baselines for up to `freeze` windows in a row, so an incident
 * does not become normal within minutes; a trend whose climb has stopped is
 * then learnt as the new level. Windows without mentions update the
 * baselines lazily. State is per query and
 * window size, owned by the aggregator thread; time is the window index. */
#ifndef EARSHOT_DETECT_H
#define EARSHOT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

enum es_class { ES_CLASS_NOISE, ES_CLASS_NORMAL, ES_CLASS_SPIKE, ES_CLASS_THRESHOLD, ES_CLASS_TREND, ES_CLASS_NEGATIVE,
                ES_CLASS_DROP, ES_CLASS_COUNT };
const char *es_class_name(int cls);
/* Classes that raise an alert: spike, trend, negative_surge, drop. */
static inline bool es_detect_alerting(int cls) {
  return cls == ES_CLASS_SPIKE || cls == ES_CLASS_TREND || cls == ES_CLASS_NEGATIVE || cls == ES_CLASS_DROP;
}

/* The tunable parameters, one line each: name, type (i: int64_t, d: double),
 * default, lowest and highest accepted value, meaning. The config section
 * `detection:`, `earshot detect --params KEY=VALUE` and the defaults are all
 * generated from this list. */
#define ES_DETECT_PARAMS(X)                                                                                          \
  X(min_support, i, 10, 0, 1e9, "mentions below which a window is noise")                                            \
  X(min_authors, i, 3, 0, 1e6, "distinct authors below which a window is noise")                                     \
  X(min_lift, d, 1.5, 1, 1e6, "observed / expected needed for a spike")                                              \
  X(max_p, d, 1e-6, 1e-300, 1, "tail probability needed for a spike")                                                \
  X(halflife, d, 30, 1, 1e6, "baseline half-life, in windows")                                                       \
  X(warmup, i, 10, 0, 1e6, "windows of history before spikes are called")                                            \
  X(min_expected, d, 1, 0.01, 1e9, "floor of the expected volume")                                                   \
  X(freeze, i, 60, 0, 1e6, "alerting windows in a row kept out of the baseline")                                     \
  X(trend_halflife, d, 360, 1, 1e7, "slow level half-life, in windows")                                              \
  X(trend_lift, d, 1.3, 1, 1e6, "fast / slow level needed for a trend")                                              \
  X(trend_windows, i, 10, 1, 1e6, "windows in a row above it")                                                       \
  X(neg_min_lift, d, 1.5, 1, 1e6, "negative share / baseline share needed")                                          \
  X(drop_ratio, d, 0.25, 1e-6, 1, "volume / expected at or below which a window may be a drop")                      \
  X(drop_min_expected, d, 20, 0, 1e12, "expected volume needed to call a drop")                                      \
  X(cusum_h, d, 12, 0.1, 1e6, "CUSUM alarm level, in log-likelihood units")                                          \
  X(resolve_after, i, 10, 1, 1e6, "quiet windows after which an open alert is resolved")                              \
  X(cooldown, i, 0, 0, 1e6, "windows after a resolution in which a new alert reopens it")                            \
  X(disp_prior, d, 0.1, 0, 100, "prior relative excess variance 1/r of the volume (0.1: r = 10)")                   \
  X(disp_max, d, 0.1, 0, 100, "largest relative excess variance 1/r the count tails allow for (0: no limit)")       \
  X(hour_halflife, d, 7, 0.1, 1e3, "count series: half-life of the hour-of-day factors, in days")                  \
  X(record_halflife, d, 3000, 1, 1e9, "half-life of the series' record surprise, in windows")                        \
  X(record_margin, d, 1.3, 0, 1e3, "an alert opens only on a surprise above this x the record")                      \
  X(record_lag, i, 50, 0, 1e6, "the record judged against is as it stood this many windows ago (to twice that)")    \
  X(record_growth, d, 2, 1, 1e6, "an alert raises the record at most to this x the record when it opened")           \
  X(level_halflife, d, 3000, 1, 1e9, "the level model's long level, half-life in windows")                           \
  X(shift_halflife, d, 3, 0, 1e6, "the level model's short level, half-life in windows (0: no shift test)")          \
  X(winsor, d, 3, 1, 1e3, "residuals beyond this many sd are clipped before the level model learns them")            \
  X(likelihood_short, d, 5, 1, 1e6, "half-life of the recent surprise average, in windows")                          \
  X(likelihood_long, d, 5000, 1, 1e9, "half-life of its long-run mean and spread, in windows")                       \
  X(likelihood_weight, d, 2, 0, 1e3, "weight of that likelihood in the surprise (0: off)")                           \
  X(season_halflife, d, 2, 0, 1e3, "gauge series: half-life of the hour-of-day profile, in days (0: off)")           \
  X(gauge_warmup, i, 200, 0, 1e9, "gauge series: windows of history before alerts")                                  \
  X(level_warmup, i, 200, 0, 1e9, "windows the level model learns from whole before its records start")            \
  X(gauge_resolve_after, i, 10, 1, 1e6, "gauge series: quiet windows after which an alert is resolved")

#define ES_DETECT_FIELD_i int64_t
#define ES_DETECT_FIELD_d double
#define ES_DETECT_FIELD(name, type, def, lo, hi, doc) ES_DETECT_FIELD_##type name;
typedef struct es_detect_params {
  ES_DETECT_PARAMS(ES_DETECT_FIELD)
} es_detect_params;
#undef ES_DETECT_FIELD

/* One parameter's description, for config loaders and --params. */
typedef struct es_detect_param_info {
  const char *name, *doc;
  char type; /* 'i' int64_t, 'd' double */
  size_t offset; /* into es_detect_params */
  double lo, hi;
} es_detect_param_info;
/* The parameter called `name`, or NULL. */
const es_detect_param_info *es_detect_param_find(const char *name);
/* Every parameter name, NULL-terminated (for "did you mean" hints). */
const char *const *es_detect_param_names(void);
/* Sets parameter `name` from text ("1e-6", "30"). ES_EINVAL with a message
 * naming the key and its range when the name is unknown or the value is not
 * a number in range; the parameters are unchanged then. */
struct es_diag;
int es_detect_param_set(es_detect_params *p, const char *name, const char *value, struct es_diag *d);

void es_detect_params_default(es_detect_params *p);

/* The level model's tests: value, short level, anomaly likelihood; and
 * its records: value up, value down, short level up, short level down,
 * likelihood. */
#define ES_LEVEL_TESTS 3
#define ES_LEVEL_RECORDS 5

typedef struct es_detect_state {
  double mean, var;   /* fast EW of deseasonalised counts */
  double slow;        /* slow EW level */
  double neg;         /* fast EW of deseasonalised negative counts */
  double day;         /* one-day EW level, for learning the seasonal factors */
  double auth;        /* fast EW of deseasonalised distinct authors */
  double disp;        /* slow EW of the relative excess variance (1/r of the negative binomial) */
  double cus_up, cus_down, cus_neg; /* CUSUM statistics: volume up, volume down, negatives up */
  /* The level model's records, one per test and direction (value up,
   * down, short level up, down, likelihood): decayed maxima of each test's
   * magnitude. */
  double record[ES_LEVEL_RECORDS];
  double lvl, lvar, lshort; /* the level model: long level, its variance, short level */
  double lk_short, lk_mean, lk_var; /* recent surprise average, its long-run mean and variance */
  double rec_snap[ES_LEVEL_RECORDS], rec_prev[ES_LEVEL_RECORDS]; /* the records at the last two record_lag boundaries */
  double rec_cap[ES_LEVEL_RECORDS]; /* while an alert is open: how far it may raise each record */
  float hod[24];      /* hour-of-day factors (UTC), mean about 1 */
  float dow[7];       /* mean volume per weekday (complete days), Monday first */
  uint8_t dow_seen;   /* bit per weekday with a mean; the factors are used when all 7 are set */
  double acc_sum;     /* the volume of the current day so far */
  int64_t acc_day, acc_n; /* the current day (days since 1970) and its windows so far */
  int64_t last_index; /* window index last applied */
  int64_t nwindows;   /* windows of history, empty ones included */
  int64_t spike_run;  /* consecutive alerting windows (spike, drop) up to the last one */
  int64_t trend_run;  /* consecutive windows meeting the trend test */
  int64_t neg_run;    /* consecutive negative-surge windows */
  int64_t shift_run;  /* windows the slow level has been held (a trend), up to freeze */
  double shift_ref;   /* the fast level when that hold began */
  /* The alert lifecycle of the query and window size. */
  int64_t alert_opened;   /* window index the open (or last) alert opened at; -1 none yet */
  int64_t alert_last;     /* last alerting window index */
  int64_t alert_resolved; /* window index the last alert was resolved at */
  int64_t alert_quiet;    /* non-alerting windows since the last alerting one */
  int64_t alert_windows;  /* alerting windows in the open alert */
  double alert_peak_lift;
  uint64_t alert_peak_count;
  uint32_t alert_classes; /* bit per class seen in the open alert */
  int alert_severity;     /* highest severity in the open alert */
  bool alert_open;
  bool init;
} es_detect_state;

/* One closed window of a query. */
typedef struct es_detect_obs {
  int64_t index;             /* window index: start_ms / size_ms */
  int64_t size_ms;
  uint64_t count, negative, authors;
  uint64_t top2;             /* mentions by the window's two most active authors; 0 = unknown */
  int64_t negative_at_least, count_at_least; /* user thresholds, 0 = off */
  bool gauge;                /* a measurement series (`value`), not a mention count */
  double value;              /* the measurement, when gauge */
} es_detect_obs;

enum es_alert_state { ES_ALERT_NONE, ES_ALERT_OPENED, ES_ALERT_UPDATED, ES_ALERT_RESOLVED };
const char *es_alert_state_name(int state); /* "opened", "updated", "resolved" */

typedef struct es_detect_result {
  int cls;          /* enum es_class */
  /* The alert lifecycle after this window: an alert opens with the first
   * alerting window (spike, trend, negative_surge, drop, or a user
   * threshold), each later alerting window updates it, and it is resolved
   * after resolve_after quiet windows. ES_ALERT_NONE: no alert event. */
  int alert_state;
  int64_t alert_opened;   /* index of the window that opened it: the alert's id */
  int severity;           /* 1-5 for this window, 0 when not alerting */
  int alert_severity;     /* highest so far in the alert */
  int64_t alert_windows;  /* alerting windows so far */
  double alert_peak_lift;
  uint64_t alert_peak_count;
  uint32_t alert_classes; /* bit (1 << class) per class seen */
  double expected;  /* NaN before any history; seasonal when the factors are in use */
  double season;    /* the seasonal factor applied (1 before they are learnt) */
  double neg_share_expected; /* baseline negative share, NaN before history */
  double lift;      /* observed / expected; NaN when expected is NaN */
  double p_value;   /* upper-tail probability of >= observed; NaN without history */
  bool warming_up;
  bool threshold_breached;
  /* The level model's evidence when it raised the alarm behind this
   * window's class (see level.c): the test (ES_LEVEL_TEST_*, -1 none), its
   * surprise in standard deviations, its magnitude (the series' units for
   * the value and short level) and the bar it had to beat (record_margin x
   * the test's record in that direction; 0 while an alert is open, which
   * bypasses it). */
  int level_test;
  double level_sd, level_magnitude, level_bar;
} es_detect_result;

enum { ES_LEVEL_TEST_VALUE, ES_LEVEL_TEST_SHORT, ES_LEVEL_TEST_LIKELIHOOD };
/* "value", "short_level", "likelihood". */
const char *es_level_test_name(int test);

/* Classifies one closed window, then folds it into the baselines. Windows
 * must arrive in increasing index order per state. */
void es_detect_window(const es_detect_params *p, es_detect_state *st, const es_detect_obs *o, es_detect_result *out);

/* The state as text (hex floats, exact) and back, for the exactly-once
 * restart (Kafka header earshot.state). Parse returns 0 on success. */
#define ES_DETECT_STATE_TEXT 3072
void es_detect_state_format(const es_detect_state *st, char *buf, size_t n);
int es_detect_state_parse(const char *text, es_detect_state *st);

/* P(X >= k) for X ~ Poisson(mu), widened by dispersion phi >= 1 (quasi-
 * Poisson: k/phi against mu/phi). Exposed for tests. */
double es_detect_tail(double k, double mu, double phi);
/* P(X <= k), the same model: the tail a drop is judged by. */
double es_detect_lower_tail(double k, double mu, double phi);

#endif
