import Boxes
import Foundation

/// COCO detection JSON (`images`, `annotations` with `bbox = [x, y, w, h]` in pixels, `categories`; optional
/// `iscrowd` and `ignore` flags), read into a `DetectionDataset` and written back.
///
/// Image files: `imageDirectory/file_name` when a folder is given; otherwise `file_name` relative to the JSON's
/// folder, then `<json folder>/<json stem>/images/file_name` (the layout of `../shared/datasets`).
public enum COCOFormat {
    /// Reads a COCO JSON file, validating it (see `ValidationOptions` and `ValidationReport`).
    ///
    /// Errors: malformed JSON (with line, column and byte), missing keys, negative box sizes, duplicate image
    /// ids, annotations of unknown images or categories (first offenders with the count), missing image files,
    /// image paths leaving the dataset root.
    public static func load(_ url: URL, imageDirectory: URL? = nil,
                            options: ValidationOptions = ValidationOptions()) throws -> DetectionDataset {
        let file = url.path
        let json = try JSONReading.object(at: url)
        guard let imagesJSON = json["images"] as? [[String: Any]] else {
            throw DatasetError.invalidEntry(file: file, location: "top level", reason: "missing array \"images\"")
        }
        let annotationsJSON = (json["annotations"] as? [[String: Any]]) ?? []
        if json["annotations"] != nil && json["annotations"] as? [[String: Any]] == nil {
            throw DatasetError.invalidEntry(file: file, location: "top level", reason: "\"annotations\" must be an array of objects")
        }
        guard let categoriesJSON = json["categories"] as? [[String: Any]] else {
            throw DatasetError.invalidEntry(file: file, location: "top level", reason: "missing array \"categories\"")
        }

        // Categories sorted by original id give the contiguous class indices.
        var categories: [Category] = []
        for (i, c) in categoriesJSON.enumerated() {
            let e = JSONEntry(dict: c, file: file, location: "categories[\(i)]")
            let id = try e.int("id")
            categories.append(Category(id: id, name: (try? e.string("name")) ?? "class\(id)"))
        }
        categories.sort { $0.id < $1.id }
        var classOf: [Int: Int] = [:]
        for (i, c) in categories.enumerated() {
            if classOf[c.id] != nil {
                throw DatasetError.invalidEntry(file: file, location: "categories", reason: "category id \(c.id) appears twice")
            }
            classOf[c.id] = i
        }

        let jsonFolder = url.deletingLastPathComponent()
        let bases = imageDirectory.map { [$0] }
            ?? [jsonFolder, jsonFolder.appendingPathComponent(url.deletingPathExtension().lastPathComponent)
                .appendingPathComponent("images")]
        let resolver = ImagePathResolver(bases: bases, roots: bases, sourceName: file)
        var images: [ImageRecord] = []
        images.reserveCapacity(imagesJSON.count)
        var indexOf: [Int: Int] = [:]
        var missing = OffenderList()
        for (i, m) in imagesJSON.enumerated() {
            let e = JSONEntry(dict: m, file: file, location: "images[\(i)]")
            let id = try e.int("id"), name = try e.string("file_name")
            let w = try e.int("width"), h = try e.int("height")
            guard w > 0, h > 0 else {
                throw DatasetError.invalidEntry(file: file, location: "images[\(i)] (id \(id))", reason: "size \(w)×\(h) is not positive")
            }
            guard indexOf[id] == nil else {
                throw DatasetError.invalidEntry(file: file, location: "images[\(i)]", reason: "image id \(id) appears twice")
            }
            let (u, exists) = try resolver.resolve(name)
            if !exists { missing.add(name) }
            indexOf[id] = images.count
            images.append(ImageRecord(id: id, file: u, fileName: name, width: w, height: h))
        }

        var unknownCategory = OffenderList(), unknownImage = OffenderList()
        for (i, a) in annotationsJSON.enumerated() {
            let annID = (try? JSONEntry(dict: a, file: file, location: "").int("id")).map { " (id \($0))" } ?? ""
            let e = JSONEntry(dict: a, file: file, location: "annotations[\(i)]\(annID)")
            let imageID = try e.int("image_id"), categoryID = try e.int("category_id")
            let bbox = try e.doubles("bbox", count: 4)
            guard bbox[2] >= 0, bbox[3] >= 0 else {
                throw DatasetError.invalidEntry(file: file, location: e.location,
                                                reason: "bbox \(bbox) has a negative width or height (COCO bbox is [x, y, w, h])")
            }
            guard let cls = classOf[categoryID] else {
                unknownCategory.add("annotations[\(i)]\(annID): category_id \(categoryID)")
                continue
            }
            guard let k = indexOf[imageID] else {
                unknownImage.add("annotations[\(i)]\(annID): image_id \(imageID)")
                continue
            }
            images[k].annotations.append(Annotation(box: Box(x: bbox[0], y: bbox[1], w: bbox[2], h: bbox[3]),
                                                    classIndex: cls, isCrowd: e.flag("iscrowd"), ignore: e.flag("ignore")))
        }
        if unknownCategory.count > 0 {
            throw DatasetError.unknownCategories(file: file, count: unknownCategory.count, offenders: unknownCategory.first)
        }
        if unknownImage.count > 0 {
            throw DatasetError.invalidEntry(file: file, location: "annotations",
                                            reason: "\(unknownImage.count) annotation(s) refer to an image id not in \"images\"; first: "
                                                + unknownImage.first.joined(separator: "; "))
        }
        if options.requireImageFiles && missing.count > 0 {
            throw DatasetError.missingImages(file: file, count: missing.count, offenders: missing.first,
                                             searched: bases.map(\.path))
        }
        var report = ValidationReport()
        Validator.clean(&images, options: options, report: &report)
        return DetectionDataset(root: imageDirectory ?? jsonFolder, source: url, images: images,
                                categories: categories, report: report)
    }

    /// Writes `dataset` as COCO JSON to `url`: one entry per line, keys in a fixed order, numbers in their shortest
    /// round-trip form, so the same dataset always gives the same bytes. `file_name` is each image's `fileName`;
    /// `category_id` the original category id; `area = w·h`; `ignore` is written only when set.
    public static func write(_ dataset: DetectionDataset, to url: URL) throws {
        var s = "{\"images\": [\n"
        s += dataset.images.map {
            "{\"id\": \($0.id), \"file_name\": \(quoted($0.fileName)), \"width\": \($0.width), \"height\": \($0.height)}"
        }.joined(separator: ",\n")
        s += "\n],\n\"annotations\": [\n"
        var lines: [String] = []
        var nextID = 1
        for image in dataset.images {
            for a in image.annotations {
                let w = a.box.x2 - a.box.x1, h = a.box.y2 - a.box.y1
                var line = "{\"id\": \(nextID), \"image_id\": \(image.id), \"category_id\": \(dataset.categories[a.classIndex].id), "
                line += "\"bbox\": [\(num(a.box.x1)), \(num(a.box.y1)), \(num(w)), \(num(h))], \"area\": \(num(w * h)), "
                line += "\"iscrowd\": \(a.isCrowd ? 1 : 0)" + (a.ignore ? ", \"ignore\": 1}" : "}")
                lines.append(line)
                nextID += 1
            }
        }
        s += lines.joined(separator: ",\n")
        s += "\n],\n\"categories\": [\n"
        s += dataset.categories.map { "{\"id\": \($0.id), \"name\": \(quoted($0.name)), \"supercategory\": \"object\"}" }
            .joined(separator: ",\n")
        s += "\n]}\n"
        do { try Data(s.utf8).write(to: url, options: .atomic) } catch {
            throw DatasetError.unreadable(file: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// A number rounded to 1e-6 px (so float noise does not reach the file), integers without a fraction.
    static func num(_ v: Double) -> String {
        let r = (v * 1e6).rounded() / 1e6
        if r == r.rounded(), abs(r) < 1e15 { return String(Int(r)) }
        return "\(r)"
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for ch in text.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if ch.value < 0x20 { out += String(format: "\\u%04x", ch.value) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}
