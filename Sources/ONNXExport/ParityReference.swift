import Boxes
import Datasets
import DetectorModel
import Foundation
import Imaging
import Inference
import NeuralNet

/// What the Swift network computes for some images, written at full precision so that another runtime (onnxruntime,
/// `tools/check-onnx`) can be held against it: the network input and, per graph output of `ONNXExporter`, the same
/// quantity from `Detector.forward`, plus the detections of both heads as `detector detect` reports them.
///
/// Folder contents: `manifest.json` (input size, classes, threshold, files, transforms, output shapes, forward
/// timing), `images.f32` (`[N, 3, S, S]` little-endian float32), one `<output>.f32` per float output (`set_anchors.i64`
/// int64), `detections.json` (per image, `set` and `dense` lists of `[x1, y1, x2, y2, score, class]` in original
/// pixels, the `Predictor` post-processing with `DetectRun`'s threshold).
public enum ParityReference {
    /// What was written.
    public struct Summary: Sendable {
        /// Images processed.
        public var images: Int
        /// Median seconds of one `Detector.forward` over all of them (three runs).
        public var forwardSeconds: Double
    }

    /// Runs `checkpoint` over `files` (PNG or JPEG) and writes the reference into `folder` (created).
    public static func write(checkpoint: URL, images files: [URL], threshold: Double, to folder: URL) throws -> Summary {
        // One load of the checkpoint (the weight average where it has one, as `detect`); the predictor reports both
        // heads whichever `head` the run names, and the dense head every network has.
        let run = try DetectRun(checkpoint: checkpoint, threshold: threshold, head: .dense)
        let detector = run.predictor.detector, config = detector.config
        let images = try files.map { try ImageFile.read($0) }
        let (input, transforms) = Predictor.inputBatch(images, inputSize: config.inputSize)
        detector.setTraining(false)
        defer { detector.setTraining(true) }
        var out = detector.forward(input)
        var times: [Double] = []
        for _ in 0..<3 {
            let start = Date()
            out = detector.forward(input)
            times.append(Date().timeIntervalSince(start))
        }
        let forwardSeconds = times.sorted()[1]
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try floats(input.data).write(to: folder.appendingPathComponent("images.f32"))
            var shapes: [String: [Int]] = ["images": input.shape]
            for (name, values, shape) in outputs(out, detector: detector, count: images.count) {
                try floats(values).write(to: folder.appendingPathComponent(name + ".f32"))
                shapes[name] = shape
            }
            if config.setHead == .query {
                let anchors = out.selected.flatMap { $0.map { Int64($0).littleEndian } }
                try anchors.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: folder.appendingPathComponent("set_anchors.i64"))
                shapes["set_anchors"] = [images.count, detector.hypotheses]
            }
            let predictions = run.predictor.predict(images.enumerated().map { ($0.offset, $0.element) })
            let detections: [[String: Any]] = predictions.map { p in
                ["set": rows(p.set, threshold), "dense": rows(p.dense, threshold)]
            }
            let manifest: [String: Any] = [
                "input_size": config.inputSize, "classes": config.classNames, "threshold": threshold,
                "files": files.map(\.path), "shapes": shapes, "forward_seconds": forwardSeconds,
                "set_head": config.setHead.rawValue,
                "transforms": transforms.map { t in
                    ["width": t.originalWidth, "height": t.originalHeight, "scale_x": t.scaleX, "scale_y": t.scaleY,
                     "offset_x": t.offsetX, "offset_y": t.offsetY]
                },
                "post_processing": ["dense_candidates": run.predictor.postProcessor.denseCandidates,
                                    "nms_iou": run.predictor.postProcessor.nmsIoU,
                                    "max_detections": run.predictor.postProcessor.maxDetections,
                                    "score_threshold": run.predictor.postProcessor.scoreThreshold],
            ]
            try json(manifest).write(to: folder.appendingPathComponent("manifest.json"))
            try json(detections).write(to: folder.appendingPathComponent("detections.json"))
        } catch {
            throw ExportError.io(path: folder.path, reason: "cannot write the parity reference: \(error.localizedDescription)")
        }
        return Summary(images: images.count, forwardSeconds: forwardSeconds)
    }

    /// The Swift values of the graph's float outputs: name, values, shape.
    static func outputs(_ out: DetectorOutput, detector: Detector, count n: Int) -> [(String, [Float], [Int])] {
        let (a, c) = (out.denseLogits.shape[1], out.denseLogits.shape[2])
        var boxes = [Float](), scores = [Float]()
        boxes.reserveCapacity(n * a * 4)
        for b in 0..<n {
            for i in 0..<a { boxes += detector.decoder.box(anchor: i, image: b, deltas: out.denseDeltas).xyxy.map(Float.init) }
        }
        scores = out.denseLogits.data.map { 1 / (1 + exp(-$0)) }
        var result: [(String, [Float], [Int])] = [
            (ONNXExporter.Name.denseBoxes, boxes, [n, a, 4]), (ONNXExporter.Name.denseScores, scores, [n, a, c]),
        ]
        let k = out.hypotheses
        guard k > 0 else { return result }
        let s = Double(detector.config.inputSize), c1 = out.setLogits.shape[1]
        var setBoxes = [Float](), setScores = [Float]()
        for r in 0..<(n * k) {
            let v = out.setBoxes[(r * 4)..<(r * 4 + 4)].map { Double($0) * s }
            setBoxes += Box(cx: v[0], cy: v[1], w: v[2], h: v[3]).xyxy.map(Float.init)
            let row = out.setLogits.data[(r * c1)..<((r + 1) * c1)].map(Double.init)
            let m = row.max() ?? 0, z = row.reduce(0) { $0 + exp($1 - m) }
            setScores += row.prefix(c1 - 1).map { Float(exp($0 - m) / z) }
        }
        result += [(ONNXExporter.Name.setBoxes, setBoxes, [n, k, 4]), (ONNXExporter.Name.setScores, setScores, [n, k, c1 - 1])]
        return result
    }

    /// Detections at or above `threshold` as `[x1, y1, x2, y2, score, class]`.
    static func rows(_ detections: [DetectedObject], _ threshold: Double) -> [[Double]] {
        detections.filter { $0.score >= threshold }.map { [$0.box.x1, $0.box.y1, $0.box.x2, $0.box.y2, $0.score, Double($0.classIndex)] }
    }

    static func floats(_ values: [Float]) -> Data { values.map(\.bitPattern.littleEndian).withUnsafeBufferPointer { Data(buffer: $0) } }

    static func json(_ object: Any) throws -> Data { try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) }
}
