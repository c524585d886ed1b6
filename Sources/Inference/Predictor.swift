import DetectorModel
import Boxes
import Datasets
import Foundation
import Imaging
import NeuralNet

/// Detections of one image from both heads.
public struct ImagePrediction: Sendable {
    /// The image's id (dataset id, or its position for loose files).
    public var imageID: Int
    /// Set head, thresholded, no NMS.
    public var set: [DetectedObject]
    /// Dense head after NMS.
    public var dense: [DetectedObject]

    /// A prediction from its parts.
    public init(imageID: Int, set: [DetectedObject], dense: [DetectedObject]) {
        self.imageID = imageID; self.set = set; self.dense = dense
    }
}

/// Runs a detector in inference mode (BatchNorm running statistics) over images: letterbox to the input size (or,
/// with `DetectorConfig.rectangular`, to each batch's rectangle),
/// forward in batches, post-process both heads, map boxes back to original pixels.
public final class Predictor {
    /// The network.
    public let detector: Detector
    /// Post-processing settings.
    public var postProcessor: PostProcessor
    /// Images per forward pass.
    public var batchSize: Int
    /// Decode JPEGs at a reduced size (DCT scaling) when their longer side is at least twice the input side.
    /// Default true.
    public var reducedDecoding = true
    /// Overlapping tiles for images larger than `tiling.side` (see `Tiling`); nil (default) letterboxes every image
    /// whole. With tiles, images are decoded at full size.
    public var tiling: Tiling?
    /// Test-time flips (`TestTimeFlips`): every image predicted once per pass and each head's passes merged by
    /// `passMerge` at IoU `postProcessor.nmsIoU`; nil (default) predicts each image once.
    public var flips: TestTimeFlips?
    /// Further networks of a model ensemble (YOLOv5's `--weights a.pt b.pt`): every image is predicted by `detector`
    /// and by each of these, each network at its own input side and with `flips`' passes, and all their passes are
    /// merged as flipped passes are. They must predict `detector`'s classes (`InferenceInput.loadEnsemble` checks).
    /// Default none.
    public var ensemble: [Detector] = []
    /// How the passes of `flips` and of `ensemble` are merged. Default `.match` (one to one, no NMS).
    public var passMerge = TestTimeFlips.Merge.match
    /// `detector`, then `ensemble`.
    public var networks: [Detector] { [detector] + ensemble }
    /// Passes an image gets: one per flip (or one) for each network.
    public var passCount: Int { (flips?.passes.count ?? 1) * networks.count }
    /// One line per image the decoder recovered from corruption (file and libjpeg-turbo's warnings), in the order
    /// met by `predict(dataset:)`.
    public private(set) var decodeWarnings: [String] = []

    /// A predictor for `detector`.
    public init(detector: Detector, postProcessor: PostProcessor = PostProcessor(), batchSize: Int = 16) {
        self.detector = detector
        self.postProcessor = postProcessor
        self.batchSize = max(1, batchSize)
    }

    /// Predictions for decoded images (ids given alongside), at full size.
    public func predict(_ images: [(id: Int, image: Image)]) -> [ImagePrediction] {
        predict(decoded: images.map { ($0.id, $0.image, ($0.image.width, $0.image.height)) })
    }

    /// Predictions for images that may have been decoded at a reduced size: boxes come back in `originalSize`
    /// pixels (the full-resolution size, `DecodedImage.originalWidth × originalHeight`).
    /// With `tiling`, an image larger than a tile is predicted tile by tile and the tiles' detections merged; with
    /// `flips`, each image is predicted once per pass (mirrored as the pass says, boxes mirrored back); with
    /// `ensemble`, by each network; and the passes merged (`TestTimeFlips.merge`).
    public func predict(decoded images: [(id: Int, image: Image, originalSize: (width: Int, height: Int))])
        -> [ImagePrediction]
    {
        guard passCount > 1 else { return predictOnce(detector, images) }
        let passes = networks.flatMap { model in
            (flips?.passes ?? [.identity]).map { predictPass(model, $0, images) }
        }
        let (iou, limit, merge) = (postProcessor.nmsIoU, postProcessor.maxDetections, passMerge)
        func merged(_ head: KeyPath<ImagePrediction, [DetectedObject]>, _ i: Int) -> [DetectedObject] {
            TestTimeFlips.merge(passes.map { $0[i][keyPath: head] }, by: merge, iou: iou, maxDetections: limit)
        }
        return images.indices.map { i in
            ImagePrediction(imageID: images[i].id, set: merged(\.set, i), dense: merged(\.dense, i))
        }
    }

    /// `model`'s predictions of `images` mirrored as `pass` says, their boxes mirrored back to the images' pixels.
    func predictPass(_ model: Detector, _ pass: TestTimeFlips.Pass,
                     _ images: [(id: Int, image: Image, originalSize: (width: Int, height: Int))])
        -> [ImagePrediction]
    {
        predictOnce(model, images.map { ($0.id, pass.apply($0.image), $0.originalSize) }).enumerated().map { i, p in
            let (w, h) = (Double(images[i].originalSize.width), Double(images[i].originalSize.height))
            func back(_ d: DetectedObject) -> DetectedObject {
                DetectedObject(box: pass.mapBack(d.box, width: w, height: h), score: d.score, classIndex: d.classIndex)
            }
            return ImagePrediction(imageID: p.imageID, set: p.set.map(back), dense: p.dense.map(back))
        }
    }

    /// One pass of `model` over `images`, in their order: tile by tile for images larger than `tiling`'s tiles, else
    /// whole.
    func predictOnce(_ model: Detector, _ images: [(id: Int, image: Image, originalSize: (width: Int, height: Int))])
        -> [ImagePrediction]
    {
        guard let tiling else { return predictWhole(model, images) }
        var out: [ImagePrediction] = []
        var whole: [(id: Int, image: Image, originalSize: (width: Int, height: Int))] = []
        for item in images {
            if tiling.isTiled(width: item.image.width, height: item.image.height) {
                out += predictWhole(model, whole)
                whole = []
                out.append(predictTiled(model, item, tiling))
            } else {
                whole.append(item)
            }
        }
        return out + predictWhole(model, whole)
    }

    /// One image cut into `tiling`'s tiles: each tile predicted as an image of its own (in batches), its boxes moved
    /// to the image's pixels, the tiles merged per head (`Tiling.merge`), then scaled to `originalSize`.
    func predictTiled(_ model: Detector, _ item: (id: Int, image: Image, originalSize: (width: Int, height: Int)),
                      _ tiling: Tiling) -> ImagePrediction
    {
        let tiles = tiling.tiles(width: item.image.width, height: item.image.height)
        let crops = tiles.enumerated().map { t, tile in
            (id: t, image: item.image.cropped(x: tile.x, y: tile.y, width: tile.width, height: tile.height),
             originalSize: (width: tile.width, height: tile.height))
        }
        let predictions = predictWhole(model, crops)
        let sx = Double(item.originalSize.width) / Double(item.image.width)
        let sy = Double(item.originalSize.height) / Double(item.image.height)
        func merged(_ head: KeyPath<ImagePrediction, [DetectedObject]>) -> [DetectedObject] {
            let perTile = predictions.map { p in
                p[keyPath: head].map { d in
                    let (dx, dy) = (Double(tiles[p.imageID].x), Double(tiles[p.imageID].y))
                    return DetectedObject(box: Box(x1: d.box.x1 + dx, y1: d.box.y1 + dy, x2: d.box.x2 + dx, y2: d.box.y2 + dy),
                                          score: d.score, classIndex: d.classIndex)
                }
            }
            return tiling.merge(perTile, tiles: tiles, maxDetections: postProcessor.maxDetections).map { d in
                let box = Box(x1: d.box.x1 * sx, y1: d.box.y1 * sy, x2: d.box.x2 * sx, y2: d.box.y2 * sy)
                return DetectedObject(box: box.clipped(width: Double(item.originalSize.width),
                                                       height: Double(item.originalSize.height)),
                                      score: d.score, classIndex: d.classIndex)
            }
        }
        return ImagePrediction(imageID: item.id, set: merged(\.set), dense: merged(\.dense))
    }

    /// Each image letterboxed whole for `model`, forward in batches of `batchSize`.
    func predictWhole(_ model: Detector, _ images: [(id: Int, image: Image, originalSize: (width: Int, height: Int))])
        -> [ImagePrediction]
    {
        let s = model.config.inputSize
        model.setTraining(false)
        defer { model.setTraining(true) }
        var out: [ImagePrediction] = []
        var start = 0
        while start < images.count {
            let chunk = images[start..<min(images.count, start + batchSize)]
            let (tensor, transforms) = Self.inputBatch(chunk.map(\.image), originalSizes: chunk.map(\.originalSize),
                                                       inputSize: s, rectangular: model.config.rectangular)
            let result = model.forward(tensor)
            for (j, item) in chunk.enumerated() {
                let set = postProcessor.setDetections(result, image: j, transform: transforms[j])
                let dense = postProcessor.denseDetections(result, image: j, decoder: model.decoder,
                                                          transform: transforms[j])
                out.append(ImagePrediction(imageID: item.id, set: set, dense: dense))
            }
            start += chunk.count
        }
        return out
    }

    /// The network input for `images`: each letterboxed to `inputSize` and normalised with the ImageNet mean and std
    /// (`BatchLoader`), `[N, 3, S, S]`, with the transforms that map predictions back to original pixels.
    /// `rectangular` (`DetectorConfig.rectangular`, YOLOv5/ultralytics' rectangular inference): `[N, 3, H, W]`, the
    /// per-axis largest of the images' rectangles (`InputTransform.rectangle`), so a batch of one image is its own
    /// rectangle; each image is letterboxed top-left into it.
    public static func inputBatch(_ images: [Image], originalSizes: [(width: Int, height: Int)]? = nil, inputSize s: Int,
                                  rectangular: Bool = false) -> (tensor: Tensor, transforms: [InputTransform])
    {
        let sizes: [(width: Int, height: Int)] = images.indices.map { originalSizes?[$0] ?? (images[$0].width, images[$0].height) }
        let (h, w) = rectangular
            ? InputTransform.batchShape(of: sizes.map { InputTransform.rectangle(width: $0.width, height: $0.height, inputSize: s) },
                                        inputSize: s)
            : (s, s)
        var tensor = Tensor(shape: [images.count, 3, h, w])
        var transforms: [InputTransform] = []
        tensor.data.withUnsafeMutableBufferPointer { p in
            for (j, image) in images.enumerated() {
                let prepared = Augmenter.letterbox(image, originalSize: originalSizes?[j], annotations: [], inputSize: s,
                                                   inputWidth: w, inputHeight: h)
                transforms.append(prepared.transform)
                prepared.image.writeCHWFloat(into: p.baseAddress! + j * 3 * h * w, mean: BatchLoader.mean, std: BatchLoader.std)
            }
        }
        return (tensor, transforms)
    }

    /// Predictions for every image of a dataset, decoded `batchSize` at a time. Unreadable images throw, or with
    /// `skipBadImages` are left out and counted in the returned `skipped`.
    public func predict(dataset: DetectionDataset, skipBadImages: Bool = false,
                        progress: ((Int, Int) -> Void)? = nil) throws -> (predictions: [ImagePrediction], skipped: Int) {
        var out: [ImagePrediction] = []
        var skipped = 0
        var start = 0
        let records = dataset.images
        while start < records.count {
            var chunk: [(id: Int, image: Image, originalSize: (width: Int, height: Int))] = []
            for r in records[start..<min(records.count, start + batchSize)] {
                do {
                    let d = try decode(r.file)
                    chunk.append((r.id, d.image, (d.originalWidth, d.originalHeight)))
                } catch {
                    if skipBadImages { skipped += 1 } else { throw error }
                }
            }
            out += predict(decoded: chunk)
            start += batchSize
            progress?(min(start, records.count), records.count)
        }
        return (out, skipped)
    }

    /// Decodes `file` no smaller than the largest input needs (when `reducedDecoding` and no `tiling`), recording
    /// decoder warnings.
    public func decode(_ file: URL) throws -> DecodedImage {
        let side = networks.map(\.config.inputSize).max()!
        let d = try ImageFile.decode(file, options: DecodeOptions(
            minimumLongSide: reducedDecoding && tiling == nil ? side : nil))
        if !d.warnings.isEmpty { decodeWarnings.append("\(file.path): " + d.warnings.joined(separator: "; ")) }
        return d
    }
}
