import NeuralNet
import TestSupport
import XCTest

final class RandomTests: XCTestCase {
    /// Same seed, same sequence; different seeds, different sequences.
    func testDeterminism() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let sa = (0..<8).map { _ in a.next() }, sb = (0..<8).map { _ in b.next() }, sc = (0..<8).map { _ in c.next() }
        XCTAssertEqual(sa, sb)
        XCTAssertNotEqual(sa, sc)
    }

    /// Moments of 200 000 samples: uniform mean 0.5 ± 0.005, normal mean 0 ± 0.01 and std 1 ± 0.01.
    func testDistributions() {
        var g = SeededGenerator(seed: 7)
        let n = 200_000
        var su = 0.0, sn = 0.0, sn2 = 0.0
        for _ in 0..<n {
            let u = g.nextUniform()
            XCTAssert(u >= 0 && u < 1)
            su += Double(u)
            let z = Double(g.nextNormal())
            sn += z; sn2 += z * z
        }
        XCTAssertEqual(su / Double(n), 0.5, accuracy: 0.005)
        XCTAssertEqual(sn / Double(n), 0, accuracy: 0.01)
        XCTAssertEqual((sn2 / Double(n)).squareRoot(), 1, accuracy: 0.01)
    }

    /// Kaiming and Xavier standard deviations within 3 % of their formulas on a [256, 64, 3, 3] weight.
    func testInitializerScales() {
        var g = SeededGenerator(seed: 8)
        let shape = [256, 64, 3, 3]
        let fanIn = 64.0 * 9, fanOut = 256.0 * 9
        let cases: [(Initializer, Double)] = [
            (.kaimingNormal(), (2 / fanIn).squareRoot()),
            (.kaimingUniform(), (2 / fanIn).squareRoot()),
            (.kaimingNormal(fanOutMode: true), (2 / fanOut).squareRoot()),
            (.xavierUniform(), (2 / (fanIn + fanOut)).squareRoot()),
            (.xavierNormal(), (2 / (fanIn + fanOut)).squareRoot()),
        ]
        for (initializer, std) in cases {
            let t = initializer.tensor(shape: shape, generator: &g)
            let measured = (t.squaredNorm() / Double(t.count)).squareRoot()
            XCTAssertEqual(measured / std, 1, accuracy: 0.03, "\(initializer)")
        }
    }
}
