import Criterion
import Detection
import NeuralNet
import TestSupport
import XCTest

/// `TrainBenchmark` on the small test network: the step's time splits into non-negative shares that add up to
/// the step, with both data sources. No assertion depends on how long anything takes.
final class TrainBenchmarkTests: XCTestCase {
    private func checkShares(_ r: TrainBenchmark.Result, steps: Int, file: StaticString = #filePath, line: UInt = #line) {
        let s = r.shares
        for (name, seconds) in s.rows {
            XCTAssertGreaterThanOrEqual(seconds, 0, name, file: file, line: line)
        }
        XCTAssertGreaterThan(s.conv, 0, file: file, line: line)
        XCTAssertGreaterThan(s.gemmInConv, 0, file: file, line: line)
        XCTAssertLessThanOrEqual(s.gemmInConv, s.conv, file: file, line: line)
        XCTAssertGreaterThanOrEqual(s.matching, 0, file: file, line: line)
        XCTAssertEqual(r.accounting["matching"]?.calls, steps, "one matching record per step", file: file, line: line)
        XCTAssertGreaterThan(r.accounting["conv"]?.calls ?? 0, 0, file: file, line: line)
        // Every phase ran and the disjoint parts never add up to more than the step (1 % clock slack). How much
        // of the step they cover is a timing figure (`detector bench train` prints it), not asserted here.
        for (name, seconds) in r.phases { XCTAssertGreaterThan(seconds, 0, name, file: file, line: line) }
        XCTAssertLessThanOrEqual(s.sum, 1.01 * s.total, "\(s.rows), total \(s.total)", file: file, line: line)
        XCTAssertEqual(s.sum + s.unaccounted, s.total, accuracy: 1e-12, file: file, line: line)
        XCTAssertEqual(s.percent(s.total), 100, accuracy: 1e-9, file: file, line: line)
        XCTAssertEqual(r.images, r.batchSize * steps, file: file, line: line)
        XCTAssertFalse(TimeAccounting.isEnabled, "accounting is switched off after the run", file: file, line: line)
    }

    func testSyntheticPipelineSharesCoverTheStep() throws {
        let config = EvaluateModelTests.smallConfig()
        let r = try TrainBenchmark.run(config: config, batchSize: 2, steps: 2, data: .synthetic(images: 4))
        XCTAssertEqual(r.steps, 2)
        XCTAssertEqual(r.phases.map(\.name), ["forward", "dense criterion", "set criterion", "backward", "optimizer"])
        XCTAssertTrue(r.dataDescription.contains("BatchLoader over 4 synthetic images"), r.dataDescription)
        checkShares(r, steps: 2)
    }

    func testFixedRandomBatchHasNoDataCost() throws {
        let config = EvaluateModelTests.smallConfig()
        let r = try TrainBenchmark.run(config: config, batchSize: 2, steps: 2, data: .random(boxesPerImage: 3))
        XCTAssertEqual(r.dataWait, 0)
        XCTAssertEqual(r.batchAssembly, 0)
        checkShares(r, steps: 2)
    }

    func testWithoutAccountingNoCategoryIsRecorded() throws {
        let config = EvaluateModelTests.smallConfig()
        let r = try TrainBenchmark.run(config: config, batchSize: 2, steps: 1, data: .random(boxesPerImage: 3),
                                       accounting: false)
        XCTAssertTrue(r.accounting.isEmpty, "\(r.accounting)")
        XCTAssertEqual(r.shares.conv, 0)
        XCTAssertGreaterThan(r.shares.otherForwardBackward, 0)
        XCTAssertNil(SetCriterion.matchingTimer)
    }
}
