import TestSupport
import XCTest
@testable import Evaluation

/// The fast evaluator against the literal transcription of pycocotools (`ReferenceCOCOEval`) on random sets
/// with crowds, ground-truth id 0, score ties, area-border objects, negative widths, unknown categories and
/// more detections per image than the limits.
final class COCOFuzzTests: XCTestCase {
    /// SplitMix64, so every run draws the same sets.
    private struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
            lo + (hi - lo) * Double(next() >> 11) / Double(1 << 53)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    private func randomSet(seed: UInt64) -> (COCOGroundTruth, [COCODetection]) {
        var rng = Random(state: seed)
        let images = (1...12).map { COCOImage(id: $0 * 3) }
        let categories = [COCOCategory(id: 2, name: "a"), COCOCategory(id: 5, name: "b"), COCOCategory(id: 9, name: "c")]
        var anns: [COCOAnnotation] = [], dets: [COCODetection] = []
        let borders = [1024.0, 9216.0]
        for image in images {
            for _ in 0..<rng.int(9) {
                let cat = [2, 5, 9][rng.int(3)]
                let w = rng.uniform(4, 150), h = rng.uniform(4, 150)
                let box = COCOBox(x: rng.uniform(0, 500), y: rng.uniform(0, 400), width: w, height: h)
                let area = rng.int(6) == 0 ? borders[rng.int(2)] : w * h * rng.uniform(0.5, 1.1)
                anns.append(COCOAnnotation(id: rng.int(15) == 0 ? 0 : anns.count + 1, imageID: image.id, categoryID: cat,
                                           box: box, area: area, isCrowd: rng.int(10) == 0))
                for _ in 0..<rng.int(4) {
                    var b = box
                    b.x += rng.uniform(-8, 8); b.y += rng.uniform(-8, 8)
                    b.width *= rng.uniform(0.7, 1.3); b.height *= rng.uniform(0.7, 1.3)
                    if rng.int(25) == 0 { b.width = -b.width }
                    dets.append(COCODetection(imageID: image.id, categoryID: rng.int(8) == 0 ? [2, 5, 9, 4][rng.int(4)] : cat,
                                              box: b, score: Double(rng.int(12)) / 11))
                }
            }
            for _ in 0..<rng.int(14) {
                dets.append(COCODetection(imageID: image.id, categoryID: [2, 5, 9, 4][rng.int(4)],
                                          box: COCOBox(x: rng.uniform(0, 560), y: rng.uniform(0, 440),
                                                       width: rng.uniform(3, 120), height: rng.uniform(3, 120)),
                                          score: Double(rng.int(12)) / 11))
            }
        }
        // Images listed out of order: the evaluator sorts ids as pycocotools does.
        var shuffled = images
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, rng.int(i + 1)) }
        return (COCOGroundTruth(images: shuffled, categories: categories, annotations: anns), dets)
    }

    func testFastEvaluatorEqualsTheLiteralTranscription() throws {
        var small = COCOParameters()
        small.maxDetections = [1, 2, 5]
        var informative = 0
        for seed in UInt64(1)...40 {
            let (gt, dets) = randomSet(seed: seed)
            for parameters in [COCOParameters(), small] {
                let fast = try COCOEvaluator(groundTruth: gt, parameters: parameters).evaluate(detections: dets)
                let (precision, recall) = ReferenceCOCOEval.run(gt, dets, parameters)
                XCTAssertEqual(fast.precision, precision, "seed \(seed), maxDets \(parameters.maxDetections)")
                XCTAssertEqual(fast.recall, recall, "seed \(seed), maxDets \(parameters.maxDetections)")
                if fast.stats[0] > 0 && fast.stats[0] < 1 { informative += 1 }
            }
        }
        XCTAssertGreaterThan(informative, 70, "the random sets should give AP strictly between 0 and 1")
    }
}
