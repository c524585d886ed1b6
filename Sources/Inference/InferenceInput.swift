import DetectorModel
import Foundation

/// The network input a checkpoint is applied at. By default the side training chose on its validation split (stored
/// in the checkpoint under `metadataKey`, `TrainSettings.chooseInputSize`), else the side it was trained at
/// (`DetectorConfig.inputSize`); a given side runs the same weights on larger or smaller letterboxes (ultralytics'
/// `imgsz` at `val` and `predict`, which need not be the training one). Convolutions, the dense head and the query
/// set head do not depend on the input's size; the anchors keep their sides in input pixels, so objects meet them at a
/// scale of `side / inputSize`. The `fc` set head flattens a map of fixed size and is refused.
public enum InferenceInput {
    /// Metadata key of the input side training chose on its validation split (an integer, written only when it
    /// differs from the trained side).
    public static let metadataKey = "inferenceInputSize"

    /// Where the side a checkpoint runs at comes from.
    public enum SideSource: Equatable, Sendable {
        /// The side it was trained at.
        case trained
        /// The side training chose on its validation split (stored in the checkpoint).
        case chosen
        /// Given by the caller (`--input-size`).
        case given
    }

    /// The checkpoint at `url` with its weight average (`Checkpoint.load(_:averaged: true)`), at input side
    /// `inputSize` when given, else at the side stored by training, else at its own; the side it was trained at, and
    /// where the side came from. Errors name the file, or the key `inputSize` for a side the network cannot take.
    public static func load(_ url: URL, inputSize: Int?) throws
        -> (loaded: Checkpoint.Loaded, trainedSize: Int, source: SideSource) {
        var loaded = try Checkpoint.load(url, averaged: true)
        let trained = loaded.detector.config.inputSize
        let stored = try storedSize(in: loaded.metadata, source: url.path)
        let source: SideSource = inputSize != nil ? .given : stored != nil ? .chosen : .trained
        guard let side = inputSize ?? stored, side != trained else { return (loaded, trained, source) }
        loaded.detector = try detector(loaded.detector, at: side, source: url.path)
        return (loaded, trained, source)
    }

    /// The checkpoints of a model ensemble (`Predictor.ensemble`), each as `load(_:inputSize:)` gives it, in the
    /// order given. Throws when one predicts other classes than the first, or has a set head where the first has none
    /// (or the reverse), naming both files and the key `model`.
    public static func loadEnsemble(_ urls: [URL], inputSize: Int?) throws
        -> [(loaded: Checkpoint.Loaded, trainedSize: Int, source: SideSource)] {
        let members = try urls.map { try load($0, inputSize: inputSize) }
        guard let first = members.first?.loaded.detector.config else { return members }
        for (url, member) in zip(urls, members).dropFirst() {
            let config = member.loaded.detector.config
            let what: String
            if config.classNames != first.classNames {
                what = "predicts [\(config.classNames.joined(separator: ", "))] where \(urls[0].path) predicts "
                    + "[\(first.classNames.joined(separator: ", "))]"
            } else if (config.setHead == .none) != (first.setHead == .none) {
                what = config.setHead == .none ? "has no set head where \(urls[0].path) has one"
                    : "has a set head where \(urls[0].path) has none"
            } else {
                continue
            }
            throw InferenceError.invalidSetting(
                key: "model", reason: "\(url.path) \(what): the models of an ensemble must predict the same classes "
                    + "with the same heads")
        }
        return members
    }

    /// The side stored in a checkpoint's `metadata` by training, nil when there is none; throws when the entry is
    /// not a positive integer, naming `source`.
    public static func storedSize(in metadata: [String: String], source: String) throws -> Int? {
        guard let text = metadata[metadataKey] else { return nil }
        guard let side = Int(text), side > 0 else {
            throw InferenceError.invalidSetting(key: metadataKey, reason: "\(source): stored input side \(text) is not a positive integer")
        }
        return side
    }

    /// A network with `detector`'s weights and running statistics at input side `side` (`detector` itself when it is
    /// already at that side). Throws for the `fc` set head and for sides the configuration refuses, naming `source`
    /// (the checkpoint, or what the network is) and the key `inputSize`.
    public static func detector(_ detector: Detector, at side: Int, source: String) throws -> Detector {
        var config = detector.config
        guard side != config.inputSize else { return detector }
        guard config.setHead != .fc else {
            throw InferenceError.invalidSetting(
                key: "inputSize", reason: "\(source): the fc set head flattens a map of fixed size \(config.inputSize); it runs at its own input only")
        }
        config.inputSize = side
        do { try config.validate() } catch let ModelError.invalidSetting(_, reason) {
            throw InferenceError.invalidSetting(key: "inputSize", reason: "\(side) for \(source): \(reason)")
        }
        let resized = try Detector(config: config, seed: 0)
        resized.copyWeights(from: detector)
        return resized
    }
}
