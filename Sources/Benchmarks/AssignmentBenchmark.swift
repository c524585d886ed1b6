import Foundation
import Matching

/// In-process timing of the solver, for comparisons with other solvers on the same matrices
/// (`tools/bench-matching` times scipy and lap the same way in one run).
public enum AssignmentBenchmark {
    /// A timing: the median seconds per `linearSumAssignment` call, over `blocks` blocks of `callsPerBlock`
    /// calls each, and the optimal total found.
    public struct Timing: Sendable {
        /// Median over blocks of (block time / calls in the block), in seconds.
        public var medianSeconds: Double
        /// Calls per timed block (many for small problems, so that each block lasts about 2 ms or more).
        public var callsPerBlock: Int
        /// Number of timed blocks.
        public var blocks: Int
        /// The optimal total, to check that both sides solved the same problem.
        public var total: Double
    }

    /// Times `linearSumAssignment(cost, maximize:)` (a one-shot call, allocations included) within about
    /// `budgetSeconds`: one warm-up call sizes blocks of at least `minimumBlockSeconds`, then 5 to 31
    /// blocks (3 when one call takes over 0.25 s) are timed and the median per-call time is reported.
    public static func time(_ cost: CostMatrix, maximize: Bool = false, budgetSeconds: Double = 1,
                            minimumBlockSeconds: Double = 0.002) throws -> Timing {
        let start = now()
        var total = try linearSumAssignment(cost, maximize: maximize).total
        let once = max(now() - start, 1e-8)
        let calls = max(1, Int((minimumBlockSeconds / once).rounded(.up)))
        let blocks = max(once > 0.25 ? 3 : 5, min(31, Int(budgetSeconds / (once * Double(calls)))))
        var perCall: [Double] = []
        for _ in 0..<blocks {
            let t0 = now()
            for _ in 0..<calls { total = try linearSumAssignment(cost, maximize: maximize).total }
            perCall.append((now() - t0) / Double(calls))
        }
        perCall.sort()
        return Timing(medianSeconds: perCall[perCall.count / 2], callsPerBlock: calls, blocks: blocks, total: total)
    }

    /// Monotonic time in seconds.
    private static func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
    }
}
