import ArgumentParser
import Datasets
import Foundation

/// `detector synth`: writes the synthetic crowded-scene dataset (COCO JSON + PNGs).
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate synthetic crowded scenes: OUT/train.json, OUT/val.json and OUT/{train,val}/images/*.png.")

    @Option(name: .long, help: "Output folder (created if needed).")
    var out: String

    @Option(name: .long, help: "Number of training images.")
    var train: Int = 2000

    @Option(name: .long, help: "Number of validation images.")
    var val: Int = 200

    @Option(name: .long, help: "Random seed; the same seed gives identical files.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Image side in pixels (default: the settings' imageSize, 320).")
    var size: Int?

    @Option(name: .long, help: "Generator settings JSON (see datasets/synthetic.json); defaults when absent.")
    var config: String?

    func validate() throws {
        guard train >= 0, val >= 0 else { throw ValidationError("--train and --val must be ≥ 0") }
        if let size, size < 32 { throw ValidationError("--size must be at least 32") }
    }

    func run() throws {
        let settings = try config.map { try SyntheticSceneConfig.load(URL(fileURLWithPath: $0)) } ?? SyntheticSceneConfig()
        let report = try SyntheticScenes.generate(to: URL(fileURLWithPath: out), trainCount: train, valCount: val,
                                                  seed: seed, size: size, config: settings)
        print("wrote \(out): \(report)")
    }
}
