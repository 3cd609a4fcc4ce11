#!/usr/bin/env bash
# Installs the Debian packages nds needs. Idempotent: when everything is
# already installed it touches nothing; otherwise it runs apt-get update first.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost-program-options-dev nlohmann-json3-dev
  libgtest-dev googletest
  libsqlite3-dev sqlite3
  libtorch-dev zlib1g-dev dataset-fashion-mnist
  # Image folders: JPEG through libjpeg-turbo, PNG through libpng.
  libturbojpeg0-dev libpng-dev
  # Without it Debian's LibTorch runs every matrix product on the reference
  # BLAS (sgemm 2048^3 on 2 threads: 4.4 GFLOP/s; OpenBLAS: 172 GFLOP/s).
  libopenblas0-openmp
  python3-torch
  # bench_data's peer (torchvision's ImageFolder + DataLoader) and its photos.
  python3-torchvision python3-pil python3-skimage
  python3 python3-numpy python3-scipy
  openmpi-bin libopenmpi-dev
  # scripts/fuzz.sh: clang and its libFuzzer runtime (libclang_rt.fuzzer, only
  # recommended by clang, so named here).
  clang libclang-rt-dev
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
