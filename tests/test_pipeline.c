/* The replay pipeline in-process (also run under ThreadSanitizer): output
 * identical for 1 and N workers, bad input routed to the dead letters with
 * nothing lost, late and too-long records. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "earshot/mem.h"
#include "earshot/pipeline.h"
#include "gen.h"

static char dir[64];

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/earshot-pipe-XXXXXX");
  cr_assert(mkdtemp(dir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_expect_eq(system(cmd), 0);
}

TestSuite(pipeline, .init = setup, .fini = teardown);

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    *n = 0;
    return strdup("");
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)len + 1);
  *n = fread(b, 1, (size_t)len, f);
  b[*n] = 0;
  fclose(f);
  return b;
}

static size_t count_lines(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

static void write_queries(const char *path) {
  FILE *f = fopen(path, "w");
  es_gen_write_queries(1, 6, f);
  fclose(f);
}

static void write_mentions(const char *path, uint64_t count, bool incident) {
  es_gen_opts o;
  es_gen_opts_default(&o);
  o.count = count;
  o.rate_per_min = 300;
  if (incident) {
    o.n_incidents = 1;
    o.incidents[0] = (es_gen_incident){.start_ms = o.start_ms + 60 * 60000, .dur_ms = 10 * 60000, .multiplier = 10,
                                       .topic = ES_GEN_FEES};
  }
  es_gen *g = es_gen_create(&o);
  es_buf b;
  es_buf_init(&b);
  while (es_gen_next(g, &b, NULL) == 0) {}
  FILE *f = fopen(path, "w");
  fwrite(b.data, 1, b.len, f);
  fclose(f);
  es_buf_free(&b);
  es_gen_destroy(g);
}

static int run(const char *in, const char *out, const char *dlq, int workers, es_pipeline_stats *st) {
  char qpath[128];
  snprintf(qpath, sizeof qpath, "%s/q.yaml", dir);
  write_queries(qpath);
  int err;
  es_diag d = {{0}};
  es_queryset *qs = es_queryset_load(qpath, &err, &d);
  cr_assert(qs, "%s", d.msg);
  es_lexicon *lex = es_lexicon_create_default();
  es_config cfg;
  es_config_default(&cfg);
  es_config_set_str(&cfg.input, in);
  es_config_set_str(&cfg.output, out);
  es_config_set_str(&cfg.dlq_output, dlq);
  cfg.workers = workers;
  cfg.progress = false;
  volatile int stop = 0;
  int rc = es_replay(&cfg, qs, lex, &stop, st, &d);
  cr_expect_eq(rc, 0, "%s", d.msg);
  es_config_free(&cfg);
  es_lexicon_destroy(lex);
  es_queryset_destroy(qs);
  return rc;
}

Test(pipeline, one_and_many_workers_give_identical_output) {
  char in[128], o1[128], o4[128], dlq[128];
  snprintf(in, sizeof in, "%s/m.jsonl", dir);
  snprintf(o1, sizeof o1, "%s/w1.jsonl", dir);
  snprintf(o4, sizeof o4, "%s/w4.jsonl", dir);
  snprintf(dlq, sizeof dlq, "%s/dlq.jsonl", dir);
  write_mentions(in, 30000, true);
  es_pipeline_stats s1, s4;
  run(in, o1, dlq, 1, &s1);
  run(in, o4, dlq, 4, &s4);
  size_t n1, n4;
  char *a = slurp(o1, &n1), *b = slurp(o4, &n4);
  cr_expect_gt(n1, 1000);
  cr_expect(n1 == n4 && !memcmp(a, b, n1), "outputs differ between 1 and 4 workers");
  cr_expect_eq(s1.lines, 30000);
  cr_expect_eq(s1.accepted, 30000);
  cr_expect_eq(s4.matched, s1.matched);
  cr_expect_gt(s1.classes[ES_CLASS_SPIKE], 0, "the planted incident is detected");
  free(a);
  free(b);
}

Test(pipeline, bad_input_is_routed_and_counted) {
  char in[128], out[128], dlq[128];
  snprintf(in, sizeof in, "%s/bad.jsonl", dir);
  snprintf(out, sizeof out, "%s/w.jsonl", dir);
  snprintf(dlq, sizeof dlq, "%s/dlq.jsonl", dir);
  FILE *f = fopen(in, "w");
  fputs("{\"ts\":\"2026-01-05T00:00:01Z\",\"text\":\"good fee\",\"author\":\"a\"}\n", f);  /* ok */
  fputs("{\"ts\":\"2026-01-05T00:00:02Z\",\"text\":\"broken\"\n", f);                   /* malformed_json */
  fputs("{\"ts\":\"2026-01-05T00:00:03Z\"}\n", f);                                      /* no_text */
  fputs("{\"text\":\"fee without time\"}\n", f);                                        /* no_ts */
  fputs("{\"ts\":\"soon\",\"text\":\"fee\"}\n", f);                                    /* bad_ts */
  fputs("{\"ts\":1,\"text\":\"fee\"}\n", f);                                           /* ts_out_of_range */
  fputs("{\"ts\":\"2026-01-05T00:00:04Z\",\"text\":\"fee \xff\xfe bad bytes\"}\n", f);   /* invalid_utf8 (kept) */
  fputs("\n   \n", f);                                                                   /* blank: not records */
  fputs("{\"ts\":\"2026-01-05T00:10:00Z\",\"text\":\"fee later\"}\n", f);               /* ok, closes the first window */
  fputs("{\"ts\":\"2026-01-05T00:00:05Z\",\"text\":\"fee too late\"}\n", f);            /* late */
  fprintf(f, "{\"ts\":\"2026-01-05T00:10:01Z\",\"text\":\"fee ");                       /* too long */
  for (int i = 0; i < (1 << 20) / 8 + 10; i++) fputs("fee fee ", f);
  fputs("\"}\n", f);
  fputs("{\"ts\":\"2026-01-05T00:10:02Z\",\"text\":\"fee after the giant\"}", f);       /* ok, no final newline */
  fclose(f);
  es_pipeline_stats st;
  run(in, out, dlq, 2, &st);
  cr_expect_eq(st.lines, 11);
  cr_expect_eq(st.accepted, 5);
  cr_expect_eq(st.reasons[ES_REASON_MALFORMED_JSON], 1);
  cr_expect_eq(st.reasons[ES_REASON_NO_TEXT], 1);
  cr_expect_eq(st.reasons[ES_REASON_NO_TS], 1);
  cr_expect_eq(st.reasons[ES_REASON_BAD_TS], 1);
  cr_expect_eq(st.reasons[ES_REASON_TS_OUT_OF_RANGE], 1);
  cr_expect_eq(st.reasons[ES_REASON_INVALID_UTF8], 1);
  cr_expect_eq(st.reasons[ES_REASON_LATE], 1);
  cr_expect_eq(st.reasons[ES_REASON_RECORD_TOO_LONG], 1);
  size_t n;
  char *d = slurp(dlq, &n);
  cr_expect_eq(count_lines(d), 8, "%s", d);
  const char *reasons[] = {"malformed_json", "no_text", "no_ts", "bad_ts", "ts_out_of_range", "invalid_utf8", "late",
                           "record_too_long"};
  for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"reason\":\"%s\"", reasons[i]);
    cr_expect(strstr(d, needle), "no %s dead letter", reasons[i]);
  }
  cr_expect(strstr(d, "\"line\":2,"), "dead letters carry their line number");
  cr_expect(strstr(d, "\"action\":\"repaired\""));
  cr_expect(strstr(d, "\"input_repaired\":true"), "the invalid bytes are repaired in the copy");
  free(d);
  char *w = slurp(out, &n);
  cr_expect(strstr(w, "\"window_start\":\"2026-01-05T00:00:00Z\",\"window_end\":\"2026-01-05T00:01:00Z\",\"window_seconds\":60,\"count\":2,"),
            "the first window has the two accepted early mentions: %s", w);
  cr_expect(strstr(w, "\"window_start\":\"2026-01-05T00:10:00Z\",\"window_end\":\"2026-01-05T00:11:00Z\",\"window_seconds\":60,\"count\":2,"),
            "the last window: %s", w);
  free(w);
}
