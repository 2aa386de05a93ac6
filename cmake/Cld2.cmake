# CLD2 (Compact Language Detector 2) from the Debian package libcld2-dev
# (no pkg-config file): language identification of mentions that arrive
# without a language. Provides Cld2::Cld2.
find_path(CLD2_INCLUDE_DIR cld2/public/compact_lang_det.h REQUIRED)
find_library(CLD2_LIBRARY cld2 REQUIRED)
if(NOT TARGET Cld2::Cld2)
  add_library(Cld2::Cld2 UNKNOWN IMPORTED)
  set_target_properties(Cld2::Cld2 PROPERTIES IMPORTED_LOCATION ${CLD2_LIBRARY}
                        INTERFACE_INCLUDE_DIRECTORIES ${CLD2_INCLUDE_DIR})
endif()
