import DetectorModel
import DetectorTestSupport
import Foundation
import NeuralNet
import TestSupport
import XCTest
@testable import Training

/// `Checkpoint.transfer` and `--weights`: a new run starts from another checkpoint's tensors where names and shapes
/// match, from its weight average when it holds one, and keeps its own initialisation elsewhere.
final class WeightsTransferTests: XCTestCase {
    /// Every tensor (parameters, then BatchNorm buffers) of a network by name.
    private func tensors(_ d: Detector) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for p in d.parameters { out[p.name] = p.value }
        for bn in d.batchNorms { for (name, t) in bn.buffers { out[name] = t } }
        return out
    }

    /// Into a network for one class instead of three: the backbone and every tensor of the same shape come from the
    /// file, the class layers keep the new network's initialisation.
    func testWhatFitsIsCopiedAndTheRestKept() throws {
        let dir = try Fixtures.temporaryDirectory()
        let url = try DetectorFixtures.tinyCheckpoint(in: dir)
        let file = tensors(try Checkpoint.load(url).detector)
        let target = try Detector(config: DetectorFixtures.smallConfig(classes: ["cell"]), seed: 5)
        let fresh = tensors(try Detector(config: DetectorFixtures.smallConfig(classes: ["cell"]), seed: 5))
        let moved = try Checkpoint.transfer(from: url, into: target)
        let after = tensors(target)
        XCTAssertEqual(Set(moved.copied + moved.kept), Set(after.keys))
        XCTAssertFalse(moved.kept.isEmpty, "the class layers differ in shape")
        XCTAssertGreaterThan(moved.copied.count, moved.kept.count)
        XCTAssertTrue(moved.copied.contains { $0.hasPrefix("backbone.") }, "\(moved.copied.prefix(4))")
        for name in moved.copied { XCTAssertEqual(after[name], file[name], name) }
        for name in moved.kept {
            XCTAssertEqual(after[name], fresh[name], name)
            XCTAssertNotEqual(file[name]?.shape, after[name]?.shape, "\(name) kept although it fits")
        }
        XCTAssertLessThan(moved.copiedValues, moved.totalValues)
        XCTAssertEqual(moved.totalValues, after.values.reduce(0) { $0 + $1.count })
    }

    /// A file with a weight average gives the average (the network it was evaluated with), not the trained weights.
    func testTheWeightAverageIsPreferred() throws {
        let dir = try Fixtures.temporaryDirectory()
        let d = try Detector(config: DetectorFixtures.smallConfig(), seed: 3)
        let averages = d.parameters.map {
            (name: Checkpoint.averagedPrefix + $0.name, tensor: Tensor(shape: $0.value.shape, repeating: 0.25))
        }
        let url = dir.appendingPathComponent("ema.safetensors")
        try Checkpoint.save(d, optimizer: nil, state: TrainingState(seed: 3), extraTensors: averages, to: url)
        let target = try Detector(config: DetectorFixtures.smallConfig(), seed: 9)
        let moved = try Checkpoint.transfer(from: url, into: target)
        XCTAssertTrue(moved.kept.isEmpty)
        for p in target.parameters { XCTAssertTrue(p.value.data.allSatisfy { $0 == 0.25 }, p.name) }
    }

    /// `TrainOptions.weights`: the run starts with the file's tensors (same classes: all of them) at step 0; a run
    /// folder stands for its `best.safetensors`; with `resume`, or pointing at no checkpoint, it is refused naming the
    /// setting or the file.
    func testARunStartsFromTheWeights() throws {
        let dir = try Fixtures.temporaryDirectory()
        let url = try DetectorFixtures.tinyCheckpoint(in: dir)
        var o = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("run"),
                                                    config: try DetectorFixtures.smallConfigFile(in: dir))
        o.weights = url
        let run = try Trainer(options: o).prepare()
        XCTAssertEqual(run.state.step, 0)
        XCTAssertEqual(tensors(run.detector), tensors(try Checkpoint.load(url).detector))
        XCTAssertEqual(TrainOptions.checkpointForWeights(dir.path), dir.appendingPathComponent("best.safetensors"))
        XCTAssertEqual(TrainOptions.checkpointForWeights(url.path), url)
        var both = o
        both.resume = url
        XCTAssertThrowsError(try both.validate()) { XCTAssertEqual(($0 as? TrainingError)?.settingKey, "weights") }
        var notOne = o
        notOne.weights = try DetectorFixtures.smallConfigFile(in: dir)
        XCTAssertThrowsError(try Trainer(options: notOne).prepare()) {
            XCTAssertTrue("\($0)".contains("small.json"), "\($0)")
        }
    }

    /// `load` and `transfer` read through one check: a safetensors file of another kind is refused by both, naming
    /// the file and its format; a detector checkpoint without its configuration can lend its weights but not be
    /// loaded as a model.
    func testOnlyDetectorCheckpointsAreRead() throws {
        let dir = try Fixtures.temporaryDirectory()
        let source = try Checkpoint.load(try DetectorFixtures.tinyCheckpoint(in: dir)).detector
        let named = source.parameters.map { (name: $0.name, tensor: $0.value) }
        let other = dir.appendingPathComponent("other.safetensors")
        try SafeTensors.write(named, metadata: ["format": "pt"], to: other)
        let bare = dir.appendingPathComponent("bare.safetensors")
        try SafeTensors.write(named, metadata: ["format": Checkpoint.format], to: bare)
        let into = try Detector(config: source.config, seed: 7)
        for read in [{ _ = try Checkpoint.load(other) }, { _ = try Checkpoint.transfer(from: other, into: into) }] {
            XCTAssertThrowsError(try read()) {
                let message = "\($0)"
                XCTAssertTrue(message.contains("other.safetensors"), message)
                XCTAssertTrue(message.contains("not a detector checkpoint (format pt)"), message)
            }
        }
        XCTAssertThrowsError(try Checkpoint.load(bare)) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("bare.safetensors"), message)
            XCTAssertTrue(message.contains("no detector configuration"), message)
        }
        XCTAssertEqual(try Checkpoint.transfer(from: bare, into: into).copied.count, named.count)
    }
}
