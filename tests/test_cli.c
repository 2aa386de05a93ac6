/* End-to-end through the binaries, as a user runs them: a generated stream
 * with a planted incident must be flagged exactly there; explain's exit
 * codes; clear errors for broken queries and configs. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/earshot-cli-XXXXXX");
  cr_assert(mkdtemp(dir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_expect_eq(system(cmd), 0);
}

TestSuite(cli, .init = setup, .fini = teardown);

/* Runs a shell command, returns its exit status and (optionally) output. */
static int sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t cap, const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  FILE *p = popen(cmd, "r");
  cr_assert(p);
  size_t n = 0;
  if (out) {
    size_t k;
    while (n + 1 < cap && (k = fread(out + n, 1, cap - n - 1, p)) > 0) n += k;
    out[n] = 0;
  } else {
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {}
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(cli, replay_flags_the_planted_spike_and_nothing_else) {
  cr_assert_eq(sh(NULL, 0, "%s queries --count 6 -o %s/q.yaml", ES_GEN_BIN, dir), 0);
  /* Six hours at 600/min; fee complaints at 8x from 03:00 to 03:20. */
  cr_assert_eq(sh(NULL, 0, "%s mentions --count 216000 --rate 600 --seed 3 --incident 'fees@3h+20m*8' -o %s/m.jsonl",
                  ES_GEN_BIN, dir), 0);
  cr_assert_eq(sh(NULL, 0, "%s replay --queries %s/q.yaml --input %s/m.jsonl --output %s/w.jsonl --workers 2 "
                  "--alerts-output %s/a.jsonl 2>/dev/null", ES_BIN, dir, dir, dir, dir), 0);
  char path[128];
  /* One alert for the incident: opened at its first window, updated, and
   * resolved after three quiet windows; no other alert of any class. */
  char out[8192];
  cr_assert_eq(sh(out, sizeof out, "grep -o '\"alert\":{\"id\":\"[^\"]*\",\"state\":\"[a-z]*\"' %s/a.jsonl | sort | uniq -c",
                  dir), 0);
  cr_expect(strstr(out, "1 \"alert\":{\"id\":\"fees@2026-01-05T03:01:00Z/60s\",\"state\":\"opened\""), "%s", out);
  cr_expect(strstr(out, "1 \"alert\":{\"id\":\"fees@2026-01-05T03:01:00Z/60s\",\"state\":\"resolved\""), "%s", out);
  cr_expect(strstr(out, "\"alert\":{\"id\":\"fees@2026-01-05T03:01:00Z/60s\",\"state\":\"updated\""), "%s", out);
  cr_assert_eq(sh(out, sizeof out, "grep -vc '\"id\":\"fees@2026-01-05T03:01:00Z/60s\"' %s/a.jsonl", dir), 1,
               "every alert event is this alert's (grep -c found %s)", out);
  /* What the incident is about: the generator's incident mentions mostly
   * say "charged twice"; the fee query's usual mentions rarely do. */
  cr_assert_eq(sh(out, sizeof out, "grep '\"state\":\"opened\"' %s/a.jsonl | grep -o '\"terms\":\\[[^]]*\\]'", dir), 0);
  cr_expect(strstr(out, "{\"term\":\"charged\"") && strstr(out, "{\"term\":\"twice\""), "the alert's terms: %s", out);
  /* Which test of the level model called it, on what numbers. */
  cr_assert_eq(sh(out, sizeof out, "grep '\"state\":\"opened\"' %s/a.jsonl | grep -o '\"evidence\":{[^}]*}'", dir), 0);
  cr_expect(strstr(out, "\"evidence\":{\"test\":\"value\",\"sd\":") && strstr(out, "\"magnitude\":") &&
                strstr(out, "\"bar\":"),
            "the alert's evidence: %s", out);
  snprintf(path, sizeof path, "%s/w.jsonl", dir);
  FILE *f = fopen(path, "r");
  cr_assert(f);
  char line[8192];
  int incident_windows = 0, incident_spikes = 0, other_spikes = 0, quiet_fee_windows = 0;
  while (fgets(line, sizeof line, f)) {
    bool spike = strstr(line, "\"class\":\"spike\"") != NULL;
    bool fees = !strncmp(line, "{\"query\":\"fees\"", 15);
    const char *ws = strstr(line, "\"window_start\":\"2026-01-05T");
    cr_assert(ws, "%s", line);
    int hh = atoi(ws + 27), mm = atoi(ws + 30);
    bool in_incident = hh == 3 && mm < 20;
    if (fees && in_incident) {
      incident_windows++;
      incident_spikes += spike;
    } else {
      other_spikes += spike;
      quiet_fee_windows += fees;
    }
  }
  fclose(f);
  cr_expect_eq(incident_windows, 20);
  cr_expect_geq(incident_spikes, 19, "%d of 20 incident windows flagged", incident_spikes);
  cr_expect_gt(quiet_fee_windows, 300);
  cr_expect_eq(other_spikes, 0, "no spike outside the incident");
}

Test(cli, replay_reads_stdin_and_writes_pretty) {
  char out[65536];
  int rc;
  /* The query file and the input cannot both be stdin: use files. */
  sh(NULL, 0, "printf 'queries:\\n  - id: fees\\n    query: fee\\n' > %s/q.yaml", dir);
  rc = sh(out, sizeof out,
          "printf '%%s\\n' '{\"ts\":\"2026-01-05T00:00:01Z\",\"text\":\"my card fee is awful\",\"author\":\"a\"}' "
          "| %s replay --queries %s/q.yaml --format pretty --dlq-output %s/d.jsonl 2>/dev/null",
          ES_BIN, dir, dir);
  cr_expect_eq(rc, 0);
  cr_expect(strstr(out, "2026-01-05T00:00:00Z   60s | fees 1\n"), "%s", out);
}

/* Field filters and proximity through the whole pipeline: the metadata of
 * each mention reaches the matcher. */
Test(cli, replay_field_filters_and_proximity) {
  char out[65536];
  sh(NULL, 0,
     "printf 'queries:\\n  - id: fr\\n    query: \"fee AND lang:fr\"\\n"
     "  - id: big\\n    query: \"fee AND followers:>1000\"\\n"
     "  - id: near\\n    query: \"card NEAR/2 fee\"\\n' > %s/q.yaml",
     dir);
  sh(NULL, 0,
     "printf '%%s\\n' "
     "'{\"ts\":\"2026-01-05T00:00:01Z\",\"text\":\"card with a fee\",\"lang\":\"fr\",\"followers\":5}' "
     "'{\"ts\":\"2026-01-05T00:00:02Z\",\"text\":\"fee on my old card\",\"lang\":\"en\",\"followers\":5000}' "
     "'{\"ts\":\"2026-01-05T00:00:03Z\",\"text\":\"a fee\",\"lang\":\"FR\"}' > %s/in.jsonl",
     dir);
  int rc = sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/in.jsonl --format pretty 2>/dev/null", ES_BIN,
              dir, dir);
  cr_expect_eq(rc, 0);
  cr_expect(strstr(out, "| fr 2 | big 1 | near 1\n"), "%s", out);
}

Test(cli, explain_exit_codes) {
  char out[8192];
  cr_expect_eq(sh(out, sizeof out, "%s query explain '(fee OR fees) AND NOT promo' 'Hidden FEES again'", ES_BIN), 0);
  cr_expect(strstr(out, "MATCH"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s query explain 'fee AND NOT promo' 'fee promo'", ES_BIN), 1);
  cr_expect(strstr(out, "no match"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s query explain 'fee AND' 'fee' 2>&1", ES_BIN), 2);
  cr_expect(strstr(out, "column 8"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s query explain 'fee lang:fr' 'fee' --lang fr", ES_BIN), 0);
  cr_expect_eq(sh(out, sizeof out, "%s query explain 'fee lang:fr' 'fee' --lang en", ES_BIN), 1);
  cr_expect_eq(sh(out, sizeof out, "%s query explain 'card NEAR/1f fee' 'fee card'", ES_BIN), 1);
  cr_expect_eq(sh(out, sizeof out, "%s query explain 'fee' 'fee' --color red 2>&1", ES_BIN), 2);
  /* provenance: where each atom matched, and whether each NEAR held */
  cr_expect_eq(sh(out, sizeof out, "%s query explain 'card NEAR/1 fee' 'my card: a fee, card fee'", ES_BIN), 0);
  cr_expect(strstr(out, "at bytes 3-7 \"card\", 16-20 \"card\""), "%s", out);
  cr_expect(strstr(out, "at bytes 11-14 \"fee\", 21-24 \"fee\""), "%s", out);
  cr_expect(strstr(out, "card NEAR/1 fee") && strstr(out, "holds"), "%s", out);
}

Test(cli, check_reports_broken_queries) {
  char out[8192];
  sh(NULL, 0, "printf 'queries:\\n  - id: good\\n    query: fee\\n  - id: bad\\n    query: \"(fee OR\"\\n' > %s/q.yaml", dir);
  cr_expect_eq(sh(out, sizeof out, "%s query check %s/q.yaml 2>&1", ES_BIN, dir), 2);
  cr_expect(strstr(out, "q.yaml:5") && strstr(out, "query 'bad'") && strstr(out, "column"), "%s", out);
  /* every error, not only the first */
  sh(NULL, 0,
     "printf 'queries:\\n  - id: a\\n    query: \"fee AND\"\\n  - id: b\\n    query: ok\\n"
     "  - id: c\\n    query: \"card NEAR fee\"\\n  - id: a\\n    query: fine\\n' > %s/q.yaml",
     dir);
  cr_expect_eq(sh(out, sizeof out, "%s query check %s/q.yaml 2>&1", ES_BIN, dir), 2);
  cr_expect(strstr(out, "q.yaml:3: query 'a', column 8") && strstr(out, "q.yaml:7: query 'c', column 6") &&
              strstr(out, "'a' is used twice") && strstr(out, "3 errors"),
            "%s", out);
  sh(NULL, 0, "printf 'queries:\\n  - id: good\\n    query: fee\\n' > %s/q.yaml", dir);
  cr_expect_eq(sh(out, sizeof out, "%s query check %s/q.yaml", ES_BIN, dir), 0);
  cr_expect(strstr(out, "1 queries"), "%s", out);
}

Test(cli, config_errors_exit_2_with_a_hint) {
  char out[8192];
  sh(NULL, 0, "printf 'queries: q.yaml\\nwindow:\\n  size: 60s\\n' > %s/c.yaml", dir);
  cr_expect_eq(sh(out, sizeof out, "%s replay -c %s/c.yaml 2>&1", ES_BIN, dir), 2);
  cr_expect(strstr(out, "c.yaml:2: unknown key 'window'") && strstr(out, "did you mean 'windows'"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s replay --workers 0 2>&1", ES_BIN), 2);
  cr_expect_eq(sh(out, sizeof out, "%s replay --input x 2>&1", ES_BIN), 2);
  cr_expect(strstr(out, "no query file"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s replay --queries /nonexistent.yaml 2>&1", ES_BIN), 2);
  cr_expect(strstr(out, "/nonexistent.yaml: cannot open"), "%s", out);
}

/* `earshot config check`: what a CI pipeline or an image build runs
 * before deploying a config. */
Test(cli, config_check_validates_without_starting_issue17) {
  char out[8192];
  sh(NULL, 0, "printf 'queries:\n  - id: fees\n    query: \"fee OR fees\"\n' > %s/q.yaml", dir);
  sh(NULL, 0, "printf 'queries: %s/q.yaml\nhttp:\n  listen: 0.0.0.0:8089\nkafka:\n  brokers: kafka:9092\n' > %s/ok.yaml",
     dir, dir);
  cr_expect_eq(sh(out, sizeof out, "%s config check -c %s/ok.yaml 2>&1", ES_BIN, dir), 0, "%s", out);
  cr_expect(strstr(out, "valid: 1 queries") && strstr(out, "reads Kafka"), "%s", out);
  /* Every problem is reported, not only the first. */
  sh(NULL, 0, "printf 'queries:\n  - id: broken\n    query: \"fee AND (card OR\"\n' > %s/bad.yaml", dir);
  sh(NULL, 0, "printf 'queries: %s/bad.yaml\nhttp:\n  listen: nowhere\n  token_file: %s/missing\n' > %s/c.yaml", dir,
     dir, dir);
  cr_expect_eq(sh(out, sizeof out, "%s config check -c %s/c.yaml 2>&1", ES_BIN, dir), 2, "%s", out);
  cr_expect(strstr(out, "query 'broken'") && strstr(out, "http.listen 'nowhere'") &&
                strstr(out, "cannot read http.token_file") && strstr(out, "3 problems"),
            "%s", out);
  /* A broken config itself, a missing query file, no query file at all. */
  sh(NULL, 0, "printf 'queries: %s/q.yaml\nworkerz: 2\n' > %s/typo.yaml", dir, dir);
  cr_expect_eq(sh(out, sizeof out, "%s config check %s/typo.yaml 2>&1", ES_BIN, dir), 2);
  cr_expect(strstr(out, "did you mean 'workers'"), "%s", out);
  sh(NULL, 0, "printf 'workers: 2\n' > %s/noq.yaml", dir);
  cr_expect_eq(sh(out, sizeof out, "%s config check -c %s/noq.yaml 2>&1", ES_BIN, dir), 2);
  cr_expect(strstr(out, "no query file"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s config check -c %s/noq.yaml --queries %s/q.yaml 2>&1", ES_BIN, dir, dir), 0,
               "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s config 2>&1", ES_BIN), 2);
  cr_expect_eq(sh(out, sizeof out, "%s health ftp://x 2>&1", ES_BIN), 2);
}

/* Mentions without a language: identified from the text (CLD2), shown in
 * the enriched output, scored in that language or, without a lexicon for
 * it, counted unscored; a given language is kept; detection can be off. */
Test(cli, mentions_without_a_language_are_identified_issue21) {
  char out[16384];
  sh(NULL, 0, "printf 'queries:\n  - id: fees\n    query: \"fee OR frais OR commissione\"\n' > %s/q.yaml", dir);
  FILE *f = fopen(strcat(strcpy(out, dir), "/m.jsonl"), "w");
  cr_assert(f);
  fputs("{\"id\":\"en\",\"ts\":\"2026-01-05T00:00:01Z\",\"text\":\"the card fee is awful and I want my money back\",\"author\":\"a\"}\n"
        "{\"id\":\"fr\",\"ts\":\"2026-01-05T00:00:02Z\",\"text\":\"les frais de carte sont scandaleux, je veux être remboursé\",\"author\":\"b\",\"lang\":\"und\"}\n"
        "{\"id\":\"it\",\"ts\":\"2026-01-05T00:00:03Z\",\"text\":\"la commissione della carta è un furto, rivoglio i miei soldi subito\",\"author\":\"c\"}\n"
        "{\"id\":\"short\",\"ts\":\"2026-01-05T00:00:04Z\",\"text\":\"fee lol\",\"author\":\"d\"}\n"
        "{\"id\":\"given\",\"ts\":\"2026-01-05T00:00:05Z\",\"text\":\"les frais de carte sont scandaleux\",\"author\":\"e\",\"lang\":\"en\"}\n", f);
  fclose(f);
  cr_assert_eq(sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/m.jsonl --enriched-output - --output %s/w.jsonl "
                  "--dlq-output %s/d.jsonl --no-progress 2>/dev/null", ES_BIN, dir, dir, dir, dir), 0);
  cr_expect(strstr(out, "\"id\":\"en\"") && strstr(out, "\"lang\":\"und\",\"lang_detected\":\"en\""), "%s", out);
  cr_expect(strstr(out, "\"lang_detected\":\"fr\",\"lang_confidence\":0.98,\"lang_reliable\":true"), "%s", out);
  cr_expect(strstr(out, "\"lang_detected\":\"it\""), "%s", out);
  /* English and French are scored (each in its language); Italian has no
   * lexicon: unscored. */
  char *en = strstr(out, "\"id\":\"en\""), *fr = strstr(out, "\"id\":\"fr\""), *it = strstr(out, "\"id\":\"it\""),
       *sh_ = strstr(out, "\"id\":\"short\"");
  cr_assert(en && fr && it && sh_);
  cr_expect(strstr(en, "\"label\":\"negative\"") < fr, "%s", en);
  cr_expect(strstr(fr, "\"label\":\"negative\"") && strstr(fr, "\"label\":\"negative\"") < it, "%s", fr);
  cr_expect(strstr(it, "\"label\":\"unscored\"") && strstr(it, "\"label\":\"unscored\"") < sh_, "%s", it);
  /* Too short to tell: no detected language, the default (English). */
  cr_expect(!strstr(sh_, "lang_detected") || strstr(sh_, "lang_detected") > strstr(sh_, "\n"), "%s", sh_);
  /* A given language is kept, even against the text: English has no word of
   * "les frais de carte sont scandaleux". */
  char *given = strstr(out, "\"id\":\"given\"");
  cr_expect(given && !strstr(given, "lang_detected") && strstr(given, "\"label\":\"neutral\""), "%s", given);
  cr_expect_eq(sh(out, sizeof out, "cat %s/w.jsonl", dir), 0);
  cr_expect(strstr(out, "\"unscored\":1"), "the window counts one unscored mention: %s", out);
  /* Off: every mention without a language is the default language again. */
  sh(NULL, 0, "printf 'sentiment:\n  detect_lang: false\n' > %s/c.yaml", dir);
  cr_assert_eq(sh(out, sizeof out, "%s replay -c %s/c.yaml --queries %s/q.yaml --input %s/m.jsonl --output - "
                  "--dlq-output %s/d.jsonl --no-progress 2>/dev/null", ES_BIN, dir, dir, dir, dir), 0);
  cr_expect(strstr(out, "\"unscored\":0"), "%s", out);
  /* earshot score --lang auto says what it identified, and scores in it. */
  cr_expect_eq(sh(out, sizeof out, "%s score --lang auto 'die Kartengebühr ist eine Frechheit, ich bin sehr enttäuscht'",
                  ES_BIN), 0);
  cr_expect(strstr(out, "language de (confidence") && strstr(out, "label negative"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s score --lang it 'il servizio è stato terribile'", ES_BIN), 0);
  cr_expect(strstr(out, "unscored"), "%s", out);
}

Test(cli, query_terms_are_the_subject_not_the_sentiment_issue21) {
  char out[8192];
  sh(NULL, 0, "printf 'queries:\n  - id: united\n    query: \"united OR @united\"\n  - id: delays\n"
              "    query: \"delay*\"\n' > %s/q.yaml", dir);
  cr_expect_eq(sh(out, sizeof out, "%s score 'flying united today'", ES_BIN), 0);
  cr_expect(strstr(out, "label positive"), "without queries the name scores as praise: %s", out);
  cr_expect_eq(sh(out, sizeof out, "%s score --queries %s/q.yaml 'flying united today, another delay'", ES_BIN, dir), 0);
  cr_expect(strstr(out, "queries matched: united, delays") && strstr(out, "query-term-not-scored") &&
                strstr(out, "label negative"),
            "the name is the subject, the delay (a prefix: a topic) still counts: %s", out);
  cr_expect_eq(sh(out, sizeof out, "printf 'flying united today\\n' | %s score --batch --queries %s/q.yaml", ES_BIN, dir), 0);
  cr_expect(strstr(out, "neutral"), "%s", out);
  sh(NULL, 0, "printf '{\"id\":\"1\",\"ts\":\"2026-01-05T00:00:01Z\",\"text\":\"flying united today\",\"lang\":\"en\"}\n' > %s/m.jsonl",
     dir);
  cr_assert_eq(sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/m.jsonl --enriched-output - --output /dev/null "
                  "--dlq-output %s/d.jsonl --no-progress 2>/dev/null", ES_BIN, dir, dir, dir), 0);
  cr_expect(strstr(out, "\"queries\":[\"united\"],\"sentiment\":{\"compound\":0,\"label\":\"neutral\"}"), "%s", out);
}

Test(cli, score_shows_the_breakdown) {
  char out[8192];
  cr_expect_eq(sh(out, sizeof out, "%s score 'The app is NOT good!'", ES_BIN), 0);
  cr_expect(strstr(out, "label negative"), "%s", out);
  cr_expect(strstr(out, "negation"), "%s", out);
}

Test(cli, version_proves_jemalloc) {
  char out[8192];
  cr_expect_eq(sh(out, sizeof out, "%s version", ES_BIN), 0);
#ifdef ES_NO_JEMALLOC
  cr_expect(strstr(out, "jemalloc disabled in this build"), "%s", out); /* sanitizer builds */
#else
  cr_expect(strstr(out, "jemalloc") && strstr(out, "(in use)"), "%s", out);
#endif
}

/* Languages through the CLI: a Spanish mention is unscored (counted apart,
 * not neutral) until a Spanish layer is given as a data file; a typo in a
 * layer name is a clear error. */
Test(cli, sentiment_languages_and_layers) {
  FILE *f;
  char p[160];
  snprintf(p, sizeof p, "%s/q.yaml", dir);
  cr_assert((f = fopen(p, "w")));
  fputs("queries:\n  - id: service\n    query: servizio OR service\n", f);
  fclose(f);
  snprintf(p, sizeof p, "%s/m.jsonl", dir);
  cr_assert((f = fopen(p, "w")));
  fputs("{\"id\":\"1\",\"ts\":\"2026-01-05T00:00:01Z\",\"text\":\"il servizio è cattivo\",\"lang\":\"it\"}\n"
        "{\"id\":\"2\",\"ts\":\"2026-01-05T00:00:02Z\",\"text\":\"the service is bad\",\"lang\":\"en\"}\n",
        f);
  fclose(f);
  snprintf(p, sizeof p, "%s/it.tsv", dir);
  cr_assert((f = fopen(p, "w")));
  fputs("#! kind lexicon\n#! lang it\n#! layer it-base\ncattivo\t-2.0\nbuono\t1.9\n", f);
  fclose(f);
  char out[4096];
  cr_assert_eq(sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/m.jsonl --no-progress 2>/dev/null", ES_BIN,
                  dir, dir), 0);
  cr_expect(strstr(out, "\"count\":2,\"positive\":0,\"negative\":1,\"neutral\":0,\"unscored\":1"), "%s", out);
  snprintf(p, sizeof p, "%s/c.yaml", dir);
  cr_assert((f = fopen(p, "w")));
  fprintf(f, "sentiment:\n  files: [%s/it.tsv]\n", dir);
  fclose(f);
  cr_assert_eq(sh(out, sizeof out, "%s replay -c %s/c.yaml --queries %s/q.yaml --input %s/m.jsonl --no-progress 2>&1",
                  ES_BIN, dir, dir, dir), 0);
  cr_expect(strstr(out, "\"negative\":2,\"neutral\":0,\"unscored\":0"), "%s", out);
  cr_expect(strstr(out, "it (emoji, it-base"), "the startup log names the languages: %s", out);
  cr_expect_eq(sh(out, sizeof out, "%s replay --layers vader,emoij --queries %s/q.yaml --input %s/m.jsonl 2>&1", ES_BIN,
                  dir, dir), 2);
  cr_expect(strstr(out, "unknown sentiment layer 'emoij' (built in: vader, emoji, afinn, care)"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s score --lang it 'molto cattivo'", ES_BIN), 0);
  cr_expect(strstr(out, "label unscored"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s score --lang es 'muy malo'", ES_BIN), 0);
  cr_expect(strstr(out, "label negative"), "Spanish ships: %s", out);
}

/* A flood: 400 copies of one fee complaint from 400 accounts in one minute,
 * on top of a normal stream. Detection sees the effective volume (copies
 * count once), so the flood is no spike; its window says flood. */
Test(cli, duplicate_flood_is_collapsed_and_flagged) {
  cr_assert_eq(sh(NULL, 0, "%s queries --count 6 -o %s/q.yaml", ES_GEN_BIN, dir), 0);
  cr_assert_eq(sh(NULL, 0, "%s mentions --count 72000 --rate 600 --seed 5 -o %s/m.jsonl", ES_GEN_BIN, dir), 0);
  cr_assert_eq(sh(NULL, 0,
                  "for i in $(seq 1 400); do printf '{\"id\":\"f%%d\",\"ts\":\"2026-01-05T01:30:%%02dZ\",\"text\":\"RT @x: "
                  "this fee is a scam https://t.example/%%d\",\"author\":\"acct%%d\",\"lang\":\"en\"}\\n' $i $((i %% 60)) $i $i; "
                  "done >> %s/m.jsonl",
                  dir), 0);
  /* The flood comes last in the file: a lateness of a day keeps its window open. */
  char out[16384];
  cr_assert_eq(sh(out, sizeof out,
                  "%s replay --queries %s/q.yaml --input %s/m.jsonl --lateness 24h 2>/dev/null | "
                  "grep '\"query\":\"fees\",\"window_start\":\"2026-01-05T01:30:00Z\"'", ES_BIN, dir, dir), 0);
  cr_expect(strstr(out, "\"flood\":true"), "%s", out);
  cr_expect(!strstr(out, "\"class\":\"spike\""), "copies do not make a spike: %s", out);
  const char *e = strstr(out, "\"effective_count\":");
  cr_assert(e, "%s", out);
  cr_expect_lt(atoi(e + 18), 60, "400 copies count once: %s", e);
  cr_expect(strstr(out, "\"count\":4"), "the raw count keeps them (over 400): %s", out);
}

/* An alert on a query that then goes silent still resolves: its empty
 * windows are emitted while the alert is open. */
Test(cli, alert_of_a_silent_query_resolves) {
  char p[160];
  snprintf(p, sizeof p, "%s/q.yaml", dir);
  FILE *f = fopen(p, "w");
  cr_assert(f);
  fputs("queries:\n  - id: card\n    query: card\n  - id: app\n    query: app\n", f);
  fclose(f);
  /* 40 minutes of "card" (10/min) and "app" (10/min), a "card" burst of 200
   * in minute 40, then only "app" for 10 more minutes. Texts differ by a
   * word (digits would not: copies count once). */
  cr_assert_eq(sh(NULL, 0,
                  "w() { echo $1 | tr 0-9 a-j; }; "
                  "for m in $(seq 0 50); do for k in $(seq 0 9); do "
                  "[ $m -lt 40 ] && printf '{\"id\":\"c%%d-%%d\",\"ts\":%%d,\"text\":\"my card works %%s %%s\",\"author\":\"u%%d\"}\\n' $m $k $((1767571200000 + m*60000 + k*5000)) $(w $m) $(w $k) $k; "
                  "printf '{\"id\":\"a%%d-%%d\",\"ts\":%%d,\"text\":\"the app is fine %%s %%s\",\"author\":\"v%%d\"}\\n' $m $k $((1767571200000 + m*60000 + k*5000 + 1)) $(w $m) $(w $k) $k; "
                  "done; [ $m -eq 40 ] && for k in $(seq 1 200); do "
                  "printf '{\"id\":\"b%%d\",\"ts\":%%d,\"text\":\"card declined %%s\",\"author\":\"w%%d\"}\\n' $k $((1767571200000 + m*60000 + k*100 + 2)) $(w $k) $k; done; "
                  "done > %s/m.jsonl; true", dir), 0);
  char out[8192];
  cr_assert_eq(sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/m.jsonl --output /dev/null --lateness 0s "
                  "--alerts-output %s/a.jsonl --no-progress 2>&1 >/dev/null && grep -o '\"state\":\"[a-z]*\"' %s/a.jsonl",
                  ES_BIN, dir, dir, dir, dir), 0);
  cr_expect(strstr(out, "\"state\":\"opened\""), "%s", out);
  cr_expect(strstr(out, "\"state\":\"resolved\""), "the silent query's alert resolves: %s", out);
}

/* Reads stdout of the child line by line until a line contains every
 * needle, failing after 20 s; no sleeping: blocks on the pipe. */
static bool read_until(FILE *f, const char *n1, const char *n2, char *line, size_t cap) {
  while (fgets(line, (int)cap, f))
    if (strstr(line, n1) && (!n2 || strstr(line, n2))) return true;
  return false;
}

/* Early updates through a pipe, as a live dashboard sees them: a window
 * that is still open is reported as it grows (early, not final), then once
 * more when it closes (final, with its detection). The test waits on the
 * engine's output, never on a clock. */
Test(cli, early_updates_of_an_open_window) {
  sh(NULL, 0, "printf 'queries:\\n  - id: fees\\n    query: fee\\n' > %s/q.yaml", dir);
  int in[2], out[2];
  cr_assert_eq(pipe(in), 0);
  cr_assert_eq(pipe(out), 0);
  char q[128], dlq[128];
  snprintf(q, sizeof q, "%s/q.yaml", dir);
  snprintf(dlq, sizeof dlq, "%s/d.jsonl", dir);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    close(in[1]);
    close(out[0]);
    execl(ES_BIN, ES_BIN, "replay", "--queries", q, "--early-updates", "20ms", "--dlq-output", dlq, "--no-progress",
          (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  FILE *w = fdopen(in[1], "w"), *r = fdopen(out[0], "r");
  cr_assert(w && r);
  alarm(20); /* a hang fails the test instead of blocking it */
  char line[8192];
  for (int i = 0; i < 3; i++)
    fprintf(w, "{\"id\":\"m%d\",\"ts\":\"2026-01-05T00:00:0%dZ\",\"text\":\"the fee again\",\"author\":\"u%d\"}\n", i, i, i);
  fflush(w);
  cr_assert(read_until(r, "\"count\":3,", "\"early\":true", line, sizeof line), "no early update with 3 mentions");
  cr_expect(strstr(line, "\"final\":false"), "%s", line);
  cr_expect(!strstr(line, "\"class\""), "early updates carry no detection: %s", line);
  for (int i = 3; i < 5; i++)
    fprintf(w, "{\"id\":\"m%d\",\"ts\":\"2026-01-05T00:00:0%dZ\",\"text\":\"a fee\",\"author\":\"u%d\"}\n", i, i, i);
  fflush(w);
  cr_assert(read_until(r, "\"count\":5,", "\"early\":true", line, sizeof line), "no early update with 5 mentions");
  fclose(w); /* end of input: the window closes */
  cr_assert(read_until(r, "\"count\":5,", "\"final\":true", line, sizeof line), "no final record");
  cr_expect(strstr(line, "\"class\""), "%s", line);
  cr_expect(!strstr(line, "\"early\""), "%s", line);
  cr_expect(!fgets(line, sizeof line, r), "nothing after the final record: %s", line);
  fclose(r);
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  alarm(0);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Issue 15: `earshot detect` over a CSV series: one alert opens at the
 * planted spike; bad rows are skipped, counted and named by line, never
 * fatal. */
Test(cli, detect_csv_opens_one_alert_at_the_spike_and_skips_bad_rows_issue15) {
  char path[128], out[65536];
  snprintf(path, sizeof path, "%s/s.csv", dir);
  FILE *f = fopen(path, "w");
  cr_assert(f);
  fputs("timestamp,value\n", f);
  /* 400 five-minute rows of a gauge around 50 (+-1), a jump to 80 at row 300. */
  for (int i = 0; i < 400; i++) {
    int h = i * 5 / 60, m = i * 5 % 60;
    double v = i == 300 ? 80 : 50 + ((i * 7 + 2) % 5 - 2) * 0.5;
    fprintf(f, "2026-01-%02d %02d:%02d:00,%.1f\n", 1 + h / 24, h % 24, m, v);
    if (i == 100) fputs("2026-01-01 08:22:00,not-a-number\n", f);   /* line 103: a value that is no number */
    if (i == 150) fputs("2026-01-01 12:30:00,50\n", f);             /* repeats row 150's timestamp */
    if (i == 200) fputs("2026-01-01 00:00:00,50\n", f);             /* goes back in time */
    if (i == 250) fputs("yesterday,50\n", f);                        /* no timestamp */
  }
  fclose(f);
  cr_assert_eq(sh(out, sizeof out, "%s detect %s 2>%s/err | grep -c ',opened,'", ES_BIN, path, dir), 0);
  cr_expect_eq(atoi(out), 1, "one alert opened: %s", out);
  cr_assert_eq(sh(out, sizeof out, "%s detect %s 2>/dev/null | grep ',opened,'", ES_BIN, path), 0);
  cr_expect(strstr(out, "2026-01-02 01:00:00,80,spike,") != NULL, "it opens at the spike: %s", out);
  cr_expect(strstr(out, ",opened,") && strstr(out, ",value\n"), "called by the value test: %s", out);
  cr_assert_eq(sh(out, sizeof out, "cat %s/err", dir), 0);
  cr_expect(strstr(out, "rows=400 skipped=4 series=1 values=gauge") != NULL, "%s", out);
  cr_expect(strstr(out, "line 103 skipped: value is not a number") != NULL, "%s", out);
  cr_expect(strstr(out, "timestamp repeats the previous row") != NULL, "%s", out);
  cr_expect(strstr(out, "timestamp goes back in time") != NULL, "%s", out);
  cr_expect(strstr(out, "timestamp not readable") != NULL, "%s", out);
  cr_expect(strstr(out, "alerts_opened=1") != NULL, "%s", out);
  /* The header and one line per usable row. */
  cr_assert_eq(sh(out, sizeof out, "%s detect %s 2>/dev/null | head -1; %s detect %s 2>/dev/null | wc -l", ES_BIN,
                  path, ES_BIN, path), 0);
  cr_expect(strstr(out, "timestamp,value,class,expected,lift,p_value,alert_state,score,test\n401") == out, "%s", out);
}

/* Whole numbers are mention volume only when they vary like counts: a
 * speed in whole miles per hour (steady, under-dispersed) is a gauge; the
 * same level with Poisson-like noise is a count; --values overrides. */
Test(cli, detect_tells_counts_from_integer_gauges_issue15) {
  char out[4096], path[128];
  snprintf(path, sizeof path, "%s/speed.csv", dir);
  FILE *f = fopen(path, "w");
  cr_assert(f);
  for (int i = 0; i < 300; i++) fprintf(f, "%d,%d\n", 1767225600 + 300 * i, 60 + (i * 7 % 3) - 1); /* 59..61 */
  fclose(f);
  cr_assert_eq(sh(out, sizeof out, "%s detect %s 2>&1 >/dev/null", ES_BIN, path), 0);
  cr_expect(strstr(out, "values=gauge") != NULL, "%s", out);
  cr_assert_eq(sh(out, sizeof out, "%s detect --values count %s 2>&1 >/dev/null", ES_BIN, path), 0);
  cr_expect(strstr(out, "values=count") != NULL, "%s", out);
  snprintf(path, sizeof path, "%s/volume.csv", dir);
  f = fopen(path, "w");
  cr_assert(f);
  /* Around 60 a window, spread like mention volume (variance about twice the mean). */
  static const int noise[] = {-12, 7, 3, -9, 11, -2, 5, -6, 14, -10, 1, 8, -4, -13, 9, 0, 6, -8, 12, -3};
  for (int i = 0; i < 300; i++) fprintf(f, "%d,%d\n", 1767225600 + 300 * i, 60 + 3 * noise[(i * 7) % 20] / 2);
  fclose(f);
  cr_assert_eq(sh(out, sizeof out, "%s detect %s 2>&1 >/dev/null", ES_BIN, path), 0);
  cr_expect(strstr(out, "values=count") != NULL, "%s", out);
}

Test(cli, detect_errors_are_clear_issue15) {
  char out[4096];
  cr_expect_eq(sh(out, sizeof out, "printf 't,v\\n2026-01-01T00:00:00Z,1\\n' | %s detect --params nosuch=1 2>&1", ES_BIN), 2);
  cr_expect(strstr(out, "unknown detection parameter 'nosuch'") != NULL, "%s", out);
  cr_expect_eq(sh(out, sizeof out, "printf 't,v\\n' | %s detect --params max_p=7 2>&1", ES_BIN), 2);
  cr_expect(strstr(out, "'max_p' must be a number between 1e-300 and 1, not '7'") != NULL, "%s", out);
  cr_expect_eq(sh(out, sizeof out, "printf 'timestamp,value\\n' | %s detect 2>&1", ES_BIN), 1);
  cr_expect(strstr(out, "has no usable rows") != NULL, "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s detect %s/missing.csv 2>&1", ES_BIN, dir), 1);
  cr_expect(strstr(out, "cannot open") != NULL, "%s", out);
}

/* The engine's own window records, through replay then detect: the same
 * classes and alerts as the replay wrote (the same code path and config). */
Test(cli, detect_on_window_records_agrees_with_replay_issue15) {
  cr_assert_eq(sh(NULL, 0, "%s queries --count 6 -o %s/q.yaml", ES_GEN_BIN, dir), 0);
  cr_assert_eq(sh(NULL, 0, "%s mentions --count 108000 --rate 600 --seed 3 --incident 'fees@2h+20m*8' -o %s/m.jsonl",
                  ES_GEN_BIN, dir), 0);
  cr_assert_eq(sh(NULL, 0, "%s replay --queries %s/q.yaml --input %s/m.jsonl --output %s/w.jsonl 2>/dev/null", ES_BIN,
                  dir, dir, dir), 0);
  char a[65536], b[65536];
  /* (query, window start, class, alert state) from both. */
  cr_assert_eq(sh(a, sizeof a, "grep -o '\"query\":\"[^\"]*\",\"window_start\":\"[^\"]*\"\\|\"class\":\"[a-z_]*\"\\|\"state\":\"[a-z]*\"' %s/w.jsonl "
                  "| tr -d '\\n' | sed 's/\"query\"/\\n&/g' | grep -c '\"state\":\"opened\"'", dir), 0);
  cr_assert_eq(sh(b, sizeof b, "%s detect %s/w.jsonl --format csv 2>/dev/null | grep -c ',opened,'", ES_BIN, dir), 0);
  cr_expect_eq(atoi(a), atoi(b), "alerts opened: replay %s, detect %s", a, b);
  cr_expect_geq(atoi(b), 1, "the planted incident opens an alert");
  cr_assert_eq(sh(a, sizeof a, "grep -o '\"class\":\"[a-z_]*\"' %s/w.jsonl | sort | uniq -c", dir), 0);
  cr_assert_eq(sh(b, sizeof b, "%s detect %s/w.jsonl --format jsonl 2>/dev/null | grep -o '\"class\":\"[a-z_]*\"' | sort | uniq -c",
                  ES_BIN, dir), 0);
  cr_expect_str_eq(a, b, "classes per window agree");
}

/* Issue 15: a stream that carries no authors (volume exported without
 * handles) is judged by its volume: the planted incident still opens an
 * alert, and the records say how many mentions had no author. */
Test(cli, mentions_without_authors_still_alert_issue15) {
  cr_assert_eq(sh(NULL, 0, "%s queries --count 6 -o %s/q.yaml", ES_GEN_BIN, dir), 0);
  /* earshot-gen -o - writes to standard output (issue 19: it made a file named '-'). */
  cr_assert_eq(sh(NULL, 0, "cd %s && %s mentions --count 108000 --rate 600 --seed 3 --incident 'fees@2h+20m*8' -o - "
                  "| sed 's/\"author\":\"[^\"]*\",//' > m.jsonl", dir, ES_GEN_BIN), 0);
  cr_expect_neq(sh(NULL, 0, "test -e %s/-", dir), 0, "no file named '-'");
  char out[4096];
  cr_assert_eq(sh(out, sizeof out, "grep -c '\"author\"' %s/m.jsonl", dir), 1, "no author left: %s", out);
  cr_assert_eq(sh(NULL, 0, "%s replay --queries %s/q.yaml --input %s/m.jsonl --output %s/w.jsonl "
                  "--alerts-output %s/a.jsonl 2>/dev/null", ES_BIN, dir, dir, dir, dir), 0);
  cr_assert_eq(sh(out, sizeof out, "grep '\"state\":\"opened\"' %s/a.jsonl | grep -c '\"query\":\"fees\"'", dir), 0);
  cr_expect_geq(atoi(out), 1, "the fee incident opens an alert: %s", out);
  cr_assert_eq(sh(out, sizeof out, "grep -m1 '\"query\":\"fees\"' %s/w.jsonl", dir), 0);
  cr_expect(strstr(out, "\"unique_authors\":0,\"anonymous\":") != NULL, "%s", out);
}

/* Issue 19 (found by fuzz_query): a text with invalid UTF-8 is repaired
 * before matching, as the decoder does, instead of "matching failed". */
Test(cli, explain_repairs_invalid_utf8_issue19) {
  char out[4096];
  cr_expect_eq(sh(out, sizeof out, "%s query explain 'c' \"$(printf 'CAFE cafE\\x9f\\xc3\\xa9 \\x98\\xa1 c')\" 2>&1",
                  ES_BIN), 0, "%s", out);
  cr_expect(strstr(out, "result:  MATCH") != NULL, "%s", out);
}

/* Issue 19: a full disk under the outputs (/dev/full answers ENOSPC) is a
 * clear error naming the output, and exit status 1. */
Test(cli, full_disk_is_a_clear_error_issue19) {
  cr_assert_eq(sh(NULL, 0, "%s queries --count 6 -o %s/q.yaml && %s mentions --count 20000 --rate 600 --seed 3 -o %s/m.jsonl",
                  ES_GEN_BIN, dir, ES_GEN_BIN, dir), 0);
  char out[8192];
  cr_expect_eq(sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/m.jsonl --output /dev/full 2>&1", ES_BIN,
                  dir, dir), 1);
  cr_expect(strstr(out, "writing the window output failed: No space left on device") != NULL, "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/m.jsonl --output %s/w.jsonl "
                  "--alerts-output /dev/full 2>&1", ES_BIN, dir, dir, dir), 1);
  cr_expect(strstr(out, "the alerts output failed: No space left on device") != NULL, "%s", out);
}

/* Issue 16: log.format json writes one JSON object per line (ts, level,
 * msg, the fields, numbers as numbers), checked by python3's parser; a bad
 * format is a usage error; an HTTP address that is taken is an error when
 * it was asked for. */
Test(cli, json_logs_and_http_flags_issue16) {
  cr_assert_eq(sh(NULL, 0, "%s queries --count 6 -o %s/q.yaml && %s mentions --count 2000 --rate 600 --seed 3 -o %s/m.jsonl",
                  ES_GEN_BIN, dir, ES_GEN_BIN, dir), 0);
  char out[8192];
  cr_expect_eq(sh(out, sizeof out,
                  "%s replay --queries %s/q.yaml --input %s/m.jsonl --output /dev/null --log-format json 2>%s/log.json"
                  " && /usr/bin/python3 -c \"import json,sys; L=[json.loads(x) for x in open('%s/log.json')];"
                  " f=[x for x in L if x['msg']=='finished'][0];"
                  " assert all({'ts','level','msg'} <= set(x) for x in L);"
                  " assert f['lines']==2000 and isinstance(f['seconds'], float) and f['level']=='info';"
                  " print('ok', len(L))\"",
                  ES_BIN, dir, dir, dir, dir),
               0, "%s", out);
  cr_expect(strstr(out, "ok ") != NULL, "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/m.jsonl --log-format xml 2>&1", ES_BIN, dir,
                  dir),
               2);
  cr_expect(strstr(out, "--log-format must be logfmt or json") != NULL, "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/m.jsonl --http 127.0.0.1:99999 2>&1",
                  ES_BIN, dir, dir),
               2);
  cr_expect(strstr(out, "the port must be a number from 0 to 65535") != NULL, "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s replay --queries %s/q.yaml --input %s/m.jsonl --http nohost 2>&1", ES_BIN, dir,
                  dir),
               2);
  cr_expect(strstr(out, "expected HOST:PORT") != NULL, "%s", out);
}

/* Triage through the CLI: route explain says situations, rule, track and
 * why, with exit 0 routed / 1 ignored / 2 errors; score shows situations
 * (a column with --batch); config check validates the triage file;
 * triage records need a triage file. */
Test(cli, triage_explain_score_and_checks_issue20) {
  char out[8192];
  const char *T = ES_TEST_DATA "/triage/conformance.yaml", *Q = ES_TEST_DATA "/triage/queries.yaml";
  cr_expect_eq(sh(out, sizeof out, "%s route explain --triage %s --queries %s --at 2026-12-07T10:00:00Z "
                  "'the monthly fee was charged twice, ridiculous'", ES_BIN, T, Q), 0);
  cr_expect(strstr(out, "queries matched: fees") && strstr(out, "complaint") && strstr(out, "route: fee_complaints") &&
            strstr(out, "why: query fees; situation complaint") && strstr(out, "track: care, priority 2, SLA 1h") &&
            strstr(out, "respond by: 2026-12-07T11:00:00Z"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s route explain --triage %s --queries %s --at 2026-12-07T10:00:00Z --alert fees "
                  "--json 'the monthly fee was charged twice, ridiculous'", ES_BIN, T, Q), 0);
  cr_expect(strstr(out, "\"rule\":\"crisis:fees\"") && strstr(out, "\"via\":\"crisis\"") &&
            strstr(out, "\"respond_by\":\"2026-12-07T10:10:00Z\""), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s route explain --triage %s --queries %s 'click here to make money, free cards' 2>&1",
                  ES_BIN, T, Q), 1);
  cr_expect(strstr(out, "action: ignore: spam"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s route explain --triage /nonexistent.yaml 'x' 2>&1", ES_BIN), 2);
  cr_expect(strstr(out, "/nonexistent.yaml"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "%s score '@acmebank where is my refund? still waiting'", ES_BIN), 0);
  cr_expect(strstr(out, "situations:") && strstr(out, "complaint") && strstr(out, "rule complaint/") &&
            strstr(out, "question"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "printf 'thank you so much, great service\\nplease fix my app it keeps crashing\\n' | "
                  "%s score --batch --situations builtin:en | cut -f6", ES_BIN), 0);
  cr_expect_str_eq(out, "praise\ncomplaint\n");
  cr_expect_eq(sh(out, sizeof out, "printf 'queries: %s\\ntriage: %s\\n' > %s/tc.yaml && %s config check -c %s/tc.yaml",
                  Q, T, dir, ES_BIN, dir), 0);
  cr_expect_eq(sh(out, sizeof out, "printf 'queries: %s\\ntriage: %s/none.yaml\\n' > %s/tc2.yaml && "
                  "%s config check -c %s/tc2.yaml 2>&1", Q, dir, dir, ES_BIN, dir), 2);
  cr_expect(strstr(out, "none.yaml"), "%s", out);
  cr_expect_eq(sh(out, sizeof out, "echo '{\"text\":\"fee\",\"ts\":\"2026-12-07T10:00:00Z\"}' | %s replay --queries %s "
                  "--triage-output - --output /dev/null 2>&1", ES_BIN, Q), 2);
  cr_expect(strstr(out, "triage records need a triage file"), "%s", out);
}
