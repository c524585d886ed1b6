#!/usr/bin/env python3
"""Holds an exported ONNX model, run by onnxruntime, against the Swift reference of `detector export --reference`.

Usage: onnx-parity.py MODEL.onnx REFERENCE_DIR [--threads N] [--repeats R] [--tolerance T] [--json OUT]

Compares (1) every graph output with the Swift network's value (max |delta|; boxes in input pixels and divided by
the input size), (2) the detections of both heads after the post-processing `detector detect` applies (set head:
threshold only; dense head: threshold, 1000 best pairs, class-aware NMS at IoU 0.5, 100 kept), boxes in original
pixels, and reports onnxruntime's images/s on the same input. Exit status 1 when a detection differs by more than
the tolerance (box coordinates divided by the input size, scores) or the detections do not pair up.
"""
import argparse, json, os, statistics, sys, time

import numpy as np
import onnxruntime as ort


def to_original(box, t):
    """InputTransform.toOriginal (no flip): (v + offset) / scale, clipped to the image."""
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, x2 = (x1 + t["offset_x"]) / t["scale_x"], (x2 + t["offset_x"]) / t["scale_x"]
    y1, y2 = (y1 + t["offset_y"]) / t["scale_y"], (y2 + t["offset_y"]) / t["scale_y"]
    w, h = float(t["width"]), float(t["height"])
    return [min(max(x1, 0), w), min(max(y1, 0), h), min(max(x2, 0), w), min(max(y2, 0), h)]


def top(dets, limit):
    """PostProcessor.top: by descending score, stable."""
    order = sorted(range(len(dets)), key=lambda i: (-dets[i][4], i))
    return [dets[i] for i in order[:limit]]


def set_detections(boxes, scores, t, post):
    """PostProcessor.setDetections with setEveryClass: one detection per hypothesis and class above the threshold."""
    dets = []
    for h in range(boxes.shape[0]):
        box = to_original(boxes[h], t)
        for j in range(scores.shape[1]):
            s = float(scores[h, j])
            if s >= post["score_threshold"]:
                dets.append(box + [s, j])
    return top(dets, post["max_detections"])


def greedy_nms(order, boxes, iou_threshold):
    """Boxes.nms's greedy suppression (IoU strictly above the threshold suppresses)."""
    kept, suppressed = [], set()
    for a_pos, a in enumerate(order):
        if a in suppressed:
            continue
        kept.append(a)
        p = boxes[a]
        area_a = max(p[2] - p[0], 0) * max(p[3] - p[1], 0)
        for b in order[a_pos + 1:]:
            if b in suppressed:
                continue
            q = boxes[b]
            inter = max(min(p[2], q[2]) - max(p[0], q[0]), 0) * max(min(p[3], q[3]) - max(p[1], q[1]), 0)
            area_b = max(q[2] - q[0], 0) * max(q[3] - q[1], 0)
            union = area_a + area_b - inter
            if union > 0 and inter / union > iou_threshold:
                suppressed.add(b)
    return kept


def dense_detections(boxes, scores, t, post):
    """PostProcessor.denseDetections: threshold, best candidates, class-aware NMS, top detections."""
    a, c = scores.shape
    flat = scores.reshape(-1)
    idx = np.nonzero(flat > post["score_threshold"])[0]
    idx = idx[np.lexsort((idx, -flat[idx]))][: post["dense_candidates"]]
    cand_boxes = [to_original(boxes[i // c], t) for i in idx]
    cand_scores = [float(flat[i]) for i in idx]
    classes = [int(i % c) for i in idx]
    kept = []
    for cls in sorted(set(classes)):
        members = [k for k in range(len(idx)) if classes[k] == cls]
        members.sort(key=lambda k: (-cand_scores[k], k))
        kept += greedy_nms(members, cand_boxes, post["nms_iou"])
    kept.sort(key=lambda k: (-cand_scores[k], k))
    return top([cand_boxes[k] + [cand_scores[k], classes[k]] for k in kept], post["max_detections"])


def pair_up(reference, ours, side, cuts, tolerance):
    """Pairs each reference detection with the unused one of ours of the same class nearest in
    max(box L-inf / side, |score delta|). A detection may stay unpaired only when its score is within `tolerance` of a
    cut (the threshold, or the last score of a list cut at the detection limit): two scores that straddle a cut by less
    than the tolerance may fall on either side of it. Returns the pairs, the unpaired count, and whether every unpaired
    one sits at a cut."""
    used, pairs, unpaired, at_cut = set(), [], 0, True
    def near_cut(d):
        return any(abs(d[4] - c) <= tolerance for c in cuts)
    for r in reference:
        best, best_d = None, float("inf")
        for j, o in enumerate(ours):
            if j in used or int(o[5]) != int(r[5]):
                continue
            d = max(max(abs(o[i] - r[i]) for i in range(4)) / side, abs(o[4] - r[4]))
            if d < best_d:
                best, best_d = j, d
        if best is None or (best_d > tolerance and near_cut(r)):
            unpaired += 1
            at_cut &= near_cut(r)
            continue
        used.add(best)
        pairs.append((r, ours[best]))
    for j, o in enumerate(ours):
        if j not in used:
            unpaired += 1
            at_cut &= near_cut(o)
    return pairs, unpaired, at_cut


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("reference")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--json")
    ap.add_argument("--detect-json", help="detections.json of `detector detect` (set head) on the same images, same threshold")
    ap.add_argument("--detect-log", help="what `detector detect` printed (its images/s)")
    args = ap.parse_args()

    ref = args.reference
    manifest = json.load(open(os.path.join(ref, "manifest.json")))
    reference_dets = json.load(open(os.path.join(ref, "detections.json")))
    shapes, size = manifest["shapes"], manifest["input_size"]
    images = np.fromfile(os.path.join(ref, "images.f32"), dtype="<f4").reshape(shapes["images"])

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {"images": images})))
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        session.run(None, {"images": images})
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)

    report = {"images": int(images.shape[0]), "threads": args.threads, "onnxruntime": ort.__version__,
              "onnxruntime_seconds": seconds, "onnxruntime_images_per_second": images.shape[0] / seconds,
              "swift_forward_seconds": manifest["forward_seconds"],
              "swift_forward_images_per_second": images.shape[0] / manifest["forward_seconds"], "outputs": {}}
    for name in names:
        path = os.path.join(ref, name + (".i64" if name == "set_anchors" else ".f32"))
        if name == "set_anchors":
            swift = np.fromfile(path, dtype="<i8").reshape(shapes[name])
            report["outputs"][name] = {"differing": int((swift != outputs[name]).sum()), "count": int(swift.size)}
            continue
        swift = np.fromfile(path, dtype="<f4").reshape(shapes[name])
        delta = float(np.abs(swift.astype(np.float64) - outputs[name].astype(np.float64)).max()) if swift.size else 0.0
        entry = {"max_abs_delta": delta}
        if name.endswith("_boxes"):
            entry["max_abs_delta_normalised"] = delta / size
        report["outputs"][name] = entry

    post = manifest["post_processing"]
    threshold = manifest["threshold"]
    ok = True
    for head in ["set", "dense"]:
        if head == "set" and "set_boxes" not in outputs:
            continue
        box_delta = score_delta = 0.0
        count = unpaired = 0
        all_at_cut = True
        for b, t in enumerate(manifest["transforms"]):
            if head == "set":
                ours = set_detections(outputs["set_boxes"][b], outputs["set_scores"][b], t, post)
            else:
                ours = dense_detections(outputs["dense_boxes"][b], outputs["dense_scores"][b], t, post)
            ours = [d for d in ours if d[4] >= threshold]
            theirs = reference_dets[b][head]
            cuts = [threshold] + [lst[-1][4] for lst in (ours, theirs) if len(lst) >= post["max_detections"]]
            side = max(t["width"], t["height"])
            pairs, missing, at_cut = pair_up(theirs, ours, side, cuts, args.tolerance)
            unpaired += missing
            all_at_cut &= at_cut
            for r, o in pairs:
                box_delta = max(box_delta, max(abs(o[i] - r[i]) / side for i in range(4)))
                score_delta = max(score_delta, abs(o[4] - r[4]))
            count += len(theirs)
        scale = max(max(t["width"], t["height"]) for t in manifest["transforms"])
        entry = {"detections": count, "unpaired_at_a_cut": unpaired, "max_abs_delta_box_pixels": box_delta * scale,
                 "max_abs_delta_box_normalised": box_delta, "max_abs_delta_score": score_delta}
        report[head + "_detections"] = entry
        ok &= all_at_cut and box_delta <= args.tolerance and score_delta <= args.tolerance
    if args.detect_json:
        # detect rounds boxes to 0.01 px and scores to 1e-4: the reference must agree with it to that rounding.
        detect = json.load(open(args.detect_json))
        head = "set" if "set_boxes" in outputs else "dense"
        worst = 0.0
        same = len(detect) == len(reference_dets)
        for d, r in zip(detect, reference_dets):
            rows = [det["box"] + [det["score"], det["class_id"]] for det in d["detections"]]
            side = max(d["width"], d["height"])
            pairs, missing, _ = pair_up(r[head], rows, side, [], 0.0051 / side)
            same &= missing == 0
            for a, b in pairs:
                worst = max(worst, max(abs(a[i] - b[i]) for i in range(4)), abs(a[4] - b[4]) * 100)
        report["detect_agrees_with_reference"] = same and worst <= 0.0051
        ok &= report["detect_agrees_with_reference"]
    if args.detect_log:
        import re
        m = re.search(r"([0-9.]+) images/s", open(args.detect_log).read())
        if m:
            report["detect_images_per_second"] = float(m.group(1))
    report["within_tolerance"] = ok
    report["tolerance"] = args.tolerance

    print(f"onnxruntime {ort.__version__}, {report['images']} images, {args.threads} threads")
    for name, entry in report["outputs"].items():
        print(f"  {name:12s} " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in entry.items()))
    for head in ["set", "dense"]:
        if head + "_detections" in report:
            e = report[head + "_detections"]
            print(f"  {head} detections: {e['detections']} (score >= {threshold}), unpaired at a cut {e['unpaired_at_a_cut']}, "
                  f"max |delta| box {e['max_abs_delta_box_pixels']:.3g} px ({e['max_abs_delta_box_normalised']:.3g} of the image side), "
                  f"score {e['max_abs_delta_score']:.3g}")
    print(f"  speed: onnxruntime {report['onnxruntime_images_per_second']:.1f} images/s, "
          f"Swift Detector.forward {report['swift_forward_images_per_second']:.1f} images/s (median of {args.repeats})")
    if "detect_images_per_second" in report:
        print(f"  detector detect (PNG decoding, letterbox, forward, post-processing): {report['detect_images_per_second']:.1f} images/s")
    if "detect_agrees_with_reference" in report:
        print("  detector detect's detections.json " + ("agrees" if report["detect_agrees_with_reference"] else "DISAGREES")
              + " with the reference to its rounding (0.01 px, 1e-4)")
    print("parity: " + ("within" if ok else "OUTSIDE") + f" tolerance {args.tolerance}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
