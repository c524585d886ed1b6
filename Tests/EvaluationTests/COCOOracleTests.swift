import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// Holds `COCOEvaluator` against pycocotools' answers in `Tests/Fixtures/oracles/coco_eval.json`.
final class COCOOracleTests: XCTestCase {
    func testEveryOracleCaseReproducesTheTwelveStats() throws {
        guard let root = try JSONReader.parse(contentsOf: Fixtures.url("oracles/coco_eval.json")) as? [String: Any],
              let cases = root["cases"] as? [[String: Any]] else { return XCTFail("coco_eval.json has no cases") }
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let name = c["name"] as! String
            let expected = c["stats"] as! [Double]
            let result = try COCOEvaluator.evaluate(
                groundTruthFile: Fixtures.url("oracles/" + (c["gt"] as! String)),
                resultsFile: Fixtures.url("oracles/" + (c["results"] as! String)))
            let stats = result.stats
            assertClose(stats, expected, rtol: 0, atol: 1e-9, "case \(name)")
            // Read exactly, the oracle's values are the very same doubles.
            XCTAssertEqual(stats, expected, "case \(name)")
        }
    }

    func testSummaryLayoutMatchesPycocotools() throws {
        let result = try COCOEvaluator.evaluate(
            groundTruthFile: Fixtures.url("oracles/coco_0_plain_gt.json"),
            resultsFile: Fixtures.url("oracles/coco_0_plain_dt.json"))
        let lines = result.summary.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 12)
        XCTAssertEqual(lines[0], " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.283")
        XCTAssertEqual(lines[1], " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.637")
        XCTAssertEqual(lines[4], " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.254")
        XCTAssertEqual(lines[6], " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.207")
        XCTAssertEqual(lines[11], " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.553")
    }

    func testThresholdsAreNumpyLinspaceValues() {
        let p = COCOParameters()
        XCTAssertEqual(p.iouThresholds, [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95])
        XCTAssertEqual(p.recallThresholds.count, 101)
        XCTAssertEqual(p.recallThresholds[7], 0.07)
        XCTAssertEqual(p.recallThresholds[99], 0.99)
        XCTAssertEqual(p.recallThresholds[100], 1.0)
        XCTAssertEqual(p.areaRanges.map(\.upper), [1e10, 1024, 9216, 1e10])
    }
}
