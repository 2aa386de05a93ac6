/* The engine's version: `earshot version`, the start-up log line, the
 * build_info metric and the API's status. */
#ifndef EARSHOT_VERSION_H
#define EARSHOT_VERSION_H

#define ES_VERSION "0.1.0"

#endif
