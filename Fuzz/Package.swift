// swift-tools-version:5.10
import PackageDescription

/// libFuzzer harnesses for every parser a user's file reaches, built by `tools/fuzz` with
/// `--sanitize=fuzzer --sanitize=address`; a package of its own so that `swift build` and `swift test` of
/// SwiftDetector never see them.
let package = Package(
    name: "SwiftDetectorFuzz",
    dependencies: [.package(name: "SwiftDetector", path: "..")],
    targets: [
        .executableTarget(
            name: "fuzz",
            dependencies: [
                .product(name: "Training", package: "SwiftDetector"),
                .product(name: "Matching", package: "SwiftDetector"),
                .product(name: "NeuralNet", package: "SwiftDetector"),
                .product(name: "DetectorModel", package: "SwiftDetector"),
                .product(name: "Inference", package: "SwiftDetector"),
            ]),
    ]
)
