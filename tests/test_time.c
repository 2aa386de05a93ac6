/* Timestamps and durations: RFC 3339 parsing with zones and fractions,
 * formatting, durations with units. */
#include <criterion/criterion.h>
#include <string.h>

#include "earshot/error.h"
#include "earshot/timeutil.h"

static int64_t parse(const char *s) {
  int64_t ms = 0;
  cr_assert_eq(es_time_parse_rfc3339(s, strlen(s), &ms), 0, "should parse: %s", s);
  return ms;
}

Test(time, rfc3339_forms) {
  cr_expect_eq(parse("1970-01-01T00:00:00Z"), 0);
  cr_expect_eq(parse("2026-01-05T00:00:00Z"), 1767571200000LL);
  cr_expect_eq(parse("2026-01-05T00:00:00.250Z"), 1767571200250LL);
  cr_expect_eq(parse("2026-01-05T02:00:00+02:00"), 1767571200000LL);
  cr_expect_eq(parse("2026-01-04T19:00:00-05:00"), 1767571200000LL);
  cr_expect_eq(parse("2026-01-05 00:00:00z"), 1767571200000LL);
  cr_expect_eq(parse("2024-02-29T12:00:00Z"), 1709208000000LL);
}

Test(time, rfc3339_rejects) {
  const char *bad[] = {"", "2026-01-05", "2026-01-05T00:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                       "2026-01-05T24:00:00Z", "2026-01-05T00:00:00.Z", "2026-01-05T00:00:00Zjunk", "yesterday",
                       "2026-01-05T00:00:00+2:00"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int64_t ms;
    cr_expect_eq(es_time_parse_rfc3339(bad[i], strlen(bad[i]), &ms), ES_EINVAL, "should reject '%s'", bad[i]);
  }
}

Test(time, format_round_trip) {
  char buf[32];
  es_time_format_rfc3339(1767571200000LL, buf);
  cr_expect_str_eq(buf, "2026-01-05T00:00:00Z");
  es_time_format_rfc3339(1767571200250LL, buf);
  cr_expect_str_eq(buf, "2026-01-05T00:00:00.250Z");
  es_time_format_rfc3339(-1000, buf);
  cr_expect_str_eq(buf, "1969-12-31T23:59:59Z");
  for (int64_t t = 946684800000LL; t < 4102444800000LL; t += 86400000LL * 37 + 12345) {
    size_t n = es_time_format_rfc3339(t, buf);
    int64_t back;
    cr_assert_eq(es_time_parse_rfc3339(buf, n, &back), 0);
    cr_assert_eq(back, t, "%s", buf);
  }
}

Test(time, durations) {
  int64_t ms;
  cr_expect(es_duration_parse("60s", &ms) == 0 && ms == 60000);
  cr_expect(es_duration_parse("250ms", &ms) == 0 && ms == 250);
  cr_expect(es_duration_parse("1.5m", &ms) == 0 && ms == 90000);
  cr_expect(es_duration_parse("2h", &ms) == 0 && ms == 7200000);
  cr_expect(es_duration_parse("1d", &ms) == 0 && ms == 86400000);
  cr_expect(es_duration_parse("30", &ms) == 0 && ms == 30000);
  cr_expect_eq(es_duration_parse("", &ms), ES_EINVAL);
  cr_expect_eq(es_duration_parse("-5s", &ms), ES_EINVAL);
  cr_expect_eq(es_duration_parse("5 parsecs", &ms), ES_EINVAL);
}
