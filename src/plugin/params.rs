//! The plugin's parameters: ids are stable forever once shipped (hosts store automation and
//! sessions by them). Values are read with atomics on the audio thread.

use crate::engine::{
    KeysVoice, Levels, MoodSource, Quantize, Settings, StingerTiming, StyleId, StylePick, TempoMode,
};
use crate::mood::Mood;
use crate::plugin::ui_state::EditorSize;
use nice_plug::prelude::*;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

/// Current version of the plugin state layout (persisted; see `MoodNoir::filter_state`).
pub const STATE_VERSION: u32 = 1;

/// Mood source choices (host-visible names).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceChoice {
    #[id = "manual"]
    Manual,
    #[id = "light"]
    Light,
    #[id = "sidechain"]
    Sidechain,
}

/// Tempo mode choices.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempoChoice {
    #[id = "host"]
    Host,
    #[id = "mood"]
    #[name = "Mood-driven"]
    Mood,
    #[id = "fixed"]
    Fixed,
    #[id = "light"]
    Light,
}

/// Transition quantize choices.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantizeChoice {
    #[id = "beat"]
    Beat,
    #[id = "bar"]
    Bar,
    #[id = "2bars"]
    #[name = "2 bars"]
    TwoBars,
    #[id = "4bars"]
    #[name = "4 bars"]
    FourBars,
}

/// When a lighting hit's stinger plays.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StingerChoice {
    #[id = "next-beat"]
    #[name = "Next beat"]
    NextBeat,
    #[id = "immediate"]
    Immediate,
}

/// Which keyboard the keys player plays.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysChoice {
    #[id = "auto"]
    Auto,
    #[id = "rhodes"]
    Rhodes,
    #[id = "piano"]
    Piano,
}

/// The score style (ids stable forever; new styles are added at the end). The ids are the
/// engine's (`StylePick::id`).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StyleChoice {
    #[id = "combo"]
    Combo,
    #[id = "elevator"]
    Elevator,
    #[id = "border-town"]
    #[name = "Border town"]
    BorderTown,
    #[id = "reservoir"]
    Reservoir,
    #[id = "night-cab"]
    #[name = "Night cab"]
    NightCab,
    /// The mood picks the style at each phrase.
    #[id = "auto"]
    Auto,
}

impl StyleChoice {
    /// The engine's style pick.
    pub fn style(self) -> StylePick {
        match self {
            StyleChoice::Combo => StyleId::Combo.into(),
            StyleChoice::Elevator => StyleId::Elevator.into(),
            StyleChoice::BorderTown => StyleId::BorderTown.into(),
            StyleChoice::Reservoir => StyleId::Reservoir.into(),
            StyleChoice::NightCab => StyleId::NightCab.into(),
            StyleChoice::Auto => StylePick::Auto,
        }
    }
}

/// Factory scenes. "Custom" uses the knobs; any other scene's mood, feel and mix replace them.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SceneChoice {
    #[id = "custom"]
    Custom,
    #[id = "rain-soaked-alley"]
    #[name = "Rain-soaked alley"]
    RainSoakedAlley,
    #[id = "smoky-office"]
    #[name = "Smoky office"]
    SmokyOffice,
    #[id = "neon-chase"]
    #[name = "Neon chase"]
    NeonChase,
    #[id = "dawn-confession"]
    #[name = "Dawn confession"]
    DawnConfession,
    #[id = "interrogation"]
    Interrogation,
    #[id = "blackout"]
    Blackout,
    #[id = "stakeout"]
    Stakeout,
    #[id = "after-hours-club"]
    #[name = "After-hours club"]
    AfterHoursClub,
    #[id = "stalled-lift"]
    #[name = "Stalled lift"]
    StalledLift,
    #[id = "wet-boulevard"]
    #[name = "Wet boulevard"]
    WetBoulevard,
    #[id = "border-crossing"]
    #[name = "Border crossing"]
    BorderCrossing,
    #[id = "cantina-heat"]
    #[name = "Cantina heat"]
    CantinaHeat,
    #[id = "dry-reservoir"]
    #[name = "Dry reservoir"]
    DryReservoir,
    #[id = "orange-grove"]
    #[name = "Orange grove"]
    OrangeGrove,
    #[id = "cab-at-night"]
    #[name = "Cab at night"]
    CabAtNight,
    #[id = "mirror-talk"]
    #[name = "Mirror talk"]
    MirrorTalk,
}

impl SceneChoice {
    /// The factory preset id, if not Custom: the variant's stable id is the preset's id.
    pub fn preset_id(self) -> Option<&'static str> {
        (self != SceneChoice::Custom)
            .then(|| Self::ids().map(|ids| ids[self.to_index()]))
            .flatten()
    }
}

/// Mood group.
#[derive(Params)]
pub struct MoodParams {
    #[id = "valence"]
    pub valence: FloatParam,
    #[id = "arousal"]
    pub arousal: FloatParam,
    #[id = "tension"]
    pub tension: FloatParam,
}

/// Source group.
#[derive(Params)]
pub struct SourceParams {
    #[id = "source"]
    pub source: EnumParam<SourceChoice>,
    #[id = "follow"]
    pub follow: FloatParam,
}

/// Music group.
#[derive(Params)]
pub struct MusicParams {
    #[id = "scene"]
    pub scene: EnumParam<SceneChoice>,
    #[id = "tempo_mode"]
    pub tempo_mode: EnumParam<TempoChoice>,
    #[id = "tempo"]
    pub tempo: FloatParam,
    #[id = "swing"]
    pub swing: FloatParam,
    #[id = "seed"]
    pub seed: IntParam,
    #[id = "quantize"]
    pub quantize: EnumParam<QuantizeChoice>,
    #[id = "stinger_timing"]
    pub stinger: EnumParam<StingerChoice>,
    #[id = "keys_voice"]
    pub keys: EnumParam<KeysChoice>,
    #[id = "style"]
    pub style: EnumParam<StyleChoice>,
    /// Seconds after a stinger in which lighting hits fire none.
    #[id = "stinger_cooldown"]
    pub stinger_cooldown: FloatParam,
}

/// How the "Light sidechain" input is read.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScModeChoice {
    #[id = "analyze"]
    Analyze,
    #[id = "cv"]
    #[name = "CV"]
    Cv,
}

/// Light group: the light input's parameters, and its persisted OSC settings and cue sheet.
#[derive(Params)]
pub struct LightParams {
    /// Smoothing time constant of the light's mood, seconds.
    #[id = "light_smooth"]
    pub smooth: FloatParam,
    /// Analyze (spectral) or CV (DC levels) for the sidechain.
    #[id = "sc_mode"]
    pub sc_mode: EnumParam<ScModeChoice>,
    /// OSC port, interfaces, port-clash behaviour, remembered port, DMX fixture profile and
    /// user mappings (`crate::light::OscConfig`).
    #[persist = "osc-config"]
    pub osc: crate::watched::Watched<crate::light::OscConfig>,
    /// The loaded cue sheet: its path and full text, so the session plays on another machine.
    #[persist = "cue-sheet"]
    pub cues: crate::watched::Watched<Option<crate::light::CueSource>>,
}

impl LightParams {
    /// The light model's settings (atomics only: audio-thread safe).
    pub fn settings(&self) -> crate::light::LightSettings {
        crate::light::LightSettings {
            smooth_s: self.smooth.value(),
            sc_mode: match self.sc_mode.value() {
                ScModeChoice::Analyze => crate::light::SidechainMode::Analyze,
                ScModeChoice::Cv => crate::light::SidechainMode::Cv,
            },
        }
    }
}

/// Mix group.
#[derive(Params)]
pub struct MixParams {
    #[id = "lvl_bass"]
    pub bass: FloatParam,
    #[id = "lvl_drums"]
    pub drums: FloatParam,
    #[id = "lvl_keys"]
    pub keys: FloatParam,
    #[id = "lvl_lead"]
    pub lead: FloatParam,
    #[id = "lvl_pad"]
    pub pad: FloatParam,
    #[id = "lvl_amb"]
    pub ambience: FloatParam,
    #[id = "lvl_harp"]
    pub harp: FloatParam,
    #[id = "lvl_brass"]
    pub brass: FloatParam,
    #[id = "lvl_perc"]
    pub perc: FloatParam,
    #[id = "reverb"]
    pub reverb: FloatParam,
    #[id = "master"]
    pub master: FloatParam,
    /// Analog grain 0..1 (0 = off, the clean sound bit for bit).
    #[id = "grain"]
    pub grain: FloatParam,
    /// The weight of each kind of wear under the grain (editor detail).
    #[id = "grain_wow"]
    pub grain_wow: FloatParam,
    #[id = "grain_flutter"]
    pub grain_flutter: FloatParam,
    #[id = "grain_sat"]
    pub grain_sat: FloatParam,
    #[id = "grain_hiss"]
    pub grain_hiss: FloatParam,
    #[id = "grain_crackle"]
    pub grain_crackle: FloatParam,
    #[id = "grain_optical"]
    pub grain_optical: FloatParam,
    #[id = "grain_dropouts"]
    pub grain_dropouts: FloatParam,
}

impl MixParams {
    /// The grain detail weights the parameters hold.
    pub fn grain_detail(&self) -> crate::dsp::grain::GrainDetail {
        crate::dsp::grain::GrainDetail {
            wow: self.grain_wow.value(),
            flutter: self.grain_flutter.value(),
            saturation: self.grain_sat.value(),
            hiss: self.grain_hiss.value(),
            crackle: self.grain_crackle.value(),
            optical: self.grain_optical.value(),
            dropouts: self.grain_dropouts.value(),
        }
    }
}

/// Mute and solo per instrument (editor buttons; new ids, the `lvl_*` ids are untouched).
/// Muted, or not soloed while another instrument is, means the level drops to the mixer's
/// silence (-80 dB).
#[derive(Params)]
pub struct MuteSoloParams {
    #[id = "mute_bass"]
    pub mute_bass: BoolParam,
    #[id = "solo_bass"]
    pub solo_bass: BoolParam,
    #[id = "mute_drums"]
    pub mute_drums: BoolParam,
    #[id = "solo_drums"]
    pub solo_drums: BoolParam,
    #[id = "mute_keys"]
    pub mute_keys: BoolParam,
    #[id = "solo_keys"]
    pub solo_keys: BoolParam,
    #[id = "mute_lead"]
    pub mute_lead: BoolParam,
    #[id = "solo_lead"]
    pub solo_lead: BoolParam,
    #[id = "mute_pad"]
    pub mute_pad: BoolParam,
    #[id = "solo_pad"]
    pub solo_pad: BoolParam,
    #[id = "mute_amb"]
    pub mute_amb: BoolParam,
    #[id = "solo_amb"]
    pub solo_amb: BoolParam,
    #[id = "mute_harp"]
    pub mute_harp: BoolParam,
    #[id = "solo_harp"]
    pub solo_harp: BoolParam,
    #[id = "mute_brass"]
    pub mute_brass: BoolParam,
    #[id = "solo_brass"]
    pub solo_brass: BoolParam,
    #[id = "mute_perc"]
    pub mute_perc: BoolParam,
    #[id = "solo_perc"]
    pub solo_perc: BoolParam,
}

use crate::engine::settings::{
    LEVEL_MAX_DB, LEVEL_MIN_DB, SEED_MAX, SILENT_DB, STINGER_COOLDOWN_RANGE_S,
};

impl Default for MuteSoloParams {
    fn default() -> Self {
        let b = |name: &str| BoolParam::new(name, false);
        Self {
            mute_bass: b("Bass mute"),
            solo_bass: b("Bass solo"),
            mute_drums: b("Drums mute"),
            solo_drums: b("Drums solo"),
            mute_keys: b("Keys mute"),
            solo_keys: b("Keys solo"),
            mute_lead: b("Lead mute"),
            solo_lead: b("Lead solo"),
            mute_pad: b("Pad mute"),
            solo_pad: b("Pad solo"),
            mute_amb: b("Ambience mute"),
            solo_amb: b("Ambience solo"),
            mute_harp: b("Harp mute"),
            solo_harp: b("Harp solo"),
            mute_brass: b("Brass mute"),
            solo_brass: b("Brass solo"),
            mute_perc: b("Percussion mute"),
            solo_perc: b("Percussion solo"),
        }
    }
}

impl MuteSoloParams {
    /// Silences muted instruments, and all but the soloed ones while any is soloed (atomics
    /// only: audio-thread safe).
    pub fn apply(&self, l: &mut Levels) {
        let strips = [
            (&self.mute_bass, &self.solo_bass, &mut l.bass_db),
            (&self.mute_drums, &self.solo_drums, &mut l.drums_db),
            (&self.mute_keys, &self.solo_keys, &mut l.keys_db),
            (&self.mute_lead, &self.solo_lead, &mut l.lead_db),
            (&self.mute_pad, &self.solo_pad, &mut l.pad_db),
            (&self.mute_amb, &self.solo_amb, &mut l.ambience_db),
            (&self.mute_harp, &self.solo_harp, &mut l.harp_db),
            (&self.mute_brass, &self.solo_brass, &mut l.brass_db),
            (&self.mute_perc, &self.solo_perc, &mut l.perc_db),
        ];
        let any_solo = strips.iter().any(|(_, s, _)| s.value());
        for (mute, solo, db) in strips {
            if mute.value() || (any_solo && !solo.value()) {
                *db = SILENT_DB;
            }
        }
    }
}

/// The settings of a factory scene with the knobs acting on top of it: every knob at its
/// default plays the scene exactly; a knob moved away from its default shifts the scene's
/// value by as much (mood axes, swing, reverb and grain add their offset, levels add their dB), and
/// a quantize, keys or style choice other than the default replaces the scene's. Source, follow, tempo mode and
/// tempo, seed, stinger timing and master are always the knobs' own. So no knob is ever dead
/// under a scene, and its automation always moves the music.
pub fn scene_with_knobs(scene: &Settings, knobs: &Settings) -> Settings {
    let d = Settings::default();
    let mut s = *knobs;
    s.mood = Mood {
        valence: scene.mood.valence + (knobs.mood.valence - d.mood.valence),
        arousal: scene.mood.arousal + (knobs.mood.arousal - d.mood.arousal),
        tension: scene.mood.tension + (knobs.mood.tension - d.mood.tension),
    }
    .sanitized();
    s.swing = (scene.swing + (knobs.swing - d.swing)).clamp(0.0, 1.0);
    s.reverb = (scene.reverb + (knobs.reverb - d.reverb)).clamp(0.0, 1.0);
    if knobs.quantize == d.quantize {
        s.quantize = scene.quantize;
    }
    if knobs.keys == d.keys {
        s.keys = scene.keys;
    }
    if knobs.style == d.style {
        s.style = scene.style;
    }
    let add = |scene_db: f32, knob_db: f32| {
        if knob_db <= SILENT_DB + 1.0 || scene_db <= SILENT_DB + 1.0 {
            SILENT_DB
        } else {
            (scene_db + knob_db).clamp(LEVEL_MIN_DB, LEVEL_MAX_DB)
        }
    };
    s.levels = Levels {
        bass_db: add(scene.levels.bass_db, knobs.levels.bass_db),
        drums_db: add(scene.levels.drums_db, knobs.levels.drums_db),
        keys_db: add(scene.levels.keys_db, knobs.levels.keys_db),
        lead_db: add(scene.levels.lead_db, knobs.levels.lead_db),
        pad_db: add(scene.levels.pad_db, knobs.levels.pad_db),
        ambience_db: add(scene.levels.ambience_db, knobs.levels.ambience_db),
        harp_db: add(scene.levels.harp_db, knobs.levels.harp_db),
        brass_db: add(scene.levels.brass_db, knobs.levels.brass_db),
        perc_db: add(scene.levels.perc_db, knobs.levels.perc_db),
    };
    s.grain = (scene.grain + (knobs.grain - d.grain)).clamp(0.0, 1.0);
    s.scene_intensity = scene.scene_intensity;
    s
}

/// All parameters.
#[derive(Params)]
pub struct MoodNoirParams {
    /// Layout version of the saved state, for migrations.
    #[persist = "state-version"]
    pub state_version: AtomicU32,
    /// The editor window's size, restored with the session.
    #[persist = "editor-state"]
    pub editor_state: Arc<EditorSize>,
    #[nested(group = "Mood")]
    pub mood: MoodParams,
    #[nested(group = "Source")]
    pub source: SourceParams,
    #[nested(group = "Music")]
    pub music: MusicParams,
    #[nested(group = "Mix")]
    pub mix: MixParams,
    #[nested(group = "Light")]
    pub light: LightParams,
    #[nested(group = "Mute and solo")]
    pub mute_solo: MuteSoloParams,
}

fn unit(name: &str, default: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min: 0.0, max: 1.0 })
        .with_step_size(0.001)
        .with_value_to_string(formatters::v2s_f32_rounded(3))
}

fn level(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        0.0,
        FloatRange::Skewed {
            min: LEVEL_MIN_DB,
            max: LEVEL_MAX_DB,
            factor: FloatRange::skew_factor(1.5),
        },
    )
    .with_unit(" dB")
    .with_step_size(0.1)
}

impl Default for MoodNoirParams {
    fn default() -> Self {
        let d = Settings::default();
        Self {
            state_version: AtomicU32::new(STATE_VERSION),
            editor_state: Arc::new(EditorSize::default()),
            mood: MoodParams {
                valence: FloatParam::new(
                    "Valence",
                    d.mood.valence,
                    FloatRange::Linear {
                        min: -1.0,
                        max: 1.0,
                    },
                )
                .with_step_size(0.001)
                .with_value_to_string(formatters::v2s_f32_rounded(3)),
                arousal: unit("Arousal", d.mood.arousal),
                tension: unit("Tension", d.mood.tension),
            },
            source: SourceParams {
                source: EnumParam::new("Mood source", SourceChoice::Manual),
                follow: unit("Follow amount", d.follow),
            },
            music: MusicParams {
                scene: EnumParam::new("Scene", SceneChoice::Custom),
                tempo_mode: EnumParam::new("Tempo mode", TempoChoice::Host),
                tempo: FloatParam::new(
                    "Fixed tempo",
                    d.fixed_tempo_bpm,
                    FloatRange::Linear {
                        min: 30.0,
                        max: 300.0,
                    },
                )
                .with_unit(" BPM")
                .with_step_size(0.1),
                swing: unit("Swing", d.swing),
                seed: IntParam::new(
                    "Seed",
                    d.seed as i32,
                    IntRange::Linear {
                        min: 0,
                        max: SEED_MAX as i32,
                    },
                ),
                quantize: EnumParam::new("Transition quantize", QuantizeChoice::Bar),
                stinger: EnumParam::new("Stinger timing", StingerChoice::NextBeat),
                keys: EnumParam::new("Keys", KeysChoice::Auto),
                style: EnumParam::new("Style", StyleChoice::Combo),
                stinger_cooldown: FloatParam::new(
                    "Stinger cooldown",
                    d.stinger_cooldown_s,
                    FloatRange::Skewed {
                        min: STINGER_COOLDOWN_RANGE_S.0,
                        max: STINGER_COOLDOWN_RANGE_S.1,
                        factor: FloatRange::skew_factor(-1.5),
                    },
                )
                .with_unit(" s")
                .with_step_size(0.05),
            },
            mix: MixParams {
                bass: level("Bass level"),
                drums: level("Drums level"),
                keys: level("Keys level"),
                lead: level("Lead level"),
                pad: level("Pad level"),
                ambience: level("Ambience level"),
                harp: level("Harp level"),
                brass: level("Brass level"),
                perc: level("Percussion level"),
                reverb: unit("Reverb", d.reverb),
                master: level("Master"),
                grain: unit("Grain", d.grain),
                grain_wow: unit("Grain wow", d.grain_detail.wow),
                grain_flutter: unit("Grain flutter", d.grain_detail.flutter),
                grain_sat: unit("Grain saturation", d.grain_detail.saturation),
                grain_hiss: unit("Grain hiss", d.grain_detail.hiss),
                grain_crackle: unit("Grain crackle", d.grain_detail.crackle),
                grain_optical: unit("Grain optical", d.grain_detail.optical),
                grain_dropouts: unit("Grain dropouts", d.grain_detail.dropouts),
            },
            light: LightParams {
                smooth: FloatParam::new(
                    "Light smoothing",
                    crate::light::LightSettings::default().smooth_s,
                    FloatRange::Skewed {
                        min: 0.0,
                        max: crate::light::model::LIGHT_SMOOTH_MAX_S,
                        factor: FloatRange::skew_factor(-2.0),
                    },
                )
                .with_unit(" s")
                .with_step_size(0.01),
                sc_mode: EnumParam::new("Sidechain mode", ScModeChoice::Analyze),
                osc: crate::watched::Watched::new(crate::light::OscConfig::default()),
                cues: crate::watched::Watched::new(None),
            },
            mute_solo: MuteSoloParams::default(),
        }
    }
}

impl MoodNoirParams {
    /// The engine settings the parameters describe right now (atomics only: audio-thread
    /// safe). `scene` is the parsed factory scene for the Scene parameter, if any.
    pub fn settings(&self, scene: Option<&Settings>) -> Settings {
        let mut s = Settings {
            mood: Mood {
                valence: self.mood.valence.value(),
                arousal: self.mood.arousal.value(),
                tension: self.mood.tension.value(),
            },
            source: match self.source.source.value() {
                SourceChoice::Manual => MoodSource::Manual,
                SourceChoice::Light => MoodSource::Light,
                SourceChoice::Sidechain => MoodSource::Sidechain,
            },
            follow: self.source.follow.value(),
            tempo_mode: match self.music.tempo_mode.value() {
                TempoChoice::Host => TempoMode::Host,
                TempoChoice::Mood => TempoMode::Mood,
                TempoChoice::Fixed => TempoMode::Fixed,
                TempoChoice::Light => TempoMode::Light,
            },
            fixed_tempo_bpm: self.music.tempo.value(),
            swing: self.music.swing.value(),
            seed: self.music.seed.value().max(0) as u32,
            quantize: match self.music.quantize.value() {
                QuantizeChoice::Beat => Quantize::Beat,
                QuantizeChoice::Bar => Quantize::Bar,
                QuantizeChoice::TwoBars => Quantize::TwoBars,
                QuantizeChoice::FourBars => Quantize::FourBars,
            },
            levels: Levels {
                bass_db: self.mix.bass.value(),
                drums_db: self.mix.drums.value(),
                keys_db: self.mix.keys.value(),
                lead_db: self.mix.lead.value(),
                pad_db: self.mix.pad.value(),
                ambience_db: self.mix.ambience.value(),
                harp_db: self.mix.harp.value(),
                brass_db: self.mix.brass.value(),
                perc_db: self.mix.perc.value(),
            },
            grain: self.mix.grain.value(),
            grain_detail: self.mix.grain_detail(),
            stinger: match self.music.stinger.value() {
                StingerChoice::NextBeat => StingerTiming::NextBeat,
                StingerChoice::Immediate => StingerTiming::Immediate,
            },
            stinger_cooldown_s: self.music.stinger_cooldown.value(),
            reverb: self.mix.reverb.value(),
            master_db: self.mix.master.value(),
            scene_intensity: None,
            keys: match self.music.keys.value() {
                KeysChoice::Auto => KeysVoice::Auto,
                KeysChoice::Rhodes => KeysVoice::Rhodes,
                KeysChoice::Piano => KeysVoice::Piano,
            },
            style: self.music.style.value().style(),
        };
        if let Some(scene) = scene {
            s = scene_with_knobs(scene, &s);
        }
        self.mute_solo.apply(&mut s.levels);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scene_is_a_factory_preset_and_back() {
        for i in 1..SceneChoice::variants().len() {
            let c = SceneChoice::from_index(i);
            let id = c.preset_id().expect("only Custom has no preset");
            assert!(
                crate::preset::factory(id).is_some(),
                "{c:?}: no preset {id}"
            );
        }
        assert_eq!(SceneChoice::Custom.preset_id(), None);
        assert_eq!(
            SceneChoice::variants().len() - 1,
            crate::preset::FACTORY.len()
        );
        assert_eq!(SceneChoice::StalledLift.preset_id(), Some("stalled-lift"));
    }

    #[test]
    fn every_style_choice_is_the_engine_pick_of_its_id() {
        let ids = StyleChoice::ids().expect("the styles have ids");
        assert_eq!(ids.len(), StyleId::ALL.len() + 1);
        for (i, id) in ids.iter().enumerate() {
            let pick = StyleChoice::from_index(i).style();
            assert_eq!(pick.id(), *id);
            assert_eq!(StylePick::from_id(id), Some(pick));
        }
    }

    #[test]
    fn knobs_act_on_top_of_a_scene() {
        let scene = crate::preset::factory("interrogation").unwrap().settings;
        let d = Settings::default();
        // Every knob at its default: exactly the scene's mood, feel and mix.
        let s = scene_with_knobs(&scene, &d);
        assert_eq!(s.mood, scene.mood);
        assert_eq!(s.levels, scene.levels);
        assert_eq!(
            (s.swing, s.reverb, s.quantize),
            (scene.swing, scene.reverb, scene.quantize)
        );
        // Moved knobs shift it by as much: none is dead.
        let knobs = Settings {
            mood: Mood {
                valence: d.mood.valence + 0.3,
                arousal: d.mood.arousal - 0.2,
                tension: d.mood.tension,
            },
            levels: Levels {
                bass_db: -6.0,
                ..Levels::default()
            },
            reverb: d.reverb + 0.1,
            quantize: Quantize::FourBars,
            follow: 0.25,
            ..d
        };
        let s = scene_with_knobs(&scene, &knobs);
        assert!((s.mood.valence - (scene.mood.valence + 0.3).clamp(-1.0, 1.0)).abs() < 1e-6);
        assert!((s.mood.arousal - (scene.mood.arousal - 0.2).clamp(0.0, 1.0)).abs() < 1e-6);
        assert!((s.levels.bass_db - (scene.levels.bass_db - 6.0)).abs() < 1e-6);
        assert!((s.reverb - (scene.reverb + 0.1).clamp(0.0, 1.0)).abs() < 1e-6);
        assert_eq!(s.quantize, Quantize::FourBars);
        assert_eq!(s.follow, 0.25);
        assert_eq!(s.scene_intensity, scene.scene_intensity);
    }

    #[test]
    fn plugin_ranges_match_what_presets_and_the_cli_accept() {
        let p = MoodNoirParams::default();
        assert_eq!(p.music.seed.preview_plain(1.0) as u32, SEED_MAX);
        assert_eq!(p.mix.bass.preview_plain(1.0), LEVEL_MAX_DB);
        assert_eq!(p.mix.bass.preview_plain(0.0), LEVEL_MIN_DB);
        assert_eq!(
            p.light.smooth.preview_plain(1.0),
            crate::light::model::LIGHT_SMOOTH_MAX_S
        );
        // Whatever a preset says is brought inside the plugin's ranges.
        let s = Settings {
            seed: 5000,
            master_db: 11.0,
            levels: Levels {
                bass_db: 12.0,
                drums_db: -70.0,
                keys_db: -100.0,
                ..Levels::default()
            },
            ..Settings::default()
        }
        .sanitized();
        assert_eq!(s.seed, SEED_MAX);
        assert_eq!(s.master_db, LEVEL_MAX_DB);
        assert_eq!(s.levels.bass_db, LEVEL_MAX_DB);
        assert_eq!(s.levels.drums_db, LEVEL_MIN_DB);
        assert_eq!(s.levels.keys_db, SILENT_DB);
    }

    #[test]
    fn every_parameter_id_is_documented() {
        let doc = include_str!("../../docs/reference.md");
        let params = MoodNoirParams::default();
        let map = params.param_map();
        assert!(map.len() >= 34);
        for (id, ptr, _group) in map {
            assert!(
                doc.contains(&format!("`{id}`")),
                "docs/reference.md lacks `{id}`"
            );
            let name = unsafe { ptr.name() };
            let first_word = name.split_whitespace().next().unwrap_or(name);
            assert!(
                doc.contains(first_word),
                "docs/reference.md lacks the name {name:?}"
            );
        }
    }
}
