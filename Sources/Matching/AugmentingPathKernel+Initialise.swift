extension AugmentingPathKernel {
    /// Jonker–Volgenant initialisation of a square `n × n` problem (Computing 38, 1987, Section 4):
    /// column reduction, reduction transfer and two passes of augmenting row reduction. Leaves a partial
    /// matching in which every matched row sits on a column of least reduced cost `c_ij − v_j`, sets
    /// `u_i` to that least reduced cost, writes the still-free rows to `freeRows` and returns their count.
    ///
    /// Throws `InvalidEntryFound` when the matrix holds `nan` or `−inf`.
    ///
    /// Rows with fewer than two finite entries are left to the augmentation phase (no transfer with an
    /// infinite gap), and the row-reduction passes run under a step budget, so the phase always ends.
    func initialiseSquare(_ cost: UnsafePointer<Double>, n: Int, rowReductionPasses: Int) throws -> Int {
        let v = self.v, u = self.u, columnOfRow = self.columnOfRow, rowOfColumn = self.rowOfColumn
        let freeRows = self.freeRows
        // Column minima by a row-major sweep (first row wins ties); the arg-min rows go to `argmin`.
        let argmin = self.pathRow
        let matches = self.remaining
        // The sweep reads every entry, so it also counts the invalid ones (nan, −inf).
        v.update(repeating: .infinity, count: n)
        argmin.update(repeating: 0, count: n)
        var invalid = false
        for i in 0..<n {
            invalid = Self.foldColumnMinima(cost + i * n, rowIndex: i, count: n, minima: v, argmin: argmin) || invalid
        }
        if invalid { throw InvalidEntryFound() }
        for i in 0..<n { matches[i] = 0 }
        // Column reduction, last column first: each row keeps the column of smallest v among its minima.
        for j in stride(from: n - 1, through: 0, by: -1) {
            if v[j] == .infinity { throw MatchingError.infeasible(line: j, isRow: false) }
            let i = argmin[j]
            matches[i] += 1
            if matches[i] == 1 {
                columnOfRow[i] = j
                rowOfColumn[j] = i
            } else if v[j] < v[columnOfRow[i]] {
                rowOfColumn[columnOfRow[i]] = -1
                columnOfRow[i] = j
                rowOfColumn[j] = i
            }
        }
        // Reduction transfer: a row matched once hands its slack to its column.
        var freeCount = 0
        for i in 0..<n {
            if matches[i] == 0 {
                freeRows[freeCount] = i
                freeCount += 1
            } else if matches[i] == 1 {
                let j1 = columnOfRow[i]
                let row = cost + i * n
                let least = min(Self.leastReducedCost(row, v, from: 0, to: j1),
                                Self.leastReducedCost(row, v, from: j1 + 1, to: n))
                if least.isFinite { v[j1] -= least }
            }
        }
        // Augmenting row reduction, two passes.
        var budget = 16 * n + 64
        for _ in 0..<rowReductionPasses {
            let previous = freeCount
            freeCount = 0
            var k = 0
            while k < previous {
                let i = freeRows[k]
                k += 1
                if budget <= 0 {
                    freeRows[freeCount] = i
                    freeCount += 1
                    continue
                }
                budget -= 1
                let row = cost + i * n
                var umin = row[0] - v[0], usub = Double.infinity
                var j1 = 0, j2 = -1
                for j in 1..<n {
                    let h = row[j] - v[j]
                    if h < usub {
                        if h >= umin {
                            usub = h
                            j2 = j
                        } else {
                            usub = umin
                            umin = h
                            j2 = j1
                            j1 = j
                        }
                    }
                }
                guard usub.isFinite else {
                    freeRows[freeCount] = i
                    freeCount += 1
                    continue
                }
                var i0 = rowOfColumn[j1]
                let strict = umin < usub
                if strict {
                    v[j1] -= usub - umin
                } else if i0 >= 0 {
                    j1 = j2
                    i0 = rowOfColumn[j2]
                }
                columnOfRow[i] = j1
                rowOfColumn[j1] = i
                if i0 >= 0 {
                    columnOfRow[i0] = -1
                    if strict {
                        k -= 1
                        freeRows[k] = i0
                    } else {
                        freeRows[freeCount] = i0
                        freeCount += 1
                    }
                }
            }
        }
        for i in 0..<n {
            let j = columnOfRow[i]
            u[i] = j >= 0 ? cost[i * n + j] - v[j] : 0
        }
        return freeCount
    }
}
