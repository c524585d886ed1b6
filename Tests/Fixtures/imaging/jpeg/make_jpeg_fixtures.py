#!/usr/bin/env python3
"""Generates the JPEG fixtures for ImagingTests and the committed JPEG sample dataset (run once; output committed).

Requires Pillow and numpy (`pip install pillow numpy`; generated with Pillow 13.0.0, which bundles libjpeg-turbo).
Run from anywhere: `python3 Tests/Fixtures/imaging/jpeg/make_jpeg_fixtures.py`.

1. Tests/Fixtures/imaging/jpeg/: a smooth, asymmetric 24x16 picture saved as baseline, progressive, grey and CMYK
   JPEGs and with each EXIF orientation 1..8 (the stored pixels turned so that the upright picture is the same
   for every tag). Each <name>.rgb holds Pillow's decode, `ImageOps.exif_transpose(im).convert("RGB")`, the
   reference Imaging.JPEG is held to (manifest.json: size, orientation, tolerance in 8-bit levels).
   Broken files: bad_truncated.jpg (cut at 60%), bad_huffman_table.jpg (a DHT whose code counts exceed 256),
   bad_scan_data.jpg (scan bytes overwritten: recoverable, libjpeg-turbo warns), bad_empty.jpg (0 bytes),
   bad_bomb.jpg (frame header patched to 65500x65500), bad_text.jpg (a text file).
2. datasets/sample_jpeg/: the first 8 training and 4 validation images of datasets/sample re-encoded at quality 85
   with boxes unchanged; training images 2 progressive, 3 EXIF orientation 6, 4 orientation 3, 5 grey, 6 CMYK,
   7 cropped to 256x160 (boxes inside kept) and stored turned with orientation 8.
"""
import io
import json
import os

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))

# Which stored-pixel turn each tag undoes (Pillow transpose methods; exif_transpose applies the inverse).
STORE = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
         4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
         7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


def pattern(w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 40 + 180 * x / (w - 1)
    g = 30 + 200 * y / (h - 1)
    b = 200 - 120 * (x / (w - 1)) * (y / (h - 1))
    rgb = np.stack([r, g, b], axis=-1)
    rgb[: h // 3, : w // 4] = (230, 40, 40)  # a red block top-left marks the orientation
    return Image.fromarray(np.clip(rgb, 0, 255).round().astype(np.uint8), "RGB")


def jpeg_bytes(im, **kw):
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def with_orientation(upright, tag, **kw):
    stored = upright if STORE[tag] is None else upright.transpose(STORE[tag])
    exif = Image.Exif()
    exif[0x0112] = tag
    data = jpeg_bytes(stored, exif=exif.tobytes(), **kw)
    check = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert check.size == upright.size, (tag, check.size)
    return data


def pillow_rgb(data):
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")


def imaging_fixtures():
    manifest = []
    upright = pattern(24, 16)

    def add(name, data, description, orientation=1, tolerance=2):
        with open(os.path.join(HERE, name + ".jpg"), "wb") as f:
            f.write(data)
        ref = pillow_rgb(data)
        with open(os.path.join(HERE, name + ".rgb"), "wb") as f:
            f.write(ref.tobytes())
        manifest.append({"name": name, "width": ref.size[0], "height": ref.size[1], "orientation": orientation,
                         "description": description, "tolerance": tolerance})

    add("baseline", jpeg_bytes(upright, quality=95), "baseline 4:2:0, quality 95")
    add("progressive", jpeg_bytes(upright, quality=95, progressive=True), "progressive 4:2:0, quality 95")
    add("grey", jpeg_bytes(upright.convert("L"), quality=95), "one-component grey")
    # Pillow writes CMYK inverted with an Adobe marker (as Photoshop) and converts with (255-C)(255-K)/255.
    add("cmyk", jpeg_bytes(upright.convert("CMYK"), quality=95), "CMYK with Adobe marker (inverted)")
    for tag in range(1, 9):
        add(f"orientation{tag}", with_orientation(upright, tag, quality=95), f"EXIF orientation {tag}", tag)
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    rng = np.random.default_rng(20261202)
    noisy = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), "RGB")
    good = jpeg_bytes(noisy, quality=90)
    bad = {"bad_truncated": good[: int(len(good) * 0.6)], "bad_empty": b"",
           "bad_text": b"id,x,y,w,h\n1,10,10,20,20\nthis is a CSV file saved with a .jpg name\n"}
    # The first DHT: marker FF C4, length, class/id byte, then 16 code counts; make them sum past 256.
    b = bytearray(good)
    dht = b.index(b"\xff\xc4")
    for k in range(16):
        b[dht + 5 + k] = 0x40
    bad["bad_huffman_table"] = bytes(b)
    # Overwrite 64 bytes in the middle of the entropy-coded data (never with FF, so no marker appears).
    b = bytearray(good)
    sos = b.index(b"\xff\xda")
    mid = sos + (len(b) - sos) // 2
    for k in range(64):
        b[mid + k] = int(rng.integers(0, 255))
    bad["bad_scan_data"] = bytes(b)
    # The frame header SOF0: FF C0, length(2), precision(1), height(2), width(2).
    b = bytearray(good)
    sof = b.index(b"\xff\xc0")
    b[sof + 5: sof + 9] = bytes([65500 >> 8, 65500 & 255, 65500 >> 8, 65500 & 255])
    bad["bad_bomb"] = bytes(b)
    for name, data in bad.items():
        with open(os.path.join(HERE, name + ".jpg"), "wb") as f:
            f.write(data)


def sample_dataset():
    src = os.path.join(ROOT, "datasets", "sample")
    dst = os.path.join(ROOT, "datasets", "sample_jpeg")
    for split, count in (("train", 8), ("val", 4)):
        with open(os.path.join(src, split + ".json")) as f:
            coco = json.load(f)
        images = coco["images"][:count]
        keep = {m["id"] for m in images}
        annotations = [a for a in coco["annotations"] if a["image_id"] in keep]
        os.makedirs(os.path.join(dst, split, "images"), exist_ok=True)
        for k, m in enumerate(images, start=1):
            im = Image.open(os.path.join(src, split, "images", m["file_name"])).convert("RGB")
            kw = {"quality": 85}
            if split == "train" and k == 7:
                im = im.crop((0, 0, 256, 160))
                m["height"] = 160
                annotations = [a for a in annotations
                               if a["image_id"] != m["id"] or a["bbox"][1] + a["bbox"][3] <= 160]
            if split == "train" and k == 2:
                data = jpeg_bytes(im, progressive=True, **kw)
            elif split == "train" and k in (3, 4, 7):
                data = with_orientation(im, {3: 6, 4: 3, 7: 8}[k], **kw)
            elif split == "train" and k == 5:
                data = jpeg_bytes(im.convert("L"), **kw)
            elif split == "train" and k == 6:
                data = jpeg_bytes(im.convert("CMYK"), **kw)
            else:
                data = jpeg_bytes(im, **kw)
            m["file_name"] = m["file_name"].replace(".png", ".jpg")
            with open(os.path.join(dst, split, "images", m["file_name"]), "wb") as f:
                f.write(data)
        coco["images"], coco["annotations"] = images, annotations
        with open(os.path.join(dst, split + ".json"), "w") as f:
            json.dump(coco, f, indent=0)
            f.write("\n")


if __name__ == "__main__":
    imaging_fixtures()
    sample_dataset()
