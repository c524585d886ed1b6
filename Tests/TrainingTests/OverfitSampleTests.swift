import Datasets
import Foundation
import TestSupport
import XCTest
import DetectorModel
import DetectorTestSupport
import Inference
@testable import Training

/// A short training run on images of the committed sample must learn them: the whole path (data, augmentation-free
/// batches, both criteria, backward, AdamW, post-processing, COCO evaluation) has to work for the dense head's AP50
/// on the training images to reach 0.95 (0.98 measured, 300 steps, about 45 s).
final class OverfitSampleTests: XCTestCase {
    func testShortRunOverfitsSampleImages() throws {
        let dir = try Fixtures.temporaryDirectory()
        let sample = DetectorFixtures.sample
        // The first images of the sample's training split, as their own COCO file beside the sample's pictures.
        let full = try DetectionDataset.load(sample.appendingPathComponent("train.json"))
        let count = 4
        let subset = DetectionDataset(root: full.root, source: full.source, images: Array(full.images.prefix(count)),
                                      categories: full.categories)
        let json = dir.appendingPathComponent("train.json")
        try COCOFormat.write(subset, to: json)
        var o = TrainOptions()
        o.data = json
        o.images = sample.appendingPathComponent("train/images")
        o.val = json
        o.valImages = o.images
        o.out = dir.appendingPathComponent("run")
        o.training.set(.batchSize, \.batchSize, count)
        o.training.set(.epochs, \.epochs, 300)                      // one step an epoch
        o.training.set(.learningRate, \.learningRate, 3e-3)
        o.training.set(.warmupSteps, \.warmupSteps, 20)
        o.training.set(.evalEvery, \.evalEvery, 0)
        o.training.set(.augment, \.augment, false)
        o.verbose = false
        o.threads = 1                        // a trained figure is asserted: the same arithmetic on every machine
        var config = DetectorConfig.reference(classes: full.categories.map(\.name))
        config.inputSize = 256
        config.anchorSizes = [16, 32, 64]
        config.hypotheses = 60
        config.matchCost = .reinspect
        config.setClassPrior = true
        config.setGeometry = true
        config.denseAssignment = .atss
        config.querySelection = .peaks
        let configURL = dir.appendingPathComponent("config.json")
        try config.jsonString().write(to: configURL, atomically: true, encoding: .utf8)
        o.config = configURL
        let summary = try Trainer(options: o).run()
        let metrics = try XCTUnwrap(summary.metrics)
        let dense = metrics.dense.stats[1], set = try XCTUnwrap(metrics.set).stats[1]
        print(String(format: "overfit %d sample images, %d steps: dense AP50 %.3f, set AP50 %.3f", count, summary.steps, dense, set))
        XCTAssertGreaterThanOrEqual(dense, 0.95, "dense head AP50 on its training images")
        // The set head learns these images more slowly (0.86 after 300 steps, 0.83 after 500 in the run that set
        // this bound); it must at least have learnt most of them.
        XCTAssertGreaterThanOrEqual(set, 0.75, "set head AP50 on its training images")
    }
}
