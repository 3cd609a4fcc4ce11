#!/usr/bin/env bash
# The main job: install, build, then a small real design-space comparison on
# Fashion-MNIST with mpirun: AnyNetX_A against AnyNetX_E (the RegNet paper's
# first and last AnyNet spaces, both 4 stages) at equal complexity, a few
# models each under a brief recipe, then the first AnyNetX_A models again
# under a 4x longer recipe as a paired sibling sweep, so that the report shows
# how well the brief recipe ranks models. docs/main_job.md has the
# measurements behind every choice. About 15 minutes on 2 cores, build
# included. Running it again resumes the sweeps where they stopped (finished
# trials are kept) and rewrites the report.
#
# Sizes can be changed through the environment, e.g. NDS_MAIN_N=20 NDS_MAIN_NP=5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh -DNDS_BUILD_TESTS=OFF -DNDS_BUILD_BENCH=OFF

n=${NDS_MAIN_N:-6}           # samples per space
n_long=${NDS_MAIN_N_LONG:-4} # of them trained again under the 4x recipe
np=${NDS_MAIN_NP:-3}         # MPI ranks: rank 0 keeps the database, the others train
subset=${NDS_MAIN_SUBSET:-4000}
out=${NDS_MAIN_OUT:-out}
mkdir -p "$out"
db="$out/main.db"

# Open MPI as root in a container: allow root, more ranks than cores, and the
# shared-memory transport without kernel single-copy support.
mpi=(mpirun -q --allow-run-as-root --oversubscribe --mca btl self,vader
     --mca btl_vader_single_copy_mechanism none -np "$np")
# Brief training (docs/main_job.md): two epochs of a 4,000-image subset in
# batches of 32 (250 steps) at a high learning rate; the residual branches'
# last BN starts at zero, which keeps the deep, thin models stable at it.
recipe=(--data fashion-mnist --epochs 2 --subset "$subset" --test-subset 2000 --batch-size 32
        --lr 0.3 --stem cifar)
window=(--flops 3M:12M --db "$db")

"${mpi[@]}" ./build/cli/nds sweep --space anynet_x_a_cifar -n "$n" "${window[@]}" \
  --name anynet_x_a "${recipe[@]}"
"${mpi[@]}" ./build/cli/nds sweep --space anynet_x_e_cifar -n "$n" "${window[@]}" \
  --name anynet_x_e "${recipe[@]}"
# The first models of anynet_x_a again on 4x the images: their paired
# comparison says whether the brief recipe ranks models as a longer one does.
"${mpi[@]}" ./build/cli/nds sweep --recipe-of anynet_x_a -n "$n_long" --db "$db" \
  --name anynet_x_a_long --subset $((4 * subset))

./build/cli/nds status --db "$db"
# A handful of models per space: 4 flops bins for the normalized EDF.
compare=(--db "$db" --sweep anynet_x_a --compare anynet_x_e anynet_x_a_long --bins 4)
./build/cli/nds analyze "${compare[@]}" | tee "$out/analysis.txt"
./build/cli/nds report "${compare[@]}" -o "$out/report.html"
./build/cli/nds report "${compare[@]}" -o "$out/report.md"
echo
echo "main job done:"
echo "  report:   $(cd "$out" && pwd)/report.html (open it in a browser; Markdown: $out/report.md)"
echo "  analysis: $out/analysis.txt"
echo "  database: $db (nds query --db $db --sweeps)"
