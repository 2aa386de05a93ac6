/* The HTTP module's live views (engine/http/live.c) fed through their sink
 * as the aggregator would, and the server's start-up errors. The endpoints
 * themselves are tested through the CLI (tests/http_ops.py) and a browser
 * (tests/dashboard.py). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/http/http_internal.h"
#include "earshot/http.h"

static es_query q_fees = {.id = "fees", .name = "Fee complaints"};

/* Closed window i of fees (1-minute windows from 2026-01-05), with a
 * detection result of class cls and alert state as. */
static void feed(es_sink *s, int i, int cls, int as, uint64_t count) {
  es_window_result w = {.size_ms = 60000, .index = 29453760 + i, .count = count};
  w.start_ms = w.index * 60000;
  w.end_ms = w.start_ms + 60000;
  w.final = true;
  es_detect_result d = {.cls = cls, .alert_state = as, .expected = 10, .lift = (double)count / 10, .p_value = 1e-9,
                        .alert_severity = as ? 3 : 0};
  es_detect_state st = {0};
  es_sink_window e = {.q = &q_fees, .w = &w, .d = &d, .st = &st};
  s->ops->window(s, &e);
}

static int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

Test(http, windows_kept_per_query_are_bounded_by_history_issue16) {
  es_live *l = es_live_create(5, NULL, NULL);
  es_sink *s = es_live_sink(l);
  for (int i = 0; i < 12; i++) feed(s, i, ES_CLASS_NORMAL, ES_ALERT_NONE, 10 + (uint64_t)i);
  es_buf b;
  es_buf_init(&b);
  cr_assert(es_live_windows_json(l, "fees", 0, INT64_MIN, &b));
  es_buf_putc(&b, 0);
  cr_expect_eq(count_of(b.data, "\"window_start\""), 5, "%s", b.data);
  cr_expect(strstr(b.data, "\"count\":21") != NULL && strstr(b.data, "\"count\":16") == NULL, "the last five: %s", b.data);
  es_buf_clear(&b);
  cr_expect(!es_live_windows_json(l, "nope", 0, INT64_MIN, &b), "an unknown query is not found");
  es_buf_clear(&b);
  es_live_queries_json(l, &b);
  es_buf_putc(&b, 0);
  cr_expect(strstr(b.data, "\"name\":\"Fee complaints\"") && strstr(b.data, "\"open_alerts\":[]"), "%s", b.data);
  es_buf_free(&b);
  es_live_destroy(l);
}

Test(http, alerts_open_update_resolve_and_metrics_issue16) {
  es_live *l = es_live_create(10, NULL, NULL);
  es_sink *s = es_live_sink(l);
  feed(s, 0, ES_CLASS_SPIKE, ES_ALERT_OPENED, 90);
  feed(s, 1, ES_CLASS_SPIKE, ES_ALERT_UPDATED, 95);
  es_buf b;
  es_buf_init(&b);
  es_live_alerts_json(l, true, &b);
  es_buf_putc(&b, 0);
  cr_expect_eq(count_of(b.data, "\"query\":\"fees\""), 1, "one open alert, its last event: %s", b.data);
  cr_expect(strstr(b.data, "\"count\":95") != NULL, "%s", b.data);
  es_buf_clear(&b);
  es_http_counters hc = {0};
  es_live_metrics(l, &hc, "test", &b);
  es_buf_putc(&b, 0);
  cr_expect(strstr(b.data, "earshot_alerts_open 1\n") != NULL, "%s", b.data);
  cr_expect(strstr(b.data, "earshot_alerts_opened_total{class=\"spike\"} 1\n") != NULL, "%s", b.data);
  feed(s, 2, ES_CLASS_NORMAL, ES_ALERT_RESOLVED, 10);
  es_buf_clear(&b);
  es_live_metrics(l, &hc, "test", &b);
  es_buf_putc(&b, 0);
  cr_expect(strstr(b.data, "earshot_alerts_open 0\n") != NULL, "%s", b.data);
  cr_expect(strstr(b.data, "earshot_alerts_resolved_total{class=\"spike\"} 1\n") != NULL, "resolved under the class "
            "that opened it: %s", b.data);
  es_buf_clear(&b);
  es_live_alerts_json(l, true, &b);
  es_buf_putc(&b, 0);
  cr_expect_str_eq(b.data, "[]");
  es_buf_clear(&b);
  es_live_alerts_json(l, false, &b);
  es_buf_putc(&b, 0);
  cr_expect_eq(count_of(b.data, "\"query\":\"fees\""), 3, "every alert event: %s", b.data);
  cr_expect(strstr(b.data, "\"state\":\"resolved\"") < strstr(b.data, "\"state\":\"opened\""), "newest first");
  es_buf_free(&b);
  es_live_destroy(l);
}

Test(http, health_and_readiness_follow_the_status_issue16) {
  es_live *l = es_live_create(10, NULL, NULL);
  es_buf b;
  es_buf_init(&b);
  cr_expect(es_live_healthy(l, 1000, 1000, &b), "alive while starting");
  es_buf_clear(&b);
  cr_expect(!es_live_ready(l, &b), "not ready before the pipeline reports");
  es_sink_status *st = calloc(1, sizeof *st);
  st->ready = false;
  snprintf(st->not_ready, sizeof st->not_ready, "no input partition assigned");
  es_sink *s = es_live_sink(l);
  s->ops->status(s, st);
  es_buf_clear(&b);
  cr_expect(!es_live_ready(l, &b));
  es_buf_putc(&b, 0);
  cr_expect(strstr(b.data, "no input partition assigned") != NULL, "%s", b.data);
  st->ready = true;
  s->ops->status(s, st);
  es_buf_clear(&b);
  cr_expect(es_live_ready(l, &b));
  st->stalled_ms = 5000;
  s->ops->status(s, st);
  es_buf_clear(&b);
  cr_expect(!es_live_healthy(l, 60000, 1000, &b), "a worker stuck on one batch fails liveness");
  free(st);
  es_buf_free(&b);
  es_live_destroy(l);
}

Test(http, a_client_behind_the_event_ring_is_told_issue16) {
  es_live *l = es_live_create(10, NULL, NULL);
  es_sink *s = es_live_sink(l);
  uint64_t seq = es_live_next_seq(l);
  es_sink_status *st = calloc(1, sizeof *st);
  es_buf b;
  es_buf_init(&b);
  s->ops->status(s, st);
  cr_expect(es_live_events(l, &seq, &b, 1 << 20));
  cr_expect_eq(seq, 1);
  es_buf_putc(&b, 0);
  cr_expect(strncmp(b.data, "event: status\ndata: {", 21) == 0, "%s", b.data);
  uint64_t behind = seq;
  for (int i = 0; i < 20000; i++) s->ops->status(s, st);
  es_buf_clear(&b);
  cr_expect(!es_live_events(l, &behind, &b, 1 << 20), "events it wanted were dropped from the ring");
  uint64_t fresh = es_live_next_seq(l) - 3;
  es_buf_clear(&b);
  cr_expect(es_live_events(l, &fresh, &b, 1 << 20));
  es_buf_putc(&b, 0);
  cr_expect_eq(count_of(b.data, "event: status"), 3);
  free(st);
  es_buf_free(&b);
  es_live_destroy(l);
}

Test(http, bad_addresses_are_clear_errors_issue16) {
  es_diag d = {{0}};
  es_http_opts o = {.listen = "localhost", .history = 10, .version = "t"};
  cr_expect_null(es_http_start(&o, &d));
  cr_expect(strstr(d.msg, "expected HOST:PORT") != NULL, "%s", d.msg);
  o.listen = "example.org:80";
  cr_expect_null(es_http_start(&o, &d));
  cr_expect(strstr(d.msg, "is not an IP address") != NULL, "%s", d.msg);
  o.listen = "127.0.0.1:0";
  es_http *h = es_http_start(&o, &d);
  cr_assert_not_null(h, "%s", d.msg);
  cr_expect(strncmp(es_http_url(h), "http://127.0.0.1:", 17) == 0 && strcmp(es_http_url(h), "http://127.0.0.1:0/"),
            "the real port: %s", es_http_url(h));
  char listen[64];
  snprintf(listen, sizeof listen, "%.*s", (int)strlen(es_http_url(h)) - 8, es_http_url(h) + 7);
  o.listen = listen;
  cr_expect_null(es_http_start(&o, &d), "the same address twice");
  cr_expect(strstr(d.msg, "cannot listen on") != NULL, "%s", d.msg);
  es_http_stop(h);
  es_http_stop(NULL);
}
