import Datasets
import NeuralNet

extension TrainingBatch {
    /// A `BatchLoader` batch as network input (`[count, 3, H, W]`, the loader's normalised floats; `H = W = S` unless
    /// rectangular) and its targets
    /// (boxes, classes and ignore flags, in input pixels).
    public init(_ batch: Batch) {
        self.init(images: Tensor(shape: [batch.count, 3, batch.inputHeight, batch.inputWidth], data: batch.images),
                  targets: batch.targets)
    }
}
