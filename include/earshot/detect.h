/* Spike and noise detection per query (detection v1).
 *
 * Each query has an online baseline of its window volume: an exponentially
 * weighted mean and variance. Each closed window is classified:
 *   noise     - fewer than min_support mentions;
 *   spike     - after warm-up, volume at least min_lift times the expected
 *               volume and an upper-tail probability at most max_p under a
 *               Poisson model widened for over-dispersion;
 *   threshold - a user threshold of the query was reached (and no spike);
 *   normal    - anything else.
 * Windows without mentions update the baseline too, lazily: the next window
 * of the query applies the skipped empty windows in one step. State is per
 * query and owned by the aggregator thread; time is the window index. */
#ifndef EARSHOT_DETECT_H
#define EARSHOT_DETECT_H

#include <stdbool.h>
#include <stdint.h>

enum es_class { ES_CLASS_NOISE, ES_CLASS_NORMAL, ES_CLASS_SPIKE, ES_CLASS_THRESHOLD };
const char *es_class_name(int cls);

typedef struct es_detect_params {
  int64_t min_support;     /* mentions below which a window is noise (default 10) */
  double min_lift;         /* observed / expected needed for a spike (default 3) */
  double max_p;            /* tail probability needed for a spike (default 1e-6) */
  double halflife;         /* baseline half-life, in windows (default 30) */
  int64_t warmup;          /* windows of history before spikes are called (default 10) */
  double min_expected;     /* floor of the expected volume (default 1) */
  int64_t freeze;          /* spike windows in a row kept out of the baseline (default 60) */
} es_detect_params;

void es_detect_params_default(es_detect_params *p);

typedef struct es_detect_state {
  double mean, var;
  int64_t last_index; /* window index last applied */
  int64_t nwindows;   /* windows of history, empty ones included */
  int64_t spike_run;  /* consecutive spike windows up to the last one */
  bool init;
} es_detect_state;

typedef struct es_detect_result {
  int cls;          /* enum es_class */
  double expected;  /* NaN before any history */
  double lift;      /* observed / expected; NaN when expected is NaN */
  double p_value;   /* upper-tail probability of >= observed; NaN without history */
  bool warming_up;
  bool threshold_breached;
} es_detect_result;

/* Classifies the window `index` of a query with `count` mentions of which
 * `negative` negative, then folds it into the baseline. Thresholds of 0 are
 * off. Windows must arrive in increasing index order per state. */
void es_detect_window(const es_detect_params *p, es_detect_state *st, int64_t index, uint64_t count, uint64_t negative,
                      int64_t negative_at_least, int64_t count_at_least, es_detect_result *out);

/* P(X >= k) for X ~ Poisson(mu), widened by dispersion phi >= 1 (quasi-
 * Poisson: k/phi against mu/phi). Exposed for tests. */
double es_detect_tail(double k, double mu, double phi);

#endif
