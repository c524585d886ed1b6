import DetectorModel
import Foundation

/// The network input a checkpoint is applied at. By default the side it was trained at (`DetectorConfig.inputSize`);
/// a given side runs the same weights on larger or smaller letterboxes (ultralytics' `imgsz` at `val` and `predict`,
/// which need not be the training one). Convolutions, the dense head and the query set head do not depend on the
/// input's size; the anchors keep their sides in input pixels, so objects meet them at a scale of `side / inputSize`.
/// The `fc` set head flattens a map of fixed size and is refused.
public enum InferenceInput {
    /// The checkpoint at `url` with its weight average (`Checkpoint.load(_:averaged: true)`), at input side
    /// `inputSize` when given, and the side it was trained at; errors name the file, or the key `inputSize` for a
    /// side the network cannot take.
    public static func load(_ url: URL, inputSize: Int?) throws -> (loaded: Checkpoint.Loaded, trainedSize: Int) {
        let loaded = try Checkpoint.load(url, averaged: true)
        let trained = loaded.detector.config.inputSize
        guard let side = inputSize, side != trained else { return (loaded, trained) }
        var config = loaded.detector.config
        guard config.setHead != .fc else {
            throw InferenceError.invalidSetting(
                key: "inputSize", reason: "\(url.path): the fc set head flattens a map of fixed size \(config.inputSize); it runs at its own input only")
        }
        config.inputSize = side
        do { try config.validate() } catch let ModelError.invalidSetting(_, reason) {
            throw InferenceError.invalidSetting(key: "inputSize", reason: "\(side) for \(url.path): \(reason)")
        }
        return (try Checkpoint.load(url, config: config, averaged: true), trained)
    }
}
