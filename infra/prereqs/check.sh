#!/usr/bin/env bash
# Checks, before anything builds, what `make test` and `make up` need: Rust, Node.js >= 20.19
# with npm, Python 3 with venv, curl, and (for the browser suite) Chromium. On a Debian machine,
# as root, it installs what Debian packages well (python3-venv, curl, chromium); everything else
# it names, with how to get it, and stops within seconds instead of failing late.
#   check.sh test | up
# PREREQS_NO_INSTALL=1 only checks.
set -euo pipefail
purpose="${1:-test}"
missing=()
installable=()

# Version a >= b, both "x.y[.z]".
at_least() {
    [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

can_install() {
    [[ "${PREREQS_NO_INSTALL:-}" != 1 && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null
}

check_all() {
    missing=()
    installable=()
    # The end-to-end suite's crate needs 1.89 (std's file locks).
    if ! command -v cargo >/dev/null || ! command -v rustc >/dev/null; then
        missing+=("Rust (cargo, rustc >= 1.89): https://rustup.rs, then \`rustup toolchain install stable\`")
    else
        local rust
        rust="$(rustc --version | awk '{print $2}')"
        at_least "$rust" 1.89 || missing+=("Rust >= 1.89 (found $rust): \`rustup update stable\`")
    fi
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        missing+=("Node.js >= 20.19 with npm: https://nodejs.org (Debian's own package is older)")
    else
        local node
        node="$(node --version | tr -d v)"
        at_least "$node" 20.19 || missing+=("Node.js >= 20.19 (found $node): https://nodejs.org")
    fi
    if ! command -v python3 >/dev/null; then
        missing+=("Python 3 with venv: \`apt-get install python3 python3-venv\`")
        installable+=(python3 python3-venv)
    elif ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        missing+=("Python's venv module: \`apt-get install python3-venv\`")
        installable+=(python3-venv)
    fi
    if ! command -v curl >/dev/null; then
        missing+=("curl: \`apt-get install curl\`")
        installable+=(curl)
    fi
    # The browser suite drives Debian's Chromium; browsers are never downloaded.
    if [[ "$purpose" == test ]] && ! command -v chromium >/dev/null; then
        missing+=("Chromium (the console's browser suite): \`apt-get install chromium\`")
        installable+=(chromium)
    fi
}

check_all
if ((${#installable[@]} > 0)) && can_install; then
    echo "installing ${installable[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${installable[@]}" >&2
    check_all
fi
if ((${#missing[@]} > 0)); then
    echo "make $purpose needs, before it builds anything:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
fi
