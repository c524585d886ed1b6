import Boxes
import DetectorModel
import DetectorTestSupport
import Foundation
import Imaging
import TestSupport
import XCTest
@testable import Inference

/// `Tiling`: the tile layout, ownership by centre, the merge of cut boxes, and tiled prediction end to end.
final class TilingTests: XCTestCase {
    func testStartsCoverTheAxisWithTheFewestTilesAndAtLeastTheOverlap() throws {
        for side in [16, 64, 100] {
            for overlap in [0, 1, side / 5, side / 2, side - 1] {
                let tiling = try Tiling(side: side, overlap: overlap)
                for length in [1, side - 1, side, side + 1, 2 * side, 3 * side + 7, 10 * side + 3] where length > 0 {
                    let starts = tiling.starts(length: length)
                    let context = "side \(side) overlap \(overlap) length \(length): \(starts)"
                    XCTAssertEqual(starts.first, 0, context)
                    if length <= side { XCTAssertEqual(starts, [0], context); continue }
                    XCTAssertEqual(starts.last, length - side, context)
                    for (a, b) in zip(starts, starts.dropFirst()) {
                        XCTAssertGreaterThan(b, a, context)
                        XCTAssertGreaterThanOrEqual(a + side - b, overlap, context)
                    }
                    // One tile fewer could not cover the axis with that overlap.
                    let n = starts.count
                    XCTAssertLessThan(side + (n - 2) * (side - overlap), length, context)
                }
            }
        }
    }

    func testCoresPartitionTheImageAndHoldSmallObjectsWhole() throws {
        let tiling = try Tiling(side: 100, overlap: 24)
        let (width, height) = (333, 180)
        let tiles = tiling.tiles(width: width, height: height)
        XCTAssertEqual(tiles.count, 5 * 3)
        XCTAssertTrue(tiles.allSatisfy { $0.width == 100 && $0.height == 100 })
        for step in 0..<5000 {
            // A grid of points that hits every cut (x 0, 13.3, …) and the image edges.
            let x = Double(step % 100) * 3.33 + 0.05 * Double(step % 3) - 0.05, y = Double(step / 100) * 3.6
            XCTAssertEqual(tiles.filter { $0.owns(x: x, y: y) }.count, 1, "point (\(x), \(y))")
            // An object no larger than the overlap, centred in a core, lies inside that tile and is not cut.
            let side = Double(step % 24) + 0.5
            let box = Box(cx: x, cy: y, w: side, h: side).clipped(width: Double(width), height: Double(height))
            let owner = try XCTUnwrap(tiles.first { $0.owns(x: x, y: y) })
            XCTAssertGreaterThanOrEqual(box.x1, Double(owner.x)); XCTAssertLessThanOrEqual(box.x2, Double(owner.x + owner.width))
            XCTAssertGreaterThanOrEqual(box.y1, Double(owner.y)); XCTAssertLessThanOrEqual(box.y2, Double(owner.y + owner.height))
        }
        // Outer edges are not cuts; inner ones are.
        XCTAssertTrue(tiles[0].innerEdges == (false, false, true, true))
        XCTAssertTrue(tiles[14].innerEdges == (true, true, false, false))
    }

    /// Two tiles side by side: side 100, overlap 20, width 180 → tiles at x 0 and 80, cut at x 90.
    func testMergeKeepsOwnersDropsCopiesAndJoinsCutBoxes() throws {
        let tiling = try Tiling(side: 100, overlap: 20)
        let tiles = tiling.tiles(width: 180, height: 100)
        XCTAssertEqual(tiles.map(\.x), [0, 80])
        XCTAssertEqual(tiles[0].core.x1, 90)
        func det(_ x1: Double, _ x2: Double, _ score: Double, _ cls: Int = 0) -> DetectedObject {
            DetectedObject(box: Box(x1: x1, y1: 10, x2: x2, y2: 30), score: score, classIndex: cls)
        }
        // A small object at x 80–90 (centre 85) seen by both tiles: tile 0 owns it, tile 1's copy is dropped.
        // Two neighbours overlapping heavily on either side of the cut (84–94 and 88–98) are both kept: neither is
        // cut by a tile edge, so they are not merged although they overlap.
        // A large object at x 60–120 is seen cut by both tiles (60–100 in tile 0, 80–120 in tile 1): joined. The cut
        // part 80–120 covers the small objects too, but none of them continues past tile 1's edge at x 80.
        // The same large object's cut parts of different classes are not joined.
        let perTile = [
            [det(80, 90, 0.9), det(84, 94, 0.8), det(60, 100, 0.7), det(60, 100, 0.4, 1)],
            [det(80.5, 90.5, 0.85), det(88, 98, 0.75), det(80, 120, 0.6), det(80, 120, 0.3, 2)],
        ]
        let merged = tiling.merge(perTile, tiles: tiles, maxDetections: 100)
        XCTAssertEqual(merged, [det(80, 90, 0.9), det(84, 94, 0.8), det(88, 98, 0.75), det(60, 120, 0.7),
                                det(60, 100, 0.4, 1), det(80, 120, 0.3, 2)])
        XCTAssertEqual(tiling.merge(perTile, tiles: tiles, maxDetections: 2), [det(80, 90, 0.9), det(84, 94, 0.8)])
    }

    /// Four copies of a sample image in a 2×2 mosaic, tiles exactly on the copies (no overlap): the tiled prediction
    /// is each copy's whole-image prediction moved to its place.
    func testTiledPredictionOfAMosaicEqualsItsPartsPredictions() throws {
        let dir = try Fixtures.temporaryDirectory()
        let loaded = try Checkpoint.load(try DetectorFixtures.tinyCheckpoint(in: dir))
        let image = try ImageFile.read(DetectorFixtures.sample.appendingPathComponent("val/images/000001.png"))
        let (w, h) = (image.width, image.height)
        var mosaic = Image(width: 2 * w, height: 2 * h, fill: (0, 0, 0))
        for j in 0..<2 { for i in 0..<2 {
            for y in 0..<h { for x in 0..<w {
                let p = image.pixel(x: x, y: y)
                let o = ((j * h + y) * 2 * w + (i * w + x)) * 3
                mosaic.pixels[o] = p.0; mosaic.pixels[o + 1] = p.1; mosaic.pixels[o + 2] = p.2
            } }
        } }
        var post = PostProcessor()
        post.maxDetections = 400
        // One image per forward pass, so that a tile and the whole image run the same computation bit for bit.
        let predictor = Predictor(detector: loaded.detector, postProcessor: post, batchSize: 1)
        let whole = predictor.predict([(id: 0, image: image)])[0]
        predictor.tiling = try Tiling(side: w, overlap: 0)
        let tiled = predictor.predict([(id: 5, image: mosaic)])[0]
        XCTAssertEqual(tiled.imageID, 5)
        for head in [\ImagePrediction.set, \ImagePrediction.dense] {
            XCTAssertGreaterThan(whole[keyPath: head].count, 0)
            var expected: [(DetectedObject, Int)] = []
            for j in 0..<2 { for i in 0..<2 {
                for (k, d) in whole[keyPath: head].enumerated() {
                    let b = d.box
                    expected.append((DetectedObject(box: Box(x1: b.x1 + Double(i * w), y1: b.y1 + Double(j * h),
                                                             x2: b.x2 + Double(i * w), y2: b.y2 + Double(j * h)),
                                                    score: d.score, classIndex: d.classIndex), (j * 2 + i) * 1000 + k))
                }
            } }
            expected.sort { $0.0.score > $1.0.score || ($0.0.score == $1.0.score && $0.1 < $1.1) }
            let want = expected.prefix(400).map(\.0)
            XCTAssertEqual(tiled[keyPath: head].count, want.count)
            for (a, b) in zip(tiled[keyPath: head], want) {
                XCTAssertEqual(a.score, b.score)
                XCTAssertEqual(a.classIndex, b.classIndex)
                XCTAssertEqual(a.box.x1, b.box.x1, accuracy: 1e-9); XCTAssertEqual(a.box.y2, b.box.y2, accuracy: 1e-9)
            }
        }
        // Images no larger than a tile are predicted whole, as without tiling.
        predictor.tiling = try Tiling(side: max(w, h), overlap: 10)
        XCTAssertEqual(predictor.predict([(id: 0, image: image)])[0].set, whole.set)
    }

    func testSettingsOutsideTheirRangesAreErrorsNamingThem() {
        XCTAssertThrowsError(try Tiling(side: 0, overlap: 0)) { XCTAssertTrue("\($0)".contains("setting tile:")) }
        XCTAssertThrowsError(try Tiling(side: 64, overlap: 64)) { XCTAssertTrue("\($0)".contains("setting tileOverlap:")) }
        XCTAssertThrowsError(try Tiling(side: 64, overlap: 8, mergeOverlap: 0)) {
            XCTAssertTrue("\($0)".contains("setting tileMergeOverlap:"))
        }
    }
}
