//! The engine's control surface as plain data: what the plugin's parameters, a preset or the
//! CLI ask for. `Copy`, so the audio thread takes a fresh copy every block.

pub use crate::composer::{KeysVoice, StyleId, StylePick};
use crate::dsp::grain::GrainDetail;
use crate::mood::Mood;
use serde::{Deserialize, Serialize};

/// Where the mood comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MoodSource {
    /// The Mood parameters alone.
    #[default]
    Manual,
    /// Incoming light (OSC, cue sheets), blended with the manual mood by `follow`.
    Light,
    /// The "Light sidechain" input, blended with the manual mood by `follow`.
    Sidechain,
}

/// How the tempo is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TempoMode {
    /// The host's tempo and bar grid (falls back to the mood when the host gives no tempo).
    #[default]
    Host,
    /// Arousal sets the tempo (ballad .. chase).
    Mood,
    /// The fixed tempo setting.
    Fixed,
    /// The light's heartbeat (`/light/bpm`, taps on `/light/beat`), halved or doubled into
    /// the mood's tempo range; taps also pull the beat's phase. A playing host's transport
    /// still wins (its timeline is the truth); without a heartbeat the mood sets the tempo.
    Light,
}

impl TempoMode {
    /// Whether a playing host's tempo and bar grid lead in this mode.
    pub fn follows_host(self) -> bool {
        matches!(self, TempoMode::Host | TempoMode::Light)
    }
}

/// Where harmonic and rhythmic changes may land.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Quantize {
    Beat,
    #[default]
    Bar,
    TwoBars,
    FourBars,
}

impl Quantize {
    /// Grid size in beats (4/4).
    pub fn beats(self) -> u64 {
        match self {
            Quantize::Beat => 1,
            Quantize::Bar => 4,
            Quantize::TwoBars => 8,
            Quantize::FourBars => 16,
        }
    }
}

/// Lowest level a knob, preset or the CLI can set, dB (the plugin's level faders' range).
pub const LEVEL_MIN_DB: f32 = -60.0;
/// Highest level, dB.
pub const LEVEL_MAX_DB: f32 = 6.0;
/// A level at or below this is silence (mute, solo); presets may write it to mute a part.
pub const SILENT_DB: f32 = -80.0;
/// Largest seed (the plugin's Seed parameter range, 0..=999).
pub const SEED_MAX: u32 = 999;
/// The Fixed tempo range, BPM.
pub const FIXED_TEMPO_RANGE_BPM: (f32, f32) = (30.0, 300.0);

/// The stinger cooldown's range, seconds.
pub const STINGER_COOLDOWN_RANGE_S: (f32, f32) = (0.0, 30.0);
/// The stinger cooldown's default, seconds.
pub const STINGER_COOLDOWN_DEFAULT_S: f32 = 2.0;

/// Whether a level in dB means silence (at or below -79 dB, where `sanitize_level_db` snaps
/// to `SILENT_DB`).
pub fn is_silent_db(db: f32) -> bool {
    db <= SILENT_DB + 1.0
}

/// A level in dB inside the shared range: `LEVEL_MIN_DB..=LEVEL_MAX_DB`, or `SILENT_DB` for
/// anything at or below -79 dB; NaN becomes 0 dB.
pub fn sanitize_level_db(x: f32) -> f32 {
    if !x.is_finite() {
        if x == f32::NEG_INFINITY {
            SILENT_DB
        } else {
            0.0
        }
    } else if is_silent_db(x) {
        SILENT_DB
    } else {
        x.clamp(LEVEL_MIN_DB, LEVEL_MAX_DB)
    }
}

/// Per-instrument levels in dB.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Levels {
    /// Upright bass, dB.
    pub bass_db: f32,
    /// Brushed kit, dB.
    pub drums_db: f32,
    /// Piano/Rhodes comping, dB.
    pub keys_db: f32,
    /// Lead horn (tenor sax / muted trumpet), dB.
    pub lead_db: f32,
    /// Sustained strings pad, dB.
    pub pad_db: f32,
    /// Rain, traffic and vinyl, dB.
    pub ambience_db: f32,
    /// Harp, dB.
    pub harp_db: f32,
    /// Brass section, dB.
    pub brass_db: f32,
    /// Percussion section, dB.
    pub perc_db: f32,
}

impl Default for Levels {
    fn default() -> Self {
        Self {
            bass_db: 0.0,
            drums_db: 0.0,
            keys_db: 0.0,
            lead_db: 0.0,
            pad_db: 0.0,
            ambience_db: 0.0,
            harp_db: 0.0,
            brass_db: 0.0,
            perc_db: 0.0,
        }
    }
}

impl Levels {
    /// In channel order (bass, drums, keys, lead, pad, ambience, harp, brass, percussion).
    pub fn as_array(&self) -> [f32; 9] {
        [
            self.bass_db,
            self.drums_db,
            self.keys_db,
            self.lead_db,
            self.pad_db,
            self.ambience_db,
            self.harp_db,
            self.brass_db,
            self.perc_db,
        ]
    }

    /// Every level, mutable, in channel order.
    pub fn each_mut(&mut self) -> [&mut f32; 9] {
        [
            &mut self.bass_db,
            &mut self.drums_db,
            &mut self.keys_db,
            &mut self.lead_db,
            &mut self.pad_db,
            &mut self.ambience_db,
            &mut self.harp_db,
            &mut self.brass_db,
            &mut self.perc_db,
        ]
    }
}

/// When a lighting hit's stinger plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StingerTiming {
    /// On the next beat (musical).
    #[default]
    NextBeat,
    /// At once (within the block it arrives in).
    Immediate,
}

/// Everything the engine is told each block.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The manual mood (the Mood parameters).
    pub mood: Mood,
    /// Where the mood comes from.
    pub source: MoodSource,
    /// 0..1: how far incoming light pulls the mood away from the manual one.
    pub follow: f32,
    /// How the tempo is decided.
    pub tempo_mode: TempoMode,
    /// Tempo in BPM for `TempoMode::Fixed`.
    pub fixed_tempo_bpm: f32,
    /// 0 straight .. 1 the tempo's natural swing.
    pub swing: f32,
    /// The seed of every musical choice.
    pub seed: u32,
    /// Where harmonic/rhythmic changes land.
    pub quantize: Quantize,
    /// Instrument levels.
    pub levels: Levels,
    /// 0..1 reverb send (the room).
    pub reverb: f32,
    /// Master level, dB.
    pub master_db: f32,
    /// When stingers for lighting hits play.
    pub stinger: StingerTiming,
    /// Seconds after a stinger during which further lighting hits play none (a strobe's
    /// burst fires one stinger, not ten).
    pub stinger_cooldown_s: f32,
    /// A scene's own key-light intensity (0 = blackout), used while no live light comes in.
    pub scene_intensity: Option<f32>,
    /// Which keyboard the keys player plays (Auto: the mood chooses at each phrase).
    pub keys: KeysVoice,
    /// The score style, or Auto (the mood picks it); a change lands on the next phrase.
    pub style: StylePick,
    /// Analog grain 0..1 (0: off, the clean sound bit for bit); tension adds wear.
    pub grain: f32,
    /// The weight of each kind of wear (the editor's grain detail).
    pub grain_detail: GrainDetail,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mood: Mood::NEUTRAL,
            source: MoodSource::Manual,
            follow: 1.0,
            tempo_mode: TempoMode::Host,
            fixed_tempo_bpm: 96.0,
            swing: 0.8,
            seed: 1,
            quantize: Quantize::Bar,
            levels: Levels::default(),
            reverb: 0.35,
            master_db: 0.0,
            stinger: StingerTiming::NextBeat,
            stinger_cooldown_s: STINGER_COOLDOWN_DEFAULT_S,
            scene_intensity: None,
            keys: KeysVoice::Auto,
            style: StylePick::Fixed(StyleId::Combo),
            grain: 0.0,
            grain_detail: GrainDetail::default(),
        }
    }
}

impl Settings {
    /// A copy with every number inside its range (NaN replaced by the default), so nothing
    /// a preset file or a host sends can push the engine outside what it was built for.
    pub fn sanitized(mut self) -> Settings {
        let d = Settings::default();
        fn fix(x: f32, lo: f32, hi: f32, def: f32) -> f32 {
            if x.is_finite() {
                x.clamp(lo, hi)
            } else {
                def
            }
        }
        self.mood = self.mood.sanitized();
        self.follow = fix(self.follow, 0.0, 1.0, d.follow);
        let (tlo, thi) = FIXED_TEMPO_RANGE_BPM;
        self.fixed_tempo_bpm = fix(self.fixed_tempo_bpm, tlo, thi, d.fixed_tempo_bpm);
        self.swing = fix(self.swing, 0.0, 1.0, d.swing);
        self.seed = self.seed.min(SEED_MAX);
        for db in self.levels.each_mut() {
            *db = sanitize_level_db(*db);
        }
        self.grain = fix(self.grain, 0.0, 1.0, 0.0);
        self.grain_detail = self.grain_detail.sanitized();
        self.reverb = fix(self.reverb, 0.0, 1.0, d.reverb);
        let (clo, chi) = STINGER_COOLDOWN_RANGE_S;
        self.stinger_cooldown_s = fix(self.stinger_cooldown_s, clo, chi, d.stinger_cooldown_s);
        self.master_db = sanitize_level_db(self.master_db);
        self.scene_intensity = self
            .scene_intensity
            .filter(|i| i.is_finite())
            .map(|i| i.clamp(0.0, 1.0));
        self
    }
}
