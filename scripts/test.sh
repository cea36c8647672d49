#!/usr/bin/env bash
# Set up, build from scratch and run the whole popek test suite.
#   scripts/test.sh            normal + sanitizer (ASan+UBSan) builds, all ctest suites
#   POPEK_TEST_QUICK=1 ...     normal build only
#   scripts/test.sh --long     also the tests labelled `long` (the Debian
#                              install journey, iPXE): release build only,
#                              with a closing note of their results
# Tests labelled `long` (over a minute, up to hours on a loaded host) are
# left out of the default run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
long=""
for arg in "$@"; do
    case $arg in
    --long) long=yes ;;
    *) echo "test.sh: unknown option $arg (--long runs the long tests too)" >&2; exit 2 ;;
    esac
done

bash scripts/setup.sh

jobs=$(nproc 2>/dev/null || echo 2)
run_build() {
    local dir=$1 type=$2
    shift 2
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
    (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600 -LE long)
}

echo "== build/release: RelWithDebInfo =="
run_build build/release RelWithDebInfo
if [ -z "${POPEK_TEST_QUICK:-}" ]; then
    echo "== build/sanitize: ASan + UBSan =="
    # Leak checking off: longjmp out of faulting instructions is by design and
    # the emulator's lifetime allocations are freed at exit by the OS.
    ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
        run_build build/sanitize Sanitize -DPOPEK_LINUX_TESTS=OFF
fi
if [ -z "${POPEK_TEST_QUICK:-}" ]; then
    echo "== build/fuzz: libFuzzer (clang), fixed time =="
    CC=clang cmake -S . -B build/fuzz -DPOPEK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build/fuzz -j"$jobs" --target popek-fuzzers
    (cd build/fuzz && ASAN_OPTIONS=detect_leaks=0 ctest -L fuzz -j"$jobs" --output-on-failure)
fi
if [ -n "$long" ]; then
    echo "== build/release: tests labelled long =="
    status=0
    (cd build/release && ctest --output-on-failure -L long --timeout 14400) | tee build/release/long.log ||
        status=$?
    echo "== closing note: long tests =="
    grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: |tests passed|journey: ' build/release/long.log || true
    # Phase times and peak memory of the Debian journey's runs that got far
    # enough to write them.
    for f in build/release/tests/guest/debian-*/times.txt; do
        if [ -e "$f" ]; then sed "s|^|$(basename "$(dirname "$f")"): |" "$f"; fi
    done
    [ "$status" -eq 0 ] || exit "$status"
fi
echo "popek: all tests passed"
