import Boxes
import DetectorTestSupport
import NeuralNet
import XCTest
@testable import DetectorModel

/// The feature pyramid (FPN neck), the pyramid's anchors and the network built around them.
final class FeaturePyramidTests: XCTestCase {
    /// The tiny configuration on strides 4, 8, 16 (levels of 16², 8² and 4² cells at input 64).
    static func pyramidConfig(strides: [Int] = [4, 8, 16]) -> DetectorConfig {
        var c = DetectorFixtures.tinyConfig()
        c.pyramidStrides = strides
        return c
    }

    /// Hand values of nearest 2× upsampling, and its backward as the adjoint: ⟨up(x), y⟩ = ⟨x, upᵀ(y)⟩.
    func testUpsampleAndItsAdjoint() {
        let x = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        XCTAssertEqual(FeaturePyramid.upsample2x(x).data, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        var g = SeededGenerator(seed: 1)
        let a = Tensor(shape: [2, 3, 5, 4], initializer: .normal(std: 1), generator: &g)
        let b = Tensor(shape: [2, 3, 10, 8], initializer: .normal(std: 1), generator: &g)
        let lhs = zip(FeaturePyramid.upsample2x(a).data, b.data).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let rhs = zip(a.data, FeaturePyramid.upsample2xBackward(b).data).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(lhs)))
    }

    /// The neck's analytic gradients (inputs and parameters) against central differences of a random linear loss of
    /// its outputs, BatchNorm in training mode.
    func testNeckGradientsMatchFiniteDifferences() throws {
        var g = SeededGenerator(seed: 2)
        let neck = FeaturePyramid(strides: [4, 8, 16], inChannels: [3, 4, 5], width: 4, generator: &g)
        var inputs = [Tensor(shape: [2, 3, 8, 8], initializer: .normal(std: 1), generator: &g),
                      Tensor(shape: [2, 4, 4, 4], initializer: .normal(std: 1), generator: &g),
                      Tensor(shape: [2, 5, 2, 2], initializer: .normal(std: 1), generator: &g)]
        let weights = [[2, 4, 8, 8], [2, 4, 4, 4], [2, 4, 2, 2]].map { Tensor(shape: $0, initializer: .normal(std: 1), generator: &g) }
        func loss() -> Double {
            zip(neck.forward(inputs), weights).reduce(0.0) { s, p in
                s + zip(p.0.data, p.1.data).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            }
        }
        _ = neck.forward(inputs)
        let dInputs = neck.backward(weights)
        // Steps of 10⁻³: BatchNorm over 32 values a channel on the coarsest map puts ReLU kinks close together.
        func check(_ analytic: Double, _ perturb: (Float) -> Void, _ what: String) {
            let h: Float = 1e-3
            perturb(h); let lp = loss()
            perturb(-2 * h); let lm = loss()
            perturb(h)
            let numeric = (lp - lm) / Double(2 * h)
            XCTAssertEqual(analytic, numeric, accuracy: 3e-2 * max(1, abs(numeric)) + 2e-3, what)
        }
        for l in 0..<3 {
            for i in [0, inputs[l].count / 2, inputs[l].count - 1] {
                check(Double(dInputs[l].data[i]), { inputs[l].data[i] += $0 }, "input \(l)[\(i)]")
            }
        }
        for p in neck.parameters {
            for i in [0, p.value.count - 1] {
                check(Double(p.grad.data[i]), { p.value.data[i] += $0 }, "\(p.name)[\(i)]")
            }
        }
    }

    /// Level-major anchors: per level the stride's grid, sizes `anchorSizes · s/8`, centred on the cells.
    func testPyramidAnchorsCountOrderAndSizes() throws {
        let c = Self.pyramidConfig()
        let d = try Detector(config: c, seed: 0)
        XCTAssertEqual(c.levelSizes, [16, 8, 4])
        XCTAssertEqual(c.levelAnchorCounts, [16 * 16 * 2, 8 * 8 * 2, 4 * 4 * 2])
        XCTAssertEqual(d.anchors.count, 672)
        // Stride 4: sizes 4 and 8 at centre (2, 2); cell (y 1, x 2) centre (10, 6).
        XCTAssertEqual(d.anchors[0].xyxy, [0, 0, 4, 4])
        XCTAssertEqual(d.anchors[1].xyxy, [-2, -2, 6, 6])
        XCTAssertEqual(d.anchors[(1 * 16 + 2) * 2].xyxy, [8, 4, 12, 8])
        // Stride 8 (from index 512): the single-level anchors (8 and 16).
        XCTAssertEqual(d.anchors[512].xyxy, [0, 0, 8, 8])
        XCTAssertEqual(Array(d.anchors[512..<640]), try Detector(config: DetectorFixtures.tinyConfig(), seed: 0).anchors)
        // Stride 16 (from index 640): sizes 16 and 32 at centre (8, 8); last cell centre (56, 56).
        XCTAssertEqual(d.anchors[640].xyxy, [0, 0, 16, 16])
        XCTAssertEqual(d.anchors[641].xyxy, [-8, -8, 24, 24])
        XCTAssertEqual(d.anchors[671].xyxy, [40, 40, 72, 72])
        // The outputs follow: [N, A_total, ·], and the queries' levels and cells are read from the anchor index.
        let out = d.forward(DetectorFixtures.randomBatch(config: c, n: 2, seed: 1).images)
        XCTAssertEqual(out.denseLogits.shape, [2, 672, 2])
        XCTAssertEqual(out.denseDeltas.shape, [2, 672, 4])
        XCTAssertEqual(out.setLogits.shape, [24, 3])
        let (levels, cells) = d.locate([[0, 35, 511, 512, 533, 640, 671]])
        XCTAssertEqual(levels, [[0, 0, 0, 1, 1, 2, 2]])
        XCTAssertEqual(cells, [[0, 17, 255, 0, 10, 0, 15]])
    }

    /// The head is shared: one set of convolution weights, BatchNorms per level; every name is unique; two strides
    /// work too.
    func testSharedHeadParametersAndNames() throws {
        for strides in [[4, 8, 16], [8, 16], [4, 8]] {
            let d = try Detector(config: Self.pyramidConfig(strides: strides), seed: 0)
            let names = d.parameters.map(\.name) + d.batchNorms.flatMap { $0.buffers.map(\.0) }
            XCTAssertEqual(Set(names).count, names.count, "\(strides)")
            XCTAssertEqual(names.filter { $0 == "dense.conv0.conv.weight" }.count, 1)
            XCTAssertEqual(names.filter { $0.hasPrefix("dense.cls.") }.count, 2)
            for s in strides {
                XCTAssertTrue(names.contains("dense.conv1.bn\(s).weight") && names.contains("fpn.lateral\(s).weight")
                              && names.contains("fpn.output\(s).bn.running_var"), "\(strides) \(s)")
            }
            XCTAssertFalse(names.contains("dense.conv0.bn.weight"))
        }
    }

    /// Unsupported strides and peaks on a pyramid are errors naming the key.
    func testValidationNamesTheKey() {
        for bad in [[4, 16], [16, 8], [8, 8], [32], [4], []] {
            XCTAssertThrowsError(try Self.pyramidConfig(strides: bad).validate(), "\(bad)") {
                XCTAssertTrue("\($0)".contains("pyramidStrides"), "\($0)")
            }
        }
        var c = Self.pyramidConfig()
        c.querySelection = .peaks
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("querySelection"), "\($0)") }
        c.querySelection = .nms
        XCTAssertNoThrow(try c.validate())
    }

    /// A checkpoint's configuration without the key (written before it existed) decodes to one level.
    func testConfigurationWithoutTheKeyIsOneLevel() throws {
        var entries = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(DetectorFixtures.tinyConfig().jsonString().utf8)) as? [String: Any])
        var pyramid = DetectorFixtures.tinyConfig()
        pyramid.pyramidStrides = [8, 16]
        entries["pyramidStrides"] = nil
        XCTAssertEqual(try DetectorConfig.from(entries: entries, source: "old.json"), DetectorFixtures.tinyConfig())
        entries["pyramidStrides"] = [8, 16]
        XCTAssertEqual(try DetectorConfig.from(entries: entries, source: "new.json"), pyramid)
    }

    /// A pyramid network survives a checkpoint: every parameter and running statistic (the levels' own BatchNorms
    /// included) and the inference outputs come back identical.
    func testPyramidCheckpointRoundTrip() throws {
        let c = Self.pyramidConfig(strides: [4, 8, 16])
        let d = try Detector(config: c, seed: 4)
        let images = DetectorFixtures.randomBatch(config: c, n: 2, seed: 5).images
        _ = d.forward(images)  // training mode: the running statistics move away from their initial values
        d.setTraining(false)
        let expected = d.forward(images)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pyramid-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(d, optimizer: nil, state: TrainingState(seed: 4), to: url)
        let loaded = try Checkpoint.load(url).detector
        XCTAssertEqual(loaded.config, c)
        XCTAssertEqual(loaded.parameters.map(\.value), d.parameters.map(\.value))
        XCTAssertEqual(loaded.batchNorms.flatMap { $0.buffers.map { $0.1 } }, d.batchNorms.flatMap { $0.buffers.map { $0.1 } })
        loaded.setTraining(false)
        let out = loaded.forward(images)
        XCTAssertEqual(out.denseLogits, expected.denseLogits)
        XCTAssertEqual(out.setBoxes, expected.setBoxes)
        XCTAssertEqual(out.selected, expected.selected)
    }
}
