/* The simdjson shim: parses one mention with simdjson's DOM parser (full
 * validation, UTF-8 included) and resolves the configured field paths.
 * Called by worker threads through decode.c, one es_json per thread. */
#include "json_internal.h"

#include <new>
#include <simdjson.h>

static_assert(simdjson::SIMDJSON_PADDING <= 64, "ES_DECODE_PADDING must cover simdjson's padding");

struct es_json {
  simdjson::dom::parser parser;
};

extern "C" es_json *es__json_create(void) {
  es_json *j = new (std::nothrow) es_json();
  return j;
}

extern "C" void es__json_destroy(es_json *j) { delete j; }

static void convert(simdjson::dom::element v, es_json_value *out) {
  using simdjson::dom::element_type;
  switch (v.type()) {
  case element_type::STRING: {
    std::string_view sv = v.get_string().value_unsafe();
    out->kind = ES_JSON_STRING;
    out->s = sv.data();
    out->n = sv.size();
    break;
  }
  case element_type::INT64:
    out->kind = ES_JSON_INT;
    out->i = v.get_int64().value_unsafe();
    out->d = (double)out->i;
    break;
  case element_type::UINT64: {
    uint64_t u = v.get_uint64().value_unsafe();
    out->kind = ES_JSON_DOUBLE;
    out->d = (double)u;
    break;
  }
  case element_type::DOUBLE:
    out->kind = ES_JSON_DOUBLE;
    out->d = v.get_double().value_unsafe();
    break;
  case element_type::BOOL: out->kind = ES_JSON_BOOL; break;
  case element_type::NULL_VALUE: out->kind = ES_JSON_NULL; break;
  default: out->kind = ES_JSON_OTHER; break;
  }
}

extern "C" int es__json_parse(es_json *j, const char *buf, size_t len, const es_json_path *paths, int npaths,
                              es_json_value *out, const char **err) {
  simdjson::dom::element doc;
  auto e = j->parser.parse(buf, len, false).get(doc);
  if (e) {
    *err = simdjson::error_message(e);
    if (e == simdjson::UTF8_ERROR) return ES_JSON_BAD_UTF8;
    if (e == simdjson::STRING_ERROR) return ES_JSON_BAD_STRING;
    return ES_JSON_MALFORMED;
  }
  if (!doc.is_object()) {
    *err = "the record is not a JSON object";
    return ES_JSON_NOT_OBJECT;
  }
  for (int p = 0; p < npaths; p++) {
    out[p].kind = ES_JSON_MISSING;
    simdjson::dom::element cur = doc;
    bool found = true;
    for (int k = 0; k < paths[p].nkeys && found; k++) {
      simdjson::dom::object obj;
      if (cur.get_object().get(obj) ||
          obj.at_key(std::string_view(paths[p].keys[k], paths[p].lens[k])).get(cur))
        found = false;
    }
    if (found) convert(cur, &out[p]);
  }
  return ES_JSON_OK;
}
