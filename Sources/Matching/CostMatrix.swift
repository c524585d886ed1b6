/// A dense cost matrix, row-major: `values[r * columns + c]` is the cost of pairing row `r` with column `c`.
///
/// Rows are typically predictions and columns ground-truth boxes. `+inf` marks a forbidden pair;
/// `nan` and `−inf` are rejected by the solver.
public struct CostMatrix: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// `rows × columns` values, row-major.
    public var values: [Double]

    /// A matrix from its shape and row-major values; `values.count` must be `rows × columns`.
    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(rows >= 0 && columns >= 0, "negative shape \(rows)×\(columns)")
        precondition(values.count == rows * columns,
                     "\(values.count) values for a \(rows)×\(columns) cost matrix")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix from single-precision values (converted exactly to `Double`).
    public init(rows: Int, columns: Int, floats: [Float]) {
        self.init(rows: rows, columns: columns, values: floats.map(Double.init))
    }

    /// A matrix from nested rows; throws `MatchingError.malformedMatrix` when the rows differ in length.
    /// An empty array gives a 0×0 matrix.
    public init(_ nested: [[Double]]) throws {
        let width = nested.first?.count ?? 0
        if let bad = nested.firstIndex(where: { $0.count != width }) {
            throw MatchingError.malformedMatrix(
                "row \(bad) has \(nested[bad].count) values but row 0 has \(width)")
        }
        self.init(rows: nested.count, columns: width, values: nested.flatMap { $0 })
    }

    /// The cost of pairing row `r` with column `c`.
    @inlinable
    public subscript(r: Int, c: Int) -> Double {
        get { values[r * columns + c] }
        set { values[r * columns + c] = newValue }
    }

    /// The transposed matrix (`columns × rows`).
    public func transposed() -> CostMatrix {
        var t = [Double](repeating: 0, count: values.count)
        for r in 0..<rows {
            for c in 0..<columns { t[c * rows + r] = values[r * columns + c] }
        }
        return CostMatrix(rows: columns, columns: rows, values: t)
    }
}
