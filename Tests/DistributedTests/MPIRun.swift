import DetectorModel
import DetectorTestSupport
import Foundation
import TestSupport
import XCTest

/// Runs the `detector` binary of this build under Open MPI's `mpirun`; tests skip when `mpirun` is absent
/// (`tools/ensure-deps --mpi` installs it).
struct MPIRun {
    /// `mpirun` on PATH, or nil.
    static let mpirun: URL? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent("mpirun")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }()

    /// The `detector` binary beside the test bundle.
    static let detector: URL = {
        var dir = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("detector").path) && dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("detector")
    }()

    /// Skips the test without `mpirun`.
    static func required() throws -> URL {
        guard let m = mpirun else { throw XCTSkip("mpirun is not installed (tools/ensure-deps --mpi installs Open MPI)") }
        return m
    }

    /// A started process and its captured output files.
    struct Job {
        let process: Process
        let out: URL, err: URL
        var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }
    }

    /// Starts `detector args` as `ranks` processes (`mpirun -np ranks`), or alone when `ranks` is nil.
    static func start(ranks: Int?, _ args: [String], in dir: URL) throws -> Job {
        let p = Process()
        if let ranks {
            p.executableURL = try required()
            p.arguments = (getuid() == 0 ? ["--allow-run-as-root"] : []) + ["--oversubscribe", "-np", String(ranks),
                                                                           detector.path] + args
        } else {
            p.executableURL = detector
            p.arguments = args
        }
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["DETECTOR_KEEP_OPENBLAS_CORETYPE"] = "1"
        p.environment = env
        let id = UUID().uuidString
        let out = dir.appendingPathComponent("\(id).out"), err = dir.appendingPathComponent("\(id).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        return Job(process: p, out: out, err: err)
    }

    /// Runs to the end and returns the exit status and standard error.
    static func run(ranks: Int?, _ args: [String], in dir: URL) throws -> (status: Int32, err: String) {
        let job = try start(ranks: ranks, args, in: dir)
        job.process.waitUntilExit()
        return (job.process.terminationStatus, job.stderr)
    }

    /// Process ids whose parent is `parent` (the ranks `mpirun` started on this host).
    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> Int32? in
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
        }.sorted()
    }

    /// Training arguments over the committed sample with the small network of the tests (`small.json` in `dir`), or
    /// that network changed by `change` (written as `changed.json` instead).
    static func sampleArguments(in dir: URL, change: ((inout DetectorConfig) -> Void)? = nil) throws -> [String] {
        let config: URL
        if let change {
            var c = DetectorFixtures.smallConfig()
            change(&c)
            config = dir.appendingPathComponent("changed.json")
            try c.jsonString().write(to: config, atomically: true, encoding: .utf8)
        } else {
            config = try DetectorFixtures.smallConfigFile(in: dir)
        }
        let sample = DetectorFixtures.sample
        return ["train", "--data", sample.appendingPathComponent("train.json").path, "--config", config.path,
                "--threads", "1", "--warmup-steps", "2", "--eval-every", "0"]
    }
}
