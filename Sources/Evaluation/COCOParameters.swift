/// The settings of a COCO bbox evaluation, defaulting to pycocotools' `Params(iouType="bbox")`.
///
/// The thresholds are computed the way numpy's `linspace` computes them (`i · step + start`, the last value
/// set to `stop`), so they are the same doubles: e.g. the ninth IoU threshold is 0.8999999999999999, not 0.9.
public struct COCOParameters: Sendable {
    /// A named object-area range; an object is inside when `lower ≤ area ≤ upper` (both inclusive).
    public struct AreaRange: Equatable, Sendable {
        /// Label used in summaries (`all`, `small`, `medium`, `large`).
        public var label: String
        /// Smallest area inside the range.
        public var lower: Double
        /// Largest area inside the range.
        public var upper: Double

        /// A labelled range.
        public init(label: String, lower: Double, upper: Double) {
            self.label = label
            self.lower = lower
            self.upper = upper
        }
    }

    /// IoU thresholds T: `linspace(0.5, 0.95, 10)`.
    public var iouThresholds: [Double]
    /// Recall sampling points R: `linspace(0, 1, 101)`.
    public var recallThresholds: [Double]
    /// Detections kept per image and category, ascending: `[1, 10, 100]`.
    public var maxDetections: [Int]
    /// Area ranges A: all `[0, 1e10]`, small `[0, 32²]`, medium `[32², 96²]`, large `[96², 1e10]`.
    public var areaRanges: [AreaRange]

    /// pycocotools' defaults for bounding boxes.
    public init() {
        iouThresholds = Self.linspace(0.5, 0.95, count: 10)
        recallThresholds = Self.linspace(0.0, 1.0, count: 101)
        maxDetections = [1, 10, 100]
        areaRanges = [
            AreaRange(label: "all", lower: 0, upper: 1e10),
            AreaRange(label: "small", lower: 0, upper: 32 * 32),
            AreaRange(label: "medium", lower: 32 * 32, upper: 96 * 96),
            AreaRange(label: "large", lower: 96 * 96, upper: 1e10),
        ]
    }

    /// numpy's `linspace(start, stop, count)` with `endpoint=True`: `y[i] = i · ((stop − start)/(count − 1)) + start`,
    /// evaluated in that order in double precision, and `y[count − 1] = stop`.
    public static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        precondition(count >= 1, "linspace needs at least one point")
        guard count > 1 else { return [start] }
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { i -> Double in
            let scaled = Double(i) * step
            return scaled + start
        }
        values[count - 1] = stop
        return values
    }
}

/// IoU of a detection box with a ground-truth box, exactly as pycocotools' `maskUtils.iou` (`bbIou` in
/// `maskApi.c`) computes it for `[x, y, w, h]` boxes:
///
///     w = min(dx + dw, gx + gw) − max(dx, gx);  if w ≤ 0 → 0
///     h = min(dy + dh, gy + gh) − max(dy, gy);  if h ≤ 0 → 0
///     i = w · h;  u = crowd ? dw · dh : (dw · dh + gw · gh) − i;  IoU = i / u
///
/// With `crowd`, the union is the detection's own area, so a detection inside a crowd region scores 1
/// however small it is.
@inline(__always)
public func cocoBoxIoU(detection d: COCOBox, groundTruth g: COCOBox, crowd: Bool) -> Double {
    let w = min(d.width + d.x, g.width + g.x) - max(d.x, g.x)
    if w <= 0 { return 0 }
    let h = min(d.height + d.y, g.height + g.y) - max(d.y, g.y)
    if h <= 0 { return 0 }
    let i = w * h
    let da = d.width * d.height
    let u = crowd ? da : da + g.width * g.height - i
    return i / u
}
