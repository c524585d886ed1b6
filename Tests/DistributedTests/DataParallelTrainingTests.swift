import DetectorModel
import DetectorTestSupport
import Foundation
import NeuralNet
import TestSupport
import XCTest

/// `mpirun -np N detector train` end to end: the same weights as one process with the whole batch, resume with
/// another number of processes, and faults (a killed or a hanging rank) that end the job.
final class DataParallelTrainingTests: XCTestCase {
    /// Parameters by name of a checkpoint.
    private func weights(_ url: URL) throws -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: try Checkpoint.load(url).detector.parameters.map { ($0.name, $0.value.data) })
    }

    private func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        return a.keys.reduce(0) { m, k in zip(a[k]!, b[k] ?? []).reduce(m) { max($0, abs($1.0 - $1.1)) } }
    }

    /// 2 processes × batch 2 with synchronised BatchNorm take the steps of 1 process × batch 4: same images, global
    /// loss normalisers, summed gradients. With local BatchNorm they differ (the statistics of 2 images, not 4).
    func testTwoRanksOfBatchBMatchOneRankOfBatch2B() throws {
        _ = try MPIRun.required()
        let dir = try Fixtures.temporaryDirectory()
        let args = try MPIRun.sampleArguments(in: dir) + ["--max-steps", "3"]
        let one = try MPIRun.run(ranks: nil, args + ["--batch-size", "4", "--out", "one"], in: dir)
        XCTAssertEqual(one.status, 0, one.err)
        let sync = try MPIRun.run(ranks: 2, args + ["--batch-size", "2", "--sync-bn", "--out", "sync"], in: dir)
        XCTAssertEqual(sync.status, 0, sync.err)
        XCTAssertTrue(sync.err.contains("data parallel: 2 processes"), sync.err)
        let local = try MPIRun.run(ranks: 2, args + ["--batch-size", "2", "--out", "local"], in: dir)
        XCTAssertEqual(local.status, 0, local.err)

        let reference = try weights(dir.appendingPathComponent("one/last.safetensors"))
        // Three AdamW steps of lr 1e-3 move weights by ~3e-3; summation order differs in the last bits only.
        let synced = largestDifference(reference, try weights(dir.appendingPathComponent("sync/last.safetensors")))
        XCTAssertLessThan(synced, 5e-4)
        let unsynced = largestDifference(reference, try weights(dir.appendingPathComponent("local/last.safetensors")))
        XCTAssertGreaterThan(unsynced, 10 * synced)
        let l1 = try DetectorFixtures.losses(dir.appendingPathComponent("one/log.jsonl"))
        let l2 = try DetectorFixtures.losses(dir.appendingPathComponent("sync/log.jsonl"))
        XCTAssertEqual(l1.count, 3)
        for (step, loss) in l1 { XCTAssertEqual(l2[step] ?? .nan, loss, accuracy: 1e-4 * abs(loss), "step \(step)") }
        // Rank 0 alone writes the log: one line per step.
        let lines = try String(contentsOf: dir.appendingPathComponent("sync/log.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
    }

    /// A run of 2 processes × batch 2 stopped after 2 steps continues in 1 process × batch 2 at the same image:
    /// step 4 of the smaller global batch.
    func testResumeWithAnotherNumberOfRanks() throws {
        _ = try MPIRun.required()
        let dir = try Fixtures.temporaryDirectory()
        let args = try MPIRun.sampleArguments(in: dir) + ["--batch-size", "2", "--out", "run"]
        let first = try MPIRun.run(ranks: 2, args + ["--max-steps", "2"], in: dir)
        XCTAssertEqual(first.status, 0, first.err)
        let checkpoint = dir.appendingPathComponent("run/last.safetensors")
        XCTAssertEqual(try Checkpoint.load(checkpoint).metadata["ranks"], "2")
        let second = try MPIRun.run(ranks: nil, args + ["--max-steps", "6", "--resume", checkpoint.path], in: dir)
        XCTAssertEqual(second.status, 0, second.err)
        XCTAssertTrue(second.err.contains("continuing at step 4 (epoch 0, batch 4)"), second.err)
        let state = try Checkpoint.load(checkpoint).state
        XCTAssertEqual(state.step, 6)
        XCTAssertEqual(try DetectorFixtures.losses(dir.appendingPathComponent("run/log.jsonl")).keys.sorted(), [1, 2, 5, 6])
    }

    /// Starts a long 2-process run, waits for its first steps, sends `signal` to one rank and returns the job's exit
    /// status, its standard error and the run folder.
    private func signalOneRank(_ signal: Int32, extra: [String] = []) throws -> (status: Int32, err: String, run: URL) {
        _ = try MPIRun.required()
        let dir = try Fixtures.temporaryDirectory()
        let args = try MPIRun.sampleArguments(in: dir) + ["--batch-size", "2", "--epochs", "100000", "--out", "run"] + extra
        let job = try MPIRun.start(ranks: 2, args, in: dir)
        let log = dir.appendingPathComponent("run/last.safetensors")
        let started = Date()
        while !FileManager.default.fileExists(atPath: log.path) && job.process.isRunning && Date().timeIntervalSince(started) < 120 {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let ranks = MPIRun.children(of: job.process.processIdentifier)
        XCTAssertEqual(ranks.count, 2, job.stderr)
        guard let victim = ranks.last else { job.process.terminate(); return (-1, job.stderr, dir) }
        kill(victim, signal)
        // A guard against a hang, not a timing assertion: the job ends by itself within seconds.
        let deadline = Date().addingTimeInterval(120)
        while job.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if job.process.isRunning {
            for pid in ranks { kill(pid, SIGKILL) }
            job.process.terminate()
            XCTFail("the job did not end after signal \(signal) to rank pid \(victim)")
        }
        job.process.waitUntilExit()
        kill(victim, SIGKILL)
        return (job.process.terminationStatus, job.stderr, dir.appendingPathComponent("run"))
    }

    /// A rank killed mid-run ends the whole job with a non-zero status; the last checkpoint loads.
    func testAKilledRankEndsTheJob() throws {
        let (status, err, run) = try signalOneRank(SIGKILL)
        XCTAssertNotEqual(status, 0, err)
        XCTAssertNoThrow(try Checkpoint.load(run.appendingPathComponent("last.safetensors")))
    }

    /// A rank that hangs (stopped) makes the other's collective time out: the job ends non-zero, saying why.
    func testAHangingRankEndsTheJobAfterTheTimeout() throws {
        let (status, err, run) = try signalOneRank(SIGSTOP, extra: ["--mpi-timeout", "2"])
        XCTAssertNotEqual(status, 0, err)
        XCTAssertTrue(err.contains("did not complete within its deadline"), err)
        XCTAssertNoThrow(try Checkpoint.load(run.appendingPathComponent("last.safetensors")))
    }
}
