import Foundation
import Reporting
import XCTest

/// `MatrixChart`: shares by column, an SVG with every cell, count and escaped label, shading that follows the share.
final class MatrixChartTests: XCTestCase {
    private let chart = MatrixChart(title: "Confusion <test>", rowAxis: "predicted", columnAxis: "true",
                                    rowLabels: ["a", "b&c", "background"], columnLabels: ["a", "b&c", "background"],
                                    counts: [[8, 1, 3], [2, 5, 0], [0, 4, 0]])

    func testSharesAreByColumn() {
        let s = chart.columnShares
        XCTAssertEqual(s[0][0], 0.8, accuracy: 1e-12)
        XCTAssertEqual(s[1][0], 0.2, accuracy: 1e-12)
        XCTAssertEqual(s[2][1], 0.4, accuracy: 1e-12)
        XCTAssertEqual(s[0][2], 1, accuracy: 1e-12)
        XCTAssertEqual(s[2][2], 0, "an empty cell of a non-empty column")
        let empty = MatrixChart(title: "", rowAxis: "", columnAxis: "", rowLabels: ["x"], columnLabels: ["y"], counts: [[0]])
        XCTAssertEqual(empty.columnShares, [[0]], "an empty column shares nothing")
    }

    func testSVGHoldsCountsLabelsAndShades() throws {
        let svg = chart.svg
        XCTAssertTrue(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<text ").count, svg.components(separatedBy: "</text>").count)
        XCTAssertEqual(svg.components(separatedBy: "<rect ").count - 1, 1 + 9, "the background and one per cell")
        XCTAssertTrue(svg.contains("Confusion &lt;test&gt;"))
        XCTAssertTrue(svg.contains(">b&amp;c</text>"))
        for n in [8, 1, 3, 2, 5, 4] { XCTAssertTrue(svg.contains(">\(n)</text>"), "count \(n)") }
        // Share 1 is the darkest blue, share 0 white; 0.8 is dark enough for a white count.
        XCTAssertTrue(svg.contains("fill=\"#08306b\""))
        XCTAssertTrue(svg.contains("fill=\"#ffffff\""))
        XCTAssertTrue(svg.contains("fill=\"white\">8</text>"))
        XCTAssertTrue(svg.contains("fill=\"black\">1</text>"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("matrix-\(UUID().uuidString).svg")
        defer { try? FileManager.default.removeItem(at: url) }
        try chart.write(to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), svg)
    }
}
