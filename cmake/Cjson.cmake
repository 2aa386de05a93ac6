# Cjson from the Debian package's pkg-config file (libcjson); provides PkgConfig::Cjson.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Cjson REQUIRED IMPORTED_TARGET libcjson)
