import DetectorModel
import Boxes
import Foundation
import Imaging

/// `detector detect` as a library call: run a checkpoint over image files, keep detections above a threshold,
/// write one JSON file with every image's boxes and, optionally, overlay pictures.
public struct DetectRun {
    /// Which head's detections to report.
    public enum Head: String, Sendable, CaseIterable {
        /// Set head (no NMS).
        case set
        /// Dense head (NMS).
        case dense
    }

    /// The model.
    public var predictor: Predictor
    /// Minimum score reported.
    public var threshold: Double
    /// Where `threshold` came from.
    public var thresholdSource: ThresholdSource
    /// Head to report.
    public var head: Head

    /// Where a run's score threshold came from.
    public enum ThresholdSource: Equatable, Sendable {
        /// Given by the caller (`--threshold`).
        case given
        /// The head's best-F1 threshold on the validation split, stored in the checkpoint by training.
        case stored
        /// `ScoreThresholds.fallback`: none given and none stored.
        case fallback
    }

    /// A run over `checkpoint`; the set head is refused when the model has none. Without a `threshold` the run uses
    /// the head's best-F1 threshold stored in the checkpoint (`ScoreThresholds`), else `ScoreThresholds.fallback`.
    /// `inputSize` runs the network at another input side than the checkpoint's (`InferenceInput`). `ensemble`: further
    /// checkpoints whose passes are merged with `checkpoint`'s (`Predictor.ensemble`); the threshold stays the first's.
    public init(checkpoint: URL, ensemble: [URL] = [], threshold given: Double? = nil, head: Head, batchSize: Int = 16,
                inputSize: Int? = nil) throws {
        let members = try InferenceInput.loadEnsemble([checkpoint] + ensemble, inputSize: inputSize)
        let loaded = members[0].loaded
        if head == .set && loaded.detector.config.setHead == .none {
            throw InferenceError.invalidSetting(key: "head", reason: "\(checkpoint.path) has no set head; use --head dense")
        }
        let threshold: Double
        if let t = given {
            (threshold, thresholdSource) = (t, .given)
        } else if let t = try ScoreThresholds.stored(in: loaded.metadata, source: checkpoint.path)?.threshold(of: head) {
            (threshold, thresholdSource) = (t, .stored)
        } else {
            (threshold, thresholdSource) = (ScoreThresholds.fallback, .fallback)
        }
        var post = PostProcessor()
        post.scoreThreshold = max(threshold, 1e-6)
        predictor = Predictor(detector: loaded.detector, postProcessor: post, batchSize: batchSize)
        predictor.ensemble = members.dropFirst().map(\.loaded.detector)
        self.threshold = threshold
        self.head = head
    }

    /// Image files: the files given, and the `.png`, `.jpg` and `.jpeg` files of any folder given (sorted by name;
    /// each file's format is recognised from its bytes when read).
    public static func imageFiles(_ paths: [URL]) throws -> [URL] {
        var out: [URL] = []
        let fm = FileManager.default
        for p in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p.path, isDirectory: &isDir) else { throw InferenceError.io(path: p.path, reason: "no such file or folder") }
            if isDir.boolValue {
                let names = try fm.contentsOfDirectory(atPath: p.path)
                    .filter { ImageFile.hasImageExtension(URL(fileURLWithPath: $0)) }.sorted()
                guard !names.isEmpty else {
                    throw InferenceError.io(path: p.path, reason: "folder holds no .png, .jpg or .jpeg files")
                }
                out += names.map { p.appendingPathComponent($0) }
            } else {
                out.append(p)
            }
        }
        return out
    }

    /// What one image gave.
    public struct Result {
        /// The file.
        public var file: URL
        /// Image size.
        public var width: Int, height: Int
        /// Detections at or above the threshold, best first.
        public var detections: [DetectedObject]
    }

    /// Overlay picture files for `files` in `folder`: `<stem>.png`, with `_2`, `_3`, … appended when two inputs share
    /// a stem. Throws when a picture would overwrite one of the inputs (an output folder that holds the images).
    public static func overlayFiles(for files: [URL], in folder: URL) throws -> [URL] {
        let inputs = Set(files.map { $0.standardizedFileURL.path })
        var used: Set<String> = []
        return try files.map { f in
            let stem = f.deletingPathExtension().lastPathComponent
            var name = stem + ".png", n = 1
            while used.contains(name) { n += 1; name = "\(stem)_\(n).png" }
            used.insert(name)
            let url = folder.appendingPathComponent(name)
            if inputs.contains(url.standardizedFileURL.path) {
                throw InferenceError.invalidSetting(key: "out", reason: "the picture \(url.path) would overwrite an input image; "
                    + "choose another output folder")
            }
            return url
        }
    }

    /// Detects objects in `files`; with `overlays`, writes pictures there (names from `overlayFiles(for:in:)`).
    /// `progress` gets (done, total).
    public func run(_ files: [URL], overlays: URL? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> [Result] {
        var pictures: [URL] = []
        if let o = overlays {
            pictures = try Self.overlayFiles(for: files, in: o)
            try FileManager.default.createDirectory(at: o, withIntermediateDirectories: true)
        }
        var results: [Result] = []
        let names = predictor.detector.config.classNames
        var start = 0
        while start < files.count {
            let chunk = Array(files[start..<min(files.count, start + predictor.batchSize)])
            // Overlays are drawn on the full-size picture; without them JPEGs may decode at a reduced size.
            predictor.reducedDecoding = overlays == nil
            let images = try chunk.map { try predictor.decode($0) }
            let predictions = predictor.predict(decoded: images.enumerated().map {
                ($0.offset, $0.element.image, ($0.element.originalWidth, $0.element.originalHeight))
            })
            for (j, p) in predictions.enumerated() {
                let dets = (head == .set ? p.set : p.dense).filter { $0.score >= threshold }
                results.append(Result(file: chunk[j], width: images[j].originalWidth, height: images[j].originalHeight,
                                      detections: dets))
                if overlays != nil {
                    let picture = Overlay.draw(images[j].image, detections: dets, classNames: names)
                    try PNG.write(picture, to: pictures[start + j], fast: true)
                }
            }
            start += chunk.count
            progress?(start, files.count)
        }
        return results
    }

    /// The results as JSON: `[{"file", "width", "height", "detections": [{"box": [x1, y1, x2, y2], "score", "class",
    /// "class_id"}]}]`, boxes in pixels.
    public func json(_ results: [Result]) throws -> Data {
        let names = predictor.detector.config.classNames
        let arr: [[String: Any]] = results.map { r in
            ["file": r.file.path, "width": r.width, "height": r.height,
             "detections": r.detections.map { d -> [String: Any] in
                 ["box": [d.box.x1, d.box.y1, d.box.x2, d.box.y2].map { ($0 * 100).rounded() / 100 },
                  "score": (d.score * 10000).rounded() / 10000, "class": names[d.classIndex], "class_id": d.classIndex]
             }]
        }
        return try JSONSerialization.data(withJSONObject: arr, options: [.prettyPrinted, .sortedKeys])
    }
}
