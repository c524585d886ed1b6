import DetectorModel
import Foundation
import NeuralNet
@testable import ONNXExport
import SwiftProtobuf
import TestSupport
import Training
import XCTest

/// The exported file, read back with SwiftProtobuf: header, graph interface, a well-formed node list, BatchNorm
/// folded away — without onnxruntime.
final class ONNXModelTests: XCTestCase {
    /// Opset 17 and IR version 8; input `images [N, 3, S, S]`; the outputs each head promises, with their shapes.
    func testInterfaceOfEveryConfiguration() throws {
        for (label, config) in ExportFixtures.configurations(syntheticPreset: RunConfiguration.syntheticPreset(classes: ["a", "b"])) {
            let model = try ExportFixtures.roundTrip(try ExportFixtures.perturbedDetector(config))
            XCTAssertEqual(model.irVersion, 8, label)
            XCTAssertEqual(model.opsetImport.map(\.version), [17], label)
            XCTAssertEqual(model.opsetImport.first?.domain, "", label)
            let graph = model.graph
            let s = Int64(config.inputSize), a = Int64(config.featureSize * config.featureSize * config.anchorsPerLocation)
            let c = Int64(config.numClasses), k = Int64(config.hypotheses)
            XCTAssertEqual(graph.input.map(\.name), ["images"], label)
            XCTAssertEqual(dims(graph.input[0]), ["N", "3", "\(s)", "\(s)"], label)
            var expected: [String: [String]] = ["dense_boxes": ["N", "\(a)", "4"], "dense_scores": ["N", "\(a)", "\(c)"]]
            if config.setHead != .none {
                expected["set_boxes"] = ["N", "\(k)", "4"]
                expected["set_scores"] = ["N", "\(k)", "\(c)"]
            }
            if config.setHead == .query { expected["set_anchors"] = ["N", "\(k)"] }
            XCTAssertEqual(Dictionary(uniqueKeysWithValues: graph.output.map { ($0.name, dims($0)) }), expected, label)
            let elem = graph.output.first { $0.name == "set_anchors" }?.type.tensorType.elemType
            if config.setHead == .query { XCTAssertEqual(elem, Int32(Onnx_TensorProto.DataType.int64.rawValue), label) }
            let config = model.metadataProps.first { $0.key == "config" }?.value ?? ""
            XCTAssertEqual(try DetectorConfig.from(json: config, source: "metadata").inputSize, Int(s), label)
        }
    }

    /// Every node input is the graph input, an initializer or an earlier node's output; every graph output is
    /// produced; names are unique; no BatchNormalization node is left; NMS selection uses the ONNX operator.
    func testGraphIsWellFormed() throws {
        for (label, config) in ExportFixtures.configurations(syntheticPreset: RunConfiguration.syntheticPreset(classes: ["a", "b"])) {
            let graph = try ExportFixtures.roundTrip(try ExportFixtures.perturbedDetector(config)).graph
            var known = Set(graph.input.map(\.name))
            for t in graph.initializer {
                XCTAssertTrue(known.insert(t.name).inserted, "\(label): initializer \(t.name) twice")
                let count = t.dims.reduce(1, *)
                let width = t.dataType == Int32(Onnx_TensorProto.DataType.int64.rawValue) ? 8 : 4
                XCTAssertEqual(Int64(t.rawData.count), count * Int64(width), "\(label): \(t.name) size")
            }
            for node in graph.node {
                for input in node.input { XCTAssertTrue(known.contains(input), "\(label): \(node.opType) reads undefined \(input)") }
                for output in node.output { XCTAssertTrue(known.insert(output).inserted, "\(label): \(output) defined twice") }
            }
            for output in graph.output { XCTAssertTrue(known.contains(output.name), "\(label): \(output.name) not produced") }
            let ops = Set(graph.node.map(\.opType))
            XCTAssertFalse(ops.contains("BatchNormalization"), label)
            XCTAssertEqual(ops.contains("NonMaxSuppression"), config.setHead == .query && config.querySelection == .nms, label)
            XCTAssertEqual(ops.contains("MaxPool"), config.setHead == .query && config.querySelection == .peaks, label)
        }
    }

    /// The stem's exported convolution (BatchNorm folded into weight and bias) reproduces `relu(bn(conv(x)))` in
    /// evaluation mode, with the perturbed statistics (rtol 1e-4, atol 1e-5).
    func testFoldedConvolutionPreservesTheOutput() throws {
        let detector = try ExportFixtures.perturbedDetector(ExportFixtures.configurations(syntheticPreset: DetectorConfig())[1].1)
        let graph = try ExportFixtures.roundTrip(detector).graph
        func tensor(_ name: String) throws -> Tensor {
            let t = try XCTUnwrap(graph.initializer.first { $0.name == name }, name)
            let values = t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            return Tensor(shape: t.dims.map(Int.init), data: values)
        }
        let stem = detector.backbone.stem
        var g = SeededGenerator(seed: 9)
        let conv = Conv2D(name: "folded", inChannels: 3, outChannels: stem.conv.outChannels, kernelSize: 3, stride: 2,
                          generator: &g)
        conv.weight.value = try tensor("backbone.stem.conv.weight")
        conv.bias!.value = try tensor("backbone.stem.conv.bias")
        XCTAssertNotEqual(conv.weight.value, stem.conv.weight.value, "the weights carry the BatchNorm scale")
        detector.setTraining(false)
        let x = Tensor(shape: [2, 3, 64, 64], initializer: .normal(std: 1), generator: &g)
        let expected = stem.forward(x), folded = ReLU().forward(conv.forward(x))
        XCTAssertEqual(expected.shape, folded.shape)
        let worst = zip(expected.data, folded.data).map { abs($0 - $1) - 1e-4 * abs($0) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-5)
    }

    /// A network key the exporter cannot express is an error naming it, when its value is not the default.
    func testUnsupportedSettingIsNamed() throws {
        var config = DetectorConfig()
        XCTAssertNoThrow(try ONNXExporter.checkSupported(config, exportable: ONNXExporter.exportableKeys.subtracting(["setGeometry"])))
        config.setGeometry = true
        XCTAssertThrowsError(try ONNXExporter.checkSupported(config, exportable: ONNXExporter.exportableKeys.subtracting(["setGeometry"]))) {
            XCTAssertEqual($0 as? ExportError, .unsupportedSetting(key: "setGeometry", value: "[true]"))
            XCTAssertTrue("\($0)".contains("setGeometry"))
        }
    }

    private func dims(_ v: Onnx_ValueInfoProto) -> [String] {
        v.type.tensorType.shape.dim.map { d in
            if case .dimParam(let p)? = d.value { return p }
            return "\(d.dimValue)"
        }
    }
}
