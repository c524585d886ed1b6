import Datasets
import NeuralNet

extension TrainingBatch {
    /// A `BatchLoader` batch as network input (`[count, 3, S, S]`, the loader's normalised floats) and its targets
    /// (boxes, classes and ignore flags, in input pixels).
    public init(_ batch: Batch) {
        let s = batch.inputSize
        self.init(images: Tensor(shape: [batch.count, 3, s, s], data: batch.images), targets: batch.targets)
    }
}
