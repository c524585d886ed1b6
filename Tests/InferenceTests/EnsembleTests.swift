import Boxes
import DetectorModel
import DetectorTestSupport
import Foundation
import Imaging
@testable import Inference
import TestSupport
import XCTest

/// Model ensembles (`Predictor.ensemble`, `InferenceInput.loadEnsemble`): every network's passes merged as flipped
/// passes are.
final class EnsembleTests: XCTestCase {
    func sampleImages() throws -> [(id: Int, image: Image)] {
        try ["000001.png", "000002.png"].enumerated().map { i, name in
            (id: i, image: try ImageFile.read(DetectorFixtures.sample.appendingPathComponent("val/images/\(name)")))
        }
    }

    func assertSame(_ a: [DetectedObject], _ b: [DetectedObject], _ message: String,
                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.classIndex, y.classIndex, message, file: file, line: line)
            XCTAssertEqual(x.score, y.score, accuracy: 1e-12, message, file: file, line: line)
            for (u, v) in zip([x.box.x1, x.box.y1, x.box.x2, x.box.y2], [y.box.x1, y.box.y1, y.box.x2, y.box.y2]) {
                XCTAssertEqual(u, v, accuracy: 1e-9, message, file: file, line: line)
            }
        }
    }

    /// A network beside itself finds what it finds alone, with either merge.
    func testANetworkBesideItselfIsItself() throws {
        let dir = try Fixtures.temporaryDirectory()
        let detector = try Checkpoint.load(try DetectorFixtures.tinyCheckpoint(in: dir)).detector
        let images = try sampleImages()
        let predictor = Predictor(detector: detector, batchSize: 1)
        let alone = predictor.predict(images)
        predictor.ensemble = [detector]
        XCTAssertEqual(predictor.passCount, 2)
        for merge in TestTimeFlips.Merge.allCases {
            predictor.passMerge = merge
            let twice = predictor.predict(images)
            for (p, q) in zip(alone, twice) {
                XCTAssertGreaterThan(p.set.count, 0)
                assertSame(p.set, q.set, "set head, \(merge)")
                assertSame(p.dense, q.dense, "dense head, \(merge)")
            }
        }
    }

    /// Two networks, the second at another input side: each image's passes are the first network's and the second's,
    /// merged by `TestTimeFlips.merge`; with flips, each network's flipped passes too.
    func testEveryNetworksPassesAreMerged() throws {
        let config = DetectorFixtures.smallConfig()
        let first = try Detector(config: config, seed: 3)
        let second = try InferenceInput.detector(try Detector(config: config, seed: 4), at: 96, source: "seed 4")
        let images = try sampleImages()
        let a = Predictor(detector: first, batchSize: 1).predict(images)
        let b = Predictor(detector: second, batchSize: 1).predict(images)
        let predictor = Predictor(detector: first, batchSize: 1)
        predictor.ensemble = [second]
        let both = predictor.predict(images)
        for i in images.indices {
            XCTAssertNotEqual(a[i].set, b[i].set, "two networks differ")
            let expected = TestTimeFlips.matched([a[i].set, b[i].set], iou: 0.5, maxDetections: 100)
            assertSame(both[i].set, expected, "set head, image \(i)")
            assertSame(both[i].dense, TestTimeFlips.matched([a[i].dense, b[i].dense], iou: 0.5, maxDetections: 100),
                       "dense head, image \(i)")
        }

        // With flips, the passes are the first network's two, then the second's.
        predictor.flips = .horizontal
        XCTAssertEqual(predictor.passCount, 4)
        let all = predictor.predict(images)
        func pass(_ d: Detector, _ mirror: TestTimeFlips.Pass) -> [ImagePrediction] {
            Predictor(detector: d, batchSize: 1).predict(images.map { ($0.id, mirror.apply($0.image)) }).map { p in
                let image = images[p.imageID].image
                func back(_ d: DetectedObject) -> DetectedObject {
                    DetectedObject(box: mirror.mapBack(d.box, width: Double(image.width), height: Double(image.height)),
                                   score: d.score, classIndex: d.classIndex)
                }
                return ImagePrediction(imageID: p.imageID, set: p.set.map(back), dense: p.dense.map(back))
            }
        }
        let passes = [first, second].flatMap { d in TestTimeFlips.horizontal.passes.map { pass(d, $0) } }
        for i in images.indices {
            assertSame(all[i].set, TestTimeFlips.matched(passes.map { $0[i].set }, iou: 0.5, maxDetections: 100),
                       "four passes, image \(i)")
        }
    }

    /// The models of an ensemble must predict the same classes with the same heads: otherwise an error names both
    /// files; `ModelEvaluation` of a model beside itself scores as the model alone and says how it merged.
    func testEnsembleMembersMustAgree() throws {
        let dir = try Fixtures.temporaryDirectory()
        let base = try DetectorFixtures.tinyCheckpoint(in: dir)
        func saved(_ name: String, classes: [String] = DetectorFixtures.sampleClassNames,
                   setHead: DetectorConfig.SetHeadKind = .query) throws -> URL {
            let url = dir.appendingPathComponent(name)
            try Checkpoint.save(try Detector(config: DetectorFixtures.smallConfig(classes: classes, setHead: setHead),
                                             seed: 5),
                                optimizer: nil, state: TrainingState(seed: 5), to: url)
            return url
        }
        let cases = [(try saved("other.safetensors", classes: ["a", "b"]), "predicts [a, b] where"),
                     (try saved("dense.safetensors", setHead: .none), "has no set head where")]
        for (other, phrase) in cases {
            XCTAssertThrowsError(try InferenceInput.loadEnsemble([base, other], inputSize: nil)) { error in
                guard case let InferenceError.invalidSetting(key, reason) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(key, "model")
                XCTAssertTrue(reason.contains(other.path) && reason.contains(base.path) && reason.contains(phrase),
                              reason)
            }
            XCTAssertThrowsError(try DetectRun(checkpoint: base, ensemble: [other], head: .dense))
        }
        XCTAssertEqual(try InferenceInput.loadEnsemble([base, saved("same.safetensors")], inputSize: nil).count, 2)

        let gt = DetectorFixtures.sample.appendingPathComponent("val.json")
        var options = ModelEvaluation.Options(model: base, data: gt, out: dir.appendingPathComponent("alone"))
        let alone = try ModelEvaluation.run(options)
        options.ensemble = [base]
        options.out = dir.appendingPathComponent("twice")
        let twice = try ModelEvaluation.run(options)
        XCTAssertTrue(twice.notes.contains("an ensemble of 2 models: 2 passes an image, merged per class one to one "
                                           + "at IoU 0.50"), "\(twice.notes)")
        for (p, q) in zip(alone.heads, twice.heads) {
            XCTAssertEqual(p.evaluation.stats, q.evaluation.stats, "\(p.head)")
        }
    }
}
