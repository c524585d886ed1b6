import XCTest
import TestSupport
@testable import Matching

/// Reading cost matrices from `.npy`, `.csv` and JSON files written by numpy (`Tests/Fixtures/matching`).
final class CostMatrixFileTests: XCTestCase {
    private func path(_ name: String) -> String { Fixtures.url("matching/\(name)").path }

    private func expected(_ name: String) throws -> [String: Double] {
        let root = try XCTUnwrap(Fixtures.json("matching/expected.json") as? [String: Any])
        let all = try XCTUnwrap(root["expected"] as? [String: [String: Double]])
        return try XCTUnwrap(all[name])
    }

    func testReadsNumpyFilesAndSolvesThemAsScipy() throws {
        for name in ["cost_f64_4x6.npy", "cost_f32_fortran_5x3.npy"] {
            let e = try expected(name)
            let m = try CostMatrix.read(path: path(name))
            XCTAssertEqual(Double(m.rows), e["rows"])
            XCTAssertEqual(Double(m.columns), e["cols"])
            // (Foundation's JSON reader may round the last bit of the expected values.)
            XCTAssertEqual(m[0, 0], try XCTUnwrap(e["first"]), accuracy: 1e-15)
            XCTAssertEqual(m[1, 0], try XCTUnwrap(e["at_1_0"]), accuracy: 1e-15, "Fortran order is column-major")
            XCTAssertEqual(m[m.rows - 1, m.columns - 1], try XCTUnwrap(e["last"]), accuracy: 1e-15)
            XCTAssertEqual(try linearSumAssignment(m).total, try XCTUnwrap(e["total"]), accuracy: 1e-12)
        }
    }

    func testReadsCSVWithInfinityAndJSON() throws {
        let csv = try CostMatrix.read(path: path("cost_inf_4x6.csv"))
        XCTAssertEqual(csv[0, 1], .infinity)
        XCTAssertEqual(try linearSumAssignment(csv).total, try XCTUnwrap(expected("cost_inf_4x6.csv")["total"]),
                       accuracy: 1e-12)
        let json = try CostMatrix.read(path: path("cost_3x3.json"))
        XCTAssertEqual(json, try CostMatrix([[4, 1, 3], [2, 0, 5], [3, 2, 2]]))
        XCTAssertEqual(try CostMatrix.parseJSON(" [ ] "), try CostMatrix([]))
        XCTAssertEqual(try CostMatrix.parseJSON("[[1, Infinity],[NaN, -inf]]").values.map { $0.isFinite },
                       [true, false, false, false])
    }

    func testErrorsNameTheFileAndTheProblem() throws {
        let cases: [(String, String)] = [
            ("cost_i64.npy", "dtype"), ("cost_1d.npy", "2-D"), ("cost_ragged.json", "row 1"),
            ("missing.npy", "no such file"),
        ]
        for (name, fragment) in cases {
            XCTAssertThrowsError(try CostMatrix.read(path: path(name))) { e in
                let message = "\(e)"
                XCTAssertTrue(message.contains(name) && message.contains(fragment), message)
                XCTAssertEqual((e as? MatchingError)?.kind, "file")
            }
        }
        let nan = try CostMatrix.read(path: path("cost_nan.csv"))
        XCTAssertThrowsError(try linearSumAssignment(nan)) { XCTAssertEqual(($0 as? MatchingError)?.kind, "invalid") }
        let infeasible = try CostMatrix.read(path: path("cost_infeasible.json"))
        XCTAssertThrowsError(try linearSumAssignment(infeasible)) {
            XCTAssertEqual(($0 as? MatchingError)?.kind, "infeasible")
        }
        XCTAssertThrowsError(try CostMatrix.parseCSV("1,2\n3,x\n")) { XCTAssertTrue("\($0)".contains("line 2")) }
    }

    /// A `.npy` header whose shape overflows `rows × columns` (or is negative) is an error, not a trap.
    func testNPYShapeThatNoFileCanHold() throws {
        for shape in ["(4611686018427387904, 4)", "(-2, -2)", "(3037000500, 3037000500)"] {
            var header = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }"
            header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
            var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
            bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 64)
            let url = try Fixtures.temporaryDirectory().appendingPathComponent("big.npy")
            try Data(bytes).write(to: url)
            XCTAssertThrowsError(try CostMatrix.read(path: url.path), shape) {
                XCTAssertTrue("\($0)".contains(url.path) && "\($0)".contains("no file can hold"), "\($0)")
            }
        }
    }
}
