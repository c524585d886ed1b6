import Foundation
import Reporting
import TestSupport
import XCTest
@testable import Training

/// `log.jsonl` records: the keys the file has always had, non-finite values as null, and the charts drawn from them.
final class LogRecordTests: XCTestCase {
    func testStepAndEvaluationRecordsRoundTripWithTheirKeys() throws {
        let step = LogRecord.StepRecord(step: 3, epoch: 0, learningRate: 1e-3, seconds: 0.5, loss: 2,
                                        terms: [("dense.focal", 1.5), ("set.class", .infinity)], gradientNorm: 4,
                                        positives: 10, unmatchedBoxes: 1, skipped: "non-finite loss term set.class = inf")
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let text = String(decoding: try enc.encode(LogRecord.step(step)), as: UTF8.self)
        XCTAssertEqual(text, #"{"dense.focal":1.5,"epoch":0,"grad_norm":4,"loss":2,"lr":0.001,"positives":10,"seconds":0.5,"#
            + #""set.class":null,"skipped":"non-finite loss term set.class = inf","step":3,"unmatched_boxes":1}"#)
        guard case let .step(back) = try JSONDecoder().decode(LogRecord.self, from: Data(text.utf8)) else { return XCTFail() }
        XCTAssertEqual(back.term("dense.focal"), 1.5)
        XCTAssertTrue(back.term("set.class")?.isNaN ?? false, "null reads back as NaN")
        XCTAssertEqual(back.skipped, step.skipped)

        let eval = LogRecord.evaluation(.init(step: 8, epoch: 2, denseAP: 0.3, denseAP50: 0.6, setAP: nil, setAP50: nil))
        let evalText = String(decoding: try enc.encode(eval), as: UTF8.self)
        XCTAssertEqual(evalText, #"{"dense_ap":0.3,"dense_ap50":0.6,"epoch":2,"eval_step":8}"#)
        XCTAssertEqual(try JSONDecoder().decode(LogRecord.self, from: Data(evalText.utf8)), eval)
    }

    func testChartsFromRecords() {
        let steps = (1...10).map { LogRecord.step(.init(step: $0, epoch: 0, learningRate: 1, seconds: 1, loss: Double($0),
                                                         terms: [("dense.focal", 1), ("set.l1", 2)], gradientNorm: 1,
                                                         positives: 1, unmatchedBoxes: 0)) }
        let noEval = PlotHook.charts(steps)
        XCTAssertEqual(noEval.loss.series.map(\.name), ["loss", "dense.focal", "set.l1"])
        XCTAssertEqual(noEval.loss.series[0].points.count, 10)
        XCTAssertNil(noEval.ap)
        let withEval = PlotHook.charts(steps + [.evaluation(.init(step: 10, epoch: 1, denseAP: 0.2, denseAP50: 0.4, setAP: 0.3, setAP50: 0.5))])
        XCTAssertEqual(withEval.ap?.series.map(\.name), ["set_ap50", "set_ap", "dense_ap50", "dense_ap"])
    }
}
