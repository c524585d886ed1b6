import DetectorTestSupport
import Foundation
import TestSupport
import XCTest
@testable import Datasets
@testable import Training

/// `--partial-labels` (`TrainSettings.partialLabels`): the images lacking a usual class train with it partly
/// labelled, and the run goes on as any other.
final class PartialLabelTrainingTests: XCTestCase {
    /// The sample's training split with the ellipses of its first image removed: ellipses are then in 15 of 16 images.
    private func sampleLackingOneEllipse(in dir: URL) throws -> URL {
        let source = DetectorFixtures.sample.appendingPathComponent("train.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as! [String: Any]
        let annotations = json["annotations"] as! [[String: Any]]
        json["annotations"] = annotations.filter { ($0["image_id"] as! Int) != 1 || ($0["category_id"] as! Int) != 1 }
        let url = dir.appendingPathComponent("train.json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return url
    }

    func testImagesLackingAUsualClassTrainWithItPartlyLabelled() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("run"),
                                                    config: try DetectorFixtures.smallConfigFile(in: dir))
        o.data = try sampleLackingOneEllipse(in: dir)
        o.images = DetectorFixtures.sample.appendingPathComponent("train/images")
        o.val = nil
        o.training.set(.epochs, \.epochs, 1)
        o.maxSteps = 2
        XCTAssertTrue(try Trainer(options: o).prepare().loader.dataset.images.allSatisfy { $0.partialClasses.isEmpty })
        o.training.set(.partialLabels, \.partialLabels, true)
        let run = try Trainer(options: o).prepare()
        XCTAssertEqual(run.loader.dataset.images.map(\.partialClasses), [[0]] + [[Int]](repeating: [], count: 15))
        XCTAssertTrue(run.configuration.training.partialLabels)
        // The image's batch holds a region of class 0 (more than one where mosaics drew the image again), and no
        // region of another class.
        let regions = try (0..<run.loader.batchesPerEpoch).flatMap { try run.loader.makeBatch(epoch: 0, step: $0).targets }
            .flatMap(\.partialRegions)
        XCTAssertFalse(regions.isEmpty)
        XCTAssertTrue(regions.allSatisfy { $0.classIndex == 0 && $0.box.area > 0 })
        let summary = try Trainer(options: o).run()
        XCTAssertEqual(summary.steps, 2)
    }
}
