import Seeding
import XCTest

/// Pins the outputs of the package's seeded generators, so that synthetic scenes, augmentation, batch order and
/// weight initialisation stay bit-identical. The values were taken from the generators as they stood before
/// SplitMix64 (Steele, Lea & Flood 2014) and xoshiro256** (Blackman & Vigna 2018) moved into this module; Double
/// and Float samples are compared by bit pattern.
final class SeedingSequenceTests: XCTestCase {
    /// SplitMix64 for seed 1234567, the widely published reference sequence of the algorithm.
    func testSplitMix64ReferenceSequence() {
        var g = SplitMix64(seed: 1_234_567)
        XCTAssertEqual((0..<5).map { _ in g.next() },
                       [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                        4_593_380_528_125_082_431, 16_408_922_859_458_223_821])
    }

    /// The first four 64-bit outputs of SplitMix64 for seeds 0, 42 and 0xDEADBEEF.
    func testSplitMix64Outputs() {
        let expected: [UInt64: [UInt64]] = [
            0: [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC],
            42: [0xBDD7_3226_2FEB_6E95, 0x28EF_E333_B266_F103, 0x4752_6757_130F_9F52, 0x581C_E1FF_0E4A_E394],
            0xDEAD_BEEF: [0x4ADF_B90F_68C9_EB9B, 0xDE58_6A31_41A1_0922, 0x021F_BC2F_8E1C_FC1D, 0x7466_CE73_7BE1_6790],
        ]
        assertFirstOutputs(of: SplitMix64.init(seed:), expected)
    }

    /// `unit()` then `normal()` from one stream, as bit patterns.
    func testSplitMix64UnitAndNormal() {
        let expected: [UInt64: (unit: [UInt64], normal: [UInt64])] = [
            0: ([0x3FEC_4415_072F_63B9, 0x3FDB_9E27_9AA8_6E58, 0x3F9B_1174_6200_2500],
                [0x3FC8_6CEC_AD29_9CFF, 0x3FE6_03B8_EB7E_A964]),
            42: ([0x3FE7_BAE6_44C5_FD6D, 0x3FC4_77F1_99D9_3378, 0x3FD1_D499_D5C4_C3E6],
                 [0x3FF6_B450_8469_EE03, 0x3FBA_D6C9_FFC2_C253]),
        ]
        for (seed, values) in expected {
            var g = SplitMix64(seed: seed)
            XCTAssertEqual((0..<3).map { _ in g.unit().bitPattern }, values.unit, "unit, seed \(seed)")
            XCTAssertEqual((0..<2).map { _ in g.normal().bitPattern }, values.normal, "normal, seed \(seed)")
        }
    }

    /// `permutation(8)`, then `int(-3...5)`, `uniform(2...7)` and `chance(0.5)` from one stream.
    func testSplitMix64PermutationAndHelpers() {
        var g = SplitMix64(seed: 0)
        XCTAssertEqual(g.permutation(8), [2, 5, 0, 3, 4, 6, 1, 7])
        XCTAssertEqual((0..<4).map { _ in g.int(-3...5) }, [5, 5, -1, -2])
        XCTAssertEqual(g.uniform(2...7).bitPattern, 0x4017_387F_0980_6B2D)
        XCTAssertEqual((0..<6).map { _ in g.chance(0.5) }, [false, false, false, false, true, false])

        var h = SplitMix64(seed: 42)
        XCTAssertEqual(h.permutation(8), [3, 1, 6, 2, 4, 0, 7, 5])
        var short = SplitMix64(seed: 3)
        XCTAssertEqual(short.permutation(1), [0])
        XCTAssertEqual(short.permutation(0), [])
        XCTAssertEqual(short.state, 3, "permutations of fewer than two elements draw nothing")
    }

    /// The seed-mixing initialiser and the output mixer.
    func testSplitMix64Mixing() {
        var g = SplitMix64(mixing: 1, 2, 3)
        XCTAssertEqual(g.state, 0xAF85_7A00_7308_AD61)
        XCTAssertEqual(g.next(), 0x4FAC_A477_98E6_9561)
        XCTAssertEqual(SplitMix64.mix(0), 0)
        XCTAssertEqual(SplitMix64.mix(1), 0x5692_161D_100B_05E5)
    }

    /// The first four 64-bit outputs of xoshiro256** seeded through SplitMix64, for seeds 0, 42 and 0xDEADBEEF.
    func testXoshiroOutputs() {
        let expected: [UInt64: [UInt64]] = [
            0: [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0, 0x6AA5_94F1_262D_2D2C],
            42: [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1, 0xECB8_AD47_03B3_60A1],
            0xDEAD_BEEF: [0xC555_5444_A74D_7E83, 0x65C3_0D37_B4B1_6E38, 0x54F7_7320_0A4E_FA23, 0x429A_ED75_FB95_8AF7],
        ]
        assertFirstOutputs(of: SeededGenerator.init(seed:), expected)
    }

    /// `nextUniform()` then `nextNormal()` of xoshiro256** from one stream, as Float bit patterns.
    func testXoshiroUniformAndNormal() {
        let expected: [UInt64: (uniform: [UInt32], normal: [UInt32])] = [
            0: ([1_058_663_519, 1_061_121_567, 1_037_237_280], [3_188_752_345, 3_164_749_604, 1_060_113_914]),
            42: ([1_034_666_072, 1_052_903_858, 1_059_985_235], [1_053_447_643, 3_188_602_077, 1_025_949_336]),
            0xDEAD_BEEF: ([1_061_508_436, 1_053_525_530, 1_051_324_134], [1_070_628_826, 1_064_419_807, 1_067_396_877]),
        ]
        for (seed, values) in expected {
            var g = SeededGenerator(seed: seed)
            XCTAssertEqual((0..<3).map { _ in g.nextUniform().bitPattern }, values.uniform, "uniform, seed \(seed)")
            XCTAssertEqual((0..<3).map { _ in g.nextNormal().bitPattern }, values.normal, "normal, seed \(seed)")
        }
    }

    /// `split(stream:)` gives the pinned sub-stream and advances its parent by exactly one step.
    func testXoshiroSplit() {
        let expected: [UInt64: (child: UInt64, parent: UInt64)] = [
            0: (0x86CF_D173_5952_0BB5, 0xBF6E_1F78_4956_452A),
            42: (0xE4D3_657B_FEED_17D8, 0x6104_D986_6D11_3A7E),
        ]
        for (seed, values) in expected {
            var g = SeededGenerator(seed: seed)
            var child = g.split(stream: 3)
            XCTAssertEqual(child.next(), values.child, "child, seed \(seed)")
            XCTAssertEqual(g.next(), values.parent, "parent, seed \(seed)")
        }
    }

    /// Asserts that the generator `make(seed)` starts with `expected[seed]`, for every seed of `expected`.
    private func assertFirstOutputs<G: RandomNumberGenerator>(
        of make: (UInt64) -> G, _ expected: [UInt64: [UInt64]], file: StaticString = #filePath, line: UInt = #line
    ) {
        for (seed, values) in expected {
            var g = make(seed)
            XCTAssertEqual(values.map { _ in g.next() }, values, "seed \(seed)", file: file, line: line)
        }
    }
}
