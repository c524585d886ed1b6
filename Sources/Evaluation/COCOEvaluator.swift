import Foundation

/// COCO bounding-box evaluation that reproduces pycocotools' `COCOeval(iouType="bbox")` number for number.
///
/// Usage:
///
///     let evaluator = COCOEvaluator(groundTruth: try COCOGroundTruth(contentsOf: gtURL))
///     let result = try evaluator.evaluate(detections: try COCOResults.load(contentsOf: dtURL))
///     print(result.summary)            // the 12 lines of COCOeval.summarize()
///
/// Per image and category (run on all cores), detections are ordered by score (stable, as numpy's
/// mergesort), cut to the largest `maxDetections`, and matched greedily to ground truth at every IoU
/// threshold; per category, area range and detection limit, the matches of all images are merged by score,
/// and precision is sampled at the recall points after the precision envelope (pycocotools'
/// `evaluate` / `accumulate` / `summarize`; Lin et al., "Microsoft COCO", ECCV 2014).
public struct COCOEvaluator: Sendable {
    /// The ground truth being evaluated against.
    public let groundTruth: COCOGroundTruth
    /// Thresholds, detection limits and area ranges.
    public let parameters: COCOParameters
    /// Evaluated image ids, ascending (pycocotools sorts them).
    public let imageIDs: [Int]
    /// Evaluated categories, ascending by id.
    public let categories: [COCOCategory]

    let imageIndex: IDIndex
    let categoryIndex: IDIndex
    /// Ground truth grouped by (category, image): group `k · I + i` holds `gtStart[g] ..< gtStart[g + 1]`,
    /// in file order.
    let gtStart: [Int]
    let gtBoxes: [COCOBox]
    let gtAreas: [Double]
    let gtCrowd: [Bool]
    /// pycocotools records a match as the ground truth's id and tests it for non-zero; id 0 thus never counts.
    let gtCountsAsMatch: [Bool]

    /// Indexes `groundTruth` for evaluation with `parameters` (pycocotools' defaults when omitted).
    ///
    /// Annotations whose image or category is not listed are left out, as pycocotools' `getAnnIds` does.
    public init(groundTruth: COCOGroundTruth, parameters: COCOParameters = COCOParameters()) {
        precondition(!parameters.maxDetections.isEmpty && parameters.maxDetections == parameters.maxDetections.sorted(),
                     "maxDetections must be non-empty and ascending")
        precondition(parameters.iouThresholds.count <= 32, "at most 32 IoU thresholds")
        self.groundTruth = groundTruth
        self.parameters = parameters
        imageIDs = Array(Set(groundTruth.images.map(\.id))).sorted()
        var names: [Int: String] = [:]
        for c in groundTruth.categories where names[c.id] == nil { names[c.id] = c.name }
        categories = names.keys.sorted().map { COCOCategory(id: $0, name: names[$0]!) }
        imageIndex = IDIndex(imageIDs)
        categoryIndex = IDIndex(categories.map(\.id))

        let imageCount = imageIDs.count
        let groups = categories.count * imageCount
        var groupOf = [Int](repeating: -1, count: groundTruth.annotations.count)
        var counts = [Int](repeating: 0, count: groups + 1)
        for (n, a) in groundTruth.annotations.enumerated() {
            guard let i = imageIndex[a.imageID], let k = categoryIndex[a.categoryID] else { continue }
            groupOf[n] = k * imageCount + i
            counts[groupOf[n] + 1] += 1
        }
        for g in 0..<groups { counts[g + 1] += counts[g] }
        gtStart = counts
        var next = counts
        let total = counts[groups]
        var boxes = [COCOBox](repeating: COCOBox(x: 0, y: 0, width: 0, height: 0), count: total)
        var areas = [Double](repeating: 0, count: total)
        var crowd = [Bool](repeating: false, count: total)
        var counted = [Bool](repeating: true, count: total)
        for (n, a) in groundTruth.annotations.enumerated() where groupOf[n] >= 0 {
            let slot = next[groupOf[n]]
            next[groupOf[n]] += 1
            boxes[slot] = a.box
            areas[slot] = a.area
            crowd[slot] = a.isCrowd
            counted[slot] = a.id != 0
        }
        gtBoxes = boxes
        gtAreas = areas
        gtCrowd = crowd
        gtCountsAsMatch = counted
    }

    /// Evaluates `detections` against the ground truth.
    ///
    /// - Parameter source: names the detections in errors (the results file's path, or a label).
    /// - Throws: `EvaluationError.unknownImage` when a detection's image is not in the ground truth.
    ///   Detections of categories the ground truth does not list are skipped, as in pycocotools.
    public func evaluate(detections: [COCODetection], source: String = "detections") throws -> COCOEvaluation {
        let grouped = try groupDetections(detections, source: source)
        let matches = matchAll(grouped)
        let (precision, recall) = accumulate(matches)
        return COCOEvaluation(parameters: parameters, categories: categories, imageCount: imageIDs.count,
                              detectionCount: detections.count, precision: precision, recall: recall)
    }

    /// Loads both files and evaluates; errors name the file at fault.
    public static func evaluate(groundTruthFile: URL, resultsFile: URL,
                                parameters: COCOParameters = COCOParameters()) throws -> COCOEvaluation {
        let evaluator = COCOEvaluator(groundTruth: try COCOGroundTruth(contentsOf: groundTruthFile),
                                      parameters: parameters)
        return try evaluator.evaluate(detections: try COCOResults.load(contentsOf: resultsFile),
                                      source: resultsFile.path)
    }
}

/// Runs `body(chunk)` for `chunks` chunks on all cores (serially when there is one chunk).
func parallelChunks(_ chunks: Int, _ body: (Int) -> Void) {
    if chunks <= 1 {
        if chunks == 1 { body(0) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
}

/// The number of worker chunks for `work` items: a few per core, never more than the items.
func chunkCount(for work: Int) -> Int {
    min(work, max(1, ProcessInfo.processInfo.activeProcessorCount) * 4)
}
