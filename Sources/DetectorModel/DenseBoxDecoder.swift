import Boxes
import NeuralNet

/// The dense head's boxes: per-anchor deltas decoded against their anchors (`Boxes.BoxCoder`, torchvision's
/// encoding) and clipped to the network input (`H × W`). The one dense box decoder of the package: query selection,
/// the query head's proposals and the dense head's post-processing all decode through it.
public struct DenseBoxDecoder: Sendable {
    /// Dense anchors in input pixels, in the head's anchor order (`DetectorConfig.anchorGenerator`).
    public let anchors: [Box]
    /// The box coder.
    public let coder: BoxCoder
    /// Side of the square input in pixels, or the longer side of a rectangular one.
    public let inputSize: Int
    /// Height and width of the input in pixels (`inputSize` both when square); boxes are clipped to them.
    public let inputHeight: Int, inputWidth: Int

    /// A decoder for `anchors` on a square input of side `inputSize`.
    public init(anchors: [Box], coder: BoxCoder = BoxCoder(), inputSize: Int) {
        self.init(anchors: anchors, coder: coder, height: inputSize, width: inputSize, inputSize: inputSize)
    }

    /// A decoder for `anchors` on a `height × width` input whose longer side is `inputSize` (rectangular inputs,
    /// `DetectorConfig.rectangular`).
    public init(anchors: [Box], coder: BoxCoder = BoxCoder(), height: Int, width: Int, inputSize: Int) {
        self.anchors = anchors
        self.coder = coder
        self.inputSize = inputSize
        self.inputHeight = height
        self.inputWidth = width
    }

    /// Image `b`'s box of `anchor` from dense deltas `[N, A, 4]`, clipped to the input.
    public func box(anchor i: Int, image b: Int, deltas: Tensor) -> Box {
        let d = (b * deltas.shape[1] + i) * 4
        return coder.decode(
            BoxDelta(dx: Double(deltas.data[d]), dy: Double(deltas.data[d + 1]),
                     dw: Double(deltas.data[d + 2]), dh: Double(deltas.data[d + 3])),
            anchor: anchors[i]
        ).clipped(width: Double(inputWidth), height: Double(inputHeight))
    }
}
