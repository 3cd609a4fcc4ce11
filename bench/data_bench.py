#!/usr/bin/python3
"""Image-folder data pipeline: `nds data bench` against torchvision.

Makes an ImageNet-like JPEG folder (bench/data_photos.py, from skimage's
sample photographs; nothing is downloaded), reads every file once so both
loaders start from a warm page cache, then measures training images/s:

  torchvision  ImageFolder + RandomResizedCrop(R), RandomHorizontalFlip,
               ToTensor, Normalize; DataLoader(batch_size=128, shuffle,
               num_workers=2, persistent_workers, drop_last), at its best:
               an untimed epoch starts and warms the workers, then the
               second epoch is timed from iter(loader) to the last batch (its
               first batch's latency is printed beside it).
  nds          nds data bench --data imagefolder:DIR --resolution R
               --batch-size 128 --threads 2 --epochs 2 --json: the second
               epoch's images_per_s (no cache), as torchvision's.

at R = 224 and 64, then nds's decode-only ceiling (full-scale decode with 2
threads, nothing else) and its 2-epoch run with a decoded-image cache.
Targets: nds/torchvision >= 2x (aim 3x); cached epoch 2 / epoch 1 >= 10x.
The benchmark reports; it exits 0 when a target is missed, non-zero only when
a command fails.

  /usr/bin/python3 bench/data_bench.py --nds build/nds [--images 1024]
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data_photos  # noqa: E402

RESOLUTIONS = (224, 64)
BATCH = 128
THREADS = 2
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


# --- data ----------------------------------------------------------------


def prepare_folder(root, images, seed):
    """Makes (or reuses, if made with the same arguments) the image folder."""
    root = pathlib.Path(root)
    stamp = root / ".data_photos.json"
    want = {"train": images, "val": max(BATCH, images // 8), "classes": 16,
            "seed": seed}
    if stamp.exists():
        if json.loads(stamp.read_text()) == want:
            print(f"data: reusing {root}")
            return root
        for split in ("train", "val"):  # ours, made with other arguments
            shutil.rmtree(root / split, ignore_errors=True)
    elif (root / "train").exists() or (root / "val").exists():
        raise RuntimeError(f"{root} has train/ or val/ not made by this script")
    t = time.perf_counter()
    data_photos.make_folder(root, **want)
    stamp.write_text(json.dumps(want))
    print(f"data: {images} train + {want['val']} val JPEGs, 16 classes, in "
          f"{root} ({time.perf_counter() - t:.1f} s to make)")
    return root


def warm_page_cache(root):
    files = sorted((root / "train").rglob("*.JPEG"))
    total = sum(len(f.read_bytes()) for f in files)
    print(f"data: {len(files)} train files, {total / len(files) / 1e3:.1f} KB "
          f"mean, read once to warm the page cache")


# --- torchvision -----------------------------------------------------------


def _loader(root, resolution, seed):
    import torch
    from torchvision import datasets, transforms
    tf = transforms.Compose([
        transforms.RandomResizedCrop(resolution),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD)])
    ds = datasets.ImageFolder(str(root / "train"), transform=tf)
    g = torch.Generator()
    g.manual_seed(seed)
    return torch.utils.data.DataLoader(
        ds, batch_size=BATCH, shuffle=True, num_workers=THREADS,
        drop_last=True, persistent_workers=True, generator=g)


def torchvision_epoch(root, resolution, seed=0):
    """Returns {'images', 'seconds', 'images_per_s', 'first_batch_s'}."""
    loader = _loader(root, resolution, seed)
    for _ in loader:  # an untimed epoch: workers started and warm, as at their best
        pass
    t0 = time.perf_counter()
    t_first, images = None, 0
    for x, _ in loader:
        images += x.shape[0]
        if t_first is None:
            t_first = time.perf_counter()
    t1 = time.perf_counter()
    if images == 0:
        raise RuntimeError("torchvision: no full batch (use more --images)")
    return {"images": images, "seconds": t1 - t0,
            "images_per_s": images / (t1 - t0), "first_batch_s": t_first - t0}


# --- nds -----------------------------------------------------------------


def run_nds(nds, root, resolution, *extra):
    cmd = [nds, "data", "bench", "--data", f"imagefolder:{root}",
           "--resolution", str(resolution), "--batch-size", str(BATCH),
           "--threads", str(THREADS), "--json", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        raise RuntimeError(f"exit {r.returncode}: {' '.join(cmd)}")
    try:
        return json.loads(r.stdout)
    except ValueError:  # tolerate other lines around the one JSON line
        for line in reversed(r.stdout.splitlines()):
            if line.lstrip().startswith("{"):
                return json.loads(line)
    raise RuntimeError(f"no JSON on stdout: {' '.join(cmd)}\n{r.stdout}")


def check_nds(nds):
    """Fails early, before the slow part, when nds lacks `data bench`."""
    r = subprocess.run([nds, "data", "bench", "--help"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise RuntimeError(f"{nds} data bench --help: exit {r.returncode}")


# --- report --------------------------------------------------------------


def mark(value, target):
    return "ok" if value >= target else "MISSED"


def bench_resolutions(args, root):
    """Torchvision and nds pipeline at each R; returns {R: nds img/s}."""
    nds_rate = {}
    for r in RESOLUTIONS:
        tv = torchvision_epoch(root, r, args.seed)
        print(f"torchvision R={r:3d}: {tv['images_per_s']:8.1f} img/s "
              f"({tv['images']} images, {tv['seconds']:.2f} s, second epoch of "
              f"persistent workers; first batch at {tv['first_batch_s']:.2f} s)",
              flush=True)
        if args.torchvision_only:
            continue
        nd = run_nds(args.nds, root, r, "--epochs", "2")["epochs"][1]  # epoch 2, as torchvision's
        nds_rate[r] = nd["images_per_s"]
        ratio = nd["images_per_s"] / tv["images_per_s"]
        print(f"nds         R={r:3d}: {nd['images_per_s']:8.1f} img/s "
              f"({nd['images']} images, {nd['seconds']:.2f} s, second epoch, no cache)")
        print(f"ratio       R={r:3d}: nds/torchvision = {ratio:5.2f}x  "
              f"(target >= 2x, aim 3x: {mark(ratio, 2.0)})", flush=True)
    return nds_rate


def bench_decode_only(args, root, nds_rate):
    d = run_nds(args.nds, root, RESOLUTIONS[0], "--decode-only")
    print(f"nds decode-only ceiling: {d['images_per_s']:8.1f} img/s "
          f"({d['images']} images, {d['seconds']:.2f} s, {THREADS} threads)")
    for r, rate in nds_rate.items():
        print(f"pipeline share R={r:3d}: {rate:8.1f} / {d['images_per_s']:.1f}"
              f" = {rate / d['images_per_s']:5.1%} of decode-only")


def bench_cache(args, root):
    c = run_nds(args.nds, root, 64, "--epochs", "2", "--cache", "4G")
    e1, e2 = (e["images_per_s"] for e in c["epochs"][:2])
    print(f"nds cache R= 64 epoch 1: {e1:8.1f} img/s (decodes, fills cache)")
    print(f"nds cache R= 64 epoch 2: {e2:8.1f} img/s (from cache)")
    print(f"cache ratio epoch2/epoch1 = {e2 / e1:5.2f}x  "
          f"(target >= 10x: {mark(e2 / e1, 10.0)})")


def run(args, root):
    if not args.torchvision_only:
        check_nds(args.nds)
    root = prepare_folder(root, args.images, args.seed)
    warm_page_cache(root)
    print(f"batch {BATCH}, {THREADS} workers/threads, {os.cpu_count()} CPUs")
    nds_rate = bench_resolutions(args, root)
    if not args.torchvision_only:
        bench_decode_only(args, root, nds_rate)
        bench_cache(args, root)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nds", help="the nds binary (needs `nds data bench`)")
    p.add_argument("--images", type=int, default=1024, help="train images")
    p.add_argument("--keep", help="make (or reuse) the image folder here "
                   "and keep it, instead of a temporary directory")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--torchvision-only", action="store_true",
                   help="measure torchvision alone (no --nds needed)")
    args = p.parse_args()
    if not args.torchvision_only and not args.nds:
        p.error("--nds is required (or --torchvision-only)")
    if args.images < BATCH:
        p.error(f"--images must be at least the batch size ({BATCH})")
    if args.nds:
        args.nds = os.path.abspath(args.nds)
    try:
        if args.keep:
            run(args, pathlib.Path(args.keep).resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="nds_data_bench_") as d:
                run(args, pathlib.Path(d))
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        print(f"data_bench: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
