import DetectorModel
import Foundation
import NeuralNet
import ONNXExport
import SwiftProtobuf
import TestSupport

/// Networks for the export tests: small configurations with every set head and query selection, with BatchNorm
/// statistics and affine parameters drawn at random (so that folding them is not the identity) and the dense class
/// conv spread out (so that the scores, and the query selection built on them, are far from ties).
enum ExportFixtures {
    /// A detector for `config` (seed 5) with random BatchNorm running statistics, γ, β and class-conv weights.
    static func perturbedDetector(_ config: DetectorConfig, seed: UInt64 = 5) throws -> Detector {
        let detector = try Detector(config: config, seed: seed)
        var g = SeededGenerator(seed: seed &+ 100)
        for bn in detector.batchNorms {
            let c = bn.channels
            bn.runningMean = Tensor(shape: [c], initializer: .normal(std: 0.2), generator: &g)
            bn.runningVar = Tensor(shape: [c], data: Tensor(shape: [c], initializer: .uniform(bound: 0.5), generator: &g).data.map { $0 + 0.9 })
            bn.weight.value = Tensor(shape: [c], data: Tensor(shape: [c], initializer: .uniform(bound: 0.4), generator: &g).data.map { $0 + 1 })
            bn.bias.value = Tensor(shape: [c], initializer: .normal(std: 0.1), generator: &g)
        }
        let w = detector.dense.cls.weight
        w.value = Tensor(shape: w.value.shape, initializer: .normal(std: 0.1), generator: &g)
        return detector
    }

    /// The exported model of `detector`, serialised and parsed back.
    static func roundTrip(_ detector: Detector) throws -> Onnx_ModelProto {
        let bytes = try ONNXExporter.model(detector).serializedData()
        return try Onnx_ModelProto(serializedBytes: bytes)
    }

    /// The configurations exercised: the synthetic default's preset (NMS selection, geometry, class prior) at a
    /// smaller input, the reference preset's query head (top-K) at a small size, peaks selection, the global head and
    /// the dense head alone.
    static func configurations(syntheticPreset: DetectorConfig) -> [(String, DetectorConfig)] {
        var preset = syntheticPreset
        preset.inputSize = 96
        preset.widths = [8, 16, 16, 32]
        preset.hypotheses = 30
        var reference = DetectorConfig.reference(classes: ["a", "b", "c"])
        reference.inputSize = 64
        reference.widths = [8, 8, 16, 16]
        reference.headWidth = 16
        reference.hypotheses = 12
        var peaks = reference
        peaks.querySelection = .peaks
        peaks.anchorRatios = [0.5, 1]
        var global = reference
        global.setHead = .fc
        var dense = reference
        dense.setHead = .none
        dense.headConvs = 0
        var rectangular = preset
        rectangular.rectangular = true
        var fine = preset
        fine.setFineFeatures = true
        return [("synthetic preset", preset), ("reference topk", reference), ("peaks", peaks), ("fc", global), ("none", dense),
                ("rectangular (square graph)", rectangular), ("fine features", fine)]
    }
}
