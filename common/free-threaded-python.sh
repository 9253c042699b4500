#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (./configure --disable-gil, PEP 703) from
# the python3.13 source package of this machine's own package sources, and
# print the path of its interpreter. Built once into a cache folder outside
# the clone, reused when present:
#
#     common/free-threaded-python.sh [CACHE_DIR]    (default ~/.cache/epg)
#     make PYTHON="$(common/free-threaded-python.sh)" test
#
# Why from source: Debian 12 ships no free-threaded Python, pyenv here has
# none, and only package registries are reachable.
#
# Where the source comes from, in order:
#   1. a deb-src entry this machine already has that offers python3.13;
#   2. otherwise the archive this machine installs its packages from (the
#      Repo-URI apt reports for its Debian or Ubuntu entries), asked for the
#      suite $EPG_SRC_SUITE: by default trixie on Debian (python3.13 is its
#      Python); elsewhere set it (this script does not guess a suite).
# No host is written here. apt-get verifies what it downloads against the
# signed index, with the keyring of the entry it came from. A private apt
# configuration (its own sources list and lists folder) leaves the system's
# untouched.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${1:-${EPG_CACHE:-$HOME/.cache/epg}}
log() { echo "free-threaded-python: $*" >&2; }
works() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(sys._is_gil_enabled())' 2>/dev/null; }

for cached in "$CACHE"/python3.13.*-ft/bin/python3.13t; do
    if works "$cached"; then echo "$cached"; exit 0; fi
done

command -v apt-get >/dev/null || { log "needs apt-get (Debian or Ubuntu)"; exit 1; }
# What building CPython needs: the one list, in check-system.sh.
"$HERE/check-system.sh" cpython-build >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/src"
apt_opts=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o "Dir::Etc::sourceparts=-"
          -o "Dir::State::Lists=$work/apt/lists" -o "APT::Get::List-Cleanup=0"
          -o "APT::Sandbox::User=root")

# signed_by SOURCESENTRY: the keyring named by that entry of the machine's
# sources (deb822 "Signed-By:" or one-line "[signed-by=...]"), if any.
signed_by() {
    local file=${1%:*} entry=${1##*:}
    case $file in
        *.sources) awk -v want="$entry" 'BEGIN { n = 1 }
                       /^[[:space:]]*$/ { if (seen) n++; seen = 0; next }
                       !/^#/ { seen = 1 }
                       n == want && tolower($1) == "signed-by:" { print $2; exit }' "$file" ;;
        *) grep -v '^[[:space:]]*#' "$file" | grep -E '^deb(-src)?[[:space:]]' |
               sed -n "${entry}p" | sed -n 's/.*signed-by=\([^] ]*\).*/\1/p' ;;
    esac
}

# 1. The machine's own deb-src entries, if one offers python3.13.
mkdir -p "$work/apt/parts"
ETC=${EPG_APT_ETC:-/etc/apt}  # (another folder: for testing this script)
grep -hE '^deb-src[[:space:]]' "$ETC"/sources.list "$ETC"/sources.list.d/*.list \
    > "$work/apt/sources.list" 2>/dev/null || true
for f in "$ETC"/sources.list.d/*.sources; do  # deb822: "Types: deb deb-src"
    [ -f "$f" ] && grep -qiE '^Types:.*deb-src' "$f" && cp "$f" "$work/apt/parts/"
done
if [ -s "$work/apt/sources.list" ] || ls "$work"/apt/parts/*.sources >/dev/null 2>&1; then
    log "trying this machine's deb-src entries"
    own_opts=("${apt_opts[@]}" -o "Dir::Etc::sourceparts=$work/apt/parts")
    apt-get "${own_opts[@]}" -qq update >&2 &&
        (cd "$work/src" && apt-get "${own_opts[@]}" -qq source --download-only python3.13 >&2) ||
        log "none of them offers python3.13"
fi

# 2. Otherwise the machine's own archive, for the suite that has python3.13.
if ! ls "$work"/src/python3.13_*.orig.tar.xz >/dev/null 2>&1; then
    origin=$(apt-get indextargets --format '$(ORIGIN)' 'Target-Of: deb' 'Identifier: Packages' |
             grep -m1 -E '^(Debian|Ubuntu)$' || true)
    case $origin in
        Debian) suite=${EPG_SRC_SUITE:-trixie} components=main ;;
        *) suite=${EPG_SRC_SUITE:-} components="main universe"
           [ -n "$suite" ] || { log "no deb-src entry offers python3.13 and this is not Debian: set EPG_SRC_SUITE to a suite of your archive that has python3.13"; exit 1; } ;;
    esac
    line=$(apt-get indextargets --format '$(REPO_URI)|$(SOURCESENTRY)' 'Target-Of: deb' \
               'Identifier: Packages' "Origin: ${origin:-Debian}" "Label: ${origin:-Debian}" | head -1)
    [ -n "$line" ] || { log "no ${origin:-Debian} archive in this machine's package sources"; exit 1; }
    uri=${line%%|*}
    key=$(signed_by "${line#*|}")
    if [ -z "$key" ] && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] && [ "$origin" = Debian ]; then
        key=/usr/share/keyrings/debian-archive-keyring.gpg
    fi
    echo "deb-src ${key:+[signed-by=$key] }$uri $suite $components" > "$work/apt/sources.list"
    log "fetching python3.13 sources from this machine's archive ($uri), suite $suite"
    apt-get "${apt_opts[@]}" -qq update >&2
    (cd "$work/src" && apt-get "${apt_opts[@]}" -qq source --download-only "python3.13/$suite" >&2)
fi

tarball=$(ls "$work"/src/python3.13_*.orig.tar.xz 2>/dev/null | head -1)
[ -n "$tarball" ] || { log "no python3.13 orig tarball was downloaded: $(ls "$work/src")"; exit 1; }
VERSION=$(basename "$tarball" | sed -n 's/^python3\.13_\(3\.13\.[0-9]*\)\.orig\.tar\.xz$/\1/p')
[ -n "$VERSION" ] || { log "unexpected tarball name: $tarball"; exit 1; }
PREFIX=$CACHE/python$VERSION-ft
PY=$PREFIX/bin/python3.13t

log "building CPython $VERSION with --disable-gil into $PREFIX (about 5 minutes on 2 cores)"
tar -xJf "$tarball" -C "$work"
cd "$work/Python-$VERSION"
./configure --quiet --disable-gil --prefix="$PREFIX" --without-ensurepip >&2
make -s -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
rm -rf "$PREFIX"
make -s altinstall >"$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
"$PY" -c 'import sys, ssl, zlib, ctypes, sqlite3; assert not sys._is_gil_enabled()'
echo "$PY"
