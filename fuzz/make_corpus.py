#!/usr/bin/python3
"""Writes the binary seed corpora of fuzz/ (IDX files, CIFAR-10 batches,
JPEG and PNG images); the text seeds (JSON, SQL) are kept as written.
Deterministic: running it again gives the same bytes (gzip without a
timestamp, fixed pixels). Needs PIL (Debian's python3-pil):
    /usr/bin/python3 fuzz/make_corpus.py
"""

import gzip
import io
import os
import struct
import zlib

from PIL import Image

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def idx(sizes, data, magic=None):
    header = struct.pack(">I", magic if magic is not None else 0x800 | len(sizes))
    return header + b"".join(struct.pack(">I", n) for n in sizes) + bytes(data)


def idx_corpus():
    images = idx([2, 4, 4], range(32))       # 2 images of 4x4
    labels = idx([2], [3, 7])
    write("fuzz_idx", "images_2x4x4", images)
    write("fuzz_idx", "images_2x4x4.gz", gz(images))
    write("fuzz_idx", "labels_2", labels)
    write("fuzz_idx", "labels_2.gz", gz(labels))
    write("fuzz_idx", "images_1x28x28.gz", gz(idx([1, 28, 28], [i % 256 for i in range(784)])))
    write("fuzz_idx", "truncated.gz", gz(idx([3, 4, 4], range(40))))
    write("fuzz_idx", "longer", idx([2], [1, 2, 3]))
    write("fuzz_idx", "float_magic", idx([2], [0] * 8, magic=0xD01))


def cifar_record(label, seed):
    return bytes([label]) + bytes((seed * 7 + p) % 256 for p in range(3072))


def cifar_corpus():
    write("fuzz_cifar", "one_record.bin", cifar_record(3, 1))
    write("fuzz_cifar", "two_records.bin", cifar_record(0, 2) + cifar_record(9, 3))
    write("fuzz_cifar", "bad_label.bin", cifar_record(10, 4))
    write("fuzz_cifar", "short.bin", cifar_record(1, 5)[:3000])


def picture(mode, w, h):
    """A small image with edges and gradients, so the codecs have work to do."""
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 37) % 256, (y * 53) % 256, ((x ^ y) * 29) % 256)
                 for y in range(h) for x in range(w)])
    return img.convert(mode) if mode != "RGB" else img


def encoded(img, fmt, **options):
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def raw_png(w, h, color_type, depth, pixel, interlace=False):
    """A PNG that PIL cannot write (16-bit RGB, Adam7): pixel(x, y) gives its bytes."""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    rows = b""
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, w, dx), range(y0, h, dy)
        if len(xs) and len(ys):
            rows += b"".join(b"\0" + b"".join(pixel(x, y) for x in xs) for y in ys)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
            png_chunk(b"IDAT", zlib.compress(rows, 9)) + png_chunk(b"IEND", b""))


def image_corpus():
    rgb = picture("RGB", 24, 17)
    put = lambda name, data: write("fuzz_image_decode", name, data)
    put("baseline.jpg", encoded(rgb, "JPEG", quality=80))
    put("baseline_444.jpg", encoded(rgb, "JPEG", quality=90, subsampling=0))
    put("progressive.jpg", encoded(rgb, "JPEG", quality=80, progressive=True))
    put("gray.jpg", encoded(picture("L", 19, 9), "JPEG", quality=75))
    put("cmyk.jpg", encoded(picture("CMYK", 8, 8), "JPEG", quality=75))
    put("wide_420.jpg", encoded(picture("RGB", 40, 16), "JPEG", quality=70, subsampling=2))
    put("gray.png", encoded(picture("L", 13, 7), "PNG"))
    put("rgb.png", encoded(rgb, "PNG"))
    put("rgba.png", encoded(picture("RGBA", 9, 9), "PNG"))
    put("palette.png", encoded(rgb.convert("P", palette=Image.ADAPTIVE, colors=16), "PNG"))
    put("gray16.png", encoded(picture("I", 6, 5).convert("I;16"), "PNG"))
    put("gray_alpha.png", encoded(picture("LA", 7, 7), "PNG"))
    put("bilevel.png", encoded(picture("1", 10, 3), "PNG"))
    rgb16 = lambda x, y: struct.pack(">HHH", x * 4099, y * 3001, (x ^ y) * 1000)
    put("rgb16.png", raw_png(7, 5, 2, 16, rgb16))
    put("interlaced.png", raw_png(11, 9, 2, 8, lambda x, y: bytes([x * 20, y * 25, 99]), True))


if __name__ == "__main__":
    idx_corpus()
    cifar_corpus()
    image_corpus()
