import DetectorTestSupport
import NeuralNet
import XCTest
@testable import DetectorModel

/// The single-level network (`pyramidStrides` `[8]`, the default) is the network it was before the feature pyramid
/// existed: the same parameter names in the same order, the same initial values from a seed, the same outputs and
/// gradients. The checksums were computed by this test on the code before the pyramid was added.
final class SingleLevelPinTests: XCTestCase {
    /// Σ v and Σ |v|·(1 + i mod 7) (order-sensitive), in Double.
    static func checksum(_ values: [Float]) -> (Double, Double) {
        var s = 0.0, w = 0.0
        for (i, v) in values.enumerated() { s += Double(v); w += Double(abs(v)) * Double(1 + i % 7) }
        return (s, w)
    }

    static func fingerprint(setHead: DetectorConfig.SetHeadKind) throws -> [Double] {
        var c = DetectorFixtures.tinyConfig(setHead: setHead)
        c.setGeometry = setHead == .query
        let d = try Detector(config: c, seed: 11)
        let batch = DetectorFixtures.randomBatch(config: c, n: 2, seed: 12)
        let out = d.forward(batch.images)
        var g = SeededGenerator(seed: 13)
        let dl = Tensor(shape: out.denseLogits.shape, initializer: .normal(std: 1), generator: &g)
        let dd = Tensor(shape: out.denseDeltas.shape, initializer: .normal(std: 1), generator: &g)
        let db = Tensor(shape: [out.setBoxes.count], initializer: .normal(std: 1), generator: &g)
        let ds = Tensor(shape: out.setLogits.shape, initializer: .normal(std: 1), generator: &g)
        d.backward(dDenseLogits: dl, dDenseDeltas: dd, dSetBoxes: db.data, dSetLogits: ds)
        var parts: [[Float]] = [out.denseLogits.data, out.denseDeltas.data, out.setBoxes, out.setLogits.data,
                                out.selected.flatMap { $0.map(Float.init) }]
        parts.append(d.parameters.flatMap(\.value.data))
        parts.append(d.parameters.flatMap(\.grad.data))
        parts.append(d.batchNorms.flatMap { $0.buffers.flatMap { $0.1.data } })
        return parts.flatMap { p -> [Double] in let (a, b) = checksum(p); return [a, b] }
    }

    static func names(setHead: DetectorConfig.SetHeadKind) throws -> String {
        let d = try Detector(config: DetectorFixtures.tinyConfig(setHead: setHead), seed: 11)
        return (d.parameters.map(\.name) + d.batchNorms.flatMap { $0.buffers.map { $0.0 } }).joined(separator: ",")
    }

    /// Checksums printed by the network before the pyramid existed (forward outputs, selected anchors, parameters,
    /// gradients, running statistics) and the hash of its parameter and buffer names.
    static let expected: [DetectorConfig.SetHeadKind: (values: [Double], names: UInt64)] = [
        .query: ([-2.361602518e+03, 9.435043297e+03, 5.061945377e+00, 1.939406702e+02, 2.881219113e+01, 1.076734338e+02,
                  -2.497412204e+01, 1.572221374e+02, 1.124000000e+03, 4.408000000e+03, 1.346182106e+02, 7.340431224e+03,
                  1.109328823e+03, 7.040067213e+04, 1.135013359e+02, 4.830426656e+02], 15202215441008888995),
        .fc: ([-2.361602518e+03, 9.435043297e+03, 5.061945377e+00, 1.939406702e+02, 4.800604585e+01, 1.891740599e+02,
               8.631448019e-01, 1.211497123e+01, 1.320000000e+02, 4.940000000e+02, 9.634454300e+01, 1.458243021e+04,
               1.806935425e+03, 4.862187854e+04, 1.135013359e+02, 4.830426656e+02], 2515170542712859151),
    ]

    func testSingleLevelNetworkIsUnchanged() throws {
        for head in [DetectorConfig.SetHeadKind.query, .fc] {
            let (values, names) = try XCTUnwrap(Self.expected[head])
            let f = try Self.fingerprint(setHead: head)
            XCTAssertEqual(f.count, values.count)
            for (i, (got, want)) in zip(f, values).enumerated() {
                // The expected values are printed to 10 significant digits by im2col + sgemm convolutions; the
                // implicit-GEMM kernel (the default on AVX-512F) sums in another order, which moves the outputs and
                // gradients by about 1e-7 relative. A changed network moves them by far more than 1e-5.
                XCTAssertEqual(got, want, accuracy: 1e-5 * max(1, abs(want)), "\(head) checksum \(i)")
            }
            XCTAssertEqual(try Self.names(setHead: head).hashValueStable, names, "\(head) names")
        }
    }
}

extension String {
    /// FNV-1a of the UTF-8 bytes (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }
}
