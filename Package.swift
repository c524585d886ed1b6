// swift-tools-version:5.10
import PackageDescription

/// Targets in dependency order; docs/ARCHITECTURE.md says what each holds and what may import what.
let package = Package(
    name: "SwiftDetector",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "detector", targets: ["detector"]),
        .library(name: "Matching", targets: ["Matching"]),
        .library(name: "Boxes", targets: ["Boxes"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "DetectorModel", targets: ["DetectorModel"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Inference", targets: ["Inference"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(
            name: "CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(
            name: "CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"]), .brew(["jpeg-turbo"])]),
        .target(name: "CKernels"),
        .target(name: "Seeding"),
        .target(name: "Boxes"),
        .target(name: "Matching", dependencies: ["Boxes"]),
        .target(name: "NeuralNet", dependencies: ["COpenBLAS", "CKernels", "Seeding"]),
        .target(name: "Losses"),
        .target(name: "Imaging", dependencies: ["CLibPNG", "CTurboJPEG"]),
        .target(name: "Datasets", dependencies: ["Boxes", "Imaging", "Seeding", "Evaluation"]),
        .target(name: "Criterion", dependencies: ["Boxes", "Matching", "Losses"]),
        .target(name: "Reporting"),
        .target(name: "Evaluation", dependencies: ["Reporting"]),
        .target(name: "DetectorModel", dependencies: ["Boxes", "NeuralNet"]),
        .target(name: "Distributed", dependencies: ["NeuralNet"]),
        .target(name: "Inference", dependencies: ["Boxes", "Matching", "NeuralNet", "Imaging", "Datasets", "Evaluation",
                                                 "Reporting", "DetectorModel"]),
        .target(
            name: "Training",
            dependencies: ["Boxes", "Matching", "NeuralNet", "Losses", "Datasets", "Imaging", "Criterion", "Evaluation", "Reporting",
                           "DetectorModel", "Inference", "Distributed"]),
        .target(
            name: "ONNXExport",
            dependencies: ["Boxes", "NeuralNet", "Imaging", "Datasets", "DetectorModel", "Inference",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto"]),
        .target(
            name: "Benchmarks",
            dependencies: ["Boxes", "Matching", "NeuralNet", "Imaging", "Datasets", "Criterion", "DetectorModel", "Training"]),
        .executableTarget(
            name: "detector",
            dependencies: ["Matching", "NeuralNet", "Datasets", "Evaluation", "Reporting", "DetectorModel", "Inference",
                           "Training", "Benchmarks", "ONNXExport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .target(name: "TestSupport", dependencies: ["Seeding"], path: "Tests/TestSupport"),
        .target(
            name: "DetectorTestSupport",
            dependencies: ["Boxes", "Criterion", "NeuralNet", "Reporting", "DetectorModel", "Training", "TestSupport"],
            path: "Tests/DetectorTestSupport"),
        .testTarget(name: "SeedingTests", dependencies: ["Seeding"]),
        .testTarget(name: "BoxesTests", dependencies: ["Boxes", "TestSupport"]),
        .testTarget(name: "MatchingTests", dependencies: ["Matching", "Boxes", "TestSupport"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "TestSupport"]),
        .testTarget(name: "LossesTests", dependencies: ["Losses", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Boxes", "Imaging", "Evaluation", "Seeding", "TestSupport"]),
        .testTarget(name: "CriterionTests", dependencies: ["Criterion", "Boxes", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "TestSupport"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "TestSupport"]),
        .testTarget(
            name: "DetectorModelTests",
            dependencies: ["DetectorModel", "Boxes", "NeuralNet", "Seeding", "DetectorTestSupport"]),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["Training", "DetectorModel", "Inference", "Criterion", "Datasets", "Imaging", "Boxes", "Evaluation", "NeuralNet", "Reporting",
                           "TestSupport", "DetectorTestSupport"]),
        .testTarget(
            name: "InferenceTests",
            dependencies: ["Inference", "DetectorModel", "Datasets", "Evaluation", "Imaging", "NeuralNet", "Boxes", "TestSupport",
                           "DetectorTestSupport"]),
        .testTarget(
            name: "BenchmarksTests",
            dependencies: ["Benchmarks", "Matching", "Imaging", "DetectorModel", "Training", "Criterion", "NeuralNet",
                           "TestSupport", "DetectorTestSupport"]),
        .testTarget(
            name: "ONNXExportTests",
            dependencies: ["ONNXExport", "DetectorModel", "NeuralNet", "Training", "TestSupport", "DetectorTestSupport",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "CLITests", dependencies: ["detector", "DetectorModel", "TestSupport", "DetectorTestSupport"]),
        .testTarget(
            name: "DistributedTests",
            dependencies: ["Distributed", "NeuralNet", "DetectorModel", "detector", "TestSupport", "DetectorTestSupport"]),
    ]
)
