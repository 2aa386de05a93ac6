# Libuv from the Debian package's pkg-config file (libuv); provides PkgConfig::Libuv.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Libuv REQUIRED IMPORTED_TARGET libuv)
