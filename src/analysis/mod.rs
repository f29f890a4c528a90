//! Measuring rendered audio the way we compare the band with its General MIDI rendering:
//! onsets, attack and decay per note, loudness and spectral centroid (`dynamics`). Offline,
//! main thread only (the `measure` CLI command, `scripts/compare-gm.sh`, tests); allocates.

pub mod dynamics;

pub use dynamics::{measure, Dynamics};
