import Foundation

/// Settings of the synthetic crowded-scene generator (the embedded default dataset). The committed
/// `datasets/synthetic.json` holds exactly these defaults; any field may be left out of a JSON file.
public struct SyntheticSceneConfig: Codable, Equatable, Sendable {
    /// Image side in pixels (square images; the synthetic default trains at this input size).
    public var imageSize: Int = 256
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
        try check((1...3).contains(classCount), "classCount \(classCount) (1…3)")
        try check(minObjects >= 0 && maxObjects >= minObjects, "minObjects \(minObjects) / maxObjects \(maxObjects)")
        try check(minObjectSize >= 2 && maxObjectSize >= minObjectSize && maxObjectSize <= imageSize,
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

    /// Names of the shape classes, by class index.
    public static let classNames = ["ellipse", "rectangle", "triangle"]
}
