//! The engine: clock, mood, composer, voices and mixer rendering into plain `&mut [f32]`.
//! It knows nothing of plugin frameworks: the plugin, the CLI, the tests and the benches all
//! drive this same code. `Engine::new` allocates everything; `process` and `reset` never do.

pub mod mixer;
pub mod settings;

use crate::composer::events::Event;
use crate::composer::events::{EventKind, Keyboard};
use crate::composer::{BeatContext, Composer, NowPlaying, BEATS_PER_BAR};
use crate::dsp::MAX_BLOCK;
use crate::mood::{Mood, MoodGlide};
use crate::voices::percussion::Percussion;
use crate::voices::piano::Preparation;
use crate::voices::{Ambience, Brass, Drums, Harp, Keys, Lead, Pad, Piano, UprightBass};
use mixer::{MixControls, MixTarget, Mixer, CHANNELS, STEMS};
pub use settings::{
    KeysVoice, Levels, MoodSource, Quantize, Settings, StingerTiming, StyleId, StylePick, TempoMode,
};

/// Stem outputs a caller may want: (left, right) per stem in `mixer::STEM_NAMES` order.
pub type StemOutputs<'a> = [Option<(&'a mut [f32], &'a mut [f32])>; STEMS];

/// How many played events one `process` call records for MIDI out (more are counted, not kept).
pub const EVENT_LOG_CAPACITY: usize = 2048;
/// How many beat starts one `process` call records (tempo map and mood lanes).
pub const BEAT_LOG_CAPACITY: usize = 256;

/// An event as it was played: where in the current block, and where on the timeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlayedEvent {
    /// Sample offset inside the `process` call that played it.
    pub offset: u32,
    /// The event (its `beat` is the timeline position in beats).
    pub event: Event,
}

/// A beat as it started: for tempo maps and mood controller lanes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeatMark {
    /// Sample offset inside the `process` call.
    pub offset: u32,
    /// The beat number.
    pub beat: u64,
    /// Tempo at that beat, BPM.
    pub tempo_bpm: f64,
    /// The live mood at that beat.
    pub mood: Mood,
}

/// Control-rate period in samples: mood glide, tempo glide and timbre updates happen on
/// multiples of this (counted from the last reset or jump), so the output does not depend on
/// how the host slices its blocks.
pub const CONTROL_PERIOD: usize = 32;
/// Mood glide time constant for timbre and mix (seconds).
const MOOD_GLIDE_S: f32 = 0.6;
/// Beat-grid drift from a playing host beyond which the band re-locates (a jump).
const MAX_DRIFT_BEATS: f64 = 0.05;
/// Tempo glide time constant in mood-driven mode (seconds).
const TEMPO_GLIDE_S: f32 = 1.5;

/// Tolerance, in beats, for an event to count as due at a sample (far below one sample at any
/// supported rate and tempo: 1 sample at 768 kHz and 20 BPM is 4e-7 beats).
const DUE_EPS_BEATS: f64 = 1.0e-9;
/// Deepest pre-roll (negative timeline position) the clock follows, in beats.
const MAX_PREROLL_BEATS: f64 = 1.0e12;
/// The engine's tempo range; host tempi outside it are halved or doubled into it.
pub const TEMPO_RANGE_BPM: (f64, f64) = (20.0, 400.0);
/// Minimum distance between two stingers, in beats: hits that land within it merge into one.
pub const STINGER_MIN_SPACING_BEATS: f64 = 1.0;

/// On the prepared piano, notes from here up (MIDI, C5) are plucked inside the piano rather
/// than struck (the Reservoir style's sparse high colours).
pub const PREPARED_PLUCK_FROM: u8 = 72;

/// How much more wear full tension adds to the analog grain (times the Grain setting: at 0 the
/// grain stays off, bit for bit).
pub const GRAIN_TENSION_DRIVE: f32 = 0.6;

/// The grain the mixer applies: the setting, worn further by tension (`GRAIN_TENSION_DRIVE`).
pub fn grain_amount(grain: f32, tension: f32) -> f32 {
    if grain.is_nan() || grain <= 0.0 {
        return 0.0;
    }
    let t = if tension.is_finite() {
        tension.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (grain * (1.0 + GRAIN_TENSION_DRIVE * t)).min(1.0)
}

/// A host tempo halved or doubled into `TEMPO_RANGE_BPM`, with the factor applied (so host
/// beats times the factor are the band's beats); `None` for a tempo that is not a positive
/// finite number.
pub fn fold_host_tempo(bpm: f64) -> Option<(f64, f64)> {
    if !(bpm.is_finite() && bpm > 0.0) {
        return None;
    }
    let (lo, hi) = TEMPO_RANGE_BPM;
    let (mut t, mut scale) = (bpm, 1.0);
    for _ in 0..1100 {
        if t > hi {
            t *= 0.5;
            scale *= 0.5;
        } else if t < lo {
            t *= 2.0;
            scale *= 2.0;
        } else {
            return Some((t, scale));
        }
    }
    None
}

/// The key-light brightness a mood implies when no light says otherwise (it sets the rain):
/// darker for sadder moods.
/// How much the key light brightens the bass and keys tone (added per unit of light above
/// half; darker light subtracts): (bass, keys).
const LIGHT_TONE: (f32, f32) = (0.3, 0.45);

fn mood_brightness(m: Mood) -> f32 {
    (0.5 + 0.4 * m.valence).clamp(0.0, 1.0)
}

/// What the host says about its transport at the start of a block.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HostTransport {
    /// The host's transport is rolling.
    pub playing: bool,
    /// Host tempo in BPM, if known.
    pub tempo_bpm: Option<f64>,
    /// Host position in quarter notes, if known.
    pub pos_beats: Option<f64>,
    /// Host position in samples, if known.
    pub pos_samples: Option<i64>,
}

impl HostTransport {
    /// The same transport `samples` later at `sample_rate` (for rendering a host block in
    /// pieces): positions advance when the host plays, nothing else changes.
    pub fn advanced(&self, samples: usize, sample_rate: f32) -> HostTransport {
        if !self.playing || samples == 0 {
            return *self;
        }
        let mut t = *self;
        t.pos_samples = self.pos_samples.map(|p| p.saturating_add(samples as i64));
        if let (Some(b), Some(bpm)) = (self.pos_beats, self.tempo_bpm) {
            if bpm.is_finite() && bpm > 0.0 && sample_rate > 0.0 {
                t.pos_beats = Some(b + samples as f64 / sample_rate as f64 * bpm / 60.0);
            }
        }
        t
    }
}

/// The engine. See the module docs.
pub struct Engine {
    /// Sample rate in Hz.
    sample_rate: f32,
    /// Current settings (sanitized).
    settings: Settings,
    /// Mood coming from the light (OSC, cue sheets, sidechain), if any has arrived.
    light_mood: Option<Mood>,
    /// The light input's state (OSC events, cue sheet, sidechain), updated every control tick.
    light: crate::light::LightModel,
    /// The live mood gliding toward the blended target.
    glide: MoodGlide,
    /// The composer and its event queue.
    composer: Composer,
    /// Upright bass voice.
    bass: UprightBass,
    /// Rhodes voice.
    keys: Keys,
    /// Acoustic piano voice (the keys player's other instrument; same stem).
    piano: Piano,
    /// Brushed kit.
    drums: Drums,
    /// Lead horn.
    lead: Lead,
    /// Strings pad.
    pad: Pad,
    /// Rain, traffic, vinyl.
    ambience: Ambience,
    /// The harpist's concert harp.
    harp: Harp,
    /// The brass section.
    brass: Brass,
    /// The percussion section.
    perc: Percussion,
    /// Key-light intensity from the light input (None without light).
    light_intensity: Option<f32>,
    /// The style whose balance (`Style::mix_db`) the mixer's levels carry.
    levels_style: StyleId,
    /// The score style the cue sheet asks for now (Mood source Light, Follow above 0).
    cue_style: Option<StylePick>,
    /// A stinger requested by a lighting hit, waiting for the next `process` (strength).
    pending_hit: Option<f32>,
    /// Events played during the current `process` call (for MIDI out).
    event_log: Box<[PlayedEvent; EVENT_LOG_CAPACITY]>,
    /// Number of valid entries in `event_log`.
    event_log_len: usize,
    /// Beats started during the current `process` call.
    beat_log: Box<[BeatMark; BEAT_LOG_CAPACITY]>,
    /// Number of valid entries in `beat_log`.
    beat_log_len: usize,
    /// Events not logged because the log was full (MIDI out lost them; audio did not).
    pub log_overflow: u64,
    /// Offset of the current sample inside the current `process` call.
    block_offset: usize,
    /// The mix bus.
    mixer: Mixer,
    /// Scratch buffers: (left, right) per instrument, for the span not yet mixed.
    scratch: [[[f32; MAX_BLOCK]; 2]; CHANNELS],
    /// Where in the current `process` call the span in `scratch` starts: the voices render
    /// piece by piece (between events and control ticks), the mixer runs once over the span,
    /// up to `MAX_BLOCK` samples or until its own controls change.
    span_start: usize,
    /// The mixer's controls as the engine last asked for them...
    mix_want: MixControls,
    /// ...and as the mixer has them. They differ between a control tick that changed them and
    /// the end of the span the old ones still apply to.
    mix_applied: MixControls,
    /// Inside `process`, at a control tick: new mixer controls wait for the span to be mixed.
    mix_deferred: bool,
    /// Parts not being played because their level is off (`Mixer::heard`); each is reset
    /// when it is heard again.
    parked: [bool; CHANNELS],
    /// Beat position at the start of the current control tick.
    tick_beat: f64,
    /// Samples rendered since the start of the current control tick.
    tick_pos: usize,
    /// Beats per sample during this tick.
    beats_per_sample: f64,
    /// Current tempo in BPM.
    tempo: f64,
    /// The next beat the composer has to plan.
    next_plan_beat: u64,
    /// Host sample position expected at the next block (for jump detection); `None` while
    /// the host is not playing.
    expected_host_pos: Option<i64>,
    /// The host's tempo as last reported (also while stopped).
    host_tempo: Option<f64>,
    /// Total samples rendered since the last reset (for the CLI and tests).
    samples_rendered: u64,
    /// Timeline position (samples from the host's origin, or from the last reset when there is
    /// no host transport) of the next sample: cue sheets in seconds follow this.
    timeline_samples: i64,
    /// Timeline jumps detected since the last reset.
    jumps: u64,
    /// The light model's tap count last seen (a new tap pulls the beat phase).
    light_taps_seen: u64,
    /// Note events played since the last reset (a density measure for tests and the monitor).
    events_played: u64,
    /// Where the last stinger landed, in beats (hits within a beat of it merge into it).
    last_stinger_beat: f64,
    /// `samples_rendered` when the last stinger fired (the cooldown counts from it).
    last_stinger_sample: Option<u64>,
    /// Relocations (resets and jumps) since construction; never goes back (MIDI out compares
    /// it to know when every sounding note must end).
    relocations: u64,
}

impl Engine {
    /// An engine at `sample_rate` with `settings`; allocates everything it will ever need.
    pub fn new(sample_rate: f32, settings: Settings) -> Self {
        let settings = settings.sanitized();
        let mut e = Self {
            sample_rate,
            settings,
            light_mood: None,
            light: crate::light::LightModel::new(sample_rate, CONTROL_PERIOD),
            glide: MoodGlide::new(settings.mood, MOOD_GLIDE_S, CONTROL_PERIOD, sample_rate),
            composer: Composer::new(settings.seed as u64),
            bass: UprightBass::new(sample_rate),
            keys: Keys::new(sample_rate),
            piano: Piano::new(sample_rate),
            drums: Drums::new(sample_rate),
            lead: Lead::new(sample_rate),
            pad: Pad::new(sample_rate),
            ambience: Ambience::new(sample_rate),
            harp: Harp::new(sample_rate),
            brass: Brass::new(sample_rate),
            perc: Percussion::new(sample_rate),
            light_intensity: None,
            cue_style: None,
            levels_style: StyleId::Combo,
            pending_hit: None,
            event_log: Box::new(
                [PlayedEvent {
                    offset: 0,
                    event: Event {
                        beat: 0.0,
                        kind: EventKind::BassOff,
                    },
                }; EVENT_LOG_CAPACITY],
            ),
            event_log_len: 0,
            beat_log: Box::new(
                [BeatMark {
                    offset: 0,
                    beat: 0,
                    tempo_bpm: 0.0,
                    mood: Mood::NEUTRAL,
                }; BEAT_LOG_CAPACITY],
            ),
            beat_log_len: 0,
            log_overflow: 0,
            block_offset: 0,
            mixer: Mixer::new(sample_rate),
            scratch: [[[0.0; MAX_BLOCK]; 2]; CHANNELS],
            span_start: 0,
            mix_want: MixControls::default(),
            mix_applied: MixControls::default(),
            mix_deferred: false,
            parked: [false; CHANNELS],
            tick_beat: 0.0,
            tick_pos: 0,
            beats_per_sample: 0.0,
            tempo: 120.0,
            next_plan_beat: 0,
            expected_host_pos: None,
            host_tempo: None,
            samples_rendered: 0,
            timeline_samples: 0,
            jumps: 0,
            light_taps_seen: 0,
            events_played: 0,
            last_stinger_beat: f64::NEG_INFINITY,
            last_stinger_sample: None,
            relocations: 0,
        };
        e.reset();
        e
    }

    /// Back to the top of the timeline with silent voices; no allocation.
    pub fn reset(&mut self) {
        self.event_log_len = 0;
        self.beat_log_len = 0;
        self.composer.reset(self.settings.seed as u64);
        self.reset_voices();
        self.pending_hit = None;
        self.apply_levels();
        self.mixer.reset();
        self.timeline_samples = 0;
        self.block_offset = 0;
        self.light.reset();
        self.update_light();
        self.pending_hit = None;
        self.glide.snap(self.target_mood());
        self.composer.set_committed(self.glide.current);
        self.expected_host_pos = None;
        self.samples_rendered = 0;
        self.timeline_samples = 0;
        self.jumps = 0;
        self.events_played = 0;
        self.host_tempo = None;
        self.tempo = self.requested_tempo();
        self.locate(0.0);
        self.update_timbre();
    }

    /// Puts the clock at `beat` with the band silent (used on reset and timeline jumps). A
    /// negative `beat` (a host's count-in or pre-roll) is kept: the clock runs through the
    /// pre-roll in silence and the band starts exactly at beat 0.
    fn locate(&mut self, beat: f64) {
        let beat = if beat.is_finite() {
            beat.max(-MAX_PREROLL_BEATS)
        } else {
            0.0
        };
        self.composer.reset(self.settings.seed as u64);
        self.composer.set_committed(self.glide.current);
        self.reset_voices();
        self.relocations += 1;
        self.last_stinger_beat = f64::NEG_INFINITY;
        self.last_stinger_sample = None;
        self.tick_beat = beat;
        self.tick_pos = 0;
        self.beats_per_sample = self.tempo / 60.0 / self.sample_rate as f64;
        self.next_plan_beat = beat.ceil().max(0.0) as u64;
        // Mid-beat: plan the beat we are inside so its later events still sound.
        if beat > 0.0 && beat.fract() > 0.0 {
            let b = beat.floor() as u64;
            self.composer.plan_beat(b, &self.beat_context());
            while self.composer.queue.pop_due(beat - 1e-9).is_some() {}
        }
    }

    fn reset_voices(&mut self) {
        for c in 0..CHANNELS {
            self.reset_part(c);
        }
        self.parked = [false; CHANNELS];
    }

    /// Silences the voices of mixer channel `c` (see `mixer::CHANNELS`).
    fn reset_part(&mut self, c: usize) {
        match c {
            0 => self.bass.reset(),
            1 => self.drums.reset(),
            2 => {
                self.keys.reset();
                self.piano.reset();
            }
            3 => self.lead.reset(),
            4 => self.pad.reset(),
            5 => self.ambience.reset(),
            6 => self.harp.reset(),
            7 => self.brass.reset(),
            _ => self.perc.reset(),
        }
    }

    /// Live light intensity, else the scene's own, else none.
    fn effective_intensity(&self) -> Option<f32> {
        self.light_intensity.or(self.settings.scene_intensity)
    }

    /// The key-light intensity the engine is following, if light is coming in.
    pub fn light_intensity(&self) -> Option<f32> {
        self.light_intensity
    }

    /// A lighting hit (flash, lightning, a door): a stinger on the next beat or at once, as
    /// the settings say. `strength` 0..1.
    pub fn trigger_hit(&mut self, strength: f32) {
        let s = if strength.is_finite() {
            strength.clamp(0.0, 1.0)
        } else {
            1.0
        };
        self.pending_hit = Some(self.pending_hit.map_or(s, |p| p.max(s)));
    }

    /// Events played during the last `process` call, with their sample offsets.
    pub fn played_events(&self) -> &[PlayedEvent] {
        &self.event_log[..self.event_log_len]
    }

    /// Beats that started during the last `process` call.
    pub fn beat_marks(&self) -> &[BeatMark] {
        &self.beat_log[..self.beat_log_len]
    }

    /// Peak of the main output since the last call (left, right); resets the meter.
    pub fn take_peak(&mut self) -> [f32; 2] {
        std::mem::take(&mut self.mixer.peak)
    }

    /// Replaces the settings (every block from the plugin); values are sanitized.
    pub fn set_settings(&mut self, settings: &Settings) {
        let s = settings.sanitized();
        if s == self.settings {
            return;
        }
        if self.samples_rendered == 0 {
            // Nothing has played since the last reset (a host applies its parameter changes
            // in the first block after a reset): start from these settings, exactly as if they
            // had been in force at the reset, so a position always renders the same music.
            self.settings = s;
            self.reset();
            return;
        }
        if s.seed != self.settings.seed {
            self.composer.change_seed(s.seed as u64);
        }
        self.settings = s;
        self.apply_levels();
    }

    /// The current settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// One light event (OSC, the CLI, tests); takes effect at the next control tick.
    pub fn push_light_event(&mut self, ev: crate::light::LightEvent) {
        self.light.apply(ev);
    }

    /// Installs a cue sheet (or none) and returns the previous one, which the caller must
    /// drop off the audio thread. No allocation, no drop.
    pub fn swap_cue_sheet(
        &mut self,
        sheet: Option<Box<crate::light::CueSheet>>,
    ) -> Option<Box<crate::light::CueSheet>> {
        self.light.swap_sheet(sheet)
    }

    /// Feeds one block of the "Light sidechain" input (call before `process`).
    pub fn process_sidechain(&mut self, left: &[f32], right: &[f32]) {
        self.light.process_sidechain(left, right);
    }

    /// The light input's settings (smoothing, sidechain mode).
    pub fn set_light_settings(&mut self, s: crate::light::LightSettings) {
        self.light.set_settings(s);
    }

    /// The light input's state (look, derived mood, hits, heartbeat, cue sheet).
    pub fn light(&self) -> &crate::light::LightModel {
        &self.light
    }

    /// The light's heartbeat in BPM (`/light/bpm` or taps on `/light/beat`), if any.
    pub fn light_bpm(&self) -> Option<f32> {
        self.light.tempo().bpm
    }

    /// Control rate: the light's mood, intensity and hits at the current timeline position
    /// (a pure function of the position for cue sheets).
    fn update_light(&mut self) {
        let pos = self.timeline_samples + self.block_offset as i64;
        let seconds = pos as f64 / self.sample_rate as f64;
        let beats = self.beat_position();
        let source = self.settings.source;
        self.light_mood = self.light.tick(source, seconds, beats);
        self.cue_style = match source {
            MoodSource::Light if self.settings.follow > 0.0 => {
                self.light.sheet_style(seconds, beats)
            }
            _ => None,
        };
        self.light_intensity = match source {
            MoodSource::Manual => None,
            _ => self.light.intensity().and_then(|i| {
                // Follow amount scales the light's pull on the key light too (rain, blackout),
                // not only on the mood: at 0 the light changes nothing at all.
                let f = self.settings.follow;
                if f >= 1.0 {
                    return Some(i);
                }
                (f > 0.0).then(|| {
                    let base = self
                        .settings
                        .scene_intensity
                        .unwrap_or_else(|| mood_brightness(self.glide.current));
                    base + (i - base) * f
                })
            }),
        };
        if let Some(h) = self.light.take_hit() {
            self.trigger_hit(h);
        }
        // Taps on /light/beat pull the beat's phase toward the tap (light tempo mode, no
        // host): a third of the error per tap, so a steady tapper locks within a few beats.
        let taps = self.light.tempo().taps;
        if taps != self.light_taps_seen {
            self.light_taps_seen = taps;
            if self.settings.tempo_mode == TempoMode::Light && !self.host_locked() {
                let beat = self.beat_position();
                let err = beat - beat.round();
                if err.abs() < 0.3 {
                    self.tick_beat -= err / 3.0;
                }
            }
        }
    }

    /// Sets (or clears) the mood derived from incoming light until the next control tick,
    /// when the light model (`push_light_event`, cue sheets, sidechain) sets it again.
    pub fn set_light_mood(&mut self, mood: Option<Mood>) {
        self.light_mood = mood.map(Mood::sanitized);
    }

    /// The mood the engine is heading for: manual, or manual blended with the light.
    pub fn target_mood(&self) -> Mood {
        let manual = self.settings.mood;
        match (self.settings.source, self.light_mood) {
            (MoodSource::Manual, _) | (_, None) => manual,
            (_, Some(light)) => manual.lerp(light, self.settings.follow),
        }
    }

    /// The live (glided) mood.
    pub fn mood(&self) -> Mood {
        self.glide.current
    }

    /// The mood the music's harmony and rhythm currently follow.
    pub fn committed_mood(&self) -> Mood {
        self.composer.committed_mood()
    }

    /// Current tempo in BPM.
    pub fn tempo_bpm(&self) -> f64 {
        self.tempo
    }

    /// Current position in beats.
    pub fn beat_position(&self) -> f64 {
        self.tick_beat + self.tick_pos as f64 * self.beats_per_sample
    }

    /// What the band is playing.
    pub fn now_playing(&self) -> NowPlaying {
        self.composer.now
    }

    /// Latency in samples (report it to the host).
    pub fn latency_samples(&self) -> usize {
        self.mixer.latency_samples()
    }

    /// Timeline jumps detected since the last reset.
    pub fn jumps(&self) -> u64 {
        self.jumps
    }

    /// Resets and jumps since the engine was built (monotonic): when it changes, the band
    /// was silenced and re-located, so every sounding MIDI note must end.
    pub fn relocations(&self) -> u64 {
        self.relocations
    }

    /// Notes and drum strokes played since the last reset.
    pub fn events_played(&self) -> u64 {
        self.events_played
    }

    /// Events the composer had to drop (should be 0).
    pub fn dropped_events(&self) -> u64 {
        self.composer.queue.dropped
    }

    fn apply_levels(&mut self) {
        let trim = self.composer.style().mix_db;
        let mut levels = self.settings.levels.as_array();
        for (db, t) in levels.iter_mut().zip(trim) {
            // A silenced part stays silent; the trim is exactly 0 for the combo's table.
            if !settings::is_silent_db(*db) {
                *db += t;
            }
        }
        self.mix_want.levels_db = levels;
        self.mix_want.reverb = self.settings.reverb;
        self.mix_want.master_db = self.settings.master_db;
        self.levels_style = self.composer.style().which;
        self.sync_mix();
    }

    /// Hands the mixer the controls the engine wants, unless a control tick inside `process`
    /// asked for them: then the loop there first mixes the span the old ones apply to.
    fn sync_mix(&mut self) {
        if !self.mix_deferred {
            self.apply_mix();
        }
    }

    /// Hands the mixer the controls the engine wants.
    fn apply_mix(&mut self) {
        self.mixer.set_controls(&self.mix_want);
        self.mix_applied = self.mix_want;
    }

    /// The tempo the current mode asks for.
    fn requested_tempo(&self) -> f64 {
        let mood_tempo = self.composer.committed_mood().tempo_bpm() * self.composer.style().tempo;
        match (self.settings.tempo_mode, self.host_tempo) {
            (TempoMode::Fixed, _) => self.settings.fixed_tempo_bpm as f64,
            (TempoMode::Host, Some(t)) => t,
            (TempoMode::Light, Some(t)) if self.expected_host_pos.is_some() => t,
            (TempoMode::Light, _) => match self.light.tempo().bpm {
                // Halved or doubled into an octave around the mood's tempo.
                Some(bpm) => {
                    let lo = (mood_tempo * 0.72) as f32;
                    crate::light::model::fold_bpm(bpm, lo, 2.0 * lo) as f64
                }
                None => mood_tempo,
            },
            (TempoMode::Host, None) | (TempoMode::Mood, _) => mood_tempo,
        }
    }

    /// Whether the clock is locked to a playing host's tempo and beat grid.
    fn host_locked(&self) -> bool {
        self.settings.tempo_mode.follows_host()
            && self.host_tempo.is_some()
            && self.expected_host_pos.is_some()
    }

    fn beat_context(&self) -> BeatContext {
        BeatContext {
            mood: self.glide.current,
            tempo_bpm: self.tempo,
            swing: self.settings.swing,
            quantize_beats: self.settings.quantize.beats(),
            intensity: self.effective_intensity(),
            keys: self.settings.keys,
            // A cue sheet that names styles switches the score (cues.rs); else the setting.
            style: self.cue_style.unwrap_or(self.settings.style),
        }
    }

    /// Follows the host transport at a block start: re-anchors on jumps and loops.
    fn sync_transport(&mut self, host: &HostTransport, block_len: usize) {
        // The band plays at the host's tempo halved or doubled into its own 20..400 BPM, and
        // counts the host's beats by the same factor, so any host tempo locks without drift.
        let folded = host.tempo_bpm.and_then(fold_host_tempo);
        self.host_tempo = folded.map(|(t, _)| t);
        let beat_scale = folded.map_or(1.0, |(_, s)| s);
        if !host.playing {
            self.expected_host_pos = None;
            return;
        }
        let host_tempo = self.settings.tempo_mode.follows_host() && self.host_tempo.is_some();
        if host_tempo {
            self.tempo = self.requested_tempo();
        }
        let pos = host
            .pos_samples
            .or_else(|| match (host.pos_beats, host.tempo_bpm) {
                (Some(b), Some(t)) if t > 0.0 => {
                    Some((b * 60.0 / t * self.sample_rate as f64).round() as i64)
                }
                _ => None,
            });
        let Some(pos) = pos else {
            return;
        };
        self.timeline_samples = pos;
        let jumped = match self.expected_host_pos {
            None => true,
            Some(exp) => (pos - exp).abs() > 1,
        };
        self.expected_host_pos = Some(pos + block_len as i64);
        // Where the host says we are, in our beats.
        let host_beat = match (host_tempo, host.pos_beats) {
            (true, Some(b)) => b * beat_scale,
            _ => pos as f64 / self.sample_rate as f64 * self.requested_tempo() / 60.0,
        };
        if !host_beat.is_finite() {
            return;
        }
        // When locked to the host's beat grid, a grid that no longer matches ours (a tempo
        // mode switch, a tempo jump) is a jump too; small drift is followed silently.
        if host_tempo && !jumped {
            self.beats_per_sample = self.tempo / 60.0 / self.sample_rate as f64;
        }
        let drift = (self.beat_position() - host_beat).abs();
        if jumped || (host_tempo && drift > MAX_DRIFT_BEATS) {
            self.jumps += 1;
            self.light.snap();
            self.mixer.begin_jump();
            self.tempo = self.requested_tempo();
            self.locate(host_beat);
            self.update_timbre();
        } else if host_tempo && drift > 1e-6 {
            self.tick_beat = host_beat - self.tick_pos as f64 * self.beats_per_sample;
        }
    }

    /// One control-rate update at a tick boundary.
    fn control_tick(&mut self) {
        self.tick_beat += self.tick_pos as f64 * self.beats_per_sample;
        self.tick_pos = 0;
        self.update_light();
        let target = self.target_mood();
        self.glide.step(target);
        if !self.host_locked() {
            let want = self.requested_tempo();
            let k = crate::dsp::util::one_pole_coef(
                TEMPO_GLIDE_S,
                self.sample_rate / CONTROL_PERIOD as f32,
            ) as f64;
            self.tempo += (want - self.tempo) * k;
        }
        self.beats_per_sample = self.tempo / 60.0 / self.sample_rate as f64;
        self.update_timbre();
    }

    /// Mood to timbre: the part of the mood that glides continuously.
    fn update_timbre(&mut self) {
        let m = self.glide.current;
        let v01 = (m.valence + 1.0) * 0.5;
        // The key light colours the band: brighter light, brighter tone (and, in the
        // composer, a higher register); without light the mood alone decides.
        let light = self.effective_intensity().filter(|i| i.is_finite());
        let lift = light.map_or(0.0, |i| i.clamp(0.0, 1.0) - 0.5);
        self.bass.set_tone(
            (0.3 + 0.45 * m.arousal + 0.1 * m.tension + LIGHT_TONE.0 * lift).clamp(0.0, 1.0),
        );
        let keys_tone = (0.2 + 0.35 * v01 + 0.35 * m.arousal + LIGHT_TONE.1 * lift).clamp(0.0, 1.0);
        self.keys.set_tone(keys_tone, 0.1 + 0.6 * m.tension);
        self.piano.set_tone(keys_tone);
        self.harp.set_tone(keys_tone);
        self.brass
            .set_tone((0.25 + 0.45 * m.arousal + 0.2 * m.tension + 0.3 * lift).clamp(0.0, 1.0));
        self.perc
            .set_tone((0.35 + 0.4 * m.arousal + 0.3 * lift).clamp(0.0, 1.0));
        self.mix_want.grain = grain_amount(self.settings.grain, m.tension);
        self.mix_want.grain_detail = self.settings.grain_detail;
        self.ambience
            .set_light(light.map_or_else(|| mood_brightness(m), |i| i.clamp(0.0, 1.0)));
        self.lead.set_character(self.composer.horn_character(m));
        // A style's lyrical solo trumpet plays open; otherwise the trumpet wears its harmon.
        self.lead.set_mute(if self.composer.style().lead.open {
            0.0
        } else {
            1.0
        });
        self.mix_want.room = self.composer.style().room;
        if self.composer.style().which != self.levels_style {
            self.apply_levels();
        }
        self.sync_mix();
        self.lead.set_expression(
            0.35 + 0.4 * (1.0 - m.arousal),
            0.3 + 0.4 * (1.0 - m.arousal),
        );
        // Strings carry tension and ballads; they thin out as the band heats up.
        self.pad
            .set_level((0.15 + 0.75 * m.tension - 0.25 * m.arousal).clamp(0.05, 1.0));
        self.pad.set_tension(m.tension);
        // Darkness brings the rain: from the light when it comes in, else from the mood.
        let dark = 1.0
            - self
                .effective_intensity()
                .unwrap_or_else(|| mood_brightness(m));
        let rain = (0.1 + 0.55 * dark).clamp(0.0, 1.0);
        let traffic = (0.15 + 0.35 * m.arousal + 0.2 * m.tension).clamp(0.0, 1.0);
        let vinyl = (0.15 + 0.2 * (1.0 - v01)).clamp(0.0, 1.0);
        self.ambience.set_amount(rain, traffic, vinyl);
    }

    fn dispatch(&mut self, event: Event) {
        let kind = event.kind;
        if matches!(
            kind,
            EventKind::BassOn { .. }
                | EventKind::KeysOn { .. }
                | EventKind::Drum { .. }
                | EventKind::LeadOn { .. }
                | EventKind::HarpOn { .. }
                | EventKind::BrassOn { .. }
                | EventKind::Perc { .. }
        ) {
            self.events_played += 1;
        }
        if self.event_log_len < EVENT_LOG_CAPACITY {
            self.event_log[self.event_log_len] = PlayedEvent {
                offset: self.block_offset as u32,
                event,
            };
            self.event_log_len += 1;
        } else {
            self.log_overflow += 1;
        }
        match kind {
            EventKind::BassOn { note, velocity } => self.bass.note_on(note, velocity),
            EventKind::BassOff => self.bass.note_off(),
            EventKind::KeysOn {
                note,
                velocity,
                keyboard,
            } => {
                if keyboard.is_piano() {
                    self.piano.set_preparation(match keyboard {
                        Keyboard::HonkyTonk => Preparation::HonkyTonk,
                        Keyboard::Prepared => Preparation::Prepared,
                        _ => Preparation::None,
                    });
                    if keyboard == Keyboard::Prepared && note >= PREPARED_PLUCK_FROM {
                        // Above the cluster register the pianist reaches inside and plucks.
                        self.piano.pluck(note, velocity)
                    } else {
                        self.piano.note_on(note, velocity)
                    }
                } else {
                    self.keys.note_on(note, velocity)
                }
            }
            EventKind::KeysOff { note, keyboard } => {
                if keyboard.is_piano() {
                    self.piano.note_off(note)
                } else {
                    self.keys.note_off(note)
                }
            }
            EventKind::KeysPedal { down } => self.piano.set_pedal(down),
            EventKind::Drum { hit, velocity } => self.drums.hit(hit, velocity),
            EventKind::Swirl { level, rate_hz } => self.drums.set_swirl(level, rate_hz),
            EventKind::KeysAllOff => {
                self.keys.all_notes_off();
                self.piano.all_notes_off();
            }
            EventKind::LeadOn {
                note,
                velocity,
                legato,
            } => {
                if legato {
                    self.lead.glide_to(note, 0.06);
                } else {
                    self.lead.note_on(note, velocity);
                }
            }
            EventKind::LeadOff => self.lead.note_off(),
            EventKind::LeadFall { time_s } => self.lead.fall(time_s),
            EventKind::PadChord { notes, len } => self
                .pad
                .set_chord(&notes[..(len as usize).min(notes.len())]),
            EventKind::HarpOn { note, velocity } => self.harp.note_on(note, velocity),
            EventKind::HarpOff { note } => self.harp.note_off(note),
            EventKind::BrassOn {
                note,
                velocity,
                art,
            } => self.brass.note_on(note, velocity, art),
            EventKind::BrassOff { note } => self.brass.note_off(note),
            EventKind::BrassFall { note, time_s } => self.brass.fall(note, time_s),
            EventKind::Perc { hit, velocity } => self.perc.hit(hit, velocity),
        }
    }

    /// A stinger for a lighting hit at the current position: on the next beat or at once. Hits
    /// within the cooldown (`Settings::stinger_cooldown_s`, as interactive-music middleware
    /// has) after the last stinger are dropped, so a strobe's burst of hits plays one
    /// stinger; hits that land within `STINGER_MIN_SPACING_BEATS` of the last stinger merge into it (a
    /// strobe's burst plays one stinger), so the plan never runs more than a beat ahead.
    fn fire_stinger(&mut self, strength: f32) {
        let now = self.beat_position();
        let at = match self.settings.stinger {
            StingerTiming::Immediate => now,
            StingerTiming::NextBeat => now.ceil(),
        };
        if at < 0.0 || at < self.last_stinger_beat + STINGER_MIN_SPACING_BEATS - 1e-9 {
            return;
        }
        let cooldown = (self.settings.stinger_cooldown_s as f64 * self.sample_rate as f64) as u64;
        if let Some(last) = self.last_stinger_sample {
            if self.samples_rendered < last.saturating_add(cooldown) {
                return;
            }
        }
        self.last_stinger_beat = at;
        self.last_stinger_sample = Some(self.samples_rendered);
        // Plan the beats up to the stinger first so it lands on top of them (at most the one
        // beat `at`: `at` is never later than the next beat).
        while (self.next_plan_beat as f64) <= at {
            let ctx = self.beat_context();
            self.composer.plan_beat(self.next_plan_beat, &ctx);
            self.next_plan_beat += 1;
        }
        self.composer.stinger(at, strength);
    }

    /// How far ahead of the playhead the composer has planned, in beats (at most about 1).
    pub fn planned_ahead_beats(&self) -> f64 {
        self.next_plan_beat as f64 - self.beat_position()
    }

    /// Renders `left.len()` samples (any length; `right` must be as long) following `host`.
    pub fn process(&mut self, host: &HostTransport, left: &mut [f32], right: &mut [f32]) {
        let mut none: StemOutputs = Default::default();
        self.process_stems(host, left, right, &mut none);
    }

    /// Like `process`, also writing the stems the caller asks for (each as long as `left`);
    /// the stems sum to the main output (up to rounding, and the -1 dBFS safety clamp).
    pub fn process_stems(
        &mut self,
        host: &HostTransport,
        left: &mut [f32],
        right: &mut [f32],
        stems: &mut StemOutputs,
    ) {
        let len = left.len().min(right.len());
        self.event_log_len = 0;
        self.beat_log_len = 0;
        self.sync_transport(host, len);
        if let Some(strength) = self.pending_hit.take() {
            self.fire_stinger(strength);
        }
        let mut i = 0;
        self.span_start = 0;
        while i < len {
            self.block_offset = i;
            if self.tick_pos >= CONTROL_PERIOD {
                self.mix_deferred = true;
                self.control_tick();
                self.mix_deferred = false;
                if self.mix_want != self.mix_applied {
                    // The samples so far were played under the old controls.
                    self.mix_span(i, left, right, stems);
                    self.apply_mix();
                }
            }
            // Due at this sample: anything up to a hair past it (the clock's rounding must not
            // push a beat that falls exactly on this sample to the next one).
            let now = self.beat_position() + DUE_EPS_BEATS;
            // Plan beats and fire every event due at this sample.
            loop {
                if now >= self.next_plan_beat as f64 {
                    let ctx = self.beat_context();
                    if self.beat_log_len < BEAT_LOG_CAPACITY {
                        self.beat_log[self.beat_log_len] = BeatMark {
                            offset: i as u32,
                            beat: self.next_plan_beat,
                            tempo_bpm: self.tempo,
                            mood: self.glide.current,
                        };
                        self.beat_log_len += 1;
                    }
                    self.composer.plan_beat(self.next_plan_beat, &ctx);
                    self.next_plan_beat += 1;
                    continue;
                }
                match self.composer.queue.pop_due(now) {
                    Some(e) => self.dispatch(e),
                    None => break,
                }
            }
            // Render up to the next event, beat, tick or block end.
            let mut n = (len - i).min(CONTROL_PERIOD - self.tick_pos).min(MAX_BLOCK);
            let mut next = self.next_plan_beat as f64;
            if let Some(b) = self.composer.queue.peek_beat() {
                next = next.min(b);
            }
            let until = ((next - now) / self.beats_per_sample).ceil();
            if until.is_finite() && until >= 1.0 && until < n as f64 {
                n = until as usize;
                // Never step past the first sample at which `next` is due.
                while n > 1
                    && self.tick_beat
                        + (self.tick_pos + n - 1) as f64 * self.beats_per_sample
                        + DUE_EPS_BEATS
                        >= next
                {
                    n -= 1;
                }
            }
            let mut n = n.max(1);
            if i - self.span_start == MAX_BLOCK {
                self.mix_span(i, left, right, stems);
            }
            n = n.min(MAX_BLOCK - (i - self.span_start));
            self.render(i - self.span_start, n);
            self.tick_pos += n;
            i += n;
        }
        self.mix_span(len, left, right, stems);
        self.samples_rendered += len as u64;
        self.timeline_samples = self.timeline_samples.saturating_add(len as i64);
    }

    /// Mixes the span rendered since `span_start` (to `end`, exclusive) into the outputs and
    /// starts the next span there. A part whose level has glided all the way to off is parked
    /// at once (`render`), so it is reset when it is heard again, as if checked at every piece.
    fn mix_span(
        &mut self,
        end: usize,
        left: &mut [f32],
        right: &mut [f32],
        stems: &mut StemOutputs,
    ) {
        let (a, n) = (self.span_start, end - self.span_start);
        if n == 0 {
            return;
        }
        let mut target = MixTarget {
            left: &mut left[a..end],
            right: &mut right[a..end],
            stems: stems
                .each_mut()
                .map(|o| o.as_mut().map(|(l, r)| (&mut l[a..end], &mut r[a..end]))),
        };
        let s = &self.scratch;
        let inputs: [(&[f32], &[f32]); CHANNELS] =
            std::array::from_fn(|c| (&s[c][0][..n], &s[c][1][..n]));
        self.mixer.process(&inputs, &mut target);
        let heard = self.mixer.heard();
        for (p, h) in self.parked.iter_mut().zip(heard) {
            *p |= !h;
        }
        self.span_start = end;
    }

    /// Renders the voices' next `n` samples into the scratch span at `at`.
    fn render(&mut self, at: usize, n: usize) {
        for ch in self.scratch.iter_mut() {
            ch[0][at..at + n].fill(0.0);
            ch[1][at..at + n].fill(0.0);
        }
        if self.beat_position() + DUE_EPS_BEATS < 0.0 {
            // A host's pre-roll: silence until beat 0 (chunks end exactly there, since beat 0
            // is the next beat to plan); the room's tail still rings out.
            return;
        }
        // A part whose level is off, and has glided all the way there, is not played: the
        // mixer would scale it by exactly zero, so the mix is the same without it. It comes
        // back from rest (reset) when its level comes up, and sounds from its next note.
        // (`heard` is as of the last mixed span: a part that went quiet since plays on into
        // the zero gain until then.)
        let heard = self.mixer.heard();
        for c in 0..CHANNELS {
            if heard[c] && self.parked[c] {
                self.reset_part(c);
            }
            self.parked[c] = !heard[c];
        }
        for (c, buf) in self.scratch.iter_mut().enumerate() {
            if !heard[c] {
                continue;
            }
            let [l, r] = buf;
            let (l, r) = (&mut l[at..at + n], &mut r[at..at + n]);
            // The channel's voices, as `reset_part` lists them.
            match c {
                0 => self.bass.render(l, r),
                1 => self.drums.render(l, r),
                2 => {
                    self.keys.render(l, r);
                    self.piano.render(l, r);
                }
                3 => self.lead.render(l, r),
                4 => self.pad.render(l, r),
                5 => self.ambience.render(l, r),
                6 => self.harp.render(l, r),
                7 => self.brass.render(l, r),
                _ => self.perc.render(l, r),
            }
        }
    }

    /// Bar number (0-based) at the current position.
    pub fn bar(&self) -> u64 {
        (self.beat_position().max(0.0) as u64) / BEATS_PER_BAR
    }

    /// Timeline position in seconds of the next sample to render (host timeline when the host
    /// transport plays, else time since the last reset).
    pub fn timeline_seconds(&self) -> f64 {
        self.timeline_samples as f64 / self.sample_rate as f64
    }

    /// The sample rate the engine was built for.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Samples rendered since the last reset.
    pub fn samples_rendered(&self) -> u64 {
        self.samples_rendered
    }
}
