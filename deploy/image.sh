#!/usr/bin/env bash
# Builds earshot's container image (deploy/Containerfile) with whichever of
# podman, buildah or docker works here; `make image` calls it.
#
#   deploy/image.sh            env: IMAGE  the tag (default localhost/earshot:VERSION)
#                                   BASE   a Debian 12 base image from a registry (debian:12-slim);
#                                          unset: made here with mmdebstrap (no registry needed)
#                                   TOOL   podman | buildah | docker (default: the first that works)
#                                   BUILD  the build folder with the fetched lexicons (default build)
#                                   MIRROR the Debian mirror for mmdebstrap (default deb.debian.org)
#                                   SOURCE, LICENSES  the OCI source and licence labels
#
# The base made with mmdebstrap is Debian 12 minbase without documentation,
# manual pages or locales, imported as localhost/earshot-base:bookworm; it is
# made once and reused (remove that image to make it again).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^#define ES_VERSION "\(.*\)"/\1/p' "$root/include/earshot/version.h")
image=${IMAGE:-localhost/earshot:$version}
build=${BUILD:-$root/build}
work=$build/image
mirror=${MIRROR:-http://deb.debian.org/debian}

say() { echo "image: $*" >&2; }
die() { say "$*"; exit 1; }

tool_works() {
  case $1 in
    docker) command -v docker >/dev/null && docker info >/dev/null 2>&1 ;;
    *) command -v "$1" >/dev/null ;;
  esac
}
tool=${TOOL:-}
if [ -z "$tool" ]; then
  for t in podman buildah docker; do
    if tool_works "$t"; then tool=$t; break; fi
  done
fi
[ -n "$tool" ] || die "no container tool: install podman or buildah (Debian packages), or run a Docker engine"
tool_works "$tool" || die "$tool does not work here"

has_image() {
  case $tool in
    docker) docker image inspect "$1" >/dev/null 2>&1 ;;
    *) "$tool" inspect --type image "$1" >/dev/null 2>&1 ;;
  esac
}

# The base.
if [ -z "${BASE:-}" ]; then
  BASE=localhost/earshot-base:bookworm
  if ! has_image "$BASE"; then
    command -v mmdebstrap >/dev/null || die "no BASE given and no mmdebstrap to make one: apt-get install mmdebstrap, or set BASE=debian:12-slim"
    mkdir -p "$work"
    say "making the Debian 12 base with mmdebstrap from $mirror"
    # merged-usr: /usr merged by the hook, not by the usrmerge package (which pulls in perl).
    mmdebstrap --variant=minbase --quiet --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --aptopt='APT::Install-Recommends "false"' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      --customize-hook='rm -rf "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/* "$1"/var/log/apt "$1"/var/log/dpkg.log' \
      bookworm "$work/base.tar" \
      "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
      "deb ${mirror%/debian}/debian-security bookworm-security main"
    case $tool in
      docker) docker import "$work/base.tar" "$BASE" >/dev/null ;;
      *)
         if [ "$tool" = buildah ]; then
           c=$(buildah from scratch)
           buildah add "$c" "$work/base.tar" / >/dev/null
           buildah commit --quiet "$c" "$BASE" >/dev/null
           buildah rm "$c" >/dev/null
         else
           podman import --quiet "$work/base.tar" "$BASE" >/dev/null
         fi ;;
    esac
    rm -f "$work/base.tar"
  fi
fi

# The build context: the sources (tracked and new files, not ignored ones)
# and the lexicon tarballs already fetched and verified by the build.
rm -rf "$work/context"
mkdir -p "$work/context/lexicon-cache"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/context" 2>/dev/null) \
  || (cd "$root" && tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$work/context")
cp "$build"/lexicon/*.tgz "$work/context/lexicon-cache/" 2>/dev/null || say "no fetched lexicons in $build/lexicon: the image build fetches them with npm"
revision=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The source label: SOURCE, or where this checkout was cloned from; the
# licence label: LICENSES (an SPDX expression; NOASSERTION until the project
# states one).
source=${SOURCE:-$(cd "$root" && git config --get remote.origin.url 2>/dev/null || echo unknown)}

args=(-f "$work/context/deploy/Containerfile" --build-arg "BASE=$BASE" --build-arg "VERSION=$version"
      --build-arg "REVISION=$revision" --build-arg "SOURCE=$source" --build-arg "LICENSES=${LICENSES:-NOASSERTION}"
      -t "$image")
say "building $image with $tool (base $BASE)"
start=$(date +%s)
case $tool in
  # The docker image format keeps HEALTHCHECK (OCI's has no such field);
  # chroot isolation runs the build steps where user namespaces are refused.
  podman) podman build --quiet --format docker --isolation chroot --layers "${args[@]}" "$work/context" >/dev/null ;;
  buildah) buildah build --quiet --format docker --isolation chroot --layers "${args[@]}" "$work/context" >/dev/null ;;
  docker) docker build --quiet "${args[@]}" "$work/context" >/dev/null ;;
esac
case $tool in
  docker) size="$(( $(docker image inspect --format '{{.Size}}' "$image") / 1000000 )) MB" ;;
  *) size=$("$tool" images --noheading --format '{{.Size}}' "$image" | head -1) ;;
esac
say "built $image in $(( $(date +%s) - start )) s: $size"
echo "$image"
