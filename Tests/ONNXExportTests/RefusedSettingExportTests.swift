import DetectorModel
import Foundation
@testable import ONNXExport
import XCTest

/// The exporter writes single-level graphs with one stage of set hypotheses: a pyramid, or progressive acceptance's
/// second stage, is refused with the setting's name before anything is written.
final class RefusedSettingExportTests: XCTestCase {
    private func small() -> DetectorConfig {
        var c = DetectorConfig.reference(classes: ["a"])
        c.inputSize = 64
        c.hypotheses = 12
        return c
    }

    /// `c` is refused naming `key`, by `model` and by `write`, which leaves no file.
    private func assertRefused(_ c: DetectorConfig, key: String) throws {
        let detector = try Detector(config: c, seed: 1)
        XCTAssertThrowsError(try ONNXExporter.model(detector)) {
            guard case .unsupportedSetting(let refused, _)? = $0 as? ExportError else { return XCTFail("\($0)") }
            XCTAssertEqual(refused, key)
            XCTAssertTrue("\($0)".contains(key), "\($0)")
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("refused-\(UUID().uuidString).onnx")
        XCTAssertThrowsError(try ONNXExporter.write(detector, to: url))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testPyramidIsRefusedByName() throws {
        var c = small()
        c.pyramidStrides = [8, 16]
        try assertRefused(c, key: "pyramidStrides")
        c.pyramidStrides = [8]
        XCTAssertNoThrow(try ONNXExporter.checkSupported(c))
    }

    func testSecondStageIsRefusedByName() throws {
        var c = small()
        c.setProgressive = 0.8
        try assertRefused(c, key: "setProgressive")
        c.setProgressive = nil
        XCTAssertNoThrow(try ONNXExporter.checkSupported(c))
    }
}
