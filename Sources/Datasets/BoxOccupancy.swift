/// Which earlier box covers each pixel, in painter's order: the synthetic generator's placement rule, so that a
/// crowded scene never buries an object under later ones (boxes, not shapes: a conservative stand-in for the
/// pixels a shape covers).
struct BoxOccupancy {
    let width: Int, height: Int
    /// Box index covering each pixel last, −1 for none.
    private var owner: [Int32]
    /// Pixels each box still owns, and its full area.
    private var owned: [Int] = [], area: [Int] = []
    /// Scratch: pixels of each box a candidate would take.
    private var taken: [Int] = []

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        owner = [Int32](repeating: -1, count: width * height)
    }

    /// Whether a box `[x1, x2) × [y1, y2)` drawn now would leave every earlier box at least `minVisible` of its
    /// area uncovered. Always true when `minVisible` is 0.
    mutating func accepts(x1: Int, y1: Int, x2: Int, y2: Int, minVisible: Double) -> Bool {
        guard minVisible > 0 else { return true }
        for i in taken.indices { taken[i] = 0 }
        for y in max(0, y1)..<min(height, y2) {
            for x in max(0, x1)..<min(width, x2) {
                let o = owner[y * width + x]
                if o >= 0 { taken[Int(o)] += 1 }
            }
        }
        for j in taken.indices where taken[j] > 0 {
            if Double(owned[j] - taken[j]) < minVisible * Double(area[j]) { return false }
        }
        return true
    }

    /// Records a box drawn on top of the earlier ones.
    mutating func add(x1: Int, y1: Int, x2: Int, y2: Int) {
        let id = Int32(owned.count)
        var count = 0
        for y in max(0, y1)..<min(height, y2) {
            for x in max(0, x1)..<min(width, x2) {
                let o = owner[y * width + x]
                if o >= 0 { owned[Int(o)] -= 1 }
                owner[y * width + x] = id
                count += 1
            }
        }
        owned.append(count)
        area.append(count)
        taken.append(0)
    }
}
