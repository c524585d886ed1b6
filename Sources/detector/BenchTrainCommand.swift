import ArgumentParser
import Detection
import Foundation
import NeuralNet

extension Bench {
    /// `detector bench train`: images/s of full training steps of the reference configuration.
    struct TrainSpeed: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Images/s of a full training step (both heads, matching, AdamW) and the share of each phase.")

        @Option(help: "Images per batch.") var batchSize = 16
        @Option(help: "Timed steps (after one warm-up step).") var steps = 5
        @Option(help: "Classes of the synthetic targets.") var classes = 3
        @Option(help: "Ground-truth boxes per image.") var boxes = 20
        @Option(help: "Set head: query, fc or none.") var setHead = "query"

        func validate() throws {
            guard batchSize > 0, steps > 0 else { throw ValidationError("--batch-size and --steps must be positive") }
            guard DetectorConfig.SetHeadKind(rawValue: setHead) != nil else {
                throw ValidationError("--set-head must be query, fc or none, got \(setHead)")
            }
        }

        func run() throws {
            var config = DetectorConfig.reference(classes: (0..<classes).map { "class\($0)" })
            config.setHead = DetectorConfig.SetHeadKind(rawValue: setHead)!
            print("OpenBLAS core: \(BLASRuntime.coreName), threads: \(BLASRuntime.threads)")
            print("reference configuration, input \(config.inputSize)², batch \(batchSize), \(boxes) boxes/image, set head \(setHead)")
            let r = try TrainBenchmark.run(config: config, batchSize: batchSize, steps: steps, boxesPerImage: boxes)
            for (name, seconds) in r.phases {
                print(String(format: "  %-16@ %8.1f ms/step  %5.1f %%", name as NSString,
                             1e3 * seconds / Double(r.steps), 100 * seconds / r.total))
            }
            print(String(format: "step: %.1f ms, %.1f images/s", 1e3 * r.total / Double(r.steps), r.imagesPerSecond))
        }
    }
}
