import Foundation
import NeuralNet
import XCTest

/// `Parallel.withWorkers` is per thread, and OpenBLAS with one thread may be called from several threads at once
/// (what the replicas of data-parallel training do).
final class ParallelTests: XCTestCase {
    /// What another thread saw (written before a semaphore is signalled, read after the wait).
    private final class Seen: @unchecked Sendable { var workers = 0 }

    /// Inside `withWorkers(1)` this thread sees 1 and runs `forEachChunk` as one chunk on itself, while another
    /// thread keeps the process-wide count; afterwards this thread has it again.
    func testWithWorkersIsPerThread() {
        let saved = Parallel.workers
        Parallel.workers = 2
        defer { Parallel.workers = saved }
        Parallel.withWorkers(1) {
            XCTAssertEqual(Parallel.workers, 1)
            var chunks: [Range<Int>] = []
            Parallel.forEachChunk(1 << 20) { chunks.append($0) }   // run on this thread only, or it would race
            XCTAssertEqual(chunks, [0..<(1 << 20)])
            let other = Seen(), done = DispatchSemaphore(value: 0)
            Thread { other.workers = Parallel.workers; done.signal() }.start()
            done.wait()
            XCTAssertEqual(other.workers, 2, "another thread keeps the process-wide count")
            Parallel.withWorkers(3) { XCTAssertEqual(Parallel.workers, 3) }
            XCTAssertEqual(Parallel.workers, 1, "nested settings restore the outer one")
        }
        XCTAssertEqual(Parallel.workers, 2)
    }

    /// Two threads each running single-threaded sgemm side by side give bit for bit the products of one thread.
    func testConcurrentSingleThreadedSGEMMMatchesSerial() {
        let (m, n, k) = (96, 80, 300)
        func values(_ count: Int, _ seed: Int) -> [Float] {
            (0..<count).map { (i: Int) -> Float in Float(sin(Double(i * seed))) }
        }
        let inputs: [([Float], [Float])] = [(values(m * k, 3), values(k * n, 5)), (values(m * k, 7), values(k * n, 11))]
        func product(_ i: Int) -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            GEMM.sgemm(m: m, n: n, k: k, a: inputs[i].0, lda: k, b: inputs[i].1, ldb: n, c: &c, ldc: n)
            return c
        }
        BLASRuntime.withSingleThread {
            let serial = [product(0), product(1)]
            for _ in 0..<20 {
                let out = UnsafeMutablePointer<[Float]>.allocate(capacity: 2)
                out.initialize(repeating: [], count: 2)
                DispatchQueue.concurrentPerform(iterations: 2) { i in
                    var c: [Float] = []
                    for _ in 0..<5 { c = product(i) }
                    out[i] = c
                }
                XCTAssertEqual(out[0], serial[0])
                XCTAssertEqual(out[1], serial[1])
                out.deinitialize(count: 2)
                out.deallocate()
            }
        }
    }
}
