import Distributed
import NeuralNet

/// Counts of one step that the processes of a data-parallel job sum before the backward pass.
public struct StepCounts: Equatable, Sendable {
    /// Processes that skip the step (a non-finite output or loss term): any skips, all skip.
    public var skipped: Int
    /// Dense positives and set-head ground-truth boxes: the loss normalisers of the global batch.
    public var positives: Int, boxes: Int
    /// Ground-truth boxes that found no hypothesis.
    public var unmatchedBoxes: Int

    /// The counts.
    public init(skipped: Int, positives: Int, boxes: Int, unmatchedBoxes: Int) {
        self.skipped = skipped; self.positives = positives; self.boxes = boxes; self.unmatchedBoxes = unmatchedBoxes
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

/// The `StepCoordinator` of `mpirun`: Open MPI allreduces through `Distributed.DataParallel`.
final class MPIStepCoordinator: StepCoordinator {
    let parallel: DataParallel
    /// Seconds in the gradient allreduce and its calls (for the closing report).
    private(set) var gradientSeconds = 0.0, gradientCalls = 0

    init(_ parallel: DataParallel) { self.parallel = parallel }

    func combine(_ local: StepCounts) throws -> StepCounts {
        var v = [local.skipped, local.positives, local.boxes, local.unmatchedBoxes].map(Double.init)
        try parallel.communicator.sum(&v)
        let n = v.map { Int($0.rounded()) }
        return StepCounts(skipped: n[0], positives: n[1], boxes: n[2], unmatchedBoxes: n[3])
    }

    func reduce(_ parameters: [Parameter], terms: inout [Double]) throws {
        let before = parallel.communicator.seconds
        try parallel.sumGradients(parameters)
        gradientSeconds += parallel.communicator.seconds - before
        gradientCalls += 1
        try parallel.communicator.sum(&terms)
    }
}
