#!/usr/bin/env python3
"""Generates the PNG decoding fixtures for ImagingTests (run once; its output is committed).

Requires Pillow and pypng (`pip install pillow pypng`; generated with Pillow 13.0.0, pypng 0.20220715.0, numpy's
PCG64 generator seeded below, so a rerun reproduces the committed bytes). Pillow writes most files; pypng writes what Pillow cannot
(Adam7-interlaced files, 16-bit grey+alpha and RGBA). Every image is made from known sample arrays; the expected
8-bit RGB decode is computed from those arrays with the conventions of `Imaging.PNG`, not from any decoder:
  - n-bit grey/colour sample v -> round(v * 255 / (2^n - 1))  (16-bit samples are taken as sRGB-encoded)
  - alpha is composited on black in linear light: out = srgb(linear(c) * a)
  - palette index -> palette entry (tRNS alpha composited as above)
Writes <name>.png and <name>.rgb (raw RGB bytes, rows top to bottom) per case, plus manifest.json with sizes,
descriptions and the tolerance per case (in 8-bit levels: 0 for exact cases, 1 for rounding of 16-bit scaling and
of compositing, 2 for 16-bit alpha, which the decoder quantises to 8 bits before compositing), plus a few deliberately broken files, and the Pillow
bilinear references (resize_src*.rgb / resize_pillow_WxH.rgb).
"""
import json
import os
import struct
import zlib

import numpy as np
import png  # pypng
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261123)
W, H = 13, 5  # odd width exercises sub-byte row padding
manifest = []


def srgb_to_linear(c):
    c = np.asarray(c, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c):
    c = np.asarray(c, dtype=np.float64)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def scale(v, bits):
    return np.rint(np.asarray(v, dtype=np.float64) * 255 / (2**bits - 1))


def composite(colour, alpha, bits):
    """colour, alpha: integer samples of the given bit depth -> 8-bit composited on black."""
    c = np.asarray(colour, dtype=np.float64) / (2**bits - 1)
    a = np.asarray(alpha, dtype=np.float64) / (2**bits - 1)
    return np.rint(255 * linear_to_srgb(srgb_to_linear(c) * a[..., None]))


def samples(bits, shape):
    top = 2**bits - 1
    v = rng.integers(0, top + 1, size=shape)
    flat = v.reshape(-1)
    flat[0], flat[1] = 0, top  # always include both extremes
    return v


def emit(name, description, rgb, tolerance, writer):
    path = os.path.join(HERE, name + ".png")
    writer(path)
    rgb = np.asarray(rgb, dtype=np.float64)
    assert rgb.shape == (H, W, 3), (name, rgb.shape)
    with open(os.path.join(HERE, name + ".rgb"), "wb") as f:
        f.write(np.clip(rgb, 0, 255).astype(np.uint8).tobytes())
    manifest.append({"name": name, "width": W, "height": H, "description": description, "tolerance": tolerance})


def grey_rgb(v8):
    return np.repeat(np.asarray(v8)[..., None], 3, axis=2)


# Grey 1/2/4/8-bit (Pillow mode L with `bits`; mode 1 for 1-bit), 16-bit (Pillow I;16).
for bits in (1, 2, 4, 8):
    v = samples(bits, (H, W))
    def write(path, v=v, bits=bits):
        if bits == 1:
            Image.fromarray((v * 255).astype(np.uint8)).convert("1").save(path)
        else:
            full = np.rint(v * 255 / (2**bits - 1)).astype(np.uint8)
            Image.fromarray(full, mode="L").save(path, bits=bits) if bits != 8 else Image.fromarray(full).save(path)
    emit(f"grey{bits}", f"greyscale {bits}-bit (Pillow)", grey_rgb(scale(v, bits)), 0, write)

v16 = samples(16, (H, W))
emit("grey16", "greyscale 16-bit (Pillow I;16)", grey_rgb(scale(v16, 16)), 1,
     lambda p: Image.fromarray(v16.astype(np.uint16)).save(p))

# Grey + alpha 8-bit (Pillow LA), 16-bit (pypng).
g, a = samples(8, (H, W)), samples(8, (H, W))
emit("grey_alpha8", "greyscale+alpha 8-bit (Pillow LA), composited on black", grey_rgb(composite(g[..., None], a, 8)[..., 0]), 1,
     lambda p: Image.fromarray(np.stack([g, a], axis=2).astype(np.uint8), mode="LA").save(p))
g16, a16 = samples(16, (H, W)), samples(16, (H, W))
emit("grey_alpha16", "greyscale+alpha 16-bit (pypng), composited on black",
     grey_rgb(composite(g16[..., None], a16, 16)[..., 0]), 2,
     lambda p: png.Writer(W, H, greyscale=True, alpha=True, bitdepth=16).write(
         open(p, "wb"), np.stack([g16, a16], axis=2).reshape(H, -1).tolist()))

# RGB 8 and 16-bit (Pillow; 16-bit through pypng since Pillow has no 16-bit RGB mode).
c8 = samples(8, (H, W, 3))
emit("rgb8", "RGB 8-bit (Pillow)", c8, 0, lambda p: Image.fromarray(c8.astype(np.uint8), mode="RGB").save(p))
c16 = samples(16, (H, W, 3))
emit("rgb16", "RGB 16-bit (pypng)", scale(c16, 16), 1,
     lambda p: png.Writer(W, H, greyscale=False, bitdepth=16).write(open(p, "wb"), c16.reshape(H, -1).tolist()))

# RGBA 8-bit (Pillow) and 16-bit (pypng).
c, al = samples(8, (H, W, 3)), samples(8, (H, W))
emit("rgba8", "RGBA 8-bit (Pillow), composited on black", composite(c, al, 8), 1,
     lambda p: Image.fromarray(np.concatenate([c, al[..., None]], axis=2).astype(np.uint8), mode="RGBA").save(p))
c16a, al16 = samples(16, (H, W, 3)), samples(16, (H, W))
emit("rgba16", "RGBA 16-bit (pypng), composited on black", composite(c16a, al16, 16), 2,
     lambda p: png.Writer(W, H, greyscale=False, alpha=True, bitdepth=16).write(
         open(p, "wb"), np.concatenate([c16a, al16[..., None]], axis=2).reshape(H, -1).tolist()))

# Palette 4-bit and 8-bit without tRNS, 8-bit with tRNS (Pillow P).
for bits, n in ((4, 11), (8, 200)):
    palette = samples(8, (n, 3))
    idx = rng.integers(0, n, size=(H, W))
    def write(path, palette=palette, idx=idx, bits=bits):
        im = Image.fromarray(idx.astype(np.uint8), mode="P")
        im.putpalette(palette.astype(np.uint8).reshape(-1).tolist())
        im.save(path, bits=bits) if bits != 8 else im.save(path)
    emit(f"palette{bits}", f"palette {bits}-bit, {n} colours, no tRNS (Pillow)", palette[idx], 0, write)

palette = samples(8, (40, 3))
palpha = samples(8, (40,))
idx = rng.integers(0, 40, size=(H, W))
def write_trns(path):
    im = Image.fromarray(idx.astype(np.uint8), mode="P")
    im.putpalette(palette.astype(np.uint8).reshape(-1).tolist())
    im.save(path, transparency=palpha.astype(np.uint8).tobytes())
emit("palette8_trns", "palette 8-bit with tRNS alpha per entry (Pillow), composited on black",
     composite(palette[idx], palpha[idx], 8), 1, write_trns)

# Adam7 interlaced (pypng): RGB 8-bit and grey 2-bit.
ci = samples(8, (H, W, 3))
emit("interlaced_rgb8", "Adam7-interlaced RGB 8-bit (pypng)", ci, 0,
     lambda p: png.Writer(W, H, greyscale=False, bitdepth=8, interlace=True).write(
         open(p, "wb"), ci.reshape(H, -1).tolist()))
gi = samples(2, (H, W))
emit("interlaced_grey2", "Adam7-interlaced greyscale 2-bit (pypng)", grey_rgb(scale(gi, 2)), 0,
     lambda p: png.Writer(W, H, greyscale=True, bitdepth=2, interlace=True).write(open(p, "wb"), gi.tolist()))

# Sanity: Pillow decodes the opaque 8-bit and palette files to the expected values.
for case in manifest:
    if case["tolerance"] == 0 and case["name"] in ("rgb8", "palette4", "palette8", "interlaced_rgb8"):
        got = np.asarray(Image.open(os.path.join(HERE, case["name"] + ".png")).convert("RGB"))
        want = np.frombuffer(open(os.path.join(HERE, case["name"] + ".rgb"), "rb").read(), np.uint8).reshape(H, W, 3)
        assert (got == want).all(), case["name"]

with open(os.path.join(HERE, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)


# Broken files.
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


good = open(os.path.join(HERE, "rgb8.png"), "rb").read()
open(os.path.join(HERE, "bad_truncated.png"), "wb").write(good[: len(good) * 2 // 3])
open(os.path.join(HERE, "bad_not_png.png"), "wb").write(b"This is a text file, not an image.\n" * 4)
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)  # 100000 x 100000 RGB 8-bit, valid CRC
idat = zlib.compress(b"\x00" + b"\x00" * 300)
open(os.path.join(HERE, "bad_huge_header.png"), "wb").write(
    b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))

# Pillow bilinear upsampling reference: 5x4 -> 13x9 (Pillow's BILINEAR equals pixel-centre bilinear when enlarging).
src = rng.integers(0, 256, size=(4, 5, 3)).astype(np.uint8)
open(os.path.join(HERE, "resize_src.rgb"), "wb").write(src.tobytes())
up = np.asarray(Image.fromarray(src, mode="RGB").resize((13, 9), Image.BILINEAR))
open(os.path.join(HERE, "resize_pillow_13x9.rgb"), "wb").write(up.tobytes())
# Pillow bilinear downsampling reference (antialiased: the triangle filter widens by the scale factor).
big = rng.integers(0, 256, size=(17, 23, 3)).astype(np.uint8)
open(os.path.join(HERE, "resize_src_23x17.rgb"), "wb").write(big.tobytes())
for w, h in ((9, 7), (10, 17), (4, 3)):
    small = np.asarray(Image.fromarray(big, mode="RGB").resize((w, h), Image.BILINEAR))
    open(os.path.join(HERE, f"resize_pillow_{w}x{h}.rgb"), "wb").write(small.tobytes())
print(f"wrote {len(manifest)} decoding cases, 3 broken files and the resize reference to {HERE}")
