import ArgumentParser
import Evaluation
import Foundation

/// `detector evaluate`: COCO bbox metrics of a results file against ground truth, as pycocotools computes them.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "COCO box AP of a results file against ground truth (the same numbers as pycocotools).",
        discussion: """
            Prints the 12 statistics in pycocotools' layout and a per-category table.
            Example: detector evaluate --gt instances_val.json --results detections.json --json metrics.json --plot pr.svg
            """)

    @Option(name: .customLong("gt"), help: "Ground truth in COCO JSON (images, annotations with area/iscrowd, categories).")
    var groundTruth: String

    @Option(help: "Detections in COCO results format: a JSON array of {image_id, category_id, bbox, score}.")
    var results: String

    @Option(help: "Write the metrics (stats, per-category AP) to this JSON file.")
    var json: String?

    @Option(help: "Write a precision–recall chart (AP50 and AP75 curves) to this SVG file.")
    var plot: String?

    @Flag(help: "Add each category's AP50 curve to the chart.")
    var plotPerCategory = false

    func run() throws {
        let start = Date()
        let evaluator = COCOEvaluator(groundTruth: try COCOGroundTruth(contentsOf: URL(fileURLWithPath: groundTruth)))
        let detections = try COCOResults.load(contentsOf: URL(fileURLWithPath: results))
        let loaded = Date()
        let evaluation = try evaluator.evaluate(detections: detections, source: results)
        let evaluated = Date()
        if detections.isEmpty {
            print("note: \(results) holds no detections: AP and AR are 0 wherever there is ground truth "
                + "(pycocotools' loadRes rejects an empty list)")
        }
        print(evaluation.summary, terminator: "")
        print()
        print(evaluation.categoryTable, terminator: "")
        if let json {
            try evaluation.writeMetrics(to: URL(fileURLWithPath: json))
            print("metrics: \(json)")
        }
        if let plot {
            try PrecisionRecallPlot(evaluation: evaluation, perCategory: plotPerCategory)
                .write(to: URL(fileURLWithPath: plot))
            print("precision-recall chart: \(plot)")
        }
        print(String(format: "%d images, %d detections; load %.3f s, evaluate %.3f s", evaluation.imageCount,
                     evaluation.detectionCount, loaded.timeIntervalSince(start), evaluated.timeIntervalSince(loaded)))
    }
}
