#!/usr/bin/env bash
# Check the system tools and libraries the steps need; install the missing
# ones where we can (apt-get as root or with passwordless sudo, brew on macOS),
# otherwise stop with the exact command to run.
set -u
PYTHON=${PYTHON:-python3}
missing_apt=() missing_brew=() problems=()

have() { command -v "$1" >/dev/null 2>&1; }
header() {  # header NAME: found by the C compiler?
    printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1
}
is_ubuntu() { grep -qi ubuntu /etc/os-release 2>/dev/null; }

# Go >= 1.21: earlier releases cost ~2 us per call from a C-created thread.
if have go; then
    v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
    IFS=. read -r major minor _ <<<"$v"
    if [ "${major:-0}" -lt 1 ] || { [ "${major:-0}" -eq 1 ] && [ "${minor:-0}" -lt 21 ]; }; then
        problems+=("Go $v is too old: install Go >= 1.21 (https://go.dev/doc/install)")
    fi
else
    problems+=("Go is missing: install Go >= 1.21 (https://go.dev/doc/install)")
fi
have "${CC:-cc}" || missing_apt+=(build-essential)
have make || missing_apt+=(make)

pyinc=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
if [ ! -f "$pyinc/Python.h" ]; then
    if [ "$("$PYTHON" -c 'import sys; print(sys.base_prefix)')" = /usr ]; then
        missing_apt+=(python3-dev)
    else
        problems+=("Python.h not found in $pyinc: install the development headers of $PYTHON")
    fi
fi
have pngquant || { missing_apt+=(pngquant); missing_brew+=(pngquant); }
have jpegoptim || { missing_apt+=(jpegoptim); missing_brew+=(jpegoptim); }
if ! header turbojpeg.h || ! header jpeglib.h; then
    if is_ubuntu; then missing_apt+=(libturbojpeg0-dev libjpeg-turbo8-dev)
    else missing_apt+=(libturbojpeg0-dev libjpeg62-turbo-dev); fi
    missing_brew+=(jpeg-turbo)
fi
# Step 06's in-process optimiser: libimagequant (GPL-3, pngquant's library)
# and zlib (its PNG encoder).
header libimagequant.h || { missing_apt+=(libimagequant-dev); missing_brew+=(libimagequant); }
header zlib.h || missing_apt+=(zlib1g-dev)

install_cmd=""
if [ "$(uname -s)" = Darwin ]; then
    [ ${#missing_brew[@]} -gt 0 ] && install_cmd="brew install ${missing_brew[*]}"
elif [ ${#missing_apt[@]} -gt 0 ]; then
    install_cmd="apt-get install -y ${missing_apt[*]}"
    if [ "$(id -u)" != 0 ]; then install_cmd="sudo $install_cmd"; fi
fi

if [ -n "$install_cmd" ]; then
    can_run=no
    if [ "$(uname -s)" = Darwin ] && have brew; then can_run=yes
    elif have apt-get && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then can_run=yes
    fi
    if [ $can_run = yes ]; then
        echo "installing: $install_cmd"
        if have apt-get; then
            pre=""; [ "$(id -u)" != 0 ] && pre="sudo -n"
            $pre env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
                $pre env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_apt[@]}" \
                >/dev/null || problems+=("installing failed; run: $install_cmd")
        else
            $install_cmd || problems+=("installing failed; run: $install_cmd")
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
echo "system check: go $(go env GOVERSION), $(${CC:-cc} --version | head -1), pngquant, jpegoptim, libjpeg-turbo, libimagequant, zlib: ok"
