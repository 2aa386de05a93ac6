# Utf8proc from the Debian package's pkg-config file (libutf8proc); provides PkgConfig::Utf8proc.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Utf8proc REQUIRED IMPORTED_TARGET libutf8proc)
