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
        _ = try assertReplicasEqualRanks(change: nil)
    }

    /// The same with the set head's training-only groups (a one-to-many group of 2 repeats, H-DETR; denoising
    /// queries, DN-DETR): their terms are divided by their own global counts, summed across ranks as across
    /// replicas, and the noised boxes drawn for an image are the same whichever process holds it.
    func testTwoReplicasEqualTwoRanksWithTrainingOnlyGroups() throws {
        let dir = try assertReplicasEqualRanks { c in
            c.setOneToMany = 2
            c.setDenoising = 0.5
        }
        // Both groups took part in every step of the job (rank 0's log).
        let log = try String(contentsOf: dir.appendingPathComponent("ranks/log.jsonl"), encoding: .utf8)
        let lines = log.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        for line in lines {
            XCTAssertTrue(line.contains("\"set.o2m.class\"") && line.contains("\"set.dn.class\""), String(line))
        }
    }

    /// Runs both jobs in a new folder, compares them, and returns the folder.
    private func assertReplicasEqualRanks(change: ((inout DetectorConfig) -> Void)?,
                                          file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        _ = try MPIRun.required()
        let dir = try Fixtures.temporaryDirectory()
        let args = try MPIRun.sampleArguments(in: dir, change: change) + ["--max-steps", "3"]
        let ranks = try MPIRun.run(ranks: 2, args + ["--batch-size", "2", "--replicas", "1", "--out", "ranks"], in: dir)
        XCTAssertEqual(ranks.status, 0, ranks.err, file: file, line: line)
        let replicas = try MPIRun.run(ranks: nil, args + ["--batch-size", "4", "--replicas", "2", "--out", "replicas"], in: dir)
        XCTAssertEqual(replicas.status, 0, replicas.err, file: file, line: line)
        XCTAssertTrue(replicas.err.contains("2 replicas × 1 thread"), replicas.err, file: file, line: line)

        let a = dir.appendingPathComponent("ranks/last.safetensors"), b = dir.appendingPathComponent("replicas/last.safetensors")
        XCTAssertEqual(try DetectorFixtures.checkpointStep(b), 3, file: file, line: line)
        XCTAssertEqual(try DetectorFixtures.differingWeights(a, b), [], file: file, line: line)
        let la = try DetectorFixtures.losses(dir.appendingPathComponent("ranks/log.jsonl"))
        XCTAssertEqual(la.count, 3, file: file, line: line)
        XCTAssertEqual(la, try DetectorFixtures.losses(dir.appendingPathComponent("replicas/log.jsonl")),
                       file: file, line: line)
        return dir
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
