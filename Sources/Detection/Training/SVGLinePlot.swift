import Foundation

/// A line chart written as a standalone SVG file: several named series, linear x, linear or log₁₀ y,
/// tick labels and a legend. Used for loss curves and validation AP over training.
public struct SVGLinePlot {
    /// One curve.
    public struct Series {
        /// Legend label.
        public var name: String
        /// Points in data coordinates; non-finite points are left out.
        public var points: [(x: Double, y: Double)]
        /// Creates a series.
        public init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
    }

    /// Title above the chart.
    public var title: String
    /// Label under the x axis.
    public var xLabel: String
    /// Label beside the y axis.
    public var yLabel: String
    /// Plot y on a log₁₀ scale (non-positive values are left out).
    public var logY: Bool
    /// The curves.
    public var series: [Series]

    /// Creates a chart.
    public init(title: String, xLabel: String, yLabel: String, logY: Bool = false, series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.logY = logY; self.series = series
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// The SVG document text (`width` × `height` pixels).
    public func render(width: Double = 720, height: Double = 420) -> String {
        let (left, right, top, bottom) = (70.0, 160.0, 40.0, 50.0)
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
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y0 -= 0.5; y1 += 0.5 }
        if !logY { let pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad }
        let sx: (Double) -> Double = { left + ($0 - x0) / (x1 - x0) * pw }
        let sy: (Double) -> Double = { top + ph - ($0 - y0) / (y1 - y0) * ph }
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left + pw / 2)" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>
        <rect x="\(left)" y="\(top)" width="\(pw)" height="\(ph)" fill="none" stroke="#444"/>

        """
        for i in 0...5 {
            let fx = x0 + (x1 - x0) * Double(i) / 5, fy = y0 + (y1 - y0) * Double(i) / 5
            let yText = logY ? Self.number(pow(10, fy)) : Self.number(fy)
            out += "<line x1=\"\(sx(fx))\" y1=\"\(top)\" x2=\"\(sx(fx))\" y2=\"\(top + ph)\" stroke=\"#eee\"/>\n"
            out += "<line x1=\"\(left)\" y1=\"\(sy(fy))\" x2=\"\(left + pw)\" y2=\"\(sy(fy))\" stroke=\"#eee\"/>\n"
            out += "<text x=\"\(sx(fx))\" y=\"\(top + ph + 16)\" text-anchor=\"middle\">\(Self.number(fx))</text>\n"
            out += "<text x=\"\(left - 6)\" y=\"\(sy(fy) + 4)\" text-anchor=\"end\">\(yText)</text>\n"
        }
        out += "<text x=\"\(left + pw / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        out += "<text transform=\"translate(16,\(top + ph / 2)) rotate(-90)\" text-anchor=\"middle\">"
            + "\(Self.escape(yLabel + (logY ? " (log scale)" : "")))</text>\n"
        for (k, s) in series.enumerated() {
            let colour = Self.palette[k % Self.palette.count]
            let path = pts[k].map { String(format: "%.1f,%.1f", sx($0.0), sy($0.1)) }.joined(separator: " ")
            if !path.isEmpty {
                out += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
            }
            let ly = top + 10 + Double(k) * 18
            out += "<line x1=\"\(left + pw + 12)\" y1=\"\(ly)\" x2=\"\(left + pw + 32)\" y2=\"\(ly)\" "
                + "stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            out += "<text x=\"\(left + pw + 38)\" y=\"\(ly + 4)\">\(Self.escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// Writes the SVG to `url` atomically.
    public func write(to url: URL) throws {
        do { try Data(render().utf8).write(to: url, options: .atomic) } catch {
            throw DetectionError.io(url.path, "cannot write the plot: \(error.localizedDescription)")
        }
    }

    static func number(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e4 || a < 1e-3 { return String(format: "%.1e", v) }
        if a >= 100 { return String(format: "%.0f", v) }
        if a >= 1 { return String(format: "%.2f", v) }
        return String(format: "%.3f", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
