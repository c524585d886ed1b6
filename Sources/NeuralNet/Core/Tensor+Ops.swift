/// Construction, random initialisation and element-wise helpers on `Tensor`.
extension Tensor {
    /// A tensor of `shape` whose storage `fill` initialises completely (no zero-fill pass first).
    ///
    /// `fill` receives a buffer of `shape.reduce(1, *)` uninitialised elements and must write every one; it is
    /// not called for an empty shape.
    @inlinable
    public init(shape: [Int], fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        if n == 0 { self.init(shape: shape, data: []); return }
        let data = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            fill(buffer)
            initialized = n
        }
        self.init(shape: shape, data: data)
    }

    /// A tensor of `shape` drawn from `initializer` with `generator`.
    public init(shape: [Int], initializer: Initializer, generator: inout SeededGenerator) {
        self = initializer.tensor(shape: shape, generator: &generator)
    }

    /// Sum of all elements, accumulated in Double.
    public func sum() -> Double {
        data.withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) }
            return s
        }
    }

    /// Sum of squares of all elements, accumulated in Double.
    public func squaredNorm() -> Double {
        data.withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) * Double(v) }
            return s
        }
    }

    /// Largest absolute element (0 for an empty tensor).
    public func maxAbs() -> Float {
        data.reduce(0) { max($0, abs($1)) }
    }

    /// `self += other` element-wise; shapes must match.
    public mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "Tensor.add: shape \(shape) ≠ \(other.shape)")
        let n = count
        data.withUnsafeMutableBufferPointer { d in
            other.data.withUnsafeBufferPointer { o in
                let dp = SharedPointer(d.baseAddress!)
                let op = o.baseAddress!
                Parallel.forEachChunk(n) { r in
                    for i in r { dp.base[i] += op[i] }
                }
            }
        }
    }

    /// `self *= factor` element-wise.
    public mutating func scale(by factor: Float) {
        data.withUnsafeMutableBufferPointer { d in
            for i in d.indices { d[i] *= factor }
        }
    }
}
