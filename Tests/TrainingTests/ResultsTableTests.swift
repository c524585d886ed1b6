import Foundation
import TestSupport
@testable import Training
import XCTest

/// `results.csv` from log records, and what a `--resume` value names.
final class ResultsTableTests: XCTestCase {
    func step(_ n: Int, epoch: Int, loss: Double, lr: Double) -> LogRecord {
        .step(LogRecord.StepRecord(step: n, epoch: epoch, learningRate: lr, seconds: 0.1, loss: loss,
                                   terms: [("set.l1", loss / 2), ("dense.focal", loss / 4)], gradientNorm: 1, positives: 3,
                                   unmatchedBoxes: 0, skipped: nil))
    }

    func testOneRowPerEpochWithMeansAndTheValidationAfterItsLastStep() {
        let records: [LogRecord] = [
            step(1, epoch: 0, loss: 4, lr: 0.1), step(2, epoch: 0, loss: 2, lr: 0.2),
            .evaluation(.init(step: 2, epoch: 1, denseAP: 0.1, denseAP50: 0.25, setAP: nil, setAP50: nil)),
            step(3, epoch: 1, loss: .nan, lr: 0.3), step(4, epoch: 1, loss: 1, lr: 0.4),
        ]
        let lines = ResultsTable.csv(records).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines, [
            "epoch,step,dense.focal,set.l1,loss,set_ap50,set_ap,dense_ap50,dense_ap,lr",
            "1,2,0.75,1.5,3,,,0.25,0.1,0.2",
            "2,4,0.25,0.5,1,,,,,0.4",
            "",
        ])
    }

    func testResumeValues() throws {
        let out = try Fixtures.temporaryDirectory()
        XCTAssertEqual(TrainOptions.checkpointToResume(TrainOptions.resumeLast, out: out), out.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(TrainOptions.checkpointToResume(out.path, out: URL(fileURLWithPath: "/elsewhere")),
                       out.appendingPathComponent("last.safetensors"), "a run folder means its last checkpoint")
        XCTAssertEqual(TrainOptions.checkpointToResume("/x/best.safetensors", out: out).path, "/x/best.safetensors")
        var o = TrainOptions()
        o.resume = out.appendingPathComponent("last.safetensors")
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("no checkpoint at"), "\($0)") }
    }
}
