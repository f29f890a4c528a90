//! Seeded pseudo-random numbers (SplitMix64 seeding a xorshift64*), owned by whoever needs
//! randomness so that a render is deterministic. Audio thread safe: plain `Copy` state.

/// A small, fast, deterministic PRNG. `Rng::new(seed)` always yields the same stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rng {
    /// xorshift64* state; never zero.
    state: u64,
}

/// SplitMix64 finaliser: turns any 64-bit value into a well-mixed one.
pub const fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose stream depends only on `seed`.
    pub const fn new(seed: u64) -> Self {
        let s = mix64(seed);
        Self {
            state: if s == 0 { 0x2545_F491_4F6C_DD1D } else { s },
        }
    }

    /// A generator for a named stream of a seed (e.g. seed, bar number, instrument id).
    pub const fn from_parts(seed: u64, a: u64, b: u64) -> Self {
        Self::new(mix64(seed ^ mix64(a ^ mix64(b))))
    }

    /// Next raw 64-bit value.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    #[inline]
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// Uniform in [-1, 1).
    #[inline]
    pub fn bipolar(&mut self) -> f32 {
        self.f32() * 2.0 - 1.0
    }

    /// Uniform in [lo, hi).
    #[inline]
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f32()
    }

    /// Uniform integer in 0..n (n > 0).
    #[inline]
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f32) -> bool {
        self.f32() < p
    }

    /// Roughly Gaussian (sum of three uniforms), mean 0, standard deviation about `sd`.
    #[inline]
    pub fn gauss(&mut self, sd: f32) -> f32 {
        (self.bipolar() + self.bipolar() + self.bipolar()) * sd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn ranges_hold_and_mean_is_centred() {
        let mut r = Rng::new(1);
        let mut sum = 0.0f64;
        for _ in 0..100_000 {
            let x = r.f32();
            assert!((0.0..1.0).contains(&x));
            sum += x as f64;
            assert!(r.below(5) < 5);
        }
        // Mean of U(0,1) is 0.5; 100k samples give a standard error of about 0.001.
        assert!((sum / 100_000.0 - 0.5).abs() < 0.01);
    }

    #[test]
    fn streams_differ_by_part() {
        let a = Rng::from_parts(1, 2, 3).next_u64();
        let b = Rng::from_parts(1, 2, 4).next_u64();
        assert_ne!(a, b);
    }
}
