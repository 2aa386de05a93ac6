/* Detection v1 on constructed series: noise, warm-up, spikes, thresholds,
 * empty windows, robustness of the baseline, and the tail probability. */
#include <criterion/criterion.h>
#include <math.h>

#include "earshot/detect.h"

static es_detect_params P;
static void setup(void) { es_detect_params_default(&P); }
TestSuite(detect, .init = setup);

static es_detect_result feed(es_detect_state *st, int64_t idx, uint64_t count) {
  es_detect_result r;
  es_detect_window(&P, st, idx, count, 0, 0, 0, &r);
  return r;
}

Test(detect, tail_probability) {
  cr_expect_float_eq(es_detect_tail(0, 5, 1), 1.0, 1e-12);
  /* P(X >= 1 | mu = 2) = 1 - e^-2 */
  cr_expect_float_eq(es_detect_tail(1, 2, 1), 1 - exp(-2), 1e-9);
  /* P(X >= 3 | mu = 1) = 1 - e^-1 (1 + 1 + 1/2) */
  cr_expect_float_eq(es_detect_tail(3, 1, 1), 1 - exp(-1) * 2.5, 1e-9);
  cr_expect_lt(es_detect_tail(200, 20, 1), 1e-60);
  cr_expect_gt(es_detect_tail(200, 20, 1), 0);
  cr_expect_gt(es_detect_tail(60, 20, 4), es_detect_tail(60, 20, 1), "over-dispersion widens the tail");
  cr_expect_float_eq(es_detect_tail(30, 30, 1) + (1 - es_detect_tail(30, 30, 1)), 1.0, 1e-12);
}

Test(detect, below_min_support_is_noise) {
  es_detect_state st = {0};
  for (int i = 0; i < 30; i++) feed(&st, i, 0);
  es_detect_result r = feed(&st, 30, 3);
  cr_expect_eq(r.cls, ES_CLASS_NOISE, "three stray mentions are noise, whatever the lift");
}

Test(detect, no_spike_during_warmup) {
  es_detect_state st = {0};
  feed(&st, 0, 20);
  es_detect_result r = feed(&st, 1, 400);
  cr_expect(r.warming_up);
  cr_expect_eq(r.cls, ES_CLASS_NORMAL);
}

Test(detect, spike_after_steady_baseline) {
  es_detect_state st = {0};
  for (int i = 0; i < 40; i++) {
    es_detect_result r = feed(&st, i, 20 + (i % 5));
    if (i >= P.warmup) cr_expect_eq(r.cls, ES_CLASS_NORMAL, "window %d", i);
  }
  es_detect_result r = feed(&st, 40, 160);
  cr_expect_eq(r.cls, ES_CLASS_SPIKE);
  cr_expect(r.expected > 19 && r.expected < 24, "expected %f", r.expected);
  cr_expect(r.lift > 6.5, "lift %f", r.lift);
  cr_expect_lt(r.p_value, 1e-30);
}

Test(detect, moderate_rise_is_not_a_spike) {
  es_detect_state st = {0};
  for (int i = 0; i < 40; i++) feed(&st, i, 100);
  es_detect_result r = feed(&st, 40, 150);
  cr_expect_eq(r.cls, ES_CLASS_NORMAL, "1.5x is below the minimum lift");
}

Test(detect, long_incident_does_not_become_normal_quickly) {
  es_detect_state st = {0};
  for (int i = 0; i < 40; i++) feed(&st, i, 20);
  int spikes = 0;
  for (int i = 40; i < 40 + P.freeze; i++) spikes += feed(&st, i, 200).cls == ES_CLASS_SPIKE;
  cr_expect_eq(spikes, P.freeze, "an incident stays a spike while the baseline is frozen");
  cr_expect_float_eq(st.mean, 20, 1e-9, "the baseline did not move");
  int later = 0;
  for (int i = 40 + P.freeze; i < 40 + P.freeze + 400; i++) later += feed(&st, i, 200).cls == ES_CLASS_SPIKE;
  cr_expect_lt(later, 400, "a lasting level shift becomes the new normal eventually");
}

Test(detect, empty_windows_lower_the_baseline) {
  es_detect_state a = {0}, b = {0};
  for (int i = 0; i < 20; i++) {
    feed(&a, i, 50);
    feed(&b, i, 50);
  }
  for (int i = 20; i < 60; i++) feed(&a, i, 0); /* explicit zeros */
  es_detect_result ra = feed(&a, 60, 50), rb = feed(&b, 60, 50); /* b skipped 40 windows */
  cr_expect_float_eq(ra.expected, rb.expected, 1e-9, "lazy zeros equal explicit zeros");
  cr_expect_lt(ra.expected, 20);
}

Test(detect, user_threshold) {
  es_detect_state st = {0};
  es_detect_result r;
  es_detect_window(&P, &st, 0, 30, 25, 20, 0, &r);
  cr_expect(r.threshold_breached);
  cr_expect_eq(r.cls, ES_CLASS_THRESHOLD);
  es_detect_window(&P, &st, 1, 30, 5, 20, 0, &r);
  cr_expect(!r.threshold_breached);
  es_detect_window(&P, &st, 2, 3, 3, 0, 3, &r);
  cr_expect(r.threshold_breached, "count threshold");
  cr_expect_eq(r.cls, ES_CLASS_THRESHOLD, "a user threshold wins over noise");
}
