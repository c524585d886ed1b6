import ArgumentParser
import Inference
import Reporting
import Foundation

/// `detector detect`: boxes for new images, as JSON and as pictures.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect objects in PNG or JPEG images (files or folders) with a trained checkpoint.",
        discussion: "Example: detector detect --model runs/train/best.safetensors photos/ --out detections")

    @Option(help: ArgumentHelp("Checkpoint (.safetensors) written by `detector train`; given again, a model ensemble "
        + "whose passes are merged (see --tta-merge), as YOLOv5's --weights a.pt b.pt."))
    var model: [String] = []
    @Argument(help: "PNG or JPEG files, or folders of them (.png, .jpg, .jpeg).")
    var inputs: [String]
    @Option(help: "Minimum score reported (default: the head's best-F1 threshold on validation, stored in the checkpoint by `detector train`; 0.3 when it holds none).")
    var threshold: Double?
    @Option(help: "Head: set (no NMS) or dense (NMS).")
    var head = DetectRun.Head.set
    @OptionGroup var input: InputOptions
    @OptionGroup var runtime: RuntimeOptions
    @Option(help: "Folder for detections.json and the overlay pictures.")
    var out = "detections"
    @Flag(help: "Write only the JSON, no pictures.")
    var noOverlays = false

    func validate() throws {
        if let t = threshold, !(0...1).contains(t) { throw ValidationError("--threshold must be in [0, 1], got \(t)") }
        guard !inputs.isEmpty else { throw ValidationError("give at least one image or folder") }
        guard !model.isEmpty else { throw ValidationError("give a checkpoint: --model runs/train/best.safetensors") }
        try input.checkMerge(models: model.count)
    }

    func run() throws {
        try reportingErrors {
            runtime.apply()
            let detect = try DetectRun(checkpoint: URL(fileURLWithPath: model[0]),
                                       ensemble: model.dropFirst().map { URL(fileURLWithPath: $0) },
                                       threshold: threshold, head: head, inputSize: input.inputSize)
            detect.predictor.tiling = input.tiling
            detect.predictor.flips = input.tta
            detect.predictor.passMerge = input.ttaMerge
            if let iou = input.nmsIoU { detect.predictor.postProcessor.nmsIoU = iou }
            switch detect.thresholdSource {
            case .stored: print(String(format: "score threshold %.2f: the %@ head's best F1 on validation, stored in %@ (--threshold to change)",
                                       detect.threshold, head.rawValue as NSString, model[0] as NSString))
            case .fallback: print(String(format: "score threshold %.2f (the checkpoint stores none; --threshold to change)", detect.threshold))
            case .given: break
            }
            if detect.predictor.passCount > 1, detect.thresholdSource != .given {
                print("note: that threshold was chosen on one pass of \(model[0]); the \(detect.predictor.passCount) "
                      + "merged passes score otherwise (`detector evaluate` with the same --model and --tta prints "
                      + "their best F1 threshold)")
            }
            let files = try DetectRun.imageFiles(inputs.map { URL(fileURLWithPath: $0) })
            let outDir = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
            let progress = ProgressReporter(total: files.count)
            let start = Date()
            let results = try detect.run(files, overlays: noOverlays ? nil : outDir) { done, total in
                progress.update(done: done, status: "images")
            }
            progress.finish()
            for w in detect.predictor.decodeWarnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            let seconds = Date().timeIntervalSince(start)
            let jsonURL = outDir.appendingPathComponent("detections.json")
            try detect.json(results).write(to: jsonURL, options: .atomic)
            let boxes = results.reduce(0) { $0 + $1.detections.count }
            print(String(format: "%d images, %d boxes (score ≥ %.2f, %@ head) in %.2f s: %.1f images/s",
                         results.count, boxes, detect.threshold, head.rawValue as NSString, seconds, Double(results.count) / max(seconds, 1e-9)))
            print("detections: \(jsonURL.path)" + (noOverlays ? "" : "; pictures: \(outDir.path)/"))
        }
    }
}
