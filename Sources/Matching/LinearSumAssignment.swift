import Foundation

/// An optimal assignment: `rowIndices[k]` is matched with `columnIndices[k]`, rows in ascending order
/// (the convention of `scipy.optimize.linear_sum_assignment`). `min(rows, columns)` pairs.
public struct Assignment: Sendable, Equatable {
    /// Matched rows, ascending.
    public var rowIndices: [Int]
    /// The column matched to each entry of `rowIndices`.
    public var columnIndices: [Int]
    /// Sum of the costs of the matched pairs.
    public var total: Double
    /// Dual potentials `u` of the rows (`rows` values). For a minimisation `u_i + v_j ≤ c_ij` on every
    /// pair with equality on matched pairs, and the potentials of the longer side are `≤ 0` and `0` on its
    /// unmatched lines; for `maximize` every inequality is reversed. Together they certify optimality.
    public var rowPotentials: [Double]
    /// Dual potentials `v` of the columns (`columns` values); see `rowPotentials`.
    public var columnPotentials: [Double]

    /// Number of matched pairs.
    public var count: Int { rowIndices.count }

    /// The matched pairs `(row, column)`, rows ascending.
    public var pairs: [(row: Int, column: Int)] {
        zip(rowIndices, columnIndices).map { (row: $0, column: $1) }
    }

    /// For each of `rowCount` rows, its matched column or `nil` (e.g. a hypothesis left unmatched).
    public func matchedColumns(rowCount: Int) -> [Int?] {
        var out = [Int?](repeating: nil, count: rowCount)
        for (r, c) in zip(rowIndices, columnIndices) { out[r] = c }
        return out
    }

    /// The empty assignment of a problem with no rows or no columns.
    static func empty(rows: Int, columns: Int) -> Assignment {
        Assignment(rowIndices: [], columnIndices: [], total: 0,
                   rowPotentials: [Double](repeating: 0, count: rows),
                   columnPotentials: [Double](repeating: 0, count: columns))
    }
}

/// Solves the linear sum assignment problem: the one-to-one matching of `min(rows, columns)` pairs of least
/// total cost (or greatest, with `maximize`), exactly, in `O(n³)` (Crouse 2016 shortest augmenting paths
/// with Jonker–Volgenant initialisation on square problems). Rectangular matrices of either orientation are
/// solved without padding. `+inf` entries are forbidden pairs (`−inf` ones with `maximize`, as in scipy,
/// which negates the costs first).
///
/// - Throws: `MatchingError.invalidEntry` for a `nan` or `−inf` entry (`nan` or `+inf` with `maximize`);
///   `MatchingError.infeasible` when the forbidden pairs leave no complete matching.
public func linearSumAssignment(_ cost: CostMatrix, maximize: Bool = false) throws -> Assignment {
    try SolverCache.current().solve(cost, maximize: maximize)
}

/// One solver per thread, kept between one-shot calls so that small problems skip allocating work arrays.
private enum SolverCache {
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        #if canImport(Glibc)
        let status = pthread_key_create(&key) { p in
            if let p { Unmanaged<LinearAssignmentSolver>.fromOpaque(p).release() }
        }
        #else
        let status = pthread_key_create(&key) { p in Unmanaged<LinearAssignmentSolver>.fromOpaque(p).release() }
        #endif
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()

    /// This thread's solver, made on first use.
    static func current() -> LinearAssignmentSolver {
        if let p = pthread_getspecific(key) {
            return Unmanaged<LinearAssignmentSolver>.fromOpaque(p).takeUnretainedValue()
        }
        let solver = LinearAssignmentSolver()
        pthread_setspecific(key, Unmanaged.passRetained(solver).toOpaque())
        return solver
    }
}

/// `linearSumAssignment` on single-precision costs (solved in `Double`).
public func linearSumAssignment(rows: Int, columns: Int, floats: [Float], maximize: Bool = false) throws
    -> Assignment
{
    try linearSumAssignment(CostMatrix(rows: rows, columns: columns, floats: floats), maximize: maximize)
}

/// A reusable solver: keeps its work arrays between calls, so that solving many problems allocates little.
/// Not thread-safe; use one per thread (the batch API does).
public final class LinearAssignmentSolver {
    private let kernel = AugmentingPathKernel()
    private var scratch: [Double] = []
    /// Tall matrices up to this many entries are read through a strided view; larger ones are transposed
    /// into `scratch` first, so that the kernel's row scans stay contiguous.
    static let stridedLimit = 1 << 16

    /// A solver with empty work arrays.
    public init() {}

    /// Solves `cost`; see `linearSumAssignment(_:maximize:)`.
    public func solve(_ cost: CostMatrix, maximize: Bool = false) throws -> Assignment {
        let nr = cost.rows, nc = cost.columns
        if nr == 0 || nc == 0 { return .empty(rows: nr, columns: nc) }
        if maximize { try Self.validate(cost, maximize: true) }
        let transpose = nr > nc
        let kr = transpose ? nc : nr, kc = transpose ? nr : nc
        defer { if scratch.count > Self.stridedLimit { scratch = [] } }
        do {
            if !maximize && (!transpose || nr * nc <= Self.stridedLimit) {
                // Solve in place; a tall matrix is read through a transposed view.
                try cost.values.withUnsafeBufferPointer {
                    try kernel.solve($0.baseAddress!, rows: kr, columns: kc,
                                     rowStride: transpose ? 1 : nc, columnStride: transpose ? nc : 1)
                }
            } else {
                prepareScratch(cost, transpose: transpose, negate: maximize)
                try scratch.withUnsafeBufferPointer {
                    try kernel.solve($0.baseAddress!, rows: kr, columns: kc, rowStride: kc, columnStride: 1)
                }
            }
        } catch is InvalidEntryFound {
            // The kernel saw nan or −inf; name the first one in the caller's row-major order.
            try Self.validate(cost, maximize: maximize)
            throw MatchingError.malformedMatrix("an invalid entry was reported but not found")
        } catch MatchingError.infeasible(let line, let isRow) {
            // As in scipy, an invalid entry anywhere outranks infeasibility.
            try Self.validate(cost, maximize: maximize)
            throw MatchingError.infeasible(line: line, isRow: transpose ? !isRow : isRow)
        }
        return assemble(cost, transpose: transpose, maximize: maximize)
    }

    /// Rejects `nan` and `−inf` (`nan` and `+inf` under `maximize`), naming the first offending entry.
    static func validate(_ cost: CostMatrix, maximize: Bool) throws {
        let bad: Int? = cost.values.withUnsafeBufferPointer { p in
            // A branch-free count first (the common case: nothing to report), then the position.
            var count = 0
            if maximize {
                for k in 0..<p.count { count &+= p[k] < .infinity ? 0 : 1 }
                return count == 0 ? nil : (0..<p.count).first { !(p[$0] < .infinity) }
            } else {
                for k in 0..<p.count { count &+= p[k] > -.infinity ? 0 : 1 }
                return count == 0 ? nil : (0..<p.count).first { !(p[$0] > -.infinity) }
            }
        }
        if let k = bad {
            throw MatchingError.invalidEntry(row: k / cost.columns, column: k % cost.columns, value: cost.values[k])
        }
    }

    /// Fills `scratch` with the (transposed and/or negated) costs the kernel works on.
    private func prepareScratch(_ cost: CostMatrix, transpose: Bool, negate: Bool) {
        let nr = cost.rows, nc = cost.columns
        if scratch.count < nr * nc { scratch = [Double](repeating: 0, count: nr * nc) }
        let sign = negate ? -1.0 : 1.0
        cost.values.withUnsafeBufferPointer { src in
            scratch.withUnsafeMutableBufferPointer { dst in
                if transpose {
                    for r in 0..<nr {
                        for c in 0..<nc { dst[c * nr + r] = sign * src[r * nc + c] }
                    }
                } else {
                    for k in 0..<(nr * nc) { dst[k] = sign * src[k] }
                }
            }
        }
    }

    /// Reads the matching and the potentials back in the caller's orientation and sign.
    private func assemble(_ cost: CostMatrix, transpose: Bool, maximize: Bool) -> Assignment {
        let nr = cost.rows, nc = cost.columns
        let kr = transpose ? nc : nr, kc = transpose ? nr : nc
        let sign = maximize ? -1.0 : 1.0
        let u = copy(kernel.u, count: kr, sign: sign)
        let v = copy(kernel.v, count: kc, sign: sign)
        // Kernel rows are the caller's columns when transposed: walk the kernel's columns (the caller's
        // rows) in order, so the rows come out ascending.
        let match = transpose ? kernel.rowOfColumn : kernel.columnOfRow
        var rowsOut = [Int](), colsOut = [Int]()
        rowsOut.reserveCapacity(kr)
        colsOut.reserveCapacity(kr)
        var total = 0.0
        cost.values.withUnsafeBufferPointer { p in
            for r in 0..<nr where match[r] >= 0 {
                rowsOut.append(r)
                colsOut.append(match[r])
                total += p[r * nc + match[r]]
            }
        }
        return Assignment(rowIndices: rowsOut, columnIndices: colsOut, total: total,
                          rowPotentials: transpose ? v : u, columnPotentials: transpose ? u : v)
    }

    /// `sign · source[0..<count]` as an array.
    private func copy(_ source: UnsafeMutablePointer<Double>, count: Int, sign: Double) -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { out, n in
            for k in 0..<count { out[k] = sign * source[k] }
            n = count
        }
    }
}
