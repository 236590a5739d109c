# Sourced by scripts/test and scripts/bench: installs what the tests and the benchmark need,
# unless it is already there. Everything goes outside the clone, once per machine, into
# $TRAILPROOF_TOOLS (default ~/.cache/trailproof), so a fresh clone builds only trailproof:
# - the test world (the moto emulator and the AWS CLI, pinned in tests/emulator/requirements.txt)
#   into a virtualenv named for those pins, linked from .venv;
# - s3s-fs (the benchmark's S3 server), cargo-deny (licences, bans, sources) and cargo-fuzz (the
#   fuzz smoke run), into $TRAILPROOF_TOOLS/bin;
# - Microsoft's SARIF Multitool (the SARIF tests' validator), from npm into $TRAILPROOF_TOOLS/npm.
# - groff (renders the man page in a test), from Debian, when it is missing.
# - Chromium (renders the backtest's HTML report in a test), from Debian, when it is missing.
# Without a home directory (some CI runners), the clone itself holds them, as it once did.
export TRAILPROOF_TOOLS="${TRAILPROOF_TOOLS:-${XDG_CACHE_HOME:-${HOME:-$PWD/.bench}/.cache}/trailproof}"
mkdir -p "$TRAILPROOF_TOOLS"
venv="$TRAILPROOF_TOOLS/venv-$(sha256sum tests/emulator/requirements.txt | cut -c1-16)"
if [ ! -x "$venv/bin/python" ]; then
  # Built aside and renamed, so an interrupted install is never taken for a finished one. (Only
  # bin/python is used, as `python -m awscli`; it finds the venv from its own path.)
  rm -rf "$venv.partial"
  python3 -m venv "$venv.partial"
  "$venv.partial/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
  mv "$venv.partial" "$venv"
fi
# An older clone's .venv directory is left alone; a link is brought up to date.
if [ -L .venv ] || [ ! -e .venv ]; then
  ln -sfn "$venv" .venv
fi
export TRAILPROOF_PYTHON="${TRAILPROOF_PYTHON:-$venv/bin/python}"
export PATH="$TRAILPROOF_TOOLS/bin:$PATH"
if ! command -v s3s-fs >/dev/null; then
  cargo install s3s-fs@0.14.1 --features binary --locked --root "$TRAILPROOF_TOOLS"
fi
if ! cargo-deny --version 2>/dev/null | grep -qF 0.20.2; then
  cargo install cargo-deny@0.20.2 --locked --root "$TRAILPROOF_TOOLS"
fi
# The npm package is a launcher; the validator is the per-platform package's self-contained .NET
# binary, which the tests run directly (SARIF_MULTITOOL names it). The platform package is named
# too, so its version is pinned as well (the launcher asks only for ^5.7.0).
multitool="$TRAILPROOF_TOOLS/npm/node_modules/@microsoft/sarif-multitool-$(node -p process.platform 2>/dev/null)/Sarif.Multitool"
if ! "$multitool" --version 2>/dev/null | grep -qF 5.7.0; then
  npm install --silent --no-save --prefix "$TRAILPROOF_TOOLS/npm" @microsoft/sarif-multitool@5.7.0 "@microsoft/sarif-multitool-$(node -p process.platform)@5.7.0" \
    || echo "warning: the SARIF Multitool could not be installed (needs npm); the SARIF tests will fail" >&2
fi
export SARIF_MULTITOOL="$multitool"
# groff renders the man page in tests/e2e/offline/cli.rs (Debian's groff-base; root or sudo needed).
if ! command -v groff >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi
  { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends groff-base >/dev/null 2>&1 \
    || { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends groff-base >/dev/null; }; } \
    || echo "warning: groff could not be installed (apt-get install groff-base): the man page test will fail" >&2
fi
# Chromium renders the backtest's HTML report headless in tests/e2e/offline/html.rs (Debian's
# chromium package; root or sudo needed).
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi
  { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
    || { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null; }; } \
    || echo "warning: chromium could not be installed (apt-get install chromium): the HTML report test will fail" >&2
fi
# scripts/fuzz pins the cargo-fuzz version.
scripts/fuzz install || echo "warning: cargo-fuzz could not be installed" >&2
