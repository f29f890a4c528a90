//! Mood Noir: scores a scene from its light. The engine (mood, composer, voices, mixer) is
//! plain Rust in `engine`; `plugin` is the thin nice-plug wrapper exported as CLAP and VST3.

// DSP loops index several parallel arrays by one counter; iterator chains would hide that.
#![allow(clippy::needless_range_loop)]

pub mod analysis;
pub mod cli;
pub mod composer;
pub mod dsp;
pub mod editor;
pub mod engine;
pub mod film;
pub mod light;
pub mod midi;
pub mod mood;
pub mod plugin;
pub mod preset;
pub mod voices;
pub mod watched;

pub use plugin::MoodNoir;

// The CLAP entry (`clap_entry`) is `plugin::clap_entry`: nice-plug's plugin plus preset discovery.
pub use plugin::clap_entry::clap_entry;
nice_plug::nice_export_vst3!(MoodNoir);
