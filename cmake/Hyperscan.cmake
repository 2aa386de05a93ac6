# Hyperscan from the Debian package's pkg-config file (libhs); provides PkgConfig::Hyperscan.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Hyperscan REQUIRED IMPORTED_TARGET libhs)
