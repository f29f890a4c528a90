//! The band: physical / spectral instrument models of a small noir-jazz combo.
//!
//! Every instrument follows the same real-time contract: `new(sample_rate)` allocates
//! everything, `reset()` clears state and restores the instrument's seeded RNG, event methods
//! take effect at the start of the next `render`, and `render(l, r)` ADDS at most
//! [`crate::dsp::MAX_BLOCK`] samples without allocating, locking or doing I/O. Output is
//! finite, free of subnormals and DC, deterministic and independent of block sizes.

pub mod bass;
pub mod drums;
pub mod keys;
pub(crate) mod common;

pub use bass::UprightBass;
pub use drums::{DrumHit, Drums};
pub use keys::Keys;
