/* Triage: situation rule files, the routing conformance table
 * (data/triage/conformance.tsv: mention + metadata + alert state -> track,
 * priority, SLA, rule or ignore), overflow per event-time hour, office
 * hours across a daylight-saving change, and triage file errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/mention.h"
#include "earshot/query.h"
#include "earshot/sentiment.h"
#include "earshot/timeutil.h"
#include "earshot/triage.h"
#include "../engine/triage/triage_internal.h"

#define DATA ES_TEST_DATA "/triage/"

typedef struct fx {
  es_triage *t;
  es_queryset *qs;
  es_lexicon *lex;
  es_match_rt *rt;
  es_sentiment_rt *srt;
  es_triage_bound *tb;
  es_situations_rt *sit;
  es_fold fold;
  uint32_t hits[16];
} fx;

static void fx_init(fx *f, const char *triage) {
  memset(f, 0, sizeof *f);
  int err;
  es_diag d = {{0}};
  f->t = es_triage_load(triage, &err, &d);
  cr_assert_not_null(f->t, "%s", d.msg);
  f->qs = es_queryset_load(DATA "queries.yaml", &err, &d);
  cr_assert_not_null(f->qs, "%s", d.msg);
  es_sentiment_opts so = {0};
  f->lex = es_lexicon_create(&so, &d);
  cr_assert_not_null(f->lex, "%s", d.msg);
  f->rt = es_match_rt_create(f->qs);
  f->srt = es_sentiment_rt_create();
  f->tb = es_triage_bind(f->t, f->qs);
  f->sit = es_situations_rt_create(es_triage_situations(f->t));
  cr_assert(f->rt && f->srt && f->tb && f->sit);
  es_fold_init(&f->fold);
}

static void fx_free(fx *f) {
  es_fold_free(&f->fold);
  es_triage_unbind(f->tb);
  es_situations_rt_destroy(f->sit);
  es_sentiment_rt_destroy(f->srt);
  es_match_rt_destroy(f->rt);
  es_lexicon_destroy(f->lex);
  es_queryset_destroy(f->qs);
  es_triage_destroy(f->t);
}

typedef struct alerts {
  fx *f;
  const char *open; /* comma-separated query ids, or "-" */
} alerts;

static bool alert_open(void *ctx, size_t k) {
  alerts *a = ctx;
  int64_t q = es_triage_bound_crisis_query(a->f->tb, k);
  if (q < 0) return false;
  const char *id = es_queryset_get(a->f->qs, (size_t)q)->id;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", a->open);
  for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    if (!strcmp(tok, id)) return true;
  return false;
}

/* The static part of one mention's route, as a worker finds it. */
static void pre_of(fx *f, const char *text, const char *author, uint64_t followers, const char *lang, const char *source,
                   es_triage_pre *pre, uint32_t *situations) {
  size_t fn;
  const char *folded = es_fold_text(&f->fold, text, strlen(text), &fn);
  es_match_meta meta = {.lang = lang, .lang_n = strlen(lang), .source = source, .source_n = strlen(source),
                        .author = author, .author_n = strlen(author), .followers = followers};
  int nh = es_queryset_match_meta(f->qs, f->rt, folded, fn, &meta, f->hits);
  cr_assert_geq(nh, 0);
  es_sentiment s;
  es_sentiment_score_lang(f->lex, lang, strlen(lang), f->srt, text, strlen(text), &s, NULL);
  es_situation_hit sh[ES_SITUATIONS_MAX];
  size_t nsh;
  *situations = es_situations_eval(es_triage_situations(f->t), f->sit, folded, fn, &meta, &s, sh, &nsh);
  es_triage_in in = {.qs = f->qs, .queries = f->hits, .nqueries = (size_t)nh, .situations = *situations,
                     .label = s.label, .compound = s.compound, .author = author, .author_n = strlen(author),
                     .lang = lang, .lang_n = strlen(lang), .source = source, .source_n = strlen(source),
                     .followers = followers};
  es_triage_pre_eval(f->t, f->tb, &in, pre);
}

static int64_t at(const char *s) {
  int64_t ms;
  cr_assert_eq(es_time_parse_rfc3339(s, strlen(s), &ms), 0, "time %s", s);
  return ms;
}

static void fmt_sla(int64_t ms, char *out, size_t cap) {
  int64_t s = ms / 1000;
  if (s % 3600 == 0) snprintf(out, cap, "%lldh", (long long)(s / 3600));
  else snprintf(out, cap, "%lldm", (long long)(s / 60));
}

Test(triage, conformance_table) {
  fx f;
  fx_init(&f, DATA "conformance.yaml");
  FILE *in = fopen(DATA "conformance.tsv", "r");
  cr_assert_not_null(in);
  char line[2048];
  int rows = 0, lineno = 0;
  while (fgets(line, sizeof line, in)) {
    lineno++;
    line[strcspn(line, "\n")] = 0;
    if (line[0] == '#' || !line[0]) continue;
    char *col[8];
    int n = 0;
    for (char *save, *tok = strtok_r(line, "\t", &save); tok && n < 8; tok = strtok_r(NULL, "\t", &save)) col[n++] = tok;
    cr_assert_eq(n, 8, "conformance.tsv:%d: 8 columns", lineno);
    const char *source = strcmp(col[4], "-") ? col[4] : "";
    es_triage_pre pre;
    uint32_t sit;
    pre_of(&f, col[0], col[1], strtoull(col[2], NULL, 10), col[3], source, &pre, &sit);
    es_triage_state *st = es_triage_state_create(f.t);
    alerts a = {&f, col[6]};
    es_triage_out o;
    es_triage_decide(f.t, st, &pre, at(col[5]), alert_open, &a, &o);
    char got[256], sla[32];
    if (o.action == ES_TRIAGE_NONE) snprintf(got, sizeof got, "none");
    else if (o.action == ES_TRIAGE_IGNORE) snprintf(got, sizeof got, "ignore %s", es_triage_rule_name(f.t, &o));
    else {
      static const char *const via[] = {"route", "crisis", "off_hours", "overflow"};
      fmt_sla(o.sla_ms, sla, sizeof sla);
      snprintf(got, sizeof got, "route %s %d %s %s %s", es_triage_track_name(f.t, (size_t)o.track), o.priority, sla,
               es_triage_rule_name(f.t, &o), via[o.via]);
      cr_expect_eq(o.respond_by_ms, at(col[5]) + o.sla_ms, "conformance.tsv:%d: respond_by = event time + SLA", lineno);
    }
    cr_expect_str_eq(got, col[7], "conformance.tsv:%d: %s (by %s at %s, alerts %s): got '%s', want '%s'", lineno,
                     col[0], col[1], col[5], col[6], got, col[7]);
    es_triage_state_destroy(st);
    rows++;
  }
  fclose(in);
  cr_expect_geq(rows, 25);
  fx_free(&f);
}

/* A track over its capacity in an event-time hour sends the rest to its
 * overflow track, counted; the next hour starts again. */
Test(triage, overflow_per_event_hour) {
  fx f;
  fx_init(&f, DATA "conformance.yaml");
  es_triage_pre pre;
  uint32_t sit;
  pre_of(&f, "the monthly fee was charged twice, ridiculous", "ann", 10, "en", "", &pre, &sit);
  es_triage_state *st = es_triage_state_create(f.t);
  alerts a = {&f, "-"};
  const char *want[] = {"care", "care", "care", "overflow", "overflow", "care"};
  const char *times[] = {"2026-12-07T10:00:00Z", "2026-12-07T10:10:00Z", "2026-12-07T10:20:00Z",
                         "2026-12-07T10:30:00Z", "2026-12-07T10:59:59Z", "2026-12-07T11:00:00Z"};
  for (int i = 0; i < 6; i++) {
    es_triage_out o;
    es_triage_decide(f.t, st, &pre, at(times[i]), alert_open, &a, &o);
    cr_expect_str_eq(es_triage_track_name(f.t, (size_t)o.track), want[i], "mention %d at %s", i, times[i]);
    if (!strcmp(want[i], "overflow")) {
      cr_expect_eq(o.via, ES_VIA_OVERFLOW);
      cr_expect_eq(o.sla_ms, 6 * 3600000);
      cr_expect_str_eq(es_triage_track_name(f.t, (size_t)o.asked_track), "care");
    }
  }
  /* a late mention of the first hour still counts against it */
  es_triage_out o;
  es_triage_decide(f.t, st, &pre, at("2026-12-07T10:45:00Z"), alert_open, &a, &o);
  cr_expect_str_eq(es_triage_track_name(f.t, (size_t)o.track), "overflow");
  es_triage_counts c;
  es_triage_counts_get(st, &c);
  cr_expect_eq(c.routed, 7);
  cr_expect_eq(c.overflowed, 3);
  cr_expect_eq(es_triage_track_routed(st, 0), 4);
  es_triage_state_destroy(st);
  fx_free(&f);
}

/* Office hours follow the zone's daylight-saving time: 08:30 UTC is 09:30
 * in Paris in winter (open) and 10:30 in summer; 07:30 UTC is 08:30 in
 * winter (closed) and 09:30 in summer (open). */
Test(triage, office_hours_follow_daylight_saving) {
  fx f;
  fx_init(&f, DATA "conformance.yaml");
  cr_expect(es_triage_in_hours(f.t, at("2026-12-07T08:30:00Z")));
  cr_expect_not(es_triage_in_hours(f.t, at("2026-12-07T07:30:00Z")));
  cr_expect(es_triage_in_hours(f.t, at("2026-07-06T07:30:00Z")));
  cr_expect_not(es_triage_in_hours(f.t, at("2026-07-06T16:30:00Z")));
  /* the change itself: 2026-03-29 01:00 UTC; Sunday is closed either way,
   * Monday 30 March 07:30 UTC is 09:30 summer time */
  cr_expect(es_triage_in_hours(f.t, at("2026-03-30T07:30:00Z")));
  cr_expect_not(es_triage_in_hours(f.t, at("2026-03-27T07:30:00Z")));
  fx_free(&f);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
}

/* A broken triage file or rule file is refused with file:line and what to
 * write. */
Test(triage, errors_name_the_line) {
  char dir[] = "/tmp/es_triage_XXXXXX", path[512], rules[512];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/t.yaml", dir);
  snprintf(rules, sizeof rules, "%s/r.tsv", dir);
  struct {
    const char *yaml, *want;
  } cases[] = {
      {"routes:\n  - track: care\n", "no track 'care'"},
      {"tracks:\n  care: {sla: 1h}\nroutes:\n  - when: {situation: complaints}\n    track: care\n",
       "no situation 'complaints'"},
      {"tracks:\n  care: {}\nroutes:\n  - track: care\n", "needs an 'sla'"},
      {"tracks:\n  care: {sla: 1h}\nroutes:\n  - when: {situaton: complaint}\n    track: care\n", "did you mean"},
      {"tracks:\n  care: {sla: 1h}\nroutes:\n  - track: care\n    ignore: x\n", "one action per route"},
      {"tracks:\n  care: {sla: 1h}\nhours:\n  timezone: Mars/Olympus\n  open: {mon: 09:00-17:00}\n  off_hours: care\n"
       "routes:\n  - track: care\n",
       "time zone 'Mars/Olympus' is unknown"},
      {"tracks:\n  care: {sla: 1h}\nhours:\n  timezone: UTC\n  open: {mon: 09:10-17:00}\n  off_hours: care\n"
       "routes:\n  - track: care\n",
       "quarter hours"},
      {"tracks:\n  care: {sla: 1h, overflow: care}\nroutes:\n  - track: care\n", "cannot overflow into itself"},
      {"tracks:\n  care: {sla: 1h}\nroutes:\n  - when: {compound: 5..7}\n    track: care\n", "must be a range"},
      {"tracks:\n  care: {sla: 1h}\n", "no 'routes'"},
      {"situations: [r.tsv]\ntracks:\n  care: {sla: 1h}\nroutes:\n  - track: care\n", "r.tsv:3"},
  };
  write_file(rules, "#! kind situations\ncomplaint\tok\tnegative\t-\ncomplaint\tbad\t-\t(fee AND\n");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    write_file(path, cases[i].yaml);
    int err;
    es_diag d = {{0}};
    es_triage *t = es_triage_load(path, &err, &d);
    cr_expect_null(t, "case %zu loads", i);
    cr_expect(strstr(d.msg, cases[i].want) != NULL, "case %zu: '%s' does not say '%s'", i, d.msg, cases[i].want);
    es_triage_destroy(t);
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_expect_eq(system(cmd), 0);
}

/* Situation rules: evidence is the first rule in file order and the words
 * its expression matched (not the ones under NOT, not a NEAR that did not
 * hold); `#! unless` drops a situation; sentiment conditions gate. */
Test(triage, situation_rules_and_evidence) {
  char dir[] = "/tmp/es_sit_XXXXXX", rules[512];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(rules, sizeof rules, "%s/r.tsv", dir);
  write_file(rules, "#! kind situations\n"
                    "complaint\tcharge\tnot_positive\tcharged AND NOT refunded\n"
                    "complaint\tnear\t-\t(card NEAR/2 blocked) OR (app NEAR/1 crashed)\n"
                    "complaint\tneg\tnegative\t-\n"
                    "praise\tthanks\tcompound>=0.3\tthanks OR thank\n"
                    "question\tdont\t-\t\"don't know\"\n"
                    "#! unless praise complaint\n");
  const char *paths[] = {rules};
  int err;
  es_diag d = {{0}};
  es_situations *S = es_situations_load(paths, 1, &err, &d);
  cr_assert_not_null(S, "%s", d.msg);
  cr_expect_eq(es_situations_count(S), 3);
  es_situations_rt *rt = es_situations_rt_create(S);
  cr_assert_not_null(rt);
  es_situation_hit h[ES_SITUATIONS_MAX];
  size_t nh, lens[8];
  const char *words[8];
  /* charged, card blocked; the NEAR on app did not hold */
  const char *t1 = "charged for my card which is blocked, the app never crashed before";
  es_sentiment neg = {.compound = -0.5, .label = ES_LABEL_NEGATIVE};
  uint32_t mask = es_situations_eval(S, rt, t1, strlen(t1), NULL, &neg, h, &nh);
  cr_expect_eq(mask, 1u);
  cr_assert_eq(nh, 1);
  cr_expect_str_eq(es_situation_rule_id(S, h[0].rule), "complaint/charge");
  size_t nw = es_situation_evidence(S, rt, &h[0], words, lens, 8);
  cr_assert_eq(nw, 2);
  cr_expect(lens[0] == 7 && !memcmp(words[0], "charged", 7));
  cr_expect(lens[1] == 12 && !memcmp(words[1], "not_positive", 12));
  /* refunded: the first rule does not hold; the NEAR one does, its words as written */
  const char *t2 = "Charged and refunded but my Card got BLOCKED";
  es_situations_eval(S, rt, t2, strlen(t2), NULL, &neg, h, &nh);
  cr_assert_eq(nh, 1);
  cr_expect_str_eq(es_situation_rule_id(S, h[0].rule), "complaint/near");
  nw = es_situation_evidence(S, rt, &h[0], words, lens, 8);
  cr_assert_eq(nw, 2);
  cr_expect(lens[0] == 4 && !memcmp(words[0], "Card", 4));
  cr_expect(lens[1] == 7 && !memcmp(words[1], "BLOCKED", 7));
  /* too far apart for NEAR/2 */
  const char *t2b = "my card is now after all that blocked";
  cr_expect_eq(es_situations_eval(S, rt, t2b, strlen(t2b), NULL, &neg, h, &nh), 1u, "the negative rule only");
  cr_expect_str_eq(es_situation_rule_id(S, h[0].rule), "complaint/neg");
  /* thanks, positive: praise; with a complaint it is dropped; ’ is ' */
  const char *t3 = "thanks so much";
  es_sentiment pos = {.compound = 0.6, .label = ES_LABEL_POSITIVE};
  cr_expect_eq(es_situations_eval(S, rt, t3, strlen(t3), NULL, &pos, h, &nh), 2u);
  const char *t4 = "thanks for the card, now blocked";
  cr_expect_eq(es_situations_eval(S, rt, t4, strlen(t4), NULL, &pos, h, &nh), 1u, "praise unless complaint");
  es_sentiment mild = {.compound = 0.2, .label = ES_LABEL_POSITIVE};
  cr_expect_eq(es_situations_eval(S, rt, t3, strlen(t3), NULL, &mild, h, &nh), 0u, "compound below the rule's bound");
  const char *t5 = "I don’t know why";
  cr_expect_eq(es_situations_eval(S, rt, t5, strlen(t5), NULL, &mild, h, &nh), 4u, "’ and ' are one apostrophe");
  es_situations_rt_destroy(rt);
  es_situations_destroy(S);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_expect_eq(system(cmd), 0);
}

/* Time to respond with a fixed clock: answers on time, late and never; the
 * p90 of each event-time hour against the track's SLA opens, continues and
 * resolves an sla_breach; an answer to an unknown id is counted apart. */
typedef struct sla_log {
  es_sla_event ev[16];
  char track[16][32];
  int n;
} sla_log;

static void on_sla(void *ctx, const es_sla_event *e) {
  sla_log *l = ctx;
  if (l->n < 16) {
    l->ev[l->n] = *e;
    snprintf(l->track[l->n], 32, "%s", e->track);
    l->ev[l->n].track = l->track[l->n];
    l->n++;
  }
}

Test(triage, time_to_respond_and_sla_breach) {
  fx f;
  fx_init(&f, DATA "conformance.yaml");
  es_triage_pre pre;
  uint32_t sit;
  pre_of(&f, "my card is blocked and nobody answers", "someone", 10, "en", "", &pre, &sit); /* care, 1 h */
  es_triage_state *st = es_triage_state_create(f.t);
  alerts a = {&f, "-"};
  sla_log log = {0};
  const char *ids[] = {"a", "b", "c"};
  /* three mentions at 10:00 (care's capacity is 3 an hour) */
  for (int i = 0; i < 3; i++) {
    es_triage_out o;
    es_triage_decide(f.t, st, &pre, at("2026-12-07T10:00:00Z"), alert_open, &a, &o);
    cr_assert_eq(o.action, ES_TRIAGE_ROUTE);
    es_triage_await(st, ids[i], 1, &o, at("2026-12-07T10:00:00Z"));
  }
  cr_expect(es_triage_response(st, "a", 1, at("2026-12-07T10:10:00Z")), "10 minutes: on time");
  cr_expect_not(es_triage_response(st, "zz", 2, at("2026-12-07T10:11:00Z")), "nobody routed zz");
  es_triage_sla_advance(f.t, st, at("2026-12-07T10:59:00Z"), false, on_sla, &log);
  cr_expect_eq(log.n, 0, "the 10:00 hour is not over");
  es_triage_sla_advance(f.t, st, at("2026-12-07T11:00:05Z"), false, on_sla, &log);
  /* hour 10: a in 600 s -> met; b and c passed 11:00 unanswered (hour 11) */
  cr_assert_eq(log.n, 1);
  cr_expect_eq(log.ev[0].state, ES_SLA_MET);
  cr_expect_eq(log.ev[0].p90_s, 600);
  cr_expect(es_triage_response(st, "b", 1, at("2026-12-07T11:30:00Z")), "a late answer is still taken");
  es_triage_sla_advance(f.t, st, at("2026-12-07T12:00:00Z"), false, on_sla, &log);
  /* hour 11: c unanswered (+inf), b answered late in 5400 s: p90 beyond any answer -> opened */
  cr_assert_eq(log.n, 2);
  cr_expect_str_eq(log.ev[1].track, "care");
  cr_expect_eq(log.ev[1].state, ES_SLA_OPENED);
  cr_expect_eq(log.ev[1].p90_s, -1);
  cr_expect_eq(log.ev[1].unanswered, 2, "b and c were unanswered at their respond-by");
  cr_expect_eq(log.ev[1].answered, 1);
  /* a quick answer in hour 12 resolves it */
  es_triage_out o;
  es_triage_decide(f.t, st, &pre, at("2026-12-07T12:00:00Z"), alert_open, &a, &o);
  es_triage_await(st, "d", 1, &o, at("2026-12-07T12:00:00Z"));
  cr_expect(es_triage_response(st, "d", 1, at("2026-12-07T12:05:00Z")));
  es_triage_sla_advance(f.t, st, at("2026-12-07T13:00:00Z"), true, on_sla, &log);
  cr_assert_eq(log.n, 3);
  cr_expect_eq(log.ev[2].state, ES_SLA_RESOLVED);
  cr_expect_eq(log.ev[2].p90_s, 300);
  const es_triage_sla_counts *c = es_triage_sla_counts_get(st, 0);
  cr_expect_eq(c->answered, 3);
  cr_expect_eq(c->unanswered, 2);
  cr_expect_eq(c->late, 2, "b (answered after its respond-by, already counted unanswered) and c");
  es_triage_counts tc;
  es_triage_counts_get(st, &tc);
  cr_expect_eq(tc.responses, 3);
  cr_expect_eq(tc.responses_unknown, 1);
  es_buf b;
  es_buf_init(&b);
  es_sla_event_json(&b, &log.ev[1]);
  es_buf_putc(&b, 0);
  cr_expect(strstr(b.data, "\"type\":\"sla_breach\",\"track\":\"care\",\"state\":\"opened\"") &&
            strstr(b.data, "\"window_start\":\"2026-12-07T11:00:00Z\"") && strstr(b.data, "\"p90_s\":null"), "%s", b.data);
  es_buf_free(&b);
  es_triage_state_destroy(st);
  fx_free(&f);
}

/* The words of ASCII texts come from bitmaps; they are the byte loop's words
 * (spans, normalised forms, hashes), on texts made of the bytes that decide
 * a word's edges, across 64-byte blocks. */
Test(triage, ascii_words_are_the_byte_loops) {
  static const char alphabet[] = "aZ9_''#@ .,-!?\t";
  char text[700];
  unsigned seed = 7;
  es_words a = {0}, b = {0};
  for (int round = 0; round < 20000; round++) {
    seed = seed * 1103515245u + 12345u;
    size_t n = (seed >> 8) % sizeof text;
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      text[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
    }
    cr_assert_eq(es__words_cut(&a, text, n), 0);
    cr_assert_eq(es__words_cut_bytes(&b, text, n), 0);
    cr_assert_eq(a.n, b.n, "round %d: %zu words vs %zu", round, a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
      cr_assert(a.start[i] == b.start[i] && a.end[i] == b.end[i] && a.nlen[i] == b.nlen[i], "round %d word %zu", round, i);
      cr_assert(!memcmp(a.norm + a.nstart[i], b.norm + b.nstart[i], a.nlen[i]), "round %d word %zu", round, i);
      cr_assert_eq(a.hash[i], b.hash[i]);
    }
  }
  es__words_free(&a);
  es__words_free(&b);
}

/* A reload runs beside other threads, so it cannot set TZ to read another
 * time zone: the running file's zone is reused, another one is refused with
 * a message; a duplicated key is the last one, without a leak. */
Test(triage, reload_keeps_the_time_zone) {
  char dir[] = "/tmp/earshot-triage-tz-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  static const char *const zones[] = {"Europe/Paris", "America/New_York"};
  char path[2][256];
  for (int i = 0; i < 2; i++) {
    snprintf(path[i], sizeof path[i], "%s/t%d.yaml", dir, i);
    FILE *f = fopen(path[i], "w");
    cr_assert_not_null(f);
    fprintf(f, "tracks:\n  care: {sla: 1h}\n  night: {sla: 12h}\nhours:\n  timezone: UTC\n  timezone: %s\n"
               "  open: {mon-fri: 09:00-18:00}\n  off_hours: night\nroutes:\n  - name: a\n    name: all\n"
               "    when: {situation: complaint}\n    track: care\n",
            zones[i]);
    fclose(f);
  }
  int err;
  es_diag d = {{0}};
  es_triage *t0 = es_triage_load(path[0], &err, &d);
  cr_assert_not_null(t0, "%s", d.msg);
  cr_expect_str_eq(es_triage_timezone(t0), "Europe/Paris");
  es_triage *t1 = es_triage_reload(path[0], t0, &err, &d);
  cr_assert_not_null(t1, "%s", d.msg);
  /* 2026-03-29 01:00 UTC is 03:00 in Paris (summer time from that night): the same answers */
  int64_t base = 1774746000000LL;
  for (int h = -30; h < 30; h++)
    cr_expect_eq(es_triage_in_hours(t1, base + h * 3600000LL), es_triage_in_hours(t0, base + h * 3600000LL), "hour %d", h);
  d.msg[0] = 0;
  cr_expect_null(es_triage_reload(path[1], t0, &err, &d));
  cr_expect(strstr(d.msg, "restart to change it") != NULL, "%s", d.msg);
  es_triage_destroy(t1);
  es_triage_destroy(t0);
  remove(path[0]);
  remove(path[1]);
  remove(dir);
}

/* A reloaded triage file (es_triage_state_retrack): a track keeps its state
 * by name whatever its new index (its hour's count against capacity, its
 * awaited answers and their times); a track no longer named loses its
 * awaited mentions (an answer to one is still a response, counted in no
 * track). */
Test(triage, reload_moves_track_state_by_name) {
  char dir[] = "/tmp/earshot-triage-retrack-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  static const char *const files[] = {
      "tracks:\n  care: {sla: 1h, capacity: 2, overflow: backup}\n  backup: {sla: 6h}\n  gone: {sla: 1h}\n"
      "routes:\n  - name: complaints\n    when: {situation: complaint}\n    track: care\n"
      "  - name: questions\n    when: {situation: question}\n    track: gone\n",
      "tracks:\n  backup: {sla: 6h}\n  care: {sla: 1h, capacity: 2, overflow: backup}\n"
      "routes:\n  - name: complaints\n    when: {situation: complaint}\n    track: care\n"};
  char path[2][256];
  fx f[2];
  for (int i = 0; i < 2; i++) {
    snprintf(path[i], sizeof path[i], "%s/t%d.yaml", dir, i);
    FILE *fp = fopen(path[i], "w");
    cr_assert_not_null(fp);
    fputs(files[i], fp);
    fclose(fp);
    fx_init(&f[i], path[i]);
  }
  es_triage_pre pc, pq;
  uint32_t sit;
  pre_of(&f[0], "my card is blocked and nobody answers", "someone", 10, "en", "", &pc, &sit);
  pre_of(&f[0], "how do I change my pin?", "someone", 10, "en", "", &pq, &sit);
  es_triage_state *st = es_triage_state_create(f[0].t);
  alerts a = {&f[0], "-"};
  es_triage_out o;
  for (int i = 0; i < 2; i++) { /* care's capacity, 10:00 */
    es_triage_decide(f[0].t, st, &pc, at("2026-12-07T10:00:00Z"), alert_open, &a, &o);
    cr_assert(o.action == ES_TRIAGE_ROUTE && o.track == 0);
    es_triage_await(st, i ? "b" : "a", 1, &o, at("2026-12-07T10:00:00Z"));
  }
  es_triage_decide(f[0].t, st, &pq, at("2026-12-07T10:00:00Z"), alert_open, &a, &o);
  cr_assert(o.action == ES_TRIAGE_ROUTE && o.track == 2, "the question goes to 'gone' (%d)", o.track);
  es_triage_await(st, "g", 1, &o, at("2026-12-07T10:00:00Z"));
  es_triage_state_retrack(st, f[0].t, f[1].t);
  /* the new file: care is track 1; its 10:00 hour is full already */
  pre_of(&f[1], "my card is blocked and nobody answers", "someone", 10, "en", "", &pc, &sit);
  alerts a1 = {&f[1], "-"};
  es_triage_decide(f[1].t, st, &pc, at("2026-12-07T10:30:00Z"), alert_open, &a1, &o);
  cr_expect(o.action == ES_TRIAGE_ROUTE && o.track == 0 && o.via == ES_VIA_OVERFLOW,
            "care's third of the hour overflows to backup (track %d, via %d)", o.track, o.via);
  cr_expect_eq(es_triage_track_routed(st, 1), 2, "care's count moved with it");
  cr_expect(es_triage_response(st, "a", 1, at("2026-12-07T10:20:00Z")));
  cr_expect(es_triage_response(st, "g", 1, at("2026-12-07T10:20:00Z")), "an answer to a gone track's mention");
  cr_expect_eq(es_triage_sla_counts_get(st, 1)->answered, 1, "a's answer counts for care, now track 1");
  cr_expect_eq(es_triage_sla_counts_get(st, 0)->answered, 0);
  es_triage_counts tc;
  es_triage_counts_get(st, &tc);
  cr_expect_eq(tc.responses, 2);
  sla_log log = {0};
  es_triage_sla_advance(f[1].t, st, at("2026-12-07T13:00:00Z"), true, on_sla, &log);
  cr_expect_eq(es_triage_sla_counts_get(st, 1)->unanswered, 1, "b, still awaited by care, passed its respond-by");
  for (int i = 0; i < log.n; i++) cr_expect_str_neq(log.ev[i].track, "gone");
  es_triage_state_destroy(st);
  for (int i = 0; i < 2; i++) {
    fx_free(&f[i]);
    remove(path[i]);
  }
  remove(dir);
}
