import Foundation
import NeuralNet
import TestSupport
import XCTest

/// Every kind of damaged or hostile safetensors input is reported as a `SafeTensorsError` naming the file and the
/// tensor; random truncations and byte flips never trap.
final class SafeTensorsBadInputTests: XCTestCase {
    /// A file of `header` (JSON text, length prefix computed) followed by `buffer` bytes.
    private func file(_ header: String, buffer: Int = 16) -> Data {
        let json = Array(header.utf8)
        var data = Data()
        for i in 0..<8 { data.append(UInt8((json.count >> (8 * i)) & 0xFF)) }
        data.append(contentsOf: json)
        data.append(contentsOf: [UInt8](repeating: 0, count: buffer))
        return data
    }

    /// Asserts decoding `data` throws `expected`, and that the message names the file (and `mentions`).
    private func assertThrows(
        _ data: Data, _ expected: SafeTensorsError, mentions: [String] = [], line: UInt = #line
    ) {
        XCTAssertThrowsError(try SafeTensors.decode(data, file: "bad.safetensors"), line: line) { error in
            XCTAssertEqual(error as? SafeTensorsError, expected, line: line)
            let message = "\(error)"
            for word in ["bad.safetensors"] + mentions {
                XCTAssertTrue(message.contains(word), "\"\(message)\" does not mention \(word)", line: line)
            }
        }
    }

    private let f = "bad.safetensors"

    func testTruncatedAndOversizedHeaderLength() {
        assertThrows(Data([1, 0, 0]), .truncated(file: f, size: 3), mentions: ["truncated"])
        assertThrows(Data(), .truncated(file: f, size: 0))
        var huge = file("{}")
        huge.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        assertThrows(huge, .headerLengthBeyondFile(file: f, headerLength: .max, fileSize: huge.count))
        var beyond = file("{}", buffer: 0)
        beyond[0] = 3
        assertThrows(beyond, .headerLengthBeyondFile(file: f, headerLength: 3, fileSize: 10), mentions: ["3"])
    }

    func testInvalidJSONHeaders() {
        for header in ["{not json", "[1, 2]", "\"a\"", "", "{\"w\": 3}",
                       "{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}",
                       "{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}",
                       "{\"w\": {\"dtype\": \"F32\", \"shape\": [1e30], \"data_offsets\": [0, 4]}}",
                       "{\"w\": {\"dtype\": 32, \"shape\": [1], \"data_offsets\": [0, 4]}}"] {
            XCTAssertThrowsError(try SafeTensors.decode(file(header), file: f), header) { error in
                guard case .invalidHeader(let file, let tensor, _)? = error as? SafeTensorsError else {
                    return XCTFail("\(header): \(error)")
                }
                XCTAssertEqual(file, f)
                if header.contains("\"w\"") { XCTAssertEqual(tensor, "w", header) }
            }
        }
        var notUTF8 = file("{\"w\":{}}")
        notUTF8[10] = 0xFF
        XCTAssertThrowsError(try SafeTensors.decode(notUTF8, file: f)) { error in
            guard case .invalidHeader? = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
    }

    func testDeeplyNestedHeaderIsRejectedNotAStackOverflow() {
        let deep = "{\"w\": " + String(repeating: "[", count: 100_000) + "}"
        XCTAssertThrowsError(try SafeTensors.decode(file(deep), file: f)) { error in
            guard case .invalidHeader? = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
    }

    func testDecodesFromADataSliceWithNonZeroStart() throws {
        let valid = try SafeTensors.encode([("w", Tensor(shape: [2], data: [3, -4]))], metadata: ["k": "v"])
        let padded = Data([9, 9, 9]) + valid
        let slice = padded[3...]
        XCTAssertEqual(slice.startIndex, 3)
        let loaded = try SafeTensors.decode(slice)
        XCTAssertEqual(loaded.tensors["w"], Tensor(shape: [2], data: [3, -4]))
        XCTAssertEqual(loaded.metadata, ["k": "v"])
    }

    func testInvalidMetadata() {
        let header = "{\"__metadata__\": {\"step\": 3}}"
        XCTAssertThrowsError(try SafeTensors.decode(file(header), file: f)) { error in
            guard case .invalidMetadata(let file, _)? = error as? SafeTensorsError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, f)
        }
    }

    func testUnsupportedDTypesAreNamed() {
        for dtype in ["F16", "I64", "BF16", "F64", "U8", "Q4"] {
            let header = "{\"w\": {\"dtype\": \"\(dtype)\", \"shape\": [2], \"data_offsets\": [0, 8]}}"
            assertThrows(file(header), .unsupportedDType(file: f, tensor: "w", dtype: dtype),
                         mentions: [dtype, "\"w\""])
        }
    }

    func testNegativeAndAbsurdShapes() {
        let negative = "{\"w\": {\"dtype\": \"F32\", \"shape\": [-1, 4], \"data_offsets\": [0, 16]}}"
        assertThrows(file(negative), .invalidShape(file: f, tensor: "w", shape: [-1, 4], reason: "negative extent"))
        let big = 1 << 40
        let overflow = "{\"w\": {\"dtype\": \"F32\", \"shape\": [\(big), \(big)], \"data_offsets\": [0, 16]}}"
        assertThrows(file(overflow),
                     .invalidShape(file: f, tensor: "w", shape: [big, big], reason: "element count overflows"))
        // No overflow in the count, but in count × 4 bytes.
        let bytes = "{\"w\": {\"dtype\": \"F32\", \"shape\": [\(Int.max / 2)], \"data_offsets\": [0, 16]}}"
        assertThrows(file(bytes), .sizeMismatch(file: f, tensor: "w", shape: [Int.max / 2],
                                                expectedBytes: .max, actualBytes: 16))
        let large = "{\"w\": {\"dtype\": \"F32\", \"shape\": [2147483648, 4], \"data_offsets\": [0, 16]}}"
        assertThrows(file(large), .sizeMismatch(file: f, tensor: "w", shape: [2_147_483_648, 4],
                                                expectedBytes: 34_359_738_368, actualBytes: 16))
    }

    func testOffsetsThatLie() {
        func entry(_ name: String, _ shape: String, _ offsets: String) -> String {
            "\"\(name)\": {\"dtype\": \"F32\", \"shape\": \(shape), \"data_offsets\": \(offsets)}"
        }
        assertThrows(file("{\(entry("w", "[4]", "[0, 16]"))}", buffer: 8),
                     .offsetsOutOfBuffer(file: f, tensor: "w", offsets: [0, 16], bufferSize: 8), mentions: ["\"w\""])
        assertThrows(file("{\(entry("w", "[1]", "[8, 4]"))}"),
                     .offsetsOutOfBuffer(file: f, tensor: "w", offsets: [8, 4], bufferSize: 16))
        assertThrows(file("{\(entry("w", "[1]", "[-4, 0]"))}"),
                     .offsetsOutOfBuffer(file: f, tensor: "w", offsets: [-4, 0], bufferSize: 16))
        assertThrows(file("{\(entry("w", "[1]", "[0]"))}"),
                     .offsetsOutOfBuffer(file: f, tensor: "w", offsets: [0], bufferSize: 16))
        assertThrows(file("{\(entry("w", "[3]", "[0, 8]"))}"),
                     .sizeMismatch(file: f, tensor: "w", shape: [3], expectedBytes: 12, actualBytes: 8),
                     mentions: ["12", "8"])
        assertThrows(file("{\(entry("a", "[2]", "[0, 8]")), \(entry("b", "[2]", "[4, 12]"))}"),
                     .overlapping(file: f, tensor: "a", other: "b"), mentions: ["\"a\"", "\"b\""])
        // A gap between tensors is tolerated.
        let gap = try? SafeTensors.decode(file("{\(entry("a", "[1]", "[0, 4]")), \(entry("b", "[1]", "[8, 12]"))}"))
        XCTAssertEqual(gap?.order, ["a", "b"])
    }

    func testMissingFileAndWriteErrors() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("missing.safetensors")
        XCTAssertThrowsError(try SafeTensors.read(missing)) { error in
            guard case .cannotRead(let file, _)? = error as? SafeTensorsError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, missing.path)
        }
        let w = Tensor(shape: [1], data: [1])
        let url = folder.appendingPathComponent("out.safetensors")
        for (tensors, reason) in [([("a", w), ("a", w)], "appears twice"), ([("", w)], "empty"),
                                  ([("__metadata__", w)], "reserved")] {
            XCTAssertThrowsError(try SafeTensors.write(tensors, to: url)) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(error)")
                guard case .invalidName? = error as? SafeTensorsError else { return XCTFail("\(error)") }
            }
        }
        let noFolder = folder.appendingPathComponent("absent/out.safetensors")
        XCTAssertThrowsError(try SafeTensors.write([("a", w)], to: noFolder)) { error in
            guard case .cannotWrite(let file, _)? = error as? SafeTensorsError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, noFolder.path)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testRandomTruncationsAndByteFlipsThrowOrLoad() throws {
        var rng = AttentionTestRandom(seed: 99)
        let valid = try SafeTensors.encode(
            [("a.weight", rng.tensor([3, 4])), ("a.bias", rng.tensor([4])), ("s", Tensor(shape: [], data: [1]))],
            metadata: ["step": "10"])
        var loaded = 0, rejected = 0
        func attempt(_ data: Data) {
            do {
                _ = try SafeTensors.decode(data, file: "fuzz")
                loaded += 1
            } catch is SafeTensorsError {
                rejected += 1
            } catch {
                XCTFail("not a SafeTensorsError: \(error)")
            }
        }
        for length in 0..<valid.count { attempt(valid.prefix(length)) }
        for _ in 0..<3000 {
            var data = valid
            for _ in 0..<(1 + rng.index(3)) {
                // Flip mostly inside the length prefix and header, where parsing happens.
                let at = rng.index(4) == 0 ? rng.index(data.count) : rng.index(min(data.count, 8 + 200))
                data[at] = rng.index(2) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : data[at] ^ (1 << rng.index(8))
            }
            attempt(data)
        }
        XCTAssertGreaterThan(rejected, valid.count - 1, "every strict prefix and many flips must be rejected")
        XCTAssertGreaterThan(loaded, 0, "flips in the buffer still load")
    }
}
