// Language identification of a mention's text with CLD2 (Debian
// libcld2: Compact Language Detector 2, n-gram scoring over 80+
// languages). Called by the workers for matched mentions that arrive
// without a language; stateless and thread-safe (CLD2 keeps no state
// between calls). See include/earshot/langid.h.
#include <cstdio>  // before CLD2: its header uses FILE without including it
#include <cld2/public/compact_lang_det.h>

#include <cstring>

extern "C" {
#include "earshot/langid.h"
}

extern "C" void es_langid_detect(const char *text, size_t n, es_langid *out) {
  std::memset(out, 0, sizeof *out);
  if (!text || !n) return;
  // CLD2 reads at most INT_MAX bytes; a mention is far below (ES_TEXT_MAX).
  int len = n > 1u << 20 ? 1 << 20 : (int)n;
  CLD2::Language lang3[3];
  int percent3[3];
  double score3[3];
  int text_bytes = 0;
  bool reliable = false;
  CLD2::ExtDetectLanguageSummary(text, len, true /* plain text */, nullptr /* no hints */, 0, lang3, percent3,
                                 score3, nullptr, &text_bytes, &reliable);
  CLD2::Language top = lang3[0];
  if (top == CLD2::UNKNOWN_LANGUAGE || top == CLD2::TG_UNKNOWN_LANGUAGE || text_bytes == 0) return;
  const char *code = CLD2::LanguageCode(top);
  if (!code || !*code || !std::strcmp(code, "un")) return;
  std::snprintf(out->code, sizeof out->code, "%s", code);
  out->confidence = (float)percent3[0] / 100.0f;
  out->reliable = reliable;
}

extern "C" const char *es_langid_pick(const char *lang, size_t ln, const char *text, size_t n, bool detect,
                                      es_langid *id, size_t *out_n) {
  std::memset(id, 0, sizeof *id);
  bool und = ln == 3 && (lang[0] | 0x20) == 'u' && (lang[1] | 0x20) == 'n' && (lang[2] | 0x20) == 'd';
  if (ln && !und) {
    *out_n = ln;
    return lang;
  }
  if (detect) {
    es_langid_detect(text, n, id);
    if (id->reliable && id->code[0]) {
      *out_n = std::strlen(id->code);
      return id->code;
    }
  }
  *out_n = 0;
  return "";
}
