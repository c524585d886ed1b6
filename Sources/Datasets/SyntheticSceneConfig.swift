import Foundation

/// Settings of the synthetic crowded-scene generator (the embedded default dataset). The committed
/// `datasets/synthetic.json` holds exactly these defaults; any field may be left out of a JSON file.
public struct SyntheticSceneConfig: Codable, Equatable, Sendable {
    /// Image width in pixels, and height too unless `imageHeight` is set (the synthetic default: square 256² images,
    /// and the network's input size).
    public var imageSize: Int = 256
    /// Image height in pixels when the images are not square (nil: `imageSize`).
    public var imageHeight: Int? = nil
    /// Number of object classes, 1–3: 0 = filled ellipse, 1 = rectangle, 2 = triangle.
    public var classCount: Int = 3
    /// Fewest objects drawn per image.
    public var minObjects: Int = 10
    /// Most objects drawn per image.
    public var maxObjects: Int = 60
    /// Smallest object side in pixels (16: two cells of the detector's stride-8 map).
    public var minObjectSize: Int = 16
    /// Largest object side in pixels.
    public var maxObjectSize: Int = 64
    /// Fewest clusters objects gather around.
    public var minClusters: Int = 2
    /// Most clusters objects gather around.
    public var maxClusters: Int = 5
    /// Share of objects placed around a cluster centre (the rest uniformly).
    public var clusteredShare: Double = 0.85
    /// Standard deviation of an object's offset from its cluster centre, in units of the cluster's object size.
    public var clusterSpread: Double = 0.8
    /// Share of clusters that are rows (objects stepping along a line, each covering part of the previous one).
    public var rowShare: Double = 0.7
    /// Step between neighbours of a row, in units of the cluster's object size (0.5 gives IoU ≈ 0.33 between
    /// equal neighbours side by side; 0.4 gives 0.43).
    public var rowStep: Double = 0.5
    /// Standard deviation of the log of a clustered object's size around its cluster's size.
    public var clusterSizeJitter: Double = 0.2
    /// An object whose visible area is below this share of its own pixels (occluded beyond 60% by objects drawn
    /// later) is not annotated.
    public var minVisibleFraction: Double = 0.4
    /// Placement rule: a new object is only drawn where it leaves every earlier object at least this share of its
    /// box uncovered (boxes, painter's order); otherwise the next place of its cluster is tried, up to 8 times, and
    /// the object is dropped after that. 0 disables the rule (objects may hide each other completely).
    public var minVisibleBoxFraction: Double = 0.5
    /// Fewest background distractors (lines, rings, specks).
    public var minDistractors: Int = 6
    /// Most background distractors.
    public var maxDistractors: Int = 18
    /// Amplitude of the smooth background noise, in 8-bit levels.
    public var noiseAmplitude: Double = 18
    /// Cell size of the smooth background noise in pixels.
    public var noiseCell: Int = 16
    /// Width of the darker outline drawn inside each object's edge, in pixels (0: none).
    public var outlineWidth: Double = 1.5

    /// The defaults above.
    public init() {}

    /// Reads a configuration from JSON; missing fields keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func v<T: Decodable>(_ k: CodingKeys, _ d: T) throws -> T { try c.decodeIfPresent(T.self, forKey: k) ?? d }
        let d = SyntheticSceneConfig()
        imageSize = try v(.imageSize, d.imageSize)
        imageHeight = try c.decodeIfPresent(Int.self, forKey: .imageHeight)
        classCount = try v(.classCount, d.classCount)
        minObjects = try v(.minObjects, d.minObjects)
        maxObjects = try v(.maxObjects, d.maxObjects)
        minObjectSize = try v(.minObjectSize, d.minObjectSize)
        maxObjectSize = try v(.maxObjectSize, d.maxObjectSize)
        minClusters = try v(.minClusters, d.minClusters)
        maxClusters = try v(.maxClusters, d.maxClusters)
        clusteredShare = try v(.clusteredShare, d.clusteredShare)
        clusterSpread = try v(.clusterSpread, d.clusterSpread)
        clusterSizeJitter = try v(.clusterSizeJitter, d.clusterSizeJitter)
        rowShare = try v(.rowShare, d.rowShare)
        rowStep = try v(.rowStep, d.rowStep)
        minVisibleFraction = try v(.minVisibleFraction, d.minVisibleFraction)
        minVisibleBoxFraction = try v(.minVisibleBoxFraction, d.minVisibleBoxFraction)
        minDistractors = try v(.minDistractors, d.minDistractors)
        maxDistractors = try v(.maxDistractors, d.maxDistractors)
        noiseAmplitude = try v(.noiseAmplitude, d.noiseAmplitude)
        noiseCell = try v(.noiseCell, d.noiseCell)
        outlineWidth = try v(.outlineWidth, d.outlineWidth)
    }

    /// Reads a configuration file (see `datasets/synthetic.json`); errors name the file.
    public static func load(_ url: URL) throws -> SyntheticSceneConfig {
        do {
            let c = try JSONDecoder().decode(SyntheticSceneConfig.self, from: Data(contentsOf: url))
            try c.validate(file: url.path)
            return c
        } catch let e as DatasetError { throw e } catch {
            throw DatasetError.invalidEntry(file: url.path, location: "synthetic scene settings", reason: "\(error)")
        }
    }

    /// Checks the ranges; `file` names the source in the error.
    public func validate(file: String = "synthetic scene settings") throws {
        func check(_ ok: Bool, _ what: String) throws {
            if !ok { throw DatasetError.invalidEntry(file: file, location: what, reason: "out of range") }
        }
        try check(imageSize >= 32 && imageSize <= 4096, "imageSize \(imageSize) (32…4096)")
        try check(height >= 32 && height <= 4096, "imageHeight \(height) (32…4096)")
        try check((1...3).contains(classCount), "classCount \(classCount) (1…3)")
        try check(minObjects >= 0 && maxObjects >= minObjects, "minObjects \(minObjects) / maxObjects \(maxObjects)")
        try check(minObjectSize >= 2 && maxObjectSize >= minObjectSize && maxObjectSize <= min(imageSize, height),
                  "minObjectSize \(minObjectSize) / maxObjectSize \(maxObjectSize)")
        try check(minClusters >= 1 && maxClusters >= minClusters, "minClusters / maxClusters")
        try check((0...1).contains(clusteredShare) && (0...1).contains(minVisibleFraction)
                  && (0...1).contains(minVisibleBoxFraction), "clusteredShare / minVisibleFraction / minVisibleBoxFraction (0…1)")
        try check(minDistractors >= 0 && maxDistractors >= minDistractors, "minDistractors / maxDistractors")
        try check(clusterSpread >= 0 && clusterSizeJitter >= 0 && rowStep > 0 && (0...1).contains(rowShare),
                  "clusterSpread / clusterSizeJitter / rowStep / rowShare")
        try check(noiseCell >= 1 && noiseAmplitude >= 0 && outlineWidth >= 0, "noiseCell / noiseAmplitude / outlineWidth")
    }

    /// The JSON text of this configuration, keys sorted, pretty-printed.
    public func jsonText() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self) + "\n"
    }

    /// Image height in pixels (`imageHeight`, else `imageSize`).
    public var height: Int { imageHeight ?? imageSize }

    /// The tiny-crowd scenes: 16:9 frames of 512×288 holding 30–90 objects of 6–16 px (one class, filled ellipses, like
    /// heads in a classroom seen from the front), 3–8 clusters, most of them rows whose neighbours overlap, partial
    /// occlusion (each object keeps at least 45% of its box uncovered and is annotated while half of its pixels show),
    /// clutter of lines, rings and specks. Trained with the `tiny-crowd` preset (`detector train --synthetic tiny-crowd`).
    public static var tinyCrowd: SyntheticSceneConfig {
        var c = SyntheticSceneConfig()
        c.imageSize = 512
        c.imageHeight = 288
        c.classCount = 1
        c.minObjects = 30
        c.maxObjects = 90
        c.minObjectSize = 6
        c.maxObjectSize = 16
        c.minClusters = 3
        c.maxClusters = 8
        c.clusteredShare = 0.8
        c.clusterSpread = 0.8
        c.rowShare = 0.6
        c.rowStep = 0.45
        c.clusterSizeJitter = 0.15
        c.minVisibleFraction = 0.5
        c.minVisibleBoxFraction = 0.45
        c.minDistractors = 10
        c.maxDistractors = 30
        c.noiseAmplitude = 14
        c.noiseCell = 12
        c.outlineWidth = 1
        return c
    }

    /// Names of the shape classes, by class index.
    public static let classNames = ["ellipse", "rectangle", "triangle"]
}

/// The datasets the package generates itself, selectable as the data of `detector train` (`--synthetic NAME`).
public enum SyntheticDataset: String, Sendable, CaseIterable {
    /// The synthetic default: 256² scenes of 10–60 shapes of 16–64 px in 3 classes (`SyntheticSceneConfig()`).
    case scenes
    /// Tiny crowded objects: 512×288 frames of 30–90 objects of 6–16 px (`SyntheticSceneConfig.tinyCrowd`).
    case tinyCrowd = "tiny-crowd"

    /// The generator's settings.
    public var config: SyntheticSceneConfig { self == .scenes ? SyntheticSceneConfig() : .tinyCrowd }
    /// The folder it is generated in by default: `data/synthetic` or `data/tiny-crowd`.
    public var defaultFolder: URL { URL(fileURLWithPath: self == .scenes ? "data/synthetic" : "data/tiny-crowd") }
}
