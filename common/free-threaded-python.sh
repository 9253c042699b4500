#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (./configure --disable-gil, PEP 703) from
# Debian trixie's python3.13 source package, using only Debian's archive, and
# print the path of its interpreter. Built once into a cache folder outside
# the clone, reused when present:
#
#     common/free-threaded-python.sh [CACHE_DIR]    (default ~/.cache/epg)
#     make PYTHON="$(common/free-threaded-python.sh)" test
#
# Why from source: Debian 12 ships no free-threaded Python, pyenv here has
# none, and only package registries are reachable. apt-get verifies what it
# downloads against the signed trixie index. A private apt configuration
# (its own sources.list and lists folder) leaves the system's untouched.
set -euo pipefail

CACHE=${1:-${EPG_CACHE:-$HOME/.cache/epg}}
VERSION=3.13.5            # the orig tarball of trixie's python3.13
PREFIX=$CACHE/python$VERSION-ft
PY=$PREFIX/bin/python3.13t

if [ -x "$PY" ] && "$PY" -c 'import sys; sys.exit(sys._is_gil_enabled())' 2>/dev/null; then
    echo "$PY"
    exit 0
fi

log() { echo "free-threaded-python: $*" >&2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # What CPython's configure looks for (ssl, zlib, ctypes, sqlite3, ...).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        build-essential dpkg-dev xz-utils libssl-dev zlib1g-dev libffi-dev libbz2-dev \
        liblzma-dev libsqlite3-dev libreadline-dev libncurses-dev libexpat1-dev \
        uuid-dev >/dev/null
fi

mkdir -p "$work/apt/lists/partial" "$work/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
    > "$work/apt/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o "Dir::Etc::sourceparts=-"
          -o "Dir::State::Lists=$work/apt/lists" -o "APT::Get::List-Cleanup=0"
          -o "APT::Sandbox::User=root")
log "fetching python3.13 sources from trixie"
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$work/src" && apt-get "${apt_opts[@]}" -qq source --download-only python3.13/trixie >&2)
tarball=$work/src/python3.13_$VERSION.orig.tar.xz
[ -f "$tarball" ] || { log "no $tarball (trixie moved on?): $(ls "$work/src")"; exit 1; }

log "building CPython $VERSION with --disable-gil into $PREFIX (about 5 minutes on 2 cores)"
tar -xJf "$tarball" -C "$work"
cd "$work/Python-$VERSION"
./configure --quiet --disable-gil --prefix="$PREFIX" --without-ensurepip >&2
make -s -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
rm -rf "$PREFIX"
make -s altinstall >"$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
"$PY" -c 'import sys, ssl, zlib, ctypes, sqlite3; assert not sys._is_gil_enabled()'
echo "$PY"
