#define _GNU_SOURCE
/* The decoder: field mapping, timestamps, and every rejection or repair
 * reason with its detail. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "earshot/mem.h"
#include "earshot/mention.h"

static es_decoder *dec;
static es_decode_opts opts;
static char buf[1 << 16];

static void setup(void) {
  es_decode_opts_default(&opts);
  opts.max_text_bytes = 64;
  dec = es_decoder_create(&opts, NULL);
  cr_assert(dec);
}
static void teardown(void) { es_decoder_destroy(dec); }

/* Copies the record into a padded buffer, as the pipeline's batches are. */
static int decode(const char *json, es_mention *m, char *detail) {
  size_t n = strlen(json);
  memcpy(buf, json, n);
  memset(buf + n, ' ', ES_DECODE_PADDING);
  return es_decoder_decode(dec, buf, n, INT64_MIN, m, detail);
}

TestSuite(decode, .init = setup, .fini = teardown);

Test(decode, all_fields) {
  es_mention m;
  char detail[160];
  int r = decode("{\"id\":\"m1\",\"ts\":\"2026-01-05T00:00:01Z\",\"text\":\"Hello \\\"world\\\" \\u00e9\","
                 "\"author\":\"ann\",\"followers\":1200,\"lang\":\"en\",\"source\":\"reddit\",\"extra\":[1,2]}",
                 &m, detail);
  cr_assert_eq(r, ES_REASON_NONE, "%s", detail);
  cr_expect_eq(m.ts_ms, 1767571201000LL);
  cr_expect_eq(m.text.n, strlen("Hello \"world\" \xc3\xa9"));
  cr_expect(!memcmp(m.text.p, "Hello \"world\" \xc3\xa9", m.text.n));
  cr_expect(m.author.n == 3 && !memcmp(m.author.p, "ann", 3));
  cr_expect_eq(m.followers, 1200);
  cr_expect(m.lang.n == 2 && !memcmp(m.lang.p, "en", 2));
  cr_expect(m.source.n == 6 && !memcmp(m.source.p, "reddit", 6));
  cr_expect(m.id.n == 2 && !memcmp(m.id.p, "m1", 2));
  cr_expect_eq(m.flags, 0);
}

Test(decode, defaults_for_missing_optional_fields) {
  es_mention m;
  char detail[160];
  cr_assert_eq(decode("{\"ts\":1767571200000,\"text\":\"hi there\"}", &m, detail), ES_REASON_NONE);
  cr_expect(m.flags & ES_MF_NO_ID);
  cr_expect(m.flags & ES_MF_ANONYMOUS);
  cr_expect(m.lang.n == 3 && !memcmp(m.lang.p, "und", 3));
  cr_expect(m.source.n == 7 && !memcmp(m.source.p, "unknown", 7));
  cr_expect_eq(m.followers, 0);
  cr_expect_eq(m.ts_ms, 1767571200000LL);
}

Test(decode, timestamps_in_every_accepted_form) {
  es_mention m;
  char detail[160];
  cr_expect(decode("{\"ts\":\"1767571200000\",\"text\":\"x\"}", &m, detail) == 0 && m.ts_ms == 1767571200000LL);
  cr_expect(decode("{\"ts\":1767571200000.7,\"text\":\"x\"}", &m, detail) == 0 && m.ts_ms == 1767571200000LL);
  cr_expect(decode("{\"ts\":\"2026-01-05T01:00:00+01:00\",\"text\":\"x\"}", &m, detail) == 0 &&
            m.ts_ms == 1767571200000LL);
}

Test(decode, reasons) {
  struct {
    const char *json;
    int reason;
    const char *detail_has;
  } cases[] = {
    {"{\"ts\":1767571200000,\"text\":\"x\"", ES_REASON_MALFORMED_JSON, ""},
    {"not json at all", ES_REASON_MALFORMED_JSON, ""},
    {"[1,2,3]", ES_REASON_MALFORMED_JSON, "not a JSON object"},
    {"{\"ts\":1767571200000}", ES_REASON_NO_TEXT, "missing"},
    {"{\"ts\":1767571200000,\"text\":\"\"}", ES_REASON_NO_TEXT, "empty"},
    {"{\"ts\":1767571200000,\"text\":42}", ES_REASON_NO_TEXT, "not a string"},
    {"{\"text\":\"hello\"}", ES_REASON_NO_TS, "missing"},
    {"{\"ts\":\"last tuesday\",\"text\":\"hello\"}", ES_REASON_BAD_TS, "RFC 3339"},
    {"{\"ts\":true,\"text\":\"hello\"}", ES_REASON_BAD_TS, ""},
    {"{\"ts\":5,\"text\":\"hello\"}", ES_REASON_TS_OUT_OF_RANGE, "outside"},
    {"{\"ts\":\"2150-01-01T00:00:00Z\",\"text\":\"hello\"}", ES_REASON_TS_OUT_OF_RANGE, "outside"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    es_mention m;
    char detail[160];
    int r = decode(cases[i].json, &m, detail);
    cr_expect_eq(r, cases[i].reason, "case %zu (%s): got %s", i, cases[i].json, es_reason_name(r));
    cr_expect(strstr(detail, cases[i].detail_has), "case %zu detail '%s' lacks '%s'", i, detail, cases[i].detail_has);
  }
}

Test(decode, invalid_utf8_is_repaired_not_rejected) {
  es_mention m;
  char detail[160];
  int r = decode("{\"ts\":1767571200000,\"text\":\"bad \xff\xfe bytes \xc3\"}", &m, detail);
  cr_assert_eq(r, ES_REASON_NONE, "%s", detail);
  cr_expect(m.flags & ES_MF_REPAIRED_UTF8);
  cr_expect_eq(es_utf8_valid_prefix(m.text.p, m.text.n), m.text.n);
  cr_expect(memmem(m.text.p, m.text.n, "\xef\xbf\xbd", 3) != NULL);
}

Test(decode, lone_surrogate_escape_is_repaired) {
  es_mention m;
  char detail[160];
  int r = decode("{\"ts\":1767571200000,\"text\":\"cut emoji \\ud83d here\"}", &m, detail);
  cr_assert_eq(r, ES_REASON_NONE, "%s", detail);
  cr_expect(m.flags & ES_MF_REPAIRED_UTF8);
  cr_expect(memmem(m.text.p, m.text.n, "\xef\xbf\xbd", 3) != NULL);
}

Test(decode, oversized_text_is_truncated_on_a_code_point) {
  es_mention m;
  char detail[160], json[512];
  /* 63 ASCII bytes then a 2-byte character straddling the 64-byte limit. */
  snprintf(json, sizeof json, "{\"ts\":1767571200000,\"text\":\"%.*s\xc3\xa9 and more\"}", 63,
           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  cr_assert_eq(decode(json, &m, detail), ES_REASON_NONE);
  cr_expect(m.flags & ES_MF_TRUNCATED);
  cr_expect_eq(m.text.n, 63);
  cr_expect(strstr(detail, "truncated"));
}

Test(decode, dotted_path_mapping) {
  es_decoder_destroy(dec);
  es_decode_opts o;
  es_decode_opts_default(&o);
  o.paths[ES_F_TEXT] = "data.body.text";
  o.paths[ES_F_AUTHOR] = "user.handle";
  o.paths[ES_F_TS] = "created_at";
  dec = es_decoder_create(&o, NULL);
  cr_assert(dec);
  es_mention m;
  char detail[160];
  int r = decode("{\"created_at\":\"2026-01-05T00:00:00Z\",\"data\":{\"body\":{\"text\":\"nested\"}},"
                 "\"user\":{\"handle\":\"bob\"}}",
                 &m, detail);
  cr_assert_eq(r, ES_REASON_NONE, "%s", detail);
  cr_expect(m.text.n == 6 && !memcmp(m.text.p, "nested", 6));
  cr_expect(m.author.n == 3 && !memcmp(m.author.p, "bob", 3));
  cr_expect_eq(decode("{\"created_at\":\"2026-01-05T00:00:00Z\",\"data\":{\"body\":\"flat\"}}", &m, detail),
               ES_REASON_NO_TEXT);
}

Test(decode, bad_path_is_a_config_error) {
  es_decode_opts o;
  es_decode_opts_default(&o);
  o.paths[ES_F_TEXT] = "data..text";
  es_diag d = {{0}};
  cr_expect_null(es_decoder_create(&o, &d));
  cr_expect(strstr(d.msg, "data..text"), "%s", d.msg);
}

Test(utf8, helpers) {
  cr_expect_eq(es_utf8_valid_prefix("abc\xc3\xa9", 5), 5);
  cr_expect_eq(es_utf8_valid_prefix("ab\xc0\xaf", 4), 2);          /* overlong */
  cr_expect_eq(es_utf8_valid_prefix("a\xed\xa0\x80", 4), 1);       /* surrogate */
  cr_expect_eq(es_utf8_valid_prefix("a\xf4\x90\x80\x80", 5), 1);   /* above U+10FFFF */
  char out[64];
  size_t n = es_utf8_repair("a\xffz", 3, out);
  cr_expect(n == 5 && !memcmp(out, "a\xef\xbf\xbdz", 5));
  cr_expect_eq(es_utf8_truncate("ab\xe2\x82\xac", 5, 4), 2);
  cr_expect_eq(es_utf8_truncate("ab\xe2\x82\xac", 5, 5), 5);
}

/* A response (in_reply_to: the brand's answer to a mention) needs no text;
 * a mention still does; a numeric id is taken too. */
Test(decode, responses_need_no_text_issue20) {
  es_mention m;
  char detail[160];
  cr_assert_eq(decode("{\"in_reply_to\":\"m1\",\"ts\":\"2026-12-07T10:20:00Z\"}", &m, detail), ES_REASON_NONE, "%s",
               detail);
  cr_expect(m.flags & ES_MF_RESPONSE);
  cr_expect(m.in_reply_to.n == 2 && !memcmp(m.in_reply_to.p, "m1", 2));
  cr_expect_eq(m.text.n, 0);
  cr_assert_eq(decode("{\"in_reply_to\":42,\"ts\":\"2026-12-07T10:20:00Z\",\"text\":\"sorted, sorry\"}", &m, detail),
               ES_REASON_NONE);
  cr_expect(m.in_reply_to.n == 2 && !memcmp(m.in_reply_to.p, "42", 2));
  cr_expect(m.text.n == 13);
  cr_expect_eq(decode("{\"in_reply_to\":\"m1\"}", &m, detail), ES_REASON_NO_TS, "a response needs its time");
  cr_expect_eq(decode("{\"in_reply_to\":\"\",\"ts\":\"2026-12-07T10:20:00Z\"}", &m, detail), ES_REASON_NO_TEXT,
               "an empty in_reply_to is a mention, which needs a text");
  cr_expect_eq(decode("{\"ts\":\"2026-12-07T10:20:00Z\",\"text\":\"hi\"}", &m, detail), ES_REASON_NONE);
  cr_expect_not(m.flags & ES_MF_RESPONSE);
}
