/* The subcommands of the earshot binary. Each returns the process exit
 * status: 0 success, 1 runtime failure (or "no match" for explain), 2 bad
 * usage, configuration or query. */
#ifndef EARSHOT_CLI_INTERNAL_H
#define EARSHOT_CLI_INTERNAL_H

int es__cmd_replay(int argc, char **argv);
int es__cmd_score(int argc, char **argv);
int es__cmd_query(int argc, char **argv);
int es__cmd_version(void);

#endif
