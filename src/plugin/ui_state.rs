//! Audio → GUI telemetry and the editor's persisted size.
//!
//! `UiState` is shared (`Arc`) between the plugin and its editor. The audio thread writes it at
//! the end of `process()` through `UiWriter` using only atomics (relaxed stores, a seqlock for the
//! two short texts): no allocation, no locks, no logging. The GUI thread reads it each frame.
//! The meters, texts and mood are only published while an editor is watching: the GUI copies the
//! audio thread's sample counter back each frame (`mark_watched`), and the audio thread skips the
//! work when that copy is more than a second old. GUI → audio goes only through parameters.
//!
//! `EditorSize` is the `#[persist = "editor-state"]` field: the editor's logical size, restored
//! with the plugin state and updated by the GUI thread when the window is resized.

use crate::engine::Engine;
use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// An `f32` in an `AtomicU32` (relaxed: every value stands alone).
#[derive(Debug, Default)]
pub struct AtomicF32(AtomicU32);

impl AtomicF32 {
    /// A new cell holding `v`.
    pub const fn new(v: f32) -> Self {
        Self(AtomicU32::new(v.to_bits()))
    }
    /// The value.
    pub fn load(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
    /// Sets the value.
    pub fn store(&self, v: f32) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    /// Raises the value to `v` if `v` is larger (both must be non-negative: their bit patterns
    /// then order like the numbers).
    pub fn fetch_max_positive(&self, v: f32) {
        self.0.fetch_max(v.max(0.0).to_bits(), Ordering::Relaxed);
    }
    /// Returns the value and resets it to 0.
    pub fn take(&self) -> f32 {
        f32::from_bits(self.0.swap(0, Ordering::Relaxed))
    }
}

/// An `f64` in an `AtomicU64`.
#[derive(Debug, Default)]
pub struct AtomicF64(AtomicU64);

impl AtomicF64 {
    /// A new cell holding `v`.
    pub const fn new(v: f64) -> Self {
        Self(AtomicU64::new(v.to_bits()))
    }
    /// The value.
    pub fn load(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
    /// Sets the value.
    pub fn store(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
}

/// A short UTF-8 text written by one thread and read by others without locks: a seqlock over
/// atomic bytes, so a torn read is detected and retried (never undefined behaviour).
#[derive(Debug)]
pub struct AtomicText<const N: usize> {
    /// Even while stable, odd while the writer is in the middle of an update.
    seq: AtomicU32,
    /// Bytes in use.
    len: AtomicU8,
    /// The UTF-8 bytes.
    bytes: [AtomicU8; N],
}

impl<const N: usize> Default for AtomicText<N> {
    fn default() -> Self {
        Self {
            seq: AtomicU32::new(0),
            len: AtomicU8::new(0),
            bytes: [const { AtomicU8::new(0) }; N],
        }
    }
}

impl<const N: usize> AtomicText<N> {
    /// Replaces the text (single writer; truncated at a character boundary to fit). Lock- and
    /// allocation-free: safe on the audio thread.
    pub fn write(&self, parts: &[&str]) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        let mut n = 0;
        'outer: for part in parts {
            for ch in part.chars() {
                let mut buf = [0u8; 4];
                let enc = ch.encode_utf8(&mut buf).as_bytes();
                if n + enc.len() > N.min(u8::MAX as usize) {
                    break 'outer;
                }
                for b in enc {
                    self.bytes[n].store(*b, Ordering::Relaxed);
                    n += 1;
                }
            }
        }
        self.len.store(n as u8, Ordering::Relaxed);
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// Copies the text into `out` (GUI thread). Returns false (leaving `out` alone) if the
    /// writer was busy on every try.
    pub fn read_into(&self, out: &mut String) -> bool {
        for _ in 0..4 {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let len = (self.len.load(Ordering::Relaxed) as usize).min(N);
            let mut buf = [0u8; N];
            for (b, a) in buf.iter_mut().zip(&self.bytes[..len]) {
                *b = a.load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                out.clear();
                out.push_str(std::str::from_utf8(&buf[..len]).unwrap_or("?"));
                return true;
            }
        }
        false
    }
}

/// A mood as three atomics (valence -1..1, arousal 0..1, tension 0..1).
#[derive(Debug, Default)]
pub struct AtomicMood {
    /// Valence, -1..1.
    pub valence: AtomicF32,
    /// Arousal, 0..1.
    pub arousal: AtomicF32,
    /// Tension, 0..1.
    pub tension: AtomicF32,
}

impl AtomicMood {
    fn store(&self, m: crate::mood::Mood) {
        self.valence.store(m.valence);
        self.arousal.store(m.arousal);
        self.tension.store(m.tension);
    }
    /// `[valence, arousal, tension]`.
    pub fn load(&self) -> [f32; 3] {
        [
            self.valence.load(),
            self.arousal.load(),
            self.tension.load(),
        ]
    }
}

/// Output channels metered.
pub const METER_CHANNELS: usize = 2;
/// RMS meter integration time (seconds): a VU-like 300 ms.
const RMS_TAU_S: f32 = 0.3;

/// Everything the editor shows that only the audio thread knows. See the module docs.
#[derive(Debug, Default)]
pub struct UiState {
    /// Samples processed since the plugin was created (the audio thread's heartbeat).
    pub samples: AtomicU64,
    /// The value of `samples` the GUI last saw: a watcher is present while this is recent.
    pub gui_seen_samples: AtomicU64,
    /// Sample rate the audio thread runs at (Hz).
    pub sample_rate: AtomicF32,
    /// The live (glided) mood the timbre follows.
    pub live_mood: AtomicMood,
    /// The mood the engine heads for (manual blended with incoming light).
    pub target_mood: AtomicMood,
    /// The mood the harmony and rhythm currently follow (changes on the quantize grid).
    pub committed_mood: AtomicMood,
    /// Tempo (BPM).
    pub tempo_bpm: AtomicF32,
    /// Position on the beat grid (quarter notes).
    pub beat_position: AtomicF64,
    /// Timeline position (seconds) for the cue-sheet playhead.
    pub timeline_s: AtomicF64,
    /// Bar within the current form (0-based).
    pub bar_in_form: AtomicU32,
    /// Notes and strokes played since the last reset.
    pub events_played: AtomicU64,
    /// The current chord symbol, e.g. "Dm7b5".
    pub chord: AtomicText<24>,
    /// The current form and section, e.g. "minor ii-V-i · B (bridge)".
    pub form: AtomicText<32>,
    /// Peak |sample| per output channel since the GUI last took it (linear).
    pub peak: [AtomicF32; METER_CHANNELS],
    /// RMS per output channel over ~300 ms (linear).
    pub rms: [AtomicF32; METER_CHANNELS],
}

impl UiState {
    /// The GUI calls this every frame: keeps the audio thread publishing.
    pub fn mark_watched(&self) {
        self.gui_seen_samples
            .store(self.samples.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// True while an editor has looked within the last second of audio.
    pub fn is_watched(&self) -> bool {
        let now = self.samples.load(Ordering::Relaxed);
        let seen = self.gui_seen_samples.load(Ordering::Relaxed);
        let window = self.sample_rate.load().max(8000.0) as u64;
        now.wrapping_sub(seen) <= window
    }

    /// The audio has advanced since `samples` was read (a rough "is audio running").
    pub fn samples(&self) -> u64 {
        self.samples.load(Ordering::Relaxed)
    }
}

/// The audio thread's side of `UiState`: owns the meter integrators. Lives in the plugin and is
/// used only from `process()` (and `activate()` for the sample rate).
#[derive(Debug, Default)]
pub struct UiWriter {
    /// Mean square per channel, integrated over `RMS_TAU_S`.
    mean_square: [f32; METER_CHANNELS],
    /// Sample rate (Hz).
    sample_rate: f32,
    /// Last chord published (the text is rewritten only when it changes).
    last_chord: Option<crate::composer::harmony::Chord>,
    /// Last form, section and blackout state published.
    last_form: Option<(
        crate::composer::harmony::Form,
        crate::composer::Section,
        bool,
    )>,
}

impl UiWriter {
    /// Call from `activate()`.
    pub fn set_sample_rate(&mut self, ui: &UiState, sample_rate: f32) {
        self.sample_rate = sample_rate;
        ui.sample_rate.store(sample_rate);
        self.mean_square = [0.0; METER_CHANNELS];
        self.last_chord = None;
        self.last_form = None;
    }

    /// Publishes the engine's state and the block's output levels. Call at the end of
    /// `process()`. Atomics only: no allocation, locks or I/O.
    pub fn publish(&mut self, ui: &UiState, engine: &Engine, outputs: &[&mut [f32]]) {
        let n = outputs.first().map_or(0, |c| c.len());
        ui.samples.fetch_add(n as u64, Ordering::Relaxed);
        if !ui.is_watched() {
            self.last_chord = None;
            self.last_form = None;
            return;
        }
        ui.live_mood.store(engine.mood());
        ui.target_mood.store(engine.target_mood());
        ui.committed_mood.store(engine.committed_mood());
        ui.tempo_bpm.store(engine.tempo_bpm() as f32);
        ui.beat_position.store(engine.beat_position());
        ui.timeline_s.store(engine.timeline_seconds());
        ui.events_played
            .store(engine.events_played(), Ordering::Relaxed);
        let now = engine.now_playing();
        ui.bar_in_form
            .store(now.bar_in_form as u32, Ordering::Relaxed);
        if self.last_chord != Some(now.chord) {
            ui.chord
                .write(&[now.chord.root_name(), now.chord.quality.symbol()]);
            self.last_chord = Some(now.chord);
        }
        let form = (now.form, now.section, now.blackout);
        if self.last_form != Some(form) {
            if now.blackout {
                ui.form.write(&[now.form.name(), " · blackout"]);
            } else {
                ui.form.write(&[now.form.name(), " · ", now.section.name()]);
            }
            self.last_form = Some(form);
        }
        if n == 0 {
            return;
        }
        let coef = 1.0 - (-(n as f32) / (RMS_TAU_S * self.sample_rate.max(1.0))).exp();
        for (ch, out) in outputs.iter().take(METER_CHANNELS).enumerate() {
            let mut peak = 0.0f32;
            let mut sum = 0.0f32;
            for &x in out.iter() {
                peak = peak.max(x.abs());
                sum += x * x;
            }
            let ms = &mut self.mean_square[ch];
            *ms += (sum / n as f32 - *ms) * coef;
            if !ms.is_finite() {
                *ms = 0.0;
            }
            if peak.is_finite() {
                ui.peak[ch].fetch_max_positive(peak);
            }
            ui.rms[ch].store(ms.sqrt());
        }
    }
}

/// Default editor size (logical points).
pub const EDITOR_DEFAULT_SIZE: (u32, u32) = (1000, 660);
/// Smallest editor size (logical points): every panel still fits without clipped text.
pub const EDITOR_MIN_SIZE: (u32, u32) = (820, 560);
/// Largest editor size (logical points).
pub const EDITOR_MAX_SIZE: (u32, u32) = (2400, 1600);

/// The saved form of the editor size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorSizeData {
    /// Logical width in points.
    pub width: u32,
    /// Logical height in points.
    pub height: u32,
}

/// The editor's logical size, persisted with the plugin state (`#[persist = "editor-state"]`).
/// Atomics, so the GUI thread's resize and the host's state load never block each other.
#[derive(Debug)]
pub struct EditorSize {
    /// Logical width in points.
    width: AtomicU32,
    /// Logical height in points.
    height: AtomicU32,
}

impl Default for EditorSize {
    fn default() -> Self {
        Self {
            width: AtomicU32::new(EDITOR_DEFAULT_SIZE.0),
            height: AtomicU32::new(EDITOR_DEFAULT_SIZE.1),
        }
    }
}

impl EditorSize {
    /// `(width, height)` in logical points, within the allowed range.
    pub fn get(&self) -> (u32, u32) {
        clamp_size(
            self.width.load(Ordering::Relaxed),
            self.height.load(Ordering::Relaxed),
        )
    }
    /// Stores a new size (clamped to the allowed range).
    pub fn set(&self, width: u32, height: u32) {
        let (w, h) = clamp_size(width, height);
        self.width.store(w, Ordering::Relaxed);
        self.height.store(h, Ordering::Relaxed);
    }
}

fn clamp_size(w: u32, h: u32) -> (u32, u32) {
    (
        w.clamp(EDITOR_MIN_SIZE.0, EDITOR_MAX_SIZE.0),
        h.clamp(EDITOR_MIN_SIZE.1, EDITOR_MAX_SIZE.1),
    )
}

impl<'a> PersistentField<'a, EditorSizeData> for EditorSize {
    fn set(&self, new_value: EditorSizeData) {
        EditorSize::set(self, new_value.width, new_value.height);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&EditorSizeData) -> R,
    {
        let (width, height) = self.get();
        f(&EditorSizeData { width, height })
    }
}

impl<'a> PersistentField<'a, EditorSizeData> for std::sync::Arc<EditorSize> {
    fn set(&self, new_value: EditorSizeData) {
        PersistentField::set(self.as_ref(), new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&EditorSizeData) -> R,
    {
        PersistentField::map(self.as_ref(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_truncates_on_char_boundary() {
        let t = AtomicText::<8>::default();
        let mut s = String::new();
        t.write(&["Db", "m7b5"]);
        assert!(t.read_into(&mut s));
        assert_eq!(s, "Dbm7b5");
        // "abc" + "ééé" is 3 + 6 bytes: the third é would make 9 > 8, so it is dropped whole.
        t.write(&["abc", "ééé"]);
        assert!(t.read_into(&mut s));
        assert_eq!(s, "abcéé");
    }

    #[test]
    fn peak_fetch_max_and_take() {
        let a = AtomicF32::default();
        a.fetch_max_positive(0.25);
        a.fetch_max_positive(0.5);
        a.fetch_max_positive(0.125);
        assert_eq!(a.take(), 0.5);
        assert_eq!(a.load(), 0.0);
    }

    #[test]
    fn watched_only_within_a_second() {
        let ui = UiState::default();
        ui.sample_rate.store(48000.0);
        ui.mark_watched();
        ui.samples.fetch_add(48000, Ordering::Relaxed);
        assert!(ui.is_watched());
        ui.samples.fetch_add(1, Ordering::Relaxed);
        assert!(!ui.is_watched());
    }

    #[test]
    fn editor_size_is_clamped_and_persists() {
        let s = EditorSize::default();
        PersistentField::set(
            &s,
            EditorSizeData {
                width: 10,
                height: 99999,
            },
        );
        assert_eq!(s.get(), (EDITOR_MIN_SIZE.0, EDITOR_MAX_SIZE.1));
        let json = s.map(|d| serde_json::to_string(d).unwrap());
        assert_eq!(
            json,
            format!(
                "{{\"width\":{},\"height\":{}}}",
                EDITOR_MIN_SIZE.0, EDITOR_MAX_SIZE.1
            )
        );
    }
}
