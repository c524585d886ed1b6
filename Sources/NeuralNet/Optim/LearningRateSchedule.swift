import Foundation

/// A learning-rate schedule: linear warmup, then cosine decay to a floor, step decay, or constant.
///
/// Warmup: `lr = base·(step + 1)/warmupSteps` for `step < warmupSteps`. After warmup, with
/// `t = (step − warmupSteps)/(totalSteps − warmupSteps)` clamped to `[0, 1]`:
/// cosine (Loshchilov & Hutter, SGDR, ICLR 2017) `floor + (base − floor)·(1 + cos πt)/2`;
/// step decay `base·γ^⌊(step − warmupSteps)/every⌋`; constant `base`.
/// `step` may be any monotone count (e.g. derived from elapsed time) on the same scale as `totalSteps`.
public struct LearningRateSchedule: Sendable, Equatable {
    /// What follows the warmup.
    public enum Decay: Sendable, Equatable {
        /// Cosine from the base rate to `floor` at `totalSteps`.
        case cosine(floor: Float)
        /// Multiply by `gamma` every `every` steps.
        case step(every: Int, gamma: Float)
        /// Keep the base rate.
        case constant
    }

    /// Peak learning rate, reached at the end of warmup.
    public var base: Float
    /// Steps of linear warmup (0 for none).
    public var warmupSteps: Int
    /// The decay after warmup.
    public var decay: Decay

    /// A schedule with peak rate `base`, `warmupSteps` of warmup, then `decay`.
    public init(base: Float, warmupSteps: Int = 0, decay: Decay = .cosine(floor: 0)) {
        self.base = base; self.warmupSteps = max(0, warmupSteps); self.decay = decay
    }

    /// The learning rate at `step` (0-based) of a run of `totalSteps`.
    public func learningRate(step: Int, totalSteps: Int) -> Float {
        if step < warmupSteps { return base * Float(step + 1) / Float(warmupSteps) }
        let since = step - warmupSteps
        switch decay {
        case .constant:
            return base
        case let .step(every, gamma):
            return base * Foundation.pow(gamma, Float(since / max(every, 1)))
        case let .cosine(floor):
            let span = max(totalSteps - warmupSteps, 1)
            let t = min(max(Double(since) / Double(span), 0), 1)
            return floor + (base - floor) * Float((1 + Foundation.cos(Double.pi * t)) / 2)
        }
    }
}
