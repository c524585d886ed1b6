import NeuralNet

/// One attention block of the query head, as its layers: post-norm `LN₁(x + attention(x))`, then
/// `LN₂(z + ffn₂(relu(ffn₁(z))))`.
public struct AttentionBlockLayers {
    /// Self-attention, layer norms and the feed-forward layers.
    public let attention: MultiHeadSelfAttention, norm1: LayerNorm, ffn1: Linear, ffn2: Linear, norm2: LayerNorm
}

extension QuerySetHead {
    /// The embedding MLP `2F + 4 + C → D → D` (ReLU between), for exporters.
    public var embedding: (first: Linear, second: Linear) { (embed1, embed2) }
    /// The attention blocks in forward order, for exporters.
    public var attentionBlocks: [AttentionBlockLayers] {
        blocks.map { AttentionBlockLayers(attention: $0.attention, norm1: $0.norm1, ffn1: $0.ffn1, ffn2: $0.ffn2, norm2: $0.norm2) }
    }
    /// The box-offset `D → 4` and class `D → C + 1` output layers, for exporters.
    public var outputs: (box: Linear, classes: Linear) { (boxOut, classOut) }
}

extension GlobalSetHead {
    /// Its layers in forward order (conv1×1, ReLU, flatten, `fc1`, ReLU, `fc2`), for exporters.
    public var layers: (reduce: Conv2D, fc1: Linear, fc2: Linear) { (reduce, fc1, fc2) }
}
