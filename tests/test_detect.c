/* Detection v1 on constructed series: noise, warm-up, spikes, thresholds,
 * empty windows, robustness of the baseline, and the tail probability. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include <stdio.h>

#include "earshot/detect.h"
#include "earshot/error.h"

static es_detect_params P;
static void setup(void) { es_detect_params_default(&P); }
TestSuite(detect, .init = setup);

static es_detect_result feed(es_detect_state *st, int64_t idx, uint64_t count) {
  es_detect_result r;
  es_detect_obs o = {.index = idx, .size_ms = 60000, .count = count, .authors = count};
  es_detect_window(&P, st, &o, &r);
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
  int n = (int)P.warmup + 30;
  for (int i = 0; i < n; i++) {
    es_detect_result r = feed(&st, i, 20 + (i % 5));
    if (i >= P.warmup) cr_expect_eq(r.cls, ES_CLASS_NORMAL, "window %d", i);
  }
  es_detect_result r = feed(&st, n, 160);
  cr_expect_eq(r.cls, ES_CLASS_SPIKE);
  cr_expect(r.expected > 19 && r.expected < 24, "expected %f", r.expected);
  cr_expect(r.lift > 6.5, "lift %f", r.lift);
  cr_expect_lt(r.p_value, 1e-30);
}

Test(detect, moderate_rise_is_not_a_spike) {
  es_detect_state st = {0};
  for (int i = 0; i < 40; i++) feed(&st, i, 100 + (i % 7) * 3);
  es_detect_result r = feed(&st, 40, 140);
  cr_expect_eq(r.cls, ES_CLASS_NORMAL, "1.4x is below the minimum lift");
}

Test(detect, long_incident_does_not_become_normal_quickly) {
  es_detect_state st = {0};
  /* After the level model's warm-up (before it, it learns every window). */
  int n = (int)P.level_warmup + 30;
  for (int i = 0; i < n; i++) feed(&st, i, 20);
  int spikes = 0;
  for (int i = n; i < n + P.freeze; i++) spikes += feed(&st, i, 200).cls == ES_CLASS_SPIKE;
  cr_expect_eq(spikes, P.freeze, "an incident stays a spike while the baseline is frozen");
  cr_expect_float_eq(st.mean, 20, 1e-9, "the baseline did not move");
  int later = 0;
  for (int i = n + P.freeze; i < n + P.freeze + 400; i++) later += feed(&st, i, 200).cls == ES_CLASS_SPIKE;
  cr_expect_lt(later, 400, "a lasting level shift becomes the new normal eventually");
}

Test(detect, empty_windows_lower_the_baseline) {
  /* Below drop_min_expected, so the zeros are quiet windows, not a drop. */
  es_detect_state a = {0}, b = {0};
  for (int i = 0; i < 20; i++) {
    feed(&a, i, 15);
    feed(&b, i, 15);
  }
  for (int i = 20; i < 60; i++) feed(&a, i, 0); /* explicit zeros */
  es_detect_result ra = feed(&a, 60, 15), rb = feed(&b, 60, 15); /* b skipped 40 windows */
  cr_expect_float_eq(ra.expected, rb.expected, 1e-9, "lazy zeros equal explicit zeros");
  cr_expect_lt(ra.expected, 7, "15 x 2^(-40/30) = 6");
}

Test(detect, user_threshold) {
  es_detect_state st = {0};
  es_detect_result r;
  es_detect_window(&P, &st, &(es_detect_obs){.index = 0, .size_ms = 60000, .count = 30, .negative = 25, .authors = 30, .negative_at_least = 20}, &r);
  cr_expect(r.threshold_breached);
  cr_expect_eq(r.cls, ES_CLASS_THRESHOLD);
  es_detect_window(&P, &st, &(es_detect_obs){.index = 1, .size_ms = 60000, .count = 30, .negative = 5, .authors = 30, .negative_at_least = 20}, &r);
  cr_expect(!r.threshold_breached);
  es_detect_window(&P, &st, &(es_detect_obs){.index = 2, .size_ms = 60000, .count = 3, .negative = 3, .authors = 3, .count_at_least = 3}, &r);
  cr_expect(r.threshold_breached, "count threshold");
  cr_expect_eq(r.cls, ES_CLASS_THRESHOLD, "a user threshold wins over noise");
}

/* Detection v2 on constructed series, one class at a time. The helpers feed
 * one-minute windows from 2026-01-05T00:00Z (a Monday). */
static const int64_t T0 = 1767571200000LL / 60000;

static es_detect_result obs(es_detect_state *st, int64_t i, uint64_t count, uint64_t negative, uint64_t authors) {
  es_detect_result r;
  es_detect_obs o = {.index = T0 + i, .size_ms = 60000, .count = count, .negative = negative, .authors = authors};
  es_detect_window(&P, st, &o, &r);
  return r;
}

/* The daily cycle of the evaluation: peak 15:00, trough 03:00. */
static double daily(int64_t minute) { return 1 + 0.6 * cos(6.283185307179586 * (fmod(minute / 1440.0, 1.0) - 15.0 / 24)); }

static void feed_days(es_detect_state *st, int64_t from, int64_t to, double base) {
  for (int64_t i = from; i < to; i++) {
    uint64_t c = (uint64_t)(base * daily(i) + 0.5);
    obs(st, i, c, c / 5, c);
  }
}

Test(detect, seasonality_is_learnt_and_the_daily_cycle_is_quiet) {
  es_detect_state st = {0};
  int alerts = 0;
  for (int64_t i = 0; i < 6 * 1440; i++) {
    uint64_t c = (uint64_t)(200 * daily(i) + 0.5);
    es_detect_result r = obs(&st, i, c, c / 5, c);
    alerts += r.cls != ES_CLASS_NORMAL;
    if (i == 5 * 1440 + 15 * 60) cr_expect(r.season > 1.3 && r.season < 1.9, "15:00 factor %f", r.season);
    if (i == 5 * 1440 + 3 * 60) cr_expect(r.season > 0.2 && r.season < 0.6, "03:00 factor %f", r.season);
  }
  cr_expect_eq(alerts, 0, "six days of a clean daily cycle raise nothing");
}

Test(detect, blip_from_one_account_is_noise) {
  es_detect_state st = {0};
  for (int i = 0; i < 60; i++) obs(&st, i, 2, 0, 2);
  es_detect_result r = obs(&st, 60, 14, 0, 3); /* 12 extra mentions, one extra account */
  cr_expect_gt(r.lift, 5);
  cr_expect_eq(r.cls, ES_CLASS_NOISE);
  r = obs(&st, 61, 14, 0, 14); /* the same volume from 14 people */
  cr_expect_eq(r.cls, ES_CLASS_SPIKE);
}

Test(detect, drop_when_volume_collapses) {
  es_detect_state st = {0};
  for (int i = 0; i < 120; i++) obs(&st, i, 200 + i % 9, 40, 200);
  es_detect_result r = obs(&st, 120, 3, 0, 3);
  cr_expect_eq(r.cls, ES_CLASS_DROP, "an outage at 200/min");
  cr_expect_float_eq(st.mean, 200 + 4, 10, "the baseline does not follow the outage");
  es_detect_state low = {0};
  for (int i = 0; i < 120; i++) obs(&low, i, 4, 1, 4);
  cr_expect_neq(obs(&low, 120, 0, 0, 0).cls, ES_CLASS_DROP, "4/min to 0 is not evidence of an outage");
}

Test(detect, negative_share_rises_at_flat_volume) {
  es_detect_state st = {0};
  for (int i = 0; i < 120; i++) obs(&st, i, 100, 20, 100);
  es_detect_result r = obs(&st, 120, 100, 60, 100);
  cr_expect_eq(r.cls, ES_CLASS_NEGATIVE);
  cr_expect_float_eq(r.neg_share_expected, 0.2, 0.01);
  cr_expect_eq(obs(&st, 121, 100, 28, 100).cls, ES_CLASS_NORMAL, "28% is within the noise of 20%");
}

Test(detect, slow_climb_is_a_trend_after_seasonality) {
  es_detect_state st = {0};
  feed_days(&st, 0, 5 * 1440, 100);
  int trend_at = -1, spikes = 0;
  for (int64_t k = 0; k < 240; k++) { /* doubling over four hours */
    int64_t i = 5 * 1440 + k;
    double c = 100 * daily(i) * (1 + (double)(k + 1) / 240);
    es_detect_result r = obs(&st, i, (uint64_t)c, (uint64_t)c / 5, (uint64_t)c);
    if (r.cls == ES_CLASS_TREND && trend_at < 0) trend_at = (int)k;
    spikes += r.cls == ES_CLASS_SPIKE;
  }
  cr_expect_geq(trend_at, 0, "the climb is reported as a trend");
  cr_expect_lt(trend_at, 200, "before it has doubled (window %d)", trend_at);
  cr_expect_eq(spikes, 0, "no single window is a spike");
}

Test(detect, sustained_doubling_at_high_volume) {
  /* 1,000/min with +-30 % swings from window to window: a doubling is no
   * more than twice a swing, so no window alone is improbable enough;
   * fifteen together are (the volume CUSUM, class trend). */
  es_detect_state st = {0};
  for (int64_t i = 0; i < 5 * 1440; i++) {
    uint64_t c = (uint64_t)(1000 * daily(i) * (1 + 0.3 * sin((double)i * 2.3)));
    obs(&st, i, c, c / 5, c);
  }
  int spikes = 0, trends = 0;
  for (int64_t k = 0; k < 15; k++) {
    int64_t i = 5 * 1440 + k;
    uint64_t c = (uint64_t)(2000 * daily(i) * (1 + 0.3 * sin((double)i * 2.3)));
    int cls = obs(&st, i, c, c / 5, c).cls;
    spikes += cls == ES_CLASS_SPIKE;
    trends += cls == ES_CLASS_TREND;
  }
  cr_expect_gt(trends, 0, "the doubling is reported (%d spike windows)", spikes);
}

Test(detect, state_text_roundtrip) {
  es_detect_state st = {0};
  feed_days(&st, 0, 3 * 1440, 50);
  char buf[ES_DETECT_STATE_TEXT];
  es_detect_state_format(&st, buf, sizeof buf);
  es_detect_state back;
  cr_assert_eq(es_detect_state_parse(buf, &back), 0, "%s", buf);
  cr_expect_eq(memcmp(&st, &back, sizeof st), 0, "exact, every field");
  cr_expect_neq(es_detect_state_parse("0x1p+4 0x0p+0 1 2 3", &back), 0, "the v1 format is refused");
  cr_expect_neq(es_detect_state_parse("v2 1 2", &back), 0, "truncated");
}

/* The alert lifecycle: opened by the first alerting window, updated by the
 * next ones, resolved after resolve_after quiet windows (empty windows
 * count), reopened within the cooldown. */
Test(detect, alert_lifecycle) {
  es_detect_state st = {0};
  es_detect_params defaults = P;
  P.resolve_after = 3;
  P.level_warmup = P.warmup; /* the lifecycle, from the first windows */
  for (int i = 0; i < 60; i++) cr_expect_eq(obs(&st, i, 20 + i % 3, 4, 20).alert_state, ES_ALERT_NONE);
  es_detect_result r = obs(&st, 60, 200, 40, 200);
  cr_expect_eq(r.cls, ES_CLASS_SPIKE);
  cr_expect_eq(r.alert_state, ES_ALERT_OPENED);
  cr_expect_eq(r.alert_opened, T0 + 60, "the alert is named by the window that opened it");
  cr_expect_geq(r.severity, 4, "10x: severity %d", r.severity);
  r = obs(&st, 61, 400, 80, 400);
  cr_expect_eq(r.alert_state, ES_ALERT_UPDATED);
  cr_expect_eq(r.alert_opened, T0 + 60);
  cr_expect_eq(r.alert_windows, 2);
  cr_expect_eq(r.alert_peak_count, 400);
  cr_expect_eq(obs(&st, 62, 21, 4, 21).alert_state, ES_ALERT_NONE, "one quiet window: still open");
  cr_expect_eq(obs(&st, 63, 20, 4, 20).alert_state, ES_ALERT_NONE);
  r = obs(&st, 64, 22, 4, 22);
  cr_expect_eq(r.alert_state, ES_ALERT_RESOLVED, "three quiet windows resolve it");
  cr_expect_eq(r.alert_opened, T0 + 60);
  cr_expect(r.alert_classes & (1u << ES_CLASS_SPIKE));
  r = obs(&st, 65, 300, 60, 300);
  cr_expect_eq(r.alert_state, ES_ALERT_OPENED, "a new incident is a new alert");
  cr_expect_eq(r.alert_opened, T0 + 65);
  /* Quiet windows that were empty (skipped) count too. */
  r = obs(&st, 70, 21, 4, 21);
  cr_expect_eq(r.alert_state, ES_ALERT_RESOLVED);
  /* With a cooldown, an alert soon after a resolution reopens it. */
  es_detect_params saved = P;
  P.cooldown = 10;
  r = obs(&st, 72, 300, 60, 300);
  cr_expect_eq(r.alert_state, ES_ALERT_UPDATED, "reopened within the cooldown");
  cr_expect_eq(r.alert_opened, T0 + 65);
  P = saved;
  /* The lifecycle survives the state text (the exactly-once restart). */
  char buf[ES_DETECT_STATE_TEXT];
  es_detect_state_format(&st, buf, sizeof buf);
  es_detect_state back;
  cr_assert_eq(es_detect_state_parse(buf, &back), 0);
  cr_expect(back.alert_open && back.alert_opened == T0 + 65 && back.alert_windows == st.alert_windows);
  P = defaults;
}

Test(detect, user_threshold_alerts_too) {
  es_detect_state st = {0};
  es_detect_result r;
  es_detect_window(&P, &st, &(es_detect_obs){.index = 5, .size_ms = 60000, .count = 30, .negative = 25, .authors = 30,
                                              .negative_at_least = 20}, &r);
  cr_expect_eq(r.alert_state, ES_ALERT_OPENED);
  cr_expect_eq(r.severity, 1);
}

/* Weekends at 0.6 of weekdays, on top of the daily cycle, for three weeks
 * without noise: the day-of-week factors come from each weekday's mean
 * volume (complete days), so the first Monday after a weekend is not a
 * climb and nothing alerts; a Saturday afternoon is expected at about 0.6
 * of a Friday's. */
Test(detect, weekly_cycle_is_learnt_from_daily_means) {
  es_detect_state st = {0};
  int alerts = 0;
  double fri = 0, sat = 0;
  for (int64_t i = 0; i < 21 * 1440; i++) {
    bool weekend = (i / 1440) % 7 >= 5; /* day 0 is a Monday */
    uint64_t c = (uint64_t)(200 * daily(i) * (weekend ? 0.6 : 1.0) + 0.5);
    es_detect_result r = obs(&st, i, c, c / 5, c);
    alerts += es_detect_alerting(r.cls);
    if (i == 18 * 1440 + 15 * 60) fri = r.expected;
    if (i == 19 * 1440 + 15 * 60) sat = r.expected;
  }
  cr_expect_eq(alerts, 0, "three weeks of a clean weekly cycle raise nothing");
  cr_expect_eq(st.dow_seen, 0x7f, "every weekday has its mean");
  cr_expect(sat / fri > 0.5 && sat / fri < 0.7, "Saturday / Friday expected %f / %f", sat, fri);
}

/* Swings of +-30 % from window to window at 1,000/min: the slow estimate of
 * the over-dispersion finds them (relative excess variance about 0.045),
 * and a window at 1.8x, far in the Poisson tail but within twice a swing,
 * is not a spike. */
Test(detect, over_dispersion_is_learnt) {
  es_detect_state st = {0};
  for (int64_t i = 0; i < 2 * 1440; i++) {
    uint64_t c = (uint64_t)(1000 * (1 + 0.3 * sin((double)i * 2.3)));
    obs(&st, i, c, c / 5, c);
  }
  cr_expect(st.disp > 0.03 && st.disp < 0.07, "disp %f", st.disp);
  es_detect_result r = obs(&st, 2 * 1440, 1800, 360, 1800);
  cr_expect_neq(r.cls, ES_CLASS_SPIKE, "1.8x within the swings: p %g", r.p_value);
  cr_expect_lt(es_detect_tail(1800, 1000, 1), 1e-60, "while a Poisson model would call it");
}

/* A blip carried by two accounts among the usual people: without their
 * extra mentions the window would not be a spike, so it is noise; the
 * same volume from many people is a spike. */
Test(detect, blip_from_two_accounts_is_noise) {
  es_detect_state st = {0};
  for (int i = 0; i < 60; i++) obs(&st, i, 3, 0, 3);
  es_detect_result r;
  es_detect_window(&P, &st, &(es_detect_obs){.index = T0 + 60, .size_ms = 60000, .count = 16, .authors = 6, .top2 = 12}, &r);
  cr_expect_gt(r.lift, 5);
  cr_expect_eq(r.cls, ES_CLASS_NOISE, "two accounts posting six each");
  es_detect_window(&P, &st, &(es_detect_obs){.index = T0 + 61, .size_ms = 60000, .count = 18, .authors = 17, .top2 = 3}, &r);
  cr_expect_eq(r.cls, ES_CLASS_SPIKE, "eighteen mentions from seventeen people");
}

/* A state saved in the v3 format (before the slow over-dispersion and the
 * daily weekday means) is read: the over-dispersion starts from the prior. */
Test(detect, state_text_v3_is_read) {
  const char *v3 =
    "v3 0x1.481f8b0812f04p+4 0x1.2e9828c0e6de6p-1 0x1.40e62f976c3ap+4 0x1p+2 0x1.4f8df3a811251p+4 0x1.4p+4 0x0p+0 "
    "0x0p+0 0x0p+0 0x0p+0 -1 -1 -1 0 0 29459549 30 0 0 0 0 0 0 0 0x1.008e52p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 "
    "0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 "
    "0x1p+0 0x1p+0 0x1.000be4p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0 0x1p+0";
  es_detect_state st;
  cr_assert_eq(es_detect_state_parse(v3, &st), 0);
  cr_expect_eq(st.nwindows, 30);
  cr_expect(isnan(st.disp));
  es_detect_result r = obs(&st, 30, 21, 4, 21);
  cr_expect_eq(r.cls, ES_CLASS_NORMAL);
  cr_expect(st.disp > 0 && st.disp <= P.disp_prior, "from the prior: %f", st.disp);
}

/* Issue 15: the parameters from one list; text values checked by range. */
Test(detect, params_by_name_issue15) {
  es_detect_params p;
  es_detect_params_default(&p);
  es_diag d = {{0}};
  cr_expect_eq(es_detect_param_set(&p, "max_p", "1e-8", &d), 0);
  cr_expect_float_eq(p.max_p, 1e-8, 1e-20);
  cr_expect_eq(es_detect_param_set(&p, "warmup", "25", &d), 0);
  cr_expect_eq(p.warmup, 25);
  cr_expect_neq(es_detect_param_set(&p, "warmup", "2.5", &d), 0, "a whole number");
  cr_expect_neq(es_detect_param_set(&p, "max_p", "2", &d), 0);
  cr_expect(strstr(d.msg, "between 1e-300 and 1") != NULL, "%s", d.msg);
  cr_expect_neq(es_detect_param_set(&p, "nosuch", "1", &d), 0);
  cr_expect_eq(p.warmup, 25, "a refused value changes nothing");
  const char *const *names = es_detect_param_names();
  size_t n = 0;
  while (names[n]) cr_expect(es_detect_param_find(names[n++]) != NULL);
  cr_expect_geq(n, 20);
}

static es_detect_result gauge(es_detect_state *st, int64_t i, double v) {
  es_detect_result r;
  es_detect_obs o = {.index = i, .size_ms = 300000, .gauge = true, .value = v};
  es_detect_window(&P, st, &o, &r);
  return r;
}

/* A gauge (any measurement): a jump far outside its spread opens one alert;
 * the episode raises the series' record of upward jumps, at most twofold
 * (record_growth), so a second incident like it is heard again, and the
 * same episode repeated stops paging after a few repetitions; a fall is
 * judged by the record of falls, which the jumps left alone. */
#define CALM(i) (50 + (double)(((i) + 2) % 5 - 2) * 0.5)
Test(detect, gauge_spike_then_record_issue15) {
  es_detect_state st = {0};
  int64_t i = 0;
  for (; i < 400; i++) cr_expect_eq(gauge(&st, i, CALM(i)).alert_state, ES_ALERT_NONE, "window %lld", (long long)i);
  double before = st.record[0];
  es_detect_result r = gauge(&st, i++, 80);
  cr_expect_eq(r.cls, ES_CLASS_SPIKE);
  cr_expect_eq(r.alert_state, ES_ALERT_OPENED);
  cr_expect_lt(r.p_value, 1e-12);
  /* Its evidence: the value test, 30 above the level, beyond the bar. */
  cr_expect_eq(r.level_test, ES_LEVEL_TEST_VALUE);
  cr_expect_float_eq(r.level_magnitude, 30, 1.0, "%g", r.level_magnitude);
  cr_expect(r.level_bar > 0 && r.level_bar < r.level_magnitude, "bar %g", r.level_bar);
  cr_expect_gt(r.level_sd, 10);
  cr_expect_str_eq(es_level_test_name(r.level_test), "value");
  for (int k = 0; k < 4; k++, i++) cr_expect_eq(gauge(&st, i, 80).alert_state, ES_ALERT_UPDATED);
  for (int k = 0; k < 200; k++, i++) gauge(&st, i, CALM(i));
  cr_expect_eq(st.alert_open, false, "resolved after quiet windows");
  cr_expect_gt(st.record[0], 1.5 * before, "the episode raised the record of jumps (%g, was %g)", st.record[0], before);
  cr_expect_leq(st.record[0], 2 * P.record_growth * before, "at most record_growth-fold (%g, was %g)", st.record[0],
                before);
  cr_expect_lt(st.record[1], 1.5, "the record of falls is the calm one: %g", st.record[1]);
  /* The same episode every 200 windows: heard at first, then part of the
   * series. */
  int opened[8] = {0};
  for (int rep = 0; rep < 8; rep++) {
    for (int k = 0; k < 5; k++, i++) opened[rep] += gauge(&st, i, 80).alert_state == ES_ALERT_OPENED;
    for (int k = 0; k < 195; k++, i++) gauge(&st, i, CALM(i));
  }
  cr_expect_eq(opened[0], 1, "a second incident like the first pages");
  cr_expect_eq(opened[6] + opened[7], 0, "a repeated pattern stops paging");
  es_detect_state s2 = {0};
  for (i = 0; i < 400; i++) gauge(&s2, i, CALM(i));
  cr_expect_eq(gauge(&s2, i, 20).cls, ES_CLASS_DROP);
  /* A fall after the jumps: its own record. */
  cr_expect_eq(gauge(&st, i, 20).cls, ES_CLASS_DROP);
}

/* The state text of an older version: this version's text as `ver`,
 * without the v6 additions at the end (4 x 3 records and 5 caps) and
 * without the tokens `drop` names. */
static void older_state(const es_detect_state *st, const char *ver, bool (*drop)(int j), char *out, size_t cap) {
  char buf[ES_DETECT_STATE_TEXT];
  es_detect_state_format(st, buf, sizeof buf);
  char *tok[160];
  int n = 0;
  for (char *t = strtok(buf, " "); t && n < 160; t = strtok(NULL, " ")) tok[n++] = t;
  size_t k = (size_t)snprintf(out, cap, "%s", ver);
  for (int j = 1; j < n - 17; j++)
    if (!drop || !drop(j)) k += (size_t)snprintf(out + k, cap - k, " %s", tok[j]);
}

/* v4 had no record .. rec_prev (floats 13-22) and no shift_run (36). */
static bool not_in_v4(int j) { return (j >= 13 && j <= 22) || j == 36; }

/* A state saved by an earlier version (v4, before the record) is still
 * read: the exactly-once restart of an upgraded engine. */
Test(detect, reads_v4_state_issue15) {
  es_detect_state st = {0};
  for (int i = 0; i < 30; i++) feed(&st, i, 20 + i % 3);
  char v4[ES_DETECT_STATE_TEXT];
  older_state(&st, "v4", not_in_v4, v4, sizeof v4);
  es_detect_state back;
  cr_assert_eq(es_detect_state_parse(v4, &back), 0, "%s", v4);
  cr_expect_float_eq(back.mean, st.mean, 1e-12);
  cr_expect_eq(back.nwindows, st.nwindows);
  cr_expect_eq(back.acc_n, st.acc_n);
  cr_expect_float_eq(back.record[0], 0, 1e-12);
}

/* A v5 state (one record, in sd, for every test) is read: each record
 * in its test's units, so an upgraded engine keeps its bar. */
Test(detect, reads_v5_state_issue15) {
  es_detect_state st = {0};
  for (int i = 0; i < 400; i++) feed(&st, i, 20 + i % 3);
  char v5[ES_DETECT_STATE_TEXT];
  older_state(&st, "v5", NULL, v5, sizeof v5);
  es_detect_state back;
  cr_assert_eq(es_detect_state_parse(v5, &back), 0, "%s", v5);
  double fl = 1e-3 * fabs(st.lvl) + 1e-9, sd = sqrt(st.lvar + fl * fl);
  cr_expect_float_eq(back.record[0], st.record[0] * sd, 1e-9);
  cr_expect_float_eq(back.record[1], st.record[0] * sd, 1e-9);
  cr_expect_float_eq(back.record[4], st.record[0], 1e-9);
  cr_expect_eq(back.nwindows, st.nwindows);
  char again[ES_DETECT_STATE_TEXT];
  es_detect_state_format(&back, again, sizeof again);
  cr_expect_eq(strncmp(again, "v6 ", 3), 0, "written back as v6");
}

/* Issue 15: real volume has bursts that are ordinary for it (retweet
 * waves every few hours). Once the series has shown such bursts, the next
 * ones of the same size no longer page: they are within its record. A burst
 * well beyond them still does. */
Test(detect, recurring_bursts_stop_paging_issue15) {
  es_detect_state st = {0};
  feed_days(&st, 0, 4 * 1440, 100);
  int early = 0, late = 0;
  int64_t i = 4 * 1440;
  for (int b = 0; b < 24; b++) { /* a 3x burst of 3 windows every 3 hours, for three days */
    for (int k = 0; k < 180; k++, i++) {
      double c = 100 * daily(i) * (k < 3 ? 3 : 1);
      es_detect_result r = obs(&st, i, (uint64_t)c, (uint64_t)c / 5, (uint64_t)c);
      if (r.alert_state == ES_ALERT_OPENED) *(b < 4 ? &early : &late) += 1;
    }
  }
  cr_expect_geq(early, 1, "the first bursts page");
  cr_expect_leq(late, 2, "the same bursts, once usual, page at most twice more (%d)", late);
  es_detect_result r = obs(&st, i, (uint64_t)(1000 * daily(i)), (uint64_t)(200 * daily(i)), (uint64_t)(1000 * daily(i)));
  cr_expect_eq(r.cls, ES_CLASS_SPIKE, "a burst far beyond them is a spike");
}

/* Issue 15: every class obeys min_support; a climb at a few mentions a
 * window is noise, whatever the CUSUM says. */
Test(detect, trend_obeys_min_support_issue15) {
  es_detect_state st = {0};
  feed_days(&st, 0, 5 * 1440, 2);
  int trends = 0;
  for (int64_t k = 0; k < 600; k++) {
    int64_t i = 5 * 1440 + k;
    double c = 2 * daily(i) * (1 + 3.0 * (double)(k + 1) / 600); /* to 4x, still under 10 a window */
    trends += obs(&st, i, (uint64_t)c, 0, (uint64_t)c).cls == ES_CLASS_TREND;
  }
  cr_expect_eq(trends, 0, "no trend below min_support");
}

/* Issue 15: a trend alert ends when its evidence ends: the volume doubles
 * over two hours, stays there for one, then returns; the alert resolves
 * within the hour. (Held for longer, the new level is learnt and the alert
 * resolves then: a lasting shift, see the test after it.) */
Test(detect, trend_alert_resolves_when_the_level_is_back_issue15) {
  es_detect_state st = {0};
  feed_days(&st, 0, 5 * 1440, 100);
  int64_t i = 5 * 1440, opened_at = -1, resolved_at = -1;
  for (int64_t k = 0; k < 360; k++, i++) {
    double up = k < 120 ? 1 + (double)k / 120 : k < 180 ? 2 : 1;
    double c = 100 * daily(i) * up;
    es_detect_result r = obs(&st, i, (uint64_t)c, (uint64_t)c / 5, (uint64_t)c);
    if (r.alert_state == ES_ALERT_OPENED && opened_at < 0) opened_at = k;
    if (r.alert_state == ES_ALERT_RESOLVED && opened_at >= 0) resolved_at = k;
  }
  cr_expect_geq(opened_at, 0, "the doubling opens an alert");
  cr_expect_lt(opened_at, 180);
  cr_expect_geq(resolved_at, 180, "resolved after the level came back (%lld)", (long long)resolved_at);
  cr_expect_lt(resolved_at, 240, "within the hour (%lld)", (long long)resolved_at);
  cr_expect_eq(st.alert_open, false);
}

/* Issue 15: a lasting rise is learnt and reported once: the volume doubles
 * over two hours and stays there; one alert opens, resolves once the new
 * level is learnt, and the hours at the new level open nothing more. */
Test(detect, lasting_rise_is_learnt_and_reported_once_issue15) {
  es_detect_state st = {0};
  feed_days(&st, 0, 5 * 1440, 100);
  int64_t i = 5 * 1440, resolved_at = -1;
  int opened = 0;
  for (int64_t k = 0; k < 600; k++, i++) {
    double up = k < 120 ? 1 + (double)k / 120 : 2;
    double c = 100 * daily(i) * up;
    es_detect_result r = obs(&st, i, (uint64_t)c, (uint64_t)c / 5, (uint64_t)c);
    opened += r.alert_state == ES_ALERT_OPENED;
    if (r.alert_state == ES_ALERT_RESOLVED && resolved_at < 0) resolved_at = k;
  }
  cr_expect_eq(opened, 1, "one alert for the rise (%d)", opened);
  cr_expect_geq(resolved_at, 120, "resolved (%lld)", (long long)resolved_at);
  cr_expect_lt(resolved_at, 300, "once the new level is learnt (%lld)", (long long)resolved_at);
  cr_expect_eq(st.alert_open, false);
}

/* Issue 19 (found by fuzz_state): a state header from a topic is untrusted.
 * A value that is not finite or an index beyond any real time is refused,
 * not turned into arithmetic that overflows. */
Test(detect, corrupted_state_is_refused_issue19) {
  es_detect_state st = {0};
  for (int i = 0; i < 30; i++) feed(&st, i, 20 + i % 3);
  char buf[ES_DETECT_STATE_TEXT], bad[ES_DETECT_STATE_TEXT];
  es_detect_state_format(&st, buf, sizeof buf);
  es_detect_state back;
  cr_assert_eq(es_detect_state_parse(buf, &back), 0);
  /* The first float (the mean) as NaN, then as infinity. */
  const char *rest = strchr(buf + 3, ' ');
  snprintf(bad, sizeof bad, "v5 nan%s", rest);
  cr_expect_neq(es_detect_state_parse(bad, &back), 0, "NaN refused");
  snprintf(bad, sizeof bad, "v5 inf%s", rest);
  cr_expect_neq(es_detect_state_parse(bad, &back), 0, "infinity refused");
  /* last_index (the 6th integer, after 22 floats) at INT64_MAX. */
  char *tok[128];
  int n = 0;
  snprintf(bad, sizeof bad, "%s", buf);
  for (char *t = strtok(bad, " "); t && n < 128; t = strtok(NULL, " ")) tok[n++] = t;
  tok[2] = "-0x1p+0"; /* a negative variance */
  char neg[ES_DETECT_STATE_TEXT];
  size_t kn = 0;
  for (int j = 0; j < n; j++) kn += (size_t)snprintf(neg + kn, sizeof neg - kn, j ? " %s" : "%s", tok[j]);
  cr_expect_neq(es_detect_state_parse(neg, &back), 0, "a negative variance refused");
  tok[2] = "0x0p+0";
  tok[1 + 22 + 5] = "9223372036854775807";
  char joined[ES_DETECT_STATE_TEXT];
  size_t k = 0;
  for (int j = 0; j < n; j++) k += (size_t)snprintf(joined + k, sizeof joined - k, j ? " %s" : "%s", tok[j]);
  cr_expect_neq(es_detect_state_parse(joined, &back), 0, "an index beyond any real time refused");
}
