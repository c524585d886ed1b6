import ArgumentParser
import DetectorModel
import Foundation
import Inference
import ONNXExport

/// `detector export`: a checkpoint as an ONNX model (opset 17), and optionally the Swift reference outputs that
/// `tools/check-onnx` holds onnxruntime against.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a checkpoint as an ONNX model (opset 17): both heads, query selection in the graph, BatchNorm folded.",
        discussion: """
            Input `images` [N, 3, S, S] (letterboxed, ImageNet-normalised); outputs dense_boxes, dense_scores (NMS left \
            to the caller) and, with a set head, set_boxes, set_scores (threshold only, no NMS) and set_anchors. \
            Example: detector export --model runs/train/best.safetensors --out model.onnx
            """)

    @Option(help: "Checkpoint (.safetensors) written by `detector train`.")
    var model: String
    @Option(help: "ONNX file to write.")
    var out = "model.onnx"
    @Option(parsing: .upToNextOption, help: "Also write the Swift network's outputs and detections for these PNG or JPEG files or folders into --reference-out.")
    var reference: [String] = []
    @Option(help: "Folder for the reference outputs (with --reference).")
    var referenceOut = "onnx-reference"
    @Option(help: "Score threshold of the reference detections (as `detector detect --threshold`).")
    var threshold = 0.3
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be in [0, 1], got \(threshold)") }
    }

    func run() throws {
        try reportingErrors {
            runtime.apply()
            // The weight average where the checkpoint has one, at the input side training chose, as `detect` and
            // `evaluate` use.
            let loaded = try InferenceInput.load(URL(fileURLWithPath: model), inputSize: nil).loaded
            let url = URL(fileURLWithPath: out)
            let bytes = try ONNXExporter.write(loaded.detector, to: url)
            let c = loaded.detector.config
            print("\(url.path): ONNX opset \(ONNXExporter.opset), \(bytes / 1024) KiB, input images [N, 3, \(c.inputSize), \(c.inputSize)], "
                + "set head \(c.setHead.rawValue)" + (c.setHead == .query ? " (\(c.querySelection.rawValue) selection)" : ""))
            guard !reference.isEmpty else { return }
            let files = try DetectRun.imageFiles(reference.map { URL(fileURLWithPath: $0) })
            let summary = try ParityReference.write(checkpoint: URL(fileURLWithPath: model), images: files, threshold: threshold,
                                                    to: URL(fileURLWithPath: referenceOut))
            print(String(format: "reference: %d images in %@; Detector.forward %.3f s (%.1f images/s)", summary.images,
                         referenceOut as NSString, summary.forwardSeconds, Double(summary.images) / max(summary.forwardSeconds, 1e-9)))
        }
    }
}
