/* The JSON writer every output record goes through: strings escaped as
 * JSON wants (also across the 8-byte runs the writer copies whole),
 * integers and floats as printf would write them. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "earshot/buf.h"

static const char *str(es_buf *b, const char *s, size_t n) {
  es_buf_clear(b);
  es_buf_json_str(b, s, n);
  es_buf_putc(b, 0);
  return b->data;
}

Test(json, strings_are_escaped_anywhere_in_a_run) {
  es_buf b;
  es_buf_init(&b);
  cr_expect_str_eq(str(&b, "", 0), "\"\"");
  cr_expect_str_eq(str(&b, "plain ascii text!", 17), "\"plain ascii text!\"");
  cr_expect_str_eq(str(&b, "say \"hi\"", 8), "\"say \\\"hi\\\"\"");
  cr_expect_str_eq(str(&b, "abcdefg\\", 8), "\"abcdefg\\\\\"", "a backslash as the 8th byte of a run");
  cr_expect_str_eq(str(&b, "abcdefgh\n", 9), "\"abcdefgh\\n\"", "a newline just after a run");
  cr_expect_str_eq(str(&b, "a\tb\rc\x01", 6), "\"a\\tb\\rc\\u0001\"");
  cr_expect_str_eq(str(&b, "\x1f\x7f", 2), "\"\\u001f\x7f\"", "DEL is not escaped");
  cr_expect_str_eq(str(&b, "caf\xc3\xa9 \xf0\x9f\x98\xa1 ok", 13), "\"caf\xc3\xa9 \xf0\x9f\x98\xa1 ok\"", "UTF-8 as is");
  /* every position of a special byte in a 16-byte string */
  for (int pos = 0; pos < 16; pos++) {
    char in[16], want[40];
    memset(in, 'x', sizeof in);
    in[pos] = '"';
    snprintf(want, sizeof want, "\"%.*s\\\"%.*s\"", pos, "xxxxxxxxxxxxxxxx", 15 - pos, "xxxxxxxxxxxxxxxx");
    cr_expect_str_eq(str(&b, in, 16), want, "quote at %d", pos);
  }
  es_buf_free(&b);
}

Test(json, numbers_as_printf_writes_them) {
  es_buf b;
  es_buf_init(&b);
  static const uint64_t u[] = {0, 9, 10, 99, 100, 101, 999, 1000, 123456789, 18446744073709551615ULL};
  for (size_t i = 0; i < sizeof u / sizeof *u; i++) {
    char want[32];
    snprintf(want, sizeof want, "%llu", (unsigned long long)u[i]);
    es_buf_clear(&b);
    es_buf_json_u64(&b, u[i]);
    es_buf_putc(&b, 0);
    cr_expect_str_eq(b.data, want);
  }
  static const double f[] = {0.5, -0.57441, 1, 10, 100, 0.0001, 0.00012345678, 999999.4, 999999.6, 123456.7, 27.8564,
                             4.63075e-61, 1e-5, -3.25, 0.999999, 9.99999e-5};
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
    char want[32];
    snprintf(want, sizeof want, "%.6g", f[i]);
    es_buf_clear(&b);
    es_buf_json_f64(&b, f[i]);
    es_buf_putc(&b, 0);
    cr_expect_str_eq(b.data, want, "%.17g", f[i]);
  }
  es_buf_free(&b);
}
