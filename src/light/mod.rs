//! Light in: everything that turns a scene's light into a mood. OSC from lighting tools
//! (`osc`, `dmx`), cue sheets (`cues`), the sidechain (`sidechain`), the light → mood table
//! (`mapping`), the audio thread's light state (`model`), the plumbing between one plugin
//! instance's network and audio threads (`link`) and what the editor shows (`monitor`).
//! Each file says which thread runs it. The contract with lighting tools is
//! `shared/osc.md`; additions are listed in the README.

pub mod cues;
pub mod dmx;
pub mod event;
pub mod feedback;
pub mod link;
pub mod mapping;
pub mod model;
pub mod monitor;
pub mod osc;
pub mod sidechain;

pub use cues::{CueError, CueFormat, CueSheet, CueSource, TimeBase};
pub use event::{CueRef, LightEvent, MoodAxis, Palette};
pub use feedback::{FeedbackConfig, FeedbackSender};
pub use link::LightLink;
pub use mapping::{LightLook, MappingTable};
pub use model::{LightModel, LightSettings};
pub use monitor::{Monitor, MonitorSnapshot};
pub use osc::{OscConfig, OscServer};
pub use sidechain::SidechainMode;
