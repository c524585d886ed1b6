import Foundation
import NeuralNet
import TestSupport
import XCTest

/// `TimeAccounting`: nothing recorded when disabled, nested paths, worker leaves of concurrent regions, and the
/// categories of the instrumented kernels. No assertion depends on how long anything takes.
final class TimeAccountingTests: XCTestCase {
    override func tearDown() {
        TimeAccounting.stop()
        TimeAccounting.reset()
        super.tearDown()
    }

    /// Sleeps `microseconds` (wall time without load on the shared cores).
    private func pause(_ microseconds: UInt32 = 1000) { usleep(microseconds) }

    /// A small convolution, its forward and backward with the given worker count.
    private func convolve(workers: Int) -> (Tensor, Tensor) {
        let saved = Parallel.workers
        Parallel.workers = workers
        defer { Parallel.workers = saved }
        var g = SeededGenerator(seed: 5)
        let conv = Conv2D(name: "c", inChannels: 3, outChannels: 4, kernelSize: 3, generator: &g)
        let x = Tensor(shape: [2, 3, 8, 8], initializer: .normal(std: 1), generator: &g)
        let y = conv.forward(x)
        return (y, conv.backward(y))
    }

    func testDisabledRecordsNothingAndPassesValues() {
        TimeAccounting.stop()
        TimeAccounting.reset()
        XCTAssertFalse(TimeAccounting.isEnabled)
        XCTAssertEqual(TimeAccounting.measure("a") { 41 + 1 }, 42)
        TimeAccounting.add("b", seconds: 1)
        var hits = [Int](repeating: 0, count: 3)
        hits.withUnsafeMutableBufferPointer { h in
            let p = h.baseAddress!
            TimeAccounting.concurrentPerform(iterations: 3) { p[$0] += 1 }
        }
        XCTAssertEqual(hits, [1, 1, 1])
        _ = convolve(workers: 2)
        XCTAssertTrue(TimeAccounting.entries.isEmpty, "\(TimeAccounting.entries)")
    }

    func testNestedMeasurementsGetPathsAndInclusiveSeconds() {
        TimeAccounting.start()
        TimeAccounting.measure("a") {
            pause()
            TimeAccounting.measure("b") { pause() }
            TimeAccounting.measure("b") { pause() }
            TimeAccounting.add("c", seconds: 0.25)
        }
        TimeAccounting.measure("b") { pause() }
        TimeAccounting.stop()
        TimeAccounting.measure("a") { pause() }
        let e = TimeAccounting.entries
        XCTAssertEqual(Set(e.keys), ["a", "a/b", "a/c", "b"])
        XCTAssertEqual(e["a"]?.calls, 1)
        XCTAssertEqual(e["a/b"]?.calls, 2)
        XCTAssertEqual(e["b"]?.calls, 1)
        XCTAssertEqual(e["a/c"]?.seconds, 0.25)
        XCTAssertGreaterThan(e["a/b"]!.seconds, 0)
        TimeAccounting.reset()
        XCTAssertTrue(TimeAccounting.entries.isEmpty)
    }

    func testWorkerLeavesAreAShareOfTheRegion() {
        TimeAccounting.start()
        TimeAccounting.measure("outer") {
            TimeAccounting.concurrentPerform(iterations: 2) { _ in
                TimeAccounting.measure("leaf") { pause(2000) }
                pause(2000)
            }
        }
        TimeAccounting.stop()
        let e = TimeAccounting.entries
        XCTAssertEqual(Set(e.keys), ["outer", "outer/leaf"])
        XCTAssertEqual(e["outer/leaf"]?.calls, 2)
        XCTAssertGreaterThan(e["outer/leaf"]!.seconds, 0)
    }

    func testConvolutionAccountsConvAndItsGEMMWithOrWithoutWorkers() {
        for workers in [1, 2] {
            let plain = convolve(workers: workers)
            TimeAccounting.start()
            let timed = convolve(workers: workers)
            TimeAccounting.stop()
            XCTAssertEqual(timed.0.data, plain.0.data)
            XCTAssertEqual(timed.1.data, plain.1.data)
            let e = TimeAccounting.entries
            XCTAssertEqual(Set(e.keys), ["conv", "conv/gemm"], "workers \(workers)")
            XCTAssertEqual(e["conv"]?.calls, 2)
            XCTAssertGreaterThan(e["conv/gemm"]?.calls ?? 0, 0)
        }
    }

    func testLinearGEMMIsOutsideConv() {
        var g = SeededGenerator(seed: 9)
        let linear = Linear(name: "l", inFeatures: 5, outFeatures: 3, generator: &g)
        let x = Tensor(shape: [4, 5], initializer: .normal(std: 1), generator: &g)
        TimeAccounting.start()
        _ = linear.backward(linear.forward(x))
        TimeAccounting.stop()
        let e = TimeAccounting.entries
        XCTAssertEqual(Set(e.keys), ["gemm"])
        XCTAssertEqual(e["gemm"]?.calls, 3)
    }

    /// Two threads that drive measurements at once (data-parallel replicas) each nest their own: `outer/inner`
    /// twice, never `outer/outer` or an inner measurement under the other thread's path.
    func testEachDrivingThreadNestsItsOwnMeasurements() {
        TimeAccounting.start()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            TimeAccounting.measure("outer\(i)") {
                pause(2000)
                TimeAccounting.measure("inner") { pause(2000) }
            }
        }
        TimeAccounting.stop()
        XCTAssertEqual(Set(TimeAccounting.entries.keys), ["outer0", "outer0/inner", "outer1", "outer1/inner"])
        XCTAssertEqual(TimeAccounting.entries["outer1/inner"]?.calls, 1)
    }
}
