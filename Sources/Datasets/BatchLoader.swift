import Boxes
import Foundation
import Imaging
import Seeding

/// Turns a dataset into batches: decode, augment, letterbox, normalise, with background prefetching.
///
/// Determinism: the order of epoch `e` is a permutation seeded by `(seed, e)`, and the augmentation of an image
/// (with its mosaic's, copy-paste's and mixup's choice of other images) is seeded by `(seed, e, image index)`, so
/// `makeBatch(epoch:step:)` is a pure function of its arguments and a run resumed with `start(epoch:step:)` sees
/// exactly the batches the uninterrupted run would have seen. Mosaics, copy-pastes and mixups stop at batch
/// `mosaicEnd` (counted over epochs), which the training loop may move while batches are prefetched.
///
/// Prefetching: `start` launches `workers` threads; each takes the next batch number, prepares the whole batch
/// and puts it in a buffer of `prefetch` batches; `next()` hands them out in order and counts the time it waits.
/// Call `stop()` when done: running workers keep the loader alive.
public final class BatchLoader: @unchecked Sendable {
    /// ImageNet channel mean used for normalisation (torchvision's).
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    /// ImageNet channel standard deviation used for normalisation.
    public static let std: [Float] = [0.229, 0.224, 0.225]

    /// The dataset read from.
    public let dataset: DetectionDataset
    /// The options in force.
    public let options: BatchLoaderOptions

    /// Per image, its rectangular input (`InputTransform.rectangle`); empty unless `rectangular`.
    let rectangles: [(width: Int, height: Int)]
    private let cond = NSCondition()
    private var cache: [Int: DecodedImage] = [:]
    private var skipped = Set<Int>(), warned = Set<Int>()
    // Prefetch state, guarded by `cond`.
    private var startEpoch = 0, startStep = 0
    private var produced = 0, consumed = 0
    private var ready: [Int: Result<Batch, Error>] = [:]
    private var running = false, activeWorkers = 0, generation = 0
    private var stats = BatchLoaderStatistics()
    private var startTime = Date()
    private var mosaicEndBatch = Int.max

    /// A loader over `dataset`; nothing runs until `start` (or a direct `makeBatch`).
    public init(dataset: DetectionDataset, options: BatchLoaderOptions = BatchLoaderOptions()) {
        precondition(options.batchSize > 0 && options.inputSize > 0 && options.prefetch > 0 && options.workers > 0,
                     "BatchLoader: batchSize, inputSize, prefetch and workers must be positive")
        self.dataset = dataset
        self.options = options
        rectangles = options.rectangular ? dataset.images.map { r in
            InputTransform.rectangle(width: max(1, r.width), height: max(1, r.height), inputSize: options.inputSize)
        } : []
    }

    deinit { stop() }

    /// Batches per epoch (`⌊n / B⌋` with `dropLast`, else `⌈n / B⌉`; across processes see `DataShard.steps`).
    public var batchesPerEpoch: Int {
        options.shard.steps(count: dataset.images.count, batchSize: options.batchSize, dropLast: options.dropLast)
    }

    /// The image indices of epoch `epoch`, in the order they are served (with `rectangular`, groups of similar
    /// aspect ratio: `rectangularOrder(epoch:)`).
    public func order(epoch: Int) -> [Int] {
        let n = dataset.images.count
        if options.rectangular { return rectangularOrder(epoch: epoch) }
        guard options.shuffle else { return Array(0..<n) }
        var rng = SplitMix64(mixing: options.seed, 0x0D0E, UInt64(epoch))
        return rng.permutation(n)
    }

    /// The first batch, counted over epochs (`epoch × batchesPerEpoch + step`), whose samples are single images even
    /// with `AugmentConfig.mosaicProbability` above 0, with nothing pasted (`copyPasteProbability`) and not blended
    /// (`mixupProbability`): the closing phase of a schedule (ultralytics' `close_mosaic`, which ends all three).
    /// `Int.max` (the default): mosaics to the end. Batches already prefetched keep what they were made with.
    public var mosaicEnd: Int {
        get { cond.lock(); defer { cond.unlock() }; return mosaicEndBatch }
        set { cond.lock(); mosaicEndBatch = newValue; cond.unlock() }
    }

    /// Prepares batch `step` of epoch `epoch` on the calling thread; deterministic.
    /// Throws on an unreadable image unless `skipBadImages`, in which case it is left out and counted.
    public func makeBatch(epoch: Int, step: Int) throws -> Batch {
        precondition(step >= 0 && step < max(1, batchesPerEpoch), "BatchLoader: step \(step) outside the epoch")
        let positions = options.shard.positions(step: step, count: dataset.images.count, batchSize: options.batchSize,
                                                dropLast: options.dropLast)
        let indices = order(epoch: epoch)[positions]
        let s = options.inputSize
        let (h, w) = options.rectangular ? shape(of: Array(indices)) : (s, s)
        let plane = 3 * h * w
        var samples: [(Int, PreparedSample)] = []
        let closing = epoch * batchesPerEpoch + step >= mosaicEnd
        for index in indices {
            guard let d = try decoded(index) else { continue }
            samples.append((index, try sample(index, d, epoch: epoch, shape: (w, h), closing: closing)))
        }
        var floats = [Float](repeating: 0, count: samples.count * plane)
        floats.withUnsafeMutableBufferPointer { buf in
            for (k, sample) in samples.enumerated() {
                sample.1.image.writeCHWFloat(into: buf.baseAddress! + k * plane, mean: Self.mean, std: Self.std)
            }
        }
        return Batch(images: floats, count: samples.count, inputSize: s, inputHeight: h, inputWidth: w,
                     targets: samples.map { ImageTargets($0.1.annotations) },
                     imageIDs: samples.map { dataset.images[$0.0].id }, transforms: samples.map(\.1.transform),
                     epoch: epoch, step: step)
    }

    /// The longer side a decoded image needs: the input side times the largest augmentation scale. JPEG decoding
    /// may use DCT scaling down to it (`DecodeOptions.minimumLongSide`) unless `reducedDecoding` is off.
    public var minimumLongSide: Int? {
        options.reducedDecoding ? Int((Double(options.inputSize) * max(1, options.augment.maxScale)).rounded(.up)) : nil
    }

    /// The decoded image `index` (from the cache when enabled), or nil when it is bad and skipped. Decoder warnings
    /// go to `onDecodeWarning` once per image.
    func decoded(_ index: Int) throws -> DecodedImage? {
        if options.cacheImages {
            cond.lock()
            let hit = cache[index]
            cond.unlock()
            if let hit { return hit }
        }
        let record = dataset.images[index]
        let image: DecodedImage
        do {
            image = try ImageFile.decode(record.file, options: DecodeOptions(maxPixels: options.maxPixels,
                                                                             minimumLongSide: minimumLongSide))
        } catch {
            guard options.skipBadImages else {
                throw DatasetError.badImage(file: record.file.path,
                                            reason: ImageHeader.reason(error, file: record.file.path))
            }
            cond.lock()
            skipped.insert(index)
            cond.unlock()
            return nil
        }
        if !image.warnings.isEmpty {
            cond.lock()
            let first = warned.insert(index).inserted
            cond.unlock()
            if first { options.onDecodeWarning?("\(record.file.path): " + image.warnings.joined(separator: "; ")) }
        }
        if options.cacheImages {
            cond.lock()
            cache[index] = image
            cond.unlock()
        }
        return image
    }

    /// Images skipped as unreadable so far (with `skipBadImages`).
    public var skippedImageCount: Int {
        cond.lock(); defer { cond.unlock() }
        return skipped.count
    }

    /// Starts (or restarts) prefetching so that `next()` returns batch `step` of `epoch` first, then continues
    /// through the following steps and epochs. Resets the statistics.
    public func start(epoch: Int = 0, step: Int = 0) {
        stop()
        precondition(batchesPerEpoch > 0, "BatchLoader: the dataset has fewer images than one batch")
        cond.lock()
        startEpoch = epoch
        startStep = step
        produced = 0
        consumed = 0
        ready = [:]
        running = true
        generation += 1
        stats = BatchLoaderStatistics()
        startTime = Date()
        let myGeneration = generation
        activeWorkers = options.workers
        cond.unlock()
        for _ in 0..<options.workers {
            let t = Thread { [self] in workerLoop(generation: myGeneration) }
            t.name = "BatchLoader worker"
            t.start()
        }
    }

    /// The batch number `k` after the start position as `(epoch, step)`.
    private func position(_ k: Int) -> (Int, Int) {
        let flat = startStep + k, bpe = batchesPerEpoch
        return (startEpoch + flat / bpe, flat % bpe)
    }

    private func workerLoop(generation myGeneration: Int) {
        while true {
            cond.lock()
            while running && generation == myGeneration && produced - consumed >= options.prefetch { cond.wait() }
            guard running && generation == myGeneration else {
                activeWorkers -= 1
                cond.broadcast()
                cond.unlock()
                return
            }
            let k = produced
            produced += 1
            cond.unlock()
            let (e, s) = position(k)
            let result = Result { try makeBatch(epoch: e, step: s) }
            cond.lock()
            if generation == myGeneration { ready[k] = result }
            cond.broadcast()
            cond.unlock()
        }
    }

    /// The next batch in order (blocks until it is ready); rethrows a worker's error for that batch.
    public func next() throws -> Batch {
        cond.lock()
        defer { cond.unlock() }
        precondition(running, "BatchLoader.next() before start()")
        let waitStart = Date()
        while ready[consumed] == nil { cond.wait() }
        stats.waitSeconds += Date().timeIntervalSince(waitStart)
        let result = ready.removeValue(forKey: consumed)!
        consumed += 1
        cond.broadcast()
        let batch = try result.get()
        stats.batches += 1
        stats.images += batch.count
        return batch
    }

    /// Stops the background threads and waits for them to finish their current batch.
    public func stop() {
        cond.lock()
        running = false
        cond.broadcast()
        while activeWorkers > 0 { cond.wait() }
        ready = [:]
        cond.unlock()
    }

    /// Consumer waiting time, batches served and skipped images since `start`.
    public var statistics: BatchLoaderStatistics {
        cond.lock(); defer { cond.unlock() }
        var s = stats
        s.elapsedSeconds = Date().timeIntervalSince(startTime)
        s.skippedImages = skipped.count
        s.warnedImages = warned.count
        return s
    }
}
