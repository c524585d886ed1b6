import Foundation
import Imaging

/// Image sizes for formats that do not store them (YOLO, `.idl`), from the PNG header.
enum PNGHeader {
    /// `(width, height)` of the PNG at `url`; a file that is not a readable PNG is `DatasetError.badImage`.
    static func size(of url: URL) throws -> (width: Int, height: Int) {
        do {
            let s = try PNG.size(of: url)
            guard s.width > 0, s.height > 0 else {
                throw DatasetError.badImage(file: url.path, reason: "PNG header declares \(s.width)×\(s.height)")
            }
            return s
        } catch let e as DatasetError { throw e } catch {
            throw DatasetError.badImage(file: url.path, reason: "\(error)")
        }
    }
}
