import Criterion
import Benchmarks
import DetectorModel
import Training
import NeuralNet
import DetectorTestSupport
import TestSupport
import XCTest

/// `TrainBenchmark` on the small test network, with both data sources: every part of the step is measured. No
/// assertion depends on how long anything takes or compares two clocks.
final class TrainBenchmarkTests: XCTestCase {
    /// What a run must have recorded, whatever the clocks read: every phase and category measured, one matching
    /// record per step, the images counted, accounting switched off afterwards.
    private func checkRecorded(_ r: TrainBenchmark.Result, steps: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(r.shares.conv, 0, file: file, line: line)
        XCTAssertGreaterThan(r.shares.gemmInConv, 0, file: file, line: line)
        XCTAssertEqual(r.accounting["matching"]?.calls, steps, "one matching record per step", file: file, line: line)
        XCTAssertGreaterThan(r.accounting["conv"]?.calls ?? 0, 0, file: file, line: line)
        for (phase, seconds) in r.phases { XCTAssertGreaterThan(seconds, 0, phase.rawValue, file: file, line: line) }
        XCTAssertEqual(r.images, r.batchSize * steps, file: file, line: line)
        XCTAssertFalse(TimeAccounting.isEnabled, "accounting is switched off after the run", file: file, line: line)
    }

    func testSyntheticPipelineRecordsEveryPart() throws {
        let config = DetectorFixtures.smallConfig()
        let r = try TrainBenchmark.run(config: config, batchSize: 2, steps: 2, data: .synthetic(images: 4))
        XCTAssertEqual(r.steps, 2)
        XCTAssertEqual(r.phases.map(\.phase), TrainPhase.allCases)
        XCTAssertTrue(r.dataDescription.contains("BatchLoader over 4 synthetic images"), r.dataDescription)
        checkRecorded(r, steps: 2)
    }

    func testFixedRandomBatchHasNoDataCost() throws {
        let config = DetectorFixtures.smallConfig()
        let r = try TrainBenchmark.run(config: config, batchSize: 2, steps: 2, data: .random(boxesPerImage: 3))
        XCTAssertEqual(r.dataWait, 0)
        XCTAssertEqual(r.batchAssembly, 0)
        checkRecorded(r, steps: 2)
    }

    func testWithoutAccountingNoCategoryIsRecorded() throws {
        let config = DetectorFixtures.smallConfig()
        let r = try TrainBenchmark.run(config: config, batchSize: 2, steps: 1, data: .random(boxesPerImage: 3),
                                       accounting: false)
        XCTAssertTrue(r.accounting.isEmpty, "\(r.accounting)")
        XCTAssertEqual(r.shares.conv, 0)
        XCTAssertGreaterThan(r.shares.otherForwardBackward, 0)
        XCTAssertNil(SetCriterion.matchingTimer)
    }
}
