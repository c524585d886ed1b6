// Weight initialisation draws from `Seeding.SeededGenerator` (xoshiro256**, Blackman & Vigna 2018); every
// layer initialiser takes one, so this module re-exports it.
@_exported import Seeding
