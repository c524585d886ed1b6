import ArgumentParser
import Benchmarks
import Datasets
import Foundation

/// `detector dataset`: inspect annotation files.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Inspect detection datasets (COCO .json, .idl, YOLO folders).",
        subcommands: [Stats.self, Bench.self])

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

    /// `detector dataset bench FILE`: input-pipeline throughput.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Images/s of image decoding (PNG, JPEG), of decode + augment + batch on one thread, and with prefetch workers.")

        @Argument(help: "A COCO .json, an .idl file, or a YOLO folder.")
        var file: String

        @Option(name: .long, help: "Images to use (the first N).")
        var images = 96

        @Option(name: .long, help: "Batch size.")
        var batchSize = 16

        @Option(name: .long, help: "Network input side.")
        var size = 320

        @Option(name: .long, help: "Prefetch worker threads.")
        var workers = 2

        func run() throws {
            let r = try DataPipelineBenchmark.run(annotations: URL(fileURLWithPath: file), imageLimit: images,
                                                  batchSize: batchSize, inputSize: size, workers: workers)
            print(r)
        }
    }
}
