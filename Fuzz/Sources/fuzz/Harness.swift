import Datasets
import DetectorModel
import Evaluation
import Foundation
import Imaging
import Matching
import NeuralNet
import Training

/// A parser under fuzzing: the input bytes become the file a user would pass, in a scratch folder in `/dev/shm`,
/// and go through the same call the command line makes. Errors thrown are the expected answer to bad input.
struct Harness {
    let name: String
    /// The file name the bytes are written to, inside the scratch folder.
    let fileName: String
    let body: (URL) throws -> Void

    nonisolated(unsafe) static var current: Harness?

    /// A scratch folder for this process, holding one valid 4×3 PNG (`images/a.png`) for the dataset formats.
    static let scratch: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let u = URL(fileURLWithPath: base).appendingPathComponent("detector-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: u.appendingPathComponent("images"), withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(at: u.appendingPathComponent("labels"), withIntermediateDirectories: true)
        try? PNG.write(Image(width: 4, height: 3), to: u.appendingPathComponent("images/a.png"))
        try? "a\nb\n".write(to: u.appendingPathComponent("classes.txt"), atomically: true, encoding: .utf8)
        return u
    }()

    func run(_ bytes: Data) {
        let url = Self.scratch.appendingPathComponent(fileName)
        guard (try? bytes.write(to: url)) != nil else { fatalError("cannot write the fuzz input to \(url.path)") }
        do { try body(url) } catch {
            // A thrown error must describe itself and name the file (the package's rule for user errors).
            let text = "\(error)"
            precondition(!text.isEmpty, "an error without a message")
        }
    }

    static let noImages = ValidationOptions(requireImageFiles: false)

    /// Every harness, by name.
    static let all: [Harness] = [
        Harness(name: "coco", fileName: "gt.json") { url in
            _ = try COCOGroundTruthFile(contentsOf: url)
            _ = try DetectionDataset.load(url, options: noImages)
        },
        Harness(name: "coco-results", fileName: "results.json") { url in _ = try COCOResults.load(contentsOf: url) },
        Harness(name: "yolo", fileName: "labels/a.txt") { url in
            _ = try DetectionDataset.load(url.deletingLastPathComponent().deletingLastPathComponent(), format: .yolo)
        },
        Harness(name: "idl", fileName: "a.idl") { url in _ = try DetectionDataset.load(url, options: noImages) },
        Harness(name: "png", fileName: "input.png") { url in
            _ = try PNG.size(of: url)
            _ = try PNG.read(url)
        },
        Harness(name: "jpeg", fileName: "input.jpg") { url in
            // As training reads an image (reduced DCT decoding to a 64-pixel side), then at full size as detect does.
            // The pixel limit is lowered from 64 Mi to 4 Mi so that the time goes to parsing, not to big legal pictures.
            _ = try ImageFile.decode(url, options: DecodeOptions(maxPixels: 1 << 22, minimumLongSide: 64))
            _ = try ImageFile.decode(url, options: DecodeOptions(maxPixels: 1 << 22))
        },
        Harness(name: "safetensors", fileName: "model.safetensors") { url in
            _ = try SafeTensors.read(url)
            _ = try Checkpoint.load(url)
        },
        Harness(name: "npy", fileName: "cost.npy") { url in try solve(url) },
        Harness(name: "csv", fileName: "cost.csv") { url in try solve(url) },
        Harness(name: "cost-json", fileName: "cost.json") { url in try solve(url) },
        Harness(name: "config", fileName: "config.json") { url in
            let file = try RunConfiguration.readConfigFile(url)
            let model = try DetectorConfig.from(entries: file.model, source: url.path, base: .reference(classes: ["a"]))
            try model.validate()
            try TrainSettings.from(entries: file.training, source: url.path).validate()
        },
    ]

    /// What `detector match` does with a cost file: read it, and solve it when it is small.
    static func solve(_ url: URL) throws {
        let m = try CostMatrix.read(path: url.path)
        if m.rows * m.columns <= 4096 { _ = try LinearAssignmentSolver().solve(m) }
    }

    static func named(_ name: String) -> Harness? { all.first { $0.name == name } }
}
