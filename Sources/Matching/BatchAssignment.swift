import Dispatch
import Foundation

/// Solves one assignment problem per image, in parallel across cores, and returns each image's result in
/// input order (`results[k]` belongs to `problems[k]`): the pairs of that image or the error that stopped it
/// (one invalid or infeasible image does not stop the others).
///
/// Small batches (less than about a million multiply–adds of work in all, e.g. 16 images of 50 × 20) are
/// solved on the calling thread, where starting threads would cost more than the work.
public func linearSumAssignments(_ problems: [CostMatrix], maximize: Bool = false)
    -> [Result<Assignment, MatchingError>]
{
    let n = problems.count
    if n == 0 { return [] }
    let work = problems.reduce(0.0) { acc, p in
        acc + Double(p.rows) * Double(p.columns) * Double(max(1, min(p.rows, p.columns)))
    }
    let workers = min(n, ProcessInfo.processInfo.activeProcessorCount, work < 1e6 ? 1 : Int.max)
    var results = [Result<Assignment, MatchingError>?](repeating: nil, count: n)
    results.withUnsafeMutableBufferPointer { out in
        let out = UncheckedSendableBuffer(base: out.baseAddress!)
        let next = AtomicCounter()
        let body: (Int) -> Void = { _ in
            let solver = LinearAssignmentSolver()
            while true {
                let k = next.increment()
                if k >= n { break }
                out.base[k] = solveCatching(solver, problems[k], maximize: maximize)
            }
        }
        if workers <= 1 {
            body(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: body)
        }
    }
    return results.map { $0! }
}

/// One problem through `solver`, with the error folded into the result.
private func solveCatching(_ solver: LinearAssignmentSolver, _ p: CostMatrix, maximize: Bool)
    -> Result<Assignment, MatchingError>
{
    do {
        return .success(try solver.solve(p, maximize: maximize))
    } catch let e as MatchingError {
        return .failure(e)
    } catch {
        return .failure(.malformedMatrix("unexpected error \(error)"))
    }
}

/// The output slots of a batch: each worker writes only the slots whose index it drew from the counter.
private struct UncheckedSendableBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// A lock-protected counter handing out problem indices to the workers.
private final class AtomicCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    /// The current value, then adds one.
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let v = value
        value += 1
        return v
    }
}
