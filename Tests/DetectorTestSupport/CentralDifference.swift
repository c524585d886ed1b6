import NeuralNet

/// Central differences for gradient checks.
public enum CentralDifference {
    /// `(loss(x + h) − loss(x − h)) / 2h` at element `index` of `parameter`'s value, with `h = step · max(1, |x|)`;
    /// the value is restored afterwards.
    public static func derivative(of loss: () -> Double, at parameter: Parameter, index: Int, step: Float) -> Double {
        let orig = parameter.value.data[index], h = step * max(1, abs(orig))
        parameter.value.data[index] = orig + h
        let up = loss()
        parameter.value.data[index] = orig - h
        let down = loss()
        parameter.value.data[index] = orig
        return (up - down) / Double(2 * h)
    }
}
