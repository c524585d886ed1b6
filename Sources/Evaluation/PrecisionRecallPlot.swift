import Foundation
import Reporting

/// A precision–recall chart (a `Reporting.LineChart`): axes with ticks at every 0.1, a light grid, one polyline per
/// curve and a legend giving each curve's AP (the mean of its sampled precision).
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

    /// The chart: recall on x and precision on y, both over [0, 1] with ticks every 0.1, the first two curves drawn
    /// thicker, the legend inside the plot area at the bottom left with each curve's AP.
    public var chart: LineChart {
        var c = LineChart(title: title, xLabel: "recall", yLabel: "precision", series: curves.enumerated().map { i, curve in
            LineChart.Series(name: curve.label + " = " + String(format: "%.3f", curve.averagePrecision),
                             points: zip(curve.recall, curve.precision).map { ($0, max(0, $1)) }, lineWidth: i < 2 ? 2.5 : 1.2)
        })
        (c.xRange, c.yRange, c.ticks, c.legend) = (0...1, 0...1, 10, .insideBottomLeft)
        (c.width, c.height) = (Double(width), Double(height))
        return c
    }

    /// The SVG document.
    public var svg: String { chart.svg }

    /// Writes `svg` to `url` atomically.
    public func write(to url: URL) throws { try chart.write(to: url) }
}
