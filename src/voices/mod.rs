//! The band: physical / spectral instrument models of a small noir-jazz combo.
//!
//! Every instrument follows the same real-time contract: `new(sample_rate)` allocates
//! everything, `reset()` clears state and restores the instrument's seeded RNG, event methods
//! take effect at the start of the next `render`, and `render(l, r)` ADDS at most
//! [`crate::dsp::MAX_BLOCK`] samples without allocating, locking or doing I/O. Output is
//! finite, free of subnormals and DC, deterministic and independent of block sizes.

pub mod ambience;
pub mod bass;
pub(crate) mod common;
pub mod drums;
pub mod keys;
pub mod lead;
pub mod pad;
pub mod percussion;
pub mod piano;

pub use ambience::Ambience;
pub use bass::UprightBass;
pub use drums::{DrumHit, Drums};
pub use keys::Keys;
pub use lead::Lead;
pub use pad::Pad;
pub use percussion::{PercHit, Percussion};
pub use piano::Piano;
