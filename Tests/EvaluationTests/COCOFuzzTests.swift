import TestSupport
import XCTest
@testable import Evaluation

/// The fast evaluator against the literal transcription of pycocotools (`ReferenceCOCOEval`) on random sets
/// with crowds, ground-truth id 0, score ties, area-border objects, negative widths, unknown categories and
/// more detections per image than the limits.
final class COCOFuzzTests: XCTestCase {

    private func randomSet(seed: UInt64) -> (COCOGroundTruth, [COCODetection]) {
        var rng = SplitMix64(seed: seed)
        let images = (1...12).map { COCOImage(id: $0 * 3) }
        let categories = [COCOCategory(id: 2, name: "a"), COCOCategory(id: 5, name: "b"), COCOCategory(id: 9, name: "c")]
        var anns: [COCOAnnotation] = [], dets: [COCODetection] = []
        let borders = [1024.0, 9216.0]
        for image in images {
            for _ in 0..<rng.int(0...8) {
                let cat = [2, 5, 9][rng.int(0...2)]
                let w = rng.uniform(4...150), h = rng.uniform(4...150)
                let box = COCOBox(x: rng.uniform(0...500), y: rng.uniform(0...400), width: w, height: h)
                let area = rng.int(0...5) == 0 ? borders[rng.int(0...1)] : w * h * rng.uniform(0.5...1.1)
                anns.append(COCOAnnotation(id: rng.int(0...14) == 0 ? 0 : anns.count + 1, imageID: image.id, categoryID: cat,
                                           box: box, area: area, isCrowd: rng.int(0...9) == 0))
                for _ in 0..<rng.int(0...3) {
                    var b = box
                    b.x += rng.uniform(-8...8); b.y += rng.uniform(-8...8)
                    b.width *= rng.uniform(0.7...1.3); b.height *= rng.uniform(0.7...1.3)
                    if rng.int(0...24) == 0 { b.width = -b.width }
                    dets.append(COCODetection(imageID: image.id, categoryID: rng.int(0...7) == 0 ? [2, 5, 9, 4][rng.int(0...3)] : cat,
                                              box: b, score: Double(rng.int(0...11)) / 11))
                }
            }
            for _ in 0..<rng.int(0...13) {
                dets.append(COCODetection(imageID: image.id, categoryID: [2, 5, 9, 4][rng.int(0...3)],
                                          box: COCOBox(x: rng.uniform(0...560), y: rng.uniform(0...440),
                                                       width: rng.uniform(3...120), height: rng.uniform(3...120)),
                                          score: Double(rng.int(0...11)) / 11))
            }
        }
        // Images listed out of order: the evaluator sorts ids as pycocotools does.
        var shuffled = images
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, rng.int(0...i)) }
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
