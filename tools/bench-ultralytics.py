"""Trains an ultralytics YOLO detector on a COCO dataset for a wall-clock budget and writes its detections on the
validation split as a COCO results file, so that `detector evaluate --gt VAL --results FILE` scores them by the same
evaluator as this package's own heads.

Called by tools/bench-ultralytics, which makes the Python environment and runs `detector train` beside it:

    python bench-ultralytics.py --train train.json --val val.json --work DIR --minutes 30 --imgsz 320 \
        [--model yolov8n] [--threads 1] [--seed 0] [--images DIR] [--val-images DIR] [--augment]

The network is built from its YAML (from scratch: no pretrained weights). Training uses ultralytics' defaults
(its optimizer, augmentation, mosaic closing, EMA, `time=` schedule); `best.pt` (its choice on the validation split)
predicts at conf 0.001, NMS IoU 0.7 and 300 detections an image, the settings of ultralytics' own validation.
With `--augment` it predicts a second time with ultralytics' test-time augmentation (`augment=True`) into
`results_augment.json`. Crowd annotations (`iscrowd`) are left out of the YOLO labels, which cannot mark them.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path


def find_image(json_path: Path, file_name: str, folder):
    """The image file as `detector` looks for it: in the given folder, else beside the JSON, else in
    `<json folder>/<json stem>/images/`."""
    candidates = [Path(folder) / file_name] if folder else [json_path.parent / file_name,
                                                            json_path.parent / json_path.stem / "images" / file_name]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    sys.exit(f"{json_path}: image {file_name} not found (looked in {', '.join(str(c) for c in candidates)})")


def to_yolo(coco, json_path: Path, folder, out: Path, class_index):
    """Writes `out/images` (links) and `out/labels` (normalised centre, size) for one split, read from `json_path`
    as `coco`; returns the link of each image id."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    boxes = {}
    for a in coco["annotations"]:
        if a.get("iscrowd", 0) or a.get("ignore", 0):
            continue
        boxes.setdefault(a["image_id"], []).append(a)
    links = {}
    for img in coco["images"]:
        src = find_image(json_path, img["file_name"], folder)
        stem = f"{img['id']}"
        link = out / "images" / f"{stem}{src.suffix}"
        if not link.exists():
            link.symlink_to(src)
        w, h = img["width"], img["height"]
        lines = []
        for a in boxes.get(img["id"], []):
            x, y, bw, bh = a["bbox"]
            if bw <= 0 or bh <= 0:
                continue
            lines.append(f"{class_index[a['category_id']]} {(x + bw / 2) / w:.6f} {(y + bh / 2) / h:.6f} "
                         f"{bw / w:.6f} {bh / h:.6f}")
        (out / "labels" / f"{stem}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
        links[img["id"]] = link
    return links


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True, type=Path)
    p.add_argument("--val", required=True, type=Path)
    p.add_argument("--images")
    p.add_argument("--val-images")
    p.add_argument("--work", required=True, type=Path)
    p.add_argument("--minutes", type=float, required=True)
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--model", default="yolov8n")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--augment", action="store_true")
    args = p.parse_args()

    os.environ.setdefault("YOLO_OFFLINE", "1")
    import torch
    import ultralytics
    import ultralytics.utils.torch_utils as tu
    from ultralytics import YOLO

    # ultralytics trains on the CPU with min(8, cores - 1) threads; the bench gives it the cores it names.
    tu.NUM_THREADS = args.threads
    torch.set_num_threads(args.threads)

    train_coco, val_coco = json.loads(args.train.read_text()), json.loads(args.val.read_text())
    categories = sorted(train_coco["categories"], key=lambda c: c["id"])
    val_ids = sorted(c["id"] for c in val_coco["categories"])
    if val_ids != [c["id"] for c in categories]:
        sys.exit(f"{args.val}: category ids {val_ids} differ from those of {args.train} "
                 f"({[c['id'] for c in categories]}); the peer needs one list of classes")
    class_index = {c["id"]: i for i, c in enumerate(categories)}
    category_of = {i: c["id"] for i, c in enumerate(categories)}
    data = args.work / "data"
    to_yolo(train_coco, args.train, args.images, data / "train", class_index)
    val_links = to_yolo(val_coco, args.val, args.val_images, data / "val", class_index)
    yaml = args.work / "data.yaml"
    names = "\n".join(f"  {i}: {json.dumps(c['name'])}" for i, c in enumerate(categories))
    yaml.write_text(f"path: {data.resolve()}\ntrain: train/images\nval: val/images\nnames:\n{names}\n")

    started = time.time()
    model = YOLO(f"{args.model}.yaml")
    model.train(data=str(yaml), time=args.minutes / 60, imgsz=args.imgsz, batch=args.batch, device="cpu",
                seed=args.seed, deterministic=True, plots=False, project=str(args.work.resolve()), name="train",
                exist_ok=True, verbose=False)
    trained = time.time() - started
    save_dir = Path(model.trainer.save_dir)
    best = save_dir / "weights" / "best.pt"
    epochs = model.trainer.epoch + 1
    images_seen = epochs * len(train_coco["images"])

    net = YOLO(str(best))

    def predict(augment):
        results = []
        for image_id, link in val_links.items():
            r = net.predict(str(link), imgsz=args.imgsz, conf=0.001, iou=0.7, max_det=300, device="cpu",
                            augment=augment, verbose=False)[0]
            for (x0, y0, x1, y1), s, c in zip(r.boxes.xyxy.tolist(), r.boxes.conf.tolist(), r.boxes.cls.tolist()):
                results.append({"image_id": image_id, "category_id": category_of[int(c)],
                                "bbox": [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)],
                                "score": round(s, 5)})
        return results

    t0 = time.time()
    results = predict(False)
    inference = time.time() - t0
    (args.work / "results.json").write_text(json.dumps(results))
    if args.augment:
        (args.work / "results_augment.json").write_text(json.dumps(predict(True)))
    summary = {"ultralytics": ultralytics.__version__, "torch": torch.__version__, "model": args.model,
               "imgsz": args.imgsz, "threads": args.threads, "minutes": trained / 60, "epochs": epochs,
               "images_per_second": images_seen / trained, "best": str(best),
               "val_images_per_second": len(val_links) / inference, "detections": len(results)}
    (args.work / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
