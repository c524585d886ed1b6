import Foundation
import Imaging

/// Image sizes for formats that do not store them (YOLO, `.idl`), from the PNG or JPEG header (JPEG sizes after
/// the EXIF orientation, the pixels annotations refer to).
enum ImageHeader {
    /// `(width, height)` of the image at `url`; a file that is not a readable image is `DatasetError.badImage`.
    static func size(of url: URL) throws -> (width: Int, height: Int) {
        do {
            let s = try ImageFile.size(of: url)
            guard s.width > 0, s.height > 0 else {
                throw DatasetError.badImage(file: url.path, reason: "the image header declares \(s.width)×\(s.height)")
            }
            return s
        } catch let e as DatasetError { throw e } catch {
            throw DatasetError.badImage(file: url.path, reason: reason(error, file: url.path))
        }
    }

    /// What `error` says is wrong, without the leading `file: ` that Imaging's messages start with (the
    /// `DatasetError` names the file itself).
    static func reason(_ error: Error, file: String) -> String {
        let text = "\(error)"
        return text.hasPrefix(file + ": ") ? String(text.dropFirst(file.count + 2)) : text
    }
}
