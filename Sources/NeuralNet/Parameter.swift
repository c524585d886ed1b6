/// A trainable tensor with its gradient, named by its dotted path in the model
/// (`backbone.stage2.block.conv1.weight`), as safetensors and PyTorch state dicts name them.
///
/// A reference type so that a layer, the optimizer and the checkpoint writer share one storage.
public final class Parameter {
    /// Dotted name, unique within a model.
    public let name: String
    /// Current value.
    public var value: Tensor
    /// Gradient accumulated by backward passes (`+=`); zeroed by `zeroGrad()`.
    public var grad: Tensor
    /// Whether weight decay applies (false for BatchNorm/LayerNorm parameters and biases).
    public var decays: Bool

    /// A parameter holding `value`, with a zero gradient of the same shape.
    public init(name: String, value: Tensor, decays: Bool = true) {
        self.name = name
        self.value = value
        self.grad = Tensor(shape: value.shape)
        self.decays = decays
    }

    /// Sets the gradient to zero.
    public func zeroGrad() { grad.zero() }
}
