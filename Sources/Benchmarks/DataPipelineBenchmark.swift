import Datasets
import Foundation
import Imaging

/// Throughput of the input pipeline: PNG decoding alone, then decode + augment + letterbox + normalise into
/// batches on the calling thread, then the same through `BatchLoader`'s background workers with an idle consumer,
/// then augment + batch from the decoded-image cache.
public enum DataPipelineBenchmark {
    /// Measured figures, images per second.
    public struct Result: Sendable, CustomStringConvertible {
        /// Images used.
        public var images = 0
        /// PNG decoding only, one thread.
        public var decodeImagesPerSecond = 0.0
        /// Decode + augment + batch on the calling thread (`makeBatch`).
        public var batchImagesPerSecond = 0.0
        /// The same through `BatchLoader.next()` with `workers` prefetch threads and an idle consumer.
        public var prefetchImagesPerSecond = 0.0
        /// Augment + batch from the decoded-image cache (second epoch with `cacheImages`), one thread.
        public var cachedImagesPerSecond = 0.0
        /// Prefetch threads used.
        public var workers = 0
        /// Share of the consumer's time spent waiting in the prefetch run (≈ 1 for an idle consumer).
        public var waitFraction = 0.0

        /// One line with every figure.
        public var description: String {
            String(format: "%d images: decode %.0f img/s; decode+augment+batch %.0f img/s (1 thread); "
                   + "prefetch with %d workers %.0f img/s (consumer waited %.0f%%); from the decoded cache %.0f img/s",
                   images, decodeImagesPerSecond, batchImagesPerSecond, workers, prefetchImagesPerSecond, 100 * waitFraction,
                   cachedImagesPerSecond)
        }
    }

    /// Runs the four measurements on the first `imageLimit` images of the dataset at `annotations` (training
    /// augmentation, `batchSize`, `inputSize`).
    public static func run(annotations: URL, imageLimit: Int = 96, batchSize: Int = 16, inputSize: Int = 320,
                           workers: Int = 2) throws -> Result {
        var ds = try DetectionDataset.load(annotations)
        ds.images = Array(ds.images.prefix(imageLimit))
        var result = Result()
        result.images = ds.images.count
        result.workers = workers

        var t = Date()
        for r in ds.images { _ = try ImageFile.read(r.file) }
        result.decodeImagesPerSecond = Double(ds.images.count) / Date().timeIntervalSince(t)

        var options = BatchLoaderOptions()
        options.batchSize = batchSize
        options.inputSize = inputSize
        options.workers = workers
        let loader = BatchLoader(dataset: ds, options: options)
        t = Date()
        var n = 0
        for step in 0..<loader.batchesPerEpoch { n += try loader.makeBatch(epoch: 0, step: step).count }
        result.batchImagesPerSecond = Double(n) / Date().timeIntervalSince(t)

        loader.start(epoch: 1)
        n = 0
        for _ in 0..<loader.batchesPerEpoch { n += try loader.next().count }
        let stats = loader.statistics
        loader.stop()
        result.prefetchImagesPerSecond = Double(n) / stats.elapsedSeconds
        result.waitFraction = stats.waitFraction

        options.cacheImages = true
        let cached = BatchLoader(dataset: ds, options: options)
        for step in 0..<cached.batchesPerEpoch { _ = try cached.makeBatch(epoch: 0, step: step) }
        t = Date()
        n = 0
        for step in 0..<cached.batchesPerEpoch { n += try cached.makeBatch(epoch: 1, step: step).count }
        result.cachedImagesPerSecond = Double(n) / Date().timeIntervalSince(t)
        return result
    }
}
