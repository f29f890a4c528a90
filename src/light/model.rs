//! `LightModel`: the audio thread's view of the light. It holds the live light (applied from
//! `LightEvent`s), the loaded cue sheet, a `/cue/go` hold, `/mood/*` overrides, the light's
//! heartbeat, lighting hits and the sidechain analyzer, and once per control tick derives the
//! light's mood through `MappingTable` and smooths it with the user's time constant
//! (`light_smooth`). Owned by `Engine`; every method after `new` runs on the audio thread and
//! never allocates, locks or drops a heap object (cue sheets are swapped out, never dropped).
//!
//! Precedence (documented in the README): with Mood source *Light*, a loaded cue sheet owns
//! the look (a pure function of the timeline position); a `/cue/go` (or an Eos cue-progress
//! message naming a cue of the sheet) holds that cue's look until `/mood/release`; live OSC and
//! DMX values own the look when no sheet is loaded. `/mood/*` overrides win over everything,
//! per axis, for both the Light and Sidechain sources. Hits add a decaying lift on top.

use super::cues::{CueSheet, TimeBase};
use super::event::{clamp01, CueRef, LightEvent, MoodAxis};
use super::mapping::{LightLook, MappingTable};
use super::sidechain::{SidechainAnalyzer, SidechainMode, CCT_MAX_K, CCT_MIN_K};
use crate::engine::MoodSource;
use crate::mood::Mood;

/// Longest light smoothing, seconds (the plugin's Light smoothing range and the CLI's).
pub const LIGHT_SMOOTH_MAX_S: f32 = 20.0;

/// User settings of the light model (the plugin's Light parameters).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LightSettings {
    /// Smoothing time constant of the light's mood, seconds (`light_smooth`).
    pub smooth_s: f32,
    /// How the sidechain is read (`sc_mode`).
    pub sc_mode: SidechainMode,
}

impl Default for LightSettings {
    fn default() -> Self {
        Self {
            smooth_s: 1.0,
            sc_mode: SidechainMode::Analyze,
        }
    }
}

/// A `/cue/go` or Eos-driven hold of one cue's look.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Hold {
    /// Which cue (index into the sheet).
    cue: usize,
    /// The look when the hold began.
    from: LightLook,
    /// The cue's look.
    to: LightLook,
    /// Fade length, seconds (a beat sheet's fade counts as seconds here: the go is live).
    fade_s: f64,
    /// Seconds since the go.
    elapsed_s: f64,
    /// Eos progress 0..1 when an Eos message drives the fade.
    progress: Option<f32>,
    /// The light's mood when the hold began (a sheet with moods fades from it).
    from_mood: Option<Mood>,
}

impl Hold {
    fn look_progress(&self) -> f32 {
        match self.progress {
            Some(p) => p,
            None if self.fade_s > 0.0 => (self.elapsed_s / self.fade_s).clamp(0.0, 1.0) as f32,
            None => 1.0,
        }
    }

    fn look(&self) -> LightLook {
        self.from.lerp(&self.to, self.look_progress())
    }
}

/// The light's heartbeat: the latest `/light/bpm` or tap estimate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LightTempo {
    /// Tempo in BPM, if known.
    pub bpm: Option<f32>,
    /// Taps received since the last reset.
    pub taps: u64,
}

/// `bpm` halved or doubled until it lies in `lo..=hi` (the mood's tempo range), as osc.md
/// asks for the "light" tempo mode.
pub fn fold_bpm(bpm: f32, lo: f32, hi: f32) -> f32 {
    if !(bpm.is_finite() && bpm > 0.0 && lo > 0.0 && hi >= 2.0 * lo) {
        return bpm;
    }
    let mut b = bpm;
    while b < lo {
        b *= 2.0;
    }
    while b > hi {
        b *= 0.5;
    }
    b
}

/// See the module docs.
pub struct LightModel {
    /// Control ticks per second.
    tick_rate: f32,
    /// The light → mood table.
    table: MappingTable,
    /// User settings.
    settings: LightSettings,
    /// The live look (OSC, DMX).
    live: LightLook,
    /// Whether any live look value has arrived.
    live_seen: bool,
    /// `/mood/*` overrides: valence, arousal, tension.
    overrides: [Option<f32>; 3],
    /// Lighting-hit envelope 0..1.
    hit: f32,
    /// Lighting hits received (OSC and sidechain onsets) since the last reset.
    hits: u64,
    /// The light's heartbeat.
    tempo: LightTempo,
    /// The loaded cue sheet.
    sheet: Option<Box<CueSheet>>,
    /// A `/cue/go` hold.
    hold: Option<Hold>,
    /// The look used at the last tick (for the monitor and blackout).
    look: Option<LightLook>,
    /// The smoothed mood (None until a source is active).
    smoothed: Option<Mood>,
    /// Snap the smoothing at the next tick (after a reset).
    snap: bool,
    /// The sidechain analyzer.
    sidechain: SidechainAnalyzer,
    /// Events applied since construction.
    events_applied: u64,
    /// A hit from OSC (`/light/hit`) not yet handed to the engine as a stinger.
    osc_hit: Option<f32>,
    /// A sidechain onset not yet handed to the engine as a stinger.
    new_hit: Option<f32>,
}

impl LightModel {
    /// A model for `sample_rate` updated every `control_period` samples; allocates the
    /// sidechain analyzer (call from `Engine::new`).
    pub fn new(sample_rate: f32, control_period: usize) -> Self {
        Self {
            tick_rate: sample_rate / control_period.max(1) as f32,
            table: MappingTable::DEFAULT,
            settings: LightSettings::default(),
            live: LightLook::NEUTRAL,
            live_seen: false,
            overrides: [None; 3],
            hit: 0.0,
            hits: 0,
            tempo: LightTempo::default(),
            sheet: None,
            hold: None,
            look: None,
            smoothed: None,
            snap: true,
            sidechain: SidechainAnalyzer::new(sample_rate),
            events_applied: 0,
            osc_hit: None,
            new_hit: None,
        }
    }

    /// On a transport reset: hit envelope and sidechain cleared, smoothing snaps at the next
    /// tick so a bounce starts exactly where the timeline says. Live values, overrides and the
    /// loaded sheet stay (they are the desk's and the user's state, not the timeline's).
    pub fn reset(&mut self) {
        self.hit = 0.0;
        self.hits = 0;
        self.osc_hit = None;
        self.new_hit = None;
        self.snap = true;
        self.smoothed = None;
        self.sidechain.reset();
    }

    /// On a timeline jump: the smoothing snaps to the new position's light at the next tick,
    /// so jumping to t shows the light that playing to t shows.
    pub fn snap(&mut self) {
        self.snap = true;
    }

    /// New user settings.
    pub fn set_settings(&mut self, s: LightSettings) {
        self.settings = s;
    }

    /// Applies one event (takes effect at the next control tick).
    pub fn apply(&mut self, ev: LightEvent) {
        self.events_applied += 1;
        match ev {
            LightEvent::Intensity(v) => self.live_set(|l| l.intensity = clamp01(v)),
            LightEvent::Rgb(c) => self.live_set(|l| l.rgb = c.map(clamp01)),
            LightEvent::Cct(k) if k.is_finite() => {
                self.live_set(|l| l.cct_k = k.clamp(1000.0, 20000.0))
            }
            LightEvent::Cct(_) => {}
            LightEvent::Contrast(v) => self.live_set(|l| l.contrast = clamp01(v)),
            LightEvent::Flicker(v) => self.live_set(|l| l.flicker = clamp01(v)),
            LightEvent::Palette(p) => self.live_set(|l| l.palette = p),
            LightEvent::Hit(s) => {
                let s = clamp01(s);
                self.osc_hit = Some(self.osc_hit.map_or(s, |h| h.max(s)));
            }
            LightEvent::Bpm(b) if b.is_finite() => self.tempo.bpm = Some(b.clamp(20.0, 300.0)),
            LightEvent::Bpm(_) => {}
            LightEvent::Beat { bpm } => {
                self.tempo.taps += 1;
                if let Some(b) = bpm.filter(|b| b.is_finite()) {
                    self.tempo.bpm = Some(b.clamp(20.0, 300.0));
                }
            }
            LightEvent::MoodOverride(axis, v) => {
                let (i, lo) = match axis {
                    MoodAxis::Valence => (0, -1.0),
                    MoodAxis::Arousal => (1, 0.0),
                    MoodAxis::Tension => (2, 0.0),
                };
                if v.is_finite() {
                    self.overrides[i] = Some(v.clamp(lo, 1.0));
                }
            }
            LightEvent::MoodRelease => {
                self.overrides = [None; 3];
                self.hold = None;
            }
            LightEvent::CueGo(r) => self.go(r, None),
            // Handled by whoever owns the sheet queue (`LightLink::drain_into`).
            LightEvent::SheetReady => {}
            LightEvent::CueProgress { cue, progress } => match self.hold {
                Some(ref mut h)
                    if self.sheet.as_ref().and_then(|s| s.find(CueRef::Name(cue)))
                        == Some(h.cue) =>
                {
                    h.progress = Some(clamp01(progress))
                }
                _ => self.go(CueRef::Name(cue), Some(clamp01(progress))),
            },
        }
    }

    fn live_set(&mut self, f: impl FnOnce(&mut LightLook)) {
        f(&mut self.live);
        self.live_seen = true;
    }

    fn go(&mut self, r: CueRef, progress: Option<f32>) {
        let Some(sheet) = self.sheet.as_ref() else {
            return;
        };
        let Some(k) = sheet.find(r) else {
            return;
        };
        let Some((to, fade)) = sheet.cue_look(k) else {
            return;
        };
        let from = self.look.unwrap_or(LightLook::NEUTRAL);
        self.hold = Some(Hold {
            cue: k,
            from,
            to,
            fade_s: fade,
            elapsed_s: 0.0,
            progress,
            from_mood: self.smoothed,
        });
    }

    /// Installs a cue sheet (or none) and hands back the previous one, which the caller must
    /// drop off the audio thread. A hold of the old sheet's cue ends.
    pub fn swap_sheet(&mut self, sheet: Option<Box<CueSheet>>) -> Option<Box<CueSheet>> {
        self.hold = None;
        std::mem::replace(&mut self.sheet, sheet)
    }

    /// The cue a `/cue/go` (or Eos) holds, if any.
    pub fn held_cue(&self) -> Option<usize> {
        self.hold.map(|h| h.cue)
    }

    /// The loaded cue sheet.
    pub fn sheet(&self) -> Option<&CueSheet> {
        self.sheet.as_deref()
    }

    /// Feeds the sidechain input (audio thread).
    pub fn process_sidechain(&mut self, left: &[f32], right: &[f32]) {
        self.sidechain.process(left, right);
    }

    /// The score style the cue sheet asks for at timeline position (`seconds`, `beats`): a
    /// held `/cue/go` cue's, else the sheet's there; `None` without a sheet or when no cue
    /// up to here names one. Pure, no allocation.
    pub fn sheet_style(&self, seconds: f64, beats: f64) -> Option<crate::composer::StylePick> {
        let s = self.sheet.as_ref()?;
        if let Some(h) = &self.hold {
            return s.cue_style(h.cue);
        }
        s.style_at(match s.base {
            TimeBase::Seconds => seconds,
            TimeBase::Beats => beats,
        })
    }

    /// The look the Light source shows at timeline position (`seconds`, `beats`), if any
    /// light is present. Pure in the timeline when a sheet is loaded and nothing holds.
    pub fn look_at(&self, seconds: f64, beats: f64) -> Option<LightLook> {
        if let Some(h) = &self.hold {
            return Some(h.look());
        }
        if let Some(s) = &self.sheet {
            let pos = match s.base {
                TimeBase::Seconds => seconds,
                TimeBase::Beats => beats,
            };
            return Some(s.look_at(pos));
        }
        self.live_seen.then_some(self.live)
    }

    /// One control tick at timeline position (`seconds`, `beats`) for mood source `source`:
    /// returns the smoothed light mood (None when no light is present or the source is
    /// Manual).
    pub fn tick(&mut self, source: MoodSource, seconds: f64, beats: f64) -> Option<Mood> {
        let dt = 1.0 / self.tick_rate;
        if let Some(h) = self.hold.as_mut() {
            h.elapsed_s += dt as f64;
        }
        // Hits count for the source that is listening: OSC hits for Light, onsets for
        // Sidechain; the others are dropped.
        let onset = self.sidechain.take_onset();
        let osc_hit = self.osc_hit.take();
        let hit = match source {
            MoodSource::Light => osc_hit,
            MoodSource::Sidechain => (onset > 0.0).then_some(onset),
            MoodSource::Manual => None,
        };
        if let Some(h) = hit {
            self.hits += 1;
            self.hit = self.hit.max(h);
            self.new_hit = Some(self.new_hit.map_or(h, |n| n.max(h)));
        }
        let raw = match source {
            MoodSource::Manual => {
                self.look = self.look_at(seconds, beats);
                None
            }
            MoodSource::Light => {
                self.look = self.look_at(seconds, beats);
                // A sheet that names moods owns the mood as it owns the look (cues.rs).
                let sheet_mood = match (&self.hold, &self.sheet) {
                    (Some(h), Some(s)) => s
                        .cue_mood(h.cue)
                        .map(|to| h.from_mood.unwrap_or(to).lerp(to, h.look_progress())),
                    (None, Some(s)) => s.mood_at(match s.base {
                        TimeBase::Seconds => seconds,
                        TimeBase::Beats => beats,
                    }),
                    _ => None,
                };
                match sheet_mood {
                    Some(m) => Some(self.table.lift(m, self.hit)),
                    None => self.look.map(|l| self.table.mood(&l, self.hit)),
                }
            }
            MoodSource::Sidechain => {
                let f = self.sidechain.features();
                match self.settings.sc_mode {
                    SidechainMode::Analyze => {
                        self.look = Some(self.table.sidechain_look(f.brightness, f.agitation));
                        Some(self.table.sidechain_mood(
                            f.brightness,
                            f.agitation,
                            f.loudness,
                            self.hit,
                        ))
                    }
                    SidechainMode::Cv => {
                        let look = LightLook {
                            intensity: f.cv_intensity,
                            cct_k: CCT_MIN_K + f.cv_cct * (CCT_MAX_K - CCT_MIN_K),
                            ..LightLook::NEUTRAL
                        };
                        self.look = Some(look);
                        Some(self.table.mood(&look, self.hit))
                    }
                }
            }
        };
        self.hit *= (-dt / self.table.hit_decay_s.max(1e-3)).exp();
        if self.hit < 1e-4 {
            self.hit = 0.0;
        }
        let raw = match (source, raw) {
            (MoodSource::Manual, _) => None,
            (_, Some(m)) => Some(self.with_overrides(m)),
            (_, None) if self.overrides.iter().any(Option::is_some) => {
                Some(self.with_overrides(self.table.mood(&LightLook::NEUTRAL, 0.0)))
            }
            (_, None) => None,
        };
        let Some(target) = raw else {
            self.smoothed = None;
            return None;
        };
        let k = crate::dsp::util::one_pole_coef(self.settings.smooth_s.max(0.0), self.tick_rate);
        let next = match self.smoothed {
            Some(cur) if !self.snap => cur.lerp(target, k),
            _ => target,
        };
        self.snap = false;
        self.smoothed = Some(next);
        Some(next)
    }

    fn with_overrides(&self, mut m: Mood) -> Mood {
        if let Some(v) = self.overrides[0] {
            m.valence = v;
        }
        if let Some(v) = self.overrides[1] {
            m.arousal = v;
        }
        if let Some(v) = self.overrides[2] {
            m.tension = v;
        }
        m.sanitized()
    }

    /// The look at the last tick (None when no light is present).
    pub fn look(&self) -> Option<LightLook> {
        self.look
    }

    /// The light's overall intensity at the last tick (for blackout), if light is present.
    pub fn intensity(&self) -> Option<f32> {
        self.look.map(|l| l.intensity)
    }

    /// The smoothed light mood at the last tick.
    pub fn mood(&self) -> Option<Mood> {
        self.smoothed
    }

    /// The lighting-hit envelope 0..1.
    pub fn hit_level(&self) -> f32 {
        self.hit
    }

    /// A hit since the last call (for the engine's stinger), strength 0..1.
    pub fn take_hit(&mut self) -> Option<f32> {
        self.new_hit.take()
    }

    /// Lighting hits since the last reset.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// The light's heartbeat.
    pub fn tempo(&self) -> LightTempo {
        self.tempo
    }

    /// The sidechain analyzer.
    pub fn sidechain(&self) -> &SidechainAnalyzer {
        &self.sidechain
    }

    /// Events applied since construction.
    pub fn events_applied(&self) -> u64 {
        self.events_applied
    }

    /// The mapping table in use.
    pub fn table(&self) -> &MappingTable {
        &self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_present_means_no_mood() {
        let mut m = LightModel::new(48000.0, 32);
        assert_eq!(m.tick(MoodSource::Light, 0.0, 0.0), None);
        m.apply(LightEvent::Intensity(0.1));
        assert!(m.tick(MoodSource::Light, 0.0, 0.0).is_some());
        assert_eq!(m.tick(MoodSource::Manual, 0.0, 0.0), None);
    }

    #[test]
    fn smoothing_follows_the_time_constant() {
        let mut m = LightModel::new(48000.0, 32);
        m.set_settings(LightSettings {
            smooth_s: 1.0,
            ..Default::default()
        });
        m.apply(LightEvent::Intensity(0.0));
        let dark = m.tick(MoodSource::Light, 0.0, 0.0).unwrap();
        m.apply(LightEvent::Intensity(1.0));
        let target = m.table().mood(
            &LightLook {
                intensity: 1.0,
                ..LightLook::NEUTRAL
            },
            0.0,
        );
        // One time constant = 1500 ticks of 32 samples: 63 % of the way.
        let mut v = dark;
        for _ in 0..1500 {
            v = m.tick(MoodSource::Light, 0.0, 0.0).unwrap();
        }
        let frac = (v.valence - dark.valence) / (target.valence - dark.valence);
        assert!((frac - 0.632).abs() < 0.01, "{frac}");
    }

    #[test]
    fn a_sheet_with_moods_owns_the_mood_and_a_go_fades_to_its_cue() {
        use crate::light::cues::{CueFormat, CueSheet};
        let sheet = CueSheet::parse(
            r#"{"cues": [
                {"name": "a", "at": 0, "intensity": 0.9, "mood": {"valence": 0.5, "arousal": 0.2, "tension": 0.1}},
                {"name": "b", "at": 10, "intensity": 0.1, "mood": {"valence": -0.7, "arousal": 0.8, "tension": 0.9}}
            ]}"#,
            CueFormat::Json,
        )
        .unwrap();
        let mut m = LightModel::new(48000.0, 32);
        m.set_settings(LightSettings {
            smooth_s: 0.0,
            ..Default::default()
        });
        drop(m.swap_sheet(Some(Box::new(sheet))));
        let at = |m: &mut LightModel, t: f64| m.tick(MoodSource::Light, t, 0.0).unwrap();
        let a = at(&mut m, 1.0);
        assert!((a.valence - 0.5).abs() < 1e-6 && (a.tension - 0.1).abs() < 1e-6);
        assert!((at(&mut m, 12.0).tension - 0.9).abs() < 1e-6);
        // /cue/go "a" while the timeline is in b: the hold takes a's mood.
        m.apply(LightEvent::CueGo(CueRef::Name(
            crate::light::event::name_hash("a"),
        )));
        assert_eq!(m.held_cue(), Some(0));
        assert!((at(&mut m, 12.0).valence - 0.5).abs() < 1e-6);
    }

    #[test]
    fn overrides_win_and_release_drops_them() {
        let mut m = LightModel::new(48000.0, 32);
        m.set_settings(LightSettings {
            smooth_s: 0.0,
            ..Default::default()
        });
        m.apply(LightEvent::MoodOverride(MoodAxis::Tension, 0.95));
        assert_eq!(m.tick(MoodSource::Light, 0.0, 0.0).unwrap().tension, 0.95);
        m.apply(LightEvent::MoodRelease);
        assert_eq!(m.tick(MoodSource::Light, 0.0, 0.0), None);
    }

    #[test]
    fn bpm_folds_into_range() {
        assert_eq!(fold_bpm(240.0, 55.0, 175.0), 120.0);
        assert_eq!(fold_bpm(30.0, 55.0, 175.0), 60.0);
        assert_eq!(fold_bpm(100.0, 55.0, 175.0), 100.0);
    }
}
