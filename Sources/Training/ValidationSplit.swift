import Boxes
import Datasets
import Distributed
import Foundation
import Inference

/// A validation split across the processes of a data-parallel job: each process predicts a contiguous share of the
/// validation images and rank 0 gathers every share, in rank order, to evaluate the union.
///
/// Shares are made of whole batches of the predictor (`batchSize` images), so every batch a process forwards is one
/// of the batches a single process forwards over the whole split: the same images in the same places, hence the same
/// detections (bit for bit at `--threads 1`), and after gathering the same order. Rank `r` of `N` takes batches
/// `⌊r·B/N⌋ ..< ⌊(r+1)·B/N⌋` of the `B = ⌈images / batchSize⌉`.
final class ValidationSplit {
    let communicator: Communicator
    /// Seconds the gather may wait (the other processes predict their shares meanwhile).
    let timeout: Double

    init(communicator: Communicator, timeout: Double) {
        self.communicator = communicator
        self.timeout = timeout
    }

    /// The images (indices into the validation split's list) of `rank` of `ranks`.
    static func share(of count: Int, batchSize: Int, rank: Int, ranks: Int) -> Range<Int> {
        precondition(batchSize > 0 && ranks > 0 && (0..<ranks).contains(rank), "ValidationSplit: bad share")
        let batches = (count + batchSize - 1) / batchSize
        let first = rank * batches / ranks, end = (rank + 1) * batches / ranks
        return min(count, first * batchSize)..<min(count, end * batchSize)
    }

    /// This process's images.
    func share(of count: Int, batchSize: Int) -> Range<Int> {
        Self.share(of: count, batchSize: batchSize, rank: communicator.rank, ranks: communicator.size)
    }

    /// Every process's predictions in rank order on rank 0 (`MPI_Gatherv`), nil on the others.
    func gather(_ predictions: [ImagePrediction]) throws -> [ImagePrediction]? {
        let all = try communicator.gather(Self.encode(predictions), root: 0, timeout: timeout)
        return try all.map(Self.decode)
    }

    /// Predictions as doubles: per image its id, the set and dense detection counts, then per detection
    /// `x1, y1, x2, y2, score, class` (every value a `Double` or an integer below 2⁵³: exact).
    static func encode(_ predictions: [ImagePrediction]) -> [Double] {
        var out: [Double] = []
        for p in predictions {
            out += [Double(p.imageID), Double(p.set.count), Double(p.dense.count)]
            for d in p.set + p.dense { out += [d.box.x1, d.box.y1, d.box.x2, d.box.y2, d.score, Double(d.classIndex)] }
        }
        return out
    }

    /// The predictions `encode` wrote; throws on a truncated or malformed buffer.
    static func decode(_ values: [Double]) throws -> [ImagePrediction] {
        var out: [ImagePrediction] = [], i = 0
        func take(_ n: Int) throws -> ArraySlice<Double> {
            guard i + n <= values.count else {
                throw DistributedError.mismatch("gathered validation predictions end early (\(values.count) values)")
            }
            defer { i += n }
            return values[i..<(i + n)]
        }
        func count(_ v: Double) throws -> Int {
            guard v >= 0, v < 1e15, v == v.rounded() else { throw DistributedError.mismatch("bad count \(v) in gathered predictions") }
            return Int(v)
        }
        func detections(_ n: Int) throws -> [DetectedObject] {
            try (0..<n).map { _ in
                let d = Array(try take(6))
                return DetectedObject(box: Box(x1: d[0], y1: d[1], x2: d[2], y2: d[3]), score: d[4], classIndex: try count(d[5]))
            }
        }
        while i < values.count {
            let head = Array(try take(3))
            let (nSet, nDense) = (try count(head[1]), try count(head[2]))
            let set = try detections(nSet), dense = try detections(nDense)
            out.append(ImagePrediction(imageID: Int(head[0]), set: set, dense: dense))
        }
        return out
    }
}

/// On ranks other than 0: predicts this process's share of each validation rank 0 runs (`EvaluationHook` decides
/// when, by the same rules on every rank) and sends it to rank 0.
final class ValidationShareHook: TrainerHook {
    func afterEpoch(_ run: TrainingRun) throws {
        if let v = EvaluationHook.dueAfterEpoch(run) { _ = try run.predictValidation(v) }
    }
    func afterTraining(_ run: TrainingRun) throws {
        if let v = EvaluationHook.dueAfterTraining(run) { _ = try run.predictValidation(v) }
    }
}
