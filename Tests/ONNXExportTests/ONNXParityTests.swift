import DetectorModel
import Foundation
import ONNXExport
import TestSupport
import Training
import XCTest

/// onnxruntime runs the exported graph on the committed sample images and matches the Swift network and
/// `detector detect`'s post-processing within 1e-4 (`tools/onnx-parity.py`), for every set head and query selection.
/// Runs when a Python with onnxruntime and numpy is found (`ONNX_PYTHON`, else `.build/onnx-venv` made by
/// `tools/check-onnx`, else `python3`); skips otherwise.
final class ONNXParityTests: XCTestCase {
    func testOnnxruntimeMatchesTheSwiftNetwork() throws {
        let python = try pythonWithOnnxruntime()
        let images = Fixtures.packageRoot.appendingPathComponent("datasets/sample/val/images")
        for (label, config) in ExportFixtures.configurations(syntheticPreset: RunConfiguration.syntheticPreset(classes: ["a", "b"])) {
            let folder = try Fixtures.temporaryDirectory()
            let checkpoint = folder.appendingPathComponent("model.safetensors")
            try Checkpoint.save(try ExportFixtures.perturbedDetector(config), optimizer: nil, state: TrainingState(seed: 5), to: checkpoint)
            let model = folder.appendingPathComponent("model.onnx"), reference = folder.appendingPathComponent("reference")
            _ = try ONNXExporter.write(try Checkpoint.load(checkpoint).detector, to: model)
            let files = try FileManager.default.contentsOfDirectory(atPath: images.path).sorted().map { images.appendingPathComponent($0) }
            _ = try ParityReference.write(checkpoint: checkpoint, images: files, threshold: 0.05, to: reference)
            let report = folder.appendingPathComponent("parity.json")
            let (status, output) = try run(python, [Fixtures.packageRoot.appendingPathComponent("tools/onnx-parity.py").path, model.path,
                                                    reference.path, "--threads", "1", "--repeats", "1", "--json", report.path])
            print("\(label): \(output)")
            XCTAssertEqual(status, 0, "\(label): \(output)")
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any], label)
            XCTAssertEqual(json["within_tolerance"] as? Bool, true, "\(label): \(output)")
            let outputs = try XCTUnwrap(json["outputs"] as? [String: [String: Any]], label)
            for (name, entry) in outputs {
                if name == "set_anchors" {
                    XCTAssertEqual(entry["differing"] as? Int, 0, "\(label): query selection differs")
                } else {
                    let delta = try XCTUnwrap((entry["max_abs_delta_normalised"] ?? entry["max_abs_delta"]) as? Double, "\(label) \(name)")
                    XCTAssertLessThan(delta, 1e-4, "\(label) \(name)")
                }
            }
            XCTAssertEqual(outputs.keys.contains("set_anchors"), config.setHead == .query, label)
            let set = json["set_detections"] as? [String: Any], dense = json["dense_detections"] as? [String: Any]
            XCTAssertEqual(set == nil, config.setHead == .none, label)
            XCTAssertNotNil(dense, label)
            if let set { XCTAssertGreaterThan(set["detections"] as? Int ?? 0, 0, "\(label): nothing compared") }
        }
    }

    /// A Python that imports onnxruntime and numpy, or a skip.
    private func pythonWithOnnxruntime() throws -> String {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["ONNX_PYTHON"], Fixtures.packageRoot.appendingPathComponent(".build/onnx-venv/bin/python").path,
                          "/usr/bin/env python3"].compactMap { $0 }
        for candidate in candidates {
            let parts = candidate.split(separator: " ").map(String.init)
            guard FileManager.default.isExecutableFile(atPath: parts[0]) else { continue }
            let exe = parts.count > 1 ? parts.joined(separator: " ") : parts[0]
            if let (status, _) = try? run(exe, ["-c", "import onnxruntime, numpy"]), status == 0 { return exe }
        }
        throw XCTSkip("no python3 with onnxruntime and numpy (tools/check-onnx installs them into .build/onnx-venv)")
    }

    /// Runs `executable` (a path, or `/usr/bin/env NAME`) with `arguments`; returns the exit status and the output.
    private func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let parts = executable.split(separator: " ").map(String.init)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: parts[0])
        p.arguments = Array(parts.dropFirst()) + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
