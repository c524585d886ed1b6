import Foundation
import NeuralNet
import TestSupport
import XCTest
import DetectorModel
import DetectorTestSupport
import Inference
@testable import Training

/// A checkpoint survives a kill at any moment: a child process saves checkpoints in a loop and is killed with
/// SIGKILL at random times; the file must load every time, with a step that never goes back.
final class CheckpointKillTests: XCTestCase {
    static let childVariable = "DETECTOR_CHECKPOINT_CHILD"

    /// The child: saves the reference model again and again with an increasing step (runs only when spawned).
    func testChildSavesCheckpointsInALoop() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childVariable] else {
            throw XCTSkip("runs only as the child process of testKillDuringSaveLeavesLoadableCheckpoint")
        }
        let d = try Detector(config: .reference(classes: ["a", "b", "c"]), seed: 1)
        let url = URL(fileURLWithPath: path)
        // Continue from the file a killed predecessor left, so the step only grows across children.
        var state = (try? Checkpoint.load(url))?.state ?? TrainingState(seed: 1)
        while true {
            state.step += 1
            d.parameters[0].value.data[0] = Float(state.step)
            try Checkpoint.save(d, optimizer: nil, state: state, to: url)
        }
    }

    func testKillDuringSaveLeavesLoadableCheckpoint() throws {
        let dir = try Fixtures.temporaryDirectory()
        let url = dir.appendingPathComponent("last.safetensors")
        let executable = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        var lastStep = 0
        var generator = SeededGenerator(seed: 7)
        for trial in 0..<5 {
            let child = Process()
            child.executableURL = executable
            child.arguments = ["TrainingTests.CheckpointKillTests/testChildSavesCheckpointsInALoop"]
            var env = ProcessInfo.processInfo.environment
            env[Self.childVariable] = url.path
            child.environment = env
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Wait for at least one save, then kill at a random moment.
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: url.path) && Date() < deadline { usleep(10_000) }
            usleep(useconds_t(100_000 + generator.next() % 400_000))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationReason, .uncaughtSignal, "trial \(trial): the child ended before the kill")
            let loaded = try Checkpoint.load(url)
            XCTAssertGreaterThanOrEqual(loaded.state.step, lastStep, "trial \(trial)")
            XCTAssertEqual(loaded.detector.parameters[0].value.data[0], Float(loaded.state.step), "trial \(trial): torn file")
            lastStep = loaded.state.step
        }
        XCTAssertGreaterThan(lastStep, 1)
    }
}
