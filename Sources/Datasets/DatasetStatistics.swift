import Boxes
import Foundation

/// Summary figures of a dataset, printed by `detector dataset stats`.
public struct DatasetStatistics: Sendable, CustomStringConvertible {
    /// Number of images.
    public var images = 0
    /// Number of boxes.
    public var boxes = 0
    /// Images without any box.
    public var imagesWithoutBoxes = 0
    /// Boxes per image: mean, median, max.
    public var boxesPerImage: (mean: Double, median: Double, max: Int) = (0, 0, 0)
    /// COCO area ranges: small `< 32²`, medium `32²…96²`, large `> 96²` (pixels²).
    public var small = 0, medium = 0, large = 0
    /// 10th, 50th and 90th percentiles of box width, height and `√area`, in pixels.
    public var widthPercentiles: [Double] = [], heightPercentiles: [Double] = [], sidePercentiles: [Double] = []
    /// Share of boxes overlapping another box of the same image at IoU > 0.3.
    public var overlapShare03 = 0.0
    /// Share of boxes overlapping another box of the same image at IoU > 0.5.
    public var overlapShare05 = 0.0
    /// Boxes flagged crowd or ignore.
    public var crowdOrIgnored = 0
    /// `(name, count)` per class, in class-index order.
    public var classCounts: [(String, Int)] = []
    /// Images holding at least one box of each class, in class-index order.
    public var classImages: [Int] = []
    /// For each class that `DetectionDataset.usualClassShare` or more of the images hold but not all: the images
    /// without it (file names, file order). An image lacking a class that nearly every other one holds is often an
    /// image whose boxes of that class were not drawn (possible missing labels).
    public var imagesLackingUsualClass: [(className: String, fileNames: [String])] = []
    /// Images that label some class only in part (`ImageRecord.partialClasses`, from LVIS-style fields).
    public var imagesWithPartialClasses = 0
    /// What loading changed or noticed.
    public var report = ValidationReport()

    /// Computes the statistics of `dataset` (pairwise IoU per image: O(boxes²) per image).
    public init(_ dataset: DetectionDataset) {
        images = dataset.images.count
        var counts: [Int] = []
        var widths: [Double] = [], heights: [Double] = [], sides: [Double] = []
        var over03 = 0, over05 = 0
        for image in dataset.images {
            let boxesHere = image.annotations.map(\.box)
            counts.append(boxesHere.count)
            if boxesHere.isEmpty { imagesWithoutBoxes += 1 }
            for a in image.annotations {
                let area = a.box.area
                if area < 32 * 32 { small += 1 } else if area <= 96 * 96 { medium += 1 } else { large += 1 }
                widths.append(a.box.width); heights.append(a.box.height); sides.append(area.squareRoot())
                if a.isCrowd || a.ignore { crowdOrIgnored += 1 }
            }
            let best = Self.maxOverlap(boxesHere)
            over03 += best.filter { $0 > 0.3 }.count
            over05 += best.filter { $0 > 0.5 }.count
        }
        boxes = counts.reduce(0, +)
        let sortedCounts = counts.sorted()
        boxesPerImage = (images > 0 ? Double(boxes) / Double(images) : 0,
                         Self.percentile(sortedCounts.map(Double.init), 0.5), sortedCounts.last ?? 0)
        widthPercentiles = [0.1, 0.5, 0.9].map { Self.percentile(widths.sorted(), $0) }
        heightPercentiles = [0.1, 0.5, 0.9].map { Self.percentile(heights.sorted(), $0) }
        sidePercentiles = [0.1, 0.5, 0.9].map { Self.percentile(sides.sorted(), $0) }
        overlapShare03 = boxes > 0 ? Double(over03) / Double(boxes) : 0
        overlapShare05 = boxes > 0 ? Double(over05) / Double(boxes) : 0
        classCounts = zip(dataset.categories.map(\.name), dataset.classCounts).map { ($0, $1) }
        classImages = dataset.categories.indices.map { c in
            dataset.images.filter { $0.annotations.contains { $0.classIndex == c } }.count
        }
        imagesLackingUsualClass = dataset.imagesLackingUsualClasses.map { c, lacking in
            (dataset.categories[c].name, lacking.map { dataset.images[$0].fileName })
        }
        imagesWithPartialClasses = dataset.images.filter { !$0.partialClasses.isEmpty }.count
        report = dataset.report
    }

    /// For each box, its largest IoU with another box of the same list (0 for a lone box).
    public static func maxOverlap(_ boxes: [Box]) -> [Double] {
        let n = boxes.count
        guard n > 1 else { return [Double](repeating: 0, count: n) }
        let m = pairwiseIoU(boxes, boxes)
        return (0..<n).map { i in
            var best = 0.0
            for j in 0..<n where j != i { best = max(best, m[i * n + j]) }
            return best
        }
    }

    /// Share of boxes (over all images) whose largest IoU with another box of their image exceeds `threshold`.
    public static func overlapShare(_ imagesBoxes: [[Box]], threshold: Double) -> Double {
        var over = 0, total = 0
        for boxes in imagesBoxes {
            over += maxOverlap(boxes).filter { $0 > threshold }.count
            total += boxes.count
        }
        return total > 0 ? Double(over) / Double(total) : 0
    }

    /// Linear-interpolation percentile of sorted values (numpy's default), `q` in `[0, 1]`; 0 when empty.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let pos = q * Double(sorted.count - 1)
        let i = Int(pos), f = pos - Double(i)
        return i + 1 < sorted.count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
    }

    /// A multi-line human-readable summary, ending with the problems found.
    public var description: String {
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func pct(_ v: Double) -> String { String(format: "%.1f%%", 100 * v) }
        var s = "images: \(images) (\(imagesWithoutBoxes) without boxes)\n"
        s += "boxes: \(boxes) (crowd/ignore: \(crowdOrIgnored))\n"
        s += "boxes per image: mean \(f(boxesPerImage.mean)), median \(f(boxesPerImage.median)), "
            + "max \(boxesPerImage.max)\n"
        s += "box sizes (COCO): small \(small), medium \(medium), large \(large)\n"
        s += "box width p10/p50/p90: \(widthPercentiles.map(f).joined(separator: " / ")) px; "
        s += "height: \(heightPercentiles.map(f).joined(separator: " / ")) px; "
        s += "sqrt(area): \(sidePercentiles.map(f).joined(separator: " / ")) px\n"
        s += "overlap: \(pct(overlapShare03)) of boxes overlap another at IoU > 0.3, "
            + "\(pct(overlapShare05)) at IoU > 0.5\n"
        s += "classes: " + zip(classCounts, classImages).map { "\($0.0.0) \($0.0.1) in \($0.1) images" }
            .joined(separator: ", ") + "\n"
        for (name, files) in imagesLackingUsualClass {
            let shown = files.prefix(10).joined(separator: ", ") + (files.count > 10 ? ", …" : "")
            s += String(format: "possible missing labels: %d image(s) without %@, which %.0f%% of the images hold: ",
                        files.count, name, 100 * Double(images - files.count) / Double(images)) + shown + "\n"
        }
        if imagesWithPartialClasses > 0 {
            s += "partly labelled: \(imagesWithPartialClasses) image(s) label some class in part "
                + "(not_exhaustive_category_ids / neg_category_ids)\n"
        }
        if !imagesLackingUsualClass.isEmpty {
            s += "  (detector train --partial-labels trains on them without counting that class's dense scores there)\n"
        }
        s += "problems: " + report.description
        return s
    }
}
