import Boxes
import NeuralNet

/// The dense head's boxes: per-anchor deltas decoded against their anchors (`Boxes.BoxCoder`, torchvision's
/// encoding) and clipped to the square network input. The one dense box decoder of the package: query selection,
/// the query head's proposals and the dense head's post-processing all decode through it.
public struct DenseBoxDecoder: Sendable {
    /// Dense anchors in input pixels, in the head's anchor order (`DetectorConfig.anchorGenerator`).
    public let anchors: [Box]
    /// The box coder.
    public let coder: BoxCoder
    /// Side of the square input in pixels; boxes are clipped to it.
    public let inputSize: Int

    /// A decoder for `anchors` on an input of side `inputSize`.
    public init(anchors: [Box], coder: BoxCoder = BoxCoder(), inputSize: Int) {
        self.anchors = anchors
        self.coder = coder
        self.inputSize = inputSize
    }

    /// Image `b`'s box of `anchor` from dense deltas `[N, A, 4]`, clipped to the input.
    public func box(anchor i: Int, image b: Int, deltas: Tensor) -> Box {
        let d = (b * deltas.shape[1] + i) * 4
        let s = Double(inputSize)
        return coder.decode(
            BoxDelta(dx: Double(deltas.data[d]), dy: Double(deltas.data[d + 1]),
                     dw: Double(deltas.data[d + 2]), dh: Double(deltas.data[d + 3])),
            anchor: anchors[i]
        ).clipped(width: s, height: s)
    }
}
