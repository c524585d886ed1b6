import DetectorModel
import Foundation
import NeuralNet
import SwiftProtobuf

/// Writes a `Detector` as an ONNX model (opset 17, IR version 8, `onnx.proto` of ONNX 1.12.0) through the
/// SwiftProtobuf types generated from `onnx.proto` (`Sources/ONNXExport/Generated`).
///
/// The graph (inference mode, BatchNorm folded into the convolutions, `BatchNorm2D.folded(into:)`):
/// - input `images: [N, 3, S, S]` float, letterboxed and normalised as `Predictor` does (ImageNet mean and std);
/// - `dense_boxes: [N, A, 4]` the dense head's boxes, `(x1, y1, x2, y2)` in input pixels, decoded against the
///   anchors (`DenseBoxDecoder`, torchvision's `BoxCoder`) and clipped to the input; `dense_scores: [N, A, C]`
///   their sigmoid class probabilities. NMS is left to the caller (`detector detect` applies a score threshold, the
///   1000 best pairs, class-aware NMS at IoU 0.5 and keeps 100: `PostProcessor.denseDetections`);
/// - with a set head, `set_boxes: [N, K, 4]` `(x1, y1, x2, y2)` in input pixels and `set_scores: [N, K, C]` the
///   softmax probabilities of the real classes: thresholding alone gives the detections (no NMS); the query head
///   also outputs `set_anchors: [N, K]` int64, the dense anchors its query selection picked, best first.
/// Query selection (`topk`, `peaks`, `nms`) is part of the graph: `TopK`, `MaxPool` for the 3×3 peaks, and the ONNX
/// `NonMaxSuppression` operator for the proposal NMS.
public enum ONNXExporter {
    /// The ONNX operator set of the graph.
    public static let opset: Int64 = 17
    /// The IR version that goes with opset 17 (ONNX 1.12).
    public static let irVersion: Int64 = 8
    /// Names of the graph's input and outputs.
    public enum Name {
        /// Input images.
        public static let images = "images"
        /// Dense head outputs.
        public static let denseBoxes = "dense_boxes", denseScores = "dense_scores"
        /// Set head outputs.
        public static let setBoxes = "set_boxes", setScores = "set_scores", setAnchors = "set_anchors"
    }

    /// Keys of `DetectorConfig` the exporter knows how to express; any other key must keep its default value.
    static let exportableKeys: Set<String> = [
        "name", "inputSize", "widths", "blocksPerStage", "headWidth", "headConvs", "anchorSizes", "anchorRatios",
        "classNames", "setHead", "hypotheses", "setWidth", "attentionHeads", "feedForward", "attentionLayers",
        "setClassPrior", "querySelection", "setGeometry", "setFineFeatures", "queryNMSIoU",
        // Rectangular training changes no weight: the graph takes the square letterbox `[N, 3, S, S]`, on which the
        // network computes what `Predictor` gives with `rectangular` off (the parity reference runs it so).
        "rectangular",
    ]

    /// Throws `ExportError.unsupportedSetting` naming the first network key outside `exportableKeys` whose value
    /// differs from the default (loss settings do not shape the inference graph and are ignored).
    public static func checkSupported(_ config: DetectorConfig) throws { try checkSupported(config, exportable: exportableKeys) }

    /// `checkSupported` against a given set of exportable keys.
    static func checkSupported(_ config: DetectorConfig, exportable: Set<String>) throws {
        let defaults = entries(DetectorConfig()), values = entries(config)
        for key in DetectorConfig.keys.sorted()
        where !exportable.contains(key) && !DetectorConfig.objectiveKeys.contains(key) {
            if values[key] != defaults[key] {
                throw ExportError.unsupportedSetting(key: key, value: values[key] ?? "?")
            }
        }
    }

    /// Every key's value as JSON text.
    private static func entries(_ config: DetectorConfig) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(config.jsonString().utf8)) as? [String: Any] else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in object {
            let data = (try? JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys])) ?? Data()
            out[k] = String(decoding: data, as: UTF8.self)
        }
        return out
    }

    /// The ONNX model of `detector` (in inference mode; the detector is not changed).
    public static func model(_ detector: Detector) throws -> Onnx_ModelProto {
        try checkSupported(detector.config)
        let g = GraphBuilder()
        let graph = DetectorGraph(builder: g, detector: detector)
        let outputs = graph.emit(images: Name.images)

        var proto = Onnx_GraphProto()
        proto.name = "swift_detector"
        proto.node = g.nodes
        proto.initializer = g.initializers
        let s = detector.config.inputSize, c = detector.config.numClasses, k = detector.hypotheses
        let a = detector.anchors.count
        proto.input = [valueInfo(Name.images, .float, ["N", 3, s, s])]
        var out = [valueInfo(Name.denseBoxes, .float, ["N", a, 4]), valueInfo(Name.denseScores, .float, ["N", a, c])]
        if outputs.set {
            out += [valueInfo(Name.setBoxes, .float, ["N", k, 4]), valueInfo(Name.setScores, .float, ["N", k, c])]
        }
        if outputs.anchors { out.append(valueInfo(Name.setAnchors, .int64, ["N", k])) }
        proto.output = out
        proto.docString = "images [N,3,\(s),\(s)] normalised (ImageNet mean/std, letterboxed); boxes (x1,y1,x2,y2) in input pixels; "
            + "dense head: NMS left to the caller; set head: threshold only. Classes: \(detector.config.classNames.joined(separator: ", "))"

        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        model.producerName = "swift-detector"
        model.producerVersion = Checkpoint.format
        var op = Onnx_OperatorSetIdProto()
        op.domain = ""
        op.version = opset
        model.opsetImport = [op]
        model.graph = proto
        var names = Onnx_StringStringEntryProto()
        names.key = "class_names"
        names.value = detector.config.classNames.joined(separator: "\n")
        var config = Onnx_StringStringEntryProto()
        config.key = "config"
        config.value = detector.config.jsonString()
        model.metadataProps = [names, config]
        return model
    }

    /// Serialises `model(detector)` to `url` (written atomically).
    public static func write(_ detector: Detector, to url: URL) throws -> Int {
        let data: Data
        do { data = try model(detector).serializedData() } catch let e as ExportError { throw e } catch {
            throw ExportError.io(path: url.path, reason: "cannot serialise the model: \(error)")
        }
        do { try data.write(to: url, options: .atomic) } catch {
            throw ExportError.io(path: url.path, reason: error.localizedDescription)
        }
        return data.count
    }

    /// A graph value's type: element type and shape (a `String` dimension is symbolic).
    static func valueInfo(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Any]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let n = d as? Int { dim.dimValue = Int64(n) } else { dim.dimParam = "\(d)" }
            return dim
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.rawValue)
        tensor.shape = shape
        var t = Onnx_TypeProto()
        t.tensorType = tensor
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.type = t
        return v
    }
}
