import DetectorModel
import Foundation
@testable import ONNXExport
import XCTest

/// The exporter writes single-level graphs; a pyramid is refused with the setting's name before anything is written.
final class PyramidExportTests: XCTestCase {
    func testPyramidIsRefusedByName() throws {
        var c = DetectorConfig.reference(classes: ["a"])
        c.inputSize = 64
        c.hypotheses = 12
        c.pyramidStrides = [8, 16]
        let detector = try Detector(config: c, seed: 1)
        XCTAssertThrowsError(try ONNXExporter.model(detector)) {
            guard case .unsupportedSetting(let key, _)? = $0 as? ExportError else { return XCTFail("\($0)") }
            XCTAssertEqual(key, "pyramidStrides")
            XCTAssertTrue("\($0)".contains("pyramidStrides"), "\($0)")
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pyramid-\(UUID().uuidString).onnx")
        XCTAssertThrowsError(try ONNXExporter.write(detector, to: url))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        c.pyramidStrides = [8]
        XCTAssertNoThrow(try ONNXExporter.checkSupported(c))
    }
}
