import Foundation

/// Annotation formats the loader understands.
public enum AnnotationFormat: String, Sendable, CaseIterable {
    /// COCO detection JSON.
    case coco
    /// YOLO / darknet folder (`images/` + `labels/`).
    case yolo
    /// ReInspect / Brainwash `.idl`.
    case idl

    /// The format a path implies: `.json` → COCO, `.idl` → idl, a folder → YOLO; nil otherwise.
    public static func detect(_ url: URL) -> AnnotationFormat? {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue { return .yolo }
        switch url.pathExtension.lowercased() {
        case "json": return .coco
        case "idl": return .idl
        default: return nil
        }
    }
}

extension DetectionDataset {
    /// Loads a dataset in any supported format, chosen by `AnnotationFormat.detect` unless `format` is given.
    ///
    /// - Parameters:
    ///   - url: a COCO `.json`, an `.idl` file, or a YOLO folder.
    ///   - imageDirectory: where the images are (COCO and idl); default: next to the annotation file (see
    ///     `COCOFormat.load` for the COCO search order).
    ///   - options: validation settings (minimum box size, whether image files must exist).
    public static func load(_ url: URL, format: AnnotationFormat? = nil, imageDirectory: URL? = nil,
                            options: ValidationOptions = ValidationOptions()) throws -> DetectionDataset {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError.unreadable(file: url.path, reason: "no such file or folder")
        }
        guard let f = format ?? AnnotationFormat.detect(url) else { throw DatasetError.unknownFormat(path: url.path) }
        switch f {
        case .coco: return try COCOFormat.load(url, imageDirectory: imageDirectory, options: options)
        case .idl: return try IDLFormat.load(url, imageDirectory: imageDirectory, options: options)
        case .yolo: return try YOLOFormat.load(url, options: options)
        }
    }
}
