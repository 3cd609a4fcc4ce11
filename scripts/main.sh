#!/usr/bin/env bash
# The main job: install, build, then run nds on a few fixed points of the
# design spaces (later: a real sweep and its report).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh -DNDS_BUILD_TESTS=OFF
mkdir -p out
for model in regnet_x_200mf regnet_y_200mf resnet50 densenet121 googlenet; do
  ./build/cli/nds describe "$model"
  echo
done
./build/cli/nds describe --list | tee out/fixed_points.txt
echo "main job done: the fixed-point table is in out/fixed_points.txt"
