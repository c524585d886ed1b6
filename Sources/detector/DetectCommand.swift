import ArgumentParser
import Inference
import Reporting
import Foundation

/// `detector detect`: boxes for new images, as JSON and as pictures.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect objects in PNG images (files or folders) with a trained checkpoint.",
        discussion: "Example: detector detect --model runs/train/best.safetensors photos/ --out detections")

    @Option(help: "Checkpoint (.safetensors) written by `detector train`.")
    var model: String
    @Argument(help: "PNG files or folders of PNG files.")
    var inputs: [String]
    @Option(help: "Minimum score reported.")
    var threshold = 0.3
    @Option(help: "Head: set (no NMS) or dense (NMS).")
    var head = DetectRun.Head.set
    @OptionGroup var tiling: TilingOptions
    @OptionGroup var runtime: RuntimeOptions
    @Option(help: "Folder for detections.json and the overlay pictures.")
    var out = "detections"
    @Flag(help: "Write only the JSON, no pictures.")
    var noOverlays = false

    func validate() throws {
        guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be in [0, 1], got \(threshold)") }
        guard !inputs.isEmpty else { throw ValidationError("give at least one image or folder") }
    }

    func run() throws {
        try reportingErrors {
            runtime.apply()
            let detect = try DetectRun(checkpoint: URL(fileURLWithPath: model), threshold: threshold, head: head)
            detect.predictor.tiling = tiling.tiling
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
                         results.count, boxes, threshold, head.rawValue as NSString, seconds, Double(results.count) / max(seconds, 1e-9)))
            print("detections: \(jsonURL.path)" + (noOverlays ? "" : "; pictures: \(outDir.path)/"))
        }
    }
}
