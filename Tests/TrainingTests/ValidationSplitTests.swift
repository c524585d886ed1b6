import Boxes
import Inference
@testable import Training
import XCTest

/// The parts of the validation split that need no MPI: the shares and the gathered buffer.
final class ValidationSplitTests: XCTestCase {
    /// The shares of N processes are contiguous, in rank order, cover every image once and start at whole batches.
    func testSharesAreWholeBatchesInRankOrder() {
        for (count, batch) in [(8, 2), (7, 2), (3, 4), (100, 16), (0, 4), (5, 1)] {
            for ranks in 1...5 {
                let shares = (0..<ranks).map { ValidationSplit.share(of: count, batchSize: batch, rank: $0, ranks: ranks) }
                XCTAssertEqual(shares.first?.lowerBound, 0)
                XCTAssertEqual(shares.last?.upperBound, count)
                for (a, b) in zip(shares, shares.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                for s in shares where !s.isEmpty { XCTAssertEqual(s.lowerBound % batch, 0, "\(count) \(batch) \(ranks)") }
            }
        }
        XCTAssertEqual(ValidationSplit.share(of: 8, batchSize: 2, rank: 1, ranks: 2), 4..<8)
        XCTAssertEqual(ValidationSplit.share(of: 7, batchSize: 2, rank: 1, ranks: 3), 2..<4)
    }

    /// Predictions come back from the buffer exactly (every bit of the boxes and scores), empty images included;
    /// a truncated buffer is an error.
    func testPredictionsSurviveTheBuffer() throws {
        let d = { (x: Double, s: Double, c: Int) in DetectedObject(box: Box(x1: x, y1: x / 3, x2: x + 0.1, y2: 7.25), score: s, classIndex: c) }
        let predictions = [
            ImagePrediction(imageID: 12, set: [d(1.0 / 3, 0.9, 2)], dense: [d(5, 0.123456789, 0), d(.pi, 1e-3, 1)]),
            ImagePrediction(imageID: 3, set: [], dense: []),
            ImagePrediction(imageID: 1 << 40, set: [d(0, 0.5, 0)], dense: []),
        ]
        let buffer = ValidationSplit.encode(predictions)
        let back = try ValidationSplit.decode(buffer)
        XCTAssertEqual(back.map(\.imageID), [12, 3, 1 << 40])
        XCTAssertEqual(back.map(\.set), predictions.map(\.set))
        XCTAssertEqual(back.map(\.dense), predictions.map(\.dense))
        XCTAssertThrowsError(try ValidationSplit.decode(Array(buffer.dropLast())))
    }
}
