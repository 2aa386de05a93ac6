/* Triage: what a matched mention is about (situations) and who should act
 * on it (routes).
 *
 * Situations are rules shipped as data (models/situations/en, and the
 * user's own files): each rule is an expression of the query language,
 * matched against the mention's words (engine/triage/sitmatch.c says why
 * not in the queries' Hyperscan pass), and/or a condition on the
 * mention's sentiment. A
 * mention gets every situation one of its rules holds for, each with its
 * evidence (the rule and the words it matched), less the situations a
 * `#! unless` line drops in the presence of another ("praise" unless
 * "complaint").
 *
 * Routes come from a triage file (YAML, see the README "Triage"): tracks
 * with their SLA, capacity per hour and overflow track; an ordered list of
 * routes (first match wins) with a condition over query ids, situations,
 * sentiment, author lists, followers, lang and source, and an action
 * (`route` to a track with a priority and an SLA, or `ignore` with a
 * reason); crisis overrides that apply while a query has an open alert;
 * office hours with a time zone, outside which routed mentions go to the
 * off-hours track. The static part of a route (the condition) is decided
 * by the worker that scored the mention; crisis, hours and overflow, which
 * depend on the alert state, the event time and what came before, by the
 * aggregator in input order (es_triage_decide), so triage records are
 * deterministic like the windows.
 *
 * Loaded once (main thread); read-only and shared by every thread after. */
#ifndef EARSHOT_TRIAGE_H
#define EARSHOT_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/query.h"
#include "earshot/sentiment.h"

#define ES_SITUATIONS_MAX 32      /* distinct situations (a mention's are a 32-bit mask) */
#define ES_SITUATION_NAME_MAX 32  /* bytes of a situation name, NUL included */
#define ES_SITUATION_EVIDENCE 8   /* words of evidence kept per situation */

/* ---- situations ---- */

typedef struct es_situations es_situations;

/* Loads rule files: each path a .tsv file, a directory whose *.tsv files
 * are read in name order, or "builtin:en" (the shipped English rules,
 * models/situations/en/situations.tsv, compiled into the binary). Errors
 * name file:line and what to write. */
es_situations *es_situations_load(const char *const *paths, size_t n, int *err, es_diag *d);
/* The same from a rules file's text (`name` for messages). */
es_situations *es_situations_parse(const char *name, const char *text, int *err, es_diag *d);
void es_situations_destroy(es_situations *S); /* NULL-safe */
size_t es_situations_count(const es_situations *S);      /* distinct situations */
const char *es_situation_name(const es_situations *S, size_t i);
/* The situation called name[0..n), or -1. */
int es_situation_find(const es_situations *S, const char *name, size_t n);
/* Per-thread matching state. */
typedef struct es_situations_rt es_situations_rt;
es_situations_rt *es_situations_rt_create(const es_situations *S);
void es_situations_rt_destroy(es_situations_rt *rt); /* NULL-safe */

/* One situation a mention has, with the rule that gave it. */
typedef struct es_situation_hit {
  uint8_t situation;
  uint16_t rule;  /* index among the set's rules (es_situation_rule_id) */
} es_situation_hit;
const char *es_situation_rule_id(const es_situations *S, size_t rule); /* "complaint/charged" */

/* The situations of a text (folded: es_fold_text, as the queries see it)
 * with its metadata (field filters; may be NULL) and sentiment. Writes one
 * hit per situation (its first rule in file order that holds), at most
 * ES_SITUATIONS_MAX, and returns the mask of situations. */
uint32_t es_situations_eval(const es_situations *S, es_situations_rt *rt, const char *folded, size_t n,
                            const es_match_meta *meta, const es_sentiment *s, es_situation_hit *hits, size_t *nhits);
/* The evidence of hit h of the text just evaluated: the words of the text
 * its rule matched (outside any NOT; a regex's pattern, a field filter as
 * written), then the sentiment condition; at most cap, as (pointer,
 * length) pairs into the text or the rules. */
size_t es_situation_evidence(const es_situations *S, const es_situations_rt *rt, const es_situation_hit *h,
                             const char **words, size_t *lens, size_t cap);
/* `"situations":[{"situation":..,"rule":..,"evidence":[..]},...]` */
void es_situations_json(es_buf *b, const es_situations *S, const es_situations_rt *rt, const es_situation_hit *hits,
                        size_t nhits);

/* ---- routes ---- */

#define ES_TRIAGE_MAX_TRACKS 32
#define ES_TRIAGE_MAX_ROUTES 64
#define ES_TRIAGE_MAX_CRISIS 32
#define ES_TRIAGE_MAX_LISTS 32
#define ES_TRIAGE_MAX_FILES 50 /* the triage file, 32 lists, 16 situation paths, builtin excluded */

typedef struct es_triage es_triage;

/* Loads a triage file (YAML). Relative paths in it (rule files, author
 * lists) are relative to the file; `situations:` defaults to builtin:en.
 * Errors name file:line. Main thread, before other threads start. */
es_triage *es_triage_load(const char *path, int *err, es_diag *d);
/* The same beside running threads (hot reload): office hours keep the
 * running file's time zone (read from tzdata at start); a file naming
 * another one is refused (a time zone change needs a restart). */
es_triage *es_triage_reload(const char *path, const es_triage *running, int *err, es_diag *d);
void es_triage_destroy(es_triage *t); /* NULL-safe */
const es_situations *es_triage_situations(const es_triage *t);
size_t es_triage_track_count(const es_triage *t);
const char *es_triage_track_name(const es_triage *t, size_t i);
size_t es_triage_crisis_count(const es_triage *t);
const char *es_triage_crisis_query(const es_triage *t, size_t k); /* the query id crisis override k watches */
/* The files the triage was read from (the triage file first, then its
 * author lists and situation rule files or directories). */
size_t es_triage_files(const es_triage *t, const char *const **files);
const char *es_triage_off_hours_track(const es_triage *t); /* NULL: no office hours */
const char *es_triage_timezone(const es_triage *t);

/* The routes bound to one query set (query ids to indices): made when a
 * set is adopted, read by any thread. */
typedef struct es_triage_bound es_triage_bound;
es_triage_bound *es_triage_bind(const es_triage *t, const es_queryset *qs);
void es_triage_unbind(es_triage_bound *b); /* NULL-safe */
/* Query set index of crisis override k's query (-1: no such query). */
int64_t es_triage_bound_crisis_query(const es_triage_bound *b, size_t k);

/* What the worker knows of a mention for routing. */
typedef struct es_triage_in {
  const es_queryset *qs;
  const uint32_t *queries; /* matched query indices */
  size_t nqueries;
  uint32_t situations;     /* mask */
  int label;               /* enum es_label */
  double compound;
  const char *author, *lang, *source;
  size_t author_n, lang_n, source_n;
  uint64_t followers;
} es_triage_in;

/* The author lists (bit i: list i) a handle is in (case-insensitive,
 * without a leading @). */
uint32_t es_triage_author_lists(const es_triage *t, const char *author, size_t n);

/* The static part of the decision (the worker's): the first route whose
 * condition holds (-1: none), and the crisis overrides whose query the
 * mention matched and whose condition holds (a mask; each applies while
 * its query's alert is open). */
typedef struct es_triage_pre {
  int32_t route;
  uint32_t crisis;
} es_triage_pre;
void es_triage_pre_eval(const es_triage *t, const es_triage_bound *b, const es_triage_in *in, es_triage_pre *out);

enum es_triage_action { ES_TRIAGE_NONE, ES_TRIAGE_ROUTE, ES_TRIAGE_IGNORE };
enum es_triage_via { ES_VIA_ROUTE, ES_VIA_CRISIS, ES_VIA_OFF_HOURS, ES_VIA_OVERFLOW };

/* The decision. */
typedef struct es_triage_out {
  int action;            /* enum es_triage_action; NONE: no route matched */
  int via;               /* enum es_triage_via: why the track is this one */
  int32_t rule;          /* route index, or crisis index when via is CRISIS */
  int32_t track;         /* ROUTE: index of the track */
  int32_t asked_track;   /* the track the rule named (before hours and overflow) */
  int priority;          /* 1 (most urgent) .. 5 */
  int64_t sla_ms;
  int64_t respond_by_ms; /* event time + SLA */
  const char *reason;    /* IGNORE: why not to respond */
} es_triage_out;

/* The aggregator's state: per track, mentions routed per event-time hour
 * (overflow), and counters. */
typedef struct es_triage_state es_triage_state;
es_triage_state *es_triage_state_create(const es_triage *t);
void es_triage_state_destroy(es_triage_state *s); /* NULL-safe */
/* The triage file was reloaded (from -> to): per-track state follows its
 * track by name; a track no longer named loses its state. */
void es_triage_state_retrack(es_triage_state *s, const es_triage *from, const es_triage *to);
/* The full decision for a mention at event time ts: a crisis override whose
 * query has an open alert (`alert_open(ctx, crisis index)`) first, else the
 * route; outside office hours the off-hours track (routes only); past a
 * track's capacity in the event-time hour its overflow track. Counts into
 * the state. */
void es_triage_decide(const es_triage *t, es_triage_state *s, const es_triage_pre *pre, int64_t ts_ms,
                      bool (*alert_open)(void *ctx, size_t crisis), void *ctx, es_triage_out *out);
typedef struct es_triage_counts {
  uint64_t routed, ignored, unrouted, crisis, off_hours, overflowed;
  uint64_t responses;         /* answers matched to a routed mention */
  uint64_t responses_unknown; /* answers to no routed mention (another run's, or not routed) */
  uint64_t untracked;         /* routed mentions not awaited: the map of awaited answers was full */
} es_triage_counts;
void es_triage_counts_get(const es_triage_state *s, es_triage_counts *c);
uint64_t es_triage_track_routed(const es_triage_state *s, size_t i); /* mentions routed to track i */

/* ---- time to respond ----
 * A response (a record with `in_reply_to`: the brand's answer) to a routed
 * mention gives its time to respond (response time - mention time). Per
 * track, the times of each event-time hour (an unanswered respond-by
 * counts as +infinity) give a p90; an hour whose p90 passes the track's
 * SLA opens (or continues) an `sla_breach` alert, an hour within it
 * resolves one. The aggregator's; deterministic in event time like the
 * rest. */
typedef struct es_triage_sla_counts {
  uint64_t answered, late, unanswered; /* late: answered after respond-by or never (unanswered is part of it) */
  uint64_t breach_hours;
  int64_t respond_ms_sum;              /* of the answered ones */
} es_triage_sla_counts;
enum es_sla_state { ES_SLA_MET, ES_SLA_OPENED, ES_SLA_UPDATED, ES_SLA_RESOLVED };
typedef struct es_sla_event {
  const char *track;
  int state;                /* enum es_sla_state */
  int64_t hour_start_ms;
  int64_t sla_s, p90_s;     /* p90_s -1: beyond any answer (unanswered ones) */
  uint32_t answered, late, unanswered;
} es_sla_event;
/* A routed mention (ROUTE decisions; mention id `id`) now awaits its answer. */
void es_triage_await(es_triage_state *s, const char *id, size_t n, const es_triage_out *o, int64_t ts);
/* An answer to mention `id` at ts; false when no routed mention has that id. */
bool es_triage_response(es_triage_state *s, const char *id, size_t n, int64_t ts);
/* The watermark moved: respond-bys it passed unanswered, and the hours it
 * left behind (every hour with `all`, at the end of the input: respond-bys
 * still ahead of the last event time are not counted) as events. */
void es_triage_sla_advance(const es_triage *t, es_triage_state *s, int64_t watermark, bool all,
                           void (*emit)(void *ctx, const es_sla_event *e), void *ctx);
const es_triage_sla_counts *es_triage_sla_counts_get(const es_triage_state *s, size_t track);
/* An event as a JSON line: {"type":"sla_breach","track":..,"state":..,...} */
void es_sla_event_json(es_buf *b, const es_sla_event *e);

/* The route's name, or the crisis override's ("crisis:QUERY"). */
const char *es_triage_rule_name(const es_triage *t, const es_triage_out *o);
/* Why route `idx` (which 0) or crisis override `idx` (which 1) held for
 * the mention, in words ("query fees; situation complaint"). */
void es_triage_explain_cond(const es_triage *t, int which, int32_t idx, const es_triage_in *in, char *out, size_t cap);
/* `"route":{...},"respond_by":..` (no braces around): the decision as a
 * triage record's fields; `why` (may be NULL) from es_triage_explain_cond. */
void es_triage_route_json(es_buf *b, const es_triage *t, const es_triage_out *o, const char *why);

/* Whether UTC ms ts is inside the office hours (true when there are none). */
bool es_triage_in_hours(const es_triage *t, int64_t ts_ms);

#endif
