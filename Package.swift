// swift-tools-version:5.10
import PackageDescription

/// Targets in pipeline order; see README.md ("Layout") for what each holds.
let package = Package(
    name: "SwiftDetector",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "detector", targets: ["detector"]),
        .library(name: "Matching", targets: ["Matching"]),
        .library(name: "Boxes", targets: ["Boxes"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "Detection", targets: ["Detection"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(
            name: "CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .target(name: "Boxes"),
        .target(name: "Matching", dependencies: ["Boxes"]),
        .target(name: "NeuralNet", dependencies: ["COpenBLAS"]),
        .target(name: "Losses", dependencies: ["Boxes"]),
        .target(name: "Imaging", dependencies: ["CLibPNG"]),
        .target(name: "Datasets", dependencies: ["Boxes", "Imaging", "Evaluation"]),
        .target(name: "Criterion", dependencies: ["Boxes", "Matching", "Losses"]),
        .target(name: "Evaluation", dependencies: ["Boxes"]),
        .target(
            name: "Detection",
            dependencies: ["Boxes", "Matching", "NeuralNet", "Losses", "Imaging", "Datasets", "Criterion", "Evaluation"]),
        .executableTarget(
            name: "detector",
            dependencies: ["Detection", "Evaluation", "Datasets", "NeuralNet", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "BoxesTests", dependencies: ["Boxes", "TestSupport"]),
        .testTarget(name: "MatchingTests", dependencies: ["Matching", "TestSupport"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "TestSupport"]),
        .testTarget(name: "LossesTests", dependencies: ["Losses", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Evaluation", "TestSupport"]),
        .testTarget(name: "CriterionTests", dependencies: ["Criterion", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "TestSupport"]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "TestSupport"]),
    ]
)
