import ArgumentParser
import NeuralNet

/// The `detector` command: thin subcommands over the Detection library.
@main
struct Detector: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detector",
        abstract: "Train, evaluate and run set-prediction object detectors on the CPU.",
        subcommands: [
            TrainCommand.self,
            DetectCommand.self,
            Bench.self,
            EvaluateCommand.self,
            MatchCommand.self,
            SynthCommand.self,
            DatasetCommand.self,
            ExportCommand.self,
        ])

    static func main() {
        // OpenBLAS reads OPENBLAS_CORETYPE when it loads; re-execute once with it set where needed.
        BLASRuntime.ensureFastKernel()
        // Freed tensors stay in the heap for the next step instead of going back to the kernel.
        MemoryArena.configure()
        Self.main(nil)
    }
}
