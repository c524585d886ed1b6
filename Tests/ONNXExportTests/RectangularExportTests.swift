import DetectorModel
import DetectorTestSupport
import NeuralNet
import XCTest
@testable import ONNXExport

/// A network trained on rectangles exports as the square graph `[N, 3, S, S]`: the weights are the same on any
/// shape, so the graph computes what the network computes on the square letterbox (onnxruntime parity:
/// `ONNXParityTests`, configuration "rectangular (square graph)").
final class RectangularExportTests: XCTestCase {
    func testRectangularConfigurationExportsTheSquareGraph() throws {
        var c = DetectorFixtures.tinyConfig()
        c.rectangular = true
        let d = try Detector(config: c, seed: 1)
        let model = try ONNXExporter.model(d)
        let input = try XCTUnwrap(model.graph.input.first)
        let dims = input.type.tensorType.shape.dim.map { $0.dimValue }
        XCTAssertEqual(Array(dims.suffix(3)), [3, Int64(c.inputSize), Int64(c.inputSize)])
        c.rectangular = false
        let square = try ONNXExporter.model(try Detector(config: c, seed: 1))
        XCTAssertEqual(model.graph.node.map(\.opType), square.graph.node.map(\.opType), "the same graph as the square network's")
        XCTAssertEqual(model.graph.initializer.map(\.rawData), square.graph.initializer.map(\.rawData))
    }
}
