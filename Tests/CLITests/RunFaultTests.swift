import DetectorTestSupport
import Foundation
import TestSupport
import XCTest

/// `detector train` under faults, through the binary: one writer per run folder (a `flock` a killed run does not
/// leave behind), and `kill -9` at chosen and at random moments followed by `--resume`.
final class RunFaultTests: XCTestCase {
    let sample = DetectorFixtures.sample

    /// A started `detector train`, its standard error in a file.
    struct Child {
        let process: Process
        let stderr: URL
        var errorText: String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }
    }

    func start(_ arguments: [String], in dir: URL, environment extra: [String: String] = [:]) throws -> Child {
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = arguments
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["DETECTOR_KEEP_OPENBLAS_CORETYPE"] = "1"
        env.merge(extra) { _, new in new }
        p.environment = env
        let err = dir.appendingPathComponent("stderr-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return Child(process: p, stderr: err)
    }

    func finish(_ arguments: [String], in dir: URL, environment: [String: String] = [:]) throws -> (status: Int32, signalled: Bool, err: String) {
        let c = try start(arguments, in: dir, environment: environment)
        c.process.waitUntilExit()
        return (c.process.terminationStatus, c.process.terminationReason == .uncaughtSignal, c.errorText)
    }

    func waitFor(_ url: URL, _ child: Child, seconds: Double = 300) {
        let deadline = Date().addingTimeInterval(seconds)
        while !FileManager.default.fileExists(atPath: url.path) && child.process.isRunning && Date() < deadline { usleep(20_000) }
    }

    func trainArguments(_ dir: URL) throws -> [String] {
        let config = try DetectorFixtures.smallConfigFile(in: dir)
        return ["train", "--data", sample.appendingPathComponent("train.json").path, "--config", config.path,
                "--threads", "1", "--batch-size", "4", "--warmup-steps", "2", "--out", "run"]
    }

    /// A second run into a folder in use, new or resumed, stops with the holder's pid; once the holder is killed
    /// with SIGKILL the lock file stays but the lock does not, and a resume proceeds.
    func testSecondTrainIntoAFolderInUseStopsAndAKilledHolderLeavesNoLock() throws {
        let dir = try Fixtures.temporaryDirectory()
        let common = try trainArguments(dir)
        let last = dir.appendingPathComponent("run/last.safetensors")
        let first = try start(common + ["--epochs", "1000", "--save-every", "1"], in: dir)
        waitFor(last, first)
        XCTAssertTrue(first.process.isRunning, first.errorText)
        let holder = "(pid \(first.process.processIdentifier) since"

        let second = try finish(common + ["--epochs", "1"], in: dir)
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.err.contains("run is in use by another detector train \(holder)"), second.err)
        let resumed = try finish(common + ["--resume", last.path], in: dir)
        XCTAssertEqual(resumed.status, 1)
        XCTAssertTrue(resumed.err.contains("in use by another detector train \(holder)"), resumed.err)

        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/train.lock").path))
        let step = try DetectorFixtures.checkpointStep(last)
        let after = try finish(common + ["--resume", last.path, "--max-steps", "\(step + 1)"], in: dir)
        XCTAssertEqual(after.status, 0, after.err)
        XCTAssertEqual(try DetectorFixtures.checkpointStep(last), step + 1)
    }

    /// A run whose folder fills up stops with the file and the system's reason, keeps a loadable checkpoint and
    /// leaves no temporary file (skipped without root: it mounts a small tmpfs).
    func testTrainOnAFullDiskStopsWithTheFileAndKeepsTheCheckpoint() throws {
        // Room for one checkpoint (weights and AdamW state, measured on a one-step run) and a few pages, not two.
        let probe = try Fixtures.temporaryDirectory()
        XCTAssertEqual(try finish(try trainArguments(probe) + ["--max-steps", "1"], in: probe).status, 0)
        let size = try FileManager.default.attributesOfItem(atPath: probe.appendingPathComponent("run/last.safetensors").path)[.size] as! Int
        let fs = try Fixtures.smallFileSystem(bytes: size * 3 / 2 + 4 * 4096)
        let dir = fs.deletingLastPathComponent()
        let result = try finish(try trainArguments(dir) + ["--epochs", "20", "--save-every", "1", "--out", fs.appendingPathComponent("run").path], in: dir)
        XCTAssertEqual(result.status, 1, result.err)
        XCTAssertTrue(result.err.contains("error: \(fs.path)/run/") && result.err.contains("No space left on device"), result.err)
        let run = fs.appendingPathComponent("run")
        XCTAssertGreaterThanOrEqual(try DetectorFixtures.checkpointStep(run.appendingPathComponent("last.safetensors")), 1)
        XCTAssertNoThrow(try DetectorFixtures.logRecords(run.appendingPathComponent("log.jsonl")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasSuffix(".tmp") }, [])
        print("full disk: \(result.err.split(separator: "\n").last ?? "")")
    }

    /// What a kill trial left: kills by phase, steps lost, files a reader could not read.
    struct KillReport: CustomStringConvertible {
        var kills: [String: Int] = [:], resumes = 0, maxStepsLost = 0, tornLastLines = 0, unreadableFiles = 0
        var description: String {
            "kills \(kills.values.reduce(0, +)) (" + kills.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                + "), resumes \(resumes), max steps lost \(maxStepsLost), torn last lines \(tornLastLines) (repaired on resume), unreadable files \(unreadableFiles)"
        }
    }

    /// Kills at chosen moments (inside a step, an evaluation, a checkpoint write and a log line, through
    /// `DETECTOR_KILL_AT`) and at random times, each followed by a resume: every kill leaves a loadable checkpoint
    /// no older than the previous one and at most one `--save-every` interval behind the last logged step, a log
    /// every reader accepts, no temporary file after the resume; single-threaded, the final weights equal an
    /// uninterrupted run's. `DETECTOR_KILL_TRIALS` (tools/kill-test) sets the number of kills, default 6.
    func testKillsAtAnyMomentResumeExactly() throws {
        let kills = Int(ProcessInfo.processInfo.environment["DETECTOR_KILL_TRIALS"] ?? "") ?? 6
        let epochs = max(3, kills / 2), interval = 3
        let dir = try Fixtures.temporaryDirectory()
        let args = try trainArguments(dir) + ["--val", sample.appendingPathComponent("val.json").path,
                                              "--epochs", "\(epochs)", "--save-every", "\(interval)"]
        let reference = dir.appendingPathComponent("reference")
        try FileManager.default.createDirectory(at: reference, withIntermediateDirectories: true)
        let full = try finish(args, in: reference)
        XCTAssertEqual(full.status, 0, full.err)
        let totalSteps = try DetectorFixtures.checkpointStep(reference.appendingPathComponent("run/last.safetensors"))

        let run = dir.appendingPathComponent("run"), last = run.appendingPathComponent("last.safetensors")
        let log = run.appendingPathComponent("log.jsonl")
        var report = KillReport(), generator = SeededGenerator(seed: 17)
        var previousCheckpoint = 0, finished = false
        let phases = ["step", "log", "checkpoint", "evaluation"]
        for trial in 0..<kills where !finished {
            let resuming = FileManager.default.fileExists(atPath: last.path)
            let arguments = args + (resuming ? ["--resume", last.path] : [])
            let external = trial % 5 == 4
            let phase = external ? "random" : phases[trial % 5 % phases.count]
            var environment: [String: String] = [:]
            var occurrence = 0
            if !external {
                occurrence = phase == "evaluation" ? 1 : 1 + Int(generator.next() % 3)
                environment["DETECTOR_KILL_AT"] = "\(phase):\(occurrence)"
            }
            // Steps this run has left: a run resumed near the end may finish before the N-th occurrence (where the
            // random kill before it landed depends on the machine's load).
            let stepsLeft = totalSteps - (resuming ? (try? DetectorFixtures.checkpointStep(last)) ?? 0 : 0)
            let child = try start(arguments, in: dir, environment: environment)
            if external {
                waitFor(log, child)
                usleep(useconds_t(generator.next() % 400_000))
                kill(child.process.processIdentifier, SIGKILL)
            }
            child.process.waitUntilExit()
            if resuming { report.resumes += 1 }
            guard child.process.terminationReason == .uncaughtSignal else {
                XCTAssertEqual(child.process.terminationStatus, 0, "trial \(trial): \(child.errorText)")
                // Each step writes at least one log line and every `interval` steps a checkpoint; evaluation ends
                // every epoch: with this many steps left the kill must have come.
                let due = stepsLeft >= occurrence * (phase == "checkpoint" ? interval : 1)
                XCTAssertTrue(external || !due, "trial \(trial): the run ended before the kill at \(phase):\(occurrence) with \(stepsLeft) steps left")
                finished = true
                break
            }
            XCTAssertEqual(child.process.terminationStatus, SIGKILL)
            report.kills[phase, default: 0] += 1
            // What the kill left: a loadable checkpoint, never older than the last one, at most one interval lost.
            let records = (try? DetectorFixtures.logRecords(log))
            if records == nil { report.unreadableFiles += 1 }
            if let text = try? Data(contentsOf: log), let lastByte = text.last, lastByte != 0x0A { report.tornLastLines += 1 }
            guard FileManager.default.fileExists(atPath: last.path) else { continue }   // killed before the first save
            guard let step = try? DetectorFixtures.checkpointStep(last) else { report.unreadableFiles += 1; continue }
            XCTAssertGreaterThanOrEqual(step, previousCheckpoint, "trial \(trial): the checkpoint went back")
            previousCheckpoint = step
            let logged = records?.map(\.step).max() ?? 0
            report.maxStepsLost = max(report.maxStepsLost, logged - step)
        }
        if !finished {
            let end = try finish(args + ["--resume", last.path], in: dir)
            XCTAssertEqual(end.status, 0, end.err)
            report.resumes += 1
        }
        print("kill test: \(report)")
        XCTAssertEqual(report.unreadableFiles, 0)
        XCTAssertLessThanOrEqual(report.maxStepsLost, interval)
        XCTAssertGreaterThanOrEqual(report.kills.values.reduce(0, +), min(kills, 4))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [], "temporary files after the final resume")
        XCTAssertEqual(try DetectorFixtures.checkpointStep(last), try DetectorFixtures.checkpointStep(reference.appendingPathComponent("run/last.safetensors")))
        XCTAssertEqual(try DetectorFixtures.differingWeights(last, reference.appendingPathComponent("run/last.safetensors")), [],
                       "weights after \(report.resumes) resumes differ from the uninterrupted run's")
        let steps = try DetectorFixtures.logRecords(log).compactMap { if case let .step(s) = $0 { return s.step } else { return nil } }
        XCTAssertEqual(steps, Array(1...steps.count), "the repaired log holds each step once, in order")
    }
}
