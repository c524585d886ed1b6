import Boxes
import Foundation
import Imaging

extension ImageTargets {
    /// Ground truth from annotations (crowd boxes count as ignored, `isPartialRegion` entries become
    /// `partialRegions`), in the annotations' pixels.
    public init(_ annotations: [Annotation]) {
        let objects = annotations.filter { !$0.isPartialRegion }
        self.init(boxes: objects.map(\.box), classes: objects.map(\.classIndex),
                  ignore: objects.map { $0.ignore || $0.isCrowd },
                  partialRegions: annotations.filter(\.isPartialRegion).map {
                      PartialRegion(box: $0.box, classIndex: $0.classIndex)
                  })
    }
}

/// A batch ready for the network.
public struct Batch: Sendable {
    /// Images as `[N, 3, H, W]` row-major floats (`H = W = S` unless rectangular), normalised `(v / 255 − mean) / std`
    /// with the ImageNet mean and std (`BatchLoader.mean`, `BatchLoader.std`).
    public var images: [Float]
    /// Number of images `N` (smaller than the batch size only at the end of an epoch without `dropLast`, or when
    /// bad images were skipped).
    public var count: Int
    /// Input side `S` (the longer side of a rectangular batch).
    public var inputSize: Int
    /// The batch's input height `H` and width `W`: `S` both for a square batch; with `BatchLoaderOptions.rectangular`
    /// the shape of this batch (one for all its images, YOLOv5/ultralytics `rect=True`).
    public var inputHeight: Int, inputWidth: Int
    /// Per image: boxes, classes and ignore flags in input pixels.
    public var targets: [ImageTargets]
    /// Per image: the dataset's image id.
    public var imageIDs: [Int]
    /// Per image: the map from original to input pixels (`toOriginal` maps predictions back).
    public var transforms: [InputTransform]
    /// Epoch and step (0-based within the epoch) this batch belongs to.
    public var epoch: Int, step: Int

    /// Per image: the scale from original to input pixels (`transforms[i].scaleX`).
    public var scales: [Double] { transforms.map(\.scaleX) }
}

/// Options of a `BatchLoader`.
public struct BatchLoaderOptions: Sendable {
    /// Images per batch. Default 16.
    public var batchSize = 16
    /// Side of the square network input, or the longer side of a rectangular one. Default 320.
    public var inputSize = 320
    /// Rectangular batches (YOLOv5/ultralytics `rect=True`; `DetectorConfig.rectangular`): images are grouped by
    /// aspect ratio, each batch is padded to one `H × W` that holds all its images' rectangles
    /// (`InputTransform.rectangle`), and the order of the groups is shuffled each epoch. Default false: every image
    /// is letterboxed into `S × S`.
    public var rectangular = false
    /// Shuffle the order each epoch (a permutation seeded by `(seed, epoch)`). Default true.
    public var shuffle = true
    /// Augmentation; `AugmentConfig.none` for evaluation (letterbox only). Default: training augmentation.
    public var augment = AugmentConfig()
    /// Seed of the order and the augmentation.
    public var seed: UInt64 = 0
    /// Drop the last incomplete batch of an epoch. Default true.
    public var dropLast = true
    /// This process's part of each global batch in a data-parallel job. Default: one process.
    public var shard = DataShard()
    /// Batches prepared ahead of the consumer. Default 3.
    public var prefetch = 3
    /// Background threads preparing batches (each works on its own batch). Default 2 (this machine's cores).
    public var workers = 2
    /// Keep decoded images in memory after the first read (for small datasets). Default false.
    public var cacheImages = false
    /// Skip (and count) images that cannot be read instead of failing. Default false.
    public var skipBadImages = false
    /// Largest number of pixels accepted from one image header (PNG or JPEG, full size).
    public var maxPixels = PNG.defaultMaxPixels
    /// Decode JPEGs at a reduced size (DCT scaling by 1/2, 1/4 or 1/8) when the image's longer side is at least
    /// twice what the input needs (`BatchLoader.minimumLongSide`). Default true.
    public var reducedDecoding = true
    /// Called (from a worker thread) with a line naming the file and the decoder's warnings, once per image whose
    /// data the decoder recovered from (corrupt JPEG entropy data). Default nil: counted only.
    public var onDecodeWarning: (@Sendable (String) -> Void)?

    /// The defaults above.
    public init() {}
}

/// Loader throughput figures.
public struct BatchLoaderStatistics: Sendable, CustomStringConvertible {
    /// Batches handed to the consumer since `start`.
    public var batches = 0
    /// Images in those batches.
    public var images = 0
    /// Seconds the consumer spent waiting in `next()`.
    public var waitSeconds = 0.0
    /// Seconds since `start`.
    public var elapsedSeconds = 0.0
    /// Images skipped as unreadable (with `skipBadImages`), counted once per image.
    public var skippedImages = 0
    /// Images decoded with warnings (recovered corruption), counted once per image.
    public var warnedImages = 0

    /// Share of the consumer's time spent waiting for data (`waitSeconds / elapsedSeconds`).
    public var waitFraction: Double { elapsedSeconds > 0 ? waitSeconds / elapsedSeconds : 0 }

    /// One line: batches, images, waiting share, skipped images.
    public var description: String {
        String(format: "%d batches, %d images, consumer waited %.1f%% of %.2f s, %d bad image(s) skipped, "
                   + "%d decoded with warnings", batches, images, 100 * waitFraction, elapsedSeconds, skippedImages,
               warnedImages)
    }
}
