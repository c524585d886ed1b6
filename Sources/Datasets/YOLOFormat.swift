import Boxes
import Foundation
import Imaging

/// The YOLO (darknet) layout: `DIR/images/**.{png,jpg,jpeg}` (any case; the content is sniffed) and, for each,
/// `DIR/labels/**.txt` at the same relative path,
/// one object a line `class cx cy w h` with the centre and size normalised by the image width and height.
/// Class names come from `DIR/classes.txt` or `DIR/obj.names` (one per line) or the `names` of `DIR/data.yaml`
/// (a `[a, b]` list, `- a` lines or `0: a` lines); without any, classes are named by their index.
/// A missing or empty label file means an image without objects.
public enum YOLOFormat {
    /// Reads a YOLO folder. Errors name the label file and line.
    public static func load(_ folder: URL, options: ValidationOptions = ValidationOptions()) throws -> DetectionDataset {
        let imagesDir = folder.appendingPathComponent("images"), labelsDir = folder.appendingPathComponent("labels")
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: imagesDir.path, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError.unknownFormat(path: folder.path)
        }
        let names = try classNames(in: folder)
        let relPaths = (fm.enumerator(atPath: imagesDir.path)?.compactMap { $0 as? String } ?? [])
            .filter { ImageFile.hasImageExtension(URL(fileURLWithPath: $0)) }.sorted()
        var images: [ImageRecord] = []
        var maxClass = -1
        for rel in relPaths {
            let file = imagesDir.appendingPathComponent(rel)
            let (w, h) = try ImageHeader.size(of: file)
            let labelFile = labelsDir.appendingPathComponent((rel as NSString).deletingPathExtension + ".txt")
            var annotations: [Annotation] = []
            if fm.fileExists(atPath: labelFile.path) {
                annotations = try parseLabels(labelFile, width: Double(w), height: Double(h), classCount: names?.count)
            }
            maxClass = max(maxClass, annotations.map(\.classIndex).max() ?? -1)
            images.append(ImageRecord(id: images.count + 1, file: file, fileName: "images/" + rel, width: w, height: h,
                                      annotations: annotations))
        }
        let categoryNames = names ?? (0...max(0, maxClass)).map { String($0) }
        try DatasetLimits.check(images, file: folder.path)
        var report = ValidationReport()
        Validator.clean(&images, options: options, report: &report)
        return DetectionDataset(root: folder, source: folder, images: images,
                                categories: categoryNames.enumerated().map { Category(id: $0.offset + 1, name: $0.element) },
                                report: report)
    }

    /// Parses one label file; `classCount` (when the names are known) bounds the class index.
    static func parseLabels(_ url: URL, width: Double, height: Double, classCount: Int?) throws -> [Annotation] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DatasetError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        var out: [Annotation] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            func bad(_ reason: String) -> DatasetError {
                .badLine(file: url.path, line: n + 1, column: nil, text: line, reason: reason)
            }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 5 else {
                throw bad("expected 5 fields `class cx cy w h`, found \(fields.count)")
            }
            guard let cls = Int(fields[0]), cls >= 0 else { throw bad("class \"\(fields[0])\" is not a non-negative integer") }
            if let c = classCount, cls >= c { throw bad("class \(cls) is not among the \(c) class names") }
            var v: [Double] = []
            for f in fields[1...] {
                guard let d = Double(f), d.isFinite else { throw bad("\"\(f)\" is not a number") }
                v.append(d)
            }
            guard v[2] >= 0, v[3] >= 0 else { throw bad("negative width or height") }
            out.append(Annotation(box: Box(cx: v[0] * width, cy: v[1] * height, w: v[2] * width, h: v[3] * height),
                                  classIndex: cls))
        }
        return out
    }

    /// Class names from `classes.txt`, `obj.names` or `data.yaml` in `folder`, or nil when none exists.
    static func classNames(in folder: URL) throws -> [String]? {
        for name in ["classes.txt", "obj.names"] {
            let u = folder.appendingPathComponent(name)
            if let text = try? String(contentsOf: u, encoding: .utf8) {
                return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
        }
        let yaml = folder.appendingPathComponent("data.yaml")
        guard let text = try? String(contentsOf: yaml, encoding: .utf8) else { return nil }
        guard let names = yamlNames(text) else {
            throw DatasetError.invalidEntry(file: yaml.path, location: "names", reason: "no `names:` list found")
        }
        return names
    }

    /// The `names` entry of a YOLO `data.yaml`: `names: [a, 'b']`, or following lines `- a` or `0: a`.
    static func yamlNames(_ text: String) -> [String]? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func unquote(_ s: String) -> String {
            let t = s.trimmingCharacters(in: .whitespaces)
            if t.count >= 2, let f = t.first, let l = t.last, f == l, f == "'" || f == "\"" {
                return String(t.dropFirst().dropLast())
            }
            return t
        }
        guard let i = lines.firstIndex(where: { $0.hasPrefix("names:") }) else { return nil }
        let rest = lines[i].dropFirst("names:".count).trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("[") {
            let inner = rest.dropFirst().prefix { $0 != "]" }
            return inner.split(separator: ",").map { unquote(String($0)) }.filter { !$0.isEmpty }
        }
        var names: [String] = []
        for line in lines[(i + 1)...] {
            guard line.hasPrefix(" ") || line.hasPrefix("\t") || line.hasPrefix("-") else { break }
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            if t.hasPrefix("- ") {
                names.append(unquote(String(t.dropFirst(2))))
            } else if let colon = t.firstIndex(of: ":"), Int(t[..<colon]) != nil {
                names.append(unquote(String(t[t.index(after: colon)...])))
            } else { break }
        }
        return names.isEmpty ? nil : names
    }
}
