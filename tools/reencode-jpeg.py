#!/usr/bin/env python3
"""Re-encodes a COCO dataset's PNG images as JPEG, for training on JPEG input as users' datasets ship it.

Usage: tools/reencode-jpeg.py DATASET.json OUT_FOLDER [--quality 90]
Writes OUT_FOLDER/<json name> with each file_name's extension changed to .jpg and the pictures in
OUT_FOLDER/<json stem>/images/ (the layout COCOFormat.load searches). Boxes are unchanged. Images are found as
COCOFormat.load finds them: beside the JSON, then in <json folder>/<json stem>/images/. Needs Pillow
(`python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pillow`, then run this with /tmp/venv/bin/python).
"""
import argparse
import json
import os

from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("out")
    ap.add_argument("--quality", type=int, default=90)
    a = ap.parse_args()
    src = os.path.dirname(os.path.abspath(a.dataset))
    stem = os.path.splitext(os.path.basename(a.dataset))[0]
    with open(a.dataset) as f:
        coco = json.load(f)
    images = os.path.join(a.out, stem, "images")
    os.makedirs(images, exist_ok=True)
    for m in coco["images"]:
        name = m["file_name"]
        path = next((p for p in (os.path.join(src, name), os.path.join(src, stem, "images", name)) if os.path.exists(p)),
                    None)
        if path is None:
            raise SystemExit(f"{a.dataset}: image {name} not found beside the file or in {stem}/images/")
        jpg = os.path.splitext(os.path.basename(name))[0] + ".jpg"
        Image.open(path).convert("RGB").save(os.path.join(images, jpg), "JPEG", quality=a.quality)
        m["file_name"] = jpg
    with open(os.path.join(a.out, os.path.basename(a.dataset)), "w") as f:
        json.dump(coco, f)
    print(f"{len(coco['images'])} images as JPEG (quality {a.quality}) in {images}")


if __name__ == "__main__":
    main()
