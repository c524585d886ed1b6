import Boxes
@testable import Datasets
import Foundation
import TestSupport
import XCTest

final class SyntheticTests: XCTestCase {
    func testRenderIsDeterministicAndSeedDependent() {
        let a = SyntheticScenes.render(index: 3, seed: 7)
        let b = SyntheticScenes.render(index: 3, seed: 7)
        let c = SyntheticScenes.render(index: 3, seed: 8)
        XCTAssertEqual(a.image, b.image)
        XCTAssertEqual(a.annotations, b.annotations)
        XCTAssertNotEqual(a.image, c.image)
    }

    func testSceneStatisticsAreCrowded() {
        let config = SyntheticSceneConfig()
        var boxes: [[Box]] = []
        var drawn = 0, hidden = 0
        let start = Date()
        for i in 0..<40 {
            let s = SyntheticScenes.render(index: i, seed: 1, config: config)
            boxes.append(s.annotations.map(\.box))
            drawn += s.drawnObjects; hidden += s.hiddenObjects
            XCTAssertTrue((config.minObjects...config.maxObjects).contains(s.drawnObjects))
            for a in s.annotations {
                XCTAssertTrue(a.box.width >= 8 && a.box.width <= 64 && a.box.height >= 8 && a.box.height <= 64)
                XCTAssertTrue(a.box.x1 >= 0 && a.box.y1 >= 0 && a.box.x2 <= 320 && a.box.y2 <= 320)
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        let share03 = DatasetStatistics.overlapShare(boxes, threshold: 0.3)
        let share05 = DatasetStatistics.overlapShare(boxes, threshold: 0.5)
        print("synthetic: \(boxes.count) images in \(elapsed)s, drawn \(drawn), hidden \(hidden), overlap>0.3 \(share03), >0.5 \(share05)")
        XCTAssertGreaterThan(share03, 0.3, "a large share of objects overlaps another at IoU > 0.3")
        XCTAssertGreaterThan(hidden, 0)
    }
}
