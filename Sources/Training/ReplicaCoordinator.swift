import NeuralNet

/// What the replicas of a `ReplicaStep` share within a step: each one's counts and loss terms, their sums, and
/// which parameters each replica sums.
final class ReplicaExchange: @unchecked Sendable {
    /// Every replica's parameters, replica 0's first (the same names in the same order in each).
    let parameters: [[Parameter]]
    /// Replica `r` sums the gradients of the parameters `parts[r]`: contiguous ranges of about equal element counts.
    let parts: [Range<Int>]
    let barrier: ReplicaBarrier
    /// Slots written by one replica each before a barrier, and the sums the last arrival writes.
    var counts: [StepCounts], terms: [[Double]]
    var countSum = StepCounts.zero, termSum: [Double] = []

    init(parameters: [[Parameter]]) {
        let n = parameters.count
        precondition(Set(parameters.map(\.count)).count == 1, "ReplicaExchange: replicas with different parameters")
        self.parameters = parameters
        barrier = ReplicaBarrier(parties: n)
        counts = Array(repeating: countSum, count: n)
        terms = Array(repeating: [], count: n)
        let sizes = parameters[0].map(\.grad.count), total = sizes.reduce(0, +)
        var bounds = [0], running = 0
        for (i, size) in sizes.enumerated() {
            running += size
            while bounds.count < n && running * n >= total * bounds.count { bounds.append(i + 1) }
        }
        while bounds.count <= n { bounds.append(sizes.count) }
        bounds[n] = sizes.count
        parts = (0..<n).map { bounds[$0]..<max(bounds[$0], bounds[$0 + 1]) }
    }
}

/// The `StepCoordinator` of one replica of a `ReplicaStep`: the counts are summed over the replicas before backward
/// (a barrier), and after backward each replica sums its part of the parameters' gradients over all replicas into
/// replica 0's, `g₀ + g₁ + …` in replica order, once every replica has finished backward (a barrier); the loss terms
/// are summed in the same order. Replica 0 alone then takes the optimizer step (`ReplicaStep.run`).
final class ReplicaCoordinator: StepCoordinator {
    let exchange: ReplicaExchange
    /// This replica's index; 0 is the run's own step.
    let replica: Int

    init(exchange: ReplicaExchange, replica: Int) {
        self.exchange = exchange
        self.replica = replica
    }

    func combine(_ local: StepCounts) throws -> StepCounts {
        let e = exchange
        e.barrier.wait(arriving: { e.counts[replica] = local }) {
            e.countSum = e.counts.reduce(.zero, +)
        }
        return e.countSum   // as termSum: stable until every replica has passed the next barrier
    }

    func reduce(_ parameters: [Parameter], terms: inout [Double]) throws {
        let e = exchange
        let mine = terms
        e.barrier.wait(arriving: { e.terms[replica] = mine }) {
            e.termSum = e.terms.dropFirst().reduce(e.terms[0]) { sum, t in zip(sum, t).map { $0 + $1 } }
        }
        terms = e.termSum   // read after the barrier: written by the last arrival, not again before the next step
        // Every replica has finished backward: sum this replica's part into replica 0's gradients.
        let target = e.parameters[0]
        for i in e.parts[replica] {
            for r in 1..<e.parameters.count {
                let source = e.parameters[r][i]
                source.grad.data.withUnsafeBufferPointer { s in
                    target[i].grad.data.withUnsafeMutableBufferPointer { d in
                        for k in 0..<d.count { d[k] += s[k] }
                    }
                }
            }
        }
    }
}
