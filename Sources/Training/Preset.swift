import Datasets
import DetectorModel
import Foundation

/// A named starting point for a run's settings: defaults < preset < `--config` file < flags
/// (`RunConfiguration.resolve`). `detector train --config NAME` picks one by name; without a name a run on the
/// synthetic default uses `synthetic`, a run on data of one's own (`--data`) uses `default`.
///
/// | preset | network and losses | anchors |
/// |---|---|---|
/// | `reference` | `DetectorConfig.reference`: max-IoU positives, top-K queries, DETR cost (the speed benchmarks' network) | 12, 24, 48 px |
/// | `default` | input fitted to the data (`InputFitting`, rectangular) + ATSS positives, proposal-NMS queries, geometric attention, 100 hypotheses, ReInspect cost, dense-score class prior, IoU-aware class targets; training with mosaics at probability 0.5 | fitted to the training boxes |
/// | `synthetic` | `default`'s head at the synthetic scenes' 256², without the IoU-aware class targets | 16, 32, 64 px |
/// | `tiny-crowd` | `synthetic`'s head at 640 (rectangular: the 512×288 frames enlarged to 640×384) for the tiny-crowd scenes, 150 hypotheses | 6, 10, 16 px |
///
/// The choices and what each measured: docs/experiments.md.
public enum Preset: String, CaseIterable, Sendable {
    /// The reference configuration, unchanged (what `detector bench train` and `tools/bench-train` time).
    case reference
    /// The best known configuration for data of one's own.
    case `default`
    /// The synthetic default's configuration (256² scenes of 10–60 objects of 16–64 px).
    case synthetic
    /// Tiny crowded objects: the tiny-crowd scenes (512×288 frames of 30–90 objects of 6–16 px).
    case tinyCrowd = "tiny-crowd"

    /// The preset called `name` (`reference`, `default`, `synthetic`, `tiny-crowd`), or nil.
    public static func named(_ name: String) -> Preset? { Preset(rawValue: name) }

    /// The network and loss settings of the preset for `classes`; `name` is the preset's name.
    public func model(classes: [String]) -> DetectorConfig {
        var c = DetectorConfig.reference(classes: classes)
        c.name = rawValue
        guard self != .reference else { return c }
        c.hypotheses = 100
        c.denseAssignment = .atss
        c.querySelection = .nms
        c.setGeometry = true
        c.matchCost = .reinspect
        c.setClassPrior = true
        switch self {
        case .reference:
            break
        case .default:
            c.setIoUTargets = true
        case .synthetic:
            c.inputSize = SyntheticSceneConfig().imageSize
            c.anchorSizes = [16, 32, 64]
        case .tinyCrowd:
            // The 512×288 frames enlarged 1.25× to 640×384 rectangles (objects of 7.5–20 px at the network): at 30
            // minutes on one core set head AP50 0.834 against 0.775 at 512×288, in 0.61× the steps
            // (docs/experiments.md).
            c.inputSize = 640
            c.rectangular = true
            c.hypotheses = 150
            c.anchorSizes = [6, 10, 16]
        }
        return c
    }

    /// The training settings the preset starts from: `TrainSettings`' defaults, with mosaics for `default` and
    /// without the search for an inference input side for `reference` (whose figures compare with a PyTorch twin's
    /// at the trained side).
    public var training: TrainSettings {
        var t = TrainSettings()
        if self == .default { t.mosaic = Self.defaultMosaic }
        if self == .reference { t.chooseInputSize = false }
        return t
    }

    /// The mosaic probability of the `default` preset (docs/experiments.md, "Mosaic").
    public static let defaultMosaic = 0.5

    /// Whether a new run fits the anchor sides to its training boxes (`AnchorFitting`) unless a file or flag gives
    /// them: true for `default`, whose data is not known in advance.
    public var fitsAnchors: Bool { self == .default }

    /// Whether a new run takes its input size from its training boxes (`InputFitting`) and rectangular inputs unless
    /// a file or flag gives them: true for `default`.
    public var fitsInput: Bool { self == .default }
}
