import Evaluation
import Foundation
import TestSupport
import XCTest

/// The JSON reader's limits (nesting depth, string length) are clear errors with a position, not a crash.
final class JSONLimitTests: XCTestCase {
    private func write(_ text: String) throws -> URL {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("deep.json")
        try Data(text.utf8).write(to: url)
        return url
    }

    func testDeepNestingIsAnErrorNotAStackOverflow() throws {
        let url = try write("{\"images\": " + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}")
        XCTAssertThrowsError(try COCOGroundTruthFile(contentsOf: url)) {
            XCTAssertTrue("\($0)".contains(url.path) && "\($0)".contains("nested deeper than 512 levels"), "\($0)")
        }
        let results = try write("[{\"segmentation\": " + String(repeating: "[", count: 100_000))
        XCTAssertThrowsError(try COCOResults.load(contentsOf: results)) {
            XCTAssertTrue("\($0)".contains("nested deeper than 512 levels"), "\($0)")
        }
    }

    func testAStringBeyondOneMebibyteIsAnError() throws {
        let long = String(repeating: "a", count: (1 << 20) + 1)
        for text in ["{\"info\": \"\(long)\"}", "{\"info\": \"\\n\(long)\"}"] {
            let url = try write(text)
            XCTAssertThrowsError(try COCOGroundTruthFile(contentsOf: url)) {
                XCTAssertTrue("\($0)".contains(url.path) && "\($0)".contains("longer than 1048576 bytes"), "\($0)")
            }
        }
        let fits = try write("{\"info\": \"\(String(repeating: "a", count: 1 << 20))\", \"images\": [], \"annotations\": [], \"categories\": []}")
        XCTAssertNoThrow(try COCOGroundTruthFile(contentsOf: fits))
    }
}
