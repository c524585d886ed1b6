import DetectorModel
import DetectorTestSupport
import XCTest
@testable import ONNXExport

/// The exporter writes fixed-shape square graphs: a rectangular configuration is refused, naming the setting.
final class RectangularExportTests: XCTestCase {
    func testRectangularConfigurationIsRefusedByName() throws {
        var c = DetectorFixtures.tinyConfig()
        c.rectangular = true
        let d = try Detector(config: c, seed: 1)
        XCTAssertThrowsError(try ONNXExporter.model(d)) {
            XCTAssertEqual($0 as? ExportError, .unsupportedSetting(key: "rectangular", value: "[true]"))
            XCTAssertTrue("\($0)".contains("rectangular") && "\($0)".contains("square"), "\($0)")
        }
        c.rectangular = false
        XCTAssertNoThrow(try ONNXExporter.model(try Detector(config: c, seed: 1)))
    }
}
