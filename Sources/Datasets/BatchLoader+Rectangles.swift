import Seeding

extension BatchLoader {
    /// The epoch order of rectangular batches (YOLOv5/ultralytics `rect=True`): the images sorted by aspect ratio
    /// (height / width, ties by index) are cut into groups of one global batch (`G = ranks × batchSize` consecutive
    /// images, `DataShard`), so each batch holds images of similar shape and needs little padding.
    ///
    /// Each epoch, seeded by `(seed, epoch)`: a random offset `o` in `0 … n mod G` chooses which `n mod G` images are
    /// left over (the first `o` and the last `n mod G − o` of the sorted list), the full groups are served in a
    /// random order, and the left-over images come last (the last, smaller batch, or dropped with `dropLast`), so a
    /// different share of extreme shapes is dropped each epoch. Without `shuffle` the offset is 0 and the groups keep
    /// the sorted order. Same seed and epoch, same batches.
    public func rectangularOrder(epoch: Int) -> [Int] {
        let n = dataset.images.count
        let g = options.shard.ranks * options.batchSize
        let sorted = (0..<n).sorted { a, b in
            let ra = Self.aspect(dataset.images[a]), rb = Self.aspect(dataset.images[b])
            return ra < rb || (ra == rb && a < b)
        }
        let full = n / g, rest = n % g
        var rng = SplitMix64(mixing: options.seed, 0x4EC7, UInt64(epoch))
        let offset = options.shuffle && rest > 0 ? rng.int(0...rest) : 0
        let groups = options.shuffle ? rng.permutation(full) : Array(0..<full)
        var order: [Int] = []
        order.reserveCapacity(n)
        for k in groups { order += sorted[(offset + k * g)..<(offset + (k + 1) * g)] }
        order += sorted[0..<offset]
        order += sorted[(offset + full * g)..<n]
        return order
    }

    /// The input `(height, width)` of a batch of the images `indices` (`InputTransform.batchShape` of their rectangles).
    public func shape(of indices: [Int]) -> (height: Int, width: Int) {
        InputTransform.batchShape(of: indices.map { rectangles[$0] }, inputSize: options.inputSize)
    }

    /// Height / width of a dataset image (1 for a record without a size).
    static func aspect(_ record: ImageRecord) -> Double {
        record.width > 0 && record.height > 0 ? Double(record.height) / Double(record.width) : 1
    }
}
