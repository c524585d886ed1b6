"""Writes the hand-made COCO evaluation cases of EvaluationTests and pycocotools' answers for them.

Run from this folder with pycocotools installed (`pip install pycocotools`):  python3 make_fixtures.py
Outputs: case_<name>_gt.json / case_<name>_dt.json and expected.json (stats, per-category AP / AP50 and,
for some cases, the all-area maxDets=100 precision slice), plus pycocotools' own stats for the six oracle
cases in ../oracles, computed on this machine.
"""
import contextlib
import io
import json
import random

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

CATS = [{"id": 1, "name": "cell"}, {"id": 2, "name": "head"}, {"id": 3, "name": "unseen"}]


def image(i):
    return {"id": i, "file_name": f"img{i}.png", "width": 640, "height": 480}


def ann(aid, img, cat, box, area=None, crowd=0, **extra):
    a = {"id": aid, "image_id": img, "category_id": cat, "bbox": box,
         "area": box[2] * box[3] if area is None else area, "iscrowd": crowd}
    a.update(extra)
    return a


def det(img, cat, box, score):
    return {"image_id": img, "category_id": cat, "bbox": box, "score": score}


def case_crowd():
    gt = [ann(1, 1, 1, [0, 0, 200, 200], crowd=1), ann(2, 1, 1, [300, 300, 50, 50]),
          ann(3, 2, 1, [10, 10, 40, 40]), ann(4, 2, 1, [100, 100, 80, 80], crowd=1)]
    dt = [det(1, 1, [10 + 30 * k, 10 + 20 * k, 30, 30], 0.9 - 0.05 * k) for k in range(6)]
    dt += [det(1, 1, [302, 298, 50, 52], 0.5), det(1, 1, [150, 150, 100, 100], 0.45),
           det(2, 1, [12, 8, 40, 40], 0.3), det(2, 1, [110, 110, 20, 20], 0.95), det(2, 1, [90, 95, 90, 90], 0.2)]
    return [image(1), image(2)], gt, dt


def case_ignore():
    gt = [ann(1, 1, 1, [0, 0, 50, 50], ignore=1), ann(2, 1, 1, [100, 100, 50, 50], crowd=1, ignore=0),
          ann(3, 1, 2, [200, 200, 60, 60], ignore=1, crowd=0), ann(4, 1, 2, [10, 300, 30, 30])]
    dt = [det(1, 1, [2, 2, 50, 50], 0.9), det(1, 1, [100, 100, 50, 50], 0.8), det(1, 1, [400, 10, 30, 30], 0.7),
          det(1, 2, [205, 205, 60, 60], 0.6), det(1, 2, [12, 302, 30, 30], 0.5)]
    return [image(1)], gt, dt


def case_ties():
    gt = [ann(1, 1, 1, [0, 0, 100, 100]), ann(2, 1, 1, [50, 0, 100, 100]), ann(3, 2, 1, [0, 0, 100, 100])]
    dt = [det(1, 1, [25, 0, 100, 100], 0.5), det(1, 1, [0, 0, 100, 100], 0.5), det(1, 1, [50, 0, 100, 100], 0.5),
          det(2, 1, [0, 0, 100, 100], 0.5), det(2, 1, [5, 5, 100, 100], 0.5), det(1, 1, [300, 300, 10, 10], 0.5)]
    return [image(1), image(2)], gt, dt


def case_borders():
    # Areas exactly 32², 96² (inclusive on both sides of a range) and boxes whose w*h differs from area.
    gt = [ann(1, 1, 1, [0, 0, 32, 32], area=1024.0), ann(2, 1, 1, [100, 0, 96, 96], area=9216.0),
          ann(3, 1, 1, [300, 0, 40, 40], area=1000.0), ann(4, 1, 2, [0, 200, 20, 20], area=5000.0)]
    dt = [det(1, 1, [0, 0, 32, 32], 0.9), det(1, 1, [100, 0, 96, 96], 0.8), det(1, 1, [300, 0, 40, 40], 0.7),
          det(1, 1, [500, 0, 32, 32], 0.6), det(1, 1, [500, 200, 96, 96], 0.65), det(1, 2, [0, 200, 20, 20], 0.4)]
    return [image(1)], gt, dt


def case_negative_width():
    gt = [ann(1, 1, 1, [10, 10, 50, 50]), ann(2, 1, 1, [200, 200, 40, 40])]
    dt = [det(1, 1, [60, 10, -50, 50], 0.95), det(1, 1, [240, 240, -40, -40], 0.9), det(1, 1, [10, 10, 50, 50], 0.5),
          det(1, 1, [201, 199, 40, 40], 0.4)]
    return [image(1)], gt, dt


def case_zero_id():
    gt = [ann(0, 1, 1, [10, 10, 50, 50]), ann(5, 1, 1, [200, 200, 40, 40])]
    dt = [det(1, 1, [10, 10, 50, 50], 0.9), det(1, 1, [200, 200, 40, 40], 0.8), det(1, 1, [12, 12, 50, 50], 0.7)]
    return [image(1)], gt, dt


def case_max_dets():
    rng = random.Random(3)
    gt = [ann(i + 1, 1 + i % 2, 1, [rng.uniform(0, 500), rng.uniform(0, 400), rng.uniform(8, 120),
                                    rng.uniform(8, 120)]) for i in range(40)]
    dt = []
    for g in gt:
        for _ in range(3):
            b = g["bbox"]
            dt.append(det(g["image_id"], 1, [b[0] + rng.uniform(-6, 6), b[1] + rng.uniform(-6, 6),
                                             b[2] * rng.uniform(0.8, 1.2), b[3] * rng.uniform(0.8, 1.2)],
                          round(rng.random(), 2)))
    dt += [det(1, 1, [rng.uniform(0, 600), rng.uniform(0, 440), 30, 30], round(rng.random(), 2)) for _ in range(60)]
    return [image(1), image(2)], gt, dt


def case_random():
    rng = random.Random(11)
    images, gt, dt = [image(i) for i in range(1, 31)], [], []
    for im in images:
        for _ in range(rng.randint(0, 12)):
            cat = rng.choice([1, 2])
            box = [rng.uniform(0, 560), rng.uniform(0, 400), rng.uniform(4, 160), rng.uniform(4, 160)]
            crowd = 1 if rng.random() < 0.08 else 0
            area = box[2] * box[3] * rng.uniform(0.6, 1.0)
            gt.append(ann(len(gt) + 1, im["id"], cat, box, area=area, crowd=crowd))
            for _ in range(rng.randint(0, 3)):
                jit = [box[0] + rng.gauss(0, 6), box[1] + rng.gauss(0, 6), box[2] * rng.uniform(0.7, 1.3),
                       box[3] * rng.uniform(0.7, 1.3)]
                dt.append(det(im["id"], cat if rng.random() < 0.9 else 3 - cat, jit, round(rng.random(), 3)))
        for _ in range(rng.randint(0, 6)):
            dt.append(det(im["id"], rng.choice([1, 2, 3, 7]), [rng.uniform(0, 600), rng.uniform(0, 440),
                                                                rng.uniform(4, 100), rng.uniform(4, 100)],
                          round(rng.random(), 3)))
    return images, gt, dt


def evaluate(gt_path, dt_anns, empty=False):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        if empty:
            dt = COCO()
            dt.dataset = {"images": list(gt.dataset["images"]), "categories": gt.dataset["categories"],
                          "annotations": []}
            dt.createIndex()
        else:
            dt = gt.loadRes(dt_anns)
        e = COCOeval(gt, dt, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    p = e.eval["precision"]
    per_cat = []
    for k, cid in enumerate(e.params.catIds):
        s = p[:, :, k, 0, 2]
        s50 = p[0, :, k, 0, 2]
        per_cat.append({"id": int(cid), "AP": float(np.mean(s[s > -1])) if (s > -1).any() else -1.0,
                        "AP50": float(np.mean(s50[s50 > -1])) if (s50 > -1).any() else -1.0})
    return [float(x) for x in e.stats], per_cat, p


def main():
    cases = {"crowd": case_crowd, "ignore": case_ignore, "ties": case_ties, "borders": case_borders,
             "negative_width": case_negative_width, "zero_id": case_zero_id, "max_dets": case_max_dets,
             "random": case_random}
    expected = {"generator": "pycocotools COCOeval(iouType='bbox')", "numpy": np.__version__, "cases": []}
    for name, make in cases.items():
        images, gt, dt = make()
        gt_path, dt_path = f"case_{name}_gt.json", f"case_{name}_dt.json"
        with open(gt_path, "w") as f:
            json.dump({"images": images, "annotations": gt, "categories": CATS}, f)
        with open(dt_path, "w") as f:
            json.dump(dt, f)
        stats, per_cat, p = evaluate(gt_path, json.load(open(dt_path)))
        entry = {"name": name, "gt": gt_path, "results": dt_path, "stats": stats, "per_category": per_cat}
        if name in ("random", "max_dets"):
            entry["precision_all_100"] = p[:, :, :, 0, 2].ravel().tolist()
        expected["cases"].append(entry)
    stats, per_cat, _ = evaluate("case_random_gt.json", [], empty=True)
    expected["cases"].append({"name": "empty_results", "gt": "case_random_gt.json", "results": "empty_dt.json",
                              "stats": stats, "per_category": per_cat})
    with open("empty_dt.json", "w") as f:
        f.write("[]\n")
    oracle = json.load(open("../oracles/coco_eval.json"))
    for c in oracle["cases"]:
        stats, per_cat, _ = evaluate("../oracles/" + c["gt"], json.load(open("../oracles/" + c["results"])))
        expected["cases"].append({"name": "oracle_" + c["name"], "gt": "../oracles/" + c["gt"],
                                  "results": "../oracles/" + c["results"], "stats": stats, "per_category": per_cat})
    with open("expected.json", "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
