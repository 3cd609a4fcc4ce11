#!/usr/bin/env bash
# Installs, builds and runs the whole test suite: the Release build with every
# label, then the LibTorch-free targets again under ASan+UBSan. The sanitizer
# build uses the serial task farm: Open MPI's own allocations at MPI_Init are
# never freed and would read as leaks; the MPI farm is tested in Release.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh -DNDS_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure -j"$(nproc)"

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNDS_SANITIZE=ON \
  -DNDS_WITH_TORCH=OFF -DNDS_WITH_MPI=OFF -DNDS_BUILD_TESTS=ON -DNDS_BUILD_BENCH=OFF
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -L unit
