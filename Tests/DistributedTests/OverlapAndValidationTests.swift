import DetectorModel
import DetectorTestSupport
import Foundation
import NeuralNet
import TestSupport
import XCTest

/// The allreduce overlapped with backward gives the weights of the allreduce after it, and validation split across
/// the processes gives the figures of one process.
final class OverlapAndValidationTests: XCTestCase {
    /// 2 processes × batch 2, small buckets (0.01 MiB: more than 5 of them), synchronised BatchNorm (blocking allreduces
    /// inside backward between the buckets' non-blocking ones), 3 steps: each bucket starts during backward, and the
    /// weights are bit-identical to those of the blocking allreduces after backward.
    func testOverlappedAllreduceGivesTheWeightsOfTheAllreduceAfterBackward() throws {
        _ = try MPIRun.required()
        let dir = try Fixtures.temporaryDirectory()
        let args = try MPIRun.sampleArguments(in: dir) + ["--max-steps", "3", "--batch-size", "2", "--bucket-mb", "0.01",
                                                                  "--sync-bn"]
        let overlapped = try MPIRun.run(ranks: 2, args + ["--out", "overlap"], in: dir)
        XCTAssertEqual(overlapped.status, 0, overlapped.err)
        let after = try MPIRun.run(ranks: 2, args + ["--no-overlap-allreduce", "--out", "after"], in: dir)
        XCTAssertEqual(after.status, 0, after.err)
        XCTAssertTrue(after.err.contains("(after backward)"), after.err)

        // "overlapped, B buckets, S started during backward and 0 after": 3 steps start every bucket during backward.
        let pattern = try NSRegularExpression(pattern: "overlapped, ([0-9]+) buckets, ([0-9]+) started during backward and ([0-9]+) after")
        let text = overlapped.err as NSString
        guard let m = pattern.firstMatch(in: overlapped.err, range: NSRange(location: 0, length: text.length)) else {
            return XCTFail("no overlap report in\n\(overlapped.err)")
        }
        let (buckets, during, later) = (Int(text.substring(with: m.range(at: 1)))!, Int(text.substring(with: m.range(at: 2)))!,
                                        Int(text.substring(with: m.range(at: 3)))!)
        XCTAssertGreaterThan(buckets, 5)
        XCTAssertEqual(during, 3 * buckets)
        XCTAssertEqual(later, 0)

        let a = dir.appendingPathComponent("overlap/last.safetensors"), b = dir.appendingPathComponent("after/last.safetensors")
        XCTAssertEqual(try DetectorFixtures.differingWeights(a, b), [])
        XCTAssertEqual(try DetectorFixtures.checkpointStep(a), 3)
        let (la, lb) = (try DetectorFixtures.losses(dir.appendingPathComponent("overlap/log.jsonl")),
                        try DetectorFixtures.losses(dir.appendingPathComponent("after/log.jsonl")))
        XCTAssertEqual(la, lb)
    }

    /// One checkpoint (1 process, 4 steps of batch 2) validated by 1 process and by 2 processes (each predicting half
    /// of the 8 validation images, rank 0 gathering them): `metrics.json` (COCO and crowd figures of both heads) and the
    /// log's validation record are exactly equal.
    func testValidationSplitAcrossRanksEqualsOneProcess() throws {
        _ = try MPIRun.required()
        let dir = try Fixtures.temporaryDirectory()
        let val = DetectorFixtures.sample.appendingPathComponent("val.json").path
        let args = try MPIRun.sampleArguments(in: dir) + ["--val", val, "--batch-size", "2"]
        let base = try MPIRun.run(ranks: nil, args + ["--max-steps", "4", "--out", "base"], in: dir)
        XCTAssertEqual(base.status, 0, base.err)
        let fm = FileManager.default
        for name in ["one", "two"] {
            try fm.copyItem(at: dir.appendingPathComponent("base"), to: dir.appendingPathComponent(name))
            try fm.removeItem(at: dir.appendingPathComponent("\(name)/metrics.json"))
        }
        // Both resume without a step: 1 × 2 stays at step 4, 2 × 2 continues at step 2 (the same images seen), and
        // --max-steps 2 ends the loop at once; the final validation then runs on the checkpoint's weights.
        let one = try MPIRun.run(ranks: nil, args + ["--max-steps", "2", "--out", "one", "--resume", "one/last.safetensors"], in: dir)
        XCTAssertEqual(one.status, 0, one.err)
        let two = try MPIRun.run(ranks: 2, args + ["--max-steps", "2", "--out", "two", "--resume", "two/last.safetensors"], in: dir)
        XCTAssertEqual(two.status, 0, two.err)
        XCTAssertTrue(two.err.contains("validation of 8 images split in 2 shares"), two.err)

        func metrics(_ run: String) throws -> [String: [String: Double]] {
            let data = try Data(contentsOf: dir.appendingPathComponent("\(run)/metrics.json"))
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            var out: [String: [String: Double]] = [:]
            for head in ["set", "dense"] {
                out[head] = try XCTUnwrap(object[head] as? [String: Any]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
            }
            return out
        }
        let (m1, m2) = (try metrics("one"), try metrics("two"))
        XCTAssertEqual(m1["dense"]?.count, m2["dense"]?.count)
        XCTAssertGreaterThanOrEqual(m1["dense"]?.count ?? 0, 15)
        XCTAssertEqual(m1, m2)
        // Trained weights detect something: the figures compared are not all zero.
        XCTAssertGreaterThan(m1["dense"]?["AR100"] ?? 0, 0)

        func lastValidation(_ run: String) throws -> [Double?] {
            let records = try DetectorFixtures.logRecords(dir.appendingPathComponent("\(run)/log.jsonl"))
            guard case let .evaluation(e)? = records.last(where: { if case .evaluation = $0 { return true } else { return false } })
            else { XCTFail("no validation in \(run)/log.jsonl"); return [] }
            return [e.denseAP, e.denseAP50, e.setAP, e.setAP50]
        }
        let (v1, v2) = (try lastValidation("one"), try lastValidation("two"))
        XCTAssertEqual(v1.count, 4)
        XCTAssertEqual(v1, v2)
    }
}
