import Boxes
import Foundation

/// What loading changed or noticed; never silent. Printed by `detector dataset stats` and by training.
public struct ValidationReport: Sendable, Equatable, CustomStringConvertible {
    /// Boxes partly outside their image, clipped to it.
    public var clippedBoxes = 0
    /// Boxes dropped because their width or height was ≤ 0 or below the minimum size (after clipping).
    public var droppedDegenerateBoxes = 0
    /// Exact duplicates (same class, same corners within 1e-6 px) of an earlier box in the same image; kept.
    public var duplicateBoxes = 0
    /// Images with no annotation left.
    public var imagesWithoutBoxes = 0
    /// A few examples of each problem (at most `ValidationReport.maxNotes`), naming image and box.
    public var notes: [String] = []

    /// How many example notes are kept.
    public static let maxNotes = 20

    /// An empty report.
    public init() {}

    /// Whether nothing was changed or noticed (images without boxes are not a problem on their own).
    public var isClean: Bool { clippedBoxes == 0 && droppedDegenerateBoxes == 0 && duplicateBoxes == 0 }

    mutating func note(_ text: @autoclosure () -> String) {
        if notes.count < Self.maxNotes { notes.append(text()) }
    }

    /// The counts on one line, then the example notes.
    public var description: String {
        var s = "clipped \(clippedBoxes) box(es) to their image, dropped \(droppedDegenerateBoxes) degenerate, "
            + "kept \(duplicateBoxes) exact duplicate(s); \(imagesWithoutBoxes) image(s) without boxes"
        for n in notes { s += "\n  - " + n }
        return s
    }
}

/// Settings of the checks applied to every loaded dataset.
public struct ValidationOptions: Sendable, Equatable {
    /// Boxes narrower or shorter than this many pixels after clipping are dropped. Default 1 px.
    public var minBoxSize: Double
    /// Whether every image file must exist (missing files are an error listing the first offenders).
    public var requireImageFiles: Bool

    /// Options with the defaults: 1 px minimum, image files required.
    public init(minBoxSize: Double = 1, requireImageFiles: Bool = true) {
        self.minBoxSize = minBoxSize
        self.requireImageFiles = requireImageFiles
    }
}

enum Validator {
    /// Clips every box to its image, drops the degenerate ones and counts duplicates, updating `report`.
    static func clean(_ images: inout [ImageRecord], options: ValidationOptions, report: inout ValidationReport) {
        for i in images.indices {
            let w = Double(images[i].width), h = Double(images[i].height)
            var kept: [Annotation] = []
            kept.reserveCapacity(images[i].annotations.count)
            for var a in images[i].annotations {
                let b = a.box
                let c = Box(x1: min(max(b.x1, 0), w), y1: min(max(b.y1, 0), h),
                            x2: min(max(b.x2, 0), w), y2: min(max(b.y2, 0), h))
                if c != b {
                    report.clippedBoxes += 1
                    report.note("\(images[i].fileName): box \(fmt(b)) clipped to the \(images[i].width)×\(images[i].height) image")
                }
                if c.x2 - c.x1 < options.minBoxSize || c.y2 - c.y1 < options.minBoxSize || !(c.x2 > c.x1 && c.y2 > c.y1) {
                    report.droppedDegenerateBoxes += 1
                    report.note("\(images[i].fileName): degenerate box \(fmt(b)) dropped (min size \(options.minBoxSize) px)")
                    continue
                }
                a.box = c
                if kept.contains(where: { $0.classIndex == a.classIndex && sameCorners($0.box, c) }) {
                    report.duplicateBoxes += 1
                    report.note("\(images[i].fileName): exact duplicate box \(fmt(c)) kept")
                }
                kept.append(a)
            }
            images[i].annotations = kept
            if kept.isEmpty { report.imagesWithoutBoxes += 1 }
        }
    }

    static func sameCorners(_ a: Box, _ b: Box) -> Bool {
        abs(a.x1 - b.x1) < 1e-6 && abs(a.y1 - b.y1) < 1e-6 && abs(a.x2 - b.x2) < 1e-6 && abs(a.y2 - b.y2) < 1e-6
    }

    static func fmt(_ b: Box) -> String {
        // Integral values print as integers only where Int holds them (a lying file can say 1e300 or inf).
        func f(_ v: Double) -> String {
            guard abs(v) < 1e15 else { return String(format: "%g", v) }
            return v == v.rounded() ? String(Int(v)) : String(format: "%.2f", v)
        }
        return "(\(f(b.x1)), \(f(b.y1)), \(f(b.x2)), \(f(b.y2)))"
    }
}

/// Resolves image paths from annotation files against candidate folders, keeping them inside the dataset root.
struct ImagePathResolver {
    /// Folders tried in order for a relative path.
    let bases: [URL]
    /// The folders an image may live in; a path leaving all of them is an error.
    let roots: [URL]
    /// The annotation file, for error messages.
    let sourceName: String

    /// The first existing file among `bases` (or the first candidate when none exists, with `exists == false`).
    /// Throws `pathEscapesRoot` for a path with `..` leaving the root or an absolute path outside it.
    func resolve(_ path: String) throws -> (url: URL, exists: Bool) {
        let fm = FileManager.default
        if path.hasPrefix("/") {
            let u = URL(fileURLWithPath: path).standardizedFileURL
            guard roots.contains(where: { Self.isInside(u, $0) }) else {
                throw DatasetError.pathEscapesRoot(file: sourceName, path: path, root: roots.first?.path ?? "/")
            }
            return (u, fm.fileExists(atPath: u.path))
        }
        var first: URL?
        for base in bases {
            let u = base.appendingPathComponent(path).standardizedFileURL
            guard Self.isInside(u, base.standardizedFileURL) else {
                throw DatasetError.pathEscapesRoot(file: sourceName, path: path, root: base.path)
            }
            if first == nil { first = u }
            if fm.fileExists(atPath: u.path) { return (u, true) }
        }
        return (first ?? URL(fileURLWithPath: path), false)
    }

    /// Whether `url` lies inside the folder `root` (after removing `.` and `..`).
    static func isInside(_ url: URL, _ root: URL) -> Bool {
        let r = root.standardizedFileURL.path
        let p = url.standardizedFileURL.path
        let prefix = r.hasSuffix("/") ? r : r + "/"
        return p.hasPrefix(prefix)
    }
}

/// Counts offenders and keeps the first few for error messages.
struct OffenderList {
    private(set) var count = 0
    private(set) var first: [String] = []
    let limit: Int

    init(limit: Int = 5) { self.limit = limit }

    mutating func add(_ text: @autoclosure () -> String) {
        count += 1
        if first.count < limit { first.append(text()) }
    }
}
