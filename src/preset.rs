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

/// A scene preset. Unknown or misspelled fields are refused (with their name and line), so a
/// typo never silently plays the defaults; fields left out keep their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Always "mood-noir-preset".
    pub format: String,
    /// File format version (1).
    pub version: u32,
    /// Display name (a file without one is named after the file).
    #[serde(default)]
    pub name: String,
    /// One line for the composer browsing presets.
    #[serde(default)]
    pub description: String,
    /// The engine settings; fields left out keep their defaults.
    #[serde(default)]
    pub settings: Settings,
}

/// Why a preset could not be loaded.
#[derive(Debug)]
pub enum PresetError {
    /// The file could not be read.
    Io(std::io::Error),
    /// The text is not valid JSON (with line/column from serde).
    Json(serde_json::Error),
    /// Valid JSON with a field that is unknown, misspelled, missing or of the wrong type
    /// (serde names the field, line and column).
    Field(serde_json::Error),
    /// Valid JSON, but not a Mood Noir preset or from a newer version.
    Format(String),
}

impl fmt::Display for PresetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PresetError::Io(e) => write!(f, "cannot read preset: {e}"),
            PresetError::Json(e) => write!(f, "preset is not valid JSON: {e}"),
            PresetError::Field(e) => write!(f, "preset field error: {e}"),
            PresetError::Format(s) => write!(f, "not a usable Mood Noir preset: {s}"),
        }
    }
}

impl std::error::Error for PresetError {}

impl Preset {
    /// Parses preset JSON; values out of range are clamped, NaN-free by construction.
    pub fn from_json(text: &str) -> Result<Preset, PresetError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut p: Preset = serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => PresetError::Field(e),
            _ => PresetError::Json(e),
        })?;
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
        let mut p = Self::from_json(&text)?;
        if p.name.trim().is_empty() {
            p.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        Ok(p)
    }

    /// Pretty JSON for saving.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("presets always serialize")
    }
}

/// The factory scenes built into the plugin and the CLI: (id, JSON).
pub const FACTORY: [(&str, &str); 16] = [
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
    ("stalled-lift", include_str!("../presets/stalled-lift.json")),
    (
        "wet-boulevard",
        include_str!("../presets/wet-boulevard.json"),
    ),
    (
        "border-crossing",
        include_str!("../presets/border-crossing.json"),
    ),
    ("cantina-heat", include_str!("../presets/cantina-heat.json")),
    (
        "dry-reservoir",
        include_str!("../presets/dry-reservoir.json"),
    ),
    ("orange-grove", include_str!("../presets/orange-grove.json")),
    ("cab-at-night", include_str!("../presets/cab-at-night.json")),
    ("mirror-talk", include_str!("../presets/mirror-talk.json")),
];

/// The user's preset folder: `$MOOD_NOIR_PRESETS` if set, else the platform's data folder
/// (`$XDG_DATA_HOME/mood-noir/presets`, `~/.local/share/mood-noir/presets` on Linux;
/// `~/Library/Application Support/Mood Noir/Presets` on macOS; `%APPDATA%\Mood Noir\Presets` on
/// Windows). Hosts find its `.json` presets through CLAP preset discovery; the CLI finds them
/// by name. It may not exist.
pub fn user_dir() -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = env("MOOD_NOIR_PRESETS") {
        return Some(p);
    }
    if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support/Mood Noir/Presets"))
    } else if cfg!(windows) {
        env("APPDATA").map(|a| a.join("Mood Noir").join("Presets"))
    } else {
        env("XDG_DATA_HOME")
            .or_else(|| env("HOME").map(|h| h.join(".local/share")))
            .map(|d| d.join("mood-noir").join("presets"))
    }
}

/// Where the factory scenes are written as files for hosts' preset browsers (CLAP preset
/// discovery lists single-preset files most portably): `$MOOD_NOIR_FACTORY_PRESETS` if set,
/// else `factory-presets` beside the user folder's parent (e.g.
/// `~/.local/share/mood-noir/factory-presets`).
pub fn factory_dir() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("MOOD_NOIR_FACTORY_PRESETS").filter(|v| !v.is_empty()) {
        return Some(p.into());
    }
    if std::env::var_os("MOOD_NOIR_PRESETS").is_some() {
        // A test or a custom setup moved the user folder: keep the factory files beside it.
        return user_dir().map(|u| u.with_file_name("factory-presets"));
    }
    user_dir().and_then(|u| u.parent().map(|p| p.join("factory-presets")))
}

/// Writes the factory scenes into `factory_dir()` (each `<id>.json`, rewritten only when its
/// text differs) and returns the folder, or `None` if it cannot be written.
pub fn materialize_factory() -> Option<std::path::PathBuf> {
    let dir = factory_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    for (id, json) in FACTORY {
        let f = dir.join(format!("{id}.json"));
        if std::fs::read_to_string(&f).ok().as_deref() != Some(json) {
            std::fs::write(&f, json).ok()?;
        }
    }
    Some(dir)
}

/// The factory scene a file in `factory_dir()` stands for, if it is one.
pub fn factory_id_of(path: &std::path::Path) -> Option<&'static str> {
    let dir = factory_dir()?.canonicalize().ok()?;
    let parent = path.parent()?.canonicalize().ok()?;
    if parent != dir {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    FACTORY.iter().map(|(id, _)| *id).find(|id| *id == stem)
}

/// The user's presets (file path and preset), sorted by file name; unreadable files are
/// returned as errors so a browser can say which and why.
pub fn user_presets() -> Vec<(std::path::PathBuf, Result<Preset, PresetError>)> {
    let Some(dir) = user_dir() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let r = Preset::load(&p);
            (p, r)
        })
        .collect()
}

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

    #[test]
    fn unknown_or_misspelled_fields_are_refused_with_their_name_and_line() {
        for (json, field) in [
            (
                "{\"format\":\"mood-noir-preset\",\"version\":1,\"name\":\"x\",\n\"settings\":{\n\"mood\":{\"valance\":0.5}}}",
                "valance",
            ),
            (
                "{\"format\":\"mood-noir-preset\",\"version\":1,\"name\":\"x\",\n\"settings\":{\"tempo\":90}}",
                "tempo",
            ),
            (
                "{\"format\":\"mood-noir-preset\",\"version\":1,\"nmae\":\"x\"}",
                "nmae",
            ),
            (
                "{\"format\":\"mood-noir-preset\",\"version\":1,\"settings\":{\"levels\":{\"bas_db\":1}}}",
                "bas_db",
            ),
        ] {
            let e = Preset::from_json(json).unwrap_err().to_string();
            assert!(e.contains("field") && e.contains(field), "{e}");
            assert!(e.contains("line"), "{e}");
            assert!(!e.contains("not valid JSON"), "{e}");
        }
    }

    #[test]
    fn name_and_settings_may_be_left_out_and_a_bom_is_fine() {
        let p =
            Preset::from_json("\u{feff}{\"format\":\"mood-noir-preset\",\"version\":1}").unwrap();
        assert_eq!(p.settings, Settings::default());
        assert_eq!(p.name, "");
        let dir = std::env::temp_dir().join(format!("mood-noir-preset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("late-train.json");
        std::fs::write(
            &f,
            r#"{"format":"mood-noir-preset","version":1,"settings":{"swing":0.2}}"#,
        )
        .unwrap();
        let p = Preset::load(&f).unwrap();
        assert_eq!(p.name, "late-train");
        assert_eq!(p.settings.swing, 0.2);
    }
}
