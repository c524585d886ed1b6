#!/usr/bin/env python3
"""Pillow's side of tools/bench-jpeg: the same files, the same three ways as JPEGDecodeBenchmark, one JSON line.

Usage: bench-jpeg-pillow.py FOLDER --target 320 --limit 50 --repetitions 3
  full_ms         Image.open(bytes).load(), converted to RGB only when not RGB already (full-size decode)
  reduced_ms      the same after Image.draft("RGB", letterbox size) (Pillow's DCT-scaled decode), then resize
  full_resize_ms  full-size decode, then resize(BILINEAR) to the letterbox (what most loaders do)
Each figure: the median over files of the per-file minimum over passes; bytes are read into memory first.
"""
import argparse
import io
import json
import os
import statistics
import time

from PIL import Image


def letterbox(w, h, t):
    s = t / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def rgb(b, draft=None):
    im = Image.open(io.BytesIO(b))
    if draft:
        im.draft("RGB", letterbox(im.size[0], im.size[1], draft))
    im.load()
    return im if im.mode == "RGB" else im.convert("RGB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--target", type=int, default=320)
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--repetitions", type=int, default=3)
    a = ap.parse_args()
    names = sorted(n for n in os.listdir(a.folder) if n.lower().endswith((".jpg", ".jpeg")))[: a.limit]
    data = [open(os.path.join(a.folder, n), "rb").read() for n in names]
    inf = float("inf")
    full, reduced, full_resize = [inf] * len(data), [inf] * len(data), [inf] * len(data)
    pixels = 0
    for p in range(a.repetitions):
        for i, b in enumerate(data):
            t0 = time.perf_counter()
            im = rgb(b)
            full[i] = min(full[i], time.perf_counter() - t0)
            if p == 0:
                pixels += im.size[0] * im.size[1]
            size = letterbox(im.size[0], im.size[1], a.target)
            t0 = time.perf_counter()
            rgb(b).resize(size, Image.Resampling.BILINEAR)
            full_resize[i] = min(full_resize[i], time.perf_counter() - t0)
            t0 = time.perf_counter()
            rgb(b, draft=a.target).resize(size, Image.Resampling.BILINEAR)
            reduced[i] = min(reduced[i], time.perf_counter() - t0)
    print(json.dumps({"decoder": "pillow " + Image.__version__, "images": len(data),
                      "megapixels": pixels / max(1, len(data)) / 1e6, "target": a.target,
                      "full_ms": 1e3 * statistics.median(full), "reduced_ms": 1e3 * statistics.median(reduced),
                      "full_resize_ms": 1e3 * statistics.median(full_resize)}))


if __name__ == "__main__":
    main()
