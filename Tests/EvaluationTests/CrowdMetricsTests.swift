import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// MR⁻² and JI held against an independent numpy/scipy computation (`Fixtures/evaluation/crowd_reference.py`,
/// whose output `crowd_cases.json` is committed) and against cases computed by hand.
final class CrowdMetricsTests: XCTestCase {
    private func groundTruth(_ object: Any, in dir: URL, name: String) throws -> COCOGroundTruth {
        let url = dir.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return try COCOGroundTruth(contentsOf: url)
    }

    private func detections(_ object: Any, in dir: URL, name: String) throws -> [COCODetection] {
        let url = dir.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return try COCOResults.load(contentsOf: url)
    }

    /// Four seeded crowds (one class, ignore regions, two classes, sparse; scores with ties): both metrics and the
    /// JI threshold as numpy and scipy compute them.
    func testMatchesTheNumpyReference() throws {
        let root = try XCTUnwrap(try Fixtures.json("evaluation/crowd_cases.json") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        let dir = try Fixtures.temporaryDirectory()
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let gt = try groundTruth(try XCTUnwrap(c["ground_truth"]), in: dir, name: name + "_gt.json")
            let dt = try detections(try XCTUnwrap(c["detections"]), in: dir, name: name + "_dt.json")
            let m = CrowdMetrics.evaluate(groundTruth: gt, detections: dt)
            assertClose(m.missRate, try XCTUnwrap(c["MR-2"] as? Double), rtol: 1e-12, atol: 1e-12)
            assertClose(m.jaccardIndex, try XCTUnwrap(c["JI"] as? Double), rtol: 1e-12, atol: 1e-12)
            XCTAssertEqual(m.jaccardThreshold, try XCTUnwrap(c["JI_score_threshold"] as? Double), accuracy: 1e-12, name)
        }
    }

    private func scene(_ boxes: [[Double]], crowd: [Int] = []) -> [String: Any] {
        ["images": [["id": 1, "file_name": "a.png", "width": 100, "height": 100]],
         "categories": [["id": 1, "name": "head"]],
         "annotations": boxes.enumerated().map { i, b in
             ["id": i + 1, "image_id": 1, "category_id": 1, "bbox": b, "area": b[2] * b[3], "iscrowd": crowd.contains(i) ? 1 : 0]
         }]
    }

    private func dets(_ rows: [([Double], Double)]) -> [[String: Any]] {
        rows.map { ["image_id": 1, "category_id": 1, "bbox": $0.0, "score": $0.1] }
    }

    /// By hand: a perfect detection misses nothing (MR⁻² = exp(log 0) = 0) and JI = 1/(1 + 10⁻⁶); one hit and one
    /// false positive on two objects hold the miss rate at 0.5 at every FPPI point, and JI is best (1/2) once the
    /// threshold drops the false positive; a detection inside an ignore region counts nowhere.
    func testHandComputedCases() throws {
        let dir = try Fixtures.temporaryDirectory()
        let one = try groundTruth(scene([[10, 10, 20, 20]]), in: dir, name: "one.json")
        let perfect = CrowdMetrics.evaluate(groundTruth: one, detections: try detections(dets([([10, 10, 20, 20], 0.9)]), in: dir, name: "p.json"))
        XCTAssertEqual(perfect.missRate, 0)
        XCTAssertEqual(perfect.jaccardIndex, 1 / (1 + 1e-6))

        let two = try groundTruth(scene([[10, 10, 20, 20], [60, 60, 20, 20]]), in: dir, name: "two.json")
        let half = CrowdMetrics.evaluate(groundTruth: two, detections: try detections(
            dets([([10, 10, 20, 20], 0.9), ([40, 10, 10, 10], 0.75)]), in: dir, name: "h.json"))
        XCTAssertEqual(half.missRate, 0.5, accuracy: 1e-15)
        XCTAssertEqual(half.jaccardIndex, 1 / (2 + 1 - 1 + 1e-6))
        XCTAssertEqual(half.jaccardThreshold, 0.8, accuracy: 1e-12)

        let withRegion = try groundTruth(scene([[10, 10, 20, 20], [50, 50, 40, 40]], crowd: [1]), in: dir, name: "r.json")
        let absorbed = CrowdMetrics.evaluate(groundTruth: withRegion, detections: try detections(
            dets([([10, 10, 20, 20], 0.9), ([55, 55, 10, 10], 0.95)]), in: dir, name: "a.json"))
        XCTAssertEqual(absorbed.missRate, 0, "the region's detection is no false positive")
        XCTAssertEqual(absorbed.jaccardIndex, 1 / (1 + 1e-6), "nor does it count in n")

        let none = CrowdMetrics.evaluate(groundTruth: two, detections: [])
        XCTAssertEqual(none.missRate, 1, "without detections every object is missed")
        XCTAssertEqual(none.jaccardIndex, 0)
        let empty = COCOGroundTruth(images: [COCOImage(id: 1)], categories: [COCOCategory(id: 1, name: "x")], annotations: [])
        XCTAssertEqual(CrowdMetrics.evaluate(groundTruth: empty, detections: []).missRate, -1)
    }

    /// The matching is of maximum cardinality, not greedy: a detection overlapping two objects leaves the one its
    /// neighbour needs.
    func testMaximumMatchingIsNotGreedy() {
        let pairs = CrowdMetrics.maximumMatching([[true, true], [true, false]])
        XCTAssertEqual(pairs.count, 2)
        XCTAssertTrue(CrowdMetrics.maximumMatching([]).isEmpty)
        XCTAssertEqual(CrowdMetrics.maximumMatching([[false], [false]]).count, 0)
    }

    /// A detection limit above 100: the 12 statistics stay pycocotools' (taken at 100, with `maxDets` [1, 10, 100,
    /// 300]) and AP, AP50, AP75, AR at 300 are pycocotools' too (`max_dets_reference.py`); the added lines follow the
    /// summary's layout, and the metrics file carries them.
    func testMaxDetectionsAbove100MatchPycocotools() throws {
        let expected = try XCTUnwrap(try JSONReader.parse(contentsOf: Fixtures.url("evaluation/max_dets_expected.json")) as? [String: Any])
        var parameters = COCOParameters()
        parameters.maxDetections = [1, 10, 100, 300]
        let e = try COCOEvaluator.evaluate(groundTruthFile: Fixtures.url("evaluation/case_max_dets_gt.json"),
                                           resultsFile: Fixtures.url("evaluation/case_max_dets_dt.json"), parameters: parameters)
        XCTAssertEqual(e.stats, try XCTUnwrap(expected["stats"] as? [Double]))
        let at = try XCTUnwrap(expected["at_300"] as? [String: Any])
        let got = e.statsAt(maxDetections: 300)
        for (name, value) in zip(COCOEvaluation.maxDetectionStatNames, got) {
            assertClose(value, try XCTUnwrap(at[name] as? Double), rtol: 1e-12, atol: 1e-15)
        }
        XCTAssertGreaterThan(got[3], e.stats[8], "more detections, more recall")
        let lines = e.summary(maxDetections: 300).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(String(lines[1]), String(format: " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=300 ] = %0.3f", got[1]))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: e.metricsJSON()) as? [String: Any])
        let entry = try XCTUnwrap(json["stats_at_max_dets"] as? [String: Any])
        XCTAssertEqual(entry["max_dets"] as? Int, 300)
    }
}
