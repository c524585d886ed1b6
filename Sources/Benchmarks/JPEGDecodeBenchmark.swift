import Foundation
import Imaging

/// JPEG decode speed on a folder of files, in the two ways a detector reads them: the full-size picture, and the
/// picture at the network's input size (the letterbox: longer side = `target`), where `ImageFile.decode` may use DCT
/// scaling (1/2, 1/4, 1/8) before the bilinear resize. `tools/bench-jpeg` runs this beside Pillow on the same files
/// (`tools/bench-jpeg-pillow.py`) and prints the ratio.
public enum JPEGDecodeBenchmark {
    /// Per-image times of one pass over the files, in milliseconds.
    public struct Result: Sendable {
        /// Files decoded.
        public var images: Int
        /// Mean full-size megapixels per image.
        public var megapixelsPerImage: Double
        /// Longer side of the reduced picture.
        public var target: Int
        /// Median milliseconds per image: full-size decode.
        public var fullMilliseconds: Double
        /// Median milliseconds per image: decode with DCT scaling (`minimumLongSide = target`) + resize to the
        /// letterbox size.
        public var reducedMilliseconds: Double
        /// Median milliseconds per image: full-size decode + resize to the letterbox size (no DCT scaling).
        public var fullThenResizeMilliseconds: Double

        /// One JSON object (keys as `tools/bench-jpeg` reads them).
        public var json: String {
            String(format: "{\"decoder\": \"swift\", \"images\": %d, \"megapixels\": %.3f, \"target\": %d, "
                + "\"full_ms\": %.4f, \"reduced_ms\": %.4f, \"full_resize_ms\": %.4f}",
                images, megapixelsPerImage, target, fullMilliseconds, reducedMilliseconds, fullThenResizeMilliseconds)
        }
    }

    /// The `.jpg` / `.jpeg` files of `folder`, sorted by name, at most `limit`.
    public static func files(in folder: URL, limit: Int) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { ["jpg", "jpeg"].contains($0.pathExtension.lowercased()) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .prefix(limit).map { $0 }
    }

    /// Times each way over `files` (bytes read into memory first, so the disk is not measured), `repetitions`
    /// passes, on the calling thread; each figure is the median over files of the per-file minimum over passes.
    public static func run(files: [URL], target: Int, repetitions: Int = 3) throws -> Result {
        precondition(target > 0 && repetitions > 0, "JPEGDecodeBenchmark: target and repetitions must be positive")
        let data = try files.map { [UInt8](try Data(contentsOf: $0)) }
        let clock = ContinuousClock()
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15 }
        var full = [Double](repeating: .infinity, count: data.count)
        var reduced = full, fullResize = full
        var pixels = 0
        for pass in 0..<repetitions {
            for (i, bytes) in data.enumerated() {
                let name = files[i].path
                var image = Image(width: 0, height: 0)
                full[i] = min(full[i], ms(try clock.measure { image = try ImageFile.decode(data: bytes, name: name).image }))
                if pass == 0 { pixels += image.width * image.height }
                let (w, h) = letterbox(image.width, image.height, target)
                fullResize[i] = min(fullResize[i], ms(try clock.measure {
                    _ = try ImageFile.decode(data: bytes, name: name).image.resized(width: w, height: h)
                }))
                reduced[i] = min(reduced[i], ms(try clock.measure {
                    let d = try ImageFile.decode(data: bytes, name: name, options: DecodeOptions(minimumLongSide: target))
                    _ = d.image.resized(width: w, height: h)
                }))
            }
        }
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        return Result(images: data.count, megapixelsPerImage: data.isEmpty ? 0 : Double(pixels) / Double(data.count) / 1e6,
                      target: target, fullMilliseconds: median(full), reducedMilliseconds: median(reduced),
                      fullThenResizeMilliseconds: median(fullResize))
    }

    /// The letterbox content size: longer side `target`, the other `round(side · target / longer)`.
    static func letterbox(_ w: Int, _ h: Int, _ target: Int) -> (Int, Int) {
        let s = Double(target) / Double(max(w, h))
        return (max(1, Int((Double(w) * s).rounded())), max(1, Int((Double(h) * s).rounded())))
    }
}
