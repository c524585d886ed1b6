import DetectorModel
import DetectorTestSupport
import Foundation
import TestSupport
import XCTest
@testable import Training

/// `detector train` with in-process replicas: a seed repeats bit for bit, a resumed run continues bit for bit, and
/// the replicas' per-shard BatchNorm statistics make the run differ from one network's.
final class ReplicaTrainingTests: XCTestCase {
    private func options(_ dir: URL, _ name: String, replicas: ReplicaCount) throws -> TrainOptions {
        var o = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent(name),
                                                    config: try DetectorFixtures.smallConfigFile(in: dir))
        o.val = nil
        o.replicas = replicas
        o.training.set(.epochs, \.epochs, 2)   // 16 images / batch 4 = 4 steps per epoch
        return o
    }

    private func checkpoint(_ o: TrainOptions) -> URL { o.out.appendingPathComponent("last.safetensors") }

    /// Two runs with one seed and 2 replicas end with bit-identical weights, BatchNorm buffers and losses (the
    /// gradients are summed in replica order, never first come first served); a run with 1 replica differs.
    func testTwoReplicaRunsWithOneSeedAreBitIdentical() throws {
        let dir = try Fixtures.temporaryDirectory()
        let a = try options(dir, "a", replicas: .fixed(2)), b = try options(dir, "b", replicas: .fixed(2))
        let one = try options(dir, "one", replicas: .fixed(1))
        for o in [a, b, one] { XCTAssertEqual(try Trainer(options: o).run().steps, 8) }
        XCTAssertEqual(try DetectorFixtures.differingWeights(checkpoint(a), checkpoint(b)), [])
        let la = try DetectorFixtures.losses(a.out.appendingPathComponent("log.jsonl"))
        XCTAssertEqual(la.count, 8)
        XCTAssertEqual(la, try DetectorFixtures.losses(b.out.appendingPathComponent("log.jsonl")))
        // Per-shard BatchNorm statistics: not the one network's steps.
        XCTAssertFalse(try DetectorFixtures.differingWeights(checkpoint(a), checkpoint(one)).isEmpty)
    }

    /// A 2-replica run stopped mid-epoch and resumed with 2 replicas ends bit-identical to an uninterrupted one:
    /// the replicas are rebuilt from the checkpoint's weights, and nothing else of theirs carries over steps.
    func testResumeWithReplicasEqualsUninterruptedRun() throws {
        let dir = try Fixtures.temporaryDirectory()
        let full = try options(dir, "full", replicas: .fixed(2))
        XCTAssertEqual(try Trainer(options: full).run().steps, 8)
        var first = try options(dir, "part", replicas: .fixed(2))
        first.maxSteps = 5
        XCTAssertEqual(try Trainer(options: first).run().steps, 5)
        var second = first
        second.maxSteps = nil
        second.resume = checkpoint(first)
        XCTAssertEqual(try Trainer(options: second).run().steps, 8)
        XCTAssertEqual(try DetectorFixtures.differingWeights(checkpoint(full), checkpoint(first)), [])
        let a = try DetectorFixtures.losses(full.out.appendingPathComponent("log.jsonl"))
        let b = try DetectorFixtures.losses(first.out.appendingPathComponent("log.jsonl"))
        XCTAssertEqual(a.count, 8)
        for s in 1...8 { XCTAssertEqual(a[s], b[s], "loss at step \(s)") }
    }

    /// More replicas than images in a batch is an error naming the setting.
    func testTooManyReplicasAreRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        let o = try options(dir, "bad", replicas: .fixed(5))
        XCTAssertThrowsError(try Trainer(options: o).run()) { XCTAssertTrue("\($0)".contains("replicas"), "\($0)") }
    }
}
