#!/usr/bin/env bash
# The system packages the workshop needs: the one list, per distribution
# (Debian, Ubuntu, macOS with Homebrew), and the check that they are there.
#
#   common/check-system.sh                  the workshop's packages (`make` runs this)
#   common/check-system.sh cpython-build    what building CPython needs
#                                           (common/free-threaded-python.sh runs this)
#   common/check-system.sh --list GROUP [debian|ubuntu|brew]   the package names, one a line
#
# Missing packages are installed where that is possible (apt-get as root or
# with passwordless sudo, brew on macOS); otherwise the script stops with the
# exact command to run. .ci/run calls it, as root, before anything else: CI
# installs exactly what a reader's machine is checked for.
set -u
PYTHON=${PYTHON:-python3}

# One row per thing needed:  group | what | check | Debian | Ubuntu | Homebrew
# check: cmd:NAME (a program on PATH), header:NAME (the C compiler finds it),
# python-headers, python-venv. An empty package column: nothing to install
# there (a Homebrew Python has its headers and venv; Xcode's tools give cc).
# Step 06 reads and writes JPEG through libjpeg's API (libjpeg-turbo), PNG
# with libspng, quantizes with libimagequant (GPL-3, pngquant's library); its
# tests write the JPEGs Pillow cannot (arithmetic, any sampling) with cjpeg.
REQUIREMENTS=(
    "workshop|C compiler|cmd:${CC:-cc}|build-essential|build-essential|"
    "workshop|make|cmd:make|make|make|make"
    "workshop|Python headers|python-headers|python3-dev|python3-dev|"
    "workshop|Python venv|python-venv|python3-venv|python3-venv|"
    "workshop|pngquant|cmd:pngquant|pngquant|pngquant|pngquant"
    "workshop|jpegoptim|cmd:jpegoptim|jpegoptim|jpegoptim|jpegoptim"
    "workshop|libjpeg-turbo|header:jpeglib.h|libjpeg62-turbo-dev|libjpeg-turbo8-dev|jpeg-turbo"
    "workshop|cjpeg|cmd:cjpeg|libjpeg-turbo-progs|libjpeg-turbo-progs|jpeg-turbo"
    "workshop|libspng|header:spng.h|libspng-dev|libspng-dev|libspng"
    "workshop|libimagequant|header:libimagequant.h|libimagequant-dev|libimagequant-dev|libimagequant"
    # What CPython's configure looks for (ssl, zlib, ctypes, sqlite3, ...),
    # and xz for the source tarball.
    "cpython-build|C compiler|cmd:${CC:-cc}|build-essential|build-essential|"
    "cpython-build|make|cmd:make|make|make|make"
    "cpython-build|xz|cmd:xz|xz-utils|xz-utils|xz"
    "cpython-build|OpenSSL|header:openssl/ssl.h|libssl-dev|libssl-dev|openssl"
    "cpython-build|zlib|header:zlib.h|zlib1g-dev|zlib1g-dev|zlib"
    "cpython-build|libffi|header:ffi.h|libffi-dev|libffi-dev|libffi"
    "cpython-build|bzip2|header:bzlib.h|libbz2-dev|libbz2-dev|bzip2"
    "cpython-build|liblzma|header:lzma.h|liblzma-dev|liblzma-dev|xz"
    "cpython-build|SQLite|header:sqlite3.h|libsqlite3-dev|libsqlite3-dev|sqlite"
    "cpython-build|readline|header:readline/readline.h|libreadline-dev|libreadline-dev|readline"
    "cpython-build|ncurses|header:ncurses.h|libncurses-dev|libncurses-dev|ncurses"
    "cpython-build|expat|header:expat.h|libexpat1-dev|libexpat1-dev|expat"
    "cpython-build|libuuid|header:uuid/uuid.h|uuid-dev|uuid-dev|"
)

distribution() {  # debian, ubuntu, brew, or unknown
    if [ "$(uname -s)" = Darwin ]; then echo brew; return; fi
    local id="" like=""
    if [ -r /etc/os-release ]; then
        id=$(. /etc/os-release; echo "${ID:-}")
        like=$(. /etc/os-release; echo "${ID_LIKE:-}")
    fi
    case " $id $like " in
        *" ubuntu "*) echo ubuntu ;;
        *" debian "*) echo debian ;;
        *) echo unknown ;;
    esac
}

package_of() {  # package_of ROW DISTRIBUTION
    local group what check debian ubuntu brew
    IFS='|' read -r group what check debian ubuntu brew <<<"$1"
    case $2 in debian) echo "$debian" ;; ubuntu) echo "$ubuntu" ;; brew) echo "$brew" ;; esac
}

have() { command -v "$1" >/dev/null 2>&1; }
header() {  # header NAME: found by the C compiler?
    printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1
}
system_python() {  # the interpreter comes from the distribution's packages
    [ "$("$PYTHON" -c 'import sys; print(sys.base_prefix)' 2>/dev/null)" = /usr ]
}
present() {  # present CHECK: is it there?
    case $1 in
        cmd:*) have "${1#cmd:}" ;;
        header:*) header "${1#header:}" ;;
        python-headers)
            local inc
            inc=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])') &&
                [ -f "$inc/Python.h" ] ;;
        python-venv)  # Debian splits ensurepip (which venv needs) out of python3
            ! system_python || "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1 ;;
        *) echo "check-system.sh: unknown check $1" >&2; return 1 ;;
    esac
}

group=workshop
case ${1:-} in
    --list)
        dist=${3:-$(distribution)}
        for row in "${REQUIREMENTS[@]}"; do
            [ "${row%%|*}" = "$2" ] || continue
            package_of "$row" "$dist"
        done | awk 'NF && !seen[$0]++'
        exit 0 ;;
    "") ;;
    *) group=$1 ;;
esac

dist=$(distribution)
missing=() problems=() checked=""
# The interpreter first: a name that does not run (not on PATH, a pyenv shim
# of a version not selected) would read below as "Python.h not found".
if [ "$group" = workshop ] && ! "$PYTHON" -c 'import sys' >/dev/null 2>&1; then
    printf 'system check failed:\n  - %s does not run a Python: give a path or a name on PATH, %s\n' \
        "$PYTHON" "e.g. make PYTHON=\$(pyenv which python3.12)" >&2
    exit 1
fi
add_missing() {  # once each (jpeg-turbo gives two headers on macOS)
    case " ${missing[*]-} " in *" $1 "*) ;; *) missing+=("$1") ;; esac
}
for row in "${REQUIREMENTS[@]}"; do
    IFS='|' read -r g what check _ <<<"$row"
    [ "$g" = "$group" ] || continue
    checked="${checked:+$checked, }$what"
    present "$check" && continue
    package=$(package_of "$row" "$dist")
    if [ "$check" = python-headers ] && ! system_python; then
        problems+=("Python.h not found: install the development headers of $PYTHON")
    elif [ -n "$package" ]; then
        add_missing "$package"
    elif [ "$dist" = unknown ]; then
        problems+=("$what is missing: install it with your package manager")
    elif [ "$dist" = brew ] && [ "$what" = "C compiler" ]; then
        problems+=("no C compiler: run xcode-select --install")
    fi
done
if [ "$dist" = unknown ] && [ ${#missing[@]} -gt 0 ]; then
    problems+=("missing: ${missing[*]} (names of Debian's packages; install your system's equivalents)")
    missing=()
fi
# Go >= 1.21: earlier releases cost ~2 us per call from a C-created thread.
# Not from the distribution: Debian 12 ships Go 1.19.
if [ "$group" = workshop ]; then
    if have go; then
        v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
        IFS=. read -r major minor _ <<<"$v"
        if [ "${major:-0}" -lt 1 ] || { [ "${major:-0}" -eq 1 ] && [ "${minor:-0}" -lt 21 ]; }; then
            problems+=("Go $v is too old: install Go >= 1.21 (https://go.dev/doc/install)")
        fi
    else
        problems+=("Go is missing: install Go >= 1.21 (https://go.dev/doc/install)")
    fi
fi

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$dist" = brew ]; then
        install_cmd="brew install ${missing[*]}"
        can_run=$(have brew && echo yes)
    else
        install_cmd="apt-get install -y ${missing[*]}"
        [ "$(id -u)" = 0 ] || install_cmd="sudo $install_cmd"
        can_run=$(have apt-get && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; } && echo yes)
    fi
    if [ "${can_run:-}" = yes ]; then
        echo "installing: $install_cmd"
        if [ "$dist" = brew ]; then
            brew install "${missing[@]}" || problems+=("installing failed; run: $install_cmd")
        else
            pre=""; [ "$(id -u)" = 0 ] || pre="sudo -n"
            { $pre env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
                $pre env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                    --no-install-recommends "${missing[@]}" >/dev/null; } ||
                problems+=("installing failed; run: $install_cmd")
        fi
    else
        problems+=("missing system packages; run: $install_cmd")
    fi
fi

if [ ${#problems[@]} -gt 0 ]; then
    printf 'system check failed:\n' >&2
    printf '  - %s\n' "${problems[@]}" >&2
    exit 1
fi
if [ "$group" = workshop ]; then
    echo "system check ($dist): go $(go env GOVERSION), $(${CC:-cc} --version | head -1); $checked: ok"
else
    echo "system check ($group, $dist): $checked: ok"
fi
