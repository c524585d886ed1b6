/// Maps ids (image or category ids) to positions 0..<n: a flat table when the ids are dense enough
/// (at most 4n + 1024 wide), a dictionary otherwise.
struct IDIndex: Sendable {
    private let lowest: Int
    private let table: [Int32]
    private let dictionary: [Int: Int]

    /// Indexes `ids`, which must be distinct; `ids[i]` maps to `i`.
    init(_ ids: [Int]) {
        let lo = ids.min() ?? 0, hi = ids.max() ?? -1
        if !ids.isEmpty, hi - lo < 4 * ids.count + 1024 {
            var table = [Int32](repeating: -1, count: hi - lo + 1)
            for (i, id) in ids.enumerated() { table[id - lo] = Int32(i) }
            self.lowest = lo
            self.table = table
            self.dictionary = [:]
        } else {
            self.lowest = 0
            self.table = []
            self.dictionary = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        }
    }

    /// The position of `id`, or nil when it is not indexed.
    @inline(__always)
    subscript(_ id: Int) -> Int? {
        if table.isEmpty { return dictionary[id] }
        let offset = id &- lowest
        guard offset >= 0, offset < table.count else { return nil }
        let i = table[offset]
        return i < 0 ? nil : Int(i)
    }
}
