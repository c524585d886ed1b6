import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// Per-category table, metrics JSON, precision–recall curves and the SVG chart.
final class COCOReportTests: XCTestCase {
    private func evaluation() throws -> COCOEvaluation {
        try COCOEvaluator.evaluate(groundTruthFile: Fixtures.url("oracles/coco_0_crowd_ignore_gt.json"),
                                   resultsFile: Fixtures.url("oracles/coco_0_crowd_ignore_dt.json"))
    }

    func testCurvesAverageThePrecisionArray() throws {
        let e = try evaluation()
        let ap50 = try XCTUnwrap(e.precisionRecallCurve(iouThreshold: 0.5))
        XCTAssertEqual(ap50.recall.count, 101)
        // Mean over recall points and categories = AP50 (stats[1]) up to summation order.
        assertClose(ap50.averagePrecision, e.stats[1], rtol: 0, atol: 1e-12)
        let perCategory = try XCTUnwrap(e.precisionRecallCurve(iouThreshold: 0.75, categoryIndex: 1))
        assertClose(perCategory.averagePrecision, e.perCategory[1].ap75, rtol: 0, atol: 1e-12)
        XCTAssertTrue(zip(ap50.precision, ap50.precision.dropFirst()).allSatisfy { $0 >= $1 },
                      "interpolated precision never rises with recall")
        XCTAssertNil(e.precisionRecallCurve(iouThreshold: 0.51))
    }

    func testCategoryTableAndMetricsJSON() throws {
        let e = try evaluation()
        let table = e.categoryTable.split(separator: "\n")
        XCTAssertEqual(table.count, 4)
        XCTAssertTrue(table[1].contains("RBC"))
        XCTAssertTrue(table[1].contains(String(format: "%7.3f", e.perCategory[0].ap)))
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("m.json")
        try e.writeMetrics(to: url)
        let json = try XCTUnwrap(try JSONReader.parse(contentsOf: url) as? [String: Any])
        XCTAssertEqual(json["stats_list"] as? [Double], e.stats)
        XCTAssertEqual((json["stats"] as? [String: Any])?["AP50"] as? Double, e.stats[1])
        XCTAssertEqual((json["per_category"] as? [[String: Any]])?.count, 3)
        XCTAssertEqual(json["detections"] as? Int, 899)
    }

    func testSVGChartIsWellFormedAndHasEveryCurve() throws {
        let e = try evaluation()
        let plot = PrecisionRecallPlot(evaluation: e, perCategory: true)
        XCTAssertEqual(plot.curves.map(\.label),
                       ["AP50 (all categories)", "AP75 (all categories)", "AP50 (RBC)", "AP50 (WBC)", "AP50 (Platelets)"])
        let svg = plot.svg
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 5)
        XCTAssertTrue(svg.contains(String(format: "AP50 (all categories) = %.3f", e.stats[1])))
        XCTAssertTrue(svg.contains(">recall<") && svg.contains(">precision<"))
        // Every polyline has 101 points inside the plot area.
        for line in svg.split(separator: "\n") where line.hasPrefix("<polyline") {
            let points = line.split(separator: "\"")[7].split(separator: " ")
            XCTAssertEqual(points.count, 101)
            for pt in points {
                let xy = pt.split(separator: ",").compactMap { Double($0) }
                XCTAssertTrue(xy[0] >= 64 && xy[0] <= 616 && xy[1] >= 40 && xy[1] <= 428, "\(pt)")
            }
        }
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("pr.svg")
        try plot.write(to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), svg)
    }

    func testNoGroundTruthGivesMinusOneEverywhere() throws {
        let gt = COCOGroundTruth(images: [COCOImage(id: 1)], categories: [COCOCategory(id: 1, name: "a")],
                                 annotations: [])
        let d = COCODetection(imageID: 1, categoryID: 1, box: COCOBox(x: 0, y: 0, width: 5, height: 5), score: 1)
        let e = try COCOEvaluator(groundTruth: gt).evaluate(detections: [d])
        XCTAssertEqual(e.stats, [Double](repeating: -1, count: 12))
        XCTAssertNil(e.precisionRecallCurve(iouThreshold: 0.5))
        XCTAssertTrue(e.categoryTable.contains("      -"))
    }
}
