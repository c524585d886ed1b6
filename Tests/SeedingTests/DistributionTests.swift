import Seeding
import XCTest

/// The Gamma and Beta samplers of `SplitMix64` (mixup's blend ratio) against their distributions' moments.
final class DistributionTests: XCTestCase {
    /// Mean and variance of `n` draws.
    private func moments(_ n: Int, _ draw: () -> Double) -> (mean: Double, variance: Double) {
        let xs = (0..<n).map { _ in draw() }
        let mean = xs.reduce(0, +) / Double(n)
        return (mean, xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1))
    }

    /// Gamma(k, 1) has mean and variance k; with 40,000 draws the sample mean is within 4 standard errors
    /// (√(k / n)) and the variance within 5 % for the shapes tried; every draw is positive.
    func testGammaMoments() {
        var g = SplitMix64(seed: 7)
        for k in [1.0, 2.5, 32] {
            let n = 40_000
            let m = moments(n) { g.gamma(shape: k) }
            XCTAssertEqual(m.mean, k, accuracy: 4 * (k / Double(n)).squareRoot(), "shape \(k)")
            XCTAssertEqual(m.variance, k, accuracy: 0.05 * k, "shape \(k)")
        }
        XCTAssertTrue((0..<1000).allSatisfy { _ in g.gamma(shape: 1) > 0 })
    }

    /// Beta(a, b) has mean a / (a + b) and variance ab / ((a + b)²(a + b + 1)): Beta(32, 32), mixup's ratio, is
    /// centred on 0.5 with standard deviation 0.062; Beta(2, 6) is skewed (mean 0.25). Draws lie in (0, 1) and are
    /// a function of the seed.
    func testBetaMoments() {
        var g = SplitMix64(seed: 11)
        for (a, b) in [(32.0, 32.0), (2, 6)] {
            let n = 40_000, mean = a / (a + b), variance = a * b / ((a + b) * (a + b) * (a + b + 1))
            let m = moments(n) { g.beta(a, b) }
            XCTAssertEqual(m.mean, mean, accuracy: 4 * (variance / Double(n)).squareRoot(), "Beta(\(a), \(b))")
            XCTAssertEqual(m.variance, variance, accuracy: 0.05 * variance, "Beta(\(a), \(b))")
        }
        XCTAssertTrue((0..<1000).allSatisfy { _ in (0.0..<1.0).contains(g.beta(32, 32)) && g.beta(32, 32) > 0 })
        var x = SplitMix64(seed: 3), y = SplitMix64(seed: 3)
        XCTAssertEqual((0..<10).map { _ in x.beta(32, 32) }, (0..<10).map { _ in y.beta(32, 32) })
    }
}
