/* Detection quality on labelled generated window series: precision, recall
 * and F1 of incident detection, detection delay, and false alerts per
 * query-week on incident-free streams, per scenario and overall.
 *
 *   detect_eval [--queries N] [--days D] [--seed S] [--json FILE] [--min-f1 X]
 *
 * Each scenario simulates N queries of one-minute windows over D days: a
 * base volume with a daily cycle (peak 15:00, trough 03:00) and quieter
 * weekends, over-dispersed counts (a gamma-Poisson mixture), a negative
 * share around 20 % and distinct authors drawn from each window's mentions.
 * Incidents are planted after the third day with known start and end; the
 * detector (the engine's es_detect_window, default parameters) sees only the
 * windows. An alert is a run of alerting windows (classes spike,
 * negative_surge, trend, drop; gaps of up to 2 windows joined); an incident
 * is detected when an alert opens inside it; an alert that opens outside
 * every incident, and not in the grace period after one (a quarter of its
 * length, at least 30 windows: the same incident still being reported), is
 * false. Blips (one window of a few mentions from one or
 * two authors) are not incidents: an alert on one is false.
 * With --min-f1, exits 1 when the overall F1 is below it (the CI floor). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/detect.h"
#include "earshot/error.h"

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t next(rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double unif(rng *r) { return ((double)(next(r) >> 11) + 0.5) / 9007199254740992.0; }
static double normal(rng *r) { return sqrt(-2 * log(unif(r))) * cos(6.283185307179586 * unif(r)); }

static double gamma_draw(rng *r, double k) { /* Marsaglia-Tsang, scale 1 */
  if (k < 1) return gamma_draw(r, k + 1) * pow(unif(r), 1 / k);
  double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
  for (;;) {
    double x = normal(r), v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = unif(r);
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v;
  }
}

static uint64_t poisson(rng *r, double mu) {
  if (mu <= 0) return 0;
  if (mu < 30) {
    double l = exp(-mu), p = 1;
    uint64_t k = 0;
    do {
      k++;
      p *= unif(r);
    } while (p > l);
    return k - 1;
  }
  double x = mu + sqrt(mu) * normal(r) + 0.5;
  return x < 0 ? 0 : (uint64_t)x;
}

static uint64_t binomial(rng *r, uint64_t n, double p) {
  if (n < 50) {
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++) k += unif(r) < p;
    return k;
  }
  double x = (double)n * p + sqrt((double)n * p * (1 - p)) * normal(r) + 0.5;
  return x < 0 ? 0 : x > (double)n ? n : (uint64_t)x;
}

/* Daily cycle and weekends: the seasonality a quiet stream must not alert on. */
static double season(int64_t minute) {
  double day = fmod((double)minute / 1440.0, 1.0);
  int dow = (int)((minute / 1440) % 7); /* day 0 = Monday */
  double f = 1 + 0.6 * cos(6.283185307179586 * (day - 15.0 / 24));
  return f * (dow >= 5 ? 0.6 : 1.0);
}

enum { K_NONE, K_SPIKE, K_TREND, K_NEGATIVE, K_DROP, K_BLIP };

typedef struct scenario {
  const char *name;
  double base;     /* mean mentions per minute */
  int kind;        /* incident kind */
  double mult;     /* spike multiplier, trend final multiplier, negative share, drop factor */
  int dur;         /* incident windows */
  int per_query;   /* incidents per query */
} scenario;

typedef struct tally {
  long tp, fn, fp, incidents;
  long fp_by_class[8];
  double weeks;
  double *delays;
  long ndelays;
} tally;

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double q) {
  if (n == 0) return NAN;
  qsort(v, (size_t)n, sizeof *v, cmpd);
  long i = (long)ceil(q * (double)n) - 1;
  return v[i < 0 ? 0 : i];
}

static es_detect_params params; /* the defaults, with --params overrides */

static void run(const scenario *sc, int nq, int days, uint64_t seed, tally *t) {
  int64_t W = (int64_t)days * 1440;
  es_detect_params p = params;
  int *inc = malloc(sizeof(int) * (size_t)W); /* incident id per window, -1 none */
  for (int q = 0; q < nq; q++) {
    rng r = {seed * 1000003 + (uint64_t)q * 7919 + (uint64_t)(sc->base * 13) + (uint64_t)sc->kind * 101};
    for (int64_t i = 0; i < W; i++) inc[i] = -1;
    char *grace = calloc((size_t)W, 1);
    int64_t starts[16];
    int ninc = 0;
    /* Incidents after day 3, spaced so they do not overlap. */
    for (int k = 0; k < sc->per_query && sc->kind != K_NONE; k++) {
      int64_t lo = 3 * 1440 + (int64_t)k * (W - 3 * 1440) / sc->per_query;
      int64_t span = (W - 3 * 1440) / sc->per_query - sc->dur - 600;
      int64_t s = lo + 300 + (int64_t)(unif(&r) * (double)(span > 1 ? span : 1));
      starts[ninc] = s;
      for (int64_t i = s; i < s + sc->dur && i < W; i++) inc[i] = ninc;
      int64_t g = sc->dur / 4 > 30 ? sc->dur / 4 : 30;
      for (int64_t i = s + sc->dur; i < s + sc->dur + g && i < W; i++) grace[i] = 1;
      ninc++;
    }
    t->incidents += sc->kind == K_BLIP ? 0 : ninc;
    t->weeks += (double)days / 7.0;
    bool detected[16] = {0};
    es_detect_state st = {0};
    int64_t start_index = 1767571200000LL / 60000; /* 2026-01-05T00:00Z, a Monday */
    bool in_alert = false;
    int64_t last_alert = -100;
    for (int64_t i = 0; i < W; i++) {
      double mu = sc->base * season(i) * gamma_draw(&r, 20) / 20;
      double negp = 0.2;
      int id = inc[i];
      int64_t pos = id >= 0 ? i - starts[id] : 0;
      uint64_t extra = 0, extra_authors = 0;
      if (id >= 0) {
        switch (sc->kind) {
        case K_SPIKE: mu *= sc->mult; break;
        case K_TREND: mu *= 1 + (sc->mult - 1) * (double)(pos + 1) / sc->dur; break;
        case K_NEGATIVE: negp = sc->mult; break;
        case K_DROP: mu *= sc->mult; break;
        case K_BLIP:
          extra = 3 + next(&r) % 8;
          extra_authors = 1 + next(&r) % 2;
          break;
        }
      }
      uint64_t count = poisson(&r, mu);
      uint64_t neg = binomial(&r, count, negp);
      /* Distinct authors: most mentions come from distinct people. */
      uint64_t repeats = binomial(&r, count, 0.1);
      uint64_t authors = count - repeats + extra_authors;
      /* The two most active authors: the usual ones post once or twice (a
       * few repeats spread over many people); a blip's one or two accounts
       * post its extra mentions. */
      uint64_t top2 = count < 2 ? count : 2 + (repeats < 2 ? repeats : 2);
      if (top2 > count) top2 = count;
      if (extra) top2 = extra_authors == 1 ? extra + (count ? 1 : 0) : extra;
      count += extra;
      es_detect_result res;
      es_detect_obs ob = {.index = start_index + i, .size_ms = 60000, .count = count, .negative = neg, .authors = authors,
                          .top2 = top2};
      es_detect_window(&p, &st, &ob, &res);
      bool a = es_detect_alerting(res.cls);
      if (getenv("DETECT_EVAL_VERBOSE") && atoi(getenv("DETECT_EVAL_VERBOSE")) > 2 && id >= 0 && pos < 3)
        fprintf(stderr, "%s: query %d incident window %lld: %s count %llu expected %.1f lift %.2f p %.2g authors %llu\n",
                sc->name, q, (long long)pos, es_class_name(res.cls), (unsigned long long)count, res.expected, res.lift,
                res.p_value, (unsigned long long)authors);
      if (a && !in_alert && i - last_alert > 2) {
        /* an alert opens */
        if (id >= 0 && sc->kind != K_BLIP) {
          if (!detected[id]) {
            detected[id] = true;
            t->tp++;
            t->delays = realloc(t->delays, sizeof(double) * (size_t)(t->ndelays + 1));
            t->delays[t->ndelays++] = (double)pos;
            if (getenv("DETECT_EVAL_VERBOSE") && pos > 1)
              fprintf(stderr, "%s: query %d incident at day %.2f detected after %lld windows as %s\n", sc->name, q,
                      (double)starts[id] / 1440, (long long)pos, es_class_name(res.cls));
          }
        } else if (!(grace[i] && sc->kind != K_BLIP)) {
          t->fp++;
          t->fp_by_class[res.cls]++;
          if (getenv("DETECT_EVAL_VERBOSE") && atoi(getenv("DETECT_EVAL_VERBOSE")) > 1)
            fprintf(stderr, "%s: query %d false %s at day %.3f (dow %d, %02d:%02d): count %llu expected %.1f lift %.2f "
                            "p %.2g season %.2f authors %llu\n",
                    sc->name, q, es_class_name(res.cls), (double)i / 1440, (int)((i / 1440) % 7), (int)(i % 1440 / 60),
                    (int)(i % 60), (unsigned long long)count, res.expected, res.lift, res.p_value, res.season,
                    (unsigned long long)authors);
        }
      }
      if (a) last_alert = i;
      in_alert = a || (in_alert && i - last_alert <= 2);
    }
    if (sc->kind != K_BLIP)
      for (int k = 0; k < ninc; k++) t->fn += !detected[k];
    free(grace);
  }
  free(inc);
}

int main(int argc, char **argv) {
  int nq = 20, days = 14;
  uint64_t seed = 1;
  const char *json = NULL;
  double min_f1 = -1;
  es_detect_params_default(&params);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--queries")) nq = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--days")) days = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--json")) json = argv[i + 1];
    else if (!strcmp(argv[i], "--min-f1")) min_f1 = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--params")) {
      char key[64];
      const char *eq = strchr(argv[i + 1], '=');
      es_diag d;
      if (!eq || (size_t)(eq - argv[i + 1]) >= sizeof key) {
        fprintf(stderr, "detect_eval: --params takes KEY=VALUE\n");
        return 2;
      }
      memcpy(key, argv[i + 1], (size_t)(eq - argv[i + 1]));
      key[eq - argv[i + 1]] = 0;
      if (es_detect_param_set(&params, key, eq + 1, &d)) {
        fprintf(stderr, "detect_eval: %s\n", d.msg);
        return 2;
      }
    } else {
      fprintf(stderr, "usage: detect_eval [--queries N] [--days D] [--seed S] [--json FILE] [--min-f1 X] "
                      "[--params KEY=VALUE]...\n");
      return 2;
    }
  }
  if (days < 5) days = 5;
  static const scenario scs[] = {
    {"seasonal, no incident, low (1/min)", 1, K_NONE, 0, 0, 0},
    {"seasonal, no incident, medium (50/min)", 50, K_NONE, 0, 0, 0},
    {"seasonal, no incident, high (1000/min)", 1000, K_NONE, 0, 0, 0},
    {"spike 2x, high", 1000, K_SPIKE, 2, 15, 2},
    {"spike 5x, medium", 50, K_SPIKE, 5, 15, 2},
    {"spike 10x, low", 1, K_SPIKE, 10, 30, 2},
    {"spike 50x, low", 1, K_SPIKE, 50, 15, 2},
    {"spike 5x, high", 1000, K_SPIKE, 5, 10, 2},
    {"slow trend, doubling over 4 h, medium", 50, K_TREND, 2, 240, 2},
    {"slow trend, tripling over 6 h, high", 1000, K_TREND, 3, 360, 2},
    {"negative share 20% -> 60%, flat volume, medium", 50, K_NEGATIVE, 0.6, 60, 2},
    {"negative share 20% -> 45%, flat volume, high", 1000, K_NEGATIVE, 0.45, 60, 2},
    {"ingestion drop to 5%, medium", 50, K_DROP, 0.05, 30, 2},
    {"ingestion drop to 0, high", 1000, K_DROP, 0.0, 20, 2},
    {"blips of 3-10 mentions from 1-2 authors, low", 1, K_BLIP, 0, 1, 10},
  };
  size_t ns = sizeof scs / sizeof *scs;
  tally all = {0};
  FILE *jf = json ? fopen(json, "w") : NULL;
  if (jf) fputs("{\"scenarios\":[", jf);
  printf("| scenario | incidents | detected | false alerts | precision | recall | F1 | delay p50 / p95 (windows) | "
         "false alerts per query-week |\n|---|---|---|---|---|---|---|---|---|\n");
  for (size_t s = 0; s < ns; s++) {
    tally t = {0};
    run(&scs[s], nq, days, seed, &t);
    double prec = t.tp + t.fp ? (double)t.tp / (double)(t.tp + t.fp) : 1.0;
    double rec = t.incidents ? (double)t.tp / (double)t.incidents : NAN;
    double f1 = t.incidents ? (prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0) : NAN;
    double p50 = pct(t.delays, t.ndelays, 0.5), p95 = pct(t.delays, t.ndelays, 0.95);
    char cells[96];
    if (t.incidents)
      snprintf(cells, sizeof cells, "%.2f | %.2f | %.2f | %.0f / %.0f", prec, rec, f1, p50, p95);
    else
      snprintf(cells, sizeof cells, "- | - | - | - / -");
    printf("| %s | %ld | %ld | %ld | %s | %.2f |\n", scs[s].name, t.incidents, t.tp, t.fp, cells, (double)t.fp / t.weeks);
    if (getenv("DETECT_EVAL_VERBOSE") && t.fp)
      fprintf(stderr, "%s: false alerts spike %ld, negative_surge %ld, trend %ld, drop %ld\n", scs[s].name,
              t.fp_by_class[ES_CLASS_SPIKE], t.fp_by_class[ES_CLASS_NEGATIVE], t.fp_by_class[ES_CLASS_TREND],
              t.fp_by_class[ES_CLASS_DROP]);
    if (jf)
      fprintf(jf, "%s{\"name\":\"%s\",\"incidents\":%ld,\"detected\":%ld,\"false_alerts\":%ld,\"precision\":%.4f,"
                  "\"recall\":%.4f,\"f1\":%.4f,\"delay_p50\":%.1f,\"delay_p95\":%.1f,\"false_per_query_week\":%.4f}",
              s ? "," : "", scs[s].name, t.incidents, t.tp, t.fp, prec, isnan(rec) ? -1 : rec, isnan(f1) ? -1 : f1,
              isnan(p50) ? -1 : p50, isnan(p95) ? -1 : p95, (double)t.fp / t.weeks);
    all.tp += t.tp;
    all.fp += t.fp;
    all.fn += t.fn;
    all.incidents += t.incidents;
    all.weeks += t.weeks;
    for (long i = 0; i < t.ndelays; i++) {
      all.delays = realloc(all.delays, sizeof(double) * (size_t)(all.ndelays + 1));
      all.delays[all.ndelays++] = t.delays[i];
    }
    free(t.delays);
  }
  double prec = all.tp + all.fp ? (double)all.tp / (double)(all.tp + all.fp) : 1.0;
  double rec = (double)all.tp / (double)all.incidents;
  double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
  double p50 = pct(all.delays, all.ndelays, 0.5), p95 = pct(all.delays, all.ndelays, 0.95);
  printf("| **overall** | %ld | %ld | %ld | %.2f | %.2f | **%.2f** | %.0f / %.0f | %.2f |\n", all.incidents, all.tp,
         all.fp, prec, rec, f1, p50, p95, (double)all.fp / all.weeks);
  if (jf) {
    fprintf(jf, "],\"overall\":{\"incidents\":%ld,\"detected\":%ld,\"false_alerts\":%ld,\"precision\":%.4f,\"recall\":%.4f,"
                "\"f1\":%.4f,\"delay_p50\":%.1f,\"delay_p95\":%.1f},\"queries\":%d,\"days\":%d,\"seed\":%llu}\n",
            all.incidents, all.tp, all.fp, prec, rec, f1, p50, p95, nq, days, (unsigned long long)seed);
    fclose(jf);
  }
  free(all.delays);
  if (min_f1 >= 0 && f1 < min_f1) {
    fprintf(stderr, "detect_eval: overall F1 %.3f is below the floor %.3f\n", f1, min_f1);
    return 1;
  }
  return 0;
}
