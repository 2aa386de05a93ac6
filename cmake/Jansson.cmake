# Jansson from the Debian package's pkg-config file (jansson); provides PkgConfig::Jansson.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Jansson REQUIRED IMPORTED_TARGET jansson)
