import Imaging
import Seeding

extension BatchLoader {
    /// The training sample of image `index` (decoded as `d`) in `epoch`, on a `shape` canvas, with its draws seeded
    /// by `(seed, epoch, index)`: the image alone or, with `AugmentConfig.mosaicProbability`, a mosaic of it and three
    /// others; then, each with its probability and drawn only when that is above 0 (so that a seed gives the images
    /// of a configuration without the setting), objects of another image pasted onto it (`copyPasteProbability`,
    /// `Augmenter.copyPaste`) and a blend with another sample (`mixupProbability`, `Augmenter.mixup`). Other images
    /// are drawn from the whole dataset; a bad one skipped leaves the sample as it is. In the `closing` phase, and
    /// in a dataset of one image, the sample is its image alone.
    func sample(_ index: Int, _ d: DecodedImage, epoch: Int, shape: (w: Int, h: Int), closing: Bool) throws
        -> PreparedSample {
        let config = options.augment, count = dataset.images.count
        let combines = count > 1 && !closing
        let mosaics = combines && config.mosaicProbability > 0
        var rng = SplitMix64(mixing: options.seed, UInt64(epoch), UInt64(index))
        var sample = try prepare(index, d, mosaics: mosaics, shape: shape, rng: &rng)
        if combines, config.copyPasteProbability > 0, rng.unit() < config.copyPasteProbability {
            // The other image single and augmented as this one is, so that its objects keep their usual size.
            let other = rng.int(0...(count - 1))
            if let e = try decoded(other) {
                let source = try prepare(other, e, mosaics: false, shape: shape, rng: &rng)
                sample = Augmenter.copyPaste(source, onto: sample, rng: &rng)
            }
        }
        if combines, config.mixupProbability > 0, rng.unit() < config.mixupProbability {
            let other = rng.int(0...(count - 1))
            if let e = try decoded(other) {
                let second = try prepare(other, e, mosaics: mosaics, shape: shape, rng: &rng)
                let ratio = rng.beta(Augmenter.mixupAlpha, Augmenter.mixupAlpha)
                sample = Augmenter.mixup(sample, second, ratio: ratio)
            }
        }
        return sample
    }

    /// Image `index` (decoded as `d`) prepared for the network: with `mosaics`, a mosaic of it and three others with
    /// probability `AugmentConfig.mosaicProbability`, else the image alone, augmented with draws from `rng`.
    fileprivate func prepare(_ index: Int, _ d: DecodedImage, mosaics: Bool, shape: (w: Int, h: Int),
                         rng: inout SplitMix64) throws -> PreparedSample {
        let config = options.augment, count = dataset.images.count, s = options.inputSize
        if mosaics, rng.unit() < config.mosaicProbability {
            // The image and three others drawn from the whole dataset (a bad one skipped leaves its quadrant padded).
            var parts = [MosaicPart(image: d.image, originalSize: (d.originalWidth, d.originalHeight),
                                    annotations: dataset.images[index].annotationsWithPartialRegions)]
            for _ in 0..<3 {
                let other = rng.int(0...(count - 1))
                guard let e = try decoded(other) else { continue }
                parts.append(MosaicPart(image: e.image, originalSize: (e.originalWidth, e.originalHeight),
                                        annotations: dataset.images[other].annotationsWithPartialRegions))
            }
            return Augmenter.mosaic(parts, inputSize: s, inputWidth: shape.w, inputHeight: shape.h, config: config,
                                    rng: &rng)
        }
        return Augmenter.apply(d.image, originalSize: (d.originalWidth, d.originalHeight),
                               annotations: dataset.images[index].annotationsWithPartialRegions, inputSize: s,
                               inputWidth: shape.w, inputHeight: shape.h, config: config, rng: &rng)
    }
}
