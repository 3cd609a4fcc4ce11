#!/usr/bin/env python3
"""NumPy version of the analysis that bench/analysis_bench.cc times.

Usage: analysis_reference.py DATA B FRACTION BINS GRID_POINTS [--no-literal]

DATA holds int64 n, then float64 arrays errors[n], flops[n], param[n]. The
script runs the same analysis as the C++ bench (EDF, complexity-normalized EDF,
bootstrap good ranges of the parameter and of flops by the order-statistic
shortcut, and, unless --no-literal, by literal resampling), then prints
"key value..." lines: timings in ms and the results, for the bench to compare.
"""

import sys
import time

import numpy as np


def edf(errors, at):
    """F(e) = fraction of models with error < e."""
    s = np.sort(errors)
    return np.searchsorted(s, at, side='left') / len(s)


def complexity_weights(c, lo, hi, k):
    """Each non-empty log-spaced bin over [lo, hi] gets equal total mass."""
    inside = (c >= lo) & (c <= hi)
    pos = (np.log(c[inside]) - np.log(lo)) / (np.log(hi) - np.log(lo)) * k
    b = np.minimum(np.maximum(pos, 0).astype(np.int64), k - 1)
    counts = np.bincount(b, minlength=k)
    filled = np.count_nonzero(counts)
    w = np.zeros(len(c))
    w[inside] = 1.0 / (filled * counts[b])
    return w


def weighted_edf(errors, w, at):
    keep = w > 0
    e, w = errors[keep], w[keep]
    order = np.argsort(e, kind='stable')
    cum = np.concatenate([[0.0], np.cumsum(w[order])]) / w.sum()
    return cum[np.searchsorted(e[order], at, side='left')]


def best_by_order_statistic(errors, b, fraction, rng):
    """Best model of b resamples: the min of s uniform ranks, drawn directly."""
    n = len(errors)
    s = max(1.0, np.round(fraction * n))
    by_rank = np.argsort(errors, kind='stable')
    v = 1.0 - rng.random(b)
    r = np.floor(-n * np.expm1(np.log(v) / s)).astype(np.int64)
    return by_rank[np.clip(r, 0, n - 1)]


def best_by_resampling(errors, b, fraction, rng, chunk=100):
    n = len(errors)
    s = int(max(1.0, np.round(fraction * n)))
    by_rank = np.argsort(errors, kind='stable')
    rank = np.empty(n, dtype=np.int64)
    rank[by_rank] = np.arange(n)
    best = np.empty(b, dtype=np.int64)
    for start in range(0, b, chunk):
        c = min(chunk, b - start)
        draws = rng.integers(0, n, size=(c, s))
        best[start:start + c] = by_rank[rank[draws].min(axis=1)]
    return best


def good_range(best, values):
    return np.percentile(values[best], [2.5, 50, 97.5])


def main():
    path = sys.argv[1]
    b, fraction, bins, grid_points = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    literal = '--no-literal' not in sys.argv[6:]
    with open(path, 'rb') as f:
        n = int(np.fromfile(f, dtype=np.int64, count=1)[0])
        errors = np.fromfile(f, dtype=np.float64, count=n)
        flops = np.fromfile(f, dtype=np.float64, count=n)
        param = np.fromfile(f, dtype=np.float64, count=n)
    rng = np.random.default_rng(0)

    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        grid = np.linspace(errors.min(), errors.max(), grid_points)
        f = edf(errors, grid)
        w = complexity_weights(flops, flops.min(), flops.max(), bins)
        fn = weighted_edf(errors, w, grid)
        best = best_by_order_statistic(errors, b, fraction, rng)
        g_param = good_range(best, param)
        g_flops = good_range(best, flops)
        times.append((time.perf_counter() - t0) * 1e3)
    print('numpy_ms', repr(float(np.median(times))))
    print('edf', ' '.join(repr(float(v)) for v in f))
    print('normalized_edf', ' '.join(repr(float(v)) for v in fn))
    print('good_param', ' '.join(repr(float(v)) for v in g_param))
    print('good_flops', ' '.join(repr(float(v)) for v in g_flops))
    if literal:
        t0 = time.perf_counter()
        best = best_by_resampling(errors, b, fraction, rng)
        g = good_range(best, param)
        print('numpy_literal_ms', repr((time.perf_counter() - t0) * 1e3))
        print('good_param_literal', ' '.join(repr(float(v)) for v in g))


if __name__ == '__main__':
    main()
