/// Images that lack a class nearly every other image holds: the usual sign of an image whose boxes of that class
/// were never drawn. `detector dataset stats` lists them; `detector train --partial-labels` trains on them without
/// counting that class's dense scores there against the network (`ImageRecord.partialClasses`).
extension DetectionDataset {
    /// The share of images from which a class counts as usual (0.9).
    public static let usualClassShare = 0.9

    /// For each class that `usualClassShare` or more of the images hold but not all: the indices of the images
    /// without it (file order), classes in index order.
    public var imagesLackingUsualClasses: [(classIndex: Int, images: [Int])] {
        let n = images.count
        var found: [(classIndex: Int, images: [Int])] = []
        for c in categories.indices {
            let lacking = images.indices.filter { i in !images[i].annotations.contains { $0.classIndex == c } }
            if !lacking.isEmpty, Double(n - lacking.count) >= Self.usualClassShare * Double(n) {
                found.append((c, lacking))
            }
        }
        return found
    }

    /// Marks every image lacking a usual class (`imagesLackingUsualClasses`) as labelling that class in part
    /// (adds it to the image's `partialClasses`) and returns what it marked.
    @discardableResult
    public mutating func markImagesLackingUsualClasses() -> [(classIndex: Int, images: [Int])] {
        let found = imagesLackingUsualClasses
        for (c, lacking) in found {
            for i in lacking where !images[i].partialClasses.contains(c) {
                images[i].partialClasses = (images[i].partialClasses + [c]).sorted()
            }
        }
        return found
    }
}
