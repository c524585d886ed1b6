import Boxes
import Datasets
import Foundation
import XCTest

/// `DatasetStatistics`' per-class image counts and the images lacking a class nearly every other image holds.
final class DatasetStatisticsTests: XCTestCase {
    /// 20 images: "cell" in all but images 7 and 12 (90 %), "rare" in the first 5; then the same with "cell" in all
    /// but 7 (95 %), and in half of them (not usual, not listed).
    private func dataset(cellMissingFrom missing: Set<Int>) -> DetectionDataset {
        let root = URL(fileURLWithPath: "/nonexistent")
        let images = (1...20).map { i -> ImageRecord in
            var annotations: [Annotation] = []
            if !missing.contains(i) {
                annotations.append(Annotation(box: Box(x1: 0, y1: 0, x2: 10, y2: 10), classIndex: 0))
            }
            if i <= 5 { annotations.append(Annotation(box: Box(x1: 20, y1: 0, x2: 30, y2: 10), classIndex: 1)) }
            return ImageRecord(id: i, file: root, fileName: "img\(i).png", width: 40, height: 20,
                               annotations: annotations)
        }
        return DetectionDataset(root: root, source: root, images: images,
                                categories: [Category(id: 1, name: "cell"), Category(id: 2, name: "rare")])
    }

    func testImagesLackingAUsualClassAreListed() {
        let stats = DatasetStatistics(dataset(cellMissingFrom: [7, 12]))
        XCTAssertEqual(stats.classImages, [18, 5])
        XCTAssertEqual(stats.imagesLackingUsualClass.map(\.className), ["cell"])
        XCTAssertEqual(stats.imagesLackingUsualClass.first?.fileNames, ["img7.png", "img12.png"])
        let text = stats.description
        XCTAssertTrue(text.contains("classes: cell 18 in 18 images, rare 5 in 5 images\n"), text)
        XCTAssertTrue(text.contains("possible missing labels: 2 image(s) without cell, which 90% of the images hold: "
            + "img7.png, img12.png\n  (detector train --partial-labels trains on them"), text)

        let one = DatasetStatistics(dataset(cellMissingFrom: [7]))
        XCTAssertEqual(one.imagesLackingUsualClass.first?.fileNames, ["img7.png"])
        XCTAssertTrue(one.description.contains("without cell, which 95% of the images hold: img7.png\n"))

        // Below 90 % a class is not usual; in every image nothing is missing.
        XCTAssertTrue(DatasetStatistics(dataset(cellMissingFrom: [1, 2, 3])).imagesLackingUsualClass.isEmpty)
        let all = DatasetStatistics(dataset(cellMissingFrom: []))
        XCTAssertTrue(all.imagesLackingUsualClass.isEmpty)
        XCTAssertFalse(all.description.contains("possible missing labels"))
        XCTAssertFalse(all.description.contains("--partial-labels"))
    }

    /// More than ten images lacking the class: the first ten are named, then an ellipsis.
    func testALongListIsCut() {
        let root = URL(fileURLWithPath: "/nonexistent")
        let images = (1...200).map { i in
            ImageRecord(id: i, file: root, fileName: "\(i).png", width: 40, height: 20,
                        annotations: i > 12 ? [Annotation(box: Box(x1: 0, y1: 0, x2: 10, y2: 10), classIndex: 0)] : [])
        }
        let stats = DatasetStatistics(DetectionDataset(root: root, source: root, images: images,
                                                       categories: [Category(id: 1, name: "cell")]))
        XCTAssertEqual(stats.imagesLackingUsualClass.first?.fileNames.count, 12)
        XCTAssertTrue(stats.description.contains("12 image(s) without cell, which 94% of the images hold: "
            + (1...10).map { "\($0).png" }.joined(separator: ", ") + ", …\n"), stats.description)
    }
}
