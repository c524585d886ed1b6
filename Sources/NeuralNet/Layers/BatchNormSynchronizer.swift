/// Sums BatchNorm's per-channel statistics over the processes of a data-parallel job, which makes `BatchNorm2D`
/// synchronised (PyTorch's `SyncBatchNorm`): the batch statistics are those of the global batch.
///
/// Forward: each process contributes `[M, M·μ_c, M·(σ²_c + μ_c²)]`; the global `μ`, `σ² = E[x²] − μ²` follow (in
/// Double). Backward: `Σdy` and `Σdy·x̂` over the global batch replace the local sums in
/// `dx = γ/(M·√(σ²+ε))·(M·dy − Σdy − x̂·Σ(dy·x̂))`; `dγ`, `dβ` keep the local sums (the gradient allreduce adds them).
public protocol BatchNormSynchronizer: AnyObject {
    /// Replaces every element of `values` by its sum over all processes; every process calls it in the same order.
    func sumAcrossProcesses(_ values: inout [Double])
}

extension BatchNormSynchronizer {
    /// Global mean and biased variance from this process's `mean`, `variance` over `count` values per channel; returns
    /// the global count.
    func combine(mean: inout [Float], variance: inout [Float], count: Int) -> Int {
        let C = mean.count, m = Double(count)
        var sums = [Double](repeating: 0, count: 2 * C + 1)
        for c in 0..<C {
            let mu = Double(mean[c])
            sums[c] = m * mu
            sums[C + c] = m * (Double(variance[c]) + mu * mu)
        }
        sums[2 * C] = m
        sumAcrossProcesses(&sums)
        let total = sums[2 * C]
        for c in 0..<C {
            let mu = sums[c] / total
            mean[c] = Float(mu)
            variance[c] = Float(max(0, sums[C + c] / total - mu * mu))
        }
        return Int(total.rounded())
    }
}
