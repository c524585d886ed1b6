import Evaluation
import Foundation

extension COCOFormat {
    /// The classes an image labels only in part or not at all, from LVIS's image fields (Gupta et al., "LVIS: A
    /// Dataset for Large Vocabulary Instance Segmentation", CVPR 2019): every class of `not_exhaustive_category_ids`,
    /// and, where `neg_category_ids` is given, every class neither boxed in the image nor listed there (LVIS checks
    /// only those). Sorted 0-based indices; empty for a COCO image without those fields.
    /// - Throws: `DatasetError.invalidEntry` naming the image for a field that is not an array of integers, an id
    ///   that is not a category, or a class listed as absent that the image boxes.
    static func partialClasses(
        of entry: COCOGroundTruthFile.Image, at location: String, boxed: Set<Int>, classOf: [Int: Int], classes: Int,
        file: String
    ) throws -> [Int] {
        func indices(_ field: COCOField<[Int]>, _ key: String) throws -> [(id: Int, index: Int)]? {
            switch field {
            case .absent: return nil
            case let .mistyped(found):
                throw DatasetError.invalidEntry(
                    file: file, location: location,
                    reason: "\"\(key)\" must be an array of category ids, found \(found.text) at \(found.position)")
            case let .present(ids):
                return try ids.map { id in
                    guard let c = classOf[id] else {
                        throw DatasetError.invalidEntry(
                            file: file, location: location,
                            reason: "\"\(key)\" holds category id \(id), which is not in \"categories\"")
                    }
                    return (id, c)
                }
            }
        }
        let notExhaustive = try indices(entry.notExhaustiveCategoryIDs, "not_exhaustive_category_ids") ?? []
        var partial = Set(notExhaustive.map(\.index))
        if let negative = try indices(entry.negativeCategoryIDs, "neg_category_ids") {
            if let c = negative.first(where: { boxed.contains($0.index) }) {
                throw DatasetError.invalidEntry(
                    file: file, location: location,
                    reason: "\"neg_category_ids\" lists category id \(c.id) as absent, but the image has boxes of it")
            }
            partial.formUnion(Set(0..<classes).subtracting(boxed).subtracting(negative.map(\.index)))
        }
        return partial.sorted()
    }
}
