import Foundation

/// A matrix of counts written as a standalone SVG document: one square per cell with its count, shaded by the cell's
/// share of its column, row labels on the left and column labels above (as ultralytics' `confusion_matrix.png`,
/// normalised by true class). The package's confusion matrices are `MatrixChart`s; curves are `LineChart`s.
public struct MatrixChart: Sendable {
    /// Title above the chart.
    public var title: String
    /// Label of the rows (left) and of the columns (top).
    public var rowAxis: String, columnAxis: String
    /// Row and column labels.
    public var rowLabels: [String], columnLabels: [String]
    /// Counts, `counts[row][column]`.
    public var counts: [[Int]]
    /// Side of a cell in pixels.
    public var cell: Double = 64

    /// A chart of `counts` (`rowLabels.count` rows of `columnLabels.count` values).
    public init(title: String, rowAxis: String, columnAxis: String, rowLabels: [String], columnLabels: [String],
                counts: [[Int]]) {
        precondition(counts.count == rowLabels.count && counts.allSatisfy { $0.count == columnLabels.count },
                     "MatrixChart: \(counts.count) rows for \(rowLabels.count) labels")
        self.title = title; self.rowAxis = rowAxis; self.columnAxis = columnAxis
        self.rowLabels = rowLabels; self.columnLabels = columnLabels; self.counts = counts
    }

    /// Each cell's share of its column's total (0 for an empty column).
    public var columnShares: [[Double]] {
        let totals = columnLabels.indices.map { c in counts.reduce(0) { $0 + $1[c] } }
        return counts.map { row in row.indices.map { c in totals[c] > 0 ? Double(row[c]) / Double(totals[c]) : 0 } }
    }

    /// The SVG document text.
    public var svg: String {
        let labelWidth = 8.0 * Double(max(rowLabels.map(\.count).max() ?? 0, rowAxis.count, 6)) + 24
        let (left, top) = (labelWidth, 76.0)
        let width = left + cell * Double(columnLabels.count) + 16, height = top + cell * Double(rowLabels.count) + 16
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
            + "font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(f(width / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">"
            + "\(LineChart.escape(title))</text>\n"
        out += "<text x=\"\(f(left + cell * Double(columnLabels.count) / 2))\" y=\"42\" text-anchor=\"middle\">"
            + "\(LineChart.escape(columnAxis))</text>\n"
        out += "<text x=\"8\" y=\"\(f(top - 8))\">\(LineChart.escape(rowAxis))</text>\n"
        for (c, label) in columnLabels.enumerated() {
            out += "<text x=\"\(f(left + cell * (Double(c) + 0.5)))\" y=\"\(f(top - 8))\" text-anchor=\"middle\">"
                + "\(LineChart.escape(label))</text>\n"
        }
        let shares = columnShares
        for (r, label) in rowLabels.enumerated() {
            let y = top + cell * Double(r)
            out += "<text x=\"\(f(left - 8))\" y=\"\(f(y + cell / 2 + 4))\" text-anchor=\"end\">"
                + "\(LineChart.escape(label))</text>\n"
            for c in columnLabels.indices {
                let share = shares[r][c], x = left + cell * Double(c)
                // White to a deep blue (#08306b) with the share; counts in white on dark cells.
                let shade = { (full: Double, dark: Double) in Int((full + (dark - full) * share).rounded()) }
                let fill = String(format: "#%02x%02x%02x", shade(255, 8), shade(255, 48), shade(255, 107))
                out += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(fill)\" "
                    + "stroke=\"#cccccc\"/>\n"
                out += "<text x=\"\(f(x + cell / 2))\" y=\"\(f(y + cell / 2 + 4))\" text-anchor=\"middle\" "
                    + "fill=\"\(share > 0.5 ? "white" : "black")\">\(counts[r][c])</text>\n"
            }
        }
        return out + "</svg>\n"
    }

    /// Writes the SVG to `url` atomically (`DurableFile`).
    public func write(to url: URL) throws {
        try DurableFile.write(Data(svg.utf8), to: url)
    }
}
