import Boxes
import Criterion
import Foundation
import NeuralNet

/// Times full training steps of a configuration on synthetic batches (random images, random crowded boxes),
/// split into phases: forward, dense criterion, set criterion (matching included), backward, optimizer.
public enum TrainBenchmark {
    /// Seconds per phase, summed over the timed steps.
    public struct Result {
        /// Images per batch.
        public var batchSize: Int
        /// Timed steps.
        public var steps: Int
        /// Phase name → seconds (over all timed steps).
        public var phases: [(name: String, seconds: Double)]
        /// Wall seconds of the timed steps.
        public var total: Double
        /// Images per second.
        public var imagesPerSecond: Double { Double(batchSize * steps) / total }
    }

    /// Runs `warmup` untimed and `steps` timed steps of `config` at `batchSize`, with `boxesPerImage` boxes.
    public static func run(config: DetectorConfig, batchSize: Int, steps: Int, warmup: Int = 1,
                           boxesPerImage: Int = 20, seed: UInt64 = 0) throws -> Result {
        let detector = try Detector(config: config, seed: seed)
        let step = TrainStep(detector: detector, optimizer: AdamW(weightDecay: 1e-4))
        var g = SeededGenerator(seed: seed &+ 1)
        let s = config.inputSize
        let images = Tensor(shape: [batchSize, 3, s, s], initializer: .normal(std: 1), generator: &g)
        var targets: [ImageTargets] = []
        for _ in 0..<batchSize {
            var boxes: [Box] = []
            for _ in 0..<boxesPerImage {
                let w = 8 + Double(g.next() % 56), h = 8 + Double(g.next() % 56)
                let x = Double(g.next() % UInt64(s - 64)), y = Double(g.next() % UInt64(s - 64))
                boxes.append(Box(x1: x, y1: y, x2: x + w, y2: y + h))
            }
            targets.append(ImageTargets(boxes: boxes, classes: boxes.indices.map { $0 % config.numClasses }))
        }
        let batch = TrainingBatch(images: images, targets: targets)
        for _ in 0..<warmup { _ = try step.run(batch, learningRate: 1e-4) }
        var phases: [String: Double] = [:]
        step.phaseTimer = { name, seconds in phases[name, default: 0] += seconds }
        let start = Date()
        for _ in 0..<steps { _ = try step.run(batch, learningRate: 1e-4) }
        let total = Date().timeIntervalSince(start)
        step.phaseTimer = nil
        let order = ["forward", "dense criterion", "set criterion", "backward", "optimizer"]
        return Result(batchSize: batchSize, steps: steps, phases: order.map { ($0, phases[$0] ?? 0) }, total: total)
    }
}
