#!/usr/bin/env python3
"""PyTorch twin of `detector bench train --data random`: images/s of full training steps of the reference configuration.

The network is the reference configuration of shared/ARCHITECTURE.md (input 320², backbone 16/32/64/128 with one
residual block per stage, dense head on stride 8 with 3 anchors per location, query-selection set head over the 50
best anchors with one post-norm self-attention layer). One step = forward, dense losses (sigmoid focal on every
non-ignored anchor, SmoothL1 + GIoU on the positives of a max-IoU assignment), Hungarian matching of the set head's
hypotheses (scipy's linear_sum_assignment on the DETR cost) and its losses (CE with no-object weight, L1, GIoU),
backward, and an AdamW step. Data: one fixed batch of normal random images with random boxes of 8–63 px, reused every
step, as the Swift benchmark's random mode does.

Usage: tools/bench-train-torch.py [--batch-size 16] [--input-size 320] [--steps 5] [--warmup 2]
                                  [--classes 3] [--boxes 20] [--threads N]
"""
import argparse
import math
import os
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.exit("bench-train-torch: PyTorch is missing; install the CPU build with\n"
             "  pip install torch --index-url https://download.pytorch.org/whl/cpu")

ANCHOR_SIZES = (12.0, 24.0, 48.0)
HYPOTHESES = 50
BBOX_CLAMP = math.log(1000.0 / 16)


def conv_bn_relu(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Block(nn.Module):
    """relu(x + bn2(conv2(relu(bn1(conv1(x))))))."""

    def __init__(self, ch):
        super().__init__()
        self.first = conv_bn_relu(ch, ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)

    def forward(self, x):
        return F.relu(x + self.bn2(self.conv2(self.first(x))))


class Net(nn.Module):
    def __init__(self, classes, widths=(16, 32, 64, 128), head=64, anchors=3, set_width=128):
        super().__init__()
        self.classes, self.anchors = classes, anchors
        self.stem = conv_bn_relu(3, widths[0], 2)
        self.stages = nn.ModuleList(
            nn.Sequential(conv_bn_relu(widths[k - 1], widths[k], 2), Block(widths[k])) for k in (1, 2, 3))
        self.head = nn.Sequential(conv_bn_relu(widths[2], head), conv_bn_relu(head, head))
        self.cls = nn.Conv2d(head, anchors * classes, 3, 1, 1)
        self.box = nn.Conv2d(head, anchors * 4, 3, 1, 1)
        for conv in (self.cls, self.box):
            nn.init.normal_(conv.weight, std=0.01)
        nn.init.constant_(self.cls.bias, -math.log((1 - 0.01) / 0.01))
        nn.init.zeros_(self.box.bias)
        self.lateral = nn.Conv2d(widths[3], head, 1)
        self.embed = nn.Sequential(nn.Linear(2 * head + 4 + classes, set_width), nn.ReLU(inplace=True),
                                   nn.Linear(set_width, set_width))
        self.encoder = nn.TransformerEncoderLayer(set_width, 4, 256, dropout=0.0, batch_first=True, norm_first=False)
        self.set_box = nn.Linear(set_width, 4)
        nn.init.normal_(self.set_box.weight, std=0.001)
        nn.init.zeros_(self.set_box.bias)
        self.set_cls = nn.Linear(set_width, classes + 1)

    def forward(self, x, anchors):
        h = self.stem(x)
        h = self.stages[0](h)
        c3 = self.stages[1](h)
        c4 = self.stages[2](c3)
        feats = self.head(c3)
        n, _, fh, fw = feats.shape
        a, c = self.anchors, self.classes
        # [N, A·C, H, W] → [N, H·W·A, C]: anchors ordered location-major, A anchors per location.
        logits = self.cls(feats).view(n, a, c, fh, fw).permute(0, 3, 4, 1, 2).reshape(n, -1, c)
        deltas = self.box(feats).view(n, a, 4, fh, fw).permute(0, 3, 4, 1, 2).reshape(n, -1, 4)

        # Query selection: the K anchors of highest max-class logit, no gradient through the choice or proposals.
        with torch.no_grad():
            top = logits.max(dim=2).values.topk(HYPOTHESES, dim=1).indices               # [N, K]
            cells = top // a
            size = float(x.shape[-1])
            prop = decode(deltas.detach().gather(1, top[..., None].expand(-1, -1, 4)), anchors[top])
            prop = xyxy_to_cxcywh(prop / size).clamp(1e-4, 1 - 1e-4)                        # normalised cxcywh
            scores = torch.sigmoid(logits.detach().gather(1, top[..., None].expand(-1, -1, c)))
            ys, xs = cells // fw, cells % fw
            lat_h, lat_w = c4.shape[2], c4.shape[3]
            cells16 = (ys // 2).clamp(max=lat_h - 1) * lat_w + (xs // 2).clamp(max=lat_w - 1)
        lat = self.lateral(c4)
        f8 = feats.flatten(2).transpose(1, 2).gather(1, cells[..., None].expand(-1, -1, feats.shape[1]))
        f16 = lat.flatten(2).transpose(1, 2).gather(1, cells16[..., None].expand(-1, -1, lat.shape[1]))
        e = self.encoder(self.embed(torch.cat([f8, f16, prop, scores], dim=2)))
        set_boxes = torch.sigmoid(torch.logit(prop) + self.set_box(e))
        return logits, deltas, set_boxes, self.set_cls(e)


def make_anchors(input_size, stride=8):
    side = input_size // stride
    centres = (torch.arange(side, dtype=torch.float32) + 0.5) * stride
    cy, cx = torch.meshgrid(centres, centres, indexing="ij")
    cx, cy = cx.reshape(-1, 1), cy.reshape(-1, 1)
    half = torch.tensor(ANCHOR_SIZES).reshape(1, -1) / 2
    return torch.stack([cx - half, cy - half, cx + half, cy + half], dim=2).reshape(-1, 4)   # [H·W·A, 4] xyxy


def xyxy_to_cxcywh(b):
    return torch.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2,
                        b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]], dim=-1)


def cxcywh_to_xyxy(b):
    return torch.stack([b[..., 0] - b[..., 2] / 2, b[..., 1] - b[..., 3] / 2,
                        b[..., 0] + b[..., 2] / 2, b[..., 1] + b[..., 3] / 2], dim=-1)


def encode(gt, anc):
    """Box coder with unit weights: (dx, dy, dw, dh) of xyxy `gt` relative to xyxy anchors."""
    g, a = xyxy_to_cxcywh(gt), xyxy_to_cxcywh(anc)
    return torch.stack([(g[..., 0] - a[..., 0]) / a[..., 2], (g[..., 1] - a[..., 1]) / a[..., 3],
                        torch.log(g[..., 2] / a[..., 2]), torch.log(g[..., 3] / a[..., 3])], dim=-1)


def decode(d, anc):
    a = xyxy_to_cxcywh(anc)
    cx, cy = a[..., 0] + d[..., 0] * a[..., 2], a[..., 1] + d[..., 1] * a[..., 3]
    w, h = a[..., 2] * torch.exp(d[..., 2].clamp(max=BBOX_CLAMP)), a[..., 3] * torch.exp(d[..., 3].clamp(max=BBOX_CLAMP))
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def pairwise_giou(a, b):
    """GIoU matrix [len(a), len(b)] of xyxy boxes (and the IoU matrix)."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt, rb = torch.max(a[:, None, :2], b[None, :, :2]), torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    union = area_a[:, None] + area_b[None, :] - inter
    iou = inter / union
    lt_c, rb_c = torch.min(a[:, None, :2], b[None, :, :2]), torch.max(a[:, None, 2:], b[None, :, 2:])
    hull = (rb_c - lt_c).clamp(min=0).prod(dim=2)
    return iou - (hull - union) / hull, iou


def paired_giou(a, b):
    """GIoU of row-aligned xyxy boxes."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    inter = (torch.min(a[:, 2:], b[:, 2:]) - torch.max(a[:, :2], b[:, :2])).clamp(min=0).prod(dim=1)
    union = area_a + area_b - inter
    hull = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).clamp(min=0).prod(dim=1)
    return inter / union - (hull - union) / hull


def dense_targets(gt_boxes, gt_labels, anchors, classes):
    """Max-IoU assignment (≥ 0.5 positive, < 0.4 negative, each box's best anchor forced positive), no gradient."""
    n, m = gt_labels.shape[0], anchors.shape[0]
    cls_t = torch.zeros(n, m, classes)
    valid = torch.ones(n, m, dtype=torch.bool)
    pos = torch.zeros(n, m, dtype=torch.bool)
    box_t = torch.zeros(n, m, 4)
    for i in range(n):
        _, iou = pairwise_giou(anchors, gt_boxes[i])                # [M, G]
        best, arg = iou.max(dim=1)
        p = best >= 0.5
        p[iou.argmax(dim=0)] = True
        arg[iou.argmax(dim=0)] = torch.arange(gt_boxes[i].shape[0])
        valid[i] = p | (best < 0.4)
        pos[i] = p
        cls_t[i, p, gt_labels[i][arg[p]]] = 1
        box_t[i] = gt_boxes[i][arg]
    return cls_t, valid, pos, box_t


def dense_loss(logits, deltas, anchors, targets):
    cls_t, valid, pos, box_t = targets
    num_pos = max(1.0, float(pos.sum()))
    x, t = logits[valid], cls_t[valid]
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    focal = (0.25 * t + 0.75 * (1 - t)) * ce * (1 - p_t) ** 2
    anc = anchors.expand(pos.shape[0], -1, -1)[pos]
    d, g = deltas[pos], box_t[pos]
    l1 = F.smooth_l1_loss(d, encode(g, anc), beta=1 / 9, reduction="sum")
    giou = (1 - paired_giou(decode(d, anc), g)).sum()
    return (focal.sum() + l1 + giou) / num_pos


def set_loss(boxes, logits, gt_boxes, gt_labels, classes, eos=0.1, w_l1=5.0, w_giou=2.0):
    """DETR set criterion: Hungarian match on −p + 5·L1 − 2·GIoU, then CE (no-object weight eos) + L1 + GIoU."""
    n = boxes.shape[0]
    prob = logits.detach().softmax(-1)
    src, tgt = [], []
    for i in range(n):
        gt = xyxy_to_cxcywh(gt_boxes[i])
        with torch.no_grad():
            cost = (-prob[i][:, gt_labels[i]] + w_l1 * torch.cdist(boxes[i].detach(), gt, p=1)
                    - w_giou * pairwise_giou(cxcywh_to_xyxy(boxes[i].detach()), gt_boxes[i])[0])
        r, c = linear_sum_assignment(cost.numpy())
        src.append(torch.as_tensor(r)), tgt.append(torch.as_tensor(c))
    weight = torch.ones(classes + 1)
    weight[classes] = eos
    target = torch.full(logits.shape[:2], classes, dtype=torch.long)
    for i in range(n):
        target[i, src[i]] = gt_labels[i][tgt[i]]
    ce = F.cross_entropy(logits.reshape(-1, classes + 1), target.reshape(-1), weight=weight)
    pb = torch.cat([boxes[i][src[i]] for i in range(n)])
    gb = torch.cat([xyxy_to_cxcywh(gt_boxes[i])[tgt[i]] for i in range(n)])
    num = max(1.0, float(gb.shape[0]))
    l1 = (pb - gb).abs().sum() / num
    giou = (1 - paired_giou(cxcywh_to_xyxy(pb), cxcywh_to_xyxy(gb))).sum() / num
    return ce + w_l1 * l1 + w_giou * giou


def random_batch(batch, size, classes, boxes, gen):
    images = torch.randn(batch, 3, size, size, generator=gen)
    side = torch.randint(8, 64, (batch, boxes, 2), generator=gen).float()
    corner = torch.rand(batch, boxes, 2, generator=gen) * (size - side)
    gt = torch.cat([corner, corner + side], dim=2)                              # pixels, xyxy
    labels = torch.randint(0, classes, (batch, boxes), generator=gen)
    return images, gt, labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--input-size", type=int, default=320)
    ap.add_argument("--steps", type=int, default=5, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--boxes", type=int, default=20, help="ground-truth boxes per image")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                    help="bf16: the network under torch.autocast('cpu', dtype=torch.bfloat16), the losses in fp32")
    args = ap.parse_args()
    if args.input_size % 16 or args.input_size < 32 or args.batch_size < 1 or args.steps < 1 or args.boxes < 1:
        ap.error("input size must be a multiple of 16 (≥ 32); batch size, steps and boxes must be positive")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    images, gt_px, labels = random_batch(args.batch_size, args.input_size, args.classes, args.boxes, gen)
    anchors = make_anchors(args.input_size)
    gt_norm = gt_px / args.input_size
    net = Net(args.classes)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=1e-4)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            outputs = net(images, anchors)
        logits, deltas, set_boxes, set_logits = (t.float() for t in outputs)
        with torch.no_grad():
            targets = dense_targets(gt_px, labels, anchors, args.classes)
        loss = dense_loss(logits, deltas, anchors, targets)
        loss = loss + set_loss(set_boxes, set_logits, gt_norm, labels, args.classes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    for _ in range(args.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    total = time.perf_counter() - t0
    if not math.isfinite(loss):
        sys.exit(f"bench-train-torch: loss is {loss}")
    params = sum(p.numel() for p in net.parameters())
    print(f"torch {torch.__version__}, threads: {torch.get_num_threads()}, parameters: {params}, "
          f"precision {args.precision}{' (autocast)' if args.precision == 'bf16' else ''}")
    print(f"reference configuration, input {args.input_size}², batch {args.batch_size}, set head query, "
          f"{args.boxes} boxes/image, loss {loss:.3f}")
    print(f"{args.batch_size * args.steps / total:.1f} images/s, {1e3 * total / args.steps:.1f} ms/step "
          f"({args.steps} steps after {args.warmup} warm-up)")


if __name__ == "__main__":
    main()
