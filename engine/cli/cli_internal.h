/* The subcommands of the earshot binary. Each returns the process exit
 * status: 0 success, 1 runtime failure (or "no match" for explain), 2 bad
 * usage, configuration or query. */
#ifndef EARSHOT_CLI_INTERNAL_H
#define EARSHOT_CLI_INTERNAL_H

#include <stdbool.h>

#include "earshot/config.h"

int es__cmd_replay(int argc, char **argv);
int es__cmd_run(int argc, char **argv);
int es__cmd_broker(int argc, char **argv);
int es__cmd_demo(int argc, char **argv);
/* replay and run: parses the flags over `preset` (taken over) or the
 * defaults and runs the pipeline, serving HTTP on `http` when given (the
 * demo starts it first, to print its address; the caller keeps it). */
struct es_http;
int es__run_pipeline(int argc, char **argv, bool kafka, const es_config *preset, struct es_http *http);
/* The HTTP endpoint as the config and flags describe it: NULL when off (or,
 * for a default address that is taken, off with a warning); *failed set
 * when an explicitly configured one cannot start (message printed). */
struct es_http *es__http_start(const es_config *cfg, bool by_default, bool *failed);
/* The bearer token: http.token, or the first line of http.token_file ("" for
 * none); -1 with the reason on stderr, prefixed by `who`, when the file
 * cannot be read or is empty. */
int es__read_token(const es_config *cfg, const char *who, char *out, size_t n);
/* Set by SIGINT/SIGTERM during a pipeline run. */
extern volatile int es__stop_requested;
int es__cmd_score(int argc, char **argv);
int es__cmd_detect(int argc, char **argv);
int es__cmd_query(int argc, char **argv);
int es__cmd_route(int argc, char **argv);
int es__cmd_version(void);
int es__cmd_config(int argc, char **argv);
int es__cmd_health(int argc, char **argv);

#endif
