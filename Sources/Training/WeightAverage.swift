import DetectorModel
import Foundation
import NeuralNet

/// An exponential moving average of a detector's weights and BatchNorm running statistics, as YOLOv5 / ultralytics'
/// `ModelEMA` keeps one (after Polyak & Juditsky 1992; TensorFlow's `ExponentialMovingAverage`): after update u,
///
///     d = decay · (1 − exp(−u / τ))          (a ramp, so the first updates follow the weights closely)
///     v ← d · v + (1 − d) · w                for every parameter and running statistic w
///
/// Defaults (`TrainSettings`) `decay` 0.998, `τ` 200, for runs of a few thousand steps (ultralytics: 0.9999 and 2000). The averaged network (`averaged`) is what validation scores and
/// what `best.safetensors` and the inference commands use; `last.safetensors` stores the trained weights (so a resumed
/// run continues exactly) and the averages under `ema.<name>` with the update count in the metadata under `ema`.
public final class WeightAverage {
    /// The decay the ramp approaches.
    public let decay: Double
    /// The ramp's time constant τ, in updates.
    public let tau: Double
    /// Updates so far.
    public private(set) var updates: Int
    /// A network of the same configuration holding the averages.
    public let averaged: Detector

    /// An average that starts at `detector`'s current weights after `updates` updates.
    public init(of detector: Detector, decay: Double, tau: Double, updates: Int = 0) throws {
        self.decay = decay
        self.tau = tau
        self.updates = updates
        averaged = try Detector(config: detector.config, seed: 0)
        averaged.copyWeights(from: detector)
    }

    /// The decay of update `u`: `decay · (1 − exp(−u/τ))`.
    public func decay(at u: Int) -> Double { decay * (1 - exp(-Double(u) / tau)) }

    /// Folds `detector`'s current weights into the average (one update).
    public func update(from detector: Detector) {
        updates += 1
        let d = Float(decay(at: updates)), e = 1 - d
        func blend(_ v: inout [Float], _ w: [Float]) {
            precondition(v.count == w.count, "the averaged network has the trained one's shapes")
            for i in v.indices { v[i] = d * v[i] + e * w[i] }
        }
        for (a, p) in zip(averaged.parameters, detector.parameters) { blend(&a.value.data, p.value.data) }
        for (a, b) in zip(averaged.batchNorms, detector.batchNorms) {
            for ((name, current), (_, trained)) in zip(a.buffers, b.buffers) {
                var v = current
                blend(&v.data, trained.data)
                _ = a.setBuffer(name, v)
            }
        }
    }

    /// The averages as checkpoint tensors (`ema.` + each parameter's and buffer's name).
    public var tensors: [(name: String, tensor: Tensor)] {
        averaged.parameters.map { (name: Self.prefix + $0.name, tensor: $0.value) }
            + averaged.batchNorms.flatMap { $0.buffers.map { (name: Self.prefix + $0.0, tensor: $0.1) } }
    }

    /// The metadata entry (`ema`: JSON with `updates`, `decay`, `tau`).
    public var metadata: [String: String] {
        [Self.metadataKey: String(format: "{\"decay\":%.17g,\"tau\":%.17g,\"updates\":%d}", decay, tau, updates)]
    }

    /// Prefix of the averages' tensor names in a checkpoint.
    public static let prefix = "ema."
    /// Metadata key of the update count.
    public static let metadataKey = "ema"

    /// The average stored in a checkpoint (`Checkpoint.Loaded.averagedState` and its `ema` metadata) for `detector`,
    /// or nil when the checkpoint holds none; errors name the file.
    public static func restored(for detector: Detector, from loaded: Checkpoint.Loaded, path: String, decay: Double,
                                tau: Double) throws -> WeightAverage? {
        guard let text = loaded.metadata[metadataKey], !loaded.averagedState.isEmpty else { return nil }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let updates = object["updates"] as? Int, updates >= 0 else {
            throw TrainingError.io(path: path, reason: "unreadable weight-average metadata \(text)")
        }
        let average = try WeightAverage(of: detector, decay: decay, tau: tau, updates: updates)
        for p in average.averaged.parameters {
            guard let t = loaded.averagedState[p.name], t.shape == p.value.shape else {
                throw TrainingError.io(path: path, reason: "averaged tensor \(prefix)\(p.name) is missing or has the wrong shape")
            }
            p.value = t
        }
        for bn in average.averaged.batchNorms {
            for (name, _) in bn.buffers {
                guard let t = loaded.averagedState[name], bn.setBuffer(name, t) else {
                    throw TrainingError.io(path: path, reason: "averaged buffer \(prefix)\(name) is missing or has the wrong shape")
                }
            }
        }
        return average
    }

}
