import DetectorTestSupport
import Foundation
import TestSupport
import XCTest

/// The run conventions end to end on the committed JPEG sample: training on JPEGs, `results.csv`, validation
/// overlays, a bare `--resume`, `evaluate`'s confusion matrix and best-F1 threshold, `detect` on a JPEG folder, and
/// each bad JPEG as an exit status with the file named.
extension CLITests {
    func testJPEGSampleTrainsResumesAndEvaluates() throws {
        let dir = try Fixtures.temporaryDirectory()
        let jpeg = Fixtures.packageRoot.appendingPathComponent("datasets/sample_jpeg")
        let config = dir.appendingPathComponent("small.json")
        try Data(DetectorFixtures.smallConfig().jsonString().utf8).write(to: config)
        let common = ["--data", jpeg.appendingPathComponent("train.json").path, "--val", jpeg.appendingPathComponent("val.json").path,
                      "--threads", "1", "--batch-size", "4", "--config", config.path, "--out", "run"]
        let train = try run(["train"] + common + ["--epochs", "2"], in: dir)
        XCTAssertEqual(train.status, 0, train.err)
        let runDir = dir.appendingPathComponent("run")
        var csv = try String(contentsOf: runDir.appendingPathComponent("results.csv"), encoding: .utf8)
        var rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.count, 3, csv)
        XCTAssertEqual(rows[0].first, "epoch")
        XCTAssertEqual(rows[0].last, "lr")
        XCTAssertTrue(rows[0].contains("set.giou") && rows[0].contains("dense_ap50"), csv)
        XCTAssertEqual(rows.map { $0.count }, [rows[0].count, rows[0].count, rows[0].count])
        XCTAssertEqual(rows[2][0], "2")
        XCTAssertNotNil(Double(rows[2][rows[0].firstIndex(of: "dense_ap50")!]), "the last epoch ended with a validation")
        for folder in ["overlays/final", "overlays/epoch_001"] {
            let pictures = try FileManager.default.contentsOfDirectory(atPath: runDir.appendingPathComponent(folder).path)
            XCTAssertEqual(pictures.sorted(), ["000001.png", "000002.png", "000003.png", "000004.png"], folder)
        }

        let resumed = try run(["train"] + common + ["--epochs", "3", "--resume"], in: dir)
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("resuming \(runDir.appendingPathComponent("last.safetensors").path) at step 4"), resumed.err)
        csv = try String(contentsOf: runDir.appendingPathComponent("results.csv"), encoding: .utf8)
        rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.map { String($0[0]) }, ["epoch", "1", "2", "3"], csv)
        let nothing = try run(["train"] + common.dropLast(2) + ["--out", "empty", "--resume"], in: dir)
        XCTAssertEqual(nothing.status, 64)
        XCTAssertTrue(nothing.err.contains("--resume") && nothing.err.contains("empty/last.safetensors"), nothing.err)

        let evaluate = try run(["evaluate", "--model", runDir.appendingPathComponent("last.safetensors").path,
                                "--data", jpeg.appendingPathComponent("val.json").path, "--out", "eval", "--threads", "1"], in: dir)
        XCTAssertEqual(evaluate.status, 0, evaluate.err)
        XCTAssertTrue(evaluate.out.contains("best F1") && evaluate.out.contains("score threshold"), evaluate.out)
        XCTAssertTrue(evaluate.out.contains("background"), evaluate.out)
        for f in ["set_confusion.csv", "set_f1.svg", "dense_confusion.csv", "dense_f1.svg"] { exists(dir.appendingPathComponent("eval"), f) }

        let detect = try run(["detect", "--model", runDir.appendingPathComponent("last.safetensors").path,
                              jpeg.appendingPathComponent("train/images").path, "--out", "det"], in: dir)
        XCTAssertEqual(detect.status, 0, detect.err)
        let json = try String(contentsOf: dir.appendingPathComponent("det/detections.json"), encoding: .utf8)
        XCTAssertTrue(json.contains("000007.jpg"), "the EXIF-rotated JPEG is detected too")
    }

    func testEachBadJPEGIsANamedErrorOrSkipped() throws {
        let dir = try Fixtures.temporaryDirectory()
        let config = dir.appendingPathComponent("small.json")
        try Data(DetectorFixtures.smallConfig(classes: ["x"]).jsonString().utf8).write(to: config)
        let images = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for k in 2...4 {
            try FileManager.default.copyItem(at: Fixtures.url("imaging/jpeg/baseline.jpg"), to: images.appendingPathComponent("ok\(k).jpg"))
        }
        let expected = ["bad_truncated": "truncated image", "bad_huffman_table": "Bogus Huffman table",
                        "bad_empty": "empty file", "bad_bomb": "65500×65500", "bad_text": "neither PNG nor JPEG"]
        for name in expected.keys.sorted() + ["bad_scan_data"] {
            try FileManager.default.copyItem(at: Fixtures.url("imaging/jpeg/\(name).jpg"), to: images.appendingPathComponent("\(name).jpg"))
            let entries = [(1, "\(name).jpg")] + (2...4).map { ($0, "ok\($0).jpg") }
            let coco: [String: Any] = [
                "images": entries.map { ["id": $0.0, "file_name": "images/\($0.1)", "width": 24, "height": 16] },
                "annotations": entries.map { ["id": $0.0, "image_id": $0.0, "category_id": 1, "bbox": [2, 2, 10, 8], "iscrowd": 0] },
                "categories": [["id": 1, "name": "x"]],
            ]
            let data = dir.appendingPathComponent("\(name).json")
            try JSONSerialization.data(withJSONObject: coco).write(to: data)
            let args = ["train", "--data", data.path, "--config", config.path, "--threads", "1", "--batch-size", "2",
                        "--epochs", "1", "--out", "run_\(name)"]
            let plain = try run(args, in: dir), skipping = try run(args + ["--skip-bad-images"], in: dir)
            let file = images.appendingPathComponent("\(name).jpg").path
            if let message = expected[name] {
                XCTAssertEqual(plain.status, 1, "\(name): \(plain.err)")
                XCTAssertTrue(plain.err.contains("error: \(file): cannot decode image: ") && plain.err.contains(message),
                              "\(name): \(plain.err)")
                XCTAssertEqual(skipping.status, 0, "\(name): \(skipping.err)")
                XCTAssertTrue(skipping.err.contains("1 unreadable images skipped"), "\(name): \(skipping.err)")
            } else {
                for r in [plain, skipping] {
                    XCTAssertEqual(r.status, 0, r.err)
                    XCTAssertTrue(r.err.contains("warning: \(file): libjpeg-turbo: Corrupt JPEG data"), r.err)
                    XCTAssertTrue(r.err.contains("1 decoded with warnings"), r.err)
                }
            }
        }
    }
}
