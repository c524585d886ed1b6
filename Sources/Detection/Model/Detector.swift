import Boxes
import Foundation
import NeuralNet

/// Everything one forward pass produces for a batch of N images.
public struct DetectorOutput {
    /// Dense class logits per anchor, `[N, A_total, C]` (anchor order of `Detector.anchors`).
    public var denseLogits: Tensor
    /// Dense box deltas per anchor, `[N, A_total, 4]` (torchvision BoxCoder encoding against the anchors).
    public var denseDeltas: Tensor
    /// Set hypotheses' boxes, `[N·K·4]` normalised `(cx, cy, w, h)` in `[0, 1]` of the input; empty without a set head.
    public var setBoxes: [Float]
    /// Set hypotheses' class logits `[N·K, C + 1]` (last column = no-object); empty without a set head.
    public var setLogits: Tensor
    /// Per image, the dense anchor index behind each hypothesis (query head), in dense-score order: position k has
    /// rank k, the ReInspect rank term.
    public var selected: [[Int]]
    /// Hypotheses per image K (0 without a set head).
    public var hypotheses: Int
}

/// The whole network: backbone, dense anchor head, and a set head (query selection or global).
///
/// Built from a `DetectorConfig`; parameters are named by dotted paths (`backbone.stage2.block0.conv1.conv.weight`,
/// `dense.cls.bias`, `set.layer0.attn.q_proj.weight`, …) and BatchNorm running statistics are buffers with the same
/// kind of names, so a checkpoint is a flat map of names to tensors.
public final class Detector {
    /// The configuration the network was built from.
    public let config: DetectorConfig
    /// Backbone.
    public let backbone: Backbone
    /// Dense head on stride 8.
    public let dense: DenseHead
    /// Query-selection set head, when configured.
    public let querySet: QuerySetHead?
    /// Global set head, when configured.
    public let globalSet: GlobalSetHead?
    /// Dense anchors in input pixels, order `(y, x, a)` over the stride-8 map.
    public let anchors: [Box]
    /// The dense head's box coder.
    public let coder = BoxCoder()

    /// The query head's inputs that carry no gradient: selected anchors, their dense boxes and scores.
    struct Queries {
        var selected: [[Int]]
        var proposals: [Float]
        var scores: [Float]
    }
    /// The queries of the last forward pass.
    private(set) var lastQueries: Queries?
    /// When set, forward uses these queries instead of selecting them (finite-difference tests hold them fixed,
    /// since the selection is piecewise constant and its inputs carry no gradient).
    var pinnedQueries: Queries?

    /// A network for `config`, initialised from `seed`.
    public init(config: DetectorConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        var g = SeededGenerator(seed: seed)
        backbone = Backbone(widths: config.widths, blocks: config.blocksPerStage, generator: &g)
        dense = DenseHead(inChannels: config.widths[2], width: config.headWidth, depth: config.headConvs,
                          anchors: config.anchorsPerLocation, classes: config.numClasses, generator: &g)
        switch config.setHead {
        case .query:
            querySet = QuerySetHead(
                featureWidth: config.headConvs == 0 ? config.widths[2] : config.headWidth, c4Channels: config.widths[3],
                classes: config.numClasses, width: config.setWidth, heads: config.attentionHeads,
                hidden: config.feedForward, layers: config.attentionLayers, classPrior: config.setClassPrior, geometry: config.setGeometry,
                generator: &g)
            globalSet = nil
        case .fc:
            querySet = nil
            globalSet = GlobalSetHead(c4Channels: config.widths[3], c4Size: config.inputSize / 16,
                                      hypotheses: config.hypotheses, classes: config.numClasses, generator: &g)
        case .none:
            querySet = nil
            globalSet = nil
        }
        anchors = Detector.makeAnchors(config)
    }

    /// Anchors of `config`: for every stride-8 cell `(y, x)` (centre `(x + 0.5)·8, (y + 0.5)·8`), one box per size and
    /// ratio (height/width), area `size²`.
    public static func makeAnchors(_ config: DetectorConfig) -> [Box] {
        let f = config.featureSize, stride = 8.0
        var out: [Box] = []
        out.reserveCapacity(f * f * config.anchorsPerLocation)
        for y in 0..<f {
            for x in 0..<f {
                let (cx, cy) = ((Double(x) + 0.5) * stride, (Double(y) + 0.5) * stride)
                for size in config.anchorSizes {
                    for ratio in config.anchorRatios {
                        let w = size / ratio.squareRoot(), h = size * ratio.squareRoot()
                        out.append(Box(cx: cx, cy: cy, w: w, h: h))
                    }
                }
            }
        }
        return out
    }

    /// Every trainable parameter.
    public var parameters: [Parameter] {
        backbone.parameters + dense.parameters + (querySet?.parameters ?? []) + (globalSet?.parameters ?? [])
    }

    /// Every BatchNorm layer.
    public var batchNorms: [BatchNorm2D] { backbone.batchNorms + dense.batchNorms }

    /// Batch statistics (training) or running statistics (inference) in every BatchNorm.
    public func setTraining(_ training: Bool) {
        for bn in batchNorms { bn.training = training }
    }

    /// Hypotheses per image.
    public var hypotheses: Int { config.setHead == .none ? 0 : config.hypotheses }

    /// The forward pass: `images: [N, 3, S, S]` normalised.
    public func forward(_ images: Tensor) -> DetectorOutput {
        let (c3, c4) = backbone.forward(images)
        let (features, logitsMap, deltasMap) = dense.forward(c3)
        let a = config.anchorsPerLocation
        let logits = HeadLayout.toAnchors(logitsMap, anchors: a)
        let deltas = HeadLayout.toAnchors(deltasMap, anchors: a)
        var out = DetectorOutput(denseLogits: logits, denseDeltas: deltas, setBoxes: [], setLogits: Tensor(shape: [0, config.numClasses + 1]),
                                 selected: [], hypotheses: hypotheses)
        if let head = querySet {
            let q: Queries
            if let pinned = pinnedQueries {
                q = pinned
            } else {
                let selected: [[Int]]
                switch config.querySelection {
                case .topK: selected = topAnchors(logits: logits, k: config.hypotheses)
                case .peaks: selected = peakAnchors(logits: logits, k: config.hypotheses)
                case .nms: selected = nmsAnchors(logits: logits, deltas: deltas, k: config.hypotheses,
                                                 iouThreshold: config.queryNMSIoU)
                }
                let (proposals, scores) = proposalsFor(selected: selected, logits: logits, deltas: deltas)
                q = Queries(selected: selected, proposals: proposals, scores: scores)
            }
            lastQueries = q
            let cells = q.selected.map { $0.map { $0 / a } }
            let r = head.forward(features: features, c4: c4, cells: cells, proposals: q.proposals, proposalScores: q.scores)
            out.setBoxes = r.boxes
            out.setLogits = r.logits
            out.selected = q.selected
        } else if let head = globalSet {
            let r = head.forward(c4: c4)
            out.setBoxes = r.boxes
            out.setLogits = r.logits
            out.selected = Array(repeating: Array(0..<config.hypotheses), count: images.shape[0])
        }
        return out
    }

    /// The backward pass from the gradients of the loss w.r.t. every output (`dSetBoxes`/`dSetLogits` empty without a
    /// set head); accumulates into the parameters' gradients.
    public func backward(dDenseLogits: Tensor, dDenseDeltas: Tensor, dSetBoxes: [Float], dSetLogits: Tensor) {
        let f = config.featureSize, a = config.anchorsPerLocation
        let dLogitsMap = HeadLayout.fromAnchors(dDenseLogits, anchors: a, height: f, width: f)
        let dDeltasMap = HeadLayout.fromAnchors(dDenseDeltas, anchors: a, height: f, width: f)
        var dFeatures: Tensor? = nil
        var dC4: Tensor
        if let head = querySet {
            let r = head.backward(dBoxes: dSetBoxes, dLogits: dSetLogits)
            dFeatures = r.dFeatures
            dC4 = r.dC4
        } else if let head = globalSet {
            dC4 = head.backward(dBoxes: dSetBoxes, dLogits: dSetLogits)
        } else {
            let s = config.inputSize / 16
            dC4 = Tensor(shape: [dDenseLogits.shape[0], config.widths[3], s, s])
        }
        let dC3 = dense.backward(dLogits: dLogitsMap, dDeltas: dDeltasMap, dFeatures: dFeatures)
        backbone.backward(dC3: dC3, dC4: dC4)
    }

    /// Per image, the indices of the K anchors with the highest best-class logit, best first (ties: lower index first).
    public func topAnchors(logits: Tensor, k: Int) -> [[Int]] {
        (0..<logits.shape[0]).map { b in
            let best = Self.bestClassLogits(logits, image: b)
            return Array(Self.byScore(Array(best.indices), best).prefix(k))
        }
    }

    /// Image `b`'s best-class logit of every anchor (NaN counts as −∞), from dense logits `[N, A, C]`.
    static func bestClassLogits(_ logits: Tensor, image b: Int) -> [Float] {
        let (total, c) = (logits.shape[1], logits.shape[2])
        var best = [Float](repeating: -.infinity, count: total)
        logits.data.withUnsafeBufferPointer { p in
            for i in 0..<total {
                let row = p.baseAddress! + (b * total + i) * c
                var m = row[0]
                for j in 1..<c where row[j] > m { m = row[j] }
                best[i] = m.isNaN ? -.infinity : m
            }
        }
        return best
    }

    /// `anchors` ordered by descending `best` score, ties by lower index.
    static func byScore(_ anchors: [Int], _ best: [Float]) -> [Int] {
        anchors.sorted { best[$0] > best[$1] || (best[$0] == best[$1] && $0 < $1) }
    }

    /// Per image, K anchors: first the confident local peaks (a location whose best anchor score is the highest of
    /// its 3×3 neighbourhood and at least `peakThreshold` as a probability; its best anchor, peaks ordered by score),
    /// then every other anchor by score (ties: lower index first). Peak picking is CenterNet's (Zhou et al., "Objects
    /// as Points", 2019) 3×3 maximum, used here only to order the candidates, so objects whose peak loses to a
    /// neighbour still enter through the second list.
    public func peakAnchors(logits: Tensor, k: Int, peakThreshold: Float = 0.05) -> [[Int]] {
        let threshold = log(peakThreshold / (1 - peakThreshold))  // the probability as a logit
        let a = config.anchorsPerLocation, f = config.featureSize
        return (0..<logits.shape[0]).map { b in
            let best = Self.bestClassLogits(logits, image: b)
            var locationBest = [Float](repeating: -.infinity, count: f * f), locationAnchor = [Int](repeating: 0, count: f * f)
            for l in 0..<(f * f) {
                for s in 0..<a where best[l * a + s] > locationBest[l] { (locationBest[l], locationAnchor[l]) = (best[l * a + s], l * a + s) }
            }
            var peaks: [Int] = []
            for y in 0..<f {
                for x in 0..<f {
                    let v = locationBest[y * f + x]
                    var isPeak = v >= threshold
                    for dy in -1...1 where isPeak {
                        for dx in -1...1 where !(dx == 0 && dy == 0) {
                            let (yy, xx) = (y + dy, x + dx)
                            guard yy >= 0, yy < f, xx >= 0, xx < f else { continue }
                            let u = locationBest[yy * f + xx]
                            // Ties go to the earlier location, so a flat plateau yields one peak.
                            if u > v || (u == v && yy * f + xx < y * f + x) { isPeak = false; break }
                        }
                    }
                    if isPeak { peaks.append(locationAnchor[y * f + x]) }
                }
            }
            return Self.filled(Array(Self.byScore(peaks, best).prefix(k)), best: best, k: k)
        }
    }

    /// `chosen` followed by the best-scoring other anchors, up to K in all.
    static func filled(_ chosen: [Int], best: [Float], k: Int) -> [Int] {
        guard chosen.count < k else { return chosen }
        let taken = Set(chosen)
        return chosen + byScore(best.indices.filter { !taken.contains($0) }, best).prefix(k - chosen.count)
    }

    /// Per image, K anchors: first those whose decoded dense box survives greedy suppression (anchors visited by
    /// best-class score, ties by lower index; a box is dropped when its IoU with a kept box exceeds `iouThreshold`),
    /// then every other anchor by score. Suppression (`Boxes.nms`) stops once K boxes are kept.
    public func nmsAnchors(logits: Tensor, deltas: Tensor, k: Int, iouThreshold: Double) -> [[Int]] {
        (0..<logits.shape[0]).map { b in
            let best = Self.bestClassLogits(logits, image: b)
            let boxes = best.indices.map { denseBox(anchor: $0, image: b, deltas: deltas) }
            let kept = nms(boxes: boxes, scores: best.map(Double.init), iouThreshold: iouThreshold, maxKept: k)
            return Self.filled(kept, best: best, k: k)
        }
    }

    /// Image `b`'s dense box of `anchor`: its deltas decoded against it, clipped to the input.
    func denseBox(anchor i: Int, image b: Int, deltas: Tensor) -> Box {
        let d = (b * deltas.shape[1] + i) * 4
        let s = Double(config.inputSize)
        return coder.decode(
            BoxDelta(dx: Double(deltas.data[d]), dy: Double(deltas.data[d + 1]),
                     dw: Double(deltas.data[d + 2]), dh: Double(deltas.data[d + 3])),
            anchor: anchors[i]
        ).clipped(width: s, height: s)
    }

    /// For the selected anchors: dense boxes decoded and clipped to the input, as normalised `(cx, cy, w, h)`
    /// (`[N·K·4]`), and dense class probabilities (`[N·K·C]`).
    func proposalsFor(selected: [[Int]], logits: Tensor, deltas: Tensor) -> (boxes: [Float], scores: [Float]) {
        let (total, c) = (logits.shape[1], logits.shape[2])
        let s = Double(config.inputSize)
        var boxes: [Float] = [], scores: [Float] = []
        for (b, list) in selected.enumerated() {
            for i in list {
                let box = denseBox(anchor: i, image: b, deltas: deltas)
                boxes += [Float(box.cx / s), Float(box.cy / s), Float(max(box.width, 1) / s), Float(max(box.height, 1) / s)]
                for j in 0..<c { scores.append(1 / (1 + exp(-logits.data[(b * total + i) * c + j]))) }
            }
        }
        return (boxes, scores)
    }
}
