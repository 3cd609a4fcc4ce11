#!/usr/bin/env bash
# The main job: install, build, then a small real design-space sweep on
# Fashion-MNIST with mpirun (two built-in spaces, a few models each, brief
# training, two fixed points as references), its analysis and its report.
# About 15 minutes on 2 cores. Running it again resumes the sweeps where they
# stopped (finished trials are kept) and rewrites the report.
#
# Sizes can be changed through the environment, e.g. NDS_MAIN_N=20 NDS_MAIN_NP=5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh -DNDS_BUILD_TESTS=OFF -DNDS_BUILD_BENCH=OFF

n=${NDS_MAIN_N:-8}           # samples per space
np=${NDS_MAIN_NP:-3}         # MPI ranks: rank 0 keeps the database, the others train
subset=${NDS_MAIN_SUBSET:-4000}
out=${NDS_MAIN_OUT:-out}
mkdir -p "$out"
db="$out/main.db"

# Open MPI as root in a container: allow root, more ranks than cores, and the
# shared-memory transport without kernel single-copy support.
mpi=(mpirun -q --allow-run-as-root --oversubscribe --mca btl self,vader
     --mca btl_vader_single_copy_mechanism none -np "$np")
# Brief training: one epoch on a subset, small batches so that it is still
# a few hundred steps.
recipe=(--data fashion-mnist --epochs 1 --subset "$subset" --test-subset 2000 --batch-size 32
        --lr 0.1 --stem cifar)

"${mpi[@]}" ./build/cli/nds sweep --space regnet_x_cifar -n "$n" --flops 5M:40M \
  --include regnet_x_200mf,regnet_y_200mf --db "$db" --name regnet_x "${recipe[@]}"
"${mpi[@]}" ./build/cli/nds sweep --space anynet_x_a_cifar -n "$n" --flops 5M:40M \
  --db "$db" --name anynet_x_a "${recipe[@]}"

./build/cli/nds status --db "$db"
# A handful of models per space: 4 flops bins for the normalized EDF.
compare=(--db "$db" --sweep regnet_x --compare anynet_x_a --bins 4)
./build/cli/nds analyze "${compare[@]}" | tee "$out/analysis.txt"
./build/cli/nds report "${compare[@]}" -o "$out/report.html"
./build/cli/nds report "${compare[@]}" -o "$out/report.md"
echo
echo "main job done:"
echo "  report:   $(cd "$out" && pwd)/report.html (open it in a browser; Markdown: $out/report.md)"
echo "  analysis: $out/analysis.txt"
echo "  database: $db (nds query --db $db --sweeps)"
