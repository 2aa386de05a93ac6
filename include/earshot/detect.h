/* Detection per query and window size (detection v2).
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
 * Alerting windows are kept out of the baselines for up to `freeze` windows
 * in a row, so an incident does not become normal within minutes. Windows
 * without mentions update the baselines lazily. State is per query and
 * window size, owned by the aggregator thread; time is the window index. */
#ifndef EARSHOT_DETECT_H
#define EARSHOT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

enum es_class { ES_CLASS_NOISE, ES_CLASS_NORMAL, ES_CLASS_SPIKE, ES_CLASS_THRESHOLD, ES_CLASS_TREND, ES_CLASS_NEGATIVE,
                ES_CLASS_DROP };
const char *es_class_name(int cls);
/* Classes that raise an alert: spike, trend, negative_surge, drop. */
static inline bool es_detect_alerting(int cls) {
  return cls == ES_CLASS_SPIKE || cls == ES_CLASS_TREND || cls == ES_CLASS_NEGATIVE || cls == ES_CLASS_DROP;
}

typedef struct es_detect_params {
  int64_t min_support;     /* mentions below which a window is noise (default 10) */
  int64_t min_authors;     /* distinct authors below which a window is noise (default 3) */
  double min_lift;         /* observed / expected needed for a spike (default 1.5) */
  double max_p;            /* tail probability needed for a spike (default 1e-6) */
  double halflife;         /* baseline half-life, in windows (default 30) */
  int64_t warmup;          /* windows of history before spikes are called (default 10) */
  double min_expected;     /* floor of the expected volume (default 1) */
  int64_t freeze;          /* alerting windows in a row kept out of the baseline (default 60) */
  double trend_halflife;   /* slow level half-life, in windows (default 360) */
  double trend_lift;       /* fast / slow level needed for a trend (default 1.3) */
  int64_t trend_windows;   /* windows in a row above it (default 10) */
  double neg_min_lift;     /* negative share / baseline share needed (default 1.5) */
  double drop_ratio;       /* volume / expected at or below which a window may be a drop (default 0.25) */
  double drop_min_expected;/* expected volume needed to call a drop (default 20) */
  double cusum_h;          /* CUSUM alarm level, in log-likelihood units (default 12) */
  int64_t resolve_after;   /* quiet windows after which an open alert is resolved (default 3) */
  int64_t cooldown;        /* windows after a resolution in which a new alert reopens it (default 0) */
  double disp_prior;       /* prior relative excess variance 1/r of the volume (default 0.1: r = 10) */
} es_detect_params;

void es_detect_params_default(es_detect_params *p);

typedef struct es_detect_state {
  double mean, var;   /* fast EW of deseasonalised counts */
  double slow;        /* slow EW level */
  double neg;         /* fast EW of deseasonalised negative counts */
  double day;         /* one-day EW level, for learning the seasonal factors */
  double auth;        /* fast EW of deseasonalised distinct authors */
  double disp;        /* slow EW of the relative excess variance (1/r of the negative binomial) */
  double cus_up, cus_down, cus_neg; /* CUSUM statistics: volume up, volume down, negatives up */
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
} es_detect_result;

/* Classifies one closed window, then folds it into the baselines. Windows
 * must arrive in increasing index order per state. */
void es_detect_window(const es_detect_params *p, es_detect_state *st, const es_detect_obs *o, es_detect_result *out);

/* The state as text (hex floats, exact) and back, for the exactly-once
 * restart (Kafka header earshot.state). Parse returns 0 on success. */
#define ES_DETECT_STATE_TEXT 2048
void es_detect_state_format(const es_detect_state *st, char *buf, size_t n);
int es_detect_state_parse(const char *text, es_detect_state *st);

/* P(X >= k) for X ~ Poisson(mu), widened by dispersion phi >= 1 (quasi-
 * Poisson: k/phi against mu/phi). Exposed for tests. */
double es_detect_tail(double k, double mu, double phi);
/* P(X <= k), the same model: the tail a drop is judged by. */
double es_detect_lower_tail(double k, double mu, double phi);

#endif
