/* A decoded mention and the decoder that produces it from JSON.
 *
 * Field names are remappable with dotted paths ("data.text"). Strings in an
 * es_mention are views into the decoder's memory: valid until the next call
 * to es_decoder_decode on the same decoder. One decoder per thread. */
#ifndef EARSHOT_MENTION_H
#define EARSHOT_MENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "earshot/error.h"

typedef struct es_str {
  const char *p;
  size_t n;
} es_str;

/* The mention fields, in the order of es_field_names. */
enum es_field { ES_F_ID, ES_F_TS, ES_F_TEXT, ES_F_AUTHOR, ES_F_FOLLOWERS, ES_F_LANG, ES_F_SOURCE, ES_F_IN_REPLY_TO, ES_F_COUNT };
extern const char *const es_field_names[ES_F_COUNT];

/* Why a record was rejected or altered; the names are the `reason` strings
 * of dead-letter records and of the error counters. */
#define ES_REASON_MAP(X)                                                    \
  X(MALFORMED_JSON, "malformed_json", "rejected")                           \
  X(NO_TEXT, "no_text", "rejected")                                         \
  X(NO_TS, "no_ts", "rejected")                                             \
  X(BAD_TS, "bad_ts", "rejected")                                           \
  X(TS_OUT_OF_RANGE, "ts_out_of_range", "rejected")                         \
  X(RECORD_TOO_LONG, "record_too_long", "rejected")                         \
  X(LATE, "late", "rejected")                                               \
  X(INVALID_UTF8, "invalid_utf8", "repaired")                               \
  X(OVERSIZED, "oversized", "truncated")

enum es_reason {
  ES_REASON_NONE = 0,
#define ES__X(id, name, action) ES_REASON_##id,
  ES_REASON_MAP(ES__X)
#undef ES__X
  ES_REASON_COUNT
};
const char *es_reason_name(int reason);   /* "malformed_json", ... */
const char *es_reason_action(int reason); /* "rejected" | "repaired" | "truncated" */

/* Flags on an accepted mention. */
enum {
  ES_MF_REPAIRED_UTF8 = 1u << 0, /* invalid UTF-8 replaced with U+FFFD */
  ES_MF_TRUNCATED = 1u << 1,     /* text cut at max_text_bytes */
  ES_MF_NO_ID = 1u << 2,         /* caller must generate an id */
  ES_MF_ANONYMOUS = 1u << 3,     /* no author */
  ES_MF_RESPONSE = 1u << 4,      /* a response (in_reply_to set): the brand's answer to a mention, not a mention */
};

typedef struct es_mention {
  es_str id, text, author, lang, source;
  es_str in_reply_to; /* a response: the id of the mention it answers (text optional); else empty */
  int64_t ts_ms;
  uint64_t followers;
  uint32_t flags;
} es_mention;

typedef struct es_decode_opts {
  const char *paths[ES_F_COUNT]; /* dotted paths; NULL = default name */
  size_t max_text_bytes;         /* longer texts are truncated and flagged */
  int64_t ts_min_ms, ts_max_ms;  /* accepted event-time range, inclusive */
} es_decode_opts;

void es_decode_opts_default(es_decode_opts *o);

/* Bytes that must be readable after every input line (SIMD parsing reads
 * ahead); their content does not matter. */
#define ES_DECODE_PADDING 64

typedef struct es_decoder es_decoder;
/* Copies what it needs from `o`. NULL on OOM or a bad path (diag says). */
es_decoder *es_decoder_create(const es_decode_opts *o, es_diag *diag);
void es_decoder_destroy(es_decoder *d); /* NULL-safe */

/* Decodes one record. `line` must be followed by ES_DECODE_PADDING readable
 * bytes. `fallback_ts_ms` is used when the record has no ts (pass INT64_MIN
 * when there is none: the record is rejected with ES_REASON_NO_TS).
 * Returns ES_REASON_NONE and fills *m (check m->flags for repairs), or a
 * rejection reason with a short explanation in detail[] (NUL-terminated). */
int es_decoder_decode(es_decoder *d, const char *line, size_t len, int64_t fallback_ts_ms, es_mention *m,
                      char detail[160]);

/* UTF-8 helpers (engine/decode/utf8.c). */
/* Length of the longest valid UTF-8 prefix of s[0..n). */
size_t es_utf8_valid_prefix(const char *s, size_t n);
/* Copies s to out (capacity >= 3*n), replacing each invalid sequence with
 * U+FFFD; returns bytes written. */
size_t es_utf8_repair(const char *s, size_t n, char *out);
/* Largest k <= max such that s[0..k) does not end inside a UTF-8 sequence. */
size_t es_utf8_truncate(const char *s, size_t n, size_t max);

#endif
