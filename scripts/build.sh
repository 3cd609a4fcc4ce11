#!/usr/bin/env bash
# Configures and builds nds in Release into build/ (extra CMake flags pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"$(nproc)"
