import DetectorModel
import Foundation
@testable import ONNXExport
import XCTest

/// The exporter writes one stage of set hypotheses; progressive acceptance's second stage is refused by name.
final class ProgressiveExportTests: XCTestCase {
    func testSecondStageIsRefusedByName() throws {
        var c = DetectorConfig.reference(classes: ["a"])
        c.inputSize = 64
        c.hypotheses = 12
        c.setProgressive = 0.8
        XCTAssertThrowsError(try ONNXExporter.model(try Detector(config: c, seed: 1))) {
            guard case .unsupportedSetting(let key, _)? = $0 as? ExportError else { return XCTFail("\($0)") }
            XCTAssertEqual(key, "setProgressive")
        }
        c.setProgressive = nil
        XCTAssertNoThrow(try ONNXExporter.checkSupported(c))
    }
}
