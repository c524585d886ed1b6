import DetectorModel
import DetectorTestSupport
import NeuralNet
import TestSupport
import XCTest
@testable import Training

/// In-process data parallel (`ReplicaStep`): the same arithmetic as the shards trained one after the other on one
/// network, bit for bit; runs and resumed runs that repeat exactly; and replicas that really train apart.
final class ReplicaStepTests: XCTestCase {
    /// Hands `TrainStep.gradients` fixed global counts (recorded from a first pass) and leaves the sums to the test:
    /// the serial twin of `ReplicaCoordinator`.
    private final class SerialCoordinator: StepCoordinator {
        var global: StepCounts?
        var recorded: StepCounts?
        func combine(_ local: StepCounts) throws -> StepCounts {
            recorded = local
            return global ?? local
        }
        func reduce(_ parameters: [Parameter], terms: inout [Double]) throws {}
    }

    /// Gradients and loss terms of `shards` computed one after the other on `step`'s one network, each shard's
    /// terms normalised by the counts of all shards, then summed `g₀ + g₁` in shard order; then `step.update`.
    private func serialStep(_ step: TrainStep, _ shards: [TrainingBatch], learningRate: Float) throws -> StepReport {
        let coordinator = SerialCoordinator()
        step.coordinator = coordinator
        defer { step.coordinator = nil }
        var counts: [StepCounts] = []
        for shard in shards {
            _ = try step.gradients(shard)
            counts.append(try XCTUnwrap(coordinator.recorded))
        }
        coordinator.global = counts.reduce(.zero, +)
        var sums: [[Float]] = [], report: StepReport?
        for shard in shards {
            let r = try step.gradients(shard)
            XCTAssertNil(r.skipped)
            let grads = step.detector.parameters.map(\.grad.data)
            sums = sums.isEmpty ? grads : zip(sums, grads).map { zip($0, $1).map { $0 + $1 } }
            if var total = report {
                total.losses = zip(total.losses, r.losses).map { ($0.name, $0.value + $1.value) }
                report = total
            } else {
                report = r
            }
        }
        for (p, g) in zip(step.detector.parameters, sums) { p.grad.data = g }
        var total = try XCTUnwrap(report)
        total.total = total.losses.reduce(0) { $0 + $1.value }
        return step.update(total, learningRate: learningRate)
    }

    /// Two replicas take the steps of the serial computation bit for bit: same shards, same global normalisers,
    /// gradients summed in the same order (one addition per element), one AdamW step. Exact because each replica
    /// runs single-threaded (OpenBLAS with one thread, the kernels' loops serial) as the serial twin does, so every
    /// product and reduction adds in the same order.
    func testTwoReplicasEqualTheShardsTrainedOneAfterTheOther() throws {
        let c = DetectorFixtures.tinyConfig()
        let replicated = TrainStep(detector: try Detector(config: c, seed: 5), optimizer: AdamW(weightDecay: 1e-4))
        let serial = TrainStep(detector: try Detector(config: c, seed: 5), optimizer: AdamW(weightDecay: 1e-4))
        let replicas = try ReplicaStep(replicated, count: 2)
        for step in 0..<3 {
            let batch = DetectorFixtures.randomBatch(config: c, n: 4, seed: 10 + UInt64(step))
            let a = try replicas.run(batch, learningRate: 1e-3)
            let b = try BLASRuntime.withSingleThread {
                try Parallel.withWorkers(1) { try serialStep(serial, ReplicaStep.shards(of: batch, count: 2), learningRate: 1e-3) }
            }
            XCTAssertNil(a.skipped)
            XCTAssertEqual(a.positives, b.positives)
            XCTAssertEqual(a.gradientNorm, b.gradientNorm, "step \(step)")
            XCTAssertEqual(a.losses.map(\.name), b.losses.map(\.name))
            for (x, y) in zip(a.losses, b.losses) { XCTAssertEqual(x.value, y.value, "\(x.name) at step \(step)") }
            for (p, q) in zip(replicated.detector.parameters, serial.detector.parameters) {
                XCTAssertTrue(p.value == q.value, "\(p.name) differs after step \(step)")
            }
            // Every replica holds replica 0's new weights.
            for (p, q) in zip(replicated.detector.parameters, replicas.replicas[1].detector.parameters) {
                XCTAssertTrue(p.value == q.value, "replica 1's \(p.name) was not updated")
            }
        }
    }

    /// In a data-parallel step each training-only group's terms and gradients are divided by that group's own
    /// global count (the one-to-many group's repeated boxes, the denoising group's positives), not by the boxes'.
    func testTrainingGroupsAreNormalisedByTheirOwnGlobalCounts() throws {
        var c = DetectorFixtures.tinyConfig()
        c.setOneToMany = 2
        c.setDenoising = 0.4
        let step = TrainStep(detector: try Detector(config: c, seed: 3), optimizer: AdamW())
        let batch = DetectorFixtures.randomBatch(config: c, n: 2, seed: 4)
        let coordinator = SerialCoordinator()
        step.coordinator = coordinator
        _ = try step.gradients(batch)
        let local = try XCTUnwrap(coordinator.recorded)
        XCTAssertEqual(local.groups.count, 2)
        let (o, d) = (local.groups[0], local.groups[1])
        XCTAssertGreaterThan(o, 0)
        XCTAssertGreaterThan(d, 0)
        /// The step's terms and gradients when the other processes hold the rest of `o2m` and `dn` counts.
        func run(_ o2m: Int, _ dn: Int) throws -> (terms: [String: Double], gradient: [Float]) {
            var global = local
            global.groups = [o2m, dn]
            coordinator.global = global
            let report = try step.gradients(batch)
            XCTAssertNil(report.skipped)
            let terms = Dictionary(uniqueKeysWithValues: report.losses.map { ($0.name, $0.value) })
            return (terms, step.detector.parameters.flatMap(\.grad.data))
        }
        let alone = try run(o, d), both = try run(2 * o, 4 * d), o2m = try run(2 * o, d), dn = try run(o, 2 * d)
        for (name, value) in alone.terms {
            let expected = name.hasPrefix("set.o2m.") ? value / 2 : name.hasPrefix("set.dn.") ? value / 4 : value
            XCTAssertEqual(try XCTUnwrap(both.terms[name]), expected, accuracy: 1e-12 + 1e-9 * abs(value), name)
        }
        // Gradients are linear in each group's scale: G(o, d) − G(2o, 4d) = ½ G_o2m + ¾ G_dn.
        let halfO2M = zip(alone.gradient, o2m.gradient).map { $0 - $1 }
        let halfDN = zip(alone.gradient, dn.gradient).map { $0 - $1 }
        let norm = { (v: [Float]) in v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
        XCTAssertGreaterThan(norm(halfO2M), 1e-6 * norm(alone.gradient))
        XCTAssertGreaterThan(norm(halfDN), 1e-6 * norm(alone.gradient))
        let lhs = zip(alone.gradient, both.gradient).map { $0 - $1 }
        let rhs = zip(halfO2M, halfDN).map { $0 + 1.5 * $1 }
        XCTAssertLessThan(norm(zip(lhs, rhs).map { $0 - $1 }), 1e-4 * norm(lhs))
    }

    /// Shards are contiguous and balanced: 5 images in 2 replicas are images 0–1 and 2–4.
    func testShardsAreContiguousAndBalanced() {
        let c = DetectorFixtures.tinyConfig()
        let batch = DetectorFixtures.randomBatch(config: c, n: 5, seed: 1)
        let shards = ReplicaStep.shards(of: batch, count: 2)
        XCTAssertEqual(shards.map { $0.images.shape[0] }, [2, 3])
        XCTAssertEqual(shards.flatMap(\.images.data), batch.images.data)
        XCTAssertEqual(shards.flatMap(\.targets).map(\.boxes), batch.targets.map(\.boxes))
    }

    /// `auto` is one replica per thread when the batch divides, else 1, and 1 under mpirun; counts that cannot work
    /// are errors naming `replicas`.
    func testReplicaCountResolution() {
        XCTAssertEqual(ReplicaCount.auto.resolved(threads: 2, batchSize: 16, underMPI: false), 2)
        XCTAssertEqual(ReplicaCount.auto.resolved(threads: 2, batchSize: 15, underMPI: false), 1)
        XCTAssertEqual(ReplicaCount.auto.resolved(threads: 1, batchSize: 16, underMPI: false), 1)
        XCTAssertEqual(ReplicaCount.auto.resolved(threads: 2, batchSize: 16, underMPI: true), 1)
        XCTAssertEqual(ReplicaCount.fixed(3).resolved(threads: 2, batchSize: 16, underMPI: false), 3)
        XCTAssertEqual(ReplicaCount("auto"), .auto)
        XCTAssertEqual(ReplicaCount("2"), .fixed(2))
        XCTAssertNil(ReplicaCount("0"))
        XCTAssertThrowsError(try ReplicaCount.check(5, batchSize: 4, underMPI: false)) {
            XCTAssertTrue("\($0)".contains("replicas"), "\($0)")
        }
        XCTAssertThrowsError(try ReplicaCount.check(2, batchSize: 4, underMPI: true))
        XCTAssertNoThrow(try ReplicaCount.check(2, batchSize: 4, underMPI: false))
    }
}
