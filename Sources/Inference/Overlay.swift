import DetectorModel
import Boxes
import Datasets
import Foundation
import Imaging

/// Pictures of detections: boxes drawn on the image in their class colour with `class score` labels, and optionally
/// the ground truth in white underneath, so that misses and duplicates can be seen at a glance.
public enum Overlay {
    /// White, for ground-truth boxes.
    public static let groundTruthColor: (UInt8, UInt8, UInt8) = (255, 255, 255)

    /// `image` with `groundTruth` (white, thin) and `detections` (class colours, labelled) drawn on it.
    public static func draw(_ image: Image, detections: [DetectedObject], classNames: [String],
                            groundTruth: [Box] = [], labels: Bool = true) -> Image {
        var out = image
        let thick = max(1, min(image.width, image.height) / 300)
        for b in groundTruth {
            out.drawRectangle(x1: Int(b.x1.rounded()), y1: Int(b.y1.rounded()), x2: Int(b.x2.rounded()), y2: Int(b.y2.rounded()),
                              color: groundTruthColor, thickness: thick)
        }
        // Lowest scores first, so the most confident boxes and labels end on top.
        for d in detections.sorted(by: { $0.score < $1.score }) {
            let colour = Image.classColor(d.classIndex)
            let b = d.box
            out.drawRectangle(x1: Int(b.x1.rounded()), y1: Int(b.y1.rounded()), x2: Int(b.x2.rounded()), y2: Int(b.y2.rounded()),
                              color: colour, thickness: thick + 1)
            guard labels else { continue }
            let name = d.classIndex < classNames.count ? classNames[d.classIndex] : "\(d.classIndex)"
            let text = classNames.count > 1 ? "\(name) \(Int((d.score * 100).rounded()))" : "\(Int((d.score * 100).rounded()))"
            out.drawText(text, x: Int(b.x1.rounded()) + 1, y: max(0, Int(b.y1.rounded()) - 9), color: (0, 0, 0), background: colour)
        }
        return out
    }

    /// Overlay pictures `<folder>/<prefix><image stem>.png` of the first `count` predicted images of `dataset`:
    /// its ground truth in white, the detections of `head` scoring at least `threshold` in class colours. Used by
    /// `detector evaluate` and by training's validation overlays. Returns the files written.
    public static func write(_ predictions: [ImagePrediction], head: KeyPath<ImagePrediction, [DetectedObject]>,
                             dataset: DetectionDataset, count: Int, threshold: Double, to folder: URL,
                             prefix: String = "") throws -> [URL] {
        guard count > 0, !predictions.isEmpty else { return [] }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw InferenceError.io(path: folder.path, reason: "cannot create the overlay folder: \(error.localizedDescription)")
        }
        var recordOf: [Int: ImageRecord] = [:]
        for r in dataset.images { recordOf[r.id] = r }
        let names = dataset.categories.map(\.name)
        var files: [URL] = []
        for p in predictions.prefix(count) {
            guard let record = recordOf[p.imageID] else { continue }
            let image = try ImageFile.read(record.file)
            let picture = draw(image, detections: p[keyPath: head].filter { $0.score >= threshold }, classNames: names,
                               groundTruth: record.annotations.map(\.box))
            let stem = URL(fileURLWithPath: record.fileName).deletingPathExtension().lastPathComponent
            let url = folder.appendingPathComponent("\(prefix)\(stem).png")
            try PNG.write(picture, to: url, fast: true)
            files.append(url)
        }
        return files
    }
}
