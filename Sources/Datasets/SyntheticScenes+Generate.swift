import Boxes
import Dispatch
import Foundation
import Imaging

/// What `SyntheticScenes.generate` wrote.
public struct SyntheticGenerationReport: Sendable, CustomStringConvertible {
    /// Images written per split.
    public var trainImages = 0, valImages = 0
    /// Objects drawn, and those left unannotated because occluded beyond `1 − minVisibleFraction`.
    public var drawnObjects = 0, hiddenObjects = 0
    /// Annotated boxes.
    public var boxes = 0
    /// Share of annotated boxes overlapping another of their image at IoU > 0.3 and > 0.5.
    public var overlapShare03 = 0.0, overlapShare05 = 0.0
    /// Wall-clock seconds for rendering, encoding and writing.
    public var seconds = 0.0
    /// Thread-seconds spent drawing scenes, and encoding + writing PNGs (summed over the parallel workers).
    public var renderSeconds = 0.0, encodeSeconds = 0.0

    /// Images per second.
    public var imagesPerSecond: Double { seconds > 0 ? Double(trainImages + valImages) / seconds : 0 }

    /// One line with counts, overlap share, occlusion and timing.
    public var description: String {
        String(format: "%d train + %d val images, %d boxes (%.1f per image); %d of %d drawn objects occluded beyond "
               + "the visibility rule and not annotated; %.1f%% of boxes overlap another at IoU > 0.3 (%.1f%% at > 0.5); "
               + "%.2f s (%.0f images/s; per image %.1f ms drawing, %.1f ms PNG encoding and writing)",
               trainImages, valImages, boxes, Double(boxes) / Double(max(1, trainImages + valImages)), hiddenObjects,
               drawnObjects, 100 * overlapShare03, 100 * overlapShare05, seconds, imagesPerSecond,
               1000 * renderSeconds / Double(max(1, trainImages + valImages)),
               1000 * encodeSeconds / Double(max(1, trainImages + valImages)))
    }
}

extension SyntheticScenes {
    /// Writes a synthetic dataset to `folder`: `train.json` and `val.json` (COCO, category ids 1…classCount named
    /// `ellipse`, `rectangle`, `triangle`), the pictures at `train/images/000001.png`, `val/images/…`, and last
    /// `generated.json` (counts, seed, settings; see `isGenerated`)
    /// (`file_name` is the bare name; the COCO loader finds it in `<json stem>/images/`). Deterministic: each
    /// picture is a pure function of (seed, split, index), so the same arguments give byte-identical files whatever
    /// the thread count. Images render and encode in parallel; PNGs use libpng's fast setting (no row filters,
    /// zlib level 3), larger files that decode to the same pixels.
    ///
    /// - Parameters:
    ///   - size: image side; overrides `config.imageSize` when given.
    ///   - threads: workers rendering and encoding; default: the number of active cores.
    public static func generate(to folder: URL, trainCount: Int, valCount: Int, seed: UInt64, size: Int? = nil,
                                config: SyntheticSceneConfig = SyntheticSceneConfig(),
                                threads: Int? = nil) throws -> SyntheticGenerationReport {
        var config = config
        if let size { config.imageSize = size }
        try config.validate()
        let workers = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("generated.json"))
        let start = Date()
        var report = SyntheticGenerationReport()
        var allBoxes: [[Box]] = []
        for (split, name, count) in [(0, "train", trainCount), (1, "val", valCount)] {
            let imageDir = folder.appendingPathComponent(name).appendingPathComponent("images")
            do { try FileManager.default.createDirectory(at: imageDir, withIntermediateDirectories: true) } catch {
                throw DatasetError.unreadable(file: imageDir.path, reason: "cannot create: \(error.localizedDescription)")
            }
            let (results, renderTime, encodeTime) = try renderAll(count: count, split: split, seed: seed, config: config,
                                                                  imageDir: imageDir, workers: workers)
            report.renderSeconds += renderTime
            report.encodeSeconds += encodeTime
            var images: [ImageRecord] = []
            for (i, r) in results.enumerated() {
                let fileName = String(format: "%06d.png", i + 1)
                images.append(ImageRecord(id: i + 1, file: imageDir.appendingPathComponent(fileName), fileName: fileName,
                                          width: config.imageSize, height: config.height, annotations: r.annotations))
                report.drawnObjects += r.drawn
                report.hiddenObjects += r.drawn - r.annotations.count
                report.boxes += r.annotations.count
                allBoxes.append(r.annotations.map(\.box))
            }
            let categories = (0..<config.classCount).map { Category(id: $0 + 1, name: SyntheticSceneConfig.classNames[$0]) }
            let json = folder.appendingPathComponent(name + ".json")
            try COCOFormat.write(DetectionDataset(root: folder, source: json, images: images, categories: categories), to: json)
            if split == 0 { report.trainImages = count } else { report.valImages = count }
        }
        // Written last: its presence says the folder is complete, its contents what it holds.
        let stamp = try generationStamp(trainCount: trainCount, valCount: valCount, seed: seed, config: config)
        do { try Data(stamp.utf8).write(to: folder.appendingPathComponent("generated.json"), options: .atomic) } catch {
            throw DatasetError.unreadable(file: folder.appendingPathComponent("generated.json").path,
                                          reason: "cannot write: \(error.localizedDescription)")
        }
        report.overlapShare03 = DatasetStatistics.overlapShare(allBoxes, threshold: 0.3)
        report.overlapShare05 = DatasetStatistics.overlapShare(allBoxes, threshold: 0.5)
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// The text of `generated.json`, which `generate` writes last into its folder: image counts, seed and the
    /// generator settings. `isGenerated` compares it to decide whether a folder is complete and current.
    public static func generationStamp(trainCount: Int, valCount: Int, seed: UInt64,
                                       config: SyntheticSceneConfig) throws -> String {
        "{\"train\": \(trainCount), \"val\": \(valCount), \"seed\": \(seed), \"settings\": \(try config.jsonText())}\n"
    }

    /// Whether `folder` holds a complete dataset generated with exactly these arguments (its `generated.json`
    /// matches); false for an older generator's settings or a generation that was interrupted.
    public static func isGenerated(in folder: URL, trainCount: Int, valCount: Int, seed: UInt64,
                                   config: SyntheticSceneConfig = SyntheticSceneConfig()) -> Bool {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("generated.json"), encoding: .utf8),
              let want = try? generationStamp(trainCount: trainCount, valCount: valCount, seed: seed, config: config)
        else { return false }
        return text == want
    }

    /// Renders and writes `count` images of one split on `workers` threads (worker `w` takes indices `w`,
    /// `w + workers`, …); returns the annotations in index order and the thread-seconds spent drawing and encoding.
    private static func renderAll(count: Int, split: Int, seed: UInt64, config: SyntheticSceneConfig, imageDir: URL,
                                  workers: Int) throws -> ([(annotations: [Annotation], drawn: Int)], Double, Double) {
        final class Results: @unchecked Sendable {
            var items: [(annotations: [Annotation], drawn: Int)?]
            var error: Error?
            var renderSeconds = 0.0, encodeSeconds = 0.0
            let lock = NSLock()
            init(_ n: Int) { items = Array(repeating: nil, count: n) }
        }
        let results = Results(count)
        let workers = min(workers, max(1, count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: count, by: workers) {
                let t0 = Date()
                let scene = render(index: i, split: split, seed: seed, config: config)
                let t1 = Date()
                let url = imageDir.appendingPathComponent(String(format: "%06d.png", i + 1))
                var failure: Error?
                do { try PNG.write(scene.image, to: url, fast: true) } catch { failure = error }
                let t2 = Date()
                results.lock.lock()
                results.renderSeconds += t1.timeIntervalSince(t0)
                results.encodeSeconds += t2.timeIntervalSince(t1)
                results.items[i] = (scene.annotations, scene.drawnObjects)
                if let failure, results.error == nil { results.error = failure }
                let stop = results.error != nil
                results.lock.unlock()
                if stop { return }
            }
        }
        if let e = results.error { throw e }
        return (results.items.map { $0! }, results.renderSeconds, results.encodeSeconds)
    }
}
