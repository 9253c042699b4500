#!/usr/bin/env bash
# Download source packages (apt-get source --download-only) into DEST, from
# this machine's own package sources:
#
#     common/debian-source.sh DEST PACKAGE...
#
# Step 06's `make corpus` takes the test images of the libraries it links
# (libspng, libpng, libjpeg-turbo) from their sources, as this machine's
# archive has them. The machine's entries (deb-src ones, and deb ones as
# deb-src) go into a private apt configuration (its own sources, lists and
# cache folders): the system's stays untouched. No host is written here, and
# apt-get verifies what it downloads against the signed index, with the
# keyring each entry names.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DEST PACKAGE..." >&2; exit 2; }
DEST=$1
shift
command -v apt-get >/dev/null || { echo "debian-source: needs apt-get (Debian or Ubuntu)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial" "$DEST"
ETC=/etc/apt
# One-line entries (their [signed-by=...] kept), then deb822 files (Signed-By kept).
grep -hE '^deb(-src)?[[:space:]]' "$ETC"/sources.list "$ETC"/sources.list.d/*.list 2>/dev/null |
    sed -E 's/^deb(-src)?/deb-src/' | sort -u > "$work/sources.list" || true
for f in "$ETC"/sources.list.d/*.sources; do
    [ -f "$f" ] && sed -E 's/^Types:.*/Types: deb-src/I' "$f" > "$work/parts/$(basename "$f")"
done
opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=$work/parts"
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
      -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=$(id -un)")
apt-get "${opts[@]}" -qq update >&2
cd "$DEST"
apt-get "${opts[@]}" -qq source --download-only --tar-only "$@" >&2
