#!/usr/bin/env bash
# Installs everything earshot needs to build, test and benchmark on Debian 12.
# Called by the Makefile (README commands) and by .ci/run. Idempotent: it
# skips apt entirely when every package is already installed.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git ca-certificates
  librdkafka-dev libhyperscan-dev libjemalloc-dev libuv1-dev libpcre2-dev
  libcriterion-dev libutf8proc-dev libyaml-dev libhttp-parser-dev libcld2-dev
  libjansson-dev libcjson-dev libsimdjson-dev
  kcat python3 python3-kafka python3-yaml gnuplot-nox curl
  clang libclang-rt-14-dev
  prometheus chromium
  buildah mmdebstrap
  nodejs npm
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# npm may come from outside Debian (nodesource, nvm); accept any working one.
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all packages present" >&2
fi
