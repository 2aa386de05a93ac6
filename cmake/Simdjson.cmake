# Simdjson from the Debian package's pkg-config file (simdjson); provides PkgConfig::Simdjson.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Simdjson REQUIRED IMPORTED_TARGET simdjson)
