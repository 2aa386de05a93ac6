// JSON decode candidates on mention JSON: simdjson (DOM), jansson, cJSON.
// Each parses every line of a JSONL corpus and extracts the seven mention
// fields the engine needs (the same work the decoder does), reporting MB/s
// and mentions/s. Also a memchr line scan of the same bytes as the ceiling,
// and earshot's own decoder stage (es_decoder_decode: the chosen library
// plus validation, UTF-8 checks, timestamps, limits), which is compared with
// the library alone: simdjson and the decoder run in 5 alternating rounds,
// each keeping its best.
//   usage: json_decode_bench FILE.jsonl
#include <simdjson.h>
#include <jansson.h>
#include <cjson/cJSON.h>
extern "C" {
#include "earshot/mention.h"
}

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

static const char *fields[] = {"id", "ts", "text", "author", "followers", "lang", "source"};

struct corpus { std::string data; std::vector<std::pair<size_t, size_t>> lines; };

static double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s FILE.jsonl\n", argv[0]); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  corpus c;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) c.data.append(buf, n);
  fclose(f);
  c.data.append(simdjson::SIMDJSON_PADDING, '\0');
  size_t total = c.data.size() - simdjson::SIMDJSON_PADDING;
  for (size_t s = 0; s < total;) {
    const char *nl = (const char *)memchr(c.data.data() + s, '\n', total - s);
    size_t e = nl ? (size_t)(nl - c.data.data()) : total;
    if (e > s) c.lines.push_back({s, e - s});
    s = e + 1;
  }
  double mb = total / 1e6;
  size_t sink = 0;

  double t0 = now();
  for (auto &l : c.lines) sink += memchr(c.data.data() + l.first, '"', l.second) != nullptr;
  double t_scan = now() - t0;

  simdjson::dom::parser sp;
  es_decode_opts o;
  es_decode_opts_default(&o);
  es_diag d{};
  es_decoder *dec = es_decoder_create(&o, &d);
  if (!dec) { fprintf(stderr, "decoder: %s\n", d.msg); return 1; }
  double t_simd = 1e30, t_earshot = 1e30;
  size_t rejected = 0;
  for (int round = 0; round < 5; round++) {
    t0 = now();
    for (auto &l : c.lines) {
      simdjson::dom::element doc;
      if (sp.parse(c.data.data() + l.first, l.second, false).get(doc)) continue;
      for (const char *k : fields) {
        simdjson::dom::element v;
        if (!doc[k].get(v)) {
          std::string_view sv;
          if (!v.get_string().get(sv)) sink += sv.size();
          else sink += 1;
        }
      }
    }
    double t = now() - t0;
    if (t < t_simd) t_simd = t;
    rejected = 0;
    t0 = now();
    for (auto &l : c.lines) { /* in place: the next line or the padding follows each one */
      es_mention m;
      char detail[160];
      if (es_decoder_decode(dec, c.data.data() + l.first, l.second, 0, &m, detail) != ES_REASON_NONE) rejected++;
      else sink += m.text.n;
    }
    t = now() - t0;
    if (t < t_earshot) t_earshot = t;
  }
  es_decoder_destroy(dec);

  t0 = now();
  for (auto &l : c.lines) {
    json_error_t err;
    json_t *doc = json_loadb(c.data.data() + l.first, l.second, 0, &err);
    if (!doc) continue;
    for (const char *k : fields) {
      json_t *v = json_object_get(doc, k);
      if (json_is_string(v)) sink += json_string_length(v);
      else if (v) sink += 1;
    }
    json_decref(doc);
  }
  double t_jansson = now() - t0;

  t0 = now();
  for (auto &l : c.lines) {
    cJSON *doc = cJSON_ParseWithLength(c.data.data() + l.first, l.second);
    if (!doc) continue;
    for (const char *k : fields) {
      cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, k);
      if (cJSON_IsString(v)) sink += strlen(v->valuestring);
      else if (v) sink += 1;
    }
    cJSON_Delete(doc);
  }
  double t_cjson = now() - t0;

  size_t nl = c.lines.size();
  printf("corpus: %zu mentions, %.1f MB (sink %zu, rejected by the decoder %zu)\n", nl, mb, sink, rejected);
  printf("%-22s %10s %14s %12s\n", "decoder", "MB/s", "mentions/s", "vs simdjson");
  auto row = [&](const char *name, double t) {
    printf("%-22s %10.0f %14.0f %11.2fx\n", name, mb / t, nl / t, t_simd / t);
  };
  row("memchr scan (ceiling)", t_scan);
  row("simdjson 3.0.1 DOM", t_simd);
  row("jansson 2.14", t_jansson);
  row("cJSON 1.7.15", t_cjson);
  row("earshot decoder stage", t_earshot);
  return 0;
}
