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
    /// Groups of K hypotheses per image in `setBoxes`, `setLogits` and `selected`: 1, and one more for each group
    /// the forward pass added after the K queries, in this order: hybrid matching's one-to-many group
    /// (`Detector.oneToManyGroup`), the denoising group (`Detector.denoisingBoxes`).
    public var setGroups = 1
    /// With `DetectorConfig.setProgressive` while `Detector.progressiveTraining` is set: the second stage's outputs
    /// for the K queries (then `setBoxes` and `setLogits` hold the first stage's). Nil otherwise.
    public var refined: RefinedHypotheses?

    /// Outputs from their parts.
    public init(denseLogits: Tensor, denseDeltas: Tensor, setBoxes: [Float], setLogits: Tensor, selected: [[Int]], hypotheses: Int) {
        self.denseLogits = denseLogits; self.denseDeltas = denseDeltas; self.setBoxes = setBoxes
        self.setLogits = setLogits; self.selected = selected; self.hypotheses = hypotheses
    }
}

/// The whole network: backbone, a feature pyramid when configured, dense anchor head, and a set head (query selection
/// or global).
///
/// One level (`pyramidStrides` `[8]`): the dense head runs on the backbone's stride-8 output. A pyramid: the backbone's
/// outputs at the configured strides go through `FeaturePyramid` (FPN), the dense head runs on every level with shared
/// convolutions, and the levels' anchors are concatenated level-major (`DetectorConfig.anchors`).
///
/// Built from a `DetectorConfig`; parameters are named by dotted paths (`backbone.stage2.block0.conv1.conv.weight`,
/// `dense.cls.bias`, `set.layer0.attn.q_proj.weight`, …) and BatchNorm running statistics are buffers with the same
/// kind of names, so a checkpoint is a flat map of names to tensors.
public final class Detector {
    /// The configuration the network was built from.
    public let config: DetectorConfig
    /// Backbone.
    public let backbone: Backbone
    /// The feature pyramid between backbone and dense head, when `config.pyramidStrides` has more than one stride.
    public let pyramid: FeaturePyramid?
    /// Dense head on stride 8, or shared across the pyramid's levels.
    public let dense: DenseHead
    /// Query-selection set head, when configured.
    public let querySet: QuerySetHead?
    /// Global set head, when configured.
    public let globalSet: GlobalSetHead?
    /// Dense anchors in input pixels of the last input's shape (`config.anchors(height:width:)`; before any forward
    /// pass, the square `config.anchors`): level-major, then `(y, x, a)` over each level's map.
    public private(set) var anchors: [Box]
    /// Decodes the dense head's deltas against `anchors`, clipped to the last input's `H × W`.
    public private(set) var decoder: DenseBoxDecoder
    /// Height and width of the last input (`inputSize` both before any forward pass); a rectangular configuration
    /// (`DetectorConfig.rectangular`) takes any `H × W` with sides multiples of 16, at most `inputSize`.
    public private(set) var inputHeight: Int, inputWidth: Int
    /// Anchors of input shapes seen, by `(height, width)`, so a run of rectangular batches computes each grid once.
    private var anchorCache: [[Int]: [Box]] = [:]
    /// Picks the query head's anchors.
    public let selector: QuerySelector

    /// The query head's inputs that carry no gradient: selected anchors, their dense boxes and scores.
    public struct Queries {
        /// Per image, the selected dense anchors, best first.
        public var selected: [[Int]]
        /// Their dense boxes, normalised `(cx, cy, w, h)`, `[N·K·4]`.
        public var proposals: [Float]
        /// Their dense class probabilities, `[N·K·C]`.
        public var scores: [Float]
    }
    /// The queries of the last forward pass (with its training-only groups after each image's K when it had any).
    public private(set) var lastQueries: Queries?
    /// Told, when set, of every layer the forward pass applies and of every layer's gradients the backward pass has
    /// finished (`GradientReadiness`), so that a data-parallel run can start a bucket's allreduce while backward goes
    /// on. Nil (alone): no call is made.
    public var gradientReadiness: GradientReadiness? {
        didSet {
            backbone.readiness = gradientReadiness
            pyramid?.readiness = gradientReadiness
            dense.readiness = gradientReadiness
            querySet?.readiness = gradientReadiness
            globalSet?.readiness = gradientReadiness
        }
    }
    /// When set, forward uses these queries instead of selecting them (finite-difference tests hold them fixed,
    /// since the selection is piecewise constant and its inputs carry no gradient); with `oneToManyGroup` or
    /// `denoisingBoxes` set they hold those groups too, as `lastQueries` does after such a pass.
    public var pinnedQueries: Queries?
    /// When set (the training step sets it while `config.setOneToMany` is set), forward appends hybrid matching's
    /// one-to-many group to the query head's K hypotheses: the K anchors with the best dense scores, without proposal
    /// NMS, attending only among themselves (one more in `DetectorOutput.setGroups`). Off: the K queries alone, as in
    /// evaluation.
    public var oneToManyGroup = false
    /// When set (the training step sets it while `config.setDenoising` is set), per image K boxes in input pixels
    /// that forward appends as a denoising group after the others (DN-DETR): each reads the features of the anchor
    /// under it (`anchorUnder`) and starts from the box itself and that anchor's dense scores. Nil: no such group.
    public var denoisingBoxes: [[Box]]?
    /// When set (the training step sets it while `config.setProgressive` is set), forward keeps the two stages of
    /// progressive acceptance apart: the first stage's outputs in `DetectorOutput.setBoxes`/`setLogits`, the second's
    /// in `DetectorOutput.refined`. Off (evaluation, inference), the K queries' outputs are merged: an accepted
    /// hypothesis keeps its first-stage outputs, the others take the second stage's.
    public var progressiveTraining = false

    /// A network for `config`, initialised from `seed`.
    public init(config: DetectorConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        var g = SeededGenerator(seed: seed)
        backbone = Backbone(widths: config.widths, blocks: config.blocksPerStage, generator: &g)
        pyramid = config.isPyramid
            ? FeaturePyramid(strides: config.pyramidStrides, inChannels: config.pyramidStrides.map { config.widths[Detector.stage($0)] },
                             width: config.headWidth, generator: &g)
            : nil
        let denseIn = config.isPyramid ? config.headWidth : config.widths[2]
        dense = DenseHead(inChannels: denseIn, width: config.headWidth, depth: config.headConvs,
                          anchors: config.anchorsPerLocation, classes: config.numClasses, levelStrides: config.pyramidStrides,
                          generator: &g)
        switch config.setHead {
        case .query:
            querySet = QuerySetHead(
                featureWidth: config.headConvs == 0 ? denseIn : config.headWidth, c4Channels: config.widths[3],
                fineChannels: config.setFineFeatures ? config.widths[1] : 0, classes: config.numClasses, width: config.setWidth, heads: config.attentionHeads,
                hidden: config.feedForward, layers: config.attentionLayers, classPrior: config.setClassPrior, geometry: config.setGeometry,
                progressive: config.setProgressive.map(Float.init), generator: &g)
            globalSet = nil
        case .fc:
            querySet = nil
            globalSet = GlobalSetHead(c4Channels: config.widths[3], c4Size: config.inputSize / 16,
                                      hypotheses: config.hypotheses, classes: config.numClasses, generator: &g)
        case .none:
            querySet = nil
            globalSet = nil
        }
        anchors = config.anchors
        decoder = DenseBoxDecoder(anchors: anchors, inputSize: config.inputSize)
        (inputHeight, inputWidth) = (config.inputSize, config.inputSize)
        anchorCache[[inputHeight, inputWidth]] = anchors
        selector = QuerySelector(config: config)
    }

    /// Every trainable parameter.
    public var parameters: [Parameter] {
        backbone.parameters + (pyramid?.parameters ?? []) + dense.parameters + (querySet?.parameters ?? []) + (globalSet?.parameters ?? [])
    }

    /// Every BatchNorm layer.
    public var batchNorms: [BatchNorm2D] { backbone.batchNorms + (pyramid?.batchNorms ?? []) + dense.batchNorms }

    /// Takes `other`'s weights and BatchNorm running statistics; `other` must build the same tensors (the same
    /// configuration, or one that differs only in settings no weight depends on, such as `inputSize`).
    public func copyWeights(from other: Detector) {
        for (to, from) in zip(parameters, other.parameters) {
            precondition(to.name == from.name && to.value.shape == from.value.shape, "copyWeights: \(to.name) does not fit \(from.name)")
            to.value = from.value
        }
        for (to, from) in zip(batchNorms, other.batchNorms) {
            for (name, t) in from.buffers { _ = to.setBuffer(name, t) }
        }
    }

    /// Batch statistics (training) or running statistics (inference) in every BatchNorm.
    public func setTraining(_ training: Bool) {
        for bn in batchNorms { bn.training = training }
    }

    /// Hypotheses per image.
    public var hypotheses: Int { config.setHead == .none ? 0 : config.hypotheses }

    /// Sets the input shape the anchors, the decoder, query selection and backward use: `height × width` pixels
    /// (a precondition: `config.accepts(height:width:)`). `forward` calls it with its images' shape.
    public func useInputShape(height: Int, width: Int) {
        guard height != inputHeight || width != inputWidth else { return }
        precondition(config.accepts(height: height, width: width),
                     "Detector: input \(height)×\(width) is not accepted (sides multiples of 16 up to inputSize \(config.inputSize)"
                     + (config.rectangular ? ")" : ", square unless rectangular)"))
        let key = [height, width]
        let a = anchorCache[key] ?? config.anchors(height: height, width: width)
        anchorCache[key] = a
        anchors = a
        decoder = DenseBoxDecoder(anchors: a, height: height, width: width, inputSize: config.inputSize)
        (inputHeight, inputWidth) = (height, width)
    }

    /// The forward pass: `images: [N, 3, H, W]` normalised (`H = W = inputSize` unless `config.rectangular`).
    public func forward(_ images: Tensor) -> DetectorOutput {
        useInputShape(height: images.shape[2], width: images.shape[3])
        gradientReadiness?.beginForward()
        let stages = backbone.forwardStages(images)
        let c4 = stages[2]
        let inputs = pyramid?.forward(config.pyramidStrides.map { stages[Self.stage($0) - 1] }) ?? [stages[1]]
        let heads = dense.forward(levels: inputs)
        let a = config.anchorsPerLocation
        let logits = HeadLayout.toAnchors(levels: heads.map(\.logits), anchors: a)
        let deltas = HeadLayout.toAnchors(levels: heads.map(\.deltas), anchors: a)
        var out = DetectorOutput(denseLogits: logits, denseDeltas: deltas, setBoxes: [], setLogits: Tensor(shape: [0, config.numClasses + 1]),
                                 selected: [], hypotheses: hypotheses)
        if let head = querySet {
            let all: Queries, groups = 1 + (oneToManyGroup ? 1 : 0) + (denoisingBoxes == nil ? 0 : 1)
            if let pinned = pinnedQueries {
                precondition(pinned.selected.allSatisfy { $0.count == groups * config.hypotheses },
                             "Detector: pinned queries need \(groups) group(s) of \(config.hypotheses) per image")
                all = pinned
            } else {
                let selected = selector.select(logits: logits, deltas: deltas, decoder: decoder)
                var q = queries(selected, logits: logits, deltas: deltas)
                if oneToManyGroup {
                    let best = selector.topK(logits: logits, k: config.hypotheses)
                    q = Self.appending(queries(best, logits: logits, deltas: deltas), to: q, classes: config.numClasses)
                }
                if let boxes = denoisingBoxes {
                    q = Self.appending(denoisingQueries(boxes, logits: logits), to: q, classes: config.numClasses)
                }
                all = q
            }
            lastQueries = all
            let (levels, cells) = locate(all.selected)
            let r = head.forward(features: heads.map(\.features), c4: c4, levels: levels, cells: cells,
                                 strides: config.pyramidStrides, proposals: all.proposals, proposalScores: all.scores,
                                 fine: config.setFineFeatures ? stages[0] : nil, groups: groups)
            out.setBoxes = r.boxes
            out.setLogits = r.logits
            out.selected = all.selected
            out.setGroups = groups
            if let refined = head.refined {
                if progressiveTraining {
                    out.refined = refined
                } else {
                    Self.merge(refined, into: &out, groups: groups)
                }
            }
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
    /// With progressive acceptance, `dRefinedBoxes`/`dRefinedLogits` are the gradients w.r.t. `DetectorOutput.refined`.
    public func backward(dDenseLogits: Tensor, dDenseDeltas: Tensor, dSetBoxes: [Float], dSetLogits: Tensor,
                         dRefinedBoxes: [Float]? = nil, dRefinedLogits: Tensor? = nil) {
        let a = config.anchorsPerLocation, sizes = config.levelShapes(height: inputHeight, width: inputWidth)
        let dLogitsMaps = HeadLayout.fromAnchors(levels: dDenseLogits, anchors: a, shapes: sizes)
        let dDeltasMaps = HeadLayout.fromAnchors(levels: dDenseDeltas, anchors: a, shapes: sizes)
        var dFeatures: [Tensor]? = nil
        var dC4: Tensor, dFine: Tensor? = nil
        if let head = querySet {
            let r = head.backward(dBoxes: dSetBoxes, dLogits: dSetLogits, dRefinedBoxes: dRefinedBoxes,
                                  dRefinedLogits: dRefinedLogits)
            dFeatures = r.dFeatures
            dC4 = r.dC4
            dFine = r.dFine
        } else if let head = globalSet {
            dC4 = head.backward(dBoxes: dSetBoxes, dLogits: dSetLogits)
        } else {
            dC4 = Tensor(shape: [dDenseLogits.shape[0], config.widths[3], inputHeight / 16, inputWidth / 16])
        }
        let dInputs = dense.backward(levels: sizes.indices.map { (dLogitsMaps[$0], dDeltasMaps[$0], dFeatures?[$0]) })
        var stageGradients: [Tensor?] = [dFine, nil, dC4]
        if let pyramid {
            for (l, d) in pyramid.backward(dInputs).enumerated() {
                let k = Self.stage(config.pyramidStrides[l]) - 1
                if stageGradients[k] == nil { stageGradients[k] = d } else { stageGradients[k]!.add(d) }
            }
        } else {
            stageGradients[1] = dInputs[0]
        }
        backbone.backward(stageGradients: stageGradients)
    }

    /// Progressive acceptance's outputs: each K-query row (group 0 of `groups`) that the first stage did not accept
    /// takes the second stage's box and logits.
    static func merge(_ refined: RefinedHypotheses, into out: inout DetectorOutput, groups: Int) {
        let n = out.selected.count, per = out.setLogits.shape[1]
        let rows = QuerySetHead.firstGroupRows(n: n, k: groups * out.hypotheses, groups: groups)
        for (i, r) in rows.enumerated() where !refined.accepted[i] {
            for j in 0..<4 { out.setBoxes[r * 4 + j] = refined.boxes[i * 4 + j] }
            for j in 0..<per { out.setLogits.data[r * per + j] = refined.logits.data[i * per + j] }
        }
    }

    /// The backbone stage (1–3, the index into `widths`) whose output has `stride` (4, 8, 16).
    static func stage(_ stride: Int) -> Int { stride == 4 ? 1 : stride == 8 ? 2 : 3 }

    /// Per image, the level and the cell `y·W_l + x` of each selected anchor (anchor indices level-major).
    public func locate(_ selected: [[Int]]) -> (levels: [[Int]], cells: [[Int]]) {
        let counts = config.levelAnchorCounts(height: inputHeight, width: inputWidth), a = config.anchorsPerLocation
        let located = selected.map { list in
            list.map { i -> (Int, Int) in
                var (l, local) = (0, i)
                while l + 1 < counts.count && local >= counts[l] { local -= counts[l]; l += 1 }
                return (l, local / a)
            }
        }
        return (located.map { $0.map(\.0) }, located.map { $0.map(\.1) })
    }
}
