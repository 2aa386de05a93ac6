/* `earshot route explain`: what the engine's triage would do with one
 * mention — the queries it matches, its sentiment, its situations with
 * their evidence, the route that takes it and why, the track, priority and
 * respond-by time once crisis overrides, office hours and capacity apply.
 * `--json` prints the triage record the engine would write instead. Main
 * thread. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "earshot/config.h"
#include "earshot/langid.h"
#include "earshot/mem.h"
#include "earshot/mention.h"
#include "earshot/output.h"
#include "earshot/query.h"
#include "earshot/sentiment.h"
#include "earshot/timeutil.h"
#include "earshot/triage.h"

static int usage(FILE *f) {
  fputs("usage: earshot route explain (-c CONFIG | --triage FILE) [options] 'TEXT'\n"
        "  -c, --config FILE    the engine's config: its triage file, queries and sentiment settings\n"
        "      --triage FILE    the triage file (instead of, or over, the config's)\n"
        "      --queries FILE   the query file (default: the config's; none: no query matches)\n"
        "      --author HANDLE  who wrote it (author lists)\n"
        "      --followers N    the author's followers\n"
        "      --lang CODE      its language field (default: none, identified as the engine does)\n"
        "      --source NAME    its source field\n"
        "      --at TIME        its event time, RFC 3339 (default: now): office hours, respond-by\n"
        "      --alert QUERY    act as if QUERY has an open alert (crisis overrides); repeatable\n"
        "      --json           print the triage record the engine would write\n"
        "exit status: 0 routed, 1 ignored or no route, 2 bad usage or configuration\n",
        f);
  return f == stderr ? 2 : 0;
}

typedef struct alerts {
  const es_triage_bound *tb;
  const char *const *ids;
  int n;
  const es_queryset *qs;
} alerts;

static bool alert_open(void *ctx, size_t k) {
  alerts *a = ctx;
  int64_t q = es_triage_bound_crisis_query(a->tb, k);
  if (q < 0) return false;
  const char *id = es_queryset_get(a->qs, (size_t)q)->id;
  for (int i = 0; i < a->n; i++)
    if (!strcmp(a->ids[i], id)) return true;
  return false;
}

static void fmt_duration(int64_t ms, char *out, size_t cap) {
  int64_t s = ms / 1000;
  if (s % 86400 == 0) snprintf(out, cap, "%lldd", (long long)(s / 86400));
  else if (s % 3600 == 0) snprintf(out, cap, "%lldh", (long long)(s / 3600));
  else if (s % 60 == 0) snprintf(out, cap, "%lldm", (long long)(s / 60));
  else snprintf(out, cap, "%llds", (long long)s);
}

int es__cmd_route(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "explain")) {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) return usage(stdout);
    return usage(stderr);
  }
  argc--, argv++;
  enum { O_TRIAGE = 256, O_QUERIES, O_AUTHOR, O_FOLLOWERS, O_LANG, O_SOURCE, O_AT, O_ALERT, O_JSON };
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},   {"triage", required_argument, 0, O_TRIAGE},
                                       {"queries", required_argument, 0, O_QUERIES}, {"author", required_argument, 0, O_AUTHOR},
                                       {"followers", required_argument, 0, O_FOLLOWERS},
                                       {"lang", required_argument, 0, O_LANG},   {"source", required_argument, 0, O_SOURCE},
                                       {"at", required_argument, 0, O_AT},       {"alert", required_argument, 0, O_ALERT},
                                       {"json", no_argument, 0, O_JSON},         {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  es_config cfg;
  es_config_default(&cfg);
  es_diag d = {{0}};
  const char *triage_path = NULL, *queries = NULL, *author = "", *lang = "", *source = "";
  const char *alert_ids[64];
  int nalerts = 0, rc = 2;
  uint64_t followers = 0;
  int64_t at = es_time_wall_ms();
  bool json = false;
  es_triage *t = NULL;
  es_queryset *qs = NULL;
  es_lexicon *lex = NULL;
  es_match_rt *mrt = NULL;
  es_sentiment_rt *srt = NULL;
  es_triage_bound *tb = NULL;
  es_triage_state *ts = NULL;
  es_situations_rt *sitrt = NULL;
  uint32_t *hits = NULL;
  char *valid = NULL;
  es_fold fold;
  es_fold_init(&fold);
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1;) {
    char *end;
    switch (c) {
    case 'c':
      if (es_config_load(&cfg, optarg, &d)) {
        fprintf(stderr, "earshot route: %s\n", d.msg);
        goto out;
      }
      break;
    case O_TRIAGE: triage_path = optarg; break;
    case O_QUERIES: queries = optarg; break;
    case O_AUTHOR: author = optarg; break;
    case O_LANG: lang = optarg; break;
    case O_SOURCE: source = optarg; break;
    case O_FOLLOWERS:
      followers = strtoull(optarg, &end, 10);
      if (*end || !*optarg || optarg[0] == '-') {
        fprintf(stderr, "earshot route: --followers needs a whole number: %s\n", optarg);
        goto out;
      }
      break;
    case O_AT:
      if (es_time_parse_rfc3339(optarg, strlen(optarg), &at)) {
        fprintf(stderr, "earshot route: --at needs an RFC 3339 time such as 2026-12-07T22:30:00Z: %s\n", optarg);
        goto out;
      }
      break;
    case O_ALERT:
      if (nalerts == 64) {
        fputs("earshot route: at most 64 --alert\n", stderr);
        goto out;
      }
      alert_ids[nalerts++] = optarg;
      break;
    case O_JSON: json = true; break;
    case 'h': rc = usage(stdout); goto out;
    default: rc = usage(stderr); goto out;
    }
  }
  if (optind != argc - 1) {
    rc = usage(stderr);
    goto out;
  }
  if (!triage_path) triage_path = cfg.triage;
  if (!queries) queries = cfg.queries;
  if (!triage_path) {
    fputs("earshot route: no triage file: pass --triage FILE or -c CONFIG with 'triage:'\n", stderr);
    goto out;
  }
  int err;
  if (!(t = es_triage_load(triage_path, &err, &d))) {
    fprintf(stderr, "earshot route: %s\n", d.msg);
    goto out;
  }
  const es_situations *S = es_triage_situations(t);
  es_query_opts qo = {.accent_insensitive = cfg.accent_insensitive};
  qs = queries ? es_queryset_load_opts(queries, &qo, &err, &d) : es_queryset_compile_opts(NULL, 0, &qo, &err, &d);
  if (!qs) {
    fprintf(stderr, "earshot route: %s\n", d.msg);
    goto out;
  }
  es_sentiment_opts so;
  es_config_sentiment_opts(&cfg, &so);
  if (!(lex = es_lexicon_create(&so, &d))) {
    fprintf(stderr, "earshot route: %s\n", d.msg);
    goto out;
  }
  rc = 1;
  mrt = es_match_rt_create(qs);
  srt = es_sentiment_rt_create();
  tb = es_triage_bind(t, qs);
  ts = es_triage_state_create(t);
  sitrt = es_situations_rt_create(S);
  hits = es_malloc((es_queryset_count(qs) + 1) * sizeof *hits);
  const char *text = argv[optind];
  size_t n = strlen(text);
  valid = es_malloc(3 * n + 1);
  if (!mrt || !srt || !tb || !ts || !sitrt || !hits || !valid) {
    fputs("earshot route: out of memory\n", stderr);
    rc = 2;
    goto out;
  }
  /* As the workers do: repaired, folded, matched with metadata; scored
   * without the matched queries' own words; situations; the route. */
  size_t vn = es_utf8_repair(text, n, valid), fn;
  fold.strip_marks = es_queryset_accent_insensitive(qs);
  const char *folded = es_fold_text(&fold, valid, vn, &fn);
  es_match_meta meta = {.lang = lang, .lang_n = strlen(lang), .source = source, .source_n = strlen(source),
                        .author = author, .author_n = strlen(author), .followers = followers};
  int nh = folded ? es_queryset_match_meta(qs, mrt, folded, fn, &meta, hits) : 0;
  if (nh < 0) nh = 0;
  const char *w[128];
  uint16_t wl[128];
  size_t nsub = es_queryset_subject(qs, hits, (size_t)nh, w, wl, 128);
  es_sentiment_rt_set_subject(srt, w, wl, nsub);
  es_langid lid = {0};
  size_t ln;
  const char *use = es_langid_pick(lang, strlen(lang), valid, vn, cfg.sentiment_detect_lang, &lid, &ln);
  es_sentiment s;
  es_sentiment_score_lang(lex, use, ln, srt, valid, vn, &s, NULL);
  es_situation_hit sh[ES_SITUATIONS_MAX];
  size_t nsh;
  uint32_t mask = folded ? es_situations_eval(S, sitrt, folded, fn, &meta, &s, sh, &nsh) : 0;
  if (!folded) nsh = 0;
  es_triage_in in = {.qs = qs, .queries = hits, .nqueries = (size_t)nh, .situations = mask, .label = s.label,
                     .compound = s.compound, .author = author, .author_n = strlen(author), .lang = lang,
                     .lang_n = strlen(lang), .source = source, .source_n = strlen(source), .followers = followers};
  es_triage_pre pre;
  es_triage_pre_eval(t, tb, &in, &pre);
  alerts al = {.tb = tb, .ids = alert_ids, .n = nalerts, .qs = qs};
  es_triage_out o;
  es_triage_decide(t, ts, &pre, at, alert_open, &al, &o);
  char why[512];
  if (o.via == ES_VIA_CRISIS) es_triage_explain_cond(t, 1, o.rule, &in, why, sizeof why);
  else es_triage_explain_cond(t, 0, pre.route, &in, why, sizeof why);
  rc = o.action == ES_TRIAGE_ROUTE ? 0 : 1;
  if (json) {
    es_mention m = {.id = {"explain", 7}, .text = {valid, vn}, .author = {author, strlen(author)}, .lang = {lang, strlen(lang)},
                    .source = {source, strlen(source)}, .ts_ms = at, .followers = followers};
    es_buf b;
    es_buf_init(&b);
    es_output_enriched(&b, &m, "explain", qs, hits, (size_t)nh, &s, &lid);
    b.len -= 2;
    es_buf_putc(&b, ',');
    es_situations_json(&b, S, sitrt, sh, nsh);
    es_buf_putc(&b, ',');
    es_triage_route_json(&b, t, &o, o.action ? why : NULL);
    es_buf_put(&b, "}\n", 2);
    fwrite(b.data, 1, b.len, stdout);
    es_buf_free(&b);
    goto out;
  }
  printf("queries matched: ");
  for (int k = 0; k < nh; k++) printf("%s%s", k ? ", " : "", es_queryset_get(qs, hits[k])->id);
  puts(nh ? "" : "none (the engine triages matched mentions only)");
  printf("sentiment: %s (compound %+.3f)\n", es_label_name(s.label), s.compound);
  printf("situations:%s\n", nsh ? "" : " none");
  for (size_t i = 0; i < nsh; i++) {
    const char *ev[ES_SITUATION_EVIDENCE];
    size_t el[ES_SITUATION_EVIDENCE];
    size_t ne = es_situation_evidence(S, sitrt, &sh[i], ev, el, ES_SITUATION_EVIDENCE);
    printf("  %-16s rule %-28s evidence: ", es_situation_name(S, sh[i].situation), es_situation_rule_id(S, sh[i].rule));
    for (size_t k = 0; k < ne; k++) printf("%s%.*s", k ? ", " : "", (int)el[k], ev[k]);
    putchar('\n');
  }
  if (o.action == ES_TRIAGE_NONE) {
    puts("route: none matched (add a last route without 'when' to catch the rest)");
    goto out;
  }
  printf("route: %s (%s)\n", es_triage_rule_name(t, &o), o.via == ES_VIA_CRISIS ? "crisis override" : "first match");
  printf("  why: %s\n", why);
  if (o.action == ES_TRIAGE_IGNORE) {
    printf("  action: ignore: %s\n", o.reason);
    goto out;
  }
  char sla[32], rb[32], when[32];
  fmt_duration(o.sla_ms, sla, sizeof sla);
  es_time_format_rfc3339(o.respond_by_ms, rb);
  es_time_format_rfc3339(at, when);
  printf("  track: %s, priority %d, SLA %s\n", es_triage_track_name(t, (size_t)o.track), o.priority, sla);
  if (o.via == ES_VIA_OFF_HOURS)
    printf("  %s is outside office hours (%s): the off-hours track instead of %s\n", when, es_triage_timezone(t),
           es_triage_track_name(t, (size_t)o.asked_track));
  if (o.via == ES_VIA_OVERFLOW)
    printf("  %s is over its capacity this hour: its overflow track\n", es_triage_track_name(t, (size_t)o.asked_track));
  printf("  respond by: %s (event time %s + SLA)\n", rb, when);
out:
  es_free(valid);
  es_free(hits);
  es_triage_state_destroy(ts);
  es_situations_rt_destroy(sitrt);
  es_triage_unbind(tb);
  es_sentiment_rt_destroy(srt);
  es_match_rt_destroy(mrt);
  es_fold_free(&fold);
  es_lexicon_destroy(lex);
  es_queryset_destroy(qs);
  es_triage_destroy(t);
  es_config_free(&cfg);
  return rc;
}
