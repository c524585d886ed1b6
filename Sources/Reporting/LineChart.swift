import Foundation

/// A line chart written as a standalone SVG document: named series, linear x, linear or log₁₀ y, grid lines with
/// tick labels, axis labels and a legend. The package's one curve writer: loss curves, validation AP over training and
/// precision–recall curves are all `LineChart`s (confusion matrices are `MatrixChart`s).
public struct LineChart: Sendable {
    /// One curve.
    public struct Series: Sendable {
        /// Legend label.
        public var name: String
        /// Points in data coordinates; non-finite points (and non-positive y on a log scale) are left out.
        public var points: [(x: Double, y: Double)]
        /// Line width in pixels.
        public var lineWidth: Double
        /// A series drawn `lineWidth` pixels wide.
        public init(name: String, points: [(x: Double, y: Double)], lineWidth: Double = 1.5) {
            self.name = name; self.points = points; self.lineWidth = lineWidth
        }
    }

    /// Where the legend goes.
    public enum LegendPlacement: Sendable {
        /// In a column right of the plot area.
        case right
        /// In a framed box inside the plot area, bottom left (curves that fall towards the bottom right).
        case insideBottomLeft
    }

    /// Title above the chart.
    public var title: String
    /// Label under the x axis.
    public var xLabel: String
    /// Label beside the y axis.
    public var yLabel: String
    /// Plot y on a log₁₀ scale.
    public var logY: Bool
    /// The curves, in drawing order.
    public var series: [Series]
    /// Fixed x range; nil fits the data.
    public var xRange: ClosedRange<Double>?
    /// Fixed y range (in data units); nil fits the data with 5 % padding (none on a log scale).
    public var yRange: ClosedRange<Double>?
    /// Grid intervals per axis (ticks at both ends and `ticks − 1` between).
    public var ticks: Int = 5
    /// Picture size in pixels.
    public var width: Double = 720, height: Double = 420
    /// Legend position.
    public var legend: LegendPlacement = .right

    /// A chart of `series`.
    public init(title: String, xLabel: String, yLabel: String, logY: Bool = false, series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.logY = logY; self.series = series
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                          "#bcbd22", "#17becf"]

    /// The SVG document text.
    public var svg: String {
        let (left, top, bottom) = (70.0, 40.0, 52.0)
        let right = legend == .right ? 170.0 : 24.0
        let pw = width - left - right, ph = height - top - bottom
        let ty: (Double) -> Double? = { y in
            guard y.isFinite else { return nil }
            if self.logY { return y > 0 ? log10(y) : nil }
            return y
        }
        let pts = series.map { s in s.points.compactMap { p -> (Double, Double)? in
            guard p.x.isFinite, let y = ty(p.y) else { return nil }
            return (p.x, y)
        } }
        let xs = pts.flatMap { $0.map(\.0) }, ys = pts.flatMap { $0.map(\.1) }
        var (x0, x1) = xRange.map { ($0.lowerBound, $0.upperBound) } ?? (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1): (Double, Double)
        if let r = yRange {
            (y0, y1) = (ty(r.lowerBound) ?? 0, ty(r.upperBound) ?? 1)
        } else {
            (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
            if y1 <= y0 { y0 -= 0.5; y1 += 0.5 }
            if !logY { let pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad }
        }
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y1 = y0 + 1 }
        let sx: (Double) -> Double = { left + ($0 - x0) / (x1 - x0) * pw }
        let sy: (Double) -> Double = { top + ph - ($0 - y0) / (y1 - y0) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(left + pw / 2))" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

        """
        let n = max(1, ticks)
        for i in 0...n {
            let fx = x0 + (x1 - x0) * Double(i) / Double(n), fy = y0 + (y1 - y0) * Double(i) / Double(n)
            let yText = logY ? Self.number(pow(10, fy)) : Self.number(fy)
            out += "<line x1=\"\(f(sx(fx)))\" y1=\"\(f(top))\" x2=\"\(f(sx(fx)))\" y2=\"\(f(top + ph))\" stroke=\"#eee\"/>\n"
            out += "<line x1=\"\(f(left))\" y1=\"\(f(sy(fy)))\" x2=\"\(f(left + pw))\" y2=\"\(f(sy(fy)))\" stroke=\"#eee\"/>\n"
            out += "<text x=\"\(f(sx(fx)))\" y=\"\(f(top + ph + 16))\" text-anchor=\"middle\">\(Self.number(fx))</text>\n"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(sy(fy) + 4))\" text-anchor=\"end\">\(yText)</text>\n"
        }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#444\"/>\n"
        out += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        out += "<text transform=\"translate(16,\(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">"
            + "\(Self.escape(yLabel + (logY ? " (log scale)" : "")))</text>\n"
        for (k, s) in series.enumerated() where !pts[k].isEmpty {
            let path = pts[k].map { String(format: "%.1f,%.1f", sx($0.0), sy($0.1)) }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(Self.colour(k))\" stroke-width=\"\(s.lineWidth)\" points=\"\(path)\"/>\n"
        }
        out += legendMarkup(left: left, top: top, plotWidth: pw, plotHeight: ph)
        return out + "</svg>\n"
    }

    func legendMarkup(left: Double, top: Double, plotWidth pw: Double, plotHeight ph: Double) -> String {
        guard !series.isEmpty else { return "" }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let row = 18.0
        var (x, y) = (left + pw + 12, top + 10)
        var out = ""
        if legend == .insideBottomLeft {
            let boxHeight = row * Double(series.count) + 8
            let longest = Double(series.map(\.name.count).max() ?? 10)
            let boxWidth = min(pw - 16, 7 * longest + 52)
            (x, y) = (left + 14, top + ph - boxHeight - 8 + 4 + row / 2)
            out += "<rect x=\"\(f(left + 8))\" y=\"\(f(top + ph - boxHeight - 8))\" width=\"\(f(boxWidth))\" "
                + "height=\"\(f(boxHeight))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n"
        }
        for (k, s) in series.enumerated() {
            let ly = y + Double(k) * row
            out += "<line x1=\"\(f(x))\" y1=\"\(f(ly))\" x2=\"\(f(x + 20))\" y2=\"\(f(ly))\" stroke=\"\(Self.colour(k))\" "
                + "stroke-width=\"2\"/>\n"
            out += "<text x=\"\(f(x + 26))\" y=\"\(f(ly + 4))\">\(Self.escape(s.name))</text>\n"
        }
        return out
    }

    /// Writes the SVG to `url` atomically (`DurableFile`: a failed write leaves the previous chart and no temporary).
    public func write(to url: URL) throws {
        try DurableFile.write(Data(svg.utf8), to: url)
    }

    static func colour(_ k: Int) -> String { palette[k % palette.count] }

    /// A tick label: 0, fixed-point with 0–3 decimals by magnitude, or scientific for very large or small values.
    static func number(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e4 || a < 1e-3 { return String(format: "%.1e", v) }
        if a >= 100 { return String(format: "%.0f", v) }
        if a >= 1 { return String(format: "%.2f", v) }
        return String(format: "%.3f", v)
    }

    /// `text` with the XML special characters escaped.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
