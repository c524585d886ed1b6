import Foundation
import NeuralNet

/// Threads of their own for the replicas of a `ReplicaStep`: `run(_:)` calls `body(0)` on the calling thread and
/// `body(r)`, `r` in `1..<count`, on helper thread `r`, and returns when every call has returned.
///
/// Dedicated threads, not `DispatchQueue.concurrentPerform`: the replicas wait for each other inside a step
/// (`ReplicaBarrier`), which deadlocks if a pool runs two of them one after the other on one thread.
final class ReplicaThreads {
    /// Replicas per round, the calling thread's included.
    let count: Int
    private let start: [DispatchSemaphore]
    private let done = DispatchSemaphore(value: 0)
    /// The round's body, written before the helpers are woken and read by them (the semaphores order both).
    nonisolated(unsafe) private var body: ((Int) -> Void)?
    nonisolated(unsafe) private var stopping = false

    /// `count - 1` helper threads, started now and waiting for rounds.
    init(count: Int) {
        precondition(count >= 1, "ReplicaThreads: count must be positive")
        self.count = count
        start = (1..<max(count, 1)).map { _ in DispatchSemaphore(value: 0) }
        for r in 1..<count {
            let thread = Thread { [self] in self.serve(r) }
            thread.name = "replica \(r)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private func serve(_ r: Int) {
        while true {
            start[r - 1].wait()
            if stopping { return }
            body?(r)
            done.signal()
        }
    }

    /// Calls `body(r)` for every replica `r`, replica 0 on the calling thread, and waits for all of them.
    func run(_ body: @escaping (Int) -> Void) {
        precondition(!stopping, "ReplicaThreads.run after stop()")
        self.body = body
        for s in start { s.signal() }
        body(0)
        for _ in start { done.wait() }
        self.body = nil
    }

    /// Ends the helper threads (after the round in progress); call once when the replicas are no longer needed.
    func stop() {
        guard !stopping else { return }
        stopping = true
        for s in start { s.signal() }
    }
}

/// A reusable barrier for the `parties` replicas of a step: `wait(arriving:last:)` runs `arriving` under the
/// barrier's lock (each party writes its contribution there), and returns once all have arrived, after the last
/// arrival has run `last` (which thus sees every contribution, and whose results every party sees).
final class ReplicaBarrier: @unchecked Sendable {
    /// Threads that meet at the barrier.
    let parties: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0

    init(parties: Int) { self.parties = parties }

    func wait(arriving: () -> Void, last: () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        arriving()
        let g = generation
        arrived += 1
        if arrived == parties {
            last()
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == g { condition.wait() }
        }
    }
}
