# Jemalloc from the Debian package's pkg-config file (jemalloc); provides PkgConfig::Jemalloc.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Jemalloc REQUIRED IMPORTED_TARGET jemalloc)
