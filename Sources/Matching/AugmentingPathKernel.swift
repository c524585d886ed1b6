/// The shortest-augmenting-path core of the assignment solver (Crouse, "On implementing 2D rectangular
/// assignment algorithms", IEEE TAES 52(4), 2016, Algorithm 4; the method behind
/// `scipy.optimize.linear_sum_assignment`), with Jonker–Volgenant initialisation for square problems
/// (Jonker & Volgenant, "A shortest augmenting path algorithm for dense and sparse linear assignment
/// problems", Computing 38, 1987: column reduction, reduction transfer, augmenting row reduction).
///
/// Works on `nr × nc` costs with `nr ≤ nc`, row-major, already checked to hold only finite values and
/// `+inf`. Keeps dual potentials `u` (rows) and `v` (columns) with `c_ij − u_i − v_j ≥ 0` on every
/// pair of rows already matched and equality on matched pairs; each augmentation is one Dijkstra search
/// on these reduced costs from a free row to the nearest free column, so every step is exact and the
/// search visits each column at most once: at most `nc` scans of a row per augmentation, `O(nr·nc²)` in all.
final class AugmentingPathKernel {
    private(set) var capacityRows = 0
    private(set) var capacityColumns = 0
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
    /// Free rows for the initialisation passes (`nr`).
    var freeRows: UnsafeMutablePointer<Int>

    init() {
        u = .allocate(capacity: 1); v = .allocate(capacity: 1); pathCost = .allocate(capacity: 1)
        pathRow = .allocate(capacity: 1); columnOfRow = .allocate(capacity: 1)
        rowOfColumn = .allocate(capacity: 1); remaining = .allocate(capacity: 1)
        scanned = .allocate(capacity: 1); freeRows = .allocate(capacity: 1)
    }

    deinit {
        for p in [u, v, pathCost] { p.deallocate() }
        for p in [pathRow, columnOfRow, rowOfColumn, remaining, scanned, freeRows] { p.deallocate() }
    }

    /// Grows the work arrays to hold an `nr × nc` problem.
    private func reserve(rows nr: Int, columns nc: Int) {
        if nr > capacityRows {
            u.deallocate(); columnOfRow.deallocate(); freeRows.deallocate()
            u = .allocate(capacity: nr); columnOfRow = .allocate(capacity: nr); freeRows = .allocate(capacity: nr)
            capacityRows = nr
        }
        if nc > capacityColumns {
            v.deallocate(); pathCost.deallocate(); pathRow.deallocate()
            rowOfColumn.deallocate(); remaining.deallocate(); scanned.deallocate()
            v = .allocate(capacity: nc); pathCost = .allocate(capacity: nc); pathRow = .allocate(capacity: nc)
            rowOfColumn = .allocate(capacity: nc); remaining = .allocate(capacity: nc)
            scanned = .allocate(capacity: nc)
            capacityColumns = nc
        }
    }

    /// Solves the minimisation on `cost` (`nr × nc`, `nr ≤ nc`, row-major, finite or `+inf`).
    /// On return `columnOfRow[0..<nr]`, `u[0..<nr]` and `v[0..<nc]` hold the matching and the potentials.
    /// Throws `MatchingError.infeasible` (in this orientation) when some row cannot be matched.
    func solve(_ cost: UnsafePointer<Double>, rows nr: Int, columns nc: Int) throws {
        precondition(nr <= nc, "the kernel expects rows ≤ columns")
        reserve(rows: nr, columns: nc)
        for j in 0..<nc { v[j] = 0; rowOfColumn[j] = -1 }
        for i in 0..<nr { u[i] = 0; columnOfRow[i] = -1 }
        var freeCount = nr
        for i in 0..<nr { freeRows[i] = i }
        if nr == nc && nr > 1 {
            freeCount = try initialiseSquare(cost, n: nr)
        }
        for k in 0..<freeCount {
            try augment(cost, from: freeRows[k], rows: nr, columns: nc)
        }
    }

    /// One Dijkstra search from the free row `start` over reduced costs, then the potential update and
    /// the flip of the matching along the path found (Crouse 2016, Algorithm 4 with the dual update of
    /// its Section IV restricted to the rows and columns the search reached).
    private func augment(_ cost: UnsafePointer<Double>, from start: Int, rows nr: Int, columns nc: Int) throws {
        let u = self.u, v = self.v, spc = self.pathCost, path = self.pathRow
        let rowOfColumn = self.rowOfColumn, remaining = self.remaining
        for j in 0..<nc {
            spc[j] = .infinity
            remaining[j] = nc - 1 - j
        }
        var remainingCount = nc
        var scannedCount = 0
        var minVal = 0.0
        var i = start
        var sink = -1
        while sink < 0 {
            let row = cost + i * nc
            let base = minVal - u[i]
            var lowest = Double.infinity
            var index = -1
            for it in 0..<remainingCount {
                let j = remaining[it]
                let r = base + row[j] - v[j]
                var s = spc[j]
                if r < s {
                    path[j] = i
                    spc[j] = r
                    s = r
                }
                if s < lowest || (s == lowest && rowOfColumn[j] < 0) {
                    lowest = s
                    index = it
                }
            }
            if lowest == .infinity {
                throw MatchingError.infeasible(line: start, isRow: true)
            }
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
}
