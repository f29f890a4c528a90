//! Small shared DSP building blocks (random numbers, one-pole smoothers, safety helpers).
//! Pure functions and `Copy` state: used on the audio thread, never allocate.

pub mod grain;
pub mod limiter;
pub mod rng;
pub mod room;
pub mod simd;
pub mod util;

pub use rng::Rng;

/// The largest block any engine unit renders at once; callers split longer blocks.
pub const MAX_BLOCK: usize = 64;
