import ArgumentParser
import Inference
import Reporting
import Evaluation
import Foundation

/// `detector evaluate`: COCO bbox metrics as pycocotools computes them, either of a results file against ground
/// truth (`--gt/--results`) or of a checkpoint run over a dataset (`--model/--data`).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "COCO box AP of a results file, or of a checkpoint on a dataset (the same numbers as pycocotools).",
        discussion: """
            Prints the 12 statistics in pycocotools' layout and a per-category table.
            Results file: detector evaluate --gt instances_val.json --results detections.json --json metrics.json --plot pr.svg
            Checkpoint:   detector evaluate --model runs/train/best.safetensors --data val.json --out eval --overlays 8
              writes <head>_results.json, <head>_metrics.json, <head>_pr.svg, the confusion matrix, the P/R/F1 chart and
              <head>_possible_missing.json (confident detections on no labelled object) per head and overlays/ pictures
              (ground truth white; in class colours, the predictions scoring at least the head's best-F1
              threshold on this data, which is printed).
            """)

    @Option(name: .customLong("gt"), help: "Ground truth in COCO JSON (with --results).")
    var groundTruth: String?

    @Option(help: "Detections in COCO results format: a JSON array of {image_id, category_id, bbox, score} (with --gt).")
    var results: String?

    @Option(help: "Write the metrics (stats, per-category AP) to this JSON file (with --results).")
    var json: String?

    @Option(help: "Write a precision–recall chart (AP50 and AP75 curves) to this SVG file (with --results).")
    var plot: String?

    @Flag(help: "Add each category's AP50 curve to the chart (with --results).")
    var plotPerCategory = false

    @Option(help: ArgumentHelp("Checkpoint (.safetensors) to run over --data; given again, a model ensemble whose "
        + "passes are merged (see --tta-merge), as YOLOv5's --weights a.pt b.pt."))
    var model: [String] = []

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Heads to evaluate: set (no NMS), dense (NMS) or both.")
    var head = ModelEvaluation.HeadChoice.both

    @Option(help: "Output folder for results, metrics, charts and overlays (with --model).")
    var out = "evaluation"

    @Option(help: "Overlay pictures of the first N images (with --model).")
    var overlays = 8

    @Option(help: ArgumentHelp("Detections per image evaluated (pycocotools' maxDets, at least 100): above 100, AP and "
        + "AR are reported at 100 (pycocotools' statistics) and at N, as crowds need."))
    var maxDets = 100

    @OptionGroup var input: InputOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard maxDets >= 100 else { throw ValidationError("--max-dets must be at least 100 (pycocotools' default), got \(maxDets)") }
        let fileMode = groundTruth != nil || results != nil
        let (data, images, skipBadImages) = (dataOptions.data, dataOptions.images, dataOptions.skipBadImages)
        let modelMode = !model.isEmpty || data != nil
        if fileMode && modelMode {
            throw ValidationError("use either --gt with --results (evaluate a results file) or --model with --data "
                + "(run a checkpoint), not both")
        }
        if fileMode {
            guard groundTruth != nil, results != nil else {
                throw ValidationError(groundTruth == nil ? "--results needs --gt (the ground truth)" : "--gt needs --results (the detections)")
            }
            if images != nil || skipBadImages {
                throw ValidationError("--images and --skip-bad-images apply to --model/--data, not to --gt/--results")
            }
        } else if modelMode {
            guard !model.isEmpty, data != nil else {
                throw ValidationError(model.isEmpty ? "--data needs --model (a checkpoint)"
                                          : "--model needs --data (a COCO dataset)")
            }
            try input.checkMerge(models: model.count)
            if json != nil || plot != nil || plotPerCategory {
                throw ValidationError("--json, --plot and --plot-per-category apply to --gt/--results; with --model "
                    + "the metrics and charts go to --out")
            }
            guard overlays >= 0 else { throw ValidationError("--overlays must be ≥ 0, got \(overlays)") }
        } else {
            throw ValidationError("give --gt and --results (evaluate a results file) or --model and --data (run a checkpoint)")
        }
    }

    func run() throws {
        try reportingErrors {
            if let data = dataOptions.data, !model.isEmpty { try runModel(data: data) } else { try runResultsFile() }
        }
    }

    func runResultsFile() throws {
        guard let groundTruth, let results else { return }
        let start = Date()
        let truth = try COCOGroundTruth(contentsOf: URL(fileURLWithPath: groundTruth))
        var parameters = COCOParameters()
        if maxDets > 100 { parameters.maxDetections.append(maxDets) }
        let evaluator = COCOEvaluator(groundTruth: truth, parameters: parameters)
        let detections = try COCOResults.load(contentsOf: URL(fileURLWithPath: results))
        let loaded = Date()
        let evaluation = try evaluator.evaluate(detections: detections, source: results)
        let evaluated = Date()
        if detections.isEmpty {
            print("note: \(results) holds no detections: AP and AR are 0 wherever there is ground truth "
                + "(pycocotools' loadRes rejects an empty list)")
        }
        let crowd = CrowdMetrics.evaluate(groundTruth: truth, detections: detections)
        printMetrics(evaluation, crowd)
        if let json {
            try evaluation.writeMetrics(to: URL(fileURLWithPath: json), crowd: crowd)
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

    /// pycocotools' 12 lines, the figures at `--max-dets` above 100, the crowd metrics and the per-category table.
    func printMetrics(_ evaluation: COCOEvaluation, _ crowd: CrowdMetrics) {
        print(evaluation.summary, terminator: "")
        if maxDets > 100 { print(evaluation.summary(maxDetections: maxDets), terminator: "") }
        print(" Crowd metrics (CrowdHuman, IoU 0.5): log-average miss rate MR⁻² = "
              + (crowd.missRate < 0 ? "-" : String(format: "%0.3f", crowd.missRate)) + ", Jaccard index JI = "
              + (crowd.jaccardIndex < 0 ? "-" : String(format: "%0.3f (score > %.1f)", crowd.jaccardIndex, crowd.jaccardThreshold)))
        print()
        print(evaluation.categoryTable, terminator: "")
    }

    func runModel(data: String) throws {
        var options = ModelEvaluation.Options(model: URL(fileURLWithPath: model[0]), data: URL(fileURLWithPath: data),
                                              out: URL(fileURLWithPath: out))
        options.ensemble = model.dropFirst().map { URL(fileURLWithPath: $0) }
        runtime.apply()
        options.images = dataOptions.imagesURL
        options.heads = head
        options.overlays = overlays
        options.maxDetections = maxDets
        options.tiling = input.tiling
        options.inputSize = input.inputSize
        options.nmsIoU = input.nmsIoU
        options.flips = input.tta
        options.passMerge = input.ttaMerge
        options.skipBadImages = dataOptions.skipBadImages
        var progress: ProgressReporter?
        let report = try ModelEvaluation.run(options) { done, total in
            if progress == nil { progress = ProgressReporter(total: total) }
            progress?.update(done: done, status: "images")
        }
        progress?.finish()
        for note in report.notes { print("note: \(note)") }
        for h in report.heads {
            print("== \(h.head.rawValue) head (\(report.merged ?? (h.head == .set ? "no NMS" : "NMS"))) ==")
            printMetrics(h.evaluation, h.crowd)
            print("results: \(h.resultsFile.path); metrics: \(h.metricsFile.path); chart: \(h.plotFile.path)")
            let d = h.diagnostics, best = d.bestF1
            print(String(format: "confusion matrix at score ≥ %.2f, IoU ≥ 0.5 (rows predicted, columns true):", d.confusionThreshold))
            print(d.confusionTable, terminator: "")
            print(String(format: "best F1 %.3f at score threshold %.2f (precision %.3f, recall %.3f); ", best.f1,
                         best.threshold, best.precision, best.recall)
                  + "confusion: \(h.confusionFile.path), \(h.confusionPlotFile.path); P/R/F1 chart: \(h.f1PlotFile.path)")
            if !h.overlayFiles.isEmpty {
                print(String(format: "%d overlay picture(s) in %@ (ground truth white, predictions with score ≥ %.2f)",
                             h.overlayFiles.count, h.overlayFiles[0].deletingLastPathComponent().path as NSString,
                             h.overlayThreshold))
            }
            print("detections " + h.errors.summary)
            print(h.possibleMissing.summary + "; list: \(h.possibleMissingFile.path)"
                  + (h.missingOverlayFiles.isEmpty ? "" : "; pictures of the \(h.missingOverlayFiles.count) image(s) "
                      + "with most: \(h.missingOverlayFiles[0].deletingLastPathComponent().path)"))
        }
        let n = report.imageCount - report.skippedImages
        print(String(format: "%d images predicted in %.2f s (%.1f images/s)", n, report.predictSeconds,
                     Double(n) / max(report.predictSeconds, 1e-9)))
    }
}
