import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// Holds `COCOEvaluator` bit for bit against pycocotools on the hand-made cases of
/// `Tests/Fixtures/evaluation/expected.json` (crowd regions, `ignore` flags, score ties, area borders,
/// negative widths, a ground truth with id 0, more than 100 detections, a random set, no detections) and on
/// the oracle cases as pycocotools computes them on this machine.
final class COCOHandmadeTests: XCTestCase {
    private func cases() throws -> [[String: Any]] {
        // JSONReader, not JSONSerialization: the expected doubles must be read exactly.
        let root = try XCTUnwrap(try JSONReader.parse(contentsOf: Fixtures.url("evaluation/expected.json")) as? [String: Any])
        return try XCTUnwrap(root["cases"] as? [[String: Any]])
    }

    private func evaluate(_ c: [String: Any]) throws -> COCOEvaluation {
        try COCOEvaluator.evaluate(groundTruthFile: Fixtures.url("evaluation/" + (c["gt"] as! String)),
                                   resultsFile: Fixtures.url("evaluation/" + (c["results"] as! String)))
    }

    func testStatsAreTheSameDoublesAsPycocotools() throws {
        let all = try cases()
        XCTAssertEqual(all.count, 15)
        for c in all {
            let name = c["name"] as! String
            XCTAssertEqual(try evaluate(c).stats, c["stats"] as! [Double], "case \(name)")
        }
    }

    func testPerCategoryAPMatchesPycocotools() throws {
        for c in try cases() {
            let name = c["name"] as! String
            let expected = c["per_category"] as! [[String: Any]]
            let got = try evaluate(c).perCategory
            XCTAssertEqual(got.map(\.category.id), expected.map { $0["id"] as! Int }, "case \(name)")
            XCTAssertEqual(got.map(\.ap), expected.map { $0["AP"] as! Double }, "case \(name) AP")
            XCTAssertEqual(got.map(\.ap50), expected.map { $0["AP50"] as! Double }, "case \(name) AP50")
        }
    }

    func testPrecisionArrayMatchesPycocotools() throws {
        for c in try cases() {
            guard let expected = c["precision_all_100"] as? [Double] else { continue }
            let result = try evaluate(c)
            let p = result.parameters
            var got: [Double] = []
            for t in p.iouThresholds.indices {
                for r in p.recallThresholds.indices {
                    for k in result.categories.indices { got.append(result.precision(t: t, r: r, k: k, a: 0, m: 2)) }
                }
            }
            XCTAssertEqual(got, expected, "case \(c["name"]!)")
        }
    }

    func testCrowdRegionAbsorbsManyDetections() throws {
        let c = try XCTUnwrap(try cases().first { $0["name"] as? String == "crowd" })
        let evaluator = COCOEvaluator(groundTruth: try COCOGroundTruth(
            contentsOf: Fixtures.url("evaluation/" + (c["gt"] as! String))))
        let grouped = try evaluator.groupDetections(
            try COCOResults.load(contentsOf: Fixtures.url("evaluation/" + (c["results"] as! String))), source: "dt")
        let matches = evaluator.matchAll(grouped)
        // Image 1, category 1: the six small boxes inside the 200×200 crowd region are all ignored at every
        // threshold (matched to the crowd), not counted as false positives.
        let A = evaluator.parameters.areaRanges.count
        let first = grouped.start[0]
        let ignoredAll = (0..<6).filter { matches.ignored[(first + $0) * A] == 0b11_1111_1111 }
        XCTAssertGreaterThanOrEqual(ignoredAll.count, 5)
    }

    func testIoUFollowsMaskApi() {
        let g = COCOBox(x: 0, y: 0, width: 10, height: 10)
        XCTAssertEqual(cocoBoxIoU(detection: COCOBox(x: 5, y: 0, width: 10, height: 10), groundTruth: g, crowd: false),
                       50.0 / 150.0)
        // Crowd: the union is the detection's own area.
        XCTAssertEqual(cocoBoxIoU(detection: COCOBox(x: 5, y: 0, width: 10, height: 10), groundTruth: g, crowd: true),
                       0.5)
        XCTAssertEqual(cocoBoxIoU(detection: COCOBox(x: 2, y: 2, width: 3, height: 3), groundTruth: g, crowd: true), 1)
        // Touching edges and negative widths overlap nothing.
        XCTAssertEqual(cocoBoxIoU(detection: COCOBox(x: 10, y: 0, width: 5, height: 5), groundTruth: g, crowd: false), 0)
        XCTAssertEqual(cocoBoxIoU(detection: COCOBox(x: 8, y: 0, width: -5, height: 5), groundTruth: g, crowd: false), 0)
    }

    func testNumpyPairwiseSumOrder() {
        // 1e16 + 1 + 1 … loses the ones sequentially; pairwise blocks keep some of them, as numpy does.
        let values = [1e16] + [Double](repeating: 1, count: 15)
        XCTAssertEqual(numpySum(values[...]), 1e16 + 14)  // np.add.reduce gives 1.0000000000000014e+16
        XCTAssertEqual(numpySum([1, 2, 3][...]), 6)
    }
}
