extension MultiHeadSelfAttention {
    /// The query, key, value and output projections' weights `[D, D]` (PyTorch `nn.Linear` layout `[out, in]`) and
    /// biases `[D]`, in that order: what an exporter (ONNX) needs to rebuild the layer.
    public var projectionWeights: [(name: String, weight: Tensor, bias: Tensor)] {
        zip(["q_proj", "k_proj", "v_proj", "out_proj"], [q, k, v, out]).map { suffix, p in
            ("\(name).\(suffix)", p.weight.value, p.bias.value)
        }
    }
}
