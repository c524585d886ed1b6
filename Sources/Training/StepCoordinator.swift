import DetectorModel
import Distributed
import Foundation
import NeuralNet

/// Counts of one step that the processes of a data-parallel job sum before the backward pass.
public struct StepCounts: Equatable, Sendable {
    /// Processes that skip the step (a non-finite output or loss term): any skips, all skip.
    public var skipped: Int
    /// Dense positives and set-head ground-truth boxes: the loss normalisers of the global batch.
    public var positives: Int, boxes: Int
    /// Ground-truth boxes that found no hypothesis.
    public var unmatchedBoxes: Int
    /// The divisors of the training-only groups of set hypotheses, in their order (`TrainStep+Hybrid.swift`): the
    /// one-to-many group's repeated boxes, the denoising group's positives. Every process sends as many.
    public var groups: [Int]

    /// The counts.
    public init(skipped: Int, positives: Int, boxes: Int, unmatchedBoxes: Int, groups: [Int] = []) {
        self.skipped = skipped; self.positives = positives; self.boxes = boxes; self.unmatchedBoxes = unmatchedBoxes
        self.groups = groups
    }

    /// All counts 0.
    public static let zero = StepCounts(skipped: 0, positives: 0, boxes: 0, unmatchedBoxes: 0)

    /// The counts of `a` and `b` added field by field (`groups` place by place, the shorter one read as zeros).
    public static func + (a: StepCounts, b: StepCounts) -> StepCounts {
        let groups = (0..<max(a.groups.count, b.groups.count)).map {
            ($0 < a.groups.count ? a.groups[$0] : 0) + ($0 < b.groups.count ? b.groups[$0] : 0)
        }
        return StepCounts(skipped: a.skipped + b.skipped, positives: a.positives + b.positives,
                          boxes: a.boxes + b.boxes, unmatchedBoxes: a.unmatchedBoxes + b.unmatchedBoxes, groups: groups)
    }
}

/// What `TrainStep` asks of the other processes in a data-parallel run (DETR and Detectron2 normalise by the
/// boxes counted over all workers in the same way): the global counts before the backward pass, then the sum of the
/// gradients and of the loss terms after it. Every process calls both in the same order.
public protocol StepCoordinator: AnyObject {
    /// The sums of `local` over the processes.
    func combine(_ local: StepCounts) throws -> StepCounts
    /// Sums the parameters' gradients and `terms` (the loss terms, already normalised globally) over the processes.
    func reduce(_ parameters: [Parameter], terms: inout [Double]) throws
}

/// The `StepCoordinator` of `mpirun`: Open MPI allreduces through `Distributed.DataParallel`. With `overlap` (the
/// default) the detector reports each layer's finished gradients during backward (`GradientReadiness`) and the
/// gradient buckets' allreduces start then (`GradientExchange`); `reduce` waits for them. Without, the buckets are
/// summed after backward.
final class MPIStepCoordinator: StepCoordinator {
    let parallel: DataParallel
    /// The overlapped exchange, once `attach(to:)` has installed it; nil: blocking sums after backward.
    private(set) var exchange: GradientExchange?
    /// Seconds after backward until the summed gradients are in place (the communication backward did not hide),
    /// seconds inside backward spent packing, starting and testing buckets, and steps reduced (for the closing report).
    private(set) var exposedSeconds = 0.0, insideBackwardSeconds = 0.0, gradientCalls = 0

    init(_ parallel: DataParallel) { self.parallel = parallel }

    /// Makes `detector`'s backward start the buckets as their gradients become final.
    func attach(to detector: Detector) {
        let exchange = parallel.exchange(detector.parameters)
        self.exchange = exchange
        let communicator = parallel.communicator
        detector.gradientReadiness = GradientReadiness { [unowned self] parameters in
            let start = DispatchTime.now().uptimeNanoseconds
            do { try exchange.ready(parameters) } catch {
                // Backward does not throw; an MPI failure here ends the job, as in synchronised BatchNorm.
                FileHandle.standardError.write(Data("error: rank \(communicator.rank): gradient allreduce: \(error)\n".utf8))
                communicator.abort(code: 71)
            }
            self.insideBackwardSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }

    func combine(_ local: StepCounts) throws -> StepCounts {
        var v = ([local.skipped, local.positives, local.boxes, local.unmatchedBoxes] + local.groups).map(Double.init)
        try parallel.communicator.sum(&v)
        let n = v.map { Int($0.rounded()) }
        return StepCounts(skipped: n[0], positives: n[1], boxes: n[2], unmatchedBoxes: n[3], groups: Array(n[4...]))
    }

    func reduce(_ parameters: [Parameter], terms: inout [Double]) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        if let exchange { try exchange.finish() } else { try parallel.sumGradients(parameters) }
        exposedSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        gradientCalls += 1
        try parallel.communicator.sum(&terms)
    }
}
