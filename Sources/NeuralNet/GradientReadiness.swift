/// Tells a listener, during a backward pass, when parameters' gradients are final: the signal PyTorch's
/// `DistributedDataParallel` takes from the hooks on each parameter's gradient accumulator to start a bucket's
/// allreduce while backward goes on (Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel
/// Training", VLDB 2020, §3.2.3).
///
/// Counting, as autograd does: the forward pass calls `used(_:)` for every layer application (a parameter of a
/// layer applied twice is counted twice), the backward pass calls `accumulated(_:)` after each layer application's
/// backward has added its contribution (`+=`) to the gradients, and a parameter is reported once, when its count
/// returns to zero: after its last contribution. `beginForward()` starts a new pass. A model without a readiness
/// object (`nil`) makes none of these calls, so the single-process path does not change.
public final class GradientReadiness {
    /// Receives the parameters whose gradients have just become final, in the order they did.
    public let onReady: ([Parameter]) -> Void
    private var pending: [ObjectIdentifier: (parameter: Parameter, uses: Int)] = [:]

    /// A readiness tracker that reports to `onReady`.
    public init(onReady: @escaping ([Parameter]) -> Void) {
        self.onReady = onReady
    }

    /// Forgets the previous pass: a new forward pass begins.
    public func beginForward() {
        pending.removeAll(keepingCapacity: true)
    }

    /// The forward pass applied a layer with these parameters: one more gradient contribution to wait for.
    public func used(_ parameters: [Parameter]) {
        for p in parameters {
            pending[ObjectIdentifier(p), default: (p, 0)].uses += 1
        }
    }

    /// A layer application's backward has added its contribution to these parameters' gradients; those with no
    /// contribution left are reported to `onReady` (in one call, in the order given).
    public func accumulated(_ parameters: [Parameter]) {
        var ready: [Parameter] = []
        for p in parameters {
            let id = ObjectIdentifier(p)
            guard let entry = pending[id] else {
                preconditionFailure("GradientReadiness: \(p.name) accumulated more often than the forward pass used it")
            }
            if entry.uses == 1 {
                pending[id] = nil
                ready.append(p)
            } else {
                pending[id] = (p, entry.uses - 1)
            }
        }
        if !ready.isEmpty { onReady(ready) }
    }

    /// Parameters the forward pass used whose gradients are not final yet (after a whole backward pass: none).
    public var outstanding: [Parameter] { pending.values.map(\.parameter) }
}
