import DetectorModel
import DetectorTestSupport
import Foundation
import NeuralNet
import Reporting
import TestSupport
import XCTest

/// Writes on a full file system (a small tmpfs; skipped without root): each stops with an error naming the file and
/// the system's reason, keeps the previous file intact, and leaves no half-written file.
final class DiskFullTests: XCTestCase {
    private func temporaries(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
    }

    func testCheckpointOnAFullDiskKeepsThePreviousOne() throws {
        let detector = try Detector(config: DetectorFixtures.smallConfig(), seed: 1)
        let optimizer = AdamW()
        let probe = try Fixtures.temporaryDirectory().appendingPathComponent("probe.safetensors")
        try Checkpoint.save(detector, optimizer: optimizer, state: TrainingState(seed: 1), to: probe)
        let size = try FileManager.default.attributesOfItem(atPath: probe.path)[.size] as! Int
        let fs = try Fixtures.smallFileSystem(bytes: size * 3 / 2)
        let url = fs.appendingPathComponent("last.safetensors")
        var state = TrainingState(seed: 1)
        state.step = 1
        try Checkpoint.save(detector, optimizer: optimizer, state: state, to: url)
        state.step = 2
        detector.parameters[0].value.data[0] += 1
        XCTAssertThrowsError(try Checkpoint.save(detector, optimizer: optimizer, state: state, to: url)) {
            XCTAssertTrue("\($0)".hasPrefix("\(url.path): cannot write the checkpoint (write failed: No space left on device); the previous file") && "\($0)".contains("No space left on device"), "\($0)")
        }
        XCTAssertEqual(try Checkpoint.load(url).state.step, 1, "the previous checkpoint is intact")
        XCTAssertEqual(try temporaries(fs), [])
    }

    private struct Entry: Codable, Equatable { var step: Int; var text: String }

    func testLogOnAFullDiskEndsAtTheLastWholeLine() throws {
        let fs = try Fixtures.smallFileSystem(bytes: 64 << 10)
        let url = fs.appendingPathComponent("log.jsonl")
        let log = try JSONLinesLog<Entry>(url: url, truncate: true)
        try log.append(Entry(step: 0, text: "first"))
        Fixtures.fill(fs)
        var written = 1, failure: Error?
        for step in 1...100 {
            do { try log.append(Entry(step: step, text: String(repeating: "x", count: 150))) } catch { failure = error; break }
            written += 1
        }
        let message = failure.map { "\($0)" } ?? "no error"
        print("disk full, log: \(message)")
        XCTAssertTrue(message.hasPrefix("\(url.path): cannot append to the log: No space left on device"), message)
        XCTAssertGreaterThan(written, 1, "the slack of the log's last page took some lines before the disk was full")
        let bytes = try Data(contentsOf: url)
        XCTAssertEqual(bytes.last, 0x0A, "no torn last line")
        XCTAssertEqual(try JSONLinesLog<Entry>.read(url).map(\.step), Array(0..<written))
    }

    func testChartsAndMetricsOnAFullDiskKeepThePreviousFile() throws {
        let fs = try Fixtures.smallFileSystem(bytes: 64 << 10)
        let url = fs.appendingPathComponent("metrics.json")
        try DurableFile.write(Data("{\"ap\": 1}".utf8), to: url)
        Fixtures.fill(fs)
        XCTAssertThrowsError(try DurableFile.write(Data(repeating: 0x20, count: 100_000), to: url)) {
            XCTAssertTrue("\($0)".hasPrefix("\(url.path): cannot write: No space left on device"), "\($0)")
            print("disk full, metrics: \($0)")
        }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "{\"ap\": 1}")
        XCTAssertEqual(try temporaries(fs), [])
    }
}
