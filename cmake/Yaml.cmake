# Yaml from the Debian package's pkg-config file (yaml-0.1); provides PkgConfig::Yaml.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Yaml REQUIRED IMPORTED_TARGET yaml-0.1)
