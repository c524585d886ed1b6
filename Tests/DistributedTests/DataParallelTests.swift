import Distributed
import NeuralNet
import XCTest

/// The parts of data parallelism that need no MPI: buckets and the weight hash.
final class DataParallelTests: XCTestCase {
    private func parameters(_ sizes: [Int]) -> [Parameter] {
        sizes.enumerated().map { Parameter(name: "p\($0.offset)", value: Tensor(shape: [$0.element], repeating: 1)) }
    }

    func testBucketsFollowTheBackwardOrderAndTheirSize() {
        let ps = parameters([10, 20, 30, 40])
        // 16-byte buckets: each parameter closes its own (every one has ≥ 4 floats).
        XCTAssertEqual(DataParallel.buckets(ps, bucketBytes: 16).map { $0.map(\.name) }, [["p3"], ["p2"], ["p1"], ["p0"]])
        // 280 bytes = 70 floats: p3 + p2 reach it, then the rest.
        XCTAssertEqual(DataParallel.buckets(ps, bucketBytes: 280).map { $0.map(\.name) }, [["p3", "p2"], ["p1", "p0"]])
        XCTAssertEqual(DataParallel.buckets(ps, bucketBytes: 1 << 20).map(\.count), [4])
        // A first bucket of 160 bytes (p3 alone), the others of 200 (p2 + p1, then p0), as DDP's 1 MiB then 25 MiB.
        XCTAssertEqual(DataParallel.buckets(ps, bucketBytes: 200, firstBucketBytes: 160).map { $0.map(\.name) },
                       [["p3"], ["p2", "p1"], ["p0"]])
    }

    func testWeightHashSeesOneBit() {
        let a = parameters([5, 7]), b = parameters([5, 7])
        XCTAssertEqual(DataParallel.weightHash(a), DataParallel.weightHash(b))
        b[1].value.data[3] = Float(bitPattern: b[1].value.data[3].bitPattern ^ 1)
        XCTAssertNotEqual(DataParallel.weightHash(a), DataParallel.weightHash(b))
    }
}
