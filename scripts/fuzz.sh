#!/usr/bin/env bash
# Device fuzzing campaigns and coverage (tests/fuzz/README.md).
#   scripts/fuzz.sh NAME [SECONDS] [JOBS]   run libFuzzer harness NAME (machine, cpu, gdb,
#                                            qmp, e1000, virtio-net) for SECONDS (default
#                                            3600) in JOBS processes (default 1)
#   scripts/fuzz.sh coverage                 replay the machine corpus (checked-in seeds,
#                                            regressions and what campaigns found) under
#                                            clang's source coverage; report per file
#   scripts/fuzz.sh replay FILE|DIR...       run inputs through the machine harness once
# Builds go to build/fuzz (libFuzzer, ASan+UBSan) and build/coverage.  What a
# campaign finds is kept in build/fuzz/tests/fuzz/corpus-NAME; crashes land in
# build/fuzz/artifacts/ as crash-*, timeout-*, leak-*.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs_build=$(nproc 2>/dev/null || echo 2)
name=${1:-machine}

fuzz_build() {
    CC=clang cmake -S . -B build/fuzz -DPOPEK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build/fuzz -j"$jobs_build" --target "$1"
}

case "$name" in
coverage)
    for tool in llvm-profdata llvm-cov; do
        command -v $tool >/dev/null || { echo "fuzz.sh: $tool not found (Debian's llvm package)" >&2; exit 1; }
    done
    CC=clang cmake -S . -B build/coverage -DCMAKE_BUILD_TYPE=Debug -DPOPEK_LINUX_TESTS=OFF \
        -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
        -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >/dev/null
    cmake --build build/coverage -j"$jobs_build" --target popek-fuzz-machine-replay
    rm -rf build/coverage/profiles
    mkdir -p build/coverage/profiles
    dirs="tests/fuzz/corpus/machine tests/fuzz/regress/machine"
    [ -d build/fuzz/tests/fuzz/corpus-machine ] && dirs="$dirs build/fuzz/tests/fuzz/corpus-machine"
    # One profile per directory (%m merges the runs of one binary).
    for d in $dirs; do
        LLVM_PROFILE_FILE="build/coverage/profiles/%m-%p.profraw" \
            build/coverage/tests/fuzz/popek-fuzz-machine-replay "$d" 2>/dev/null
    done
    llvm-profdata merge -sparse build/coverage/profiles/*.profraw -o build/coverage/machine.profdata
    llvm-cov report build/coverage/tests/fuzz/popek-fuzz-machine-replay \
        -instr-profile=build/coverage/machine.profdata hw/ softmmu/phys.c softmmu/ioport.c net/net.c
    ;;
replay)
    shift
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build -j"$jobs_build" --target popek-fuzz-machine-replay
    build/tests/fuzz/popek-fuzz-machine-replay "$@"
    ;;
*)
    seconds=${2:-3600}
    jobs=${3:-1}
    target=popek-fuzz-$name
    fuzz_build "$target"
    corpus=build/fuzz/tests/fuzz/corpus-$name
    mkdir -p "$corpus" build/fuzz/artifacts
    seeds=""
    [ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
    parallel=""
    [ "$jobs" -gt 1 ] && parallel="-jobs=$jobs -workers=$jobs"
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=0 "build/fuzz/tests/fuzz/$target" -max_total_time="$seconds" \
        -timeout=60 -max_len=4096 -rss_limit_mb=4096 -print_final_stats=1 $parallel \
        -artifact_prefix=build/fuzz/artifacts/ "$corpus" $seeds
    ;;
esac
