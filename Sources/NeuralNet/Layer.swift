/// A network piece with trainable parameters.
///
/// Convention for every layer (llm.c style): `forward` computes the output and keeps what `backward`
/// needs; `backward` takes the gradient of the loss with respect to the output, **accumulates** (`+=`)
/// parameter gradients into `Parameter.grad`, and returns the gradient with respect to the input.
/// A layer's parameters are named `<prefix>.<name>` with the dotted prefix given at construction.
public protocol Layer: AnyObject {
    /// Every trainable parameter of this layer and its sub-layers, in a fixed order.
    var parameters: [Parameter] { get }
}

extension Layer {
    /// Sets every parameter gradient to zero.
    public func zeroGrad() {
        for p in parameters { p.zeroGrad() }
    }
}
