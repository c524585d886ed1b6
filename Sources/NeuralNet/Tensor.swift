/// A dense Float32 tensor stored contiguously in row-major order (NCHW for images).
///
/// Value semantics: `data` is a Swift array, copied on write. Hot loops should go through
/// `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer` on `data`.
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first, e.g. `[N, C, H, W]`.
    public var shape: [Int]
    /// `shape.reduce(1, *)` elements in row-major order.
    public var data: [Float]

    /// A tensor of `shape` with every element equal to `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in \(shape)")
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of `shape` holding `data` (row-major); `data.count` must equal the product of `shape`.
    public init(shape: [Int], data: [Float]) {
        precondition(data.count == shape.reduce(1, *), "Tensor: \(data.count) values for shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// Number of elements.
    @inlinable public var count: Int { data.count }

    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Sets every element to zero, keeping the storage.
    public mutating func zero() {
        data.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            base.update(repeating: 0, count: p.count)
        }
    }
}
