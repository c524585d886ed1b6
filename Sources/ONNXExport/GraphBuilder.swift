import Foundation
import NeuralNet
import SwiftProtobuf

/// Accumulates the nodes and initializers of one ONNX graph (`Onnx_GraphProto`, generated from `onnx.proto`) and
/// names every value uniquely (`<hint>_<n>`).
///
/// Every method appends nodes of the default ONNX domain at the opset `ONNXExporter.opset` (17) and returns the
/// names of the node's outputs; constants become initializers. Operators whose arguments moved from attributes to
/// inputs by opset 17 take them as inputs here (`Unsqueeze`, `Squeeze`, `ReduceSum`, `Slice`, `Pad`, `Clip`, `TopK`,
/// `Split`), the others as attributes (`ReduceMax`, `Softmax`, `Transpose`, …).
public final class GraphBuilder {
    /// The nodes in topological order.
    public private(set) var nodes: [Onnx_NodeProto] = []
    /// Constant tensors (weights, anchors, shapes).
    public private(set) var initializers: [Onnx_TensorProto] = []
    private var used: [String: Int] = [:]

    /// An empty graph.
    public init() {}

    /// A value name not used before, from `hint`.
    public func fresh(_ hint: String) -> String {
        let n = used[hint, default: 0]
        used[hint] = n + 1
        return n == 0 ? hint : "\(hint)_\(n)"
    }

    // MARK: Constants

    /// A float initializer of `shape` (empty shape: a scalar).
    @discardableResult
    public func constant(_ hint: String, floats values: [Float], shape: [Int]) -> String {
        precondition(values.count == shape.reduce(1, *), "GraphBuilder: \(values.count) values for shape \(shape)")
        var t = Onnx_TensorProto()
        t.name = fresh(hint)
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }  // host order: little-endian, as ONNX requires
        initializers.append(t)
        return t.name
    }

    /// A float initializer holding `tensor`.
    public func constant(_ hint: String, _ tensor: Tensor) -> String {
        constant(hint, floats: tensor.data, shape: tensor.shape)
    }

    /// A float scalar initializer.
    public func scalar(_ hint: String, _ value: Float) -> String { constant(hint, floats: [value], shape: []) }

    /// An int64 initializer of `shape` (default: a vector of `values.count`).
    public func constant(_ hint: String, ints values: [Int], shape: [Int]? = nil) -> String {
        let shape = shape ?? [values.count]
        precondition(values.count == shape.reduce(1, *), "GraphBuilder: \(values.count) values for shape \(shape)")
        var t = Onnx_TensorProto()
        t.name = fresh(hint)
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.rawData = values.map { Int64($0).littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
        initializers.append(t)
        return t.name
    }

    // MARK: Nodes

    /// Appends one node of `type` and returns its `outputs` output names.
    @discardableResult
    public func node(_ type: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], outputs: Int = 1,
                     name hint: String? = nil) -> [String] {
        var n = Onnx_NodeProto()
        n.opType = type
        n.input = inputs
        let base = hint ?? type.lowercased()
        n.output = (0..<outputs).map { _ in fresh(base) }
        n.name = fresh("node_" + base)
        n.attribute = attributes
        nodes.append(n)
        return n.output
    }

    /// Appends a one-output node and returns its output's name.
    public func op(_ type: String, _ inputs: String..., attributes: [Onnx_AttributeProto] = [], name: String? = nil) -> String {
        node(type, inputs, attributes, name: name)[0]
    }

    /// `Identity(x)` whose output is named `name` exactly (a graph output).
    public func output(_ x: String, as name: String) {
        precondition(used[name] == nil, "GraphBuilder: \(name) is already a value")
        used[name] = 1
        var n = Onnx_NodeProto()
        n.opType = "Identity"
        n.input = [x]
        n.output = [name]
        n.name = fresh("node_" + name)
        nodes.append(n)
    }

    /// `Reshape(x, shape)` (`0` copies the input's dimension, `-1` is inferred).
    public func reshape(_ x: String, _ shape: [Int]) -> String { op("Reshape", x, constant("shape", ints: shape)) }

    /// `Transpose(x, perm)`.
    public func transpose(_ x: String, _ perm: [Int]) -> String { op("Transpose", x, attributes: [.ints("perm", perm)]) }

    /// `Unsqueeze(x, axes)`.
    public func unsqueeze(_ x: String, _ axes: [Int]) -> String { op("Unsqueeze", x, constant("axes", ints: axes)) }

    /// `Slice(x)` along `axis` from `start` to `end` (exclusive), step 1.
    public func slice(_ x: String, axis: Int, from start: Int, to end: Int) -> String {
        slice(x, axes: [axis], starts: [start], ends: [end])
    }

    /// `Slice(x, starts, ends, axes)` with step 1.
    public func slice(_ x: String, axes: [Int], starts: [Int], ends: [Int]) -> String {
        op("Slice", x, constant("starts", ints: starts), constant("ends", ints: ends), constant("axes", ints: axes))
    }

    /// `Concat(xs, axis)`.
    public func concat(_ xs: [String], axis: Int) -> String { node("Concat", xs, [.int("axis", axis)])[0] }

    /// `GatherND(data, Unsqueeze(indices, -1), batch_dims = 1)`: per image `b`, the rows `data[b, indices[b, k]]`;
    /// `data: [N, R, ...]`, `indices: [N, K]` int64 → `[N, K, ...]`.
    public func gatherRows(_ data: String, _ indices: String) -> String {
        op("GatherND", data, unsqueeze(indices, [2]), attributes: [.int("batch_dims", 1)])
    }

    /// `x · Wᵀ + b` of a `Linear` layer (PyTorch layout `[out, in]`) on `x: [..., in]`.
    public func linear(_ x: String, _ layer: Linear) -> String {
        linear(x, weight: layer.weight.value, bias: layer.bias?.value, name: layer.name)
    }

    /// `MatMul(x, Wᵀ) + b` for `weight: [out, in]`, `bias: [out]`, on `x: [..., in]`.
    public func linear(_ x: String, weight w: Tensor, bias: Tensor?, name: String) -> String {
        let (o, i) = (w.shape[0], w.shape[1])
        var wt = [Float](repeating: 0, count: o * i)
        for r in 0..<o { for c in 0..<i { wt[c * o + r] = w.data[r * i + c] } }
        let y = op("MatMul", x, constant(name + ".weightT", floats: wt, shape: [i, o]), name: name)
        guard let b = bias else { return y }
        return op("Add", y, constant(name + ".bias", b), name: name)
    }
}

extension Onnx_AttributeProto {
    /// An integer attribute.
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .int; a.i = Int64(value)
        return a
    }

    /// An integer-list attribute.
    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .ints; a.ints = values.map(Int64.init)
        return a
    }

    /// A float attribute.
    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .float; a.f = value
        return a
    }

    /// A tensor attribute (e.g. `ConstantOfShape`'s `value`).
    static func tensor(_ name: String, floats values: [Float]) -> Onnx_AttributeProto {
        var t = Onnx_TensorProto()
        t.dims = [Int64(values.count)]
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .tensor; a.t = t
        return a
    }
}
