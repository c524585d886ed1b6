import Boxes
import Datasets
import Foundation
import Imaging
import Inference
import TestSupport
import XCTest

/// `PossibleMissingLabels` on hand-built cases: only confident detections that touch no ground-truth box are listed.
final class PossibleMissingLabelsTests: XCTestCase {
    private func det(_ x: Double, _ score: Double, _ c: Int = 0) -> DetectedObject {
        DetectedObject(box: Box(x1: x, y1: 0, x2: x + 10, y2: 10), score: score, classIndex: c)
    }

    /// Image 1 holds a cat at 0–10 and an ignored cat at 60–70; image 2 a dog at 0–10; image 3 nothing.
    private func dataset() -> DetectionDataset {
        let root = URL(fileURLWithPath: "/nonexistent")
        func box(_ x: Double) -> Box { Box(x1: x, y1: 0, x2: x + 10, y2: 10) }
        let one = ImageRecord(id: 1, file: root, fileName: "a/1.jpg", width: 200, height: 20, annotations: [
            Annotation(box: box(0), classIndex: 0), Annotation(box: box(60), classIndex: 0, ignore: true),
        ])
        let two = ImageRecord(id: 2, file: root, fileName: "a/2.jpg", width: 200, height: 20,
                              annotations: [Annotation(box: box(0), classIndex: 1)])
        let three = ImageRecord(id: 3, file: root, fileName: "a/3.jpg", width: 200, height: 20)
        return DetectionDataset(root: root, source: root, images: [one, two, three],
                                categories: [Category(id: 5, name: "cat"), Category(id: 7, name: "dog")])
    }

    func testOnlyConfidentDetectionsOnNoLabelledObjectAreListed() throws {
        let predictions = [
            // The cat found (IoU 1), a box 7 px off it (IoU 0.176: misplaced, not missing), a box touching it by
            // 1 px (IoU 0.053: listed), the ignored cat found (not listed), a stray cat at 100 below the threshold.
            ImagePrediction(imageID: 1, set: [det(0, 0.9), det(7, 0.8), det(9, 0.7), det(60, 0.95), det(100, 0.4)],
                            dense: []),
            // A cat on the dog's box (another class, same place: a wrong class, not a missing label), a dog at 50.
            ImagePrediction(imageID: 2, set: [det(0, 0.9), det(50, 0.6, 1)], dense: []),
            // Two objects on an image without labels.
            ImagePrediction(imageID: 3, set: [det(20, 0.5), det(40, 0.99, 1)], dense: [det(40, 0.99, 1)]),
        ]
        let missing = PossibleMissingLabels(predictions: predictions, head: \.set, dataset: dataset(), threshold: 0.5)
        XCTAssertEqual(missing.candidates.map(\.imageID), [3, 1, 2, 3])
        XCTAssertEqual(missing.candidates.map(\.score), [0.99, 0.7, 0.6, 0.5])
        XCTAssertEqual(missing.candidates.map(\.category), ["dog", "cat", "dog", "cat"])
        XCTAssertEqual(missing.candidates.map(\.categoryID), [7, 5, 7, 5])
        XCTAssertEqual(missing.candidates[1].bbox, [9, 0, 10, 10])
        XCTAssertEqual(missing.candidates[1].maxIoU, 1.0 / 19, accuracy: 1e-6)
        XCTAssertEqual(missing.candidates[0].maxIoU, 0)
        XCTAssertEqual(missing.images.map(\.fileName), ["a/3.jpg", "a/1.jpg", "a/2.jpg"])
        XCTAssertEqual(missing.images.map(\.count), [2, 1, 1])
        XCTAssertEqual(missing.images.map(\.imageID), [3, 1, 2])
        XCTAssertEqual(missing.summary, "possible missing labels: 4 detection(s) with score ≥ 0.50 on no labelled "
            + "object (IoU < 0.10) in 3 image(s); most in a/3.jpg (2), a/1.jpg (1), a/2.jpg (1)")
        // A looser overlap limit lists the misplaced box too; a stricter threshold only the surest.
        let loose = PossibleMissingLabels(predictions: predictions, head: \.set, dataset: dataset(), threshold: 0.5,
                                          maxIoU: 0.2)
        XCTAssertEqual(loose.candidates.map(\.score), [0.99, 0.8, 0.7, 0.6, 0.5])
        let sure = PossibleMissingLabels(predictions: predictions, head: \.set, dataset: dataset(), threshold: 0.95)
        XCTAssertEqual(sure.candidates.map(\.score), [0.99])
        let dense = PossibleMissingLabels(predictions: predictions, head: \.dense, dataset: dataset(), threshold: 0.5)
        XCTAssertEqual(dense.candidates.map(\.imageID), [3])
    }

    func testTheFileListsImagesAndDetections() throws {
        let predictions = [ImagePrediction(imageID: 3, set: [det(20, 0.5), det(40, 0.75, 1)], dense: [])]
        let missing = PossibleMissingLabels(predictions: predictions, head: \.set, dataset: dataset(), threshold: 0.5)
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("set_possible_missing.json")
        try missing.write(to: url)
        let file = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        XCTAssertEqual(file["threshold"] as? Double, 0.5)
        XCTAssertEqual(file["max_iou"] as? Double, 0.1)
        let images = try XCTUnwrap(file["images"] as? [[String: Any]])
        XCTAssertEqual(images.count, 1)
        XCTAssertEqual(images[0]["file_name"] as? String, "a/3.jpg")
        XCTAssertEqual(images[0]["count"] as? Int, 2)
        let detections = try XCTUnwrap(file["detections"] as? [[String: Any]])
        XCTAssertEqual(detections.map { $0["score"] as? Double }, [0.75, 0.5])
        XCTAssertEqual(detections[0]["category"] as? String, "dog")
        XCTAssertEqual(detections[0]["category_id"] as? Int, 7)
        XCTAssertEqual(detections[0]["image_id"] as? Int, 3)
        XCTAssertEqual(detections[0]["bbox"] as? [Double], [40, 0, 10, 10])
        XCTAssertThrowsError(try missing.write(to: URL(fileURLWithPath: "/nonexistent/folder/x.json"))) {
            XCTAssertTrue("\($0)".contains("/nonexistent/folder/x.json"), "\($0)")
        }
    }

    /// The pictures show the ground truth in white and only the listed detections in colour: a detection on a
    /// labelled object leaves that object's box white.
    func testPicturesDrawOnlyTheListedDetections() throws {
        let dir = try Fixtures.temporaryDirectory()
        let file = dir.appendingPathComponent("1.png")
        try PNG.write(Image(width: 60, height: 20), to: file)
        let record = ImageRecord(id: 1, file: file, fileName: "1.png", width: 60, height: 20,
                                 annotations: [Annotation(box: Box(x1: 2, y1: 2, x2: 12, y2: 12), classIndex: 0)])
        let data = DetectionDataset(root: dir, source: dir, images: [record],
                                    categories: [Category(id: 1, name: "cell")])
        let found = DetectedObject(box: Box(x1: 2, y1: 2, x2: 12, y2: 12), score: 0.9, classIndex: 0)
        let unlabelled = DetectedObject(box: Box(x1: 30, y1: 4, x2: 40, y2: 14), score: 0.8, classIndex: 0)
        let predictions = [ImagePrediction(imageID: 1, set: [found, unlabelled], dense: [])]
        let missing = PossibleMissingLabels(predictions: predictions, head: \.set, dataset: data, threshold: 0.5)
        let pictures = try missing.writePictures(predictions, head: \.set, dataset: data, count: 4,
                                                 to: dir.appendingPathComponent("pictures"), prefix: "set_")
        XCTAssertEqual(pictures.map(\.lastPathComponent), ["set_1.png"])
        let picture = try PNG.read(pictures[0])
        XCTAssertTrue(picture.pixel(x: 2, y: 7) == (255, 255, 255), "the labelled cell's box stays white")
        let colour = Image.classColor(0)
        XCTAssertTrue(picture.pixel(x: 30, y: 9) == colour, "the unlabelled one is drawn in its class colour")
        XCTAssertTrue(try missing.writePictures(predictions, head: \.set, dataset: data, count: 0,
                                                to: dir.appendingPathComponent("none")).isEmpty)
    }
}
