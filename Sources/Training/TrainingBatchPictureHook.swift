import Boxes
import Datasets
import Foundation
import Imaging
import Inference

/// `train_batch.png` in the run folder at the start of a fresh run: the first training batch as the network receives
/// it (augmentation, mosaics, pasted objects and mixups included, normalisation undone), up to 16 images in a grid,
/// each target box in its class colour and boxes the loss ignores in white, so that what augmentation does to a
/// dataset can be seen before minutes are spent on it (ultralytics writes `train_batch0.jpg` for the same reason). A
/// resumed run keeps the picture it has.
public final class TrainingBatchPictureHook: TrainerHook {
    /// The picture's file name in the run folder.
    public static let fileName = "train_batch.png"
    /// Images drawn at most.
    public static let maxImages = 16

    /// A training batch picture hook.
    public init() {}

    /// Writes the picture of the batch the run starts with, when it starts at step 0.
    public func beforeTraining(_ run: TrainingRun) throws {
        guard run.state.step == 0 else { return }
        let batch = try run.loader.makeBatch(epoch: run.state.epoch, step: run.state.stepInEpoch)
        guard batch.count > 0 else { return }
        try PNG.write(Self.picture(batch), to: run.folder.appendingPathComponent(Self.fileName), fast: true)
    }

    /// The images of `batch` (at most `maxImages`) in a grid of ⌈√n⌉ columns, 4 grey pixels apart, with their
    /// targets.
    public static func picture(_ batch: Batch) -> Image {
        let n = min(batch.count, maxImages), (w, h) = (batch.inputWidth, batch.inputHeight), gap = 4
        let columns = max(1, Int(Double(n).squareRoot().rounded(.up))), rows = max(1, (n + columns - 1) / columns)
        var grid = Image(width: columns * w + (columns - 1) * gap, height: rows * h + (rows - 1) * gap,
                         fill: (40, 40, 40))
        for k in 0..<n {
            let t = batch.targets[k]
            let objects = t.boxes.indices.filter { !t.ignore[$0] }
                .map { DetectedObject(box: t.boxes[$0], score: 1, classIndex: t.classes[$0]) }
            let ignored = t.boxes.indices.filter { t.ignore[$0] }.map { t.boxes[$0] }
            let tile = Overlay.draw(image(batch, k), detections: objects, classNames: [], groundTruth: ignored,
                                    labels: false)
            grid.paste(tile, x: (k % columns) * (w + gap), y: (k / columns) * (h + gap))
        }
        return grid
    }

    /// Image `k` of `batch` with the normalisation undone (`BatchLoader.mean`, `BatchLoader.std`).
    static func image(_ batch: Batch, _ k: Int) -> Image {
        let (w, h) = (batch.inputWidth, batch.inputHeight), plane = w * h
        var pixels = [UInt8](repeating: 0, count: 3 * plane)
        let base = k * 3 * plane
        for c in 0..<3 {
            let (mean, std) = (BatchLoader.mean[c], BatchLoader.std[c])
            for i in 0..<plane {
                let v = (batch.images[base + c * plane + i] * std + mean) * 255
                pixels[3 * i + c] = UInt8(max(0, min(255, v.rounded())))
            }
        }
        return Image(width: w, height: h, pixels: pixels)
    }
}
