# Rdkafka from the Debian package's pkg-config file (rdkafka); provides PkgConfig::Rdkafka.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Rdkafka REQUIRED IMPORTED_TARGET rdkafka)
