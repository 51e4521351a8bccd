#!/usr/bin/env bash
# Builds every function crate under functions/ into target/lambda/<bin>/bootstrap.zip for this
# machine (x86_64), with cargo-lambda (pinned, Zig from PyPI) and the `lambdalocal` profile:
# release settings without the slow fat-LTO link (see docs/deploy.md). Crates that do not
# exist yet are simply not there; render_template.py leaves their functions out.
# The zips that built are then copied to this stack's own $STACK_ZIPS, all under one lock of
# the build directory, so stacks deploying side by side never package a half-written zip.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$(dirname "$0")/install-tools.sh"
export PATH="$STACK_TOOLS_VENV/bin:$PATH"

# A profile defined through the environment keeps the workspace's Cargo.toml untouched:
# like release (panics unwind, strip) but no LTO, parallel codegen, light optimisation.
export CARGO_PROFILE_LAMBDALOCAL_INHERITS=release
export CARGO_PROFILE_LAMBDALOCAL_LTO=false
export CARGO_PROFILE_LAMBDALOCAL_CODEGEN_UNITS=16
export CARGO_PROFILE_LAMBDALOCAL_OPT_LEVEL=1
export CARGO_PROFILE_LAMBDALOCAL_INCREMENTAL=true
export GIT_COMMIT="${GIT_COMMIT:-$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || true)}"

export CARGO_TARGET_DIR="$LAMBDA_TARGET_DIR"
cd "$REPO_ROOT"
mkdir -p "$STACK_DIR" "$LAMBDA_TARGET_DIR"
: >"$STACK_DIR/build-failures"
exec 9>"$LAMBDA_TARGET_DIR/.build-functions.lock"
flock 9

# This stack's copy of every zip that built (and of nothing else).
take_zips() {
    rm -rf "$STACK_ZIPS"
    local zip package
    for zip in "$LAMBDA_ZIPS"/*/bootstrap.zip; do
        [[ -f "$zip" ]] || continue
        package="$(basename "$(dirname "$zip")")"
        mkdir -p "$STACK_ZIPS/$package"
        cp "$zip" "$STACK_ZIPS/$package/bootstrap.zip"
    done
    ls "$STACK_ZIPS"/*/bootstrap.zip
}
packages=()
for manifest in functions/*/Cargo.toml; do
    [[ -f "$manifest" ]] && packages+=(-p "$(basename "$(dirname "$manifest")")")
done
[[ ${#packages[@]} -gt 0 ]] || { echo "no function crates under functions/" >&2; exit 1; }
# All crates in one build first: one feature resolution, so dependencies build once.
echo "building ${packages[*]} (profile $LAMBDA_PROFILE, x86_64)" >&2
if cargo lambda build --profile "$LAMBDA_PROFILE" --x86-64 --output-format zip "${packages[@]}" >&2; then
    take_zips
    exit 0
fi
[[ "${STRICT_BUILD:-0}" == 1 ]] && exit 1
built=0
# Then one crate at a time: a crate that does not compile (work in progress) is reported and left
# out instead of blocking the others. STRICT_BUILD=1 makes any failure fatal.
for manifest in functions/*/Cargo.toml; do
    [[ -f "$manifest" ]] || continue
    package="$(basename "$(dirname "$manifest")")"
    echo "building $package (profile $LAMBDA_PROFILE, x86_64)" >&2
    if cargo lambda build --profile "$LAMBDA_PROFILE" --x86-64 --output-format zip -p "$package" >&2; then
        built=$((built + 1))
    else
        echo "warning: $package does not build; it is left out of the deploy" >&2
        echo "$package" >>"$STACK_DIR/build-failures"
        rm -f "$LAMBDA_ZIPS/$package/bootstrap.zip"
        [[ "${STRICT_BUILD:-0}" == 1 ]] && exit 1
    fi
done
if [[ $built -eq 0 ]]; then
    echo "no function crate built" >&2
    exit 1
fi
take_zips
