import Foundation
import NeuralNet
import Training

extension TrainBenchmark {
    /// A benchmark's step time broken into disjoint parts, in seconds over the timed steps.
    ///
    /// - `conv`: `Conv2D` forward and backward (`TimeAccounting.conv`), of which `gemmInConv` is sgemm
    ///   (`conv/gemm`: the workers' sgemm share of each parallel region's wall time);
    /// - `gemmElsewhere`: sgemm outside convolutions (linear layers, attention projections and products);
    /// - `otherForwardBackward`: forward + backward phases minus the two above (BatchNorm, ReLU, pooling,
    ///   upsampling, gathers, softmax, LayerNorm, gradient assembly and zeroing);
    /// - `matching`: the set criterion's cost matrices and assignments (`TimeAccounting.matching`);
    /// - `losses`: dense criterion + set criterion phases minus matching;
    /// - `optimizer`: gradient clipping and the AdamW step;
    /// - `dataWait`: waiting for the loader's next batch; `batchAssembly`: turning it into tensors.
    /// Derived parts are clamped at 0 (the phases and categories read different clocks). `unaccounted` is the
    /// step time outside all of them (loop bookkeeping); the parts and it add up to `total`.
    public struct Shares {
        /// Seconds of each part (see the type's description).
        public var conv, gemmInConv, gemmElsewhere, otherForwardBackward, matching, losses, optimizer,
                   dataWait, batchAssembly: Double
        /// Wall seconds of the timed steps.
        public var total: Double

        /// Breaks `result` down as described above.
        public init(_ result: Result) {
            let phase = Dictionary(result.phases.map { ($0.phase, $0.seconds) }, uniquingKeysWith: +)
            func seconds(_ path: String) -> Double { result.accounting[path]?.seconds ?? 0 }
            let forwardBackward = (phase[.forward] ?? 0) + (phase[.backward] ?? 0)
            conv = seconds(TimeAccounting.conv)
            gemmInConv = seconds(TimeAccounting.conv + "/" + TimeAccounting.gemm)
            gemmElsewhere = seconds(TimeAccounting.gemm)
            otherForwardBackward = max(0, forwardBackward - conv - gemmElsewhere)
            matching = seconds(TimeAccounting.matching)
            losses = max(0, (phase[.denseCriterion] ?? 0) + (phase[.setCriterion] ?? 0) - matching)
            optimizer = phase[.optimizer] ?? 0
            dataWait = result.dataWait
            batchAssembly = result.batchAssembly
            total = result.total
        }

        /// The disjoint parts in table order, by name (GEMM in conv is inside `conv`, so not listed).
        public var rows: [(name: String, seconds: Double)] {
            [("conv", conv), ("GEMM elsewhere", gemmElsewhere), ("other fwd/bwd", otherForwardBackward),
             ("matching", matching), ("losses", losses), ("optimizer", optimizer), ("data wait", dataWait),
             ("batch assembly", batchAssembly)]
        }

        /// Sum of the disjoint parts.
        public var sum: Double { rows.reduce(0) { $0 + $1.seconds } }

        /// Step time outside every part.
        public var unaccounted: Double { total - sum }

        /// `seconds` as a percentage of the step time.
        public func percent(_ seconds: Double) -> Double { total > 0 ? 100 * seconds / total : 0 }
    }
}
