/* Language identification of a text (CLD2), for mentions that arrive with
 * no language (no `lang`, or `und`). Thread-safe, no state. */
#ifndef EARSHOT_LANGID_H
#define EARSHOT_LANGID_H

#include <stdbool.h>
#include <stddef.h>

typedef struct es_langid {
  char code[16];    /* ISO 639-1 where there is one ("en", "fr"), else CLD2's code; "" when unknown */
  float confidence; /* share of the text's letters in that language, 0-1 */
  bool reliable;    /* CLD2's own verdict: enough text, and a clear lead over the second language */
} es_langid;

/* Identifies the language of UTF-8 text. out->code is "" when no
 * language could be told (too little text, digits and emoji only). */
void es_langid_detect(const char *text, size_t n, es_langid *out);

/* The language a mention is scored in: its own `lang` when it has one
 * other than "und"; otherwise, when `detect`, the identified language if
 * CLD2 calls it reliable (`id` filled; id->code "" when detection did not
 * run); otherwise "" (the lexicon's default language). *out_n is the
 * returned code's length. */
const char *es_langid_pick(const char *lang, size_t ln, const char *text, size_t n, bool detect, es_langid *id,
                           size_t *out_n);

#endif
