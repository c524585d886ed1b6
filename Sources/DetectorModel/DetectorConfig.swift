import Boxes
import Foundation

/// Everything that defines a detector's architecture and losses; stored in every checkpoint's metadata
/// (as JSON under the key `config`) so a checkpoint is self-describing.
///
/// `DetectorConfig.reference(classes:)` is the reference configuration: input 320×320,
/// stem conv3×3/2 16 → conv3×3/2 32 + residual block → conv3×3/2 64 + block (stride 8) → conv3×3/2 128 + block
/// (stride 16), BatchNorm + ReLU after every conv; dense head on stride 8 (two conv3×3 64, then class and box
/// convs, 3 anchors per location); query-selection set head over the dense head's 50 best anchors.
public struct DetectorConfig: Codable, Equatable, Sendable {
    /// Which set head, if any, sits on the network.
    public enum SetHeadKind: String, Codable, Sendable, CaseIterable {
        /// Query selection (two-stage Deformable DETR / RT-DETR): the K best dense anchors, gathered
        /// features, one self-attention layer, box refinement and class logits.
        case query
        /// Global head: conv1×1 on stride 16 → flatten → Linear 256 → Linear K·(4 + C + 1).
        case fc
        /// No set head (dense head only).
        case none
    }

    /// How the dense criterion picks positive anchors.
    public enum DenseAssignmentKind: String, Codable, Sendable, CaseIterable {
        /// RetinaNet: IoU ≥ 0.5 positive, < 0.4 background, each box's best anchor forced positive.
        case maxIoU = "maxiou"
        /// ATSS (Zhang et al., CVPR 2020): per box, an IoU threshold from the statistics of its nearest anchors.
        case atss
    }

    /// How the query head picks its K dense anchors.
    public enum QuerySelectionKind: String, Codable, Sendable, CaseIterable {
        /// The K highest-scoring anchors.
        case topK = "topk"
        /// Confident local peaks first: anchors whose location holds the best score of its 3×3 neighbourhood and
        /// a probability of at least 0.05 (one per location, best first), then the remaining anchors by score; fewer
        /// slots go to duplicates of one object.
        case peaks
        /// Proposals without duplicates: the dense boxes (decoded against their anchors) visited by score, each kept
        /// unless it overlaps an already kept one by IoU > `queryNMSIoU` (the proposal NMS of Faster R-CNN's region
        /// proposal network), then the remaining anchors by score. Unlike a 3×3 peak on the grid, two objects whose
        /// centres fall in neighbouring cells both get a query when their boxes differ.
        case nms
    }

    /// Which assignment cost the set criterion uses.
    public enum MatchCostKind: String, Codable, Sendable, CaseIterable {
        /// DETR: `w_class·(−p) + w_L1·L1 + w_giou·(−GIoU)`.
        case detr
        /// ReInspect: `100·miss + rank + L1/2000`.
        case reinspect
    }

    /// Name of the configuration (`reference`, or `custom` after overrides).
    public var name: String = "reference"
    /// Square network input side in pixels (images are letterboxed to it); with `rectangular`, the longer side.
    public var inputSize: Int = 320
    /// Rectangular inputs (YOLOv5/ultralytics `rect=True`): each image keeps its aspect ratio in an `H × W` input whose
    /// longer side is `inputSize` and whose shorter side is rounded up to a multiple of 32; training batches group
    /// images of similar shape. The network and its weights are the same; only the input's shape changes. Default
    /// false (square `inputSize²`). Not with the `fc` set head, whose linear layer fixes the input.
    public var rectangular: Bool = false
    /// Channels of stem, stage 1, stage 2 (stride 8) and stage 3 (stride 16).
    public var widths: [Int] = [16, 32, 64, 128]
    /// Residual blocks in each of stages 1–3.
    public var blocksPerStage: Int = 1
    /// Channels of the dense head's convolutions.
    public var headWidth: Int = 64
    /// Number of conv3×3 + BN + ReLU layers in the dense head before the class and box convs.
    public var headConvs: Int = 2
    /// Anchor side lengths in input pixels at stride 8 (one anchor per size and ratio at every location); a pyramid
    /// level of stride s uses them scaled by s/8 (`anchorGenerator`).
    public var anchorSizes: [Double] = [12, 24, 48]
    /// Strides of the feature levels the dense head runs on, ascending, from {4, 8, 16}. `[8]` (the default) is the
    /// single-level network on the backbone's stride-8 output; more than one stride puts a feature pyramid
    /// (`FeaturePyramid`, FPN) between the backbone and the dense head, which is shared across the levels.
    public var pyramidStrides: [Int] = [8]
    /// Anchor aspect ratios (height / width).
    public var anchorRatios: [Double] = [1]
    /// Category names, index = class id used in training (0-based).
    public var classNames: [String] = ["object"]
    /// The set head.
    public var setHead: SetHeadKind = .query
    /// Number of set hypotheses K.
    public var hypotheses: Int = 50
    /// Width of the set head's embedding.
    public var setWidth: Int = 128
    /// Attention heads in the set head's self-attention.
    public var attentionHeads: Int = 4
    /// Hidden width of the set head's feed-forward block.
    public var feedForward: Int = 256
    /// Self-attention layers in the set head.
    public var attentionLayers: Int = 1
    /// Query head: add the dense head's class logits of each proposal to the set head's class logits (a prior
    /// without gradient, as the dense box is for the box offsets).
    public var setClassPrior: Bool = false
    /// Query head: how the K anchors are picked.
    public var querySelection: QuerySelectionKind = .topK
    /// Query head: self-attention adds a learnt mix of the proposals' pairwise IoU and IoU-with-higher-ranked maps
    /// to its scores (`QuerySetHead.geometryMaps`).
    public var setGeometry: Bool = false
    /// Whether each query-head hypothesis also reads the stride-4 backbone features (stage 1's output) at the cell
    /// under its proposal's centre, a finer view for boxes of a few pixels than the stride-8 cell it starts from.
    /// Default false.
    public var setFineFeatures: Bool = false
    /// Query head with `querySelection` `nms`: the IoU above which a proposal is a duplicate of a better one.
    public var queryNMSIoU: Double = 0.6

    // Losses.
    /// Weight of the dense criterion's total.
    public var denseWeight: Double = 1
    /// Weight of the set criterion's total.
    public var setWeight: Double = 1
    /// Focal loss α (negative disables) and γ of the dense head.
    public var focalAlpha: Double = 0.25
    /// Focal loss γ of the dense head.
    public var focalGamma: Double = 2
    /// Positive-anchor rule of the dense criterion.
    public var denseAssignment: DenseAssignmentKind = .maxIoU
    /// Assignment cost of the set criterion.
    public var matchCost: MatchCostKind = .detr
    /// Weight of the no-object class in the set head's cross-entropy (DETR `eos_coef`).
    public var eosCoef: Double = 0.1
    /// Weight of the set head's L1 box loss (and cost).
    public var l1Weight: Double = 5
    /// Weight of the set head's GIoU loss (and cost).
    public var giouWeight: Double = 2
    /// Weight of the set head's class loss (and cost).
    public var classWeight: Double = 1
    /// Label smoothing of the set head's class cross-entropy.
    public var labelSmoothing: Double = 0
    /// Class-balance β (Cui et al., CVPR 2019; 0 = off) for the dense focal loss and set cross-entropy.
    public var classBalanceBeta: Double = 0
    /// IoU-aware class targets of the set head (VarifocalNet, Zhang et al., CVPR 2021; RT-DETR, Zhao et al., CVPR
    /// 2024): a matched hypothesis's class target is the IoU `q` of its box with its ground truth (detached), with
    /// `1 − q` on no-object, so that scores rank localisation (`SetCriterion.Configuration.iouTargets`). nil (the
    /// default) is off and is left out of the JSON, so the reference configuration's JSON is unchanged and a
    /// checkpoint without the key loads with it off.
    public var setIoUTargets: Bool? = nil
    /// Hybrid matching of the set head (H-DETR, Jia et al., "DETRs with Hybrid Matching", CVPR 2023): during training
    /// a second group of K query hypotheses, the K dense anchors with the best scores (no proposal NMS, so an object
    /// has several), goes through the set head beside the K queries, attends only within its own group, and is
    /// matched to each image's boxes repeated this many times (at most K / boxes times): more positive hypotheses
    /// per object, an auxiliary loss for the shared weights. Evaluation, inference and export use the K queries
    /// alone. nil (the default) is off and is left out of the JSON; a value must be at least 1.
    public var setOneToMany: Int? = nil
    /// Denoising queries of the set head (DN-DETR, Li et al., CVPR 2022, with DINO's contrastive negatives, Zhang et
    /// al., ICLR 2023): during training a group of K hypotheses made from each image's boxes with noise goes through
    /// the set head after the others, attending only within its group. Each corner moves by up to this share of half
    /// the box's side (λ) for a positive copy, which learns to give back its box and class, and by λ to 2λ for a
    /// negative copy, which learns no-object. Evaluation, inference and export never see the group. nil (the default)
    /// is off and is left out of the JSON; a value must be in (0, 1].
    public var setDenoising: Double? = nil
    /// Progressive acceptance of the query head's hypotheses (after Zheng et al., "Progressive End-to-End Object
    /// Detection in Crowded Scenes", CVPR 2022): a hypothesis whose best object-class probability exceeds this
    /// threshold is accepted as it is; the others go through one more attention block (`ProgressiveStage`) that sees
    /// which hypotheses were accepted, and are trained against the boxes no accepted hypothesis was matched to.
    /// Inference keeps the accepted hypotheses' outputs and the refined outputs of the rest. nil (the default) is off
    /// and is left out of the JSON; a value must be in (0, 1). It adds weights, so a checkpoint fixes it.
    public var setProgressive: Double? = nil

    /// The reference configuration with one class named `object`.
    public init() {}

    /// Number of object classes C.
    public var numClasses: Int { classNames.count }
    /// Anchors per feature-map location.
    public var anchorsPerLocation: Int { anchorSizes.count * anchorRatios.count }
    /// Side of the stride-8 feature map.
    public var featureSize: Int { inputSize / 8 }
    /// Whether the dense head runs on a feature pyramid (more than one stride in `pyramidStrides`).
    public var isPyramid: Bool { pyramidStrides.count > 1 }
    /// Side of each pyramid level's square feature map, `inputSize / stride`, in `pyramidStrides` order.
    public var levelSizes: [Int] { pyramidStrides.map { inputSize / $0 } }
    /// Dense anchors of each level, `levelSizes[l]² · anchorsPerLocation`.
    public var levelAnchorCounts: [Int] { levelAnchorCounts(height: inputSize, width: inputSize) }
    /// Dense anchors over all levels (`A_total`).
    public var anchorCount: Int { levelAnchorCounts.reduce(0, +) }

    /// The generator of the dense anchors: one level per entry of `pyramidStrides`, `anchorSizes` × s/8 ×
    /// `anchorRatios` per location on the level of stride s (ratio-major, as torchvision), centred on the cells and
    /// not rounded. Scaling the sizes with the stride keeps the anchors' size relative to a cell the same on every
    /// level, as FPN (Lin et al., CVPR 2017) and RetinaNet assign one octave of sizes per level.
    public var anchorGenerator: AnchorGenerator {
        AnchorGenerator(sizes: pyramidStrides.map { s in anchorSizes.map { $0 * Double(s) / 8 } },
                        aspectRatios: pyramidStrides.map { _ in anchorRatios }, centerOffset: 0.5, roundsBaseAnchors: false)
    }

    /// Every dense anchor in input pixels, level-major (the levels of `pyramidStrides` in order), then `(y, x, a)` within
    /// a level: the order of `DetectorOutput.denseLogits`.
    public var anchors: [Box] { anchors(height: inputSize, width: inputSize) }

    /// The reference configuration for the given class names.
    public static func reference(classes: [String]) -> DetectorConfig {
        var c = DetectorConfig()
        c.classNames = classes
        return c
    }

    /// Checks that the numbers can build a network; throws naming the first bad key.
    public func validate() throws {
        func bad(_ key: CodingKeys, _ why: String) -> ModelError { .invalidSetting(key: key.stringValue, reason: why) }
        guard inputSize >= 32, inputSize % 16 == 0 else { throw bad(.inputSize, "\(inputSize) must be a multiple of 16, at least 32") }
        guard widths.count == 4, widths.allSatisfy({ $0 > 0 }) else { throw bad(.widths, "need 4 positive channel counts, got \(widths)") }
        guard !classNames.isEmpty else { throw bad(.classNames, "at least one class is needed") }
        guard hypotheses > 0 else { throw bad(.hypotheses, "must be positive, got \(hypotheses)") }
        let allowed = [4, 8, 16]
        guard pyramidStrides == [8] || (pyramidStrides.count > 1 && pyramidStrides.allSatisfy(allowed.contains)
                                          && zip(pyramidStrides, pyramidStrides.dropFirst()).allSatisfy { $0 * 2 == $1 })
        else {
            throw bad(.pyramidStrides, "\(pyramidStrides) must be [8] (one level) or consecutive strides from [4, 8, 16], "
                      + "ascending (e.g. [4, 8, 16], [8, 16])")
        }
        guard !isPyramid || setHead != .query || querySelection != .peaks else {
            throw bad(.querySelection, "peaks works on one level; a pyramid (pyramidStrides \(pyramidStrides)) needs topk or nms")
        }
        guard !rectangular || setHead != .fc else {
            throw bad(.rectangular, "the fc set head flattens a fixed inputSize² map; rectangular inputs need setHead query or none (or turn rectangular off)")
        }
        guard !rectangular || inputSize % 32 == 0 else {
            throw bad(.rectangular, "rectangular inputs need an inputSize that is a multiple of 32, got \(inputSize)")
        }
        guard hypotheses <= anchorCount else {
            throw bad(.hypotheses, "\(hypotheses) exceeds the \(anchorCount) dense anchors")
        }
        let narrowest = levelAnchorCounts(height: 32, width: inputSize).reduce(0, +)
        guard !rectangular || hypotheses <= narrowest else {
            throw bad(.rectangular, "\(hypotheses) hypotheses exceed the \(narrowest) dense anchors of the narrowest rectangle "
                      + "(32×\(inputSize)); lower hypotheses or raise inputSize")
        }
        guard !setFineFeatures || setHead == .query else {
            throw bad(.setFineFeatures, "reads features for query hypotheses; setHead \(setHead) has none (use query)")
        }
        guard queryNMSIoU > 0, queryNMSIoU <= 1 else { throw bad(.queryNMSIoU, "must be in (0, 1], got \(queryNMSIoU)") }
        guard attentionHeads > 0, setWidth % attentionHeads == 0 else {
            throw bad(.attentionHeads, "\(attentionHeads) must divide the set width \(setWidth)")
        }
        guard !anchorSizes.isEmpty, anchorSizes.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw bad(.anchorSizes, "sides must be positive numbers, got \(anchorSizes)")
        }
        guard !anchorRatios.isEmpty, anchorRatios.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw bad(.anchorRatios, "ratios must be positive numbers, got \(anchorRatios)")
        }
        guard (0..<1).contains(labelSmoothing) else { throw bad(.labelSmoothing, "must be in [0, 1), got \(labelSmoothing)") }
        guard (0..<1).contains(classBalanceBeta) else { throw bad(.classBalanceBeta, "β must be in [0, 1), got \(classBalanceBeta)") }
        if let repeats = setOneToMany {
            guard repeats >= 1 else { throw bad(.setOneToMany, "repeats must be at least 1, got \(repeats)") }
            guard setHead == .query else {
                throw bad(.setOneToMany, "adds a group of query hypotheses; setHead \(setHead) has none (use query)")
            }
        }
        if let noise = setDenoising {
            guard noise > 0, noise <= 1 else {
                throw bad(.setDenoising, "the box noise must be in (0, 1], got \(noise)")
            }
            guard setHead == .query else {
                throw bad(.setDenoising, "adds a group of query hypotheses; setHead \(setHead) has none (use query)")
            }
        }
        if let threshold = setProgressive {
            guard threshold > 0, threshold < 1 else {
                throw bad(.setProgressive, "the acceptance threshold must be in (0, 1), got \(threshold)")
            }
            guard setHead == .query else {
                throw bad(.setProgressive, "refines query hypotheses; setHead \(setHead) has none (use query)")
            }
        }
    }

    /// The keys (as in JSON) of every setting.
    public static var keys: [String] { CodingKeys.allCases.map(\.stringValue) }

    /// Keys of the settings that only shape the training objective (loss weights and terms, matching cost): a resumed
    /// run may change them. Every other key shapes the network, its query selection or its classes, which a checkpoint
    /// fixes.
    public static let objectiveKeys: Set<String> = [
        CodingKeys.denseWeight, .setWeight, .focalAlpha, .focalGamma, .denseAssignment, .matchCost, .eosCoef, .l1Weight,
        .giouWeight, .classWeight, .labelSmoothing, .classBalanceBeta, .setIoUTargets, .setOneToMany, .setDenoising,
    ].reduce(into: Set<String>()) { $0.insert($1.stringValue) }

    /// The settings whose values differ from `old`'s, in key order.
    public func changes(from old: DetectorConfig) -> [SettingsCoding.Change] {
        SettingsCoding.changes(from: old, to: self, keys: Self.keys)
    }

    /// JSON text (sorted keys) for checkpoint metadata.
    public func jsonString() -> String { SettingsCoding.jsonString(self) }

    /// Decodes a configuration from a JSON object's entries (a checkpoint's metadata or a `--config` file): keys that
    /// are missing keep the values of `base`; every entry must be a key of `DetectorConfig` (`source` names the file in
    /// errors).
    public static func from(entries user: [String: Any], source: String, base: DetectorConfig = DetectorConfig()) throws -> DetectorConfig {
        try SettingsCoding.merge(user, over: base, keys: Set(keys), source: source)
    }

    /// Decodes a configuration from JSON text (a checkpoint's metadata or a `--config` file), as `from(entries:)`.
    public static func from(json: String, source: String, base: DetectorConfig = DetectorConfig()) throws -> DetectorConfig {
        guard let user = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else {
            throw ModelError.invalidConfigFile(path: source, reason: "not a JSON object")
        }
        return try from(entries: user, source: source, base: base)
    }
}

extension DetectorConfig {
    /// Keys of the settings, as in JSON.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, inputSize, rectangular, widths, blocksPerStage, headWidth, headConvs, anchorSizes, pyramidStrides, anchorRatios, classNames, setHead
        case hypotheses, setWidth, attentionHeads, feedForward, attentionLayers, setClassPrior, querySelection, setGeometry, setFineFeatures
        case queryNMSIoU, denseWeight, setWeight, focalAlpha, focalGamma, denseAssignment, matchCost, eosCoef, l1Weight
        case giouWeight, classWeight, labelSmoothing, classBalanceBeta, setIoUTargets, setOneToMany, setDenoising
        case setProgressive
    }
}
