#!/usr/bin/env python3
"""Reference numbers for the crowd metrics (MR^-2 and JI as CrowdHuman's toolkit defines them).

Writes crowd_cases.json beside this script: seeded random crowds (COCO ground truth with ignore regions, detections
that jitter, duplicate, miss and invent boxes) and, per case, the log-average miss rate and the Jaccard index
computed here with numpy and scipy (scipy.sparse.csgraph.maximum_bipartite_matching for JI's one-to-one matching).
Run: python3 Tests/Fixtures/evaluation/crowd_reference.py   (numpy, scipy)
"""
import json
import os

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

FPPI = [0.0100, 0.0178, 0.03160, 0.0562, 0.1000, 0.1778, 0.3162, 0.5623, 1.000]
THR = 0.5


def corners(b):
    return np.array([b[0], b[1], b[0] + b[2], b[1] + b[3]], dtype=np.float64)


def clip(c, w, h):
    c = c.copy()
    c[0] = min(max(c[0], 0), w - 1)
    c[1] = min(max(c[1], 0), h - 1)
    c[2] = max(min(c[2], w), 0)
    c[3] = max(min(c[3], h), 0)
    return c


def overlaps(a, b, own):
    """[len(a), len(b)] IoU, or intersection over a's area when own."""
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            iw = min(p[2], q[2]) - max(p[0], q[0])
            ih = min(p[3], q[3]) - max(p[1], q[1])
            inter = iw * ih if iw > 0 and ih > 0 else 0.0
            pa = (p[2] - p[0]) * (p[3] - p[1])
            qa = (q[2] - q[0]) * (q[3] - q[1])
            den = pa if own else pa + qa - inter
            out[i, j] = inter / den if den > 0 else 0.0
    return out


def per_image(gt, dt, images, cat):
    out = []
    for im in images:
        w, h = im["width"], im["height"]
        g = [a for a in gt if a["image_id"] == im["id"] and a["category_id"] == cat]
        d = [x for x in dt if x["image_id"] == im["id"] and x["category_id"] == cat]
        boxes = [clip(corners(a["bbox"]), w, h) for a in g]
        ign = [bool(a.get("iscrowd", 0)) or bool(a.get("ignore", 0)) for a in g]
        objs = np.array([b for b, i in zip(boxes, ign) if not i]).reshape(-1, 4)
        regs = np.array([b for b, i in zip(boxes, ign) if i]).reshape(-1, 4)
        dets = np.array([clip(corners(x["bbox"]), w, h) for x in d]).reshape(-1, 4)
        scores = np.array([x["score"] for x in d], dtype=np.float64)
        out.append((objs, regs, dets, scores))
    return out


def miss_rate(images):
    labels, scores = [], []
    total = sum(len(o) for o, _, _, _ in images)
    for objs, regs, dets, sc in images:
        order = np.argsort(-sc, kind="stable")
        iou = overlaps(dets[order], objs, False)
        ioa = overlaps(dets[order], regs, True)
        used = np.zeros(len(objs), bool)
        for r, i in enumerate(order):
            cand = np.where(~used & (iou[r] > THR))[0]
            if len(cand):
                j = cand[np.argmax(iou[r, cand])]  # first of the highest
                used[j] = True
                labels.append(1)
                scores.append(sc[i])
            elif len(regs) and (ioa[r] > THR).any():
                continue  # absorbed by an ignore region
            else:
                labels.append(0)
                scores.append(sc[i])
    if not labels:
        return 1.0
    order = np.argsort(-np.array(scores), kind="stable")
    lab = np.array(labels)[order]
    tp = np.cumsum(lab == 1).astype(np.float64)
    fp = np.cumsum(lab == 0).astype(np.float64)
    mr = 1.0 - tp / total
    fppi = fp / len(images)
    samples = []
    for p in FPPI:
        hit = np.where(fppi >= p)[0]
        samples.append(mr[hit[0] if len(hit) else len(mr) - 1])
    return float(np.exp(np.log(np.array(samples)).mean()))


def jaccard(images):
    best, best_t = -np.inf, 0.0
    for t in [0.1 * i for i in range(10)]:
        ratios, counted = [], 0
        for objs, regs, dets, sc in images:
            d = dets[sc > t]
            k = 0
            md, mo = set(), set()
            if len(d) and len(objs):
                iou = overlaps(d, objs, False)
                iou[iou < THR] = 0
                match = maximum_bipartite_matching(csr_matrix(iou), perm_type="column")
                pairs = [(i, int(j)) for i, j in enumerate(match) if j != -1]
                k = len(pairs)
                md = {i for i, _ in pairs}
                mo = {j for _, j in pairs}

            def covered(boxes, idx):
                if not len(regs) or not len(idx):
                    return 0
                return int((overlaps(boxes[idx], regs, True).max(axis=1) > THR).sum())

            nd = covered(d, [i for i in range(len(d)) if i not in md])
            no = covered(objs, [j for j in range(len(objs)) if j not in mo])
            m, n = len(objs) - no, len(d) - nd
            ratios.append(k / (m + n - k + 1e-6))
            counted += (m != 0 or n != 0)
        mean = np.sum(ratios) / counted if counted else 0.0
        if mean > best:
            best, best_t = mean, t
    return float(best), float(best_t)


def make_case(rng, n_images, n_cats, crowd, with_ignore):
    images, gt, dt = [], [], []
    for i in range(n_images):
        w, h = 160, 96
        images.append({"id": i + 1, "file_name": f"{i}.png", "width": w, "height": h})
        for c in range(1, n_cats + 1):
            for _ in range(rng.integers(crowd // 2, crowd + 1)):
                s = rng.uniform(6, 18)
                x, y = rng.uniform(-3, w - s + 3), rng.uniform(-3, h - s + 3)
                box = [round(x, 2), round(y, 2), round(s * rng.uniform(0.8, 1.2), 2), round(s, 2)]
                gt.append({"id": len(gt) + 1, "image_id": i + 1, "category_id": c, "bbox": box,
                           "area": box[2] * box[3], "iscrowd": 0})
                r = rng.uniform()
                if r < 0.15:
                    continue  # missed
                copies = 2 if r > 0.9 else 1  # a duplicate now and then
                for _ in range(copies):
                    j = rng.normal(0, 1.0, 4)
                    dt.append({"image_id": i + 1, "category_id": c, "score": round(float(rng.uniform(0.3, 1)), 2),
                               "bbox": [round(box[0] + j[0], 2), round(box[1] + j[1], 2),
                                        round(max(1, box[2] + j[2]), 2), round(max(1, box[3] + j[3]), 2)]})
            for _ in range(rng.integers(0, 4)):  # invented boxes
                s = rng.uniform(6, 18)
                dt.append({"image_id": i + 1, "category_id": c, "score": round(float(rng.uniform(0, 0.6)), 2),
                           "bbox": [round(rng.uniform(0, w - s), 2), round(rng.uniform(0, h - s), 2), round(s, 2), round(s, 2)]})
            if with_ignore:
                x, y = rng.uniform(0, w - 40), rng.uniform(0, h - 30)
                box = [round(x, 2), round(y, 2), 40.0, 30.0]
                gt.append({"id": len(gt) + 1, "image_id": i + 1, "category_id": c, "bbox": box, "area": 1200.0,
                           "iscrowd": 1})
                for _ in range(3):  # detections inside the region
                    dt.append({"image_id": i + 1, "category_id": c, "score": round(float(rng.uniform(0, 1)), 3),
                               "bbox": [round(x + rng.uniform(0, 25), 2), round(y + rng.uniform(0, 15), 2), 10.0, 10.0]})
    cats = [{"id": c, "name": f"class{c}"} for c in range(1, n_cats + 1)]
    return {"images": images, "annotations": gt, "categories": cats}, dt


def main():
    rng = np.random.default_rng(2026)
    cases = []
    for name, (n_images, n_cats, crowd, ign) in {
        "crowd_one_class": (6, 1, 30, False), "crowd_ignore_regions": (5, 1, 25, True),
        "two_classes": (4, 2, 12, True), "sparse": (8, 1, 3, False),
    }.items():
        gt, dt = make_case(rng, n_images, n_cats, crowd, ign)
        mrs, jis, ts = [], [], []
        for c in gt["categories"]:
            imgs = per_image(gt["annotations"], dt, gt["images"], c["id"])
            if sum(len(o) for o, _, _, _ in imgs) == 0:
                continue
            mrs.append(miss_rate(imgs))
            ji, t = jaccard(imgs)
            jis.append(ji)
            ts.append(t)
        cases.append({"name": name, "ground_truth": gt, "detections": dt,
                      "MR-2": float(np.mean(mrs)), "JI": float(np.mean(jis)), "JI_score_threshold": ts[0]})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crowd_cases.json")
    with open(out, "w") as f:
        json.dump({"generator": "crowd_reference.py", "cases": cases}, f)
    for c in cases:
        print(c["name"], len(c["ground_truth"]["annotations"]), "boxes", len(c["detections"]), "detections",
              "MR-2 %.6f JI %.6f (t %.1f)" % (c["MR-2"], c["JI"], c["JI_score_threshold"]))


if __name__ == "__main__":
    main()
