import Boxes
@testable import Datasets
import Foundation
import Imaging
import Seeding
import TestSupport
import XCTest

/// `Augmenter.mosaic` (YOLOv4's mosaic) and the loader's use of it: boxes land on their own part's pixels, at
/// the scale they have without mosaic, and the result is a function of the seed.
final class MosaicTests: XCTestCase {
    /// Part `k`: a grey `w × h` image with two filled boxes in the part's own colour.
    static func part(_ k: Int, width w: Int = 120, height h: Int = 90) -> MosaicPart {
        let colour = colours[k]
        var image = Image(width: w, height: h, fill: (60, 60, 60))
        let boxes = [Box(x1: 10, y1: 12, x2: 40, y2: 52), Box(x1: 70, y1: 30, x2: 110, y2: 80)]
        for b in boxes {
            image.paste(Image(width: Int(b.width), height: Int(b.height), fill: colour), x: Int(b.x1), y: Int(b.y1))
        }
        return MosaicPart(image: image, annotations: boxes.map { Annotation(box: $0, classIndex: k) })
    }

    /// The four parts as PNG files of a dataset (image k holds two boxes of class k).
    static func partsDataset() throws -> DetectionDataset {
        let dir = try Fixtures.temporaryDirectory()
        var records: [ImageRecord] = []
        for k in 0..<4 {
            let url = dir.appendingPathComponent("part\(k).png")
            let p = part(k)
            try PNG.write(p.image, to: url)
            records.append(ImageRecord(id: k, file: url, fileName: url.lastPathComponent, width: 120, height: 90,
                                       annotations: p.annotations))
        }
        return DetectionDataset(root: dir, source: dir, images: records,
                                categories: (0..<4).map { Category(id: $0 + 1, name: "c\($0)") })
    }

    /// Loader options for `partsDataset`: one batch of all four images at 128, seed 5.
    static var loaderOptions: BatchLoaderOptions {
        var o = BatchLoaderOptions()
        o.batchSize = 4
        o.inputSize = 128
        o.seed = 5
        return o
    }

    static let colours: [(UInt8, UInt8, UInt8)] = [(250, 20, 20), (20, 250, 20), (20, 20, 250), (250, 250, 20)]

    /// Every kept box covers its own part's colour (inside a 2-pixel margin that resampling may blur), and with
    /// every box kept however little of it shows, the boxes of each part cover all of that colour the canvas shows.
    func testBoxesCoverTheirPartsPixels() {
        var config = AugmentConfig()
        config.brightness = 0; config.contrast = 0; config.saturation = 0   // colours stay exact
        config.minKeptFraction = 1e-6; config.minBoxSize = 0.01
        var keptTotal = 0
        for seed: UInt64 in 0..<20 {
            var rng = SplitMix64(seed: seed)
            let parts = (0..<4).map { Self.part($0) }
            let m = Augmenter.mosaic(parts, inputSize: 128, inputWidth: 128, inputHeight: 96, config: config, rng: &rng)
            XCTAssertEqual([m.image.width, m.image.height], [128, 96])
            keptTotal += m.annotations.count
            for a in m.annotations {
                let c = Self.colours[a.classIndex]
                XCTAssertTrue(a.box.x1 >= 0 && a.box.y1 >= 0 && a.box.x2 <= 128 && a.box.y2 <= 96, "\(a.box)")
                for y in Int(a.box.y1.rounded(.up)) + 2..<max(Int(a.box.y1.rounded(.up)) + 2, Int(a.box.y2) - 2) {
                    for x in Int(a.box.x1.rounded(.up)) + 2..<max(Int(a.box.x1.rounded(.up)) + 2, Int(a.box.x2) - 2) {
                        let p = m.image.pixel(x: x, y: y)
                        XCTAssertTrue(p == c, "seed \(seed): pixel (\(x), \(y)) \(p) inside a box of part \(a.classIndex)")
                    }
                }
            }
            // A pixel of a part's colour lies in one of that part's boxes.
            var outside = 0
            for y in 0..<96 {
                for x in 0..<128 {
                    let p = m.image.pixel(x: x, y: y)
                    guard let k = Self.colours.firstIndex(where: { $0 == p }) else { continue }
                    let inBox = m.annotations.contains {
                        $0.classIndex == k && Double(x) + 0.5 > $0.box.x1 - 1 && Double(x) + 0.5 < $0.box.x2 + 1
                            && Double(y) + 0.5 > $0.box.y1 - 1 && Double(y) + 0.5 < $0.box.y2 + 1
                    }
                    if !inBox { outside += 1 }
                }
            }
            XCTAssertLessThan(outside, 10, "seed \(seed): \(outside) pixels of a part's colour outside its kept boxes")
        }
        XCTAssertGreaterThan(keptTotal, 20 * 3, "the mosaics keep few boxes: \(keptTotal) over 20 seeds")
    }

    /// Without scale jitter, a box keeps its letterboxed size (the mosaic does not shrink its parts).
    func testPartsKeepTheirLetterboxScale() {
        var config = AugmentConfig.none
        config.mosaicProbability = 1
        var rng = SplitMix64(seed: 3)
        let m = Augmenter.mosaic((0..<4).map { Self.part($0) }, inputSize: 240, config: config, rng: &rng)
        // Letterbox scale 240 / 120 = 2: the 30 × 40 and 40 × 50 boxes become 60 × 80 and 80 × 100 where uncut.
        let sizes = m.annotations.map { [$0.box.width, $0.box.height] }
        XCTAssertTrue(sizes.contains([60, 80]) || sizes.contains([80, 100]), "no uncut box at scale 2: \(sizes)")
        for s in sizes { XCTAssertTrue(s[0] <= 80 && s[1] <= 100, "a box larger than its part's at scale 2: \(s)") }
    }

    func testSameSeedSameMosaicOtherSeedOther() {
        let parts = (0..<4).map { Self.part($0) }
        var r1 = SplitMix64(seed: 9), r2 = SplitMix64(seed: 9), r3 = SplitMix64(seed: 10)
        let a = Augmenter.mosaic(parts, inputSize: 128, config: AugmentConfig(), rng: &r1)
        let b = Augmenter.mosaic(parts, inputSize: 128, config: AugmentConfig(), rng: &r2)
        let c = Augmenter.mosaic(parts, inputSize: 128, config: AugmentConfig(), rng: &r3)
        XCTAssertEqual(a.image, b.image)
        XCTAssertEqual(a.annotations, b.annotations)
        XCTAssertNotEqual(a.image, c.image)
    }

    /// The loader with `mosaicProbability` 1: every sample is a mosaic (objects of several images on one canvas),
    /// batches are a function of (seed, epoch, step), and probability 0 leaves the batches as they were.
    func testLoaderMosaicsAreDeterministic() throws {
        _ = try Self.assertLoaderCombinesImages(\.mosaicProbability)
    }

    /// With `probability` (a key path of `AugmentConfig`) at 1 over `augment`, the loader's first batch of
    /// `partsDataset`: a second loader gives the same, some sample holds objects of two images, probability 0 gives
    /// one image per sample and other pixels, and from the closing phase (`mosaicEnd`) on the batches are those of 0.
    static func assertLoaderCombinesImages(_ probability: WritableKeyPath<AugmentConfig, Double>,
                                           augment: AugmentConfig = AugmentConfig(), file: StaticString = #filePath,
                                           line: UInt = #line) throws -> Batch {
        let ds = try partsDataset()
        var o = loaderOptions
        o.augment = augment
        o.augment[keyPath: probability] = 1
        let loader = BatchLoader(dataset: ds, options: o)
        let b1 = try loader.makeBatch(epoch: 0, step: 0)
        let b2 = try BatchLoader(dataset: ds, options: o).makeBatch(epoch: 0, step: 0)
        XCTAssertEqual(b1.images, b2.images, file: file, line: line)
        XCTAssertEqual(b1.targets.map(\.boxes), b2.targets.map(\.boxes), file: file, line: line)
        let classesPerSample = b1.targets.map { Set($0.classes).count }
        XCTAssertGreaterThan(classesPerSample.max() ?? 0, 1, "no sample shows more than one image: \(classesPerSample)",
                             file: file, line: line)
        o.augment[keyPath: probability] = 0
        let plain = try BatchLoader(dataset: ds, options: o).makeBatch(epoch: 0, step: 0)
        XCTAssertEqual(plain.targets.map { Set($0.classes).count }.max(), 1, file: file, line: line)
        XCTAssertNotEqual(plain.images, b1.images, file: file, line: line)
        loader.mosaicEnd = 1
        XCTAssertEqual(try loader.makeBatch(epoch: 0, step: 0).images, b1.images, "before the end", file: file, line: line)
        let closing = try loader.makeBatch(epoch: 1, step: 0)
        let plainLater = try BatchLoader(dataset: ds, options: o).makeBatch(epoch: 1, step: 0)
        XCTAssertEqual(closing.images, plainLater.images, file: file, line: line)
        XCTAssertEqual(closing.targets.map(\.boxes), plainLater.targets.map(\.boxes), file: file, line: line)
        return b1
    }
}
