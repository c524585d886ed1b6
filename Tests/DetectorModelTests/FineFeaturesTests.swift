import NeuralNet
import Seeding
import XCTest
import DetectorTestSupport
@testable import DetectorModel

/// `setFineFeatures`: the query head also reads stage 1's stride-4 features under each proposal's centre.
final class FineFeaturesTests: XCTestCase {
    /// Centres normalised by the input's longer side land in the stride-4 cell beneath them, clamped to the map, on
    /// square and on rectangular (landscape and portrait) maps.
    func testCentreCellsFollowTheLongerSide() {
        // A 64×96 input (H×W): its stride-4 map is 16×24, normalised by 96.
        let landscape = Tensor(shape: [1, 2, 16, 24])
        let boxes: [Float] = [0.5, 0.25, 0.1, 0.1,   // (48, 24) px → cell (6, 12)
                              0.0, 0.0, 0.1, 0.1,    // the corner → (0, 0)
                              0.999, 0.9, 0.1, 0.1]  // (95.9, 86.4) px: y beyond the 64-px height → last row
        XCTAssertEqual(QuerySetHead.centreCells(boxes, map: landscape), [6 * 24 + 12, 0, 15 * 24 + 23])
        let portrait = Tensor(shape: [1, 2, 24, 16])
        XCTAssertEqual(QuerySetHead.centreCells([0.25, 0.5, 0.1, 0.1], map: portrait), [12 * 16 + 6])
        let square = Tensor(shape: [1, 2, 16, 16])
        XCTAssertEqual(QuerySetHead.centreCells([0.51, 0.26, 0.1, 0.1], map: square), [4 * 16 + 8])
    }

    /// The option widens only the first embedding (by stage 1's width), the outputs depend on the stride-4 features,
    /// and off it leaves the network as it was.
    func testFineFeaturesFeedTheSetHead() throws {
        var c = DetectorFixtures.tinyConfig()
        let plain = try Detector(config: c, seed: 5)
        c.setFineFeatures = true
        let fine = try Detector(config: c, seed: 5)
        let count = { (d: Detector) in d.parameters.reduce(0) { $0 + $1.value.count } }
        XCTAssertEqual(count(fine) - count(plain), c.widths[1] * c.setWidth)
        let batch = DetectorFixtures.randomBatch(config: c, n: 2, seed: 6)
        _ = fine.forward(batch.images)
        fine.pinnedQueries = fine.lastQueries
        let before = fine.forward(batch.images).setLogits
        // Weights that only the stride-4 features pass through: the embedding's columns after the two F-wide blocks.
        let embed = try XCTUnwrap(fine.parameters.first { $0.name == "set.embed1.weight" })
        let inWidth = embed.value.shape[1], f = fine.querySet!.featureWidth
        for row in 0..<embed.value.shape[0] {
            for j in 0..<c.widths[1] { embed.value.data[row * inWidth + 2 * f + j] += 0.5 }
        }
        let after = fine.forward(batch.images).setLogits
        XCTAssertGreaterThan(zip(before.data, after.data).map { abs($0 - $1) }.max() ?? 0, 1e-3)
    }

    /// The head's gradient w.r.t. the stride-4 features against central differences of a fixed linear function of
    /// its outputs: non-zero at the two cells under the proposals' centres, zero elsewhere.
    func testFineGradientMatchesFiniteDifferences() {
        var g = SeededGenerator(seed: 11)
        let head = QuerySetHead(featureWidth: 4, c4Channels: 4, fineChannels: 3, classes: 2, width: 8, heads: 2, hidden: 16,
                                layers: 1, classPrior: true, geometry: true, generator: &g)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in g.nextNormal() })
        }
        let features = random([1, 4, 4, 4]), c4 = random([1, 4, 2, 2])
        var fine = random([1, 3, 8, 8])
        let proposals: [Float] = [0.3, 0.3, 0.2, 0.2, 0.7, 0.6, 0.2, 0.25], scores: [Float] = [0.5, 0.2, 0.3, 0.6]
        let a = random([2, 3]), b = random([8])
        func loss(_ fine: Tensor) -> Double {
            let r = head.forward(features: [features], c4: c4, levels: [[0, 0]], cells: [[5, 10]], strides: [8],
                                 proposals: proposals, proposalScores: scores, fine: fine)
            return zip(r.logits.data, a.data).reduce(0) { $0 + Double($1.0 * $1.1) }
                + zip(r.boxes, b.data).reduce(0) { $0 + Double($1.0 * $1.1) }
        }
        _ = loss(fine)
        let dFine = head.backward(dBoxes: b.data, dLogits: a).dFine!
        XCTAssertEqual(dFine.shape, [1, 3, 8, 8])
        let centres = Set([2 * 8 + 2, 4 * 8 + 5])  // (x, y) = (2.4, 2.4) and (5.6, 4.8) on the 8×8 map
        for c in 0..<3 {
            for cell in 0..<64 {
                let i = c * 64 + cell
                guard centres.contains(cell) else { XCTAssertEqual(dFine.data[i], 0); continue }
                let orig = fine.data[i], h: Float = 1e-2
                fine.data[i] = orig + h
                let up = loss(fine)
                fine.data[i] = orig - h
                let down = loss(fine)
                fine.data[i] = orig
                let numeric = (up - down) / Double(2 * h)
                XCTAssertGreaterThan(abs(numeric), 1e-4, "channel \(c) cell \(cell)")
                XCTAssertEqual(Double(dFine.data[i]), numeric, accuracy: 2e-2 * max(1, abs(numeric)), "channel \(c) cell \(cell)")
            }
        }
    }

    /// Through the whole network: the set head's gradient reaches stage 1 by the fine features as well. The fine
    /// columns of the first embedding are enlarged so that this path dominates stage 1's gradient, which is then
    /// held against central differences of a fixed linear function of the set outputs.
    func testFineGradientReachesTheBackbone() throws {
        var c = DetectorFixtures.tinyConfig()
        c.setFineFeatures = true
        let d = try Detector(config: c, seed: 7)
        let embed = try XCTUnwrap(d.parameters.first { $0.name == "set.embed1.weight" })
        let inWidth = embed.value.shape[1], f = d.querySet!.featureWidth
        for row in 0..<embed.value.shape[0] {
            for j in 0..<c.widths[1] { embed.value.data[row * inWidth + 2 * f + j] *= 10 }
        }
        let images = DetectorFixtures.randomBatch(config: c, n: 2, seed: 8).images
        let first = d.forward(images)
        d.pinnedQueries = d.lastQueries
        var g = SeededGenerator(seed: 9)
        let a = (0..<first.setLogits.data.count).map { _ in g.nextNormal() }, b = (0..<first.setBoxes.count).map { _ in g.nextNormal() }
        func loss() -> Double {
            let out = d.forward(images)
            return zip(out.setLogits.data, a).reduce(0) { $0 + Double($1.0 * $1.1) } + zip(out.setBoxes, b).reduce(0) { $0 + Double($1.0 * $1.1) }
        }
        let out = d.forward(images)
        for p in d.parameters { p.grad = Tensor(shape: p.value.shape) }
        d.backward(dDenseLogits: Tensor(shape: out.denseLogits.shape), dDenseDeltas: Tensor(shape: out.denseDeltas.shape),
                   dSetBoxes: b, dSetLogits: Tensor(shape: out.setLogits.shape, data: a))
        let p = try XCTUnwrap(d.parameters.first { $0.name == "backbone.stage1.down.conv.weight" })
        for idx in [0, p.value.count / 3, p.value.count / 2, p.value.count - 1] {
            let numeric = CentralDifference.derivative(of: loss, at: p, index: idx, step: 2e-3)
            XCTAssertEqual(Double(p.grad.data[idx]), numeric, accuracy: 4e-2 * max(1, abs(numeric)) + 2e-3, "[\(idx)]")
        }
    }

    /// Fine features need a query head; the error names the key.
    func testFineFeaturesNeedTheQueryHead() {
        var c = DetectorFixtures.tinyConfig(setHead: .fc)
        c.setFineFeatures = true
        XCTAssertThrowsError(try c.validate()) { error in
            XCTAssertTrue("\(error)".contains("setFineFeatures"), "\(error)")
        }
    }
}
