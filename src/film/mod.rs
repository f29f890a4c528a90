//! The film in: a screenplay (`fountain`, `script_mood`, `script`), a reference still
//! (`look`) or a clip (`clip`, through ffmpeg) becomes a cue sheet (`sheet`) the engine plays,
//! and a cue sheet's mood becomes a picture (`plot`). Everything here runs on the main thread
//! (the CLI, or the editor loading a file); nothing touches the audio thread.

pub mod clip;
pub mod fountain;
pub mod look;
pub mod plot;
pub mod script;
pub mod script_mood;
pub mod sheet;
