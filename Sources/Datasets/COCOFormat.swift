import Boxes
import Evaluation
import Foundation

/// COCO detection JSON (`images`, `annotations` with `bbox = [x, y, w, h]` in pixels, `categories`; optional
/// `iscrowd` and `ignore` flags), read into a `DetectionDataset` and written back.
///
/// Image files: `imageDirectory/file_name` when a folder is given; otherwise `file_name` relative to the JSON's
/// folder, then `<json folder>/<json stem>/images/file_name` (the layout of `../shared/datasets`).
public enum COCOFormat {
    /// Reads a COCO JSON file, validating it (see `ValidationOptions` and `ValidationReport`).
    ///
    /// The file is read once by Evaluation's `COCOGroundTruthFile` (the reader behind `COCOGroundTruth`); this
    /// applies the rules for training data: `images[].id`, `file_name`, `width` and `height` are required (`area`
    /// is not), a category without a string `name` is named `class<id>`, and an `iscrowd` or `ignore` that is not
    /// a number, boolean or `null` counts as false. A comma before a closing bracket is accepted.
    ///
    /// Errors: malformed JSON (with line and column), strings that are not UTF-8 or hold an unpaired surrogate
    /// escape, missing keys, values of the wrong kind, negative box sizes, duplicate image or category ids,
    /// annotations of unknown images or categories (first offenders with the count), missing image files, image
    /// paths leaving the dataset root.
    public static func load(_ url: URL, imageDirectory: URL? = nil,
                            options: ValidationOptions = ValidationOptions()) throws -> DetectionDataset {
        let file = url.path
        let contents = try read(url)
        guard case let .present(imageEntries) = contents.images else {
            throw DatasetError.invalidEntry(file: file, location: "top level", reason: "missing array \"images\"")
        }
        let annotationEntries: [COCOGroundTruthFile.Annotation]
        switch contents.annotations {
        case .absent: annotationEntries = []
        case let .present(entries): annotationEntries = entries
        case .mistyped:
            throw DatasetError.invalidEntry(file: file, location: "top level", reason: "\"annotations\" must be an array of objects")
        }
        guard case let .present(categoryEntries) = contents.categories else {
            throw DatasetError.invalidEntry(file: file, location: "top level", reason: "missing array \"categories\"")
        }

        // Categories sorted by original id give the contiguous class indices.
        var categories: [Category] = []
        for (i, c) in categoryEntries.enumerated() {
            let id = try EntryFields(file: file, location: "categories[\(i)]").required(c.id, "id", "an integer")
            categories.append(Category(id: id, name: c.name.value ?? "class\(id)"))
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
        images.reserveCapacity(imageEntries.count)
        var indexOf: [Int: Int] = [:]
        var missing = OffenderList()
        for (i, m) in imageEntries.enumerated() {
            let e = EntryFields(file: file, location: "images[\(i)]")
            let id = try e.required(m.id, "id", "an integer"), name = try e.required(m.fileName, "file_name", "a string")
            let w = try e.required(m.width, "width", "an integer"), h = try e.required(m.height, "height", "an integer")
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
        for (i, a) in annotationEntries.enumerated() {
            let annID = a.id.value.map { " (id \($0))" } ?? ""
            let e = EntryFields(file: file, location: "annotations[\(i)]\(annID)")
            let imageID = try e.required(a.imageID, "image_id", "an integer")
            let categoryID = try e.required(a.categoryID, "category_id", "an integer")
            let bbox = try e.required(a.bbox, "bbox", "an array of 4 numbers")
            guard [bbox.x, bbox.y, bbox.width, bbox.height].allSatisfy(\.isFinite) else {
                throw DatasetError.invalidEntry(file: file, location: e.location, reason: "\"bbox\" has a non-finite number")
            }
            guard bbox.width >= 0, bbox.height >= 0 else {
                throw DatasetError.invalidEntry(file: file, location: e.location,
                                                reason: "bbox \([bbox.x, bbox.y, bbox.width, bbox.height]) has a negative width or height (COCO bbox is [x, y, w, h])")
            }
            guard let cls = classOf[categoryID] else {
                unknownCategory.add("annotations[\(i)]\(annID): category_id \(categoryID)")
                continue
            }
            guard let k = indexOf[imageID] else {
                unknownImage.add("annotations[\(i)]\(annID): image_id \(imageID)")
                continue
            }
            images[k].annotations.append(Annotation(box: Box(x: bbox.x, y: bbox.y, w: bbox.width, h: bbox.height),
                                                    classIndex: cls, isCrowd: a.isCrowd.value ?? false,
                                                    ignore: a.ignore.value ?? false))
        }
        if unknownCategory.count > 0 {
            throw DatasetError.unknownCategories(file: file, count: unknownCategory.count, offenders: unknownCategory.first)
        }
        if unknownImage.count > 0 {
            throw DatasetError.invalidEntry(file: file, location: "annotations",
                                            reason: "\(unknownImage.count) annotation(s) refer to an image id not in \"images\"; first: "
                                                + unknownImage.first.joined(separator: "; "))
        }
        for (i, m) in imageEntries.enumerated() {
            let boxed = Set(images[i].annotations.map(\.classIndex))
            images[i].partialClasses = try partialClasses(of: m, at: "images[\(i)] (id \(images[i].id))", boxed: boxed,
                                                          classOf: classOf, classes: categories.count, file: file)
        }
        if options.requireImageFiles && missing.count > 0 {
            throw DatasetError.missingImages(file: file, count: missing.count, offenders: missing.first,
                                             searched: bases.map(\.path))
        }
        try DatasetLimits.check(images, file: url.path)
        var report = ValidationReport()
        Validator.clean(&images, options: options, report: &report)
        return DetectionDataset(root: imageDirectory ?? jsonFolder, source: url, images: images,
                                categories: categories, report: report)
    }

    /// Reads `url` with `COCOGroundTruthFile`, its errors as `DatasetError`s; text that strict JSON parsers
    /// reject (a string that is not UTF-8, an unpaired surrogate escape) is malformed JSON here too.
    private static func read(_ url: URL) throws -> COCOGroundTruthFile {
        let contents: COCOGroundTruthFile
        do {
            contents = try COCOGroundTruthFile(contentsOf: url)
        } catch let error as EvaluationError {
            switch error {
            case let .malformedJSON(file, line, column, reason):
                throw DatasetError.malformedJSON(file: file, location: "\(JSONTextPosition(line: line, column: column))",
                                                 reason: reason)
            case let .invalidFormat(file, _):
                // COCOGroundTruthFile throws this only for a top level that is not an object.
                throw DatasetError.invalidEntry(file: file, location: "top level", reason: "expected a JSON object")
            case let .unreadable(file, reason):
                throw DatasetError.unreadable(file: file, reason: reason)
            case .unknownImage, .unwritable:
                throw DatasetError.unreadable(file: url.path, reason: "\(error)")
            }
        }
        if let bad = contents.irregularities.first(where: { $0.kind != .trailingComma }) {
            throw DatasetError.malformedJSON(file: url.path, location: "\(bad.position)", reason: bad.reason)
        }
        return contents
    }

    /// Writes `dataset` as COCO JSON to `url`: one entry per line, keys in a fixed order, numbers in their shortest
    /// round-trip form, so the same dataset always gives the same bytes. `file_name` is each image's `fileName`;
    /// `category_id` the original category id; `area = w·h`; `ignore` is written only when set, and an image's
    /// `partialClasses` only where it has some, as LVIS's `not_exhaustive_category_ids`.
    public static func write(_ dataset: DetectionDataset, to url: URL) throws {
        var s = "{\"images\": [\n"
        s += dataset.images.map { image in
            let partial = image.partialClasses.isEmpty ? "" : ", \"not_exhaustive_category_ids\": ["
                + image.partialClasses.map { "\(dataset.categories[$0].id)" }.joined(separator: ", ") + "]"
            return "{\"id\": \(image.id), \"file_name\": \(quoted(image.fileName)), \"width\": \(image.width), "
                + "\"height\": \(image.height)\(partial)}"
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

/// The fields of one COCO entry, with errors naming the file and the entry.
private struct EntryFields {
    /// The annotation file.
    let file: String
    /// The entry, e.g. `annotations[3] (id 17)`.
    let location: String

    /// The field's value; throws for an absent key or a value that is not `expected` (e.g. "an integer").
    func required<T>(_ field: COCOField<T>, _ key: String, _ expected: String) throws -> T {
        switch field {
        case let .present(value):
            return value
        case .absent:
            throw DatasetError.invalidEntry(file: file, location: location, reason: "missing key \"\(key)\"")
        case let .mistyped(found):
            throw DatasetError.invalidEntry(file: file, location: location,
                                            reason: "\"\(key)\" must be \(expected), got \(found.text) (\(found.position))")
        }
    }
}
