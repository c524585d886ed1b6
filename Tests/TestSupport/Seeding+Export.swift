// Random test inputs draw from `Seeding.SplitMix64` (Steele, Lea & Flood 2014), the package's one seeded
// generator code path; re-exported so every test target that imports TestSupport can use it.
@_exported import Seeding
