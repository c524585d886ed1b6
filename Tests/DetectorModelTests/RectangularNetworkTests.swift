import Boxes
import DetectorTestSupport
import NeuralNet
import XCTest
@testable import DetectorModel

/// The network on rectangular inputs (`DetectorConfig.rectangular`): shapes, anchors, settings, and the square
/// input unchanged.
final class RectangularNetworkTests: XCTestCase {
    static func rectangularConfig(strides: [Int] = [8]) -> DetectorConfig {
        var c = DetectorFixtures.tinyConfig()
        c.rectangular = true
        c.pyramidStrides = strides
        return c
    }

    func testForwardShapesAndAnchorsOnAWideAndATallInput() throws {
        let c = Self.rectangularConfig()
        let d = try Detector(config: c, seed: 1)
        for (h, w) in [(32, 64), (64, 32), (48, 64)] {
            let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: 2, height: h, width: w)
            let out = d.forward(b.images)
            let anchors = (h / 8) * (w / 8) * c.anchorsPerLocation
            XCTAssertEqual(out.denseLogits.shape, [2, anchors, 2])
            XCTAssertEqual(out.denseDeltas.shape, [2, anchors, 4])
            XCTAssertEqual(out.setLogits.shape, [24, 3])
            XCTAssertEqual([d.inputHeight, d.inputWidth], [h, w])
            XCTAssertEqual(d.anchors.count, anchors)
            XCTAssertEqual([d.decoder.inputHeight, d.decoder.inputWidth], [h, w])
            // Anchor (y, x, a) is centred on cell (y, x) of a grid w/8 cells wide.
            let (y, x, a) = (h / 8 - 1, w / 8 - 1, 1)
            let anchor = d.anchors[((y * (w / 8)) + x) * c.anchorsPerLocation + a]
            XCTAssertEqual(anchor.cx, (Double(x) + 0.5) * 8, accuracy: 1e-9)
            XCTAssertEqual(anchor.cy, (Double(y) + 0.5) * 8, accuracy: 1e-9)
            XCTAssertEqual(anchor.width, c.anchorSizes[1], accuracy: 1e-9)
            for (i, list) in out.selected.enumerated() {
                XCTAssertEqual(Set(list).count, c.hypotheses, "image \(i)")
                XCTAssertTrue(list.allSatisfy { $0 >= 0 && $0 < anchors })
            }
            XCTAssertTrue(out.setBoxes.allSatisfy(\.isFinite))
        }
    }

    func testPyramidLevelsOnARectangle() throws {
        let c = Self.rectangularConfig(strides: [4, 8, 16])
        XCTAssertEqual(c.levelAnchorCounts(height: 32, width: 64), [8 * 16 * 2, 4 * 8 * 2, 2 * 4 * 2])
        XCTAssertEqual(c.levelShapes(height: 32, width: 64).map { [$0.height, $0.width] }, [[8, 16], [4, 8], [2, 4]])
        let anchors = c.anchors(height: 32, width: 64)
        XCTAssertEqual(anchors.count, (8 * 16 + 4 * 8 + 2 * 4) * 2)
        // The stride-16 level's last anchor: cell (1, 3), size 16 · 16/8.
        XCTAssertEqual(anchors.last!.cx, 3.5 * 16, accuracy: 1e-9)
        XCTAssertEqual(anchors.last!.cy, 1.5 * 16, accuracy: 1e-9)
        XCTAssertEqual(anchors.last!.width, 32, accuracy: 1e-9)
        XCTAssertTrue(anchors.allSatisfy { $0.cx < 64 && $0.cy < 32 })
        let d = try Detector(config: c, seed: 3)
        let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: 4, height: 32, width: 64)
        let out = d.forward(b.images)
        XCTAssertEqual(out.denseLogits.shape, [2, anchors.count, 2])
        XCTAssertEqual(d.anchors, anchors)
        let (levels, cells) = d.locate(out.selected)
        for (l, cell) in zip(levels.joined(), cells.joined()) {
            let s = c.levelShapes(height: 32, width: 64)[l]
            XCTAssertLessThan(cell, s.height * s.width)
        }
        // Backward runs on the level shapes of the rectangle.
        d.backward(dDenseLogits: Tensor(shape: out.denseLogits.shape), dDenseDeltas: Tensor(shape: out.denseDeltas.shape),
                   dSetBoxes: [Float](repeating: 0.1, count: out.setBoxes.count), dSetLogits: Tensor(shape: out.setLogits.shape))
        XCTAssertTrue(d.parameters.allSatisfy { $0.grad.data.allSatisfy(\.isFinite) })
    }

    /// With the setting off, or on but fed a square input, the square network computes what it always did, bit for
    /// bit, also after rectangular inputs changed the anchors.
    func testSquareInputsAreUnchanged() throws {
        let square = DetectorFixtures.tinyConfig()
        XCTAssertEqual(square.anchors(height: 64, width: 64), square.anchors)
        XCTAssertEqual(square.levelAnchorCounts(height: 64, width: 64), square.levelAnchorCounts)
        let b = DetectorFixtures.randomBatch(config: square, n: 2, seed: 5)
        let reference = try Detector(config: square, seed: 6).forward(b.images)
        let rect = try Detector(config: Self.rectangularConfig(), seed: 6)
        _ = rect.forward(DetectorFixtures.randomBatch(config: square, n: 2, seed: 7, height: 32, width: 64).images)
        let again = rect.forward(b.images)
        XCTAssertEqual(again.denseLogits.data, reference.denseLogits.data)
        XCTAssertEqual(again.denseDeltas.data, reference.denseDeltas.data)
        XCTAssertEqual(again.setBoxes, reference.setBoxes)
        XCTAssertEqual(again.setLogits.data, reference.setLogits.data)
        XCTAssertEqual(again.selected, reference.selected)
        XCTAssertEqual(rect.anchors, square.anchors)
    }

    func testSettingIsCheckedAndOldConfigurationsReadAsSquare() throws {
        var fc = Self.rectangularConfig()
        fc.setHead = .fc
        XCTAssertThrowsError(try fc.validate()) { error in
            guard case let ModelError.invalidSetting(key, reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "rectangular")
            XCTAssertTrue(reason.contains("fc"), reason)
        }
        var odd = Self.rectangularConfig()
        odd.inputSize = 80
        XCTAssertThrowsError(try odd.validate()) { XCTAssertEqual(($0 as? ModelError).map { "\($0)" }?.contains("rectangular"), true, "\($0)") }
        var many = Self.rectangularConfig()
        many.hypotheses = 40   // the 32×64 rectangle has 4·8·2 = 64 anchors; 40 fit
        XCTAssertNoThrow(try many.validate())
        many.hypotheses = 70
        XCTAssertThrowsError(try many.validate())
        XCTAssertTrue(Self.rectangularConfig().accepts(height: 32, width: 64))
        XCTAssertFalse(DetectorFixtures.tinyConfig().accepts(height: 32, width: 64))
        XCTAssertFalse(Self.rectangularConfig().accepts(height: 40, width: 64))
        XCTAssertFalse(Self.rectangularConfig().accepts(height: 32, width: 128))
        // A checkpoint written before the setting existed has no key: square.
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(DetectorFixtures.tinyConfig().jsonString().utf8)) as? [String: Any])
        XCTAssertNotNil(object.removeValue(forKey: "rectangular"))
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let old = try DetectorConfig.from(json: text, source: "old checkpoint")
        XCTAssertFalse(old.rectangular)
        XCTAssertEqual(old, DetectorFixtures.tinyConfig())
        XCTAssertTrue(try DetectorConfig.from(json: "{\"rectangular\": true}", source: "file").rectangular)
    }
}
