import Evaluation

/// A literal, slow transcription of pycocotools' `COCOeval` bbox algorithm (evaluate, evaluateImg,
/// accumulate) kept beside the fast evaluator: full per-image match tables, cumulative sums over every
/// detection, the envelope over all positions and a binary-search `searchsorted`. Used to fuzz the fast
/// path, which skips work that cannot change the result.
enum ReferenceCOCOEval {
    private struct ImageResult {
        var scores: [Double]
        var matched: [[Int]]   // [T][D]: matched ground-truth id, 0 = none (dtMatches)
        var ignored: [[Bool]]  // [T][D] (dtIgnore)
        var gtIgnored: [Bool]
    }

    /// Precision `[T][R][K][A][M]` and recall `[T][K][A][M]`, flattened row-major like `COCOEvaluation`.
    static func run(_ gt: COCOGroundTruth, _ dts: [COCODetection], _ p: COCOParameters) -> ([Double], [Double]) {
        let imgIds = Array(Set(gt.images.map(\.id))).sorted()
        let catIds = Array(Set(gt.categories.map(\.id))).sorted()
        let T = p.iouThresholds.count, R = p.recallThresholds.count, K = catIds.count
        let A = p.areaRanges.count, M = p.maxDetections.count
        var gts: [[Int]: [COCOAnnotation]] = [:]
        for a in gt.annotations where imgIds.contains(a.imageID) && catIds.contains(a.categoryID) {
            gts[[a.imageID, a.categoryID], default: []].append(a)
        }
        var dtsBy: [[Int]: [(id: Int, d: COCODetection)]] = [:]
        for (n, d) in dts.enumerated() where catIds.contains(d.categoryID) {
            dtsBy[[d.imageID, d.categoryID], default: []].append((n + 1, d))
        }
        func stableOrder(_ keys: [Double]) -> [Int] {
            keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        }
        func evaluateImg(_ img: Int, _ cat: Int, _ lo: Double, _ hi: Double, _ maxDet: Int) -> ImageResult? {
            let g0 = gts[[img, cat]] ?? [], d0 = dtsBy[[img, cat]] ?? []
            if g0.isEmpty && d0.isEmpty { return nil }
            let ign = g0.map { $0.isCrowd || $0.area < lo || $0.area > hi }
            let gtind = stableOrder(ign.map { $0 ? 1 : 0 })
            let g = gtind.map { g0[$0] }, gIg = gtind.map { ign[$0] }
            let d = Array(stableOrder(d0.map { -$0.d.score }).prefix(maxDet).map { d0[$0] })
            let ious = d.map { dt in g.map { cocoBoxIoU(detection: dt.d.box, groundTruth: $0.box, crowd: $0.isCrowd) } }
            var gtm = [[Int]](repeating: [Int](repeating: 0, count: g.count), count: T)
            var dtm = [[Int]](repeating: [Int](repeating: 0, count: d.count), count: T)
            var dtIg = [[Bool]](repeating: [Bool](repeating: false, count: d.count), count: T)
            for (t, thr) in p.iouThresholds.enumerated() {
                for di in d.indices {
                    var iou = min(thr, 1 - 1e-10)
                    var m = -1
                    for gi in g.indices {
                        if gtm[t][gi] > 0 && !g[gi].isCrowd { continue }
                        if m > -1 && !gIg[m] && gIg[gi] { break }
                        if ious[di][gi] < iou { continue }
                        iou = ious[di][gi]
                        m = gi
                    }
                    if m == -1 { continue }
                    dtIg[t][di] = gIg[m]
                    dtm[t][di] = g[m].id
                    gtm[t][m] = d[di].id
                }
            }
            for t in 0..<T {
                for di in d.indices where dtm[t][di] == 0 && (d[di].d.box.area < lo || d[di].d.box.area > hi) {
                    dtIg[t][di] = true
                }
            }
            return ImageResult(scores: d.map(\.d.score), matched: dtm, ignored: dtIg, gtIgnored: gIg)
        }
        var precision = [Double](repeating: -1, count: T * R * K * A * M)
        var recall = [Double](repeating: -1, count: T * K * A * M)
        for (k, cat) in catIds.enumerated() {
            for (a, range) in p.areaRanges.enumerated() {
                let E = imgIds.compactMap { evaluateImg($0, cat, range.lower, range.upper, p.maxDetections.last!) }
                if E.isEmpty { continue }
                for (m, maxDet) in p.maxDetections.enumerated() {
                    var scores: [Double] = [], dtm = [[Int]](repeating: [], count: T)
                    var dtIg = [[Bool]](repeating: [], count: T)
                    for e in E {
                        let n = min(maxDet, e.scores.count)
                        scores += e.scores[0..<n]
                        for t in 0..<T { dtm[t] += e.matched[t][0..<n]; dtIg[t] += e.ignored[t][0..<n] }
                    }
                    let inds = stableOrder(scores.map { -$0 })
                    let npig = E.reduce(0) { $0 + $1.gtIgnored.filter { !$0 }.count }
                    if npig == 0 { continue }
                    for t in 0..<T {
                        var tp = 0.0, fp = 0.0
                        var rc: [Double] = [], pr: [Double] = []
                        for i in inds {
                            if dtm[t][i] != 0 && !dtIg[t][i] { tp += 1 }
                            if dtm[t][i] == 0 && !dtIg[t][i] { fp += 1 }
                            rc.append(tp / Double(npig))
                            pr.append(tp / (fp + tp + 2.220446049250313e-16))
                        }
                        let nd = inds.count
                        recall[((t * K + k) * A + a) * M + m] = nd > 0 ? rc[nd - 1] : 0
                        if nd > 1 { for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] } }
                        var q = [Double](repeating: 0, count: R)
                        for (r, thr) in p.recallThresholds.enumerated() {
                            var lo = 0, hi = nd
                            while lo < hi { let mid = (lo + hi) / 2; if rc[mid] < thr { lo = mid + 1 } else { hi = mid } }
                            if lo >= nd { break }
                            q[r] = pr[lo]
                        }
                        for r in 0..<R { precision[(((t * R + r) * K + k) * A + a) * M + m] = q[r] }
                    }
                }
            }
        }
        return (precision, recall)
    }
}
