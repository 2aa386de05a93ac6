/* Configuration: defaults, every section, and errors with file:line and a
 * hint. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "earshot/config.h"

static char path[64];

static void write_cfg(const char *text) {
  snprintf(path, sizeof path, "/tmp/earshot-cfg-XXXXXX");
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
}

static int load(const char *text, es_config *c, es_diag *d) {
  write_cfg(text);
  es_config_default(c);
  int rc = es_config_load(c, path, d);
  unlink(path);
  return rc;
}

Test(config, defaults) {
  es_config c;
  es_config_default(&c);
  cr_expect_eq(c.windows.nsizes, 1);
  cr_expect_eq(c.windows.size_ms[0], 60000);
  cr_expect_eq(c.windows.lateness_ms, 10000);
  cr_expect_eq(c.workers, 1);
  cr_expect_eq(c.detect.min_support, 10);
  es_config_free(&c);
}

Test(config, full_file) {
  es_config c;
  es_diag d = {{0}};
  int rc = load("input: m.jsonl\nqueries: q.yaml\n"
                "output:\n  windows: w.jsonl\n  enriched: e.jsonl\n  dlq: d.jsonl\n  format: pretty\n  empty_windows: true\n"
                "fields:\n  text: data.text\n  ts: created_at\n"
                "windows:\n  sizes: [60s, 1h]\n  lateness: 5s\n  idle_flush: 1m\n"
                "workers: 4\n"
                "limits:\n  max_text_bytes: 2048\n  min_ts: 2010-01-01T00:00:00Z\n"
                "detection:\n  min_support: 5\n  min_lift: 2.5\n  max_p: 0.001\n  halflife: 10\n  warmup: 3\n",
                &c, &d);
  cr_assert_eq(rc, 0, "%s", d.msg);
  cr_expect_str_eq(c.input, "m.jsonl");
  cr_expect_str_eq(c.queries, "q.yaml");
  cr_expect_str_eq(c.output, "w.jsonl");
  cr_expect_str_eq(c.enriched_output, "e.jsonl");
  cr_expect_str_eq(c.dlq_output, "d.jsonl");
  cr_expect(c.pretty && c.windows.emit_empty);
  cr_expect_str_eq(c.fields[ES_F_TEXT], "data.text");
  cr_expect_str_eq(c.fields[ES_F_TS], "created_at");
  cr_expect_eq(c.windows.nsizes, 2);
  cr_expect_eq(c.windows.size_ms[1], 3600000);
  cr_expect_eq(c.windows.lateness_ms, 5000);
  cr_expect_eq(c.windows.idle_flush_ms, 60000);
  cr_expect_eq(c.workers, 4);
  cr_expect_eq(c.decode.max_text_bytes, 2048);
  cr_expect_eq(c.decode.ts_min_ms, 1262304000000LL);
  cr_expect_eq(c.detect.min_support, 5);
  cr_expect_float_eq(c.detect.min_lift, 2.5, 1e-9);
  cr_expect_eq(c.detect.warmup, 3);
  es_config_free(&c);
}

static void expect_error(const char *text, const char *needle) {
  es_config c;
  es_diag d = {{0}};
  cr_expect_neq(load(text, &c, &d), 0, "should fail: %s", text);
  cr_expect(strstr(d.msg, needle), "expected '%s' in: %s", needle, d.msg);
  cr_expect(strstr(d.msg, "/tmp/earshot-cfg-"), "no file name in: %s", d.msg);
  es_config_free(&c);
}

Test(config, errors_say_where_and_what) {
  expect_error("qeuries: q.yaml\n", ":1: unknown key 'qeuries' in the config: did you mean 'queries'?");
  expect_error("input: x\nwindows:\n  latenes: 5s\n", ":3: unknown key 'latenes' in windows: did you mean 'lateness'?");
  expect_error("workers: many\n", ":1: 'workers' must be an integer between 1 and 64");
  expect_error("workers: 0\n", "'workers' must be an integer");
  expect_error("windows:\n  lateness: soon\n", ":2: 'lateness' must be a duration");
  expect_error("windows:\n  sizes: [1h, 60s]\n", "increasing order");
  expect_error("windows:\n  sizes: [1500ms]\n", "whole seconds");
  expect_error("output:\n  format: xml\n", "json or pretty");
  expect_error("fields:\n  body: text\n", "unknown key 'body' in fields");
  expect_error("fields:\n  text: data..text\n", "dotted keys");
  expect_error("detection:\n  min_lift: 0.5\n", "'min_lift' must be a number between 1");
  expect_error("limits:\n  min_ts: yesterday\n", "RFC 3339");
  expect_error("input: [a, b\n", "YAML syntax error");
  expect_error("- just\n- a list\n", "must be a map");
}

Test(config, window_flag) {
  es_config c;
  es_diag d = {{0}};
  es_config_default(&c);
  cr_expect_eq(es_config_set_windows(&c, "60s,1h", &d), 0);
  cr_expect_eq(c.windows.nsizes, 2);
  cr_expect_neq(es_config_set_windows(&c, "fast", &d), 0);
  cr_expect(strstr(d.msg, "--window"), "%s", d.msg);
  es_config_free(&c);
}

Test(config, sentiment_section) {
  es_config c;
  es_diag d = {{0}};
  cr_assert_eq(load("sentiment:\n  layers: [vader, emoji]\n  files: [a.tsv, b.tsv]\n  default_lang: es\n", &c, &d), 0,
               "%s", d.msg);
  cr_expect_eq(c.nsentiment_layers, 2);
  cr_expect_str_eq(c.sentiment_layers[1], "emoji");
  cr_expect_eq(c.nsentiment_files, 2);
  cr_expect_str_eq(c.sentiment_default_lang, "es");
  es_sentiment_opts o;
  es_config_sentiment_opts(&c, &o);
  cr_expect_eq(o.nlayers, 2);
  cr_expect_str_eq(o.files[0], "a.tsv");
  es_config_free(&c);
  cr_expect_neq(load("sentiment:\n  layer: [vader]\n", &c, &d), 0);
  cr_expect(strstr(d.msg, ":2:") && strstr(d.msg, "did you mean 'layers'"), "%s", d.msg);
  es_config_free(&c);
  cr_expect_neq(load("sentiment:\n  layers: vader\n", &c, &d), 0);
  cr_expect(strstr(d.msg, "'layers' must be a list"), "%s", d.msg);
  es_config_free(&c);
  es_config_default(&c);
  cr_expect_eq(es_config_set_layers(&c, "vader,care", &d), 0);
  cr_expect_eq(c.nsentiment_layers, 2);
  cr_expect_neq(es_config_set_layers(&c, "vader,,care", &d), 0);
  cr_expect(strstr(d.msg, "empty name"), "%s", d.msg);
  es_config_free(&c);
}
