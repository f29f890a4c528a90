//! `LightEvent`: one validated piece of incoming light, as a small `Copy` value. The OSC
//! network thread (and the CLI, and tests) builds them; the audio thread receives them through
//! a bounded lock-free queue (`rtrb`) and applies them in `LightModel::apply`. Nothing here
//! allocates; every number in an event is already finite and inside its documented range.

/// Most colours a palette holds (osc.md: 1 to 16 quads).
pub const MAX_PALETTE: usize = 16;

/// A scene palette: up to 16 colours `[r, g, b, weight]`, each 0..1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Palette {
    /// The colours; only the first `len` count.
    pub colors: [[f32; 4]; MAX_PALETTE],
    /// How many colours are set (0 = no palette).
    pub len: u8,
}

impl Default for Palette {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl Palette {
    /// No palette.
    pub const EMPTY: Palette = Palette {
        colors: [[0.0; 4]; MAX_PALETTE],
        len: 0,
    };

    /// The colours in use.
    pub fn colors(&self) -> &[[f32; 4]] {
        &self.colors[..(self.len as usize).min(MAX_PALETTE)]
    }

    /// A palette from a slice of quads (extra ones beyond 16 are ignored; values clamped).
    pub fn from_quads(quads: &[[f32; 4]]) -> Palette {
        let mut p = Palette::EMPTY;
        for (i, q) in quads.iter().take(MAX_PALETTE).enumerate() {
            for k in 0..4 {
                p.colors[i][k] = clamp01(q[k]);
            }
        }
        p.len = quads.len().min(MAX_PALETTE) as u8;
        p
    }
}

/// Which mood component a `/mood/*` override sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MoodAxis {
    /// -1..1.
    Valence,
    /// 0..1.
    Arousal,
    /// 0..1.
    Tension,
}

/// A `/cue/go` target: a cue number counted from 1, or the FNV-1a hash of a cue name (the
/// audio thread compares hashes, never strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CueRef {
    /// Cue number, counted from 1 as desks count.
    Index(u32),
    /// `name_hash(name)`.
    Name(u64),
}

/// One piece of incoming light. See osc.md for the meaning of each.
// The palette variant is large on purpose: events travel by value through a fixed ring buffer
// (boxing it would allocate on the network thread and free on the audio thread).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LightEvent {
    /// Overall light level 0..1 (0 = blackout).
    Intensity(f32),
    /// Key light colour, each 0..1.
    Rgb([f32; 3]),
    /// Colour temperature of the white light, kelvin 1000..20000.
    Cct(f32),
    /// Key-to-fill contrast 0..1.
    Contrast(f32),
    /// Unsteadiness 0..1.
    Flicker(f32),
    /// A lighting event (flash, lightning), strength 0..1.
    Hit(f32),
    /// The light's heartbeat, BPM 20..300.
    Bpm(f32),
    /// A tap on the beat; `bpm` is the network thread's estimate from recent taps, if any.
    Beat {
        /// Tempo estimated from the tap intervals.
        bpm: Option<f32>,
    },
    /// The scene's palette.
    Palette(Palette),
    /// A direct mood override.
    MoodOverride(MoodAxis, f32),
    /// Drop every override, follow the light again (also releases a `/cue/go` hold).
    MoodRelease,
    /// Hold a cue of the loaded sheet (fading in with the cue's fade time).
    CueGo(CueRef),
    /// Eos: an active cue's progress 0..1 (`/eos/out/active/cue/<list>/<cue>`); it drives the
    /// fade of the cue with that number if the loaded sheet has one.
    CueProgress {
        /// The cue number as a name hash of its text (e.g. "12" or "12.5").
        cue: u64,
        /// 0..1.
        progress: f32,
    },
    /// A new cue sheet waits in the sheet queue: take it now, in order with the events around
    /// it (so a `/cue/go` right after `/noir/cues/load` finds its cue).
    SheetReady,
}

/// 64-bit FNV-1a of `s` (case-sensitive): how cue names travel to the audio thread.
pub fn name_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.trim().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `x` clamped to 0..1 (NaN to 0).
pub fn clamp01(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_small_and_copy() {
        // A palette is 16 * 4 * 4 = 256 bytes plus its length; the queue holds them by value.
        assert!(std::mem::size_of::<LightEvent>() <= 272);
        let e = LightEvent::Intensity(0.5);
        let f = e;
        assert_eq!(e, f);
    }

    #[test]
    fn palette_clamps_and_caps() {
        let quads = [[2.0, -1.0, f32::NAN, 0.5]; 20];
        let p = Palette::from_quads(&quads);
        assert_eq!(p.len, 16);
        assert_eq!(p.colors()[0], [1.0, 0.0, 0.0, 0.5]);
    }

    #[test]
    fn name_hash_trims_and_differs() {
        assert_eq!(name_hash(" alley "), name_hash("alley"));
        assert_ne!(name_hash("alley"), name_hash("Alley"));
    }
}
