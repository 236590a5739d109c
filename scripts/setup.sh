# Sourced by scripts/test and scripts/bench: installs what the tests and the benchmark need,
# unless it is already there:
# - the test world (the moto emulator and the AWS CLI, pinned in tests/emulator/requirements.txt)
#   into .venv;
# - s3s-fs, the S3 server the benchmark (and its smoke test) runs against, into .bench/tools.
stamp=.venv/.requirements
if ! cmp -s tests/emulator/requirements.txt "$stamp" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
  cp tests/emulator/requirements.txt "$stamp"
fi
export TRAILPROOF_PYTHON="${TRAILPROOF_PYTHON:-$PWD/.venv/bin/python}"
if [ ! -x .bench/tools/bin/s3s-fs ]; then
  cargo install s3s-fs@0.14.1 --features binary --locked --root .bench/tools
fi
# - cargo-deny (licences, bans, sources) and cargo-fuzz (the fuzz smoke run), into .bench/tools.
if [ ! -x .bench/tools/bin/cargo-deny ]; then
  cargo install cargo-deny@0.20.2 --locked --root .bench/tools
fi
# scripts/fuzz pins the cargo-fuzz version.
scripts/fuzz install || echo "warning: cargo-fuzz could not be installed" >&2
