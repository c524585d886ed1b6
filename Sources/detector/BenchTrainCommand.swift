import ArgumentParser
import Benchmarks
import DetectorModel
import Training
import Foundation
import NeuralNet

extension Bench {
    /// `detector bench train`: images/s of full training steps of the reference configuration, and where the
    /// step's time goes (conv, GEMM, matching, losses, optimizer, data wait).
    struct TrainSpeed: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Images/s of a full training step (both heads, matching, AdamW) and the share of conv, GEMM, "
                + "matching, losses, optimizer and data wait.")

        @Option(help: "Images per batch.") var batchSize = 16
        @Option(help: "Timed steps (after the warm-up steps).") var steps = 5
        @Option(help: "Untimed warm-up steps first: the heap grows over the first steps (two replicas allocate from one arena in varying order) and makes no page faults after about 10.") var warmup = 10
        /// Where the benchmark's batches come from.
        enum DataChoice: String, ExpressibleByArgument, CaseIterable {
            /// Generated scenes through the prefetching batch loader, as in training.
            case synthetic
            /// One fixed batch of random images and boxes.
            case random
        }

        @Option(help: ArgumentHelp("Data: 'synthetic' (generated scenes through the prefetching batch loader, as in "
            + "training, so the data wait is measured) or 'random' (one fixed batch of random images and boxes)."))
        var data = DataChoice.synthetic
        @Option(help: "Synthetic images generated (with --data synthetic).") var images = 64
        @Option(help: "Classes of the random targets (with --data random).") var classes = 3
        @Option(help: "Ground-truth boxes per image (with --data random).") var boxes = 20
        @OptionGroup var model: ModelOptions
        @OptionGroup var runtime: RuntimeOptions
        @OptionGroup var replicaOptions: ReplicaOptions
        @Flag(help: "Time without the conv/GEMM/matching accounting (to see what it costs): phases only.")
        var noAccounting = false

        func validate() throws {
            guard batchSize > 0, steps > 0 else { throw ValidationError("--batch-size and --steps must be positive") }
            guard warmup >= 0 else { throw ValidationError("--warmup must be ≥ 0") }
            guard model.anchors != .auto else { throw ValidationError("--anchors auto needs training data; give the sides") }
            guard data == .random || images >= batchSize else {
                throw ValidationError("--images (\(images)) must hold at least one batch of \(batchSize)")
            }
            guard classes > 0, boxes >= 0 else { throw ValidationError("--classes must be positive and --boxes ≥ 0") }
            let replicas = replicaOptions.replicas.resolved(threads: runtime.threads, batchSize: batchSize, underMPI: false)
            do { try ReplicaCount.check(replicas, batchSize: batchSize, underMPI: false) } catch {
                throw ValidationError(FlagNames.describe(error))
            }
        }

        func run() throws {
            try reportingErrors { try measure() }
        }

        func measure() throws {
            runtime.apply()
            let patch = model.patch
            let config = patch.applied(to: DetectorConfig.reference(classes: (0..<classes).map { "class\($0)" }))
            let source: TrainBenchmark.DataSource = data == .random ? .random(boxesPerImage: boxes) : .synthetic(images: images)
            let replicas = replicaOptions.replicas.resolved(threads: runtime.threads, batchSize: batchSize, underMPI: false)
            print("OpenBLAS core: \(BLASRuntime.coreName), threads: \(BLASRuntime.threads), "
                  + "precision: \(Precision.current.rawValue), replicas: \(replicas)"
                  + (replicas > 1 ? " (1 thread each, batch shards of \(batchSize / replicas))" : ""))
            let r = try TrainBenchmark.run(config: config, batchSize: batchSize, steps: steps, warmup: warmup, data: source,
                                           accounting: !noAccounting, replicas: replicas)
            let changed = patch.entries.map { "\($0.key) \($0.value)" }
            print("reference configuration\(changed.isEmpty ? "" : " with " + changed.joined(separator: ", ")), "
                  + "input \(config.inputSize)², batch \(batchSize), set head \(config.setHead.rawValue)"
                  + (data == .random ? ", \(boxes) boxes/image" : ""))
            print("data: \(r.dataDescription)")
            let perStep = 1e3 / Double(r.steps)
            print(String(format: "%.1f images/s, %.1f ms/step (%d steps after %d warm-up%@)", r.imagesPerSecond,
                         perStep * r.total, r.steps, warmup, r.skippedSteps > 0 ? ", \(r.skippedSteps) skipped" as NSString : ""))
            print(String(format: "%.0f minor page faults/step, %.1f ms system time/step, %.1f ms CPU time/step, "
                         + "CPU time / wall time %.2f (heap arena %@)", r.minorFaultsPerStep,
                         perStep * r.usage.systemSeconds, perStep * r.usage.cpuSeconds, r.cpuPerWall,
                         MemoryArena.isConfigured ? "on" : "off" as NSString))
            let s = r.shares
            func padded(_ name: String) -> String { name.padding(toLength: 20, withPad: " ", startingAt: 0) }
            func line(_ name: String, _ seconds: Double) {
                print("  " + padded(name) + String(format: "%8.1f ms/step  %5.1f %%", perStep * seconds, s.percent(seconds)))
            }
            if !noAccounting {
                let calls: [String: String] = ["conv": "conv", "  of which GEMM": "conv/gemm", "GEMM elsewhere": "gemm",
                                               "matching": "matching"]
                print("share of step time:" + String(repeating: " ", count: 25) + "calls/step")
                func row(_ name: String, _ seconds: Double) {
                    let n = calls[name].flatMap { r.accounting[$0]?.calls }.map { String(format: "%8.0f", Double($0) / Double(r.steps)) }
                    print("  " + padded(name) + String(format: "%8.1f ms/step  %5.1f %%", perStep * seconds, s.percent(seconds))
                          + (n ?? ""))
                }
                for (name, seconds) in s.rows {
                    row(name, seconds)
                    if name == "conv" { row("  of which GEMM", s.gemmInConv) }
                }
                print("  " + padded("sum") + String(format: "%8.1f ms/step  %5.1f %% (unaccounted %.1f %%)",
                                                     perStep * s.sum, s.percent(s.sum), s.percent(s.unaccounted)))
            }
            print("phases of TrainStep:")
            for (phase, seconds) in r.phases { line(phase.rawValue, seconds) }
        }
    }
}
