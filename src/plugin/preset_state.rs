//! Presets as plugin state: what loading a factory scene or a user preset file from a host's
//! preset browser (CLAP preset discovery and `preset-load`) sets. Main thread; builds a partial
//! `PluginState` that nice-plug applies like a loaded session (parameters only, the OSC and cue
//! settings stay).

use crate::engine::settings::SILENT_DB;
use crate::engine::{KeysVoice, MoodSource, Quantize, Settings, StingerTiming, TempoMode};
use crate::preset::{self, Preset};
use nice_plug::plugin::ParamValue;
use nice_plug::prelude::PluginState;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a preset comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum PresetRef {
    /// A factory scene, by id (`rain-soaked-alley`).
    Factory(String),
    /// A user preset file.
    File(PathBuf),
}

/// The parameter values that play `settings` as the knobs (scene Custom).
fn knob_params(s: &Settings) -> BTreeMap<String, ParamValue> {
    let s = s.sanitized();
    let mut p = BTreeMap::new();
    let mut f = |id: &str, v: f32| {
        p.insert(id.to_string(), ParamValue::F32(v));
    };
    f("valence", s.mood.valence);
    f("arousal", s.mood.arousal);
    f("tension", s.mood.tension);
    f("follow", s.follow);
    f("tempo", s.fixed_tempo_bpm);
    f("swing", s.swing);
    f("reverb", s.reverb);
    f("stinger_cooldown", s.stinger_cooldown_s);
    let lv = |db: f32| if db <= SILENT_DB { -60.0 } else { db };
    let l = s.levels;
    for (id, db) in [
        ("lvl_bass", l.bass_db),
        ("lvl_drums", l.drums_db),
        ("lvl_keys", l.keys_db),
        ("lvl_lead", l.lead_db),
        ("lvl_pad", l.pad_db),
        ("lvl_amb", l.ambience_db),
    ] {
        f(id, lv(db));
    }
    f("master", lv(s.master_db));
    let mut e = |id: &str, v: &str| {
        p.insert(id.to_string(), ParamValue::String(v.to_string()));
    };
    e(
        "source",
        match s.source {
            MoodSource::Manual => "manual",
            MoodSource::Light => "light",
            MoodSource::Sidechain => "sidechain",
        },
    );
    e(
        "tempo_mode",
        match s.tempo_mode {
            TempoMode::Host => "host",
            TempoMode::Mood => "mood",
            TempoMode::Fixed => "fixed",
            TempoMode::Light => "light",
        },
    );
    e(
        "quantize",
        match s.quantize {
            Quantize::Beat => "beat",
            Quantize::Bar => "bar",
            Quantize::TwoBars => "2bars",
            Quantize::FourBars => "4bars",
        },
    );
    e(
        "stinger_timing",
        match s.stinger {
            StingerTiming::NextBeat => "next-beat",
            StingerTiming::Immediate => "immediate",
        },
    );
    e(
        "keys_voice",
        match s.keys {
            KeysVoice::Auto => "auto",
            KeysVoice::Rhodes => "rhodes",
            KeysVoice::Piano => "piano",
        },
    );
    e("style", s.style.id());
    e("scene", "custom");
    // Silent parts in a preset are muted (the faders stop at -60 dB).
    let mute = [
        ("mute_bass", l.bass_db),
        ("mute_drums", l.drums_db),
        ("mute_keys", l.keys_db),
        ("mute_lead", l.lead_db),
        ("mute_pad", l.pad_db),
        ("mute_amb", l.ambience_db),
    ];
    for (id, db) in mute {
        p.insert(id.to_string(), ParamValue::Bool(db <= SILENT_DB));
    }
    p.insert("seed".into(), ParamValue::I32(s.seed as i32));
    p
}

/// The partial state that loads `preset`: a factory scene selects the Scene parameter and puts
/// the knobs it governs at their defaults (so the scene plays exactly); a user file sets the
/// knobs to its settings with the Scene at Custom. Source, tempo mode, seed and master are the
/// user's for a factory scene (a DAW session keeps following its host).
pub fn state_for(preset: &PresetRef) -> Result<PluginState, String> {
    let params = match preset {
        PresetRef::Factory(id) => {
            if preset::factory(id).is_none() {
                return Err(format!("no factory scene {id:?}"));
            }
            let d = Settings::default();
            let mut p = knob_params(&d);
            for keep in [
                "source",
                "follow",
                "tempo_mode",
                "tempo",
                "seed",
                "master",
                "stinger_timing",
                "stinger_cooldown",
            ] {
                p.remove(keep);
            }
            p.insert("scene".into(), ParamValue::String(id.clone()));
            p
        }
        PresetRef::File(path) => {
            let pr = Preset::load(path).map_err(|e| format!("{}: {e}", path.display()))?;
            knob_params(&pr.settings)
        }
    };
    Ok(PluginState {
        version: String::new(),
        params,
        fields: BTreeMap::new(),
    })
}

/// The user's preset folder, if it exists (see `preset::user_dir`).
pub fn user_folder() -> Option<PathBuf> {
    preset::user_dir().filter(|d| d.is_dir())
}

/// Whether `path` is a preset file the plugin can load (by name; the content is checked when
/// it is read).
pub fn is_preset_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::params::MoodNoirParams;
    use nice_plug::prelude::Params;

    #[test]
    fn every_param_a_preset_sets_exists_with_a_valid_value() {
        let params = MoodNoirParams::default();
        let ids: std::collections::HashMap<String, _> = params
            .param_map()
            .into_iter()
            .map(|(id, ptr, _)| (id, ptr))
            .collect();
        let mut states = vec![state_for(&PresetRef::Factory("neon-chase".into())).unwrap()];
        let dir = std::env::temp_dir().join(format!("mood-noir-ps-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("mine.json");
        std::fs::write(
            &f,
            r#"{"format":"mood-noir-preset","version":1,"settings":{"quantize":"two-bars",
               "levels":{"pad_db":-80},"tempo_mode":"fixed","fixed_tempo_bpm":88}}"#,
        )
        .unwrap();
        states.push(state_for(&PresetRef::File(f)).unwrap());
        for st in &states {
            for (id, v) in &st.params {
                let ptr = ids.get(id).unwrap_or_else(|| panic!("no parameter {id}"));
                if let ParamValue::String(s) = v {
                    use nice_plug::prelude::ParamPtr;
                    if let ParamPtr::EnumParam(e) = ptr {
                        assert!(unsafe { (**e).set_from_id(s) }, "{id} has no variant {s:?}");
                    } else {
                        panic!("{id} is not an enum");
                    }
                }
            }
        }
        assert!(matches!(&states[1].params["quantize"], ParamValue::String(s) if s == "2bars"));
        assert!(matches!(
            states[1].params["mute_pad"],
            ParamValue::Bool(true)
        ));
        assert!(matches!(states[1].params["tempo"], ParamValue::F32(t) if t == 88.0));
        assert!(state_for(&PresetRef::Factory("nope".into())).is_err());
    }
}
