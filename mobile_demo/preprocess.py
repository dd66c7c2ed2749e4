"""The reference for the demos' drawing -> model input step (Python; Java and JavaScript match it).

mobile_demo/android/.../core/Preprocess.java and toPixels() in mobile_demo/web/core.js implement
the same five steps, and tests/mobile_demo/ checks all three give the same tensor:

1. Bounding box of the ink (pixels > 0). No ink: an all-black image.
2. Scale the box so its longer side is 20 of 28 pixels (MNIST's digit box), keeping the aspect
   ratio: target side = round_half_up(side * box / longest), at least 1.
3. Box-average resample with integer bounds: output cell i covers source cells
   [i*n // t, max((i+1)*n // t, i*n // t + 1)); its value is the mean of those pixels.
4. Place the patch so its centre of mass lands on the image centre, as MNIST did:
   offset = floor(size/2 - com + 0.5), clamped to keep the patch inside.
5. x = (v / scale - mean) / std in float64, stored as float32.

Sums in step 3 are integers and step 4 sums row-major in float64 in every language, so the three
implementations agree bit for bit, not only within a tolerance.
"""
from __future__ import annotations

import math

import numpy as np


def box_for(size: int) -> int:
    """MNIST's digits fit 20x20 inside 28x28; other input sizes keep that ratio."""
    return max(1, math.floor(size * 20.0 / 28.0 + 0.5))


def to_pixels(gray: np.ndarray, size: int = 28) -> np.ndarray:
    """A drawing (H x W, white ink on black, 0..255) -> size x size float64 pixel values 0..255."""
    gray = np.asarray(gray)
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {list(gray.shape)}")
    out = np.zeros((size, size), dtype=np.float64)
    ys, xs = np.nonzero(gray > 0)
    if len(xs) == 0:
        return out
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    bw, bh = x1 - x0 + 1, y1 - y0 + 1
    longest, box = max(bw, bh), box_for(size)
    tw = max(1, (2 * bw * box + longest) // (2 * longest))  # round half up, in integers
    th = max(1, (2 * bh * box + longest) // (2 * longest))
    crop = gray[y0:y1 + 1, x0:x1 + 1].astype(np.int64)
    patch = np.zeros((th, tw), dtype=np.float64)
    for ty in range(th):
        sy0 = ty * bh // th
        sy1 = max((ty + 1) * bh // th, sy0 + 1)
        for tx in range(tw):
            sx0 = tx * bw // tw
            sx1 = max((tx + 1) * bw // tw, sx0 + 1)
            total = int(crop[sy0:sy1, sx0:sx1].sum())  # exact integer sum
            patch[ty, tx] = total / ((sy1 - sy0) * (sx1 - sx0))
    mass = mx = my = 0.0
    for ty in range(th):  # row-major float64 sums, the same order as Java and JavaScript
        for tx in range(tw):
            v = float(patch[ty, tx])
            mass += v
            mx += v * (tx + 0.5)
            my += v * (ty + 0.5)
    ox = min(max(math.floor(size / 2.0 - mx / mass + 0.5), 0), size - tw)
    oy = min(max(math.floor(size / 2.0 - my / mass + 0.5), 0), size - th)
    out[oy:oy + th, ox:ox + tw] = patch
    return out


def normalize(pixels: np.ndarray, scale: float, mean: float, std: float) -> np.ndarray:
    return ((np.asarray(pixels, dtype=np.float64) / scale - mean) / std).astype(np.float32)


def to_input(gray: np.ndarray, manifest: dict) -> np.ndarray:
    """A drawing -> the model input [1, 1, H, W] float32, shape and normalization from the manifest."""
    inp = manifest["input"]
    size = int(inp["shape"][2])
    norm = inp["normalization"]
    px = to_pixels(gray, size)
    return normalize(px, norm["scale"], norm["mean"][0], norm["std"][0]).reshape(1, 1, size, size)
