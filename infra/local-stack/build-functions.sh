#!/usr/bin/env bash
# Builds every function crate under functions/ into target/lambda/<bin>/bootstrap.zip for this
# machine (x86_64), with cargo-lambda (pinned, Zig from PyPI) and the `lambdalocal` profile:
# release settings without the slow fat-LTO link (see docs/deploy.md). Crates that do not
# exist yet are simply not there; render_template.py leaves their functions out.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$(dirname "$0")/install-tools.sh"
export PATH="$STACK_TOOLS_VENV/bin:$PATH"

# A profile defined through the environment keeps the workspace's Cargo.toml untouched:
# like release (panic = abort, strip) but no LTO, parallel codegen, light optimisation.
export CARGO_PROFILE_LAMBDALOCAL_INHERITS=release
export CARGO_PROFILE_LAMBDALOCAL_LTO=false
export CARGO_PROFILE_LAMBDALOCAL_CODEGEN_UNITS=16
export CARGO_PROFILE_LAMBDALOCAL_OPT_LEVEL=1
export CARGO_PROFILE_LAMBDALOCAL_INCREMENTAL=true
export GIT_COMMIT="${GIT_COMMIT:-$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || true)}"

cd "$REPO_ROOT"
packages=()
for manifest in functions/*/Cargo.toml; do
    [[ -f "$manifest" ]] || continue
    packages+=(-p "$(basename "$(dirname "$manifest")")")
done
if [[ ${#packages[@]} -eq 0 ]]; then
    echo "no function crates under functions/" >&2
    exit 1
fi
echo "building ${packages[*]} (profile $LAMBDA_PROFILE, x86_64)" >&2
cargo lambda build --profile "$LAMBDA_PROFILE" --x86-64 --output-format zip "${packages[@]}" >&2
ls target/lambda/*/bootstrap.zip
