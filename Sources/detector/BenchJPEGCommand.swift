import ArgumentParser
import Benchmarks
import Foundation

extension Bench {
    /// `detector bench jpeg FOLDER`: JPEG decode speed, full size and at the network's input size.
    struct JPEGDecode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "jpeg",
            abstract: "JPEG decode ms per image: full size, with DCT scaling to --target, and full decode + resize.",
            discussion: "tools/bench-jpeg runs this beside Pillow on the same files and prints the ratio.")

        @Argument(help: "Folder of .jpg / .jpeg files.")
        var folder: String
        @Option(help: "Longer side of the network input.")
        var target = 320
        @Option(help: "Files used (the first, by name).")
        var limit = 50
        @Option(help: "Passes; each file's fastest pass counts.")
        var repetitions = 3
        @Flag(help: "One JSON line (for tools/bench-jpeg).")
        var json = false

        func validate() throws {
            guard target > 0, limit > 0, repetitions > 0 else {
                throw ValidationError("--target, --limit and --repetitions must be positive")
            }
        }

        func run() throws {
            try reportingErrors {
                let files = try JPEGDecodeBenchmark.files(in: URL(fileURLWithPath: folder), limit: limit)
                guard !files.isEmpty else { throw ValidationError("\(folder) holds no .jpg or .jpeg files") }
                let r = try JPEGDecodeBenchmark.run(files: files, target: target, repetitions: repetitions)
                if json { print(r.json); return }
                print(String(format: "%d files, %.2f MP each; median ms per image", r.images, r.megapixelsPerImage))
                print(String(format: "full-size decode          %8.3f", r.fullMilliseconds))
                print(String(format: "DCT-scaled to %4d + resize %7.3f", r.target, r.reducedMilliseconds))
                print(String(format: "full decode + resize      %8.3f", r.fullThenResizeMilliseconds))
            }
        }
    }
}
