#!/usr/bin/env bash
# Fuzzes every parser that input from outside reaches (fuzz/fuzz_targets/), each for a while,
# starting from the seeds made from the test vectors (fuzz/seeds/). A crash stops the run with
# its input saved under fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                     every target for PUSHOTP_FUZZ_SECONDS (default 20) s
#   scripts/fuzz.sh 600 push_wire qr    the named targets for 10 minutes each
#
# libFuzzer through cargo-fuzz. With only the stable toolchain (rust-toolchain.toml) the
# targets are built without a sanitizer (`-s none`): coverage guidance, Rust's own checks
# (bounds, overflow, debug assertions) and the targets' assertions still hold. Where a nightly
# toolchain is installed, PUSHOTP_FUZZ_NIGHTLY=1 builds with AddressSanitizer instead.
# New inputs the fuzzer finds go to fuzz/corpus/<target>/ (not committed), so that a longer
# run goes on from where the last one stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-${PUSHOTP_FUZZ_SECONDS:-20}}
[ $# -gt 0 ] && shift
cd fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)

if [ "${PUSHOTP_FUZZ_NIGHTLY:-0}" = 1 ]; then
  fuzz=(cargo +nightly fuzz)
  sanitizer=address
else
  fuzz=(cargo fuzz)
  sanitizer=none
fi

# The fuzz crate is a workspace of its own, so its lock file is separate: it must hold the
# versions of Cargo.lock (checked here as `--locked` checks the main one).
if ! cargo metadata --locked --format-version 1 >/dev/null; then
  echo "fuzz/Cargo.lock does not match fuzz/Cargo.toml: after a dependency change, refresh it"
  echo "from Cargo.lock with  cp Cargo.lock fuzz/ && cargo metadata --manifest-path fuzz/Cargo.toml"
  echo "(which keeps every version the main workspace has), then commit it."
  exit 1
fi
cargo fmt --check

start=$SECONDS
"${fuzz[@]}" build --sanitizer "$sanitizer"
echo "fuzz build: $((SECONDS - start)) s (sanitizer: $sanitizer)"

for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  start=$SECONDS
  # Output goes to a log, and only its summary lines are shown: libFuzzer reports every new
  # input. The first corpus folder is where it writes; the seeds are read only.
  if ! "${fuzz[@]}" run --sanitizer "$sanitizer" "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"corpus/$target.log" 2>&1; then
    tail -n 60 "corpus/$target.log"
    echo "fuzz $target: FAILED (the input is under fuzz/artifacts/$target/)"
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "corpus/$target.log")
  cov=$(grep -o 'cov: [0-9]*' "corpus/$target.log" | tail -n 1)
  echo "fuzz $target: ${runs:-?} runs in $((SECONDS - start)) s, $cov, no crash"
done
