import Foundation
import NeuralNet
import TestSupport
import XCTest

/// safetensors round trips, the fixture written by Python's `safetensors` library, and Python reading our files.
final class SafeTensorsTests: XCTestCase {
    /// Bitwise equality, so that nan, −0 and subnormals count as preserved only when they are.
    private func assertBitwiseEqual(_ a: Tensor?, _ b: Tensor, _ what: String, line: UInt = #line) {
        guard let a else { return XCTFail("\(what) missing", line: line) }
        XCTAssertEqual(a.shape, b.shape, what, line: line)
        XCTAssertEqual(a.data.map(\.bitPattern), b.data.map(\.bitPattern), what, line: line)
    }

    private func sampleTensors() -> [(name: String, tensor: Tensor)] {
        var rng = AttentionTestRandom(seed: 11)
        let special: [Float] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        return [
            ("backbone.stem.conv.weight", rng.tensor([4, 3, 3, 3])),
            ("head.special", Tensor(shape: [2, 3], data: special)),
            ("scalar", Tensor(shape: [], data: [2.5])),
            ("empty", Tensor(shape: [0, 7])),
            ("naïve \"quoted\"\\name\n", rng.tensor([5])),
        ]
    }

    func testRoundTripKeepsValuesOrderAndMetadata() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        let tensors = sampleTensors()
        let metadata = ["step": "42", "config": "{\"lr\": 0.001}", "note": "tab\there, ünïcode"]
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        // Overwriting replaces the file atomically and leaves no temporary behind.
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["model.safetensors"])

        let bytes = try Data(contentsOf: url)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0, "header padded to 8 bytes")
        XCTAssertEqual(bytes.count, 8 + headerLength + 4 * tensors.reduce(0) { $0 + $1.tensor.count })

        let loaded = try SafeTensors.read(url)
        XCTAssertEqual(loaded.order, tensors.map(\.name))
        XCTAssertEqual(loaded.metadata, metadata)
        for (name, tensor) in tensors { assertBitwiseEqual(loaded.tensors[name], tensor, name) }
        XCTAssertEqual(try SafeTensors.read(url).tensors.count, tensors.count)
    }

    func testNoMetadataWritesNoMetadataEntry() throws {
        let data = try SafeTensors.encode([("w", Tensor(shape: [2], data: [1, 2]))])
        XCTAssertFalse(String(decoding: data, as: UTF8.self).contains("__metadata__"))
        let loaded = try SafeTensors.decode(data)
        XCTAssertEqual(loaded.metadata, [:])
        XCTAssertEqual(loaded.tensors["w"], Tensor(shape: [2], data: [1, 2]))
    }

    func testLoadsFileWrittenByPythonSafetensors() throws {
        // Written by Tests/Fixtures/safetensors/make_fixture.py with safetensors.numpy.save_file.
        let loaded = try SafeTensors.read(Fixtures.url("safetensors/python_numpy.safetensors"))
        XCTAssertEqual(loaded.metadata, [
            "format": "pt", "step": "1200", "config": "{\"hypotheses\": 50, \"name\": \"réf\\\"q\\\"\"}",
        ])
        XCTAssertEqual(Set(loaded.order), [
            "backbone.stem.conv.weight", "head.cls.bias", "set.attn.q_proj.weight", "step_scale", "empty",
        ])
        assertBitwiseEqual(loaded.tensors["backbone.stem.conv.weight"],
                           Tensor(shape: [2, 3, 2, 2], data: (0..<24).map { Float($0) * 0.25 - 3 }), "conv")
        assertBitwiseEqual(loaded.tensors["head.cls.bias"],
                           Tensor(shape: [4], data: [-0.0, 1e-40, .greatestFiniteMagnitude, -4.59512]), "bias")
        let q = try XCTUnwrap(loaded.tensors["set.attn.q_proj.weight"])
        XCTAssertEqual(q.shape, [3, 4])
        assertClose(q.data.map(Double.init), (0..<12).map { Double(Float(sin(Double($0)))) }, rtol: 1e-7, atol: 1e-8)
        assertBitwiseEqual(loaded.tensors["step_scale"], Tensor(shape: [], data: [0.125]), "scalar")
        assertBitwiseEqual(loaded.tensors["empty"], Tensor(shape: [0, 5]), "empty")
    }

    func testPythonSafetensorsReadsOurFile() throws {
        guard pythonHasSafetensors() else {
            throw XCTSkip("python3 with the safetensors package is not available")
        }
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("ours.safetensors")
        var rng = AttentionTestRandom(seed: 12)
        let tensors: [(name: String, tensor: Tensor)] = [
            ("set.attn.q_proj.weight", rng.tensor([8, 8])), ("set.attn.q_proj.bias", rng.tensor([8])),
            ("scalar", Tensor(shape: [], data: [-1.5])), ("empty", Tensor(shape: [3, 0])),
        ]
        let metadata = ["step": "7", "config": "{\"heads\": 4}"]
        try SafeTensors.write(tensors, metadata: metadata, to: url)

        let script = """
            import json, sys
            from safetensors import safe_open
            out = {"tensors": {}, "metadata": None}
            with safe_open(sys.argv[1], framework="numpy") as f:
                out["metadata"] = f.metadata()
                for k in f.keys():
                    t = f.get_tensor(k)
                    out["tensors"][k] = {"dtype": str(t.dtype), "shape": list(t.shape),
                                         "values": [float(v) for v in t.reshape(-1)]}
            print(json.dumps(out))
            """
        let output = try python(["-c", script, url.path])
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: output) as? [String: Any])
        XCTAssertEqual(parsed["metadata"] as? [String: String], metadata)
        let read = try XCTUnwrap(parsed["tensors"] as? [String: [String: Any]])
        XCTAssertEqual(Set(read.keys), Set(tensors.map(\.name)))
        for (name, tensor) in tensors {
            let entry = try XCTUnwrap(read[name])
            XCTAssertEqual(entry["dtype"] as? String, "float32", name)
            XCTAssertEqual(entry["shape"] as? [Int], tensor.shape, name)
            // JSON doubles of float32 values convert back to the same floats exactly.
            XCTAssertEqual((entry["values"] as? [Double])?.map { Float($0) }, tensor.data, name)
        }
    }

    /// Whether `python3 -c "import safetensors"` succeeds.
    private func pythonHasSafetensors() -> Bool {
        (try? python(["-c", "import safetensors"])) != nil
    }

    /// Runs `python3 arguments` (found on `PATH`) and returns its standard output; throws when it fails.
    private func python(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [
                NSLocalizedDescriptionKey: "python3 exited with \(process.terminationStatus)",
            ])
        }
        return data
    }
}

/// Saving and loading model parameters by dotted name.
final class SafeTensorsParameterTests: XCTestCase {
    private func parameters(seed: UInt64) -> [Parameter] {
        var generator = SeededGenerator(seed: seed)
        let attention = MultiHeadSelfAttention(name: "set.attn", width: 8, heads: 2, generator: &generator)
        return attention.parameters + LayerNorm(name: "set.norm", features: 8).parameters
    }

    func testParametersRoundTripThroughAFile() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("checkpoint.safetensors")
        let saved = parameters(seed: 1)
        try SafeTensors.write(parameters: saved, metadata: ["step": "3"], to: url)
        let fresh = parameters(seed: 2)
        XCTAssertNotEqual(fresh[0].value, saved[0].value)
        let metadata = try SafeTensors.load(url, into: fresh, strict: true)
        XCTAssertEqual(metadata, ["step": "3"])
        XCTAssertEqual(fresh.map(\.value), saved.map(\.value))
        XCTAssertEqual(try SafeTensors.read(url).order, saved.map(\.name))
    }

    func testMismatchedCheckpointsAreRejectedWithoutChangingTheModel() throws {
        let model = parameters(seed: 3)
        let before = model.map(\.value)
        var tensors = Dictionary(uniqueKeysWithValues: parameters(seed: 4).map { ($0.name, $0.value) })
        tensors["set.attn.q_proj.bias"] = Tensor(shape: [9])
        XCTAssertThrowsError(try SafeTensors.assign(tensors, to: model, file: "c.safetensors")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .shapeMismatch(
                file: "c.safetensors", tensor: "set.attn.q_proj.bias", expected: [8], found: [9]))
        }
        tensors["set.attn.q_proj.bias"] = nil
        XCTAssertThrowsError(try SafeTensors.assign(tensors, to: model, file: "c.safetensors")) { error in
            XCTAssertEqual(error as? SafeTensorsError,
                           .missingTensor(file: "c.safetensors", tensor: "set.attn.q_proj.bias"))
        }
        tensors = Dictionary(uniqueKeysWithValues: parameters(seed: 4).map { ($0.name, $0.value) })
        tensors["extra"] = Tensor(shape: [1])
        XCTAssertThrowsError(try SafeTensors.assign(tensors, to: model, strict: true, file: "c.safetensors")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .unexpectedTensor(file: "c.safetensors", tensor: "extra"))
            XCTAssertTrue("\(error)".contains("extra"))
        }
        XCTAssertEqual(model.map(\.value), before, "a failed load leaves the model as it was")
        try SafeTensors.assign(tensors, to: model, file: "c.safetensors")
        XCTAssertEqual(model.map(\.value), parameters(seed: 4).map(\.value))
    }
}
