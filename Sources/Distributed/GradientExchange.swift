import NeuralNet

/// The gradient sum of one step, overlapped with the backward pass, as PyTorch's `DistributedDataParallel` reducer
/// (Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel Training", VLDB 2020, §3.2.3):
/// parameters are packed into buckets in reverse order (`DataParallel.buckets`), each bucket's non-blocking allreduce
/// (`Communicator.startSum`, `MPI_Iallreduce`) starts as soon as backward has produced all of its gradients
/// (`ready(_:)`, fed by `NeuralNet.GradientReadiness`), and `finish()` waits for every bucket before the optimizer
/// step.
///
/// Buckets start strictly in bucket order on every process (a later bucket that is ready first waits for the earlier
/// ones), because MPI requires every process to start its collectives in the same order (MPI-3.1 §5.12); DDP starts
/// its buckets in order for the same reason. The sums are those of `DataParallel.sumGradients` (an allreduce sums
/// each element over the processes; with two processes `a + b` is one rounding whatever the algorithm).
public final class GradientExchange {
    /// The processes.
    public let communicator: Communicator
    private struct Bucket {
        let parameters: [Parameter]
        let buffer: UnsafeMutableBufferPointer<Float>
        /// Parameters of this bucket whose gradients are not final yet in this step.
        var waitingFor: Int
        var sum: Communicator.PendingSum?
    }
    private var buckets: [Bucket]
    private var bucketOf: [ObjectIdentifier: Int] = [:]
    /// The next bucket to start.
    private var next = 0
    /// Buckets started during backward (by `ready(_:)`) and after it (by `finish()`), since the start.
    public private(set) var startedDuringBackward = 0, startedAfterBackward = 0

    /// An exchange of `parameters`' gradients over `communicator` in buckets of about `bucketBytes` (the first, which
    /// backward fills first, of about `firstBucketBytes`).
    public init(parameters: [Parameter], communicator: Communicator, bucketBytes: Int, firstBucketBytes: Int) {
        self.communicator = communicator
        buckets = DataParallel.buckets(parameters, bucketBytes: bucketBytes, firstBucketBytes: firstBucketBytes).map { ps in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: ps.reduce(0) { $0 + $1.grad.count })
            buffer.initialize(repeating: 0)
            return Bucket(parameters: ps, buffer: buffer, waitingFor: ps.count, sum: nil)
        }
        for (i, b) in buckets.enumerated() {
            for p in b.parameters { bucketOf[ObjectIdentifier(p)] = i }
        }
    }

    deinit {
        for b in buckets { b.buffer.deallocate() }
    }

    /// Number of buckets.
    public var bucketCount: Int { buckets.count }

    /// These parameters' gradients are final for this step: their buckets count them, the buckets now complete start
    /// (in order), and the sums in flight are tested so that they progress while backward goes on.
    public func ready(_ parameters: [Parameter]) throws {
        for p in parameters {
            guard let i = bucketOf[ObjectIdentifier(p)] else { continue }
            precondition(buckets[i].waitingFor > 0, "GradientExchange: \(p.name) reported ready twice in one step")
            buckets[i].waitingFor -= 1
        }
        while next < buckets.count && buckets[next].waitingFor == 0 {
            try start(next)
            startedDuringBackward += 1
        }
        for i in 0..<next {
            if let sum = buckets[i].sum { _ = try communicator.test(sum) }
        }
    }

    /// After backward: starts the buckets not started yet (parameters backward did not report), waits for every sum
    /// (under the watchdog), writes the sums into the gradients and makes ready for the next step.
    public func finish() throws {
        while next < buckets.count {
            try start(next)
            startedAfterBackward += 1
        }
        for i in buckets.indices {
            guard let sum = buckets[i].sum else { continue }
            try communicator.wait(sum)
            var offset = 0
            for p in buckets[i].parameters {
                let n = p.grad.count
                p.grad.data.withUnsafeMutableBufferPointer { g in
                    g.baseAddress!.update(from: buckets[i].buffer.baseAddress! + offset, count: n)
                }
                offset += n
            }
            buckets[i].sum = nil
            buckets[i].waitingFor = buckets[i].parameters.count
        }
        next = 0
    }

    /// Copies bucket `i`'s gradients into its buffer and starts their sum.
    private func start(_ i: Int) throws {
        var offset = 0
        for p in buckets[i].parameters {
            let n = p.grad.count
            p.grad.data.withUnsafeBufferPointer { g in
                (buckets[i].buffer.baseAddress! + offset).update(from: g.baseAddress!, count: n)
            }
            offset += n
        }
        buckets[i].sum = try communicator.startSum(buckets[i].buffer)
        next = i + 1
    }
}
