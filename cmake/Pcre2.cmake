# PCRE2 (8-bit) from the Debian package's pkg-config file; provides PkgConfig::Pcre2.
# Used only by the naive reference matcher, to check /regex/ atoms
# independently of Hyperscan.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Pcre2 REQUIRED IMPORTED_TARGET libpcre2-8)
