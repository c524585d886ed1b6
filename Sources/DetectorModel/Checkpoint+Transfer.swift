import Foundation
import NeuralNet

extension Checkpoint {
    /// What `transfer` copied.
    public struct Transfer: Sendable, Equatable {
        /// Tensors (parameters and BatchNorm buffers) of the network copied from the file.
        public var copied: [String]
        /// Tensors of the network left as they were: absent from the file, or of another shape there (a head for
        /// another number of classes or anchors, another width).
        public var kept: [String]
        /// Values copied, over all copied tensors.
        public var copiedValues: Int
        /// Values of the network, over all its tensors.
        public var totalValues: Int
    }

    /// Initialises `detector` from the checkpoint at `url` for a new run, as fine-tuning starts from another run's
    /// weights (ultralytics' `model=….pt`, Detectron2's `MODEL.WEIGHTS`): every parameter and BatchNorm buffer whose
    /// name and shape match is copied — the file's weight average when it holds one, the network it was evaluated
    /// with — and the others keep their initialisation. The file's optimizer state, training state and settings are
    /// not used. Throws when the file is not a checkpoint, or when nothing fits.
    public static func transfer(from url: URL, into detector: Detector) throws -> Transfer {
        let (contents, averaged) = try readChecked(url)
        let source = contents.tensors.merging(averaged) { _, average in average }
        var result = Transfer(copied: [], kept: [], copiedValues: 0, totalValues: 0)
        func fits(_ name: String, _ shape: [Int]) -> Tensor? {
            result.totalValues += shape.reduce(1, *)
            guard let t = source[name], t.shape == shape else { result.kept.append(name); return nil }
            result.copied.append(name)
            result.copiedValues += t.count
            return t
        }
        for p in detector.parameters {
            if let t = fits(p.name, p.value.shape) { p.value = t }
        }
        for bn in detector.batchNorms {
            for (name, current) in bn.buffers {
                if let t = fits(name, current.shape) { bn.setBuffer(name, t) }
            }
        }
        guard !result.copied.isEmpty else {
            throw ModelError.checkpoint(path: url.path, reason: "no tensor of the file fits this network (names or "
                + "shapes differ everywhere: another backbone?)")
        }
        return result
    }
}
