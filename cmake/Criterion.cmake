# Criterion from the Debian package's pkg-config file (criterion); provides PkgConfig::Criterion.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Criterion REQUIRED IMPORTED_TARGET criterion)
