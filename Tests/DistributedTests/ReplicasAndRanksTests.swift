import DetectorModel
import DetectorTestSupport
import Foundation
import TestSupport
import XCTest

/// In-process replicas against `mpirun` processes: the same data parallel arithmetic in one process.
final class ReplicasAndRanksTests: XCTestCase {
    /// 1 process × 2 replicas × batch 4 takes the steps of 2 processes × 1 thread × batch 2, bit for bit: the same
    /// contiguous halves of each global batch (`DataShard`, `ReplicaStep.shards`), local BatchNorm statistics, the
    /// counts summed before backward, each gradient element summed by one addition (`g₀ + g₁`, commutative, as a
    /// 2-rank allreduce), one AdamW step on the same single-threaded clip; replica 0's BatchNorm running statistics
    /// come from the first half alone, as rank 0's.
    func testTwoReplicasEqualTwoRanks() throws {
        _ = try MPIRun.required()
        let dir = try Fixtures.temporaryDirectory()
        let args = try MPIRun.sampleArguments(in: dir) + ["--max-steps", "3"]
        let ranks = try MPIRun.run(ranks: 2, args + ["--batch-size", "2", "--replicas", "1", "--out", "ranks"], in: dir)
        XCTAssertEqual(ranks.status, 0, ranks.err)
        let replicas = try MPIRun.run(ranks: nil, args + ["--batch-size", "4", "--replicas", "2", "--out", "replicas"], in: dir)
        XCTAssertEqual(replicas.status, 0, replicas.err)
        XCTAssertTrue(replicas.err.contains("2 replicas × 1 thread"), replicas.err)

        let a = dir.appendingPathComponent("ranks/last.safetensors"), b = dir.appendingPathComponent("replicas/last.safetensors")
        XCTAssertEqual(try DetectorFixtures.checkpointStep(b), 3)
        XCTAssertEqual(try DetectorFixtures.differingWeights(a, b), [])
        let la = try DetectorFixtures.losses(dir.appendingPathComponent("ranks/log.jsonl"))
        XCTAssertEqual(la.count, 3)
        XCTAssertEqual(la, try DetectorFixtures.losses(dir.appendingPathComponent("replicas/log.jsonl")))
    }

    /// Replicas inside the processes of an `mpirun` job are refused with the setting named.
    func testReplicasUnderMPIAreRefused() throws {
        _ = try MPIRun.required()
        let dir = try Fixtures.temporaryDirectory()
        let args = try MPIRun.sampleArguments(in: dir) + ["--max-steps", "1", "--batch-size", "2"]
        let job = try MPIRun.run(ranks: 2, args + ["--replicas", "2", "--out", "run"], in: dir)
        XCTAssertNotEqual(job.status, 0)
        XCTAssertTrue(job.err.contains("--replicas"), job.err)
    }
}
