import Foundation
import Imaging

/// The largest inputs an annotation file may describe; beyond them loading stops with
/// `DatasetError.limitExceeded`, naming the file, the image and the limit, before any pixel is decoded. They guard
/// memory and the quadratic work of matching and evaluation against lying or runaway files, and sit far above real
/// datasets (COCO 2017 train: 118,287 images, at most 93 boxes per image, 640 px; CrowdHuman: ~470 boxes per image).
public enum DatasetLimits {
    /// Images per annotation file: 10,000,000.
    public static let maxImages = 10_000_000
    /// Boxes per image: 10,000 (the set head's matching is O(boxes × hypotheses) per image).
    public static let maxBoxesPerImage = 10_000
    /// Pixels per image, declared (COCO `width × height`) or in the PNG header: `PNG.defaultMaxPixels`
    /// (64 Mi pixels, 8192 × 8192).
    public static let maxPixels = PNG.defaultMaxPixels

    /// Throws `DatasetError.limitExceeded` for the first image of `images` (read from `file`) beyond a limit.
    static func check(_ images: [ImageRecord], file: String, maxImages: Int = maxImages,
                      maxBoxesPerImage: Int = maxBoxesPerImage, maxPixels: Int = maxPixels) throws {
        guard images.count <= maxImages else {
            throw DatasetError.limitExceeded(file: file, what: "images per file", found: "\(images.count) images", limit: maxImages)
        }
        for r in images {
            guard r.annotations.count <= maxBoxesPerImage else {
                throw DatasetError.limitExceeded(file: file, what: "boxes per image",
                                                 found: "\(r.annotations.count) boxes in \(r.fileName)", limit: maxBoxesPerImage)
            }
            let pixels = r.width.multipliedReportingOverflow(by: r.height)
            guard !pixels.overflow, pixels.partialValue <= maxPixels else {
                throw DatasetError.limitExceeded(file: file, what: "pixels per image",
                                                 found: "\(r.fileName) is \(r.width)×\(r.height)", limit: maxPixels)
            }
        }
    }
}
