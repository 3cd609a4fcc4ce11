#!/usr/bin/env python3
"""Straightforward pycls-style RegNet expansion + complexity, the peer that
bench_expand measures nds against.

It does what a pycls user would do in Python: numpy for generate_regnet, plain
lists for the compatibility adjustment, and a {h, w, flops, params, acts} dict
threaded through one small function per layer. The counting conventions are
those of space/complexity.cc, so both sides must agree exactly.

  regnet_reference.py --n N [--seed S]   time N random models, print one JSON line
                                         {models, seconds, models_per_s, cpu_seconds}
  regnet_reference.py --check            JSON parameter sets on stdin, one per
                                         line; prints {params, flops, acts} per line

Needs only Python 3 and numpy.
"""

import argparse
import json
import random
import sys
import time

import numpy as np

RESOLUTION = 224
IN_CHANNELS = 3
NUM_CLASSES = 1000
GROUP_WIDTHS = [1, 2, 4, 8, 16, 24, 32, 48, 64]


# ---------------------------------------------------------------- expansion


def generate_regnet(w_a, w_0, w_m, d, q=8):
    """Per-stage widths and depths from the quantized linear rule."""
    if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % q != 0 or d < 1:
        raise ValueError("invalid RegNet parameters")
    ws_cont = np.arange(d) * w_a + w_0
    ks = np.round(np.log(ws_cont / w_0) / np.log(w_m))
    ws_all = w_0 * np.power(w_m, ks)
    ws_all = np.round(np.divide(ws_all, q)).astype(int) * q
    ws, ds = np.unique(ws_all, return_counts=True)
    return ws.tolist(), ds.tolist()


def adjust_block_compatibility(ws, bot_muls, gs):
    """Makes every bottleneck width a multiple of its group width."""
    vs = [int(max(1, w * b)) for w, b in zip(ws, bot_muls)]
    gs = [int(min(g, v)) for g, v in zip(gs, vs)]
    ms = [int(np.lcm(g, int(b))) if b > 1 else g for g, b in zip(gs, bot_muls)]
    vs = [max(m, int(round(v / m) * m)) for v, m in zip(vs, ms)]
    ws = [int(v / b) for v, b in zip(vs, bot_muls)]
    return ws, bot_muls, gs


def regnet_stages(p):
    """The AnyNet stage lists a RegNet parameter set stands for."""
    ws, ds = generate_regnet(p["w_a"], p["w_0"], p["w_m"], p["depth"], p.get("quantum", 8))
    g = p["group_width"]
    # Same rule as nds: a group width wider than every stage is an error.
    if g < 1 or g > max(ws):
        raise ValueError("group_width wider than every stage")
    n = len(ws)
    bot_muls = [1.0 / p.get("bottleneck_ratio", 1.0)] * n
    gs = [min(g, w) for w in ws]
    ws, bot_muls, gs = adjust_block_compatibility(ws, bot_muls, gs)
    ss = [p.get("stride", 2)] * n
    return ws, ds, ss, bot_muls, gs


# --------------------------------------------------------------- complexity


def conv2d_cx(cx, w_in, w_out, k, stride=1, groups=1, bias=False):
    h = (cx["h"] - 1) // stride + 1  # padding k // 2, odd k
    w = (cx["w"] - 1) // stride + 1
    flops = cx["flops"] + k * k * w_in * w_out * h * w // groups + (w_out * h * w if bias else 0)
    params = cx["params"] + k * k * w_in * w_out // groups + (w_out if bias else 0)
    acts = cx["acts"] + w_out * h * w
    return {"h": h, "w": w, "flops": flops, "params": params, "acts": acts}


def norm2d_cx(cx, w_in):
    return {"h": cx["h"], "w": cx["w"], "flops": cx["flops"],
            "params": cx["params"] + 2 * w_in, "acts": cx["acts"]}


def pool2d_cx(cx, w_in, k, stride=1):
    h = (cx["h"] - 1) // stride + 1
    w = (cx["w"] - 1) // stride + 1
    return {"h": h, "w": w, "flops": cx["flops"], "params": cx["params"],
            "acts": cx["acts"] + w_in * h * w}


def gap2d_cx(cx, w_in):
    return {"h": 1, "w": 1, "flops": cx["flops"], "params": cx["params"], "acts": cx["acts"]}


def linear_cx(cx, w_in, w_out, bias=False):
    extra = w_out if bias else 0
    return {"h": cx["h"], "w": cx["w"], "flops": cx["flops"] + w_in * w_out + extra,
            "params": cx["params"] + w_in * w_out + extra, "acts": cx["acts"] + w_out}


def se_cx(cx, w_in, w_se):
    h, w = cx["h"], cx["w"]
    cx = gap2d_cx(cx, w_in)
    cx = conv2d_cx(cx, w_in, w_se, 1, bias=True)
    cx = conv2d_cx(cx, w_se, w_in, 1, bias=True)
    cx["h"], cx["w"] = h, w  # the gate broadcasts back over the input
    return cx


def bottleneck_transform_cx(cx, w_in, w_out, stride, bot_mul, group_w, se_r):
    w_b = int(round(w_out * bot_mul))
    w_se = int(round(w_in * se_r))
    groups = w_b // group_w
    cx = conv2d_cx(cx, w_in, w_b, 1)
    cx = norm2d_cx(cx, w_b)
    cx = conv2d_cx(cx, w_b, w_b, 3, stride=stride, groups=groups)
    cx = norm2d_cx(cx, w_b)
    if w_se > 0:
        cx = se_cx(cx, w_b, w_se)
    cx = conv2d_cx(cx, w_b, w_out, 1)
    cx = norm2d_cx(cx, w_out)
    return cx


def res_bottleneck_block_cx(cx, w_in, w_out, stride, bot_mul, group_w, se_r):
    if w_in != w_out or stride != 1:
        h, w = cx["h"], cx["w"]
        cx = conv2d_cx(cx, w_in, w_out, 1, stride=stride)
        cx = norm2d_cx(cx, w_out)
        cx["h"], cx["w"] = h, w  # the transform starts from the block input
    return bottleneck_transform_cx(cx, w_in, w_out, stride, bot_mul, group_w, se_r)


def simple_stem_cx(cx, w_in, w_out):
    cx = conv2d_cx(cx, w_in, w_out, 3, stride=2)
    return norm2d_cx(cx, w_out)


def head_cx(cx, w_in, head_w, num_classes):
    if head_w > 0:
        cx = conv2d_cx(cx, w_in, head_w, 1)
        cx = norm2d_cx(cx, head_w)
        w_in = head_w
    cx = gap2d_cx(cx, w_in)
    return linear_cx(cx, w_in, num_classes, bias=True)


def regnet_complexity(p, resolution=RESOLUTION):
    """Expands a RegNet parameter set and counts its cost on one image."""
    if p.get("stem_type", "simple_stem_in") != "simple_stem_in":
        raise ValueError("only simple_stem_in is implemented")
    ws, ds, ss, bot_muls, gs = regnet_stages(p)
    stem_w = p.get("stem_w", 32)
    se_r = p.get("se_ratio", 0.0)
    cx = {"h": resolution, "w": resolution, "flops": 0, "params": 0, "acts": 0}
    cx = simple_stem_cx(cx, IN_CHANNELS, stem_w)
    w_in = stem_w
    for w, d, s, bm, g in zip(ws, ds, ss, bot_muls, gs):
        for i in range(d):
            cx = res_bottleneck_block_cx(cx, w_in, w, s if i == 0 else 1, bm, g, se_r)
            w_in = w
    return head_cx(cx, w_in, p.get("head_w", 0), NUM_CLASSES)


# ------------------------------------------------------------------ driver


def random_params(rng):
    """One parameter set from the same ranges as bench/expand_bench.cc."""
    return {
        "depth": rng.randint(12, 28),
        "w_0": 8 * rng.randint(1, 32),
        "w_a": rng.uniform(8.0, 256.0),
        "w_m": rng.uniform(1.5, 3.0),
        "group_width": rng.choice(GROUP_WIDTHS),
        "bottleneck_ratio": 1.0,
        "se_ratio": rng.choice([0.0, 0.25]),
    }


def run_check():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cx = regnet_complexity(json.loads(line))
        print(json.dumps({"params": cx["params"], "flops": cx["flops"], "acts": cx["acts"]}))


def run_timing(n, seed):
    rng = random.Random(seed)
    sets = []
    while len(sets) < n:  # sampling and validity are outside the timed region
        p = random_params(rng)
        try:
            regnet_complexity(p)
        except ValueError:
            continue
        sets.append(p)
    checksum = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for p in sets:
        cx = regnet_complexity(p)
        checksum += cx["params"] + cx["flops"] + cx["acts"]
    seconds = time.perf_counter() - start
    # CPU time too: on a shared machine it shows how much of the wall time
    # this process actually ran.
    cpu_seconds = time.process_time() - cpu_start
    assert checksum > 0
    print(json.dumps({"models": n, "seconds": seconds, "models_per_s": n / seconds,
                      "cpu_seconds": cpu_seconds}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000, help="models to time")
    ap.add_argument("--seed", type=int, default=1, help="sampling seed")
    ap.add_argument("--check", action="store_true",
                    help="read JSON parameter sets from stdin, print their complexity")
    args = ap.parse_args()
    if args.check:
        run_check()
    else:
        if args.n < 1:
            ap.error("--n must be positive")
        run_timing(args.n, args.seed)


if __name__ == "__main__":
    main()
