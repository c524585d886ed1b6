import Foundation

/// A precision–recall chart written as plain SVG text: axes with ticks at every 0.1, a light grid, one
/// polyline per curve and a legend giving each curve's AP (the mean of its sampled precision).
public struct PrecisionRecallPlot: Sendable {
    /// Title drawn above the plot area.
    public var title: String
    /// Curves in drawing order; the first ones get the strongest colours.
    public var curves: [PrecisionRecallCurve]
    /// Width of the picture in pixels (default 640).
    public var width: Int = 640
    /// Height of the picture in pixels (default 480).
    public var height: Int = 480

    /// A chart of the given curves.
    public init(title: String, curves: [PrecisionRecallCurve]) {
        self.title = title
        self.curves = curves
    }

    /// The usual chart of an evaluation: AP50 and AP75 averaged over categories (all areas, 100 detections),
    /// and, with `perCategory`, each category's AP50 curve.
    public init(evaluation: COCOEvaluation, perCategory: Bool = false) {
        var curves: [PrecisionRecallCurve] = []
        for iou in [0.5, 0.75] {
            if let c = evaluation.precisionRecallCurve(iouThreshold: iou) { curves.append(c) }
        }
        if perCategory {
            for k in evaluation.categories.indices {
                if let c = evaluation.precisionRecallCurve(iouThreshold: 0.5, categoryIndex: k) { curves.append(c) }
            }
        }
        self.init(title: "Precision–recall (COCO, area all, maxDets \(evaluation.parameters.maxDetections.last!))",
                  curves: curves)
    }

    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                                  "#7f7f7f", "#bcbd22", "#17becf"]

    /// The SVG document.
    public var svg: String {
        let left = 64.0, right = 24.0, top = 40.0, bottom = 52.0
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        func x(_ r: Double) -> String { String(format: "%.2f", left + r * plotW) }
        func y(_ p: Double) -> String { String(format: "%.2f", top + (1 - p) * plotH) }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
            viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Double(width) / 2)" y="24" text-anchor="middle" font-size="14">\(escape(title))</text>

            """
        for i in 0...10 {
            let v = Double(i) / 10
            let label = String(format: "%.1f", v)
            s += "<line x1=\"\(x(v))\" y1=\"\(y(0))\" x2=\"\(x(v))\" y2=\"\(y(1))\" stroke=\"#e5e5e5\"/>\n"
            s += "<line x1=\"\(x(0))\" y1=\"\(y(v))\" x2=\"\(x(1))\" y2=\"\(y(v))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(x(v))\" y=\"\(String(format: "%.2f", top + plotH + 18))\" text-anchor=\"middle\">\(label)</text>\n"
            s += "<text x=\"\(String(format: "%.2f", left - 8))\" y=\"\(y(v))\" text-anchor=\"end\" dy=\"4\">\(label)</text>\n"
        }
        s += "<rect x=\"\(x(0))\" y=\"\(y(1))\" width=\"\(String(format: "%.2f", plotW))\" "
            + "height=\"\(String(format: "%.2f", plotH))\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text x=\"\(String(format: "%.2f", left + plotW / 2))\" y=\"\(Double(height) - 12)\" "
            + "text-anchor=\"middle\">recall</text>\n"
        s += "<text transform=\"translate(18 \(String(format: "%.2f", top + plotH / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\">precision</text>\n"
        for (i, curve) in curves.enumerated() {
            let colour = Self.palette[i % Self.palette.count]
            let strokeWidth = i < 2 ? 2.5 : 1.2
            let points = zip(curve.recall, curve.precision).map { "\(x($0)),\(y(max(0, $1)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"\(strokeWidth)\" points=\"\(points)\"/>\n"
        }
        // Legend, bottom left (curves usually fall towards the bottom right).
        let rowH = 16.0
        let boxH = rowH * Double(curves.count) + 8
        let boxY = top + plotH - boxH - 8
        let boxW = min(plotW - 16, 8 + 7.0 * Double(curves.map { $0.label.count + 12 }.max() ?? 10) + 28)
        if !curves.isEmpty {
            s += "<rect x=\"\(String(format: "%.2f", left + 8))\" y=\"\(String(format: "%.2f", boxY))\" "
                + "width=\"\(String(format: "%.2f", boxW))\" height=\"\(String(format: "%.2f", boxH))\" "
                + "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n"
        }
        for (i, curve) in curves.enumerated() {
            let colour = Self.palette[i % Self.palette.count]
            let rowY = boxY + 4 + rowH * Double(i) + rowH / 2
            s += "<line x1=\"\(String(format: "%.2f", left + 14))\" y1=\"\(String(format: "%.2f", rowY))\" "
                + "x2=\"\(String(format: "%.2f", left + 34))\" y2=\"\(String(format: "%.2f", rowY))\" "
                + "stroke=\"\(colour)\" stroke-width=\"2.5\"/>\n"
            s += "<text x=\"\(String(format: "%.2f", left + 40))\" y=\"\(String(format: "%.2f", rowY + 4))\">"
                + "\(escape(curve.label)) = \(String(format: "%.3f", curve.averagePrecision))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// Writes `svg` to `url`.
    public func write(to url: URL) throws {
        do {
            try svg.write(to: url, atomically: true, encoding: .utf8)
        } catch {
            throw EvaluationError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
