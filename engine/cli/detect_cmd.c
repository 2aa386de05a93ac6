/* `earshot detect`: the detector as a backtest tool. Reads a volume series
 * (CSV `timestamp,value`, one row per window, as monitoring and listening
 * tools export it; or the engine's own window records as JSON lines) and
 * runs every row through es_detect_window, the code path `replay` and `run`
 * use, with the same `detection.*` parameters (config file, then --params
 * overrides). Writes one line per row: timestamp, value, class, expected,
 * lift, p-value, alert state and a monotone anomaly score in [0, 1], so that
 * users can tune their parameters on their own history.
 *
 * Bad rows never stop it: a row whose value is not a number, whose
 * timestamp cannot be read, repeats the previous one or goes back in time
 * is skipped, counted by reason and reported with its line number (the
 * first few of each reason). Main thread only. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_internal.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/detect.h"
#include "earshot/hash.h"
#include "earshot/mem.h"
#include "earshot/timeutil.h"

static int usage(FILE *f) {
  fputs("usage: earshot detect [options] [FILE|-]\n"
        "  Runs the detector over a volume series and writes, per row:\n"
        "  timestamp,value,class,expected,lift,p_value,alert_state,score,test\n"
        "  (test: the level model's test behind a spike, drop or trend: value, short_level or\n"
        "  likelihood)\n"
        "  Input: CSV `timestamp,value` (a header line is optional; timestamps RFC 3339, or\n"
        "  `YYYY-MM-DD HH:MM:SS` taken as UTC, or epoch seconds/milliseconds), or the engine's\n"
        "  window records (JSON lines; one series per query and window size).\n"
        "  -c, --config FILE      take the detection.* parameters from this config file\n"
        "  -p, --params KEY=VALUE override one detection parameter (repeatable)\n"
        "      --window DUR       the series' interval (default: the most common spacing of the rows)\n"
        "      --values KIND      count (mention volume: a missing row is an empty window) or\n"
        "                         gauge (any measurement: a missing row is missing); default count\n"
        "                         when every value is a whole number >= 0 and the values vary\n"
        "                         at least as much as counts of independent events, else gauge\n"
        "      --format csv|jsonl output format (default csv; jsonl for window-record input)\n"
        "  -o, --output FILE      write here instead of stdout\n"
        "      --list-params      the parameters, their defaults and ranges\n",
        f);
  return f == stderr ? 2 : 0;
}

/* One input row, parsed. */
typedef struct row {
  int64_t ts_ms;
  char ts[40];          /* as written in the input, for the output */
  double value;
  uint64_t negative, authors, top2;
  char query[64];
  int64_t size_ms;      /* window size from the record (JSONL), else 0 */
  long line;
} row;

enum skip { SK_NONE, SK_VALUE, SK_TIME, SK_DUP, SK_BACK, SK_NOTFINAL, SK_COUNT };
static const char *const skip_name[SK_COUNT] = {"", "value is not a number", "timestamp not readable",
                                                "timestamp repeats the previous row", "timestamp goes back in time",
                                                "not a final window record"};

typedef struct series {
  char query[64];
  int64_t size_ms;
  int64_t last_ts, index;
  bool started;
  es_detect_state st;
} series;

typedef struct ctx {
  es_detect_params p;
  FILE *out;
  bool jsonl_out, gauge, values_given;
  int64_t window_ms;
  long skipped[SK_COUNT];
  long rows, classes[ES_CLASS_COUNT], opened, resolved;
  series *sv;
  size_t nsv, capsv;
  uint32_t *ix; /* open-addressing index into sv (entry + 1; 0 = empty) */
  size_t capix;
  bool oom;
} ctx;

static void skip(ctx *c, enum skip why, long line) {
  if (c->skipped[why]++ < 5) fprintf(stderr, "earshot detect: line %ld skipped: %s\n", line, skip_name[why]);
}

/* Timestamps: RFC 3339; a zone-less `YYYY-MM-DD HH:MM:SS[.fff]` is UTC;
 * a bare number is epoch seconds, or milliseconds when above 1e11. */
static int parse_ts(const char *s, size_t n, int64_t *ms) {
  while (n && isspace((unsigned char)s[n - 1])) n--;
  while (n && isspace((unsigned char)*s)) s++, n--;
  if (n && n < 40 && (isdigit((unsigned char)s[0]) || s[0] == '-')) {
    char buf[48];
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    double x = strtod(buf, &end);
    if (*end == 0 && isfinite(x)) {
      *ms = fabs(x) > 1e11 ? (int64_t)x : (int64_t)llround(x * 1000);
      return 0;
    }
    if (!es_time_parse_rfc3339(buf, n, ms)) return 0;
    buf[n] = 'Z';
    buf[n + 1] = 0;
    return es_time_parse_rfc3339(buf, n + 1, ms);
  }
  return ES_EINVAL;
}

static uint64_t series_hash(const char *query, int64_t size_ms) {
  return es_hash_mix(es_hash_bytes(query, strlen(query)) ^ (uint64_t)size_ms);
}

/* The series of (query, window size): found through an open-addressing
 * index (window records cycle through every query each period, so a scan
 * would cost queries x rows). NULL when out of memory. */
static series *series_of(ctx *c, const char *query, int64_t size_ms) {
  uint64_t h = series_hash(query, size_ms);
  for (size_t i = h & (c->capix - 1); c->capix && c->ix[i]; i = (i + 1) & (c->capix - 1)) {
    series *s = &c->sv[c->ix[i] - 1];
    if (s->size_ms == size_ms && !strcmp(s->query, query)) return s;
  }
  if (c->nsv == c->capsv) {
    size_t cap = c->capsv ? c->capsv * 2 : 8;
    series *sv = es_realloc(c->sv, cap * sizeof *sv);
    if (!sv) return NULL;
    c->sv = sv;
    c->capsv = cap;
  }
  if (2 * (c->nsv + 1) > c->capix) { /* keep the index at most half full */
    size_t cap = c->capix ? c->capix * 2 : 16;
    uint32_t *ix = es_calloc(cap, sizeof *ix);
    if (!ix) return NULL;
    for (size_t k = 0; k < c->nsv; k++) {
      size_t i = series_hash(c->sv[k].query, c->sv[k].size_ms) & (cap - 1);
      while (ix[i]) i = (i + 1) & (cap - 1);
      ix[i] = (uint32_t)k + 1;
    }
    es_free(c->ix);
    c->ix = ix;
    c->capix = cap;
  }
  series *s = &c->sv[c->nsv++];
  memset(s, 0, sizeof *s);
  snprintf(s->query, sizeof s->query, "%s", query);
  s->size_ms = size_ms;
  size_t i = h & (c->capix - 1);
  while (c->ix[i]) i = (i + 1) & (c->capix - 1);
  c->ix[i] = (uint32_t)c->nsv;
  return s;
}

static void put_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void put_num(FILE *f, double x) {
  if (x == x && isfinite(x)) fprintf(f, "%.6g", x);
  else if (x == x) fputs(x > 0 ? "1e308" : "-1e308", f);
}

/* The monotone anomaly score in [0, 1]: the evidence -log10 p of the
 * window's tail, as a share of the alarm level -log10 max_p, squashed so
 * that the alarm level is 0.5 and twice as much evidence 2/3. Windows
 * called noise score at most 0.25. */
static double anomaly_score(const es_detect_params *p, const es_detect_result *r) {
  if (!(r->p_value == r->p_value)) return 0;
  double pv = r->p_value > 1e-300 ? r->p_value : 1e-300;
  double e = -log10(pv) / -log10(p->max_p < 1 ? p->max_p : 0.1);
  double s = e / (1 + e);
  if (r->cls == ES_CLASS_NOISE && s > 0.25) s = 0.25;
  return s;
}

static void emit(ctx *c, series *s, const row *r) {
  int64_t size = s->size_ms;
  int64_t idx;
  if (!s->started) {
    idx = r->ts_ms >= 0 ? r->ts_ms / size : -((-r->ts_ms + size - 1) / size);
    s->started = true;
  } else {
    /* Irregular spacing: each row is its own window, the index advancing
     * by the number of intervals it is from the last one (at least one). */
    int64_t k = (int64_t)llround((double)(r->ts_ms - s->last_ts) / (double)size);
    idx = s->index + (k < 1 ? 1 : k);
  }
  s->index = idx;
  s->last_ts = r->ts_ms;
  double v = r->value;
  es_detect_obs o = {.index = idx, .size_ms = size, .gauge = c->gauge, .value = v,
                     .count = v > 0 && !c->gauge ? (uint64_t)llround(v) : 0, .negative = r->negative,
                     .authors = r->authors, .top2 = r->top2};
  es_detect_result d;
  es_detect_window(&c->p, &s->st, &o, &d);
  c->rows++;
  c->classes[d.cls]++;
  c->opened += d.alert_state == ES_ALERT_OPENED;
  c->resolved += d.alert_state == ES_ALERT_RESOLVED;
  double score = anomaly_score(&c->p, &d);
  FILE *f = c->out;
  if (c->jsonl_out) {
    /* Query ids and timestamps come from the input: escaped. */
    es_buf b;
    es_buf_init(&b);
    if (r->query[0]) {
      es_buf_puts(&b, "\"query\":");
      es_buf_json_str(&b, r->query, strlen(r->query));
      es_buf_putc(&b, ',');
    }
    es_buf_puts(&b, "\"timestamp\":");
    es_buf_json_str(&b, r->ts, strlen(r->ts));
    fprintf(f, "{%.*s,\"value\":", (int)b.len, b.data);
    es_buf_free(&b);
    put_num(f, v);
    fprintf(f, ",\"class\":\"%s\",\"expected\":", es_class_name(d.cls));
    if (d.expected == d.expected) put_num(f, d.expected); else fputs("null", f);
    fputs(",\"lift\":", f);
    if (d.lift == d.lift) put_num(f, d.lift); else fputs("null", f);
    fputs(",\"p_value\":", f);
    if (d.p_value == d.p_value) put_num(f, d.p_value); else fputs("null", f);
    fprintf(f, ",\"alert_state\":\"%s\",\"score\":%.6g,\"test\":", es_alert_state_name(d.alert_state), score);
    if (d.level_test >= 0) fprintf(f, "\"%s\"}\n", es_level_test_name(d.level_test)); else fputs("null}\n", f);
  } else {
    if (r->query[0]) {
      put_field(f, r->query);
      fputc(',', f);
    }
    put_field(f, r->ts);
    fputc(',', f);
    put_num(f, v);
    fprintf(f, ",%s,", es_class_name(d.cls));
    put_num(f, d.expected);
    fputc(',', f);
    put_num(f, d.lift);
    fputc(',', f);
    put_num(f, d.p_value);
    fprintf(f, ",%s,%.6g,%s\n", es_alert_state_name(d.alert_state), score,
            d.level_test >= 0 ? es_level_test_name(d.level_test) : "");
  }
}

/* Feeds one parsed row to its series, checking its order. */
static void feed(ctx *c, const row *r, int64_t size_ms) {
  series *s = series_of(c, r->query, size_ms);
  if (!s) {
    c->oom = true;
    return;
  }
  if (s->started && r->ts_ms == s->last_ts) return skip(c, SK_DUP, r->line);
  if (s->started && r->ts_ms < s->last_ts) return skip(c, SK_BACK, r->line);
  emit(c, s, r);
}

/* A window record of the engine: its query, start, size, effective volume,
 * negatives in proportion, distinct authors, two top authors. */
static int parse_record(const char *line, row *r, bool *final) {
  cJSON *j = cJSON_Parse(line);
  if (!j) return SK_VALUE;
  int rc = SK_VALUE;
  const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "query");
  const cJSON *ws = cJSON_GetObjectItemCaseSensitive(j, "window_start");
  const cJSON *sec = cJSON_GetObjectItemCaseSensitive(j, "window_seconds");
  const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(j, "count");
  const cJSON *eff = cJSON_GetObjectItemCaseSensitive(j, "effective_count");
  const cJSON *neg = cJSON_GetObjectItemCaseSensitive(j, "negative");
  const cJSON *au = cJSON_GetObjectItemCaseSensitive(j, "unique_authors");
  const cJSON *anon = cJSON_GetObjectItemCaseSensitive(j, "anonymous");
  const cJSON *fin = cJSON_GetObjectItemCaseSensitive(j, "final");
  const cJSON *top = cJSON_GetObjectItemCaseSensitive(j, "top_authors");
  *final = !cJSON_IsFalse(fin);
  if (!cJSON_IsString(ws) || parse_ts(ws->valuestring, strlen(ws->valuestring), &r->ts_ms)) {
    rc = SK_TIME;
    goto out;
  }
  if (!cJSON_IsNumber(cnt) || !cJSON_IsNumber(sec) || sec->valuedouble <= 0) {
    rc = SK_VALUE;
    goto out;
  }
  snprintf(r->query, sizeof r->query, "%s", cJSON_IsString(q) ? q->valuestring : "");
  snprintf(r->ts, sizeof r->ts, "%s", ws->valuestring);
  double count = cnt->valuedouble, e = cJSON_IsNumber(eff) ? eff->valuedouble : count;
  r->value = e;
  r->size_ms = (int64_t)llround(sec->valuedouble * 1000);
  double n = cJSON_IsNumber(neg) ? neg->valuedouble : 0;
  r->negative = count > 0 ? (uint64_t)llround(n * e / count) : 0;
  /* As the engine does: mentions without an author count as their own. */
  r->authors = cJSON_IsNumber(au) ? (uint64_t)au->valuedouble + (cJSON_IsNumber(anon) ? (uint64_t)anon->valuedouble : 0)
                                  : (uint64_t)e;
  r->top2 = 0;
  for (int i = 0; i < 2 && cJSON_IsArray(top) && i < cJSON_GetArraySize(top); i++) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(top, i), "count");
    if (cJSON_IsNumber(a)) r->top2 += (uint64_t)a->valuedouble;
  }
  if (r->top2 > (uint64_t)count) r->top2 = (uint64_t)count;
  rc = 0;
out:
  cJSON_Delete(j);
  return rc;
}

/* A CSV row `timestamp,value[,...]`. Returns 0, or the skip reason. */
static int parse_csv(char *line, row *r) {
  char *comma = strchr(line, ',');
  if (!comma) return SK_VALUE;
  *comma = 0;
  size_t n = strlen(line);
  if (parse_ts(line, n, &r->ts_ms)) return SK_TIME;
  snprintf(r->ts, sizeof r->ts, "%s", line);
  char *v = comma + 1, *end;
  char *next = strchr(v, ',');
  if (next) *next = 0;
  while (isspace((unsigned char)*v)) v++;
  errno = 0;
  r->value = strtod(v, &end);
  while (isspace((unsigned char)*end)) end++;
  if (end == v || *end || !isfinite(r->value)) return SK_VALUE;
  r->query[0] = 0;
  /* A CSV says nothing of authors: each mention counts as its own. */
  r->authors = r->value > 0 ? (uint64_t)llround(r->value) : 0;
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Whether whole-number values vary less than counts of independent events
 * can: over blocks of 50 rows, half the mean squared step between rows
 * (the local variance, free of level and rhythm) against the block's mean;
 * Poisson volume has a ratio of 1 or more, mention volume far more.
 * Speeds, durations and other integer readings sit below it. The median
 * block decides; fewer than two blocks with a level: not decided here. */
static bool under_dispersed(const row *rows, size_t n) {
  enum { BLOCK = 50 };
  size_t nb = n / BLOCK, k = 0;
  if (nb < 2) return false;
  double *ratio = es_malloc(nb * sizeof *ratio);
  if (!ratio) return false;
  for (size_t b = 0; b < nb; b++) {
    const row *r = rows + b * BLOCK;
    double sum = 0, steps = 0;
    for (size_t i = 0; i < BLOCK; i++) sum += r[i].value;
    for (size_t i = 1; i < BLOCK; i++) steps += (r[i].value - r[i - 1].value) * (r[i].value - r[i - 1].value);
    if (sum > 0) ratio[k++] = steps / (2.0 * (BLOCK - 1)) / (sum / BLOCK);
  }
  bool under = false;
  if (k >= 2) {
    qsort(ratio, k, sizeof *ratio, cmp_double);
    under = ratio[k / 2] < 1;
  }
  es_free(ratio);
  return under;
}

static int64_t most_common_spacing(const row *rows, size_t n) {
  /* The most frequent positive spacing among the first 2,000 rows. */
  size_t m = n < 2001 ? n : 2001, best_n = 0;
  int64_t best = 0;
  int64_t *d = es_malloc((m ? m : 1) * sizeof *d);
  if (!d) return 0;
  size_t k = 0;
  for (size_t i = 1; i < m; i++)
    if (rows[i].ts_ms > rows[i - 1].ts_ms) d[k++] = rows[i].ts_ms - rows[i - 1].ts_ms;
  for (size_t i = 0; i < k; i++) {
    size_t c = 0;
    for (size_t j = 0; j < k; j++) c += d[j] == d[i];
    if (c > best_n || (c == best_n && d[i] < best)) best_n = c, best = d[i];
  }
  es_free(d);
  return best;
}

int es__cmd_detect(int argc, char **argv) {
  enum { O_WINDOW = 256, O_VALUES, O_FORMAT, O_LIST };
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"params", required_argument, 0, 'p'},
                                       {"window", required_argument, 0, O_WINDOW},
                                       {"values", required_argument, 0, O_VALUES},
                                       {"format", required_argument, 0, O_FORMAT},
                                       {"output", required_argument, 0, 'o'},
                                       {"list-params", no_argument, 0, O_LIST},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  es_config cfg;
  es_config_default(&cfg);
  ctx c = {0};
  es_diag d = {{0}};
  const char *out_path = NULL, *format = NULL;
  char *overrides[256];
  int noverrides = 0, rc = 2;
  FILE *in = NULL;
  row *rows = NULL;
  size_t nrows = 0, caprows = 0;
  char *line = NULL;
  size_t linecap = 0;
  optind = 1;
  for (int o; (o = getopt_long(argc, argv, "c:p:o:h", opts, NULL)) != -1;) {
    switch (o) {
    case 'c':
      if (es_config_load(&cfg, optarg, &d)) {
        fprintf(stderr, "earshot detect: %s\n", d.msg);
        goto out;
      }
      break;
    case 'p':
      if (noverrides == 256) {
        fputs("earshot detect: at most 256 --params\n", stderr);
        goto out;
      }
      overrides[noverrides++] = optarg;
      break;
    case O_WINDOW:
      if (es_duration_parse(optarg, &c.window_ms) || c.window_ms <= 0) {
        fprintf(stderr, "earshot detect: --window must be a duration such as 5m or 60s, not '%s'\n", optarg);
        goto out;
      }
      break;
    case O_VALUES:
      if (strcmp(optarg, "count") && strcmp(optarg, "gauge")) {
        fprintf(stderr, "earshot detect: --values must be count or gauge, not '%s'\n", optarg);
        goto out;
      }
      c.values_given = true;
      c.gauge = !strcmp(optarg, "gauge");
      break;
    case O_FORMAT:
      if (strcmp(optarg, "csv") && strcmp(optarg, "jsonl")) {
        fprintf(stderr, "earshot detect: --format must be csv or jsonl, not '%s'\n", optarg);
        goto out;
      }
      format = optarg;
      break;
    case 'o': out_path = optarg; break;
    case O_LIST: {
      const char *const *names = es_detect_param_names();
      es_detect_params def;
      es_detect_params_default(&def);
      for (size_t i = 0; names[i]; i++) {
        const es_detect_param_info *pi = es_detect_param_find(names[i]);
        double v = pi->type == 'i' ? (double)*(const int64_t *)(const void *)((const char *)&def + pi->offset)
                                   : *(const double *)(const void *)((const char *)&def + pi->offset);
        printf("%-18s %-8g [%g, %g]  %s\n", pi->name, v, pi->lo, pi->hi, pi->doc);
      }
      rc = 0;
      goto out;
    }
    case 'h': rc = usage(stdout); goto out;
    default: goto out;
    }
  }
  if (argc - optind > 1) {
    usage(stderr);
    goto out;
  }
  c.p = cfg.detect;
  for (int i = 0; i < noverrides; i++) {
    char *eq = strchr(overrides[i], '=');
    if (!eq) {
      fprintf(stderr, "earshot detect: --params takes KEY=VALUE, not '%s'\n", overrides[i]);
      goto out;
    }
    *eq = 0;
    int e = es_detect_param_set(&c.p, overrides[i], eq + 1, &d);
    *eq = '=';
    if (e) {
      fprintf(stderr, "earshot detect: %s (see --list-params)\n", d.msg);
      goto out;
    }
  }
  const char *path = optind < argc ? argv[optind] : "-";
  in = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!in) {
    fprintf(stderr, "earshot detect: cannot open %s: %s\n", path, strerror(errno));
    rc = 1;
    goto out;
  }
  /* Read every row first: the CSV kind (count or gauge) and the interval
   * are properties of the whole series. */
  bool jsonl_in = false, first = true, all_counts = true;
  long lineno = 0;
  for (ssize_t n; (n = getline(&line, &linecap, in)) >= 0;) {
    lineno++;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    char *s = line;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) continue;
    if (first) jsonl_in = *s == '{';
    row r = {.line = lineno};
    int why;
    bool final = true;
    if (jsonl_in) {
      why = parse_record(s, &r, &final);
      if (!why && !final) why = SK_NOTFINAL;
    } else {
      why = parse_csv(s, &r);
      if (first && why) { /* a header line */
        first = false;
        continue;
      }
    }
    first = false;
    if (why) {
      skip(&c, (enum skip)why, lineno);
      continue;
    }
    if (r.value < 0 || r.value != floor(r.value)) all_counts = false;
    if (nrows == caprows) {
      size_t cap = caprows ? caprows * 2 : 1024;
      row *more = es_realloc(rows, cap * sizeof *rows);
      if (!more) {
        fputs("earshot detect: out of memory\n", stderr);
        rc = 1;
        goto out;
      }
      rows = more;
      caprows = cap;
    }
    rows[nrows++] = r;
  }
  if (ferror(in)) {
    fprintf(stderr, "earshot detect: reading %s failed: %s\n", path, strerror(errno));
    rc = 1;
    goto out;
  }
  if (!c.values_given) c.gauge = !jsonl_in && (!all_counts || under_dispersed(rows, nrows));
  c.jsonl_out = format ? !strcmp(format, "jsonl") : jsonl_in;
  int64_t spacing = c.window_ms ? c.window_ms : most_common_spacing(rows, nrows);
  if (!jsonl_in && nrows && spacing <= 0) {
    fprintf(stderr, "earshot detect: %s: cannot tell the series' interval (give --window)\n", path);
    rc = 2;
    goto out;
  }
  c.out = out_path && strcmp(out_path, "-") ? fopen(out_path, "w") : stdout;
  if (!c.out) {
    fprintf(stderr, "earshot detect: cannot write %s: %s\n", out_path, strerror(errno));
    c.out = NULL;
    rc = 1;
    goto out;
  }
  if (!c.jsonl_out)
    fprintf(c.out, "%stimestamp,value,class,expected,lift,p_value,alert_state,score,test\n", jsonl_in ? "query," : "");
  for (size_t i = 0; i < nrows && !c.oom; i++) feed(&c, &rows[i], jsonl_in ? rows[i].size_ms : spacing);
  if (c.oom) {
    fputs("earshot detect: out of memory\n", stderr);
    rc = 1;
    goto out;
  }
  if (fflush(c.out) || ferror(c.out)) {
    fprintf(stderr, "earshot detect: writing the output failed: %s\n", strerror(errno));
    rc = 1;
    goto out;
  }
  long skipped = 0;
  for (int i = 0; i < SK_COUNT; i++) skipped += c.skipped[i];
  fprintf(stderr, "earshot detect: rows=%ld skipped=%ld series=%zu values=%s", c.rows, skipped, c.nsv,
          c.gauge ? "gauge" : "count");
  for (int k = 0; k < ES_CLASS_COUNT; k++) fprintf(stderr, " %s=%ld", es_class_name(k), c.classes[k]);
  fprintf(stderr, " alerts_opened=%ld alerts_resolved=%ld\n", c.opened, c.resolved);
  for (int i = 0; i < SK_COUNT; i++)
    if (c.skipped[i]) fprintf(stderr, "earshot detect: skipped %ld rows: %s\n", c.skipped[i], skip_name[i]);
  if (!c.rows) {
    fprintf(stderr, "earshot detect: %s has no usable rows\n", path);
    rc = 1;
    goto out;
  }
  rc = 0;
out:
  if (in && in != stdin) fclose(in);
  if (c.out && c.out != stdout) fclose(c.out);
  free(line);
  es_free(rows);
  es_free(c.sv);
  es_free(c.ix);
  es_config_free(&cfg);
  return rc;
}
