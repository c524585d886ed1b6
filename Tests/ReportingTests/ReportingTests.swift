import Foundation
import Reporting
import TestSupport
import XCTest

/// The chart writer and the typed JSON Lines file.
final class ReportingTests: XCTestCase {
    func testLineChartPlacesPointsAndDropsNonPositiveOnALogScale() {
        var c = LineChart(title: "t <&>", xLabel: "step", yLabel: "loss", logY: true, series: [
            .init(name: "a", points: [(0, 1), (1, 10), (2, 0), (3, .nan), (4, 100)]),
            .init(name: "empty", points: []),
        ])
        c.width = 400
        c.height = 300
        let svg = c.svg
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"300\""))
        XCTAssertTrue(svg.contains("t &lt;&amp;&gt;"))
        XCTAssertTrue(svg.contains("loss (log scale)"))
        let polylines = svg.split(separator: "\n").filter { $0.hasPrefix("<polyline") }
        XCTAssertEqual(polylines.count, 1, "the empty series draws no line")
        let points = polylines[0].split(separator: "\"")[7].split(separator: " ")
        XCTAssertEqual(points.count, 3, "y = 0 and NaN are left out on a log scale")
        // Left margin 70, plot width 400 − 70 − 170; x from 0 to 4, y from 10⁰ to 10² (top 40, plot height 208).
        XCTAssertEqual(points.first, "70.0,248.0")
        XCTAssertEqual(points.last, "230.0,40.0")
        XCTAssertTrue(svg.contains(">empty<"), "every series is in the legend")
    }

    func testFixedRangesAndInsideLegend() {
        var c = LineChart(title: "pr", xLabel: "recall", yLabel: "precision", series: [.init(name: "AP = 0.5", points: [(0, 1), (1, 0)])])
        (c.xRange, c.yRange, c.ticks, c.legend) = (0...1, 0...1, 10, .insideBottomLeft)
        let svg = c.svg
        XCTAssertEqual(svg.components(separatedBy: ">0.500<").count - 1, 2, "tick 0.5 on both axes")
        XCTAssertTrue(svg.contains("fill-opacity=\"0.85\""), "framed legend inside the plot")
    }

    private struct Entry: Codable, Equatable { var step: Int; var loss: Double }

    func testJSONLinesRoundTripKilledLineAndBadLine() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("log.jsonl")
        do {
            let log = try JSONLinesLog<Entry>(url: url, truncate: true)
            try log.append(Entry(step: 1, loss: 2.5))
            try log.append(Entry(step: 2, loss: 1.25))
        }
        XCTAssertEqual(try JSONLinesLog<Entry>.read(url), [Entry(step: 1, loss: 2.5), Entry(step: 2, loss: 1.25)])
        // A line cut short by a kill is left out; appending continues the file.
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        handle.write(Data("{\"step\": 3, \"lo".utf8))
        try handle.close()
        XCTAssertEqual(try JSONLinesLog<Entry>.read(url).count, 2)
        // Reopening for a resume removes the torn line and the records after the checkpoint, then appends.
        do {
            let log = try JSONLinesLog<Entry>(url: url, keeping: { $0.step <= 1 })
            XCTAssertEqual(log.repaired.tornBytes, 15)
            XCTAssertEqual(log.repaired.droppedRecords, 1)
            try log.append(Entry(step: 2, loss: 0.5))
        }
        XCTAssertEqual(try JSONLinesLog<Entry>.read(url), [Entry(step: 1, loss: 2.5), Entry(step: 2, loss: 0.5)])
        XCTAssertTrue(try String(contentsOf: url, encoding: .utf8).hasSuffix("\"step\":2}\n"))
        // A bad line inside the file is an error naming the file and line.
        try Data("{\"step\": 1, \"loss\": 1}\nnot json\n{\"step\": 2, \"loss\": 1}\n".utf8).write(to: url)
        XCTAssertThrowsError(try JSONLinesLog<Entry>.read(url)) {
            XCTAssertEqual(($0 as? ReportingError).map { "\($0)".hasPrefix(url.path + ":2:") }, true, "\($0)")
        }
    }
}
