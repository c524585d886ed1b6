import ArgumentParser
import Datasets
import Foundation

/// `detector dataset`: inspect annotation files.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Inspect detection datasets (COCO .json, .idl, YOLO folders).",
        subcommands: [Stats.self])

    /// `detector dataset stats FILE [--images DIR]`.
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Images, boxes, boxes per image, box sizes, overlap and class counts, and the problems found.")

        @Argument(help: "A COCO .json, an .idl file, or a YOLO folder (images/ + labels/).")
        var file: String

        @Option(name: .long, help: "Folder holding the images (default: next to the annotation file).")
        var images: String?

        @Flag(name: .long, help: "Report missing image files instead of stopping at them.")
        var allowMissingImages = false

        func run() throws {
            let ds = try DetectionDataset.load(URL(fileURLWithPath: file), imageDirectory: images.map { URL(fileURLWithPath: $0) },
                                               options: ValidationOptions(requireImageFiles: !allowMissingImages))
            print(DatasetStatistics(ds))
        }
    }
}
