#!/usr/bin/python3
"""Makes an ImageNet-like JPEG image folder from skimage's sample photographs.

The data pipeline benchmark (bench/data_bench.py) needs real JPEG photographs
of ImageNet's size and kind, with nothing downloaded. Debian's python3-skimage
ships a few photographs in its package data directory; each output image is a
random crop of one of them (each side at least 40% of the photo's), resized
with PIL (LANCZOS) so that its longer side is 400-500 px at the crop's own
aspect, and saved as JPEG at quality 85-95 (4:2:0, PIL's default). About 2%
are saved as grayscale JPEGs, as in ImageNet. Many crops are upscaled, so the
files are smoother than real photographs: about 43 KB (2.4 bits/pixel) on
average at ~420x340, against ImageNet's ~110 KB; their entropy decoding is
correspondingly cheaper, for every loader alike.

Writes OUT/train/<class>/*.JPEG and OUT/val/<class>/*.JPEG (torchvision
ImageFolder layout). The same arguments give the same files.

  python3 bench/data_photos.py OUT --train 1024 --val 128 --classes 16 --seed 0
"""

import argparse
import os
import pathlib

import numpy as np
from PIL import Image

# Photographs that skimage 0.19.3 loads from its own data directory (the
# others in skimage.data need pooch and the network).
COLOUR = ["astronaut", "coffee", "chelsea", "rocket", "motorcycle_left",
          "motorcycle_right", "hubble_deep_field", "immunohistochemistry",
          "retina"]
GRAY = ["camera", "brick", "grass", "gravel", "moon", "coins", "clock"]
GRAY_FRACTION = 0.02


def _skimage_data_dir():
    import skimage.data  # noqa: F401  (only to locate its directory)
    return pathlib.Path(skimage.data.__file__).parent


def _load(name):
    # Reads the files directly: skimage.data's loaders are not needed, and the
    # stereo pair lives in one function that returns both views.
    files = {"motorcycle_left": "motorcycle_left.png",
             "motorcycle_right": "motorcycle_right.png",
             "immunohistochemistry": "ihc.png",
             "hubble_deep_field": "hubble_deep_field.jpg",
             "rocket": "rocket.jpg", "retina": "retina.jpg",
             "clock": "clock_motion.png"}
    path = _skimage_data_dir() / files.get(name, name + ".png")
    if not path.exists():
        raise FileNotFoundError(f"{path}: python3-skimage data file missing")
    with Image.open(path) as im:
        return im.convert("L" if name in GRAY else "RGB")


def load_photos():
    """Returns ({name: RGB image}, {name: L image}); grayscale pool holds all."""
    colour = {n: _load(n) for n in COLOUR}
    gray = {n: _load(n) for n in GRAY}
    gray.update({n: im.convert("L") for n, im in colour.items()})
    return colour, gray


def _random_crop(im, rng):
    w, h = im.size
    cw = int(round(w * rng.uniform(0.4, 1.0)))
    ch = int(round(h * rng.uniform(0.4, 1.0)))
    x = int(rng.integers(0, w - cw + 1))
    y = int(rng.integers(0, h - ch + 1))
    return im.crop((x, y, x + cw, y + ch))


def _resize(im, rng):
    w, h = im.size
    scale = int(rng.integers(400, 501)) / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return im.resize(size, Image.LANCZOS)


def make_image(photos, rng):
    """One JPEG-ready image and its quality, drawn from rng."""
    colour, gray = photos
    pool = gray if rng.random() < GRAY_FRACTION else colour
    names = sorted(pool)
    im = pool[names[int(rng.integers(len(names)))]]
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    im = _resize(_random_crop(im, rng), rng)
    return im, int(rng.integers(85, 96))


def write_split(out, split, count, classes, seed, photos):
    """Writes count images to out/split/<class>/, image i to class i % classes."""
    split_id = {"train": 0, "val": 1}[split]
    for c in range(classes):
        (out / split / f"n{c:08d}").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        # One generator per image: the files do not depend on generation order.
        rng = np.random.default_rng([seed, split_id, i])
        im, quality = make_image(photos, rng)
        c = i % classes
        path = out / split / f"n{c:08d}" / f"n{c:08d}_{i:06d}.JPEG"
        im.save(path, "JPEG", quality=quality)


def make_folder(out, train, val, classes=16, seed=0):
    """Writes the whole folder; returns its path."""
    out = pathlib.Path(out)
    photos = load_photos()
    write_split(out, "train", train, classes, seed, photos)
    write_split(out, "val", val, classes, seed, photos)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", help="output directory (train/ and val/ go in it)")
    p.add_argument("--train", type=int, default=1024, help="train images")
    p.add_argument("--val", type=int, default=128, help="val images")
    p.add_argument("--classes", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.classes < 1 or a.train < 0 or a.val < 0:
        p.error("need --classes >= 1 and non-negative image counts")
    make_folder(a.out, a.train, a.val, a.classes, a.seed)
    print(f"wrote {a.train} train + {a.val} val images, {a.classes} classes, "
          f"to {os.path.abspath(a.out)}")


if __name__ == "__main__":
    main()
