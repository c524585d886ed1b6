/// The shortest-augmenting-path core of the assignment solver (Crouse, "On implementing 2D rectangular
/// assignment algorithms", IEEE TAES 52(4), 2016, Algorithm 4; the method behind
/// `scipy.optimize.linear_sum_assignment`), with the Jonker–Volgenant column reduction and reduction
/// transfer as a warm start on square problems (Jonker & Volgenant, Computing 38, 1987).
///
/// Works on an `nr × nc` problem with `nr ≤ nc` whose entry `(i, j)` is `cost[i·rowStride + j·columnStride]`
/// (so a transposed view needs no copy). Entries must be finite or `+inf` (forbidden); the kernel checks
/// this on its way, as it reads every entry once before relying on it, and throws `InvalidEntryFound`.
/// Keeps dual potentials `u` (rows) and `v` (columns) with `c_ij − u_i − v_j ≥ 0` on every pair of rows
/// already matched and equality on matched pairs; each augmentation is one Dijkstra search on these
/// reduced costs from a free row to the nearest free column, so every step is exact and a search scans
/// each column at most once: `O(nr·nc²)` in all, and it always ends.
final class AugmentingPathKernel {
    /// Square problems at least this large get two passes of augmenting row reduction.
    static let rowReductionMinimumSize = 500
    private var capacityRows = -1
    private var capacityColumns = -1
    private var doubles: UnsafeMutablePointer<Double>
    private var ints: UnsafeMutablePointer<Int>
    /// Row potentials `u` (`nr`).
    private(set) var u: UnsafeMutablePointer<Double>
    /// Column potentials `v` (`nc`).
    private(set) var v: UnsafeMutablePointer<Double>
    /// Shortest path cost found so far to each column in the current search (`nc`).
    var pathCost: UnsafeMutablePointer<Double>
    /// The row preceding each column on its current shortest path (`nc`).
    var pathRow: UnsafeMutablePointer<Int>
    /// The column matched to each row, or −1 (`nr`).
    private(set) var columnOfRow: UnsafeMutablePointer<Int>
    /// The row matched to each column, or −1 (`nc`).
    private(set) var rowOfColumn: UnsafeMutablePointer<Int>
    /// Columns not yet reached by the current search, in the first `remainingCount` slots (`nc`).
    var remaining: UnsafeMutablePointer<Int>
    /// Columns reached by the current search, in order (`nc`).
    var scanned: UnsafeMutablePointer<Int>
    /// Free rows left by the initialisation (`nr`).
    var freeRows: UnsafeMutablePointer<Int>

    init() {
        doubles = .allocate(capacity: 1)
        ints = .allocate(capacity: 1)
        (u, v, pathCost) = (doubles, doubles, doubles)
        (pathRow, columnOfRow, rowOfColumn, remaining, scanned, freeRows) = (ints, ints, ints, ints, ints, ints)
    }

    deinit {
        doubles.deallocate()
        ints.deallocate()
    }

    /// Grows the work arrays (one block of doubles, one of integers) to hold an `nr × nc` problem.
    private func reserve(rows nr: Int, columns nc: Int) {
        if nr <= capacityRows && nc <= capacityColumns { return }
        let r = max(nr, capacityRows), c = max(nc, capacityColumns)
        doubles.deallocate()
        ints.deallocate()
        doubles = .allocate(capacity: r + 2 * c)
        ints = .allocate(capacity: 2 * r + 4 * c)
        u = doubles
        v = doubles + r
        pathCost = doubles + r + c
        columnOfRow = ints
        freeRows = ints + r
        pathRow = ints + 2 * r
        rowOfColumn = ints + 2 * r + c
        remaining = ints + 2 * r + 2 * c
        scanned = ints + 2 * r + 3 * c
        (capacityRows, capacityColumns) = (r, c)
    }

    /// Solves the minimisation on the `nr × nc` view of `cost` (`nr ≤ nc`, finite or `+inf`).
    /// On return `columnOfRow[0..<nr]`, `u[0..<nr]` and `v[0..<nc]` hold the matching and the potentials.
    /// Throws `MatchingError.infeasible` (in this orientation) when some row cannot be matched.
    func solve(_ cost: UnsafePointer<Double>, rows nr: Int, columns nc: Int,
               rowStride: Int, columnStride: Int) throws {
        precondition(nr <= nc, "the kernel expects rows ≤ columns")
        reserve(rows: nr, columns: nc)
        v.update(repeating: 0, count: nc)
        rowOfColumn.update(repeating: -1, count: nc)
        u.update(repeating: 0, count: nr)
        columnOfRow.update(repeating: -1, count: nr)
        var freeCount = nr
        if nr == nc && nr > 1 && columnStride == 1 {
            // Augmenting row reduction pays off only on large problems (measured on uniform random costs).
            freeCount = try initialiseSquare(cost, n: nr, rowReductionPasses: nr >= Self.rowReductionMinimumSize ? 2 : 0)
        } else {
            for i in 0..<nr { freeRows[i] = i }
        }
        let view = StridedCost(base: cost, rowStride: rowStride, columnStride: columnStride)
        for k in 0..<freeCount {
            try augment(view, from: freeRows[k], columns: nc)
        }
    }

    /// One Dijkstra search from the free row `start` over reduced costs, then the potential update and
    /// the flip of the matching along the path found (Crouse 2016, Algorithm 4, with the dual update of
    /// its Section IV restricted to the rows and columns the search reached). The first scan, from
    /// `start` itself, runs densely over all columns; most searches end there, at a free column.
    @inline(__always)
    private func augment(_ cost: StridedCost, from start: Int, columns nc: Int) throws {
        let u = self.u, v = self.v, spc = self.pathCost, path = self.pathRow
        let rowOfColumn = self.rowOfColumn, remaining = self.remaining, scanned = self.scanned
        let cs = cost.columnStride
        // First scan: every column is still open.
        var row = cost.base + start * cost.rowStride
        var base = -u[start]
        let (first, best, invalid) = cs == 1
            ? firstScan(row, stride: 1, base: base, start: start, columns: nc)
            : firstScan(row, stride: cs, base: base, start: start, columns: nc)
        if invalid > 0 { throw InvalidEntryFound() }
        var lowest = first
        if lowest == .infinity { throw MatchingError.infeasible(line: start, isRow: true) }
        var minVal = lowest
        var sink = -1
        var scannedCount = 1
        scanned[0] = best
        var i = rowOfColumn[best]
        if i < 0 {
            sink = best
            spc[best] = lowest
            path[best] = start
        } else {
            if cs == 1 {
                fillPaths(row, stride: 1, base: base, start: start, columns: nc)
            } else {
                fillPaths(row, stride: cs, base: base, start: start, columns: nc)
            }
            for j in 0..<nc { remaining[j] = j }
            remaining[best] = nc - 1
        }
        var remainingCount = nc - 1
        while sink < 0 {
            row = cost.base + i * cost.rowStride
            base = minVal - u[i]
            lowest = .infinity
            let index = cs == 1
                ? scan(row, stride: 1, base: base, row: i, remainingCount: remainingCount, lowest: &lowest)
                : scan(row, stride: cs, base: base, row: i, remainingCount: remainingCount, lowest: &lowest)
            if lowest == .infinity { throw MatchingError.infeasible(line: start, isRow: true) }
            minVal = lowest
            let j = remaining[index]
            scanned[scannedCount] = j
            scannedCount += 1
            remainingCount -= 1
            remaining[index] = remaining[remainingCount]
            if rowOfColumn[j] < 0 { sink = j } else { i = rowOfColumn[j] }
        }
        // Potentials: every column reached moves by (minVal − its path cost), its matched row by the opposite.
        u[start] += minVal
        for k in 0..<scannedCount {
            let j = scanned[k]
            let delta = minVal - spc[j]
            v[j] -= delta
            let r = rowOfColumn[j]
            if r >= 0 { u[r] += delta }
        }
        // Flip the matching along the path from the sink back to the start row.
        var j = sink
        while true {
            let r = path[j]
            rowOfColumn[j] = r
            let previous = columnOfRow[r]
            columnOfRow[r] = j
            if r == start { break }
            j = previous
        }
    }
    /// The first scan of a search, from the free row `start`: the column of least reduced cost
    /// `base + row[j] − v[j]` (a free one on ties), that cost, and the number of invalid entries (`nan`,
    /// `−inf`) in the row. Read-only: most searches end here, at a free column, and need no path costs;
    /// `fillPaths` writes them when the search goes on. `stride` is the column stride of `row`.
    ///
    /// Every row gets exactly one first scan before any later scan reads it, so counting invalid entries
    /// here checks the whole matrix without a separate pass.
    @inline(__always)
    private func firstScan(_ row: UnsafePointer<Double>, stride: Int, base: Double, start: Int, columns nc: Int)
        -> (Double, Int, Int)
    {
        let v = self.v, rowOfColumn = self.rowOfColumn
        var lowest = Double.infinity
        var best = -1
        var invalid = 0
        for j in 0..<nc {
            let r = base + row[j * stride] - v[j]
            invalid &+= r > -.infinity ? 0 : 1
            if r < lowest || (r == lowest && rowOfColumn[j] < 0) {
                lowest = r
                best = j
            }
        }
        return (lowest, best, invalid)
    }

    /// The path costs and predecessors left by the first scan, when the search continues past it.
    @inline(__always)
    private func fillPaths(_ row: UnsafePointer<Double>, stride: Int, base: Double, start: Int, columns nc: Int) {
        let v = self.v, spc = self.pathCost, path = self.pathRow
        for j in 0..<nc {
            spc[j] = base + row[j * stride] - v[j]
            path[j] = start
        }
    }

    /// A later scan, from the matched row `i` over the columns still open: relaxes their path costs and
    /// returns the slot in `remaining` of the open column of least cost (a free one on ties), its cost
    /// in `lowest`.
    @inline(__always)
    private func scan(_ row: UnsafePointer<Double>, stride: Int, base: Double, row i: Int, remainingCount: Int,
                      lowest: inout Double) -> Int
    {
        let v = self.v, spc = self.pathCost, path = self.pathRow
        let rowOfColumn = self.rowOfColumn, remaining = self.remaining
        var index = -1
        var least = Double.infinity
        for it in 0..<remainingCount {
            let j = remaining[it]
            let r = base + row[j * stride] - v[j]
            var s = spc[j]
            if r < s {
                path[j] = i
                spc[j] = r
                s = r
            }
            if s < least || (s == least && rowOfColumn[j] < 0) {
                least = s
                index = it
            }
        }
        lowest = least
        return index
    }
}

/// Thrown by the kernel when it meets a `nan` or `−inf` entry; the caller then locates the first one.
struct InvalidEntryFound: Error {}

/// A strided view of a cost matrix: entry `(i, j)` at `base[i·rowStride + j·columnStride]`.
struct StridedCost {
    let base: UnsafePointer<Double>
    let rowStride: Int
    let columnStride: Int
}
