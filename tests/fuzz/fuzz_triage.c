/* libFuzzer target: arbitrary bytes as a triage file. Loading either
 * succeeds or fails with a message; a file that loads routes a few
 * mentions (conditions, crisis, hours, overflow, time to respond) without
 * a crash or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "earshot/query.h"
#include "earshot/triage.h"

static bool open_alert(void *ctx, size_t k) { return (k + (size_t)(uintptr_t)ctx) % 2 == 0; }
static void on_sla(void *ctx, const es_sla_event *e) {
  es_buf *b = ctx;
  es_sla_event_json(b, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  static es_queryset *qs;
  if (!qs) {
    es_query_def defs[] = {{.id = "fees", .expr = "fee OR fees"}, {.id = "app", .expr = "app"}};
    int e;
    es_diag dd;
    if (!(qs = es_queryset_compile(defs, 2, &e, &dd))) abort();
  }
  char path[] = "/tmp/earshot-fuzz-triage-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (write(fd, data, n) != (ssize_t)n) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  int err = 0;
  es_diag d = {{0}};
  es_triage *t = es_triage_load(path, &err, &d);
  unlink(path);
  if (!t) {
    if (!d.msg[0] || !err) abort(); /* a refused file always says why */
    return 0;
  }
  es_triage_bound *b = es_triage_bind(t, qs);
  es_triage_state *st = es_triage_state_create(t);
  if (!b || !st) abort();
  uint32_t hits[] = {0, 1};
  es_buf out;
  es_buf_init(&out);
  for (int i = 0; i < 8; i++) {
    es_triage_in in = {.qs = qs, .queries = hits, .nqueries = (size_t)(i % 3), .situations = (uint32_t)i * 0x9e3779b9u,
                       .label = i % 3, .compound = (i - 4) / 4.0, .author = i % 2 ? "@Press" : "someone",
                       .author_n = i % 2 ? 6 : 7, .lang = "en", .lang_n = 2, .followers = (uint64_t)i * 100000};
    es_triage_pre pre;
    es_triage_pre_eval(t, b, &in, &pre);
    es_triage_out o;
    int64_t ts = 1796000000000LL + (int64_t)i * 1900000;
    es_triage_decide(t, st, &pre, ts, open_alert, (void *)(uintptr_t)i, &o);
    char why[256];
    es_triage_explain_cond(t, o.via == ES_VIA_CRISIS, o.rule, &in, why, sizeof why);
    es_buf_clear(&out);
    es_triage_route_json(&out, t, &o, why);
    char id[8];
    snprintf(id, sizeof id, "m%d", i);
    es_triage_await(st, id, strlen(id), &o, ts);
    if (i % 3 == 0) es_triage_response(st, id, strlen(id), ts + 600000);
    es_triage_in_hours(t, ts);
  }
  es_triage_sla_advance(t, st, 1796000000000LL + 86400000LL * 3, true, on_sla, &out);
  es_buf_free(&out);
  es_triage_state_destroy(st);
  es_triage_unbind(b);
  es_triage_destroy(t);
  return 0;
}
