#!/usr/bin/env python3
"""pycocotools' answers for a detection limit above 100 (`detector evaluate --max-dets 300`).

Evaluates case_max_dets (up to 120 detections an image; make_fixtures.py writes it) with
`params.maxDets = [1, 10, 100, 300]` and writes max_dets_expected.json: the 12 stats (pycocotools takes them at
100) and AP, AP50, AP75 and AR at 300 from `eval['precision']` / `eval['recall']`, as `_summarize` averages them.
Run from this folder with pycocotools installed (`pip install pycocotools`):  python3 max_dets_reference.py
"""
import contextlib
import io
import json

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def mean_valid(a):
    return float(np.mean(a[a > -1])) if (a > -1).any() else -1.0


def main():
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO("case_max_dets_gt.json")
        dt = gt.loadRes(json.load(open("case_max_dets_dt.json")))
        e = COCOeval(gt, dt, "bbox")
        e.params.maxDets = [1, 10, 100, 300]
        e.evaluate()
        e.accumulate()
        e.summarize()
    p, r = e.eval["precision"], e.eval["recall"]
    at = {"AP": mean_valid(p[:, :, :, 0, 3]), "AP50": mean_valid(p[0, :, :, 0, 3]),
          "AP75": mean_valid(p[5, :, :, 0, 3]), "AR": mean_valid(r[:, :, 0, 3])}
    out = {"generator": "pycocotools COCOeval(iouType='bbox'), maxDets [1, 10, 100, 300]",
           "gt": "case_max_dets_gt.json", "results": "case_max_dets_dt.json", "max_dets": [1, 10, 100, 300],
           "stats": [float(x) for x in e.stats], "at_300": at}
    with open("max_dets_expected.json", "w") as f:
        json.dump(out, f, indent=1)
    print(out["stats"], at)


if __name__ == "__main__":
    main()
