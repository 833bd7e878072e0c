//! The generator of kcore's random-operation model tests: xorshift64, seeded, no dependencies,
//! so that a failing seed can be rerun exactly.

pub struct Rng(u64);

impl Rng {
    /// The generator for `seed`. The state is never 0 (xorshift would stay there), seed 0 included.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
