/// A layer with one input and one output tensor: `forward(x) → y`, `backward(dy) → dx`.
public protocol UnaryLayer: Layer {
    /// The output for `x`, keeping what `backward` needs.
    func forward(_ x: Tensor) -> Tensor
    /// Accumulates parameter gradients from `dy` and returns the input gradient.
    func backward(_ dy: Tensor) -> Tensor
}

extension Conv2D: UnaryLayer {}
extension BatchNorm2D: UnaryLayer {}
extension Linear: UnaryLayer {}
extension ReLU: UnaryLayer {}
extension LeakyReLU: UnaryLayer {}
extension Sigmoid: UnaryLayer {}
extension MaxPool2D: UnaryLayer {}
extension Upsample: UnaryLayer {}
extension Flatten: UnaryLayer {}

/// Layers applied in order; backward runs them in reverse.
public final class Sequential: UnaryLayer {
    /// The layers, first applied first.
    public let layers: [UnaryLayer]
    /// The layers' parameters in order.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    /// A chain of `layers`.
    public init(_ layers: [UnaryLayer]) { self.layers = layers }
    /// `layers[n-1](…layers[0](x))`.
    public func forward(_ x: Tensor) -> Tensor { layers.reduce(x) { $1.forward($0) } }
    /// Backward through the layers in reverse order.
    public func backward(_ dy: Tensor) -> Tensor { layers.reversed().reduce(dy) { $1.backward($0) } }
    /// The BatchNorm layers inside (for switching `training` and collecting buffers).
    public var batchNorms: [BatchNorm2D] {
        layers.flatMap { l -> [BatchNorm2D] in
            if let bn = l as? BatchNorm2D { return [bn] }
            if let s = l as? Sequential { return s.batchNorms }
            return []
        }
    }
}
