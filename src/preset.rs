//! Scene presets: JSON files (`presets/*.json`) that the CLI loads from disk and the plugin
//! carries built in. Loading happens on the main thread (never the audio thread); bad files
//! give a clear error and change nothing.

use crate::engine::Settings;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// The format tag every preset file carries.
pub const FORMAT: &str = "mood-noir-preset";
/// The newest preset version this build writes and reads.
pub const VERSION: u32 = 1;

/// A scene preset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    /// Always "mood-noir-preset".
    pub format: String,
    /// File format version (1).
    pub version: u32,
    /// Display name.
    pub name: String,
    /// One line for the composer browsing presets.
    #[serde(default)]
    pub description: String,
    /// The engine settings; fields left out keep their defaults.
    pub settings: Settings,
}

/// Why a preset could not be loaded.
#[derive(Debug)]
pub enum PresetError {
    /// The file could not be read.
    Io(std::io::Error),
    /// The text is not valid preset JSON (with line/column from serde).
    Json(serde_json::Error),
    /// Valid JSON, but not a Mood Noir preset or from a newer version.
    Format(String),
}

impl fmt::Display for PresetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PresetError::Io(e) => write!(f, "cannot read preset: {e}"),
            PresetError::Json(e) => write!(f, "preset is not valid JSON: {e}"),
            PresetError::Format(s) => write!(f, "not a usable Mood Noir preset: {s}"),
        }
    }
}

impl std::error::Error for PresetError {}

impl Preset {
    /// Parses preset JSON; values out of range are clamped, NaN-free by construction.
    pub fn from_json(text: &str) -> Result<Preset, PresetError> {
        let mut p: Preset = serde_json::from_str(text).map_err(PresetError::Json)?;
        if p.format != FORMAT {
            return Err(PresetError::Format(format!(
                "\"format\" is {:?}, expected {FORMAT:?}",
                p.format
            )));
        }
        if p.version == 0 || p.version > VERSION {
            return Err(PresetError::Format(format!(
                "version {} is not supported by this build (newest: {VERSION})",
                p.version
            )));
        }
        p.settings = p.settings.sanitized();
        Ok(p)
    }

    /// Reads and parses a preset file.
    pub fn load(path: &Path) -> Result<Preset, PresetError> {
        let text = std::fs::read_to_string(path).map_err(PresetError::Io)?;
        Self::from_json(&text)
    }

    /// Pretty JSON for saving.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("presets always serialize")
    }
}

/// The factory scenes built into the plugin and the CLI: (id, JSON).
pub const FACTORY: [(&str, &str); 8] = [
    (
        "rain-soaked-alley",
        include_str!("../presets/rain-soaked-alley.json"),
    ),
    ("smoky-office", include_str!("../presets/smoky-office.json")),
    ("neon-chase", include_str!("../presets/neon-chase.json")),
    (
        "dawn-confession",
        include_str!("../presets/dawn-confession.json"),
    ),
    (
        "interrogation",
        include_str!("../presets/interrogation.json"),
    ),
    ("blackout", include_str!("../presets/blackout.json")),
    ("stakeout", include_str!("../presets/stakeout.json")),
    (
        "after-hours-club",
        include_str!("../presets/after-hours-club.json"),
    ),
];

/// A factory preset by id (file stem), e.g. "neon-chase".
pub fn factory(id: &str) -> Option<Preset> {
    FACTORY
        .iter()
        .find(|(name, _)| *name == id)
        .map(|(_, json)| Preset::from_json(json).expect("factory presets are valid"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Quantize, TempoMode};

    #[test]
    fn every_factory_preset_parses_and_matches_its_file() {
        for (id, json) in FACTORY {
            let p = Preset::from_json(json).unwrap_or_else(|e| panic!("{id}: {e}"));
            let on_disk = Preset::load(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("presets/{id}.json")),
            )
            .unwrap();
            assert_eq!(p, on_disk);
            assert!(!p.name.is_empty() && !p.description.is_empty());
        }
    }

    #[test]
    fn factory_scenes_are_distinct() {
        let chase = factory("neon-chase").unwrap().settings;
        let alley = factory("rain-soaked-alley").unwrap().settings;
        assert_eq!(chase.quantize, Quantize::Beat);
        assert_eq!(alley.tempo_mode, TempoMode::Mood);
        assert!(chase.mood.arousal - alley.mood.arousal > 0.5);
    }

    #[test]
    fn broken_json_is_a_clear_error() {
        let e = Preset::from_json("{ \"format\": ").unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        let e = Preset::from_json(r#"{"format":"x","version":1,"name":"a","settings":{}}"#)
            .unwrap_err();
        assert!(e.to_string().contains("format"), "{e}");
        let e = Preset::from_json(
            r#"{"format":"mood-noir-preset","version":99,"name":"a","settings":{}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("version 99"), "{e}");
    }

    #[test]
    fn absurd_values_are_clamped_and_missing_ones_default() {
        let p = Preset::from_json(
            r#"{"format":"mood-noir-preset","version":1,"name":"x",
                "settings":{"mood":{"valence":-9,"arousal":1e9},"swing":-3,"reverb":2}}"#,
        )
        .unwrap();
        assert_eq!(p.settings.mood.valence, -1.0);
        assert_eq!(p.settings.mood.arousal, 1.0);
        assert_eq!(p.settings.mood.tension, crate::mood::Mood::NEUTRAL.tension);
        assert_eq!(p.settings.swing, 0.0);
        assert_eq!(p.settings.reverb, 1.0);
        assert_eq!(p.settings.seed, Settings::default().seed);
    }
}
