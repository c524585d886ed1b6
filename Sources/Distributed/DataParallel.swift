import Foundation
import NeuralNet

/// The gradient exchange of data-parallel training, as PyTorch's `DistributedDataParallel` (Li et al., VLDB 2020):
/// parameters are packed into buckets in reverse order (the order backward produces them), the first of about
/// `firstBucketBytes` (1 MiB, DDP's `kDefaultFirstBucketBytes`, so that communication starts early in backward), the
/// others of about `bucketBytes` (25 MiB, DDP's `bucket_cap_mb`), and each bucket is summed over the processes.
///
/// Two ways: `GradientExchange` starts each bucket's non-blocking allreduce during backward as soon as its gradients
/// are final (the default); `sumGradients(_:)` sums the buckets one after the other with blocking allreduces after
/// backward (`--no-overlap-allreduce`). Gradients are *summed*: the loss normalisers are the global counts
/// (positives, boxes over all processes), so the sum is the gradient of the global batch, exactly as one process
/// with the whole batch.
public final class DataParallel {
    /// The processes.
    public let communicator: Communicator
    /// Target bucket size in bytes (PyTorch's default 25 MiB).
    public let bucketBytes: Int
    /// Target size of the first bucket (PyTorch's default 1 MiB).
    public let firstBucketBytes: Int
    private var buffer: [Float] = []

    /// Data parallelism over `communicator` with buckets of about `bucketBytes`, the first of about
    /// `firstBucketBytes` (at most `bucketBytes`).
    public init(communicator: Communicator, bucketBytes: Int = 25 << 20, firstBucketBytes: Int = 1 << 20) {
        precondition(bucketBytes >= 4 && firstBucketBytes >= 4, "DataParallel: a bucket must hold a float")
        self.communicator = communicator
        self.bucketBytes = bucketBytes
        self.firstBucketBytes = min(firstBucketBytes, bucketBytes)
    }

    /// The buckets of `parameters` in reverse order: a bucket closes when it reaches `firstBucketBytes` (the first)
    /// or `bucketBytes` (the others; default: the first too).
    public static func buckets(_ parameters: [Parameter], bucketBytes: Int, firstBucketBytes: Int? = nil) -> [[Parameter]] {
        var out: [[Parameter]] = [], current: [Parameter] = [], bytes = 0
        for p in parameters.reversed() {
            current.append(p)
            bytes += 4 * p.grad.count
            if bytes >= (out.isEmpty ? firstBucketBytes ?? bucketBytes : bucketBytes) {
                out.append(current); current = []; bytes = 0
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// The overlapped exchange of `parameters`' gradients in this object's buckets.
    public func exchange(_ parameters: [Parameter]) -> GradientExchange {
        GradientExchange(parameters: parameters, communicator: communicator, bucketBytes: bucketBytes,
                         firstBucketBytes: firstBucketBytes)
    }

    /// Sums every parameter's gradient over the processes after backward, bucket by bucket (blocking allreduces).
    public func sumGradients(_ parameters: [Parameter]) throws {
        for bucket in Self.buckets(parameters, bucketBytes: bucketBytes, firstBucketBytes: firstBucketBytes) {
            let count = bucket.reduce(0) { $0 + $1.grad.count }
            if buffer.count < count { buffer = [Float](repeating: 0, count: count) }
            var offset = 0
            for p in bucket {
                buffer.replaceSubrange(offset..<(offset + p.grad.count), with: p.grad.data)
                offset += p.grad.count
            }
            try buffer.withUnsafeMutableBufferPointer { try communicator.sum(UnsafeMutableBufferPointer(rebasing: $0[0..<count])) }
            offset = 0
            for p in bucket {
                p.grad.data.replaceSubrange(0..<p.grad.count, with: buffer[offset..<(offset + p.grad.count)])
                offset += p.grad.count
            }
        }
    }

    /// Makes every process hold rank 0's parameter values and BatchNorm buffers (after initialisation or a resume).
    public func broadcast(_ parameters: [Parameter], batchNorms: [BatchNorm2D]) throws {
        var flat = parameters.flatMap(\.value.data) + batchNorms.flatMap { $0.runningMean.data + $0.runningVar.data }
        try communicator.broadcast(&flat)
        var offset = 0
        for p in parameters {
            p.value.data.replaceSubrange(0..<p.value.count, with: flat[offset..<(offset + p.value.count)])
            offset += p.value.count
        }
        for bn in batchNorms {
            let c = bn.channels
            bn.runningMean.data.replaceSubrange(0..<c, with: flat[offset..<(offset + c)])
            bn.runningVar.data.replaceSubrange(0..<c, with: flat[offset + c..<(offset + 2 * c)])
            offset += 2 * c
        }
    }

    /// FNV-1a (64 bit) of the parameters' names and float bit patterns: equal exactly when the weights are.
    public static func weightHash(_ parameters: [Parameter]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for p in parameters {
            for b in p.name.utf8 { mix(b) }
            for v in p.value.data {
                let bits = v.bitPattern
                mix(UInt8(truncatingIfNeeded: bits)); mix(UInt8(truncatingIfNeeded: bits >> 8))
                mix(UInt8(truncatingIfNeeded: bits >> 16)); mix(UInt8(truncatingIfNeeded: bits >> 24))
            }
        }
        return h
    }

    /// Throws `DistributedError.mismatch` unless every process holds bit-identical parameters (a hash allreduce:
    /// the minimum and maximum of the hashes agree).
    public func checkIdenticalWeights(_ parameters: [Parameter], at moment: String) throws {
        let h = Self.weightHash(parameters)
        let (lo, hi) = try communicator.range(h)
        guard lo == hi else {
            throw DistributedError.mismatch("weights differ across ranks at \(moment) (hashes from \(String(lo, radix: 16)) "
                + "to \(String(hi, radix: 16)); rank \(communicator.rank) has \(String(h, radix: 16)))")
        }
    }
}

/// Synchronised BatchNorm (`--sync-bn`, as PyTorch's `SyncBatchNorm`): per-channel sums over every process's batch.
extension Communicator: BatchNormSynchronizer {
    /// Sums `values` over the processes; a failure ends the job (BatchNorm's forward and backward do not throw).
    public func sumAcrossProcesses(_ values: inout [Double]) {
        do { try sum(&values) } catch {
            FileHandle.standardError.write(Data("error: rank \(rank): synchronised BatchNorm: \(error)\n".utf8))
            abort(code: 71)
        }
    }
}
