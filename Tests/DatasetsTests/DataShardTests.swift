import Datasets
import XCTest

/// The shard plan of data-parallel training: every image exactly once an epoch whatever the number of processes,
/// and one process with batch 2B sees what two with B see.
final class DataShardTests: XCTestCase {
    /// The positions each step hands to each rank, for `ranks` processes.
    private func plan(ranks: Int, count: Int, batch: Int, dropLast: Bool) -> [[Range<Int>]] {
        let shards = (0..<ranks).map { DataShard(rank: $0, ranks: ranks) }
        let steps = shards[0].steps(count: count, batchSize: batch, dropLast: dropLast)
        for s in shards { XCTAssertEqual(s.steps(count: count, batchSize: batch, dropLast: dropLast), steps) }
        return (0..<steps).map { step in shards.map { $0.positions(step: step, count: count, batchSize: batch, dropLast: dropLast) } }
    }

    func testEveryImageOnceAnEpochForOneTwoAndThreeRanks() {
        for ranks in 1...3 {
            for count in [ranks, 7, 10, 11, 12, 13, 29, 30, 31] where count >= ranks {
                for batch in 1...5 {
                    var seen = [Int](repeating: 0, count: count)
                    for step in plan(ranks: ranks, count: count, batch: batch, dropLast: false) {
                        for part in step {
                            XCTAssertFalse(part.isEmpty, "ranks \(ranks) count \(count) batch \(batch): a rank got no image")
                            XCTAssertLessThanOrEqual(part.count, batch + 1)
                            for p in part { seen[p] += 1 }
                        }
                    }
                    XCTAssertEqual(seen, [Int](repeating: 1, count: count), "ranks \(ranks) count \(count) batch \(batch)")
                }
            }
        }
    }

    func testDropLastLeavesOutOnlyTheRemainder() {
        let parts = plan(ranks: 3, count: 20, batch: 2, dropLast: true)
        XCTAssertEqual(parts.count, 3)
        XCTAssertEqual(parts.flatMap { $0.flatMap { Array($0) } }, Array(0..<18))
        XCTAssertTrue(parts.allSatisfy { $0.allSatisfy { $0.count == 2 } })
    }

    func testTwoRanksOfBSeeWhatOneRankOf2BSees() {
        let one = plan(ranks: 1, count: 23, batch: 4, dropLast: false)
        let two = plan(ranks: 2, count: 23, batch: 2, dropLast: false)
        XCTAssertEqual(one.count, two.count)
        for (a, b) in zip(one, two) {
            XCTAssertEqual(Array(a[0]), Array(b[0]) + Array(b[1]))
        }
    }

    func testOneProcessMatchesTheSingleProcessBatches() {
        // ⌈n / B⌉ batches without dropLast, ⌊n / B⌋ with it, batch s = positions s·B ..< (s+1)·B.
        let shard = DataShard()
        XCTAssertEqual(shard.steps(count: 10, batchSize: 4, dropLast: false), 3)
        XCTAssertEqual(shard.steps(count: 10, batchSize: 4, dropLast: true), 2)
        XCTAssertEqual(shard.positions(step: 1, count: 10, batchSize: 4, dropLast: true), 4..<8)
        XCTAssertEqual(shard.positions(step: 2, count: 10, batchSize: 4, dropLast: false), 8..<10)
    }

    func testFewerImagesThanRanksHasNoStep() {
        XCTAssertEqual(DataShard(rank: 0, ranks: 3).steps(count: 2, batchSize: 4, dropLast: false), 0)
    }
}
