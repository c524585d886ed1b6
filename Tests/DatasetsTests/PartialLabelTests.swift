import Boxes
import Datasets
import Foundation
import Imaging
import Seeding
import TestSupport
import XCTest

/// Partly labelled classes: read from LVIS's image fields, set for images lacking a usual class, written back, and
/// carried by augmentation into the training targets as `PartialRegion`s.
final class PartialLabelTests: XCTestCase {
    private func write(_ json: String) throws -> URL {
        let folder = try Fixtures.temporaryDirectory()
        let url = folder.appendingPathComponent("lvis.json")
        try Data(json.utf8).write(to: url)
        return url
    }

    private func lvis(_ imageFields: [String]) -> String {
        let images = imageFields.enumerated().map { i, f in
            "{\"id\": \(i + 1), \"file_name\": \"\(i + 1).png\", \"width\": 40, \"height\": 30\(f)}"
        }
        return """
            {"images": [\(images.joined(separator: ", "))],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 10, "bbox": [1, 1, 5, 5], "iscrowd": 0},
                             {"id": 2, "image_id": 2, "category_id": 30, "bbox": [1, 1, 5, 5], "iscrowd": 0}],
             "categories": [{"id": 10, "name": "a"}, {"id": 20, "name": "b"}, {"id": 30, "name": "c"}]}
            """
    }

    private let noFiles = ValidationOptions(requireImageFiles: false)

    /// `not_exhaustive_category_ids` marks its classes; `neg_category_ids`, where given, makes every class neither
    /// boxed nor listed partial; an image without the fields labels every class fully. Written back as
    /// `not_exhaustive_category_ids`, the file reads the same.
    func testLVISFieldsAreRead() throws {
        let url = try write(lvis([", \"not_exhaustive_category_ids\": [10], \"neg_category_ids\": [20]",
                                  ", \"neg_category_ids\": []", "", ", \"not_exhaustive_category_ids\": [20, 30]"]))
        let ds = try DetectionDataset.load(url, options: noFiles)
        XCTAssertEqual(ds.images.map(\.partialClasses), [[0, 2], [0, 1], [], [1, 2]])
        XCTAssertTrue(DatasetStatistics(ds).description.contains("partly labelled: 3 image(s) label some class in part"))
        let copy = url.deletingLastPathComponent().appendingPathComponent("copy.json")
        try COCOFormat.write(ds, to: copy)
        let text = try String(contentsOf: copy, encoding: .utf8)
        XCTAssertTrue(text.contains("\"height\": 30, \"not_exhaustive_category_ids\": [10, 20]}"), text)
        XCTAssertEqual(try DetectionDataset.load(copy, options: noFiles).images.map(\.partialClasses), [[0, 2], [0, 1], [], [1, 2]])
    }

    /// Each wrong field is an error naming the file, the image and what is wrong.
    func testBadFieldsAreNamed() throws {
        let cases = [
            (", \"not_exhaustive_category_ids\": [40]", "\"not_exhaustive_category_ids\" holds category id 40, which is not in \"categories\""),
            (", \"neg_category_ids\": \"none\"", "\"neg_category_ids\" must be an array of category ids, found \"none\""),
            (", \"neg_category_ids\": [1.5]", "\"neg_category_ids\" must be an array of category ids, found [1.5]"),
            (", \"neg_category_ids\": [10]", "\"neg_category_ids\" lists category id 10 as absent, but the image has boxes of it"),
        ]
        for (field, message) in cases {
            let url = try write(lvis([field, ""]))
            XCTAssertThrowsError(try DetectionDataset.load(url, options: noFiles)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(message) && text.contains("lvis.json") && text.contains("images[0] (id 1)"), text)
            }
        }
    }

    /// Images lacking a class that 90 % of the images hold are marked partial for it, as `dataset stats` lists them.
    func testImagesLackingAUsualClassAreMarked() {
        let root = URL(fileURLWithPath: "/nonexistent")
        let images = (1...20).map { i in
            ImageRecord(id: i, file: root, fileName: "\(i).png", width: 40, height: 20,
                        annotations: [7, 12].contains(i) ? [] : [Annotation(box: Box(x1: 0, y1: 0, x2: 9, y2: 9), classIndex: 0)],
                        partialClasses: i == 12 ? [1] : [])
        }
        var ds = DetectionDataset(root: root, source: root, images: images,
                                  categories: [Category(id: 1, name: "cell"), Category(id: 2, name: "other")])
        let marked = ds.markImagesLackingUsualClasses()
        XCTAssertEqual(marked.map(\.classIndex), [0])
        XCTAssertEqual(marked.first?.images, [6, 11])
        XCTAssertEqual(ds.images.map(\.partialClasses).filter { !$0.isEmpty }, [[0], [0, 1]])
        XCTAssertEqual(DatasetStatistics(ds).imagesLackingUsualClass.first?.fileNames, ["7.png", "12.png"])
    }

    /// A partial class becomes a region over the whole image; a crop keeps the region however little of it shows
    /// (where a box that small would be dropped) and clips it, and the targets hold it apart from the boxes.
    func testRegionsFollowTheImageIntoTheTargets() {
        let root = URL(fileURLWithPath: "/nonexistent")
        let image = ImageRecord(id: 1, file: root, fileName: "1.png", width: 100, height: 100,
                                annotations: [Annotation(box: Box(x1: 20, y1: 10, x2: 30, y2: 20), classIndex: 0)],
                                partialClasses: [2])
        let annotations = image.annotationsWithPartialRegions
        XCTAssertEqual(annotations.last, Annotation(box: Box(x1: 0, y1: 0, x2: 100, y2: 100), classIndex: 2, isPartialRegion: true))
        // Scale 4, window at (300, 0) of 100²: a quarter of the image width shows, 6 % of its area.
        let t = InputTransform(originalWidth: 100, originalHeight: 100, scaleX: 4, scaleY: 4, offsetX: 300, offsetY: 0,
                               inputSize: 100, contentWidth: 100, contentHeight: 100)
        let kept = Augmenter.mapBoxes(annotations, transform: t, minKeptFraction: 0.4, minBoxSize: 2)
        XCTAssertEqual(kept, [Annotation(box: Box(x1: 0, y1: 0, x2: 100, y2: 100), classIndex: 2, isPartialRegion: true)])
        let targets = ImageTargets(image.annotationsWithPartialRegions)
        XCTAssertEqual(targets.boxes, [Box(x1: 20, y1: 10, x2: 30, y2: 20)])
        XCTAssertEqual(targets.classes, [0])
        XCTAssertEqual(targets.partialRegions, [PartialRegion(box: Box(x1: 0, y1: 0, x2: 100, y2: 100), classIndex: 2)])
        // A window beside the image shows none of it: the region goes.
        let beside = InputTransform(originalWidth: 100, originalHeight: 100, scaleX: 1, scaleY: 1, offsetX: 100, offsetY: 0,
                                    inputSize: 100, contentWidth: 100, contentHeight: 100)
        XCTAssertEqual(Augmenter.mapBoxes(annotations, transform: beside, minKeptFraction: 0.4, minBoxSize: 2), [])
    }

    /// In a mosaic a region covers its own quadrant only.
    func testMosaicRegionsStayInTheirQuadrant() {
        let partial = MosaicPart(image: Image(width: 64, height: 64),
                                 annotations: [Annotation(box: Box(x1: 0, y1: 0, x2: 64, y2: 64), classIndex: 1, isPartialRegion: true)])
        let plain = MosaicPart(image: Image(width: 64, height: 64),
                               annotations: [Annotation(box: Box(x1: 10, y1: 10, x2: 30, y2: 30), classIndex: 0)])
        var rng = SplitMix64(seed: 3)
        var config = AugmentConfig.none
        config.mosaicProbability = 1
        let sample = Augmenter.mosaic([partial, plain, plain, plain], inputSize: 128, inputWidth: 128, inputHeight: 128,
                                      config: config, rng: &rng)
        let regions = sample.annotations.filter(\.isPartialRegion)
        XCTAssertEqual(regions.count, 1)
        let r = regions[0].box, rest = sample.annotations.filter { !$0.isPartialRegion }.map(\.box)
        XCTAssertGreaterThan(r.area, 0)
        XCTAssertLessThanOrEqual(r.area, 96 * 96, "at most a quadrant (the centre lies in the middle half)")
        XCTAssertFalse(rest.isEmpty)
        for b in rest {  // no box of another quadrant lies inside the region
            XCTAssertLessThanOrEqual(max(0, min(b.x2, r.x2) - max(b.x1, r.x1)) * max(0, min(b.y2, r.y2) - max(b.y1, r.y1)), 0)
        }
    }
}
