import NeuralNet

extension KernelBenchmark {
    /// Timing of the memory-bound layers on one activation shape: best (minimum) milliseconds over the repetitions.
    public struct ElementwiseResult: Sendable {
        /// `[N, C, H, W]` measured.
        public var shape: [Int]
        /// BatchNorm2D (training) forward + backward.
        public var batchNormMilliseconds: Double
        /// ReLU forward + backward.
        public var reluMilliseconds: Double
        /// Residual Add forward.
        public var addMilliseconds: Double
        /// BatchNorm2D with fused ReLU, forward + backward.
        public var fusedMilliseconds: Double
    }

    /// The activation shapes of the reference backbone after each convolution, at `batch` images.
    public static func referenceActivationShapes(batch: Int) -> [[Int]] {
        [[batch, 16, 160, 160], [batch, 32, 80, 80], [batch, 64, 40, 40], [batch, 128, 20, 20]]
    }

    /// Measures BatchNorm2D, ReLU and Add on `shapes` (`repetitions` timed runs after a warm-up).
    public static func runElementwise(shapes: [[Int]], repetitions: Int = 3) -> [ElementwiseResult] {
        var g = SeededGenerator(seed: 2)
        return shapes.map { shape in
            let x = Initializer.normal(std: 1).tensor(shape: shape, generator: &g)
            let dy = Initializer.normal(std: 1).tensor(shape: shape, generator: &g)
            let bn = BatchNorm2D(name: "bn", channels: shape[1]), relu = ReLU(), add = Add()
            let fused = BatchNorm2D(name: "bnr", channels: shape[1], fusedReLU: true)
            var tb: [Double] = [], tr: [Double] = [], ta: [Double] = [], tf: [Double] = []
            for r in 0...repetitions {
                let t0 = now()
                _ = bn.forward(x); _ = bn.backward(dy)
                let t1 = now()
                _ = relu.forward(x); _ = relu.backward(dy)
                let t2 = now()
                _ = add.forward(x, dy)
                let t3 = now()
                _ = fused.forward(x); _ = fused.backward(dy)
                let t4 = now()
                if r > 0 { tb.append(t1 - t0); tr.append(t2 - t1); ta.append(t3 - t2); tf.append(t4 - t3) }
            }
            return ElementwiseResult(shape: shape, batchNormMilliseconds: best(tb) * 1e3,
                                     reluMilliseconds: best(tr) * 1e3, addMilliseconds: best(ta) * 1e3,
                                     fusedMilliseconds: best(tf) * 1e3)
        }
    }
}
