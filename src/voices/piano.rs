//! Acoustic grand piano for comping and ballads: a modal model of hammered strings, which can
//! also be played as an old honky-tonk upright or as a prepared piano (objects on the strings).
//!
//! Per voice (one key): up to 24 string partials at stretched frequencies
//! `f_n = n f0 sqrt(1 + B n^2)` (the stiffness coefficient B grows up the keyboard), each a
//! pair of damped phasors: the *prompt* sound (fast decay) and the *aftersound* (slow decay,
//! a fraction of a cent away: the unison strings beating), which gives the piano's two-stage
//! decay. The felt hammer sets the spectrum: the strike point at 1/8 of the string (its comb
//! of weak partials), a corner that rises with velocity (a harder blow is brighter, not
//! only louder) and the hammer's contact, which lifts the fundamental over the rest. At
//! the attack a short knock (hammer and key on the keybed); the soundboard as a few broad
//! body modes under the strings. Dampers stop a note within 0.1-0.4 s of the
//! key lifting (the top notes have none and ring on); the sustain pedal holds every damper
//! off until it is lifted.
//!
//! [`Preparation::HonkyTonk`]: the upright's two or three unison strings per key are each a
//! phasor per partial, 8-25 cents apart (a fixed detuning per key), beside a prompt phasor at
//! the mean pitch; hard worn hammers, stiffer short strings, shorter sustain, a louder and
//! brighter action, and a boxier soundboard of its own. [`Preparation::Prepared`]: a fixed
//! chart puts a bolt, a screw, a screw with a loose nut, a rubber or a felt wedge on some keys'
//! strings. The object is a point mass (and spring and dashpot) on the string: the key's modes
//! are the roots of `cot(θp) + cot(θ(1-p)) = μθ - κ/θ` (inharmonic: the two string segments
//! and the object's own swing), damped by how much each mode moves the object; metal objects
//! ring (two bar modes) and a loose nut rattles against the string while it swings wider than
//! its gap. [`Piano::pluck`] excites the same modes with a fingertip at a fifth of the string.
//!
//! Audio thread: 12 voices plus 12 fading copies for stealing, all inline (no heap); the
//! phasor banks are flat arrays the compiler vectorises (up to 48 lanes for the grand, 24 to 64 for
//! the other instruments). The preparation chart's modes are solved in `new`. Idle voices
//! cost nothing.

use super::common::{
    bandpass, pan_gains, pick_key_slot, safety, unit_velocity, Bandpass, DcBlock, KeySlot, OnePole,
    Smooth,
};
use crate::dsp::util::{flush, midi_hz};
use crate::dsp::Rng;

const SEED: u64 = 0x5049_414E_4F00_0001;
const VOICES: usize = 12;
/// String partials per key of the grand (fewer where they would pass `PARTIAL_CEILING_HZ`):
/// with 12 a middle-register chord stopped at ~3-5 kHz, a General MIDI grand reaches 7.5;
/// with 20 a C3 had none above 2.7 kHz. 32 put more over 8 kHz than FluidR3's grand has.
const PARTIALS: usize = 24;
/// Phasors per voice: a prompt and an aftersound phasor per partial (a key whose partials
/// pass the ceiling sooner runs fewer, a multiple of eight).
const LANES: usize = 2 * PARTIALS;
/// Modes of a prepared (or plucked) key's strings, and their phasors.
const PREP_PARTIALS: usize = 12;
const PREP_LANES: usize = 2 * PREP_PARTIALS;
const LOWEST_NOTE: u8 = 21;
const HIGHEST_NOTE: u8 = 108;
/// Keys from here up have no dampers (as on a grand: the top octave and a half).
const UNDAMPED_FROM: u8 = 89;
/// No partial above this (or 0.45 of the sample rate).
const PARTIAL_CEILING_HZ: f32 = 11_000.0;
/// The grand's felt corner at velocity 0 and its rise with velocity squared (Hz).
const GRAND_CORNER_HZ: (f32, f32) = (350.0, 6500.0);
/// The grand's spectral tilt: partial k's amplitude goes as 1/k^tilt (times the strike comb
/// and the felt).
const GRAND_TILT: f32 = 0.5;
/// The grand's fundamental over what a point blow gives it (the hammer's few milliseconds
/// on the string round the blow): with the strike comb at 1/8, partials 2-4 were as strong
/// as the fundamental, a hump at 0.5-1 kHz 8 dB over a General MIDI grand's. Full from
/// middle C up, 0.15 of it at C2 and below; partial 2 gets 3.6 % of it, the rest none.
const GRAND_FUNDAMENTAL_LIFT: f32 = 4.0;
/// The soundboard's radiation as the microphones hear it, on every plain string (the grand's,
/// the upright's, a plucked or free string; a key with an object keeps its own voicing): a
/// broad presence (centre Hz, width in octaves, gain over the rest at the centre)
/// and a roll-off above a corner (Hz, fourth order in power). Applied to each partial after
/// the strings' loudness is set, so it shapes the tone and leaves the level to the strings.
/// Without it the grand's 2-4 kHz sat 5-7 dB under FluidR3's grand and 8-12 kHz 4-8 dB over.
const BOARD_PRESENCE: (f32, f32, f32) = (3200.0, 0.6, 1.0);
const BOARD_AIR_HZ: f32 = 7000.0;
/// Where the hammer strikes, as a fraction of the string's length.
const STRIKE_POINT: f32 = 0.125;
/// Share of each partial's energy in the slowly decaying aftersound.
const AFTERSOUND: f32 = 0.28;
/// The prompt sound decays this many times faster than the aftersound.
const PROMPT_RATIO: f32 = 7.0;
/// Output gain (a four-note voicing at velocity 0.7 peaks about 0.35-0.45, like the Rhodes).
const OUT_GAIN: f32 = 0.1;
/// Soundboard body resonances (Hz, Q, gain at the centre): broad, low bumps under the strings.
const BOARD: [(f32, f32, f32); 3] = [(110.0, 1.4, 0.3), (240.0, 1.6, 0.22), (520.0, 1.8, 0.12)];
/// Samples between checks for a voice that has rung down to silence.
const CHECK_EVERY: u32 = 256;

// ---- Shared by the preparations -------------------------------------------------------------

/// Most phasors one voice holds (the upright's partials: see `HT_PARTIALS`).
const MAX_LANES: usize = 64;
/// Phasors of a prepared key with a free string (the modes, the object's ring, string 1).
const PREPARED_LANES: usize = 48;
/// A prepared key's lanes: its modes (prompt + aftersound each) from 0, then the object's ring.
const RING_LANE: usize = PREP_LANES;
/// Ring modes of an object (a bolt's first bending modes, or the nut's buzz).
const RING_MODES: usize = 4;
/// Then the free string (an object between strings 2 and 3 leaves string 1 to sound normally).
const FREE_LANE: usize = RING_LANE + RING_MODES;
/// Partials of that free string (prompt + aftersound each).
const FREE_PARTIALS: usize = (PREPARED_LANES - FREE_LANE) / 2;
/// Where a finger plucks the string inside the case, as a fraction of its length.
const PLUCK_POINT: f32 = 0.2;
/// A plucked string rings mostly in the slow (horizontal) polarisation: aftersound share.
const PLUCK_AFTERSOUND: f32 = 0.62;
/// ... and couples less to the bridge, so every mode rings this much longer than if struck.
const PLUCK_SUSTAIN: f32 = 1.4;
/// Fingertip / nail corner (Hz) at a gentle and at a hard pluck (a harder pluck uses the nail).
const PLUCK_CORNER_HZ: (f32, f32) = (2500.0, 7000.0);

// ---- Honky-tonk upright ---------------------------------------------------------------------

/// Spread of each key's unison (cents between its lowest and highest string), bass .. treble.
const HT_SPREAD_CENTS: (f32, f32) = (8.0, 17.0);
/// Extra spread drawn per key (fixed, from the key's own seed): 8..25 cents in all.
const HT_SPREAD_JITTER_CENTS: f32 = 8.0;
/// Standard deviation of each key's whole-unison drift from equal temperament (cents / 3).
const HT_DRIFT_CENTS: f32 = 1.3;
/// Upright partials: the lowest `HT_UNISON_PARTIALS` as a prompt phasor plus one per string
/// (4 lanes each), the rest up to `HT_PARTIALS` as the unison's two outer strings (2 lanes):
/// 12 x 4 + 8 x 2 = 64 lanes. Worn hard hammers leave more overtones than the grand's 12.
const HT_PARTIALS: usize = 20;
const HT_UNISON_PARTIALS: usize = 12;
/// Keys from here up have three strings per note, below two (the upright's bichords).
const HT_TRICHORD_FROM: u8 = 41;
/// Worn, hard hammers: the felt corner is this many times the grand's first felt's
/// (350 + 3600 v^2 Hz; the grand's own is now `GRAND_CORNER_HZ`).
const HT_HAMMER_HARDNESS: f32 = 2.6;
/// Spectral tilt of the partials (the grand's is `GRAND_TILT`): grooved felt leaves more overtones
/// (0.5 until the grand's tilt went from 0.8 to 0.5, 0.35 until the board's presence lifted
/// the grand's 2-4 kHz: its upper partials stay over twice the grand's above 2 kHz).
const HT_TILT: f32 = 0.25;
/// Short, thick upright strings: stiffness (inharmonicity) relative to the grand's.
const HT_STIFFNESS: f32 = 2.2;
/// Sustain relative to the grand's (small board, tired strings).
const HT_SUSTAIN: f32 = 0.45;
/// Share of each partial's energy in the prompt phasor at the unison's mean pitch.
const HT_PROMPT: f32 = 0.3;
/// Each unison string's decay relative to the key's (worn strings are unequal).
const HT_STRING_DECAY: [f32; 3] = [1.0, 0.7, 1.35];
/// Weaker bass fundamental than the grand's (short bass strings): its floor at the bottom.
const HT_LOW_FLOOR: f32 = 0.35;
/// Action noise: knock level relative to the grand's, its decay (s), corner Hz soft..hard.
const HT_KNOCK_GAIN: f32 = 1.8;
const HT_KNOCK_S: f32 = 0.008;
const HT_KNOCK_HZ: (f32, f32) = (2200.0, 4000.0);
/// Key return (and damper landing) on release, relative to the strike's knock.
const HT_RELEASE_NOISE: f32 = 0.3;
/// A plucked upright string: the share of the energy its detuned neighbours pick up.
const HT_PLUCK_SYMPATHY: f32 = 0.01;
/// Damper time (s) bass .. treble: old felt, slower than the grand's.
const HT_DAMPER_S: (f32, f32) = (0.5, 0.18);
/// Pan width (-w..w, bass left): an upright against the wall is a narrow source.
const HT_PAN_WIDTH: f32 = 0.2;
/// The upright's body (Hz, Q, gain): smaller, boxier, a midrange honk and little low bass.
const UPRIGHT_BOARD: [(f32, f32, f32); 4] = [
    (170.0, 2.2, 0.18),
    (360.0, 2.6, 0.3),
    (760.0, 3.0, 0.28),
    (1550.0, 3.2, 0.16),
];
/// Samples of exact silence from the upright bus before its body filters stop being run.
const UPRIGHT_QUIET_RUN: u32 = 64;

// ---- Prepared piano ---------------------------------------------------------------------------

/// What sits between a key's strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Object {
    /// A heavy machine bolt: a deep swing below the note and gong-like partials, a long clang.
    Bolt,
    /// A wood screw: lighter, the partials bent less, a small high ring.
    Screw,
    /// A screw with a loose nut: the nut buzzes against the string while it swings wide.
    NutScrew,
    /// A rubber wedge: a dull, pitch-shifted thud, quickly gone.
    Rubber,
    /// A strip of felt: muted, a little longer than rubber.
    Felt,
}

/// The physical constants of an object (one line per object in `OBJECTS`).
#[derive(Clone, Copy, Debug)]
struct ObjectSpec {
    /// Mass relative to a middle-C string's (scaled by the string's mass up and down the keys).
    mass: f32,
    /// Stiffness of the wedge, relative to the string's tension / length (raises the modes).
    stiffness: f32,
    /// Loss through the object (1/s of amplitude decay for a mode whose antinode is there).
    loss: f32,
    /// Loss every mode gets (the contact is a few mm wide: no mode escapes it entirely), 1/s.
    loss_floor: f32,
    /// The object's own modes: (Hz, T60 s, level at the strike relative to the strings).
    ring: [(f32, f32, f32); RING_MODES],
    /// Rattle: the swing (relative to the lowest mode's fortissimo amplitude) beyond which the
    /// loose part hits the string; 0 for none.
    rattle_gap: f32,
    /// How hard each hit drives the ring modes.
    rattle: f32,
}

/// Index into `OBJECTS` by `Object as usize`.
const OBJECTS: [ObjectSpec; 5] = [
    // Bolt: heavy; a long metallic clang (a free-free bar: modes 1, 2.76, 5.40, 8.93).
    ObjectSpec {
        mass: 2.2,
        stiffness: 0.0,
        loss: 1.2,
        loss_floor: 0.15,
        ring: [
            (1850.0, 0.9, 0.05),
            (5100.0, 0.5, 0.03),
            (9990.0, 0.25, 0.015),
            (0.0, 0.0, 0.0),
        ],
        rattle_gap: 0.0,
        rattle: 0.0,
    },
    // Screw: light, a short high ring.
    ObjectSpec {
        mass: 0.6,
        stiffness: 0.0,
        loss: 1.5,
        loss_floor: 0.25,
        ring: [
            (3300.0, 0.4, 0.025),
            (8300.0, 0.2, 0.015),
            (0.0, 0.0, 0.0),
            (0.0, 0.0, 0.0),
        ],
        rattle_gap: 0.0,
        rattle: 0.0,
    },
    // Screw with a loose nut: the nut's modes buzz at every hit.
    ObjectSpec {
        mass: 0.8,
        stiffness: 0.0,
        loss: 2.0,
        loss_floor: 0.3,
        ring: [
            (2700.0, 0.1, 0.02),
            (4300.0, 0.08, 0.015),
            (6900.0, 0.06, 0.012),
            (9700.0, 0.05, 0.01),
        ],
        rattle_gap: 0.22,
        rattle: 10.0,
    },
    // Rubber: light, pinching (the modes rise), very lossy.
    ObjectSpec {
        mass: 0.15,
        stiffness: 6.0,
        loss: 45.0,
        loss_floor: 10.0,
        ring: [(0.0, 0.0, 0.0); RING_MODES],
        rattle_gap: 0.0,
        rattle: 0.0,
    },
    // Felt: less loss than rubber, hardly a pinch.
    ObjectSpec {
        mass: 0.08,
        stiffness: 1.0,
        loss: 22.0,
        loss_floor: 5.0,
        ring: [(0.0, 0.0, 0.0); RING_MODES],
        rattle_gap: 0.0,
        rattle: 0.0,
    },
];

/// How an impact of the loose nut shares out over its ring modes (signs: they start apart).
const RATTLE_MIX: [f32; RING_MODES] = [1.0, -0.8, 0.6, -0.5];
/// While the nut touches the string its lowest mode loses 60 dB in this time (s).
const RATTLE_DRAIN_S: f32 = 2.0;

/// The preparation chart: (key, object, position along the string from the hammer end as a
/// fraction of its length, whether the object leaves string 1 free: between strings 2-3
/// only). Keys not listed are unprepared. Positions avoid simple fractions (no mode is left
/// exactly untouched) and the strike and pluck points.
#[rustfmt::skip]
const CHART: [(u8, Object, f32, bool); 42] = [
    (28, Object::Bolt, 0.173, false),     // E1: a deep gong
    (31, Object::Rubber, 0.213, false),   // G1: a muffled drum
    (33, Object::Bolt, 0.237, false),     // A1
    (35, Object::NutScrew, 0.181, false), // B1: a bass buzz
    (36, Object::Bolt, 0.271, true),      // C2: gong over a clean C
    (38, Object::Rubber, 0.309, false),   // D2
    (40, Object::Screw, 0.223, false),    // E2
    (41, Object::NutScrew, 0.262, false), // F2
    (43, Object::Bolt, 0.187, false),     // G2
    (44, Object::Rubber, 0.243, false),   // G#2
    (45, Object::Screw, 0.293, true),     // A2
    (47, Object::Felt, 0.217, false),     // B2
    (48, Object::Bolt, 0.313, true),      // C3
    (50, Object::Rubber, 0.171, false),   // D3
    (51, Object::NutScrew, 0.233, false), // D#3
    (52, Object::Screw, 0.361, false),    // E3
    (53, Object::Bolt, 0.214, false),     // F3: bell-like
    (55, Object::Rubber, 0.283, false),   // G3
    (56, Object::Screw, 0.176, true),     // G#3
    (57, Object::Felt, 0.331, false),     // A3
    (58, Object::Bolt, 0.262, true),      // A#3
    (59, Object::NutScrew, 0.302, false), // B3
    (61, Object::Bolt, 0.371, false),     // C#4
    (62, Object::Screw, 0.214, false),    // D4
    (63, Object::Rubber, 0.342, false),   // D#4
    (65, Object::Screw, 0.271, true),     // F4
    (66, Object::NutScrew, 0.223, false), // F#4
    (67, Object::Rubber, 0.186, false),   // G4
    (68, Object::Bolt, 0.291, false),     // G#4
    (70, Object::Felt, 0.241, false),     // A#4
    (71, Object::Screw, 0.331, false),    // B4
    (72, Object::Bolt, 0.223, true),      // C5
    (74, Object::Rubber, 0.271, false),   // D5
    (75, Object::Screw, 0.183, false),    // D#5
    (77, Object::NutScrew, 0.313, false), // F5
    (79, Object::Bolt, 0.253, false),     // G5
    (80, Object::Screw, 0.353, false),    // G#5
    (82, Object::Rubber, 0.213, false),   // A#5
    (84, Object::Screw, 0.283, false),    // C6
    (87, Object::Bolt, 0.331, false),     // D#6
    (91, Object::Screw, 0.233, false),    // G6
    (96, Object::Bolt, 0.271, false),     // C7: a small bell
];

/// How the piano is prepared: applies to the notes struck after it is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Preparation {
    /// The concert grand, as it plays today.
    #[default]
    None,
    /// An old upright in a bar: each note's two or three unison strings detuned by 8-25
    /// cents (the honky-tonk chorus), hard worn hammers (bright, "tack"), a smaller and
    /// boxier soundboard, shorter sustain, a little key and action noise.
    HonkyTonk,
    /// Objects between the strings, by a fixed per-key table (a "preparation chart"):
    /// bolts and screws (gong-like inharmonic partials, clanging, a buzz or rattle against
    /// the string), rubber and felt wedges (a muted, pitch-shifted thud with a quick decay,
    /// the fundamental damped), and keys left unprepared. Documented in the table.
    Prepared,
}

/// One mode of a prepared string (before the string's own stiffness stretches it).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct PrepMode {
    /// Frequency relative to the key's unprepared fundamental.
    ratio: f32,
    /// Amplitude at the bridge after a hammer blow at `STRIKE_POINT` (an unprepared string's
    /// n-th partial: |sin(n pi STRIKE_POINT)|).
    hammer: f32,
    /// Amplitude at the bridge after a pluck at `PLUCK_POINT` (unprepared: |sin(n pi x)| / n).
    pluck: f32,
    /// How much the mode moves the object, 0..1 (unprepared: sin^2(n pi p)): its share of the
    /// object's loss.
    at_object: f32,
}

/// A key of the preparation chart, its modes solved once in `new`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct KeyPrep {
    /// The object, or `None` for a key left unprepared.
    object: Option<Object>,
    /// The object sits between strings 2 and 3: string 1 still sounds the plain note.
    free_string: bool,
    /// The modes of the prepared strings, lowest first (ratio 0: none).
    modes: [PrepMode; PREP_PARTIALS],
    /// This object's size against the table's (its ring modes scale by 1/size).
    size: f32,
}

impl KeyPrep {
    const FREE: KeyPrep = KeyPrep {
        object: None,
        free_string: false,
        modes: [PrepMode {
            ratio: 0.0,
            hammer: 0.0,
            pluck: 0.0,
            at_object: 0.0,
        }; PREP_PARTIALS],
        size: 1.0,
    };

    /// The chart's entry for `note`, its modes solved.
    fn for_key(note: u8) -> KeyPrep {
        let Some(&(_, object, p, free_string)) = CHART.iter().find(|e| e.0 == note) else {
            return KeyPrep::FREE;
        };
        let spec = OBJECTS[object as usize];
        // The string's mass halves about every octave up (shorter, thinner strings).
        let mu = (spec.mass * ((note as f32 - 60.0) / 12.0).exp2()).min(40.0);
        // Each object is a slightly different size: a fixed factor per key, 0.85..1.2.
        let size = 0.85 + 0.35 * (note as f32 * 0.618_034).fract();
        KeyPrep {
            object: Some(object),
            free_string,
            modes: string_modes(p as f64, mu as f64, spec.stiffness as f64),
            size,
        }
    }
}

/// The lowest `PREP_PARTIALS` modes of a string of length 1 (fixed ends) carrying a point object
/// at `p` of mass ratio `mu` (object / string) and stiffness `kappa` (K L / T). With the
/// mode shape `A1 sin(θx)` left of the object and `A2 sin(θ(1-x))` right of it
/// (A1 = sin θ(1-p), A2 = sin θp for continuity), the force balance at the object gives
/// `cot(θp) + cot(θ(1-p)) = μθ - κ/θ`; the left side falls from +inf to -inf between
/// neighbouring poles (θ = mπ/p, mπ/(1-p)), the right side rises: one root in each gap.
/// Where two poles coincide (p a simple fraction) a mode has a node at the object and
/// ignores it: θ is the pole itself.
fn string_modes(p: f64, mu: f64, kappa: f64) -> [PrepMode; PREP_PARTIALS] {
    use std::f64::consts::PI;
    let g = |t: f64| {
        (t * p).cos() / (t * p).sin() + (t * (1.0 - p)).cos() / (t * (1.0 - p)).sin() - mu * t
            + kappa / t
    };
    // Bridge force ~ tension x slope at x = 1 (A2 θ) x modal displacement; a hammer gives
    // the mode velocity shape(xs) / mass (displacement / θ), a pluck displacement / θ^2.
    let mode_at = |t: f64, node: bool| {
        let (a1, a2) = if node {
            (1.0, 0.0)
        } else {
            ((t * (1.0 - p)).sin(), (t * p).sin())
        };
        let shape = |x: f64| {
            if node || x <= p {
                a1 * (t * x).sin()
            } else {
                a2 * (t * (1.0 - x)).sin()
            }
        };
        let at = shape(p);
        let mass = if node {
            0.5
        } else {
            a1 * a1 * (p / 2.0 - (2.0 * t * p).sin() / (4.0 * t))
                + a2 * a2 * ((1.0 - p) / 2.0 - (2.0 * t * (1.0 - p)).sin() / (4.0 * t))
                + mu * at * at
        };
        // The slope at the bridge: A2 θ, or for a node mode the plain string's θ cos θ.
        let slope = if node { (t.cos()).abs() } else { a2.abs() };
        let bridge = |x: f64| (shape(x) * slope / mass * 0.5).abs();
        PrepMode {
            ratio: (t / PI) as f32,
            hammer: bridge(STRIKE_POINT as f64) as f32,
            pluck: (bridge(PLUCK_POINT as f64) * PI / t) as f32,
            at_object: (at * at / mass * 0.5).min(1.0) as f32,
        }
    };
    let mut out = [PrepMode::default(); PREP_PARTIALS];
    let (mut ma, mut mb) = (1.0f64, 1.0f64);
    let mut lo = 0.0f64;
    let mut n = 0;
    while n < PREP_PARTIALS {
        let (pa, pb) = (ma * PI / p, mb * PI / (1.0 - p));
        let hi = pa.min(pb);
        let coincide = (pa - pb).abs() < 1.0e-9 * hi;
        if pa <= pb || coincide {
            ma += 1.0;
        }
        if pb <= pa || coincide {
            mb += 1.0;
        }
        // Bisection on the sign (g > 0 left of the root); 60 halvings reach f64 precision.
        let (mut a, mut b) = (lo, hi);
        for _ in 0..60 {
            let mid = 0.5 * (a + b);
            if mid > 0.0 && g(mid) > 0.0 {
                a = mid;
            } else {
                b = mid;
            }
        }
        out[n] = mode_at(0.5 * (a + b), false);
        n += 1;
        if coincide && n < PREP_PARTIALS {
            out[n] = mode_at(hi, true);
            n += 1;
        }
        lo = hi;
    }
    out
}

#[derive(Clone, Copy, Debug)]
struct Voice {
    active: bool,
    held: bool,
    has_damper: bool,
    note: u8,
    age: u64,
    /// Phasor state (amplitude folded in) and per-sample rotation (decay folded in).
    re: [f32; MAX_LANES],
    im: [f32; MAX_LANES],
    c: [f32; MAX_LANES],
    s: [f32; MAX_LANES],
    /// Phasors in use (a multiple of 8): `LANES` for the grand, more for the other pianos.
    lanes: usize,
    /// Damper gain (1 while the key or pedal holds it) and its per-sample decay.
    rel: f32,
    rel_k: f32,
    /// Hammer/key knock: decaying noise through two one-poles.
    knock: f32,
    knock_k: f32,
    knock_a: f32,
    kz1: f32,
    kz2: f32,
    noise: u32,
    gl: f32,
    gr: f32,
    /// Output fade of a stolen voice's copy (1 -> 0 over 5 ms).
    fade: f32,
    fade_step: f32,
    check: u32,
    /// Sounds through the upright's body instead of the grand's (a honky-tonk note).
    upright: bool,
    /// Level of the key-return noise when the key lifts (0: none, as on the grand).
    release_knock: f32,
    /// Rattle: the lowest mode's swing beyond which the loose nut hits the string (0: none).
    gap: f32,
    /// Rattle: how hard a hit drives the ring lanes.
    rattle: f32,
    /// Rattle: the nut was against the string last sample.
    touching: bool,
    /// Rattle: the lowest mode's swing last sample (its change is the speed of an impact).
    last_swing: f32,
    /// Rattle: per-sample speed to speed per 1/48000 s (hits independent of the sample rate).
    speed_norm: f32,
    /// Rattle: per-sample loss of the lowest mode while the nut is in contact.
    grip: f32,
}

impl KeySlot for Voice {
    fn sounding(&self) -> bool {
        self.active
    }
    fn note(&self) -> u8 {
        self.note
    }
    fn held(&self) -> bool {
        self.held
    }
    fn loudness(&self) -> f32 {
        self.energy()
    }
    fn struck(&self) -> u64 {
        self.age
    }
}

impl Voice {
    const IDLE: Voice = Voice {
        active: false,
        held: false,
        has_damper: true,
        note: 60,
        age: 0,
        re: [0.0; MAX_LANES],
        im: [0.0; MAX_LANES],
        c: [0.0; MAX_LANES],
        s: [0.0; MAX_LANES],
        lanes: LANES,
        rel: 1.0,
        rel_k: 1.0,
        knock: 0.0,
        knock_k: 0.0,
        knock_a: 0.0,
        kz1: 0.0,
        kz2: 0.0,
        noise: 1,
        gl: 0.7,
        gr: 0.7,
        fade: 1.0,
        fade_step: 0.0,
        check: 0,
        upright: false,
        release_knock: 0.0,
        gap: 0.0,
        rattle: 0.0,
        touching: false,
        last_swing: 0.0,
        speed_norm: 1.0,
        grip: 1.0,
    };

    /// Energy left in the strings (for stealing the quietest and freeing silent voices).
    fn energy(&self) -> f32 {
        let mut e = 0.0;
        for k in 0..self.lanes {
            e += self.re[k] * self.re[k] + self.im[k] * self.im[k];
        }
        e * self.rel * self.rel * self.fade * self.fade
    }

    /// Sets phasor `lane` ringing at `hz` with a 60 dB decay of `t60` s, from amplitude `amp`.
    fn set_lane(&mut self, lane: usize, amp: f32, hz: f32, t60: f32, sr: f32) {
        let w = core::f32::consts::TAU * hz / sr;
        let rad = (-6.907_755 / (t60 * sr)).exp();
        self.c[lane] = rad * w.cos();
        self.s[lane] = rad * w.sin();
        // The string at rest when hit: every partial starts at zero displacement.
        self.re[lane] = amp;
        self.im[lane] = 0.0;
    }

    /// ADDS this voice into `l`, `r`; `pedal` holds the damper off. Inlined (as is its
    /// loop), so the piano's wide kernel compiles it wide.
    #[inline(always)]
    fn render(&mut self, l: &mut [f32], r: &mut [f32], pedal: bool) {
        match (self.lanes, self.gap > 0.0) {
            (8, false) => self.render_lanes::<8, false>(l, r, pedal),
            (16, false) => self.render_lanes::<16, false>(l, r, pedal),
            (24, false) => self.render_lanes::<24, false>(l, r, pedal),
            (32, false) => self.render_lanes::<32, false>(l, r, pedal),
            (32, true) => self.render_lanes::<32, true>(l, r, pedal),
            (40, false) => self.render_lanes::<40, false>(l, r, pedal),
            (48, false) => self.render_lanes::<48, false>(l, r, pedal),
            (48, true) => self.render_lanes::<48, true>(l, r, pedal),
            (56, false) => self.render_lanes::<56, false>(l, r, pedal),
            _ => self.render_lanes::<MAX_LANES, false>(l, r, pedal),
        }
    }

    /// The render loop over `N` phasors; `RATTLE` adds the loose nut's contact.
    #[inline(always)]
    fn render_lanes<const N: usize, const RATTLE: bool>(
        &mut self,
        l: &mut [f32],
        r: &mut [f32],
        pedal: bool,
    ) {
        let damping = !self.held && !pedal && self.has_damper;
        for i in 0..l.len() {
            // Eight accumulators, lane k into acc[k % 8] in order of k (the original sum); the
            // inner loop over a chunk of eight is what the compiler turns into SIMD.
            let mut acc = [0.0f32; 8];
            for k0 in (0..N).step_by(8) {
                for j in 0..8 {
                    let k = k0 + j;
                    let (re, im) = (self.re[k], self.im[k]);
                    self.re[k] = re * self.c[k] - im * self.s[k];
                    let y = re * self.s[k] + im * self.c[k];
                    self.im[k] = y;
                    acc[j] += y;
                }
            }
            if RATTLE {
                self.rattle_tick();
            }
            let strings = acc.iter().sum::<f32>() * self.rel;
            let mut knock = 0.0;
            if self.knock != 0.0 {
                self.noise ^= self.noise << 13;
                self.noise ^= self.noise >> 17;
                self.noise ^= self.noise << 5;
                let n = (self.noise as f32 * (1.0 / 2_147_483_648.0) - 1.0) * self.knock;
                self.kz1 += self.knock_a * (n - self.kz1);
                self.kz2 += self.knock_a * (self.kz1 - self.kz2);
                knock = self.kz2;
                self.knock = flush(self.knock * self.knock_k);
                if self.knock == 0.0 {
                    self.kz1 = 0.0;
                    self.kz2 = 0.0;
                }
            }
            if damping {
                self.rel = flush(self.rel * self.rel_k);
            }
            let mut y = (strings + knock) * self.fade;
            if self.fade_step > 0.0 {
                self.fade -= self.fade_step;
                if self.fade <= 0.0 {
                    self.fade = 0.0;
                    y = 0.0;
                    self.active = false;
                }
            }
            l[i] += y * self.gl;
            r[i] += y * self.gr;
            self.check += 1;
            if self.check >= CHECK_EVERY {
                self.check = 0;
                // Phasors rung down below -120 dB are stopped exactly (no subnormal tails);
                // a voice with nothing left is freed.
                for k in 0..N {
                    if self.re[k] * self.re[k] + self.im[k] * self.im[k] < 1.0e-12 {
                        self.re[k] = 0.0;
                        self.im[k] = 0.0;
                    }
                }
                if self.energy() < 1.0e-10 && self.knock == 0.0 {
                    self.active = false;
                }
            }
            if !self.active {
                *self = Voice::IDLE;
                return;
            }
        }
    }

    /// One sample of the loose nut: the lowest mode (lanes 0 and 1) carries it; when its swing
    /// passes the gap the nut strikes the string, an impact as strong as the approach is fast
    /// (and each bounce a little different), which rings the nut's modes; while in contact
    /// it drains the mode (a rattle costs the string energy).
    #[inline]
    fn rattle_tick(&mut self) {
        let swing = (self.im[0] + self.im[1]).abs();
        let touching = swing > self.gap;
        if touching {
            if !self.touching {
                self.noise ^= self.noise << 13;
                self.noise ^= self.noise >> 17;
                self.noise ^= self.noise << 5;
                let bounce = 0.4 + 1.2 * (self.noise as f32 * (1.0 / 4_294_967_296.0));
                let speed = (swing - self.last_swing).max(0.0) * self.speed_norm;
                let hit = speed * self.rattle * bounce;
                for (j, m) in RATTLE_MIX.iter().enumerate() {
                    self.re[RING_LANE + j] += hit * m;
                }
            }
            for k in 0..2 {
                self.re[k] *= self.grip;
                self.im[k] *= self.grip;
            }
        }
        self.touching = touching;
        self.last_swing = swing;
    }
}

/// Acoustic grand piano. See the module docs.
pub struct Piano {
    sr: f32,
    voices: [Voice; VOICES],
    ghosts: [Voice; VOICES],
    counter: u64,
    rng: Rng,
    bright: Smooth,
    pedal: bool,
    board: [Bandpass; 3],
    dc: [DcBlock; 2],
    /// The preparation the next struck notes get.
    prep: Preparation,
    /// The preparation chart, key 21 first, modes solved in `new`.
    chart: [KeyPrep; (HIGHEST_NOTE - LOWEST_NOTE + 1) as usize],
    /// The honky-tonk upright's own body resonances.
    upright_board: [Bandpass; 4],
    /// The upright bus (and its body) is running: an upright note sounds or its body rings.
    upright_live: bool,
    /// Samples the upright bus and body have been exactly silent (they stop after a run).
    upright_quiet: u32,
}

/// How a string is set going.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exciter {
    /// The key's felt hammer (with its knock).
    Hammer,
    /// The pianist's finger inside the case (no hammer, no knock).
    Finger,
}

impl Piano {
    pub fn new(sample_rate: f32) -> Self {
        let sr = sample_rate;
        let mut chart = [KeyPrep::FREE; (HIGHEST_NOTE - LOWEST_NOTE + 1) as usize];
        for (i, k) in chart.iter_mut().enumerate() {
            *k = KeyPrep::for_key(LOWEST_NOTE + i as u8);
        }
        let mut p = Self {
            sr,
            voices: [Voice::IDLE; VOICES],
            ghosts: [Voice::IDLE; VOICES],
            counter: 0,
            rng: Rng::new(SEED),
            bright: Smooth::new(sr, 0.05, 0.5),
            pedal: false,
            board: BOARD.map(|(hz, q, _)| bandpass(sr, hz, q)),
            dc: [DcBlock::new(sr, 10.0), DcBlock::new(sr, 10.0)],
            prep: Preparation::None,
            chart,
            upright_board: UPRIGHT_BOARD.map(|(hz, q, _)| bandpass(sr, hz, q)),
            upright_live: false,
            upright_quiet: 0,
        };
        p.reset();
        p
    }

    pub fn reset(&mut self) {
        self.voices = [Voice::IDLE; VOICES];
        self.ghosts = [Voice::IDLE; VOICES];
        self.counter = 0;
        self.rng = Rng::new(SEED);
        self.bright.set_now(0.5);
        self.pedal = false;
        for m in &mut self.board {
            m.reset();
        }
        for d in &mut self.dc {
            d.reset();
        }
        self.prep = Preparation::None;
        for m in &mut self.upright_board {
            m.reset();
        }
        self.upright_live = false;
        self.upright_quiet = 0;
    }

    /// How the piano is prepared for the notes struck from now on (sounding notes keep theirs).
    pub fn set_preparation(&mut self, p: Preparation) {
        self.prep = p;
    }

    /// Strike `note` (21..=108) at `velocity` 0..1; velocity 0 is a key release.
    pub fn note_on(&mut self, note: u8, velocity: f32) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        let vel = unit_velocity(velocity);
        if vel <= 0.0 {
            self.note_off(note);
            return;
        }
        let key = self.chart[(note - LOWEST_NOTE) as usize];
        match self.prep {
            Preparation::HonkyTonk => self.strike_upright(note, vel, Exciter::Hammer),
            Preparation::Prepared if key.object.is_some() => {
                self.strike_modal(note, vel, Exciter::Hammer, &key)
            }
            _ => self.strike_grand(note, vel),
        }
    }

    /// The pianist plucks the string inside the piano (fingertip or nail; no hammer, no
    /// knock): brighter at the attack, a longer ring, with the key's preparation.
    ///
    /// The other hand holds the key down silently (its damper off) until `note_off(note)`;
    /// a honky-tonk pluck sets one string of the unison going (no beating, the others
    /// answer faintly). Velocity 0 (or NaN) plucks nothing.
    pub fn pluck(&mut self, note: u8, velocity: f32) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        let vel = unit_velocity(velocity);
        if vel <= 0.0 {
            return;
        }
        let key = match self.prep {
            Preparation::Prepared => self.chart[(note - LOWEST_NOTE) as usize],
            _ => KeyPrep::FREE,
        };
        match self.prep {
            Preparation::HonkyTonk => self.strike_upright(note, vel, Exciter::Finger),
            _ => self.strike_modal(note, vel, Exciter::Finger, &key),
        }
    }

    /// Takes the voice a strike of `note` sounds on (a restrike or a steal leaves a copy that
    /// fades in 5 ms) and the hammers' tone at this moment (the smoother settles between notes).
    fn begin_strike(&mut self, note: u8) -> (usize, f32) {
        let slot = pick_key_slot(&self.voices, note);
        if self.voices[slot].active {
            let mut g = self.voices[slot];
            g.fade_step = 1.0 / (0.005 * self.sr);
            self.ghosts[slot] = g;
        }
        self.counter += 1;
        let bright = {
            let b = self.bright.target;
            self.bright.set_now(b);
            b
        };
        (slot, bright)
    }

    /// The concert grand's hammer blow (the original model, kept bit for bit).
    fn strike_grand(&mut self, note: u8, vel: f32) {
        let (slot, bright) = self.begin_strike(note);
        let sr = self.sr;
        let rng = &mut self.rng;
        let pitch01 = (note - LOWEST_NOTE) as f32 / (HIGHEST_NOTE - LOWEST_NOTE) as f32;
        let f0 = midi_hz(note as f32 + rng.gauss(0.4) * 0.01);
        // String stiffness: ~7e-5 in the bass, ~4e-4 at middle C, ~6e-3 at the top.
        let b_coef = 4.0e-4 * ((note as f32 - 60.0) / 12.0 * 1.3).exp2();
        // Aftersound decay of the fundamental: long in the bass, short at the top.
        let t_after = 15.0 * (-(note as f32 - 36.0) / 12.0 * 0.55).exp2();
        // Hammer corner: soft felt ~400 Hz, a hard blow several kHz; brightness voices it.
        let corner = (GRAND_CORNER_HZ.0 + GRAND_CORNER_HZ.1 * vel * vel) * (0.6 + 0.8 * bright);
        let ceiling = PARTIAL_CEILING_HZ.min(0.45 * sr);
        let v = &mut self.voices[slot];
        *v = Voice::IDLE;
        v.active = true;
        v.held = true;
        v.has_damper = note < UNDAMPED_FROM;
        v.note = note;
        v.age = self.counter;
        let mut amps = [0.0f32; PARTIALS];
        let mut freqs = [0.0f32; PARTIALS];
        let mut norm = 0.0f32;
        let lift_reach = 0.15 + 0.85 * ((note as f32 - 36.0) / 24.0).clamp(0.0, 1.0);
        let mut used = 0;
        for n in 0..PARTIALS {
            let k = (n + 1) as f32;
            let f = k * f0 * (1.0 + b_coef * k * k).sqrt();
            if f >= ceiling {
                break;
            }
            let strike = (core::f32::consts::PI * k * STRIKE_POINT).sin().abs();
            // The felt's roll-off above its corner: 6 dB/octave in amplitude (with the 1/k^0.8
            // of the string, ~11 dB/octave; 12 dB/octave of felt left the grand 13-20 dB
            // under a General MIDI grand between 2 and 8 kHz).
            let felt = 1.0 / (1.0 + (f / corner) * (f / corner)).sqrt();
            // The bass strings' fundamental is weak on the soundboard.
            let low = if n == 0 {
                0.55 + 0.45 * pitch01.min(0.4) / 0.4
            } else {
                1.0
            };
            // The hammer's contact rounds the blow: the fundamental stands over the rest
            // (less so in the bass, whose long strings keep their upper partials).
            let contact =
                1.0 + (GRAND_FUNDAMENTAL_LIFT - 1.0) * lift_reach * (-(k - 1.0) / 0.3).exp();
            let a = strike * felt * low * contact / k.powf(GRAND_TILT);
            amps[n] = a;
            freqs[n] = f;
            norm += a * a;
            used = n + 1;
        }
        let loud = (0.08 + 0.92 * vel.powf(1.6)) / norm.sqrt().max(1.0e-6);
        for n in 0..PARTIALS {
            if amps[n] == 0.0 {
                continue;
            }
            let k = (n + 1) as f32;
            let f = freqs[n];
            // Upper partials die faster (losses grow with frequency; with 0.3 per partial
            // and a 3 kHz knee the top of a chord was gone within a few hundred ms, where a
            // General MIDI grand keeps its 2-5 kHz for the note).
            let t_slow = t_after / (1.0 + 0.15 * (k - 1.0) + (f / 4500.0) * (f / 4500.0));
            let t_fast = t_slow / PROMPT_RATIO;
            let a = amps[n] * loud * board_radiation(f);
            let detune =
                1.0 + (0.3 + 0.9 * rng.f32()) * 5.78e-4 * if rng.chance(0.5) { 1.0 } else { -1.0 };
            for (lane, amp, hz, t60) in [
                (2 * n, a * (1.0 - AFTERSOUND).sqrt(), f, t_fast),
                (2 * n + 1, a * AFTERSOUND.sqrt(), f * detune, t_slow),
            ] {
                v.set_lane(lane, amp, hz, t60, sr);
            }
        }
        v.lanes = (2 * used).div_ceil(8).max(1) * 8;
        let rel_t = 0.35 - 0.25 * pitch01;
        v.rel = 1.0;
        v.rel_k = (-6.907_755 / (rel_t.max(0.08) * sr)).exp();
        v.knock = 0.06 * vel * vel * (1.0 + 0.6 * (1.0 - pitch01));
        v.knock_k = (-6.907_755 / (0.012 * sr)).exp();
        v.knock_a = OnePole::new(sr, 900.0 + 1600.0 * vel).a;
        v.noise = (rng.next_u64() as u32) | 1;
        // The player's view: bass to the left, treble to the right.
        let (gl, gr) = pan_gains(-0.35 + 0.7 * pitch01);
        v.gl = gl;
        v.gr = gr;
        v.fade = 1.0;
        v.fade_step = 0.0;
        v.check = 0;
    }

    /// A prepared key (or any key plucked, outside the honky-tonk): the modes of the chart's
    /// string (or the plain string's), the object's ring, the free string 1 when the object
    /// sits between strings 2 and 3, and the loose nut's rattle.
    fn strike_modal(&mut self, note: u8, vel: f32, exciter: Exciter, key: &KeyPrep) {
        let (slot, bright) = self.begin_strike(note);
        let sr = self.sr;
        let rng = &mut self.rng;
        let pitch01 = (note - LOWEST_NOTE) as f32 / (HIGHEST_NOTE - LOWEST_NOTE) as f32;
        let f0 = midi_hz(note as f32 + rng.gauss(0.4) * 0.01);
        let b_coef = 4.0e-4 * ((note as f32 - 60.0) / 12.0 * 1.3).exp2();
        let t_after = 15.0 * (-(note as f32 - 36.0) / 12.0 * 0.55).exp2();
        let ceiling = PARTIAL_CEILING_HZ.min(0.45 * sr);
        let hammer = exciter == Exciter::Hammer;
        let corner = if hammer {
            (350.0 + 3600.0 * vel * vel) * (0.6 + 0.8 * bright)
        } else {
            PLUCK_CORNER_HZ.0 + (PLUCK_CORNER_HZ.1 - PLUCK_CORNER_HZ.0) * vel
        };
        let (after, sustain) = if hammer {
            (AFTERSOUND, 1.0)
        } else {
            (PLUCK_AFTERSOUND, PLUCK_SUSTAIN)
        };
        let spec = key.object.map(|o| OBJECTS[o as usize]);
        let modes = match spec {
            Some(_) => key.modes,
            None => plain_modes(),
        };
        // The hammer meets all three strings; a finger plucks the prepared one.
        let (prepared_share, free_share): (f32, f32) = match (key.free_string, hammer) {
            (false, _) => (1.0, 0.0),
            (true, true) => (2.0 / 3.0, 1.0 / 3.0),
            (true, false) => (0.9, 0.1),
        };
        let level = 0.08 + 0.92 * vel.powf(1.6);
        // A mode's amplitude at the bridge: the exciter's shape x its corner x the felt's tilt.
        let excite = |m: &PrepMode, f: f32, n: usize| {
            let corner_gain = 1.0 / (1.0 + (f / corner) * (f / corner));
            let low = if n == 0 {
                0.55 + 0.45 * pitch01.min(0.4) / 0.4
            } else {
                1.0
            };
            if hammer {
                m.hammer * corner_gain * low / m.ratio.max(0.5).powf(0.8)
            } else {
                m.pluck * corner_gain * low
            }
        };
        // Decay of a mode at `f` (relative frequency `k`) with `loss` (1/s) from the object.
        let t60 = |f: f32, k: f32, loss: f32| {
            let t =
                sustain * t_after / (1.0 + 0.3 * (k.max(1.0) - 1.0) + (f / 3000.0) * (f / 3000.0));
            (
                1.0 / (1.0 / t + loss / 6.907_755),
                1.0 / (PROMPT_RATIO / t + loss / 6.907_755),
            )
        };
        let v = &mut self.voices[slot];
        *v = Voice::IDLE;
        v.active = true;
        v.held = true;
        v.has_damper = note < UNDAMPED_FROM;
        v.note = note;
        v.age = self.counter;
        let mut amps = [0.0f32; PREP_PARTIALS];
        let mut freqs = [0.0f32; PREP_PARTIALS];
        let mut norm = 0.0f32;
        for (n, m) in modes.iter().enumerate() {
            let f = m.ratio * f0 * (1.0 + b_coef * m.ratio * m.ratio).sqrt();
            if m.ratio <= 0.0 || f >= ceiling {
                continue;
            }
            amps[n] = excite(m, f, n);
            freqs[n] = f;
            norm += amps[n] * amps[n];
        }
        let loud = level * prepared_share.sqrt() / norm.sqrt().max(1.0e-6);
        for n in 0..PREP_PARTIALS {
            if amps[n] == 0.0 {
                continue;
            }
            let loss = spec.map_or(0.0, |o| o.loss * modes[n].at_object + o.loss_floor);
            let (t_slow, t_fast) = t60(freqs[n], modes[n].ratio, loss);
            // The board's presence on a plain string; an object's damping voices a prepared key.
            let a = amps[n] * loud * spec.map_or(board_radiation(freqs[n]), |_| 1.0);
            let detune =
                1.0 + (0.3 + 0.9 * rng.f32()) * 5.78e-4 * if rng.chance(0.5) { 1.0 } else { -1.0 };
            v.set_lane(2 * n, a * (1.0 - after).sqrt(), freqs[n], t_fast, sr);
            v.set_lane(2 * n + 1, a * after.sqrt(), freqs[n] * detune, t_slow, sr);
        }
        v.lanes = PREP_LANES;
        if let Some(o) = spec {
            // The object's own modes, struck by the jolt of the blow (a finger: a nudge).
            let jolt = level * if hammer { 1.0 } else { 0.4 };
            for (j, &(hz, t, g)) in o.ring.iter().enumerate() {
                let hz = hz / key.size;
                if g > 0.0 && hz < ceiling {
                    v.set_lane(RING_LANE + j, g * jolt, hz, t, sr);
                    v.lanes = 32;
                }
            }
            if o.rattle_gap > 0.0 && amps[0] > 0.0 {
                // The gap, against the lowest mode's swing at full velocity.
                v.gap = o.rattle_gap * amps[0] * loud / level;
                v.rattle = o.rattle;
                v.speed_norm = sr / 48000.0;
                v.grip = (-6.907_755 / (RATTLE_DRAIN_S * sr)).exp();
                v.lanes = 32;
            }
        }
        if free_share > 0.0 {
            // String 1, untouched by the object: a plain string of its own.
            let plain = plain_modes();
            let mut amps = [0.0f32; FREE_PARTIALS];
            let mut norm = 0.0f32;
            for n in 0..FREE_PARTIALS {
                let f = freqs_plain(f0, b_coef, n);
                if f < ceiling {
                    amps[n] = excite(&plain[n], f, n);
                    norm += amps[n] * amps[n];
                }
            }
            let loud = level * free_share.sqrt() / norm.sqrt().max(1.0e-6);
            for n in 0..FREE_PARTIALS {
                if amps[n] == 0.0 {
                    continue;
                }
                let f = freqs_plain(f0, b_coef, n);
                let (t_slow, t_fast) = t60(f, (n + 1) as f32, 0.0);
                let a = amps[n] * loud * board_radiation(f);
                let detune = 1.0 + (0.3 + 0.9 * rng.f32()) * 5.78e-4;
                v.set_lane(FREE_LANE + 2 * n, a * (1.0 - after).sqrt(), f, t_fast, sr);
                v.set_lane(
                    FREE_LANE + 2 * n + 1,
                    a * after.sqrt(),
                    f * detune,
                    t_slow,
                    sr,
                );
            }
            v.lanes = PREPARED_LANES;
        }
        let rel_t = 0.35 - 0.25 * pitch01;
        v.rel = 1.0;
        v.rel_k = (-6.907_755 / (rel_t.max(0.08) * sr)).exp();
        if hammer {
            v.knock = 0.06 * vel * vel * (1.0 + 0.6 * (1.0 - pitch01));
            v.knock_k = (-6.907_755 / (0.012 * sr)).exp();
            v.knock_a = OnePole::new(sr, 900.0 + 1600.0 * vel).a;
        }
        v.noise = (rng.next_u64() as u32) | 1;
        let (gl, gr) = pan_gains(-0.35 + 0.7 * pitch01);
        v.gl = gl;
        v.gr = gr;
    }

    /// A honky-tonk note: per partial a prompt phasor at the unison's mean pitch and one
    /// phasor per string at its own (badly tuned) pitch; hard hammers, a clattering action.
    fn strike_upright(&mut self, note: u8, vel: f32, exciter: Exciter) {
        let (slot, bright) = self.begin_strike(note);
        let sr = self.sr;
        let rng = &mut self.rng;
        let pitch01 = (note - LOWEST_NOTE) as f32 / (HIGHEST_NOTE - LOWEST_NOTE) as f32;
        let tuning = upright_tuning(note);
        let f0 = midi_hz(note as f32 + tuning.drift_cents * 0.01 + rng.gauss(0.4) * 0.01);
        let b_coef = HT_STIFFNESS * 4.0e-4 * ((note as f32 - 60.0) / 12.0 * 1.3).exp2();
        let t_after = HT_SUSTAIN * 15.0 * (-(note as f32 - 36.0) / 12.0 * 0.55).exp2();
        let ceiling = PARTIAL_CEILING_HZ.min(0.45 * sr);
        let hammer = exciter == Exciter::Hammer;
        let corner = if hammer {
            HT_HAMMER_HARDNESS * (350.0 + 3600.0 * vel * vel) * (0.6 + 0.8 * bright)
        } else {
            PLUCK_CORNER_HZ.0 + (PLUCK_CORNER_HZ.1 - PLUCK_CORNER_HZ.0) * vel
        };
        // Energy shares: the prompt, then each string. A finger sets one string going; the
        // others only answer through the bridge.
        let strings = tuning.strings;
        let mut share = [0.0f32; 4];
        if hammer {
            share[0] = HT_PROMPT;
            for j in 0..strings {
                share[1 + j] = (1.0 - HT_PROMPT) / strings as f32 * tuning.contact[j];
            }
        } else {
            // The plucked string's own fast (vertical) and slow (horizontal) polarisations.
            share[0] = 1.0 - PLUCK_AFTERSOUND;
            share[1] = PLUCK_AFTERSOUND - HT_PLUCK_SYMPATHY;
            for s in share.iter_mut().take(strings + 1).skip(2) {
                *s = HT_PLUCK_SYMPATHY / (strings - 1) as f32;
            }
        }
        let sustain = if hammer { 1.0 } else { PLUCK_SUSTAIN };
        let v = &mut self.voices[slot];
        *v = Voice::IDLE;
        v.active = true;
        v.held = true;
        v.has_damper = note < UNDAMPED_FROM;
        v.note = note;
        v.age = self.counter;
        v.upright = true;
        v.lanes = MAX_LANES;
        let mut amps = [0.0f32; HT_PARTIALS];
        let mut norm = 0.0f32;
        for n in 0..HT_PARTIALS {
            let k = (n + 1) as f32;
            let f = freqs_plain(f0, b_coef, n);
            if f >= ceiling {
                break;
            }
            let corner_gain = 1.0 / (1.0 + (f / corner) * (f / corner));
            // The short bass strings' fundamental is weaker still than the grand's.
            let low = if n == 0 {
                HT_LOW_FLOOR + (1.0 - HT_LOW_FLOOR) * pitch01.min(0.5) / 0.5
            } else {
                1.0
            };
            amps[n] = if hammer {
                (core::f32::consts::PI * k * STRIKE_POINT).sin().abs() * corner_gain * low
                    / k.powf(HT_TILT)
            } else {
                (core::f32::consts::PI * k * PLUCK_POINT).sin().abs() / k * corner_gain * low
            };
            norm += amps[n] * amps[n];
        }
        let loud = (0.08 + 0.92 * vel.powf(1.6)) / norm.sqrt().max(1.0e-6);
        // The prompt sounds at the unison's mean pitch (struck) or the plucked string's.
        let prompt_cents = if hammer {
            tuning.cents[..strings].iter().sum::<f32>() / strings as f32
        } else {
            tuning.cents[0]
        };
        for n in 0..HT_PARTIALS {
            if amps[n] == 0.0 {
                continue;
            }
            let k = (n + 1) as f32;
            let f = freqs_plain(f0, b_coef, n);
            let t_slow = sustain * t_after / (1.0 + 0.3 * (k - 1.0) + (f / 3000.0) * (f / 3000.0));
            let a = amps[n] * loud * board_radiation(f);
            let at = |cents: f32| f * (cents * (1.0 / 1200.0)).exp2();
            if n < HT_UNISON_PARTIALS {
                let t = t_slow / PROMPT_RATIO;
                v.set_lane(4 * n, a * share[0].sqrt(), at(prompt_cents), t, sr);
                for j in 0..strings {
                    let t = t_slow * HT_STRING_DECAY[j];
                    let lane = 4 * n + 1 + j;
                    v.set_lane(lane, a * share[1 + j].sqrt(), at(tuning.cents[j]), t, sr);
                }
            } else {
                // High partials: the two outer strings carry all of it (their beating is a
                // fast shimmer here); the rest of the energy goes to the first of them.
                let (j0, j1) = if hammer {
                    (strings - 2, strings - 1)
                } else {
                    (0, 1)
                };
                let lane = 4 * HT_UNISON_PARTIALS + 2 * (n - HT_UNISON_PARTIALS);
                let s1 = share[1 + j1];
                let s0 = 1.0 - s1;
                v.set_lane(lane, a * s0.sqrt(), at(tuning.cents[j0]), t_slow, sr);
                let t = t_slow * HT_STRING_DECAY[j1];
                v.set_lane(lane + 1, a * s1.sqrt(), at(tuning.cents[j1]), t, sr);
            }
        }
        let rel_t = HT_DAMPER_S.0 + (HT_DAMPER_S.1 - HT_DAMPER_S.0) * pitch01;
        v.rel = 1.0;
        v.rel_k = (-6.907_755 / (rel_t * sr)).exp();
        // The upright's action: louder, harder and shorter than the grand's, and it clacks
        // again when the key comes back up.
        let action = 0.06 * HT_KNOCK_GAIN * (1.0 + 0.6 * (1.0 - pitch01));
        if hammer {
            v.knock = action * vel * vel;
        }
        v.release_knock = action * HT_RELEASE_NOISE;
        v.knock_k = (-6.907_755 / (HT_KNOCK_S * sr)).exp();
        v.knock_a = OnePole::new(sr, HT_KNOCK_HZ.0 + (HT_KNOCK_HZ.1 - HT_KNOCK_HZ.0) * vel).a;
        v.noise = (rng.next_u64() as u32) | 1;
        let (gl, gr) = pan_gains(HT_PAN_WIDTH * (2.0 * pitch01 - 1.0));
        v.gl = gl;
        v.gr = gr;
    }

    /// The key lifts: its damper falls (unless the pedal holds it off or it has none).
    pub fn note_off(&mut self, note: u8) {
        let note = note.clamp(LOWEST_NOTE, HIGHEST_NOTE);
        for v in self.voices.iter_mut() {
            if v.active && v.held && v.note == note {
                v.held = false;
                if v.release_knock > 0.0 {
                    v.knock = v.knock.max(v.release_knock);
                }
            }
        }
    }

    /// Every key lifts and the pedal comes up (a blackout, a relocation).
    pub fn all_notes_off(&mut self) {
        self.pedal = false;
        for v in self.voices.iter_mut() {
            v.held = false;
        }
    }

    /// The sustain pedal: down holds every damper off; up lets the released keys' dampers fall.
    pub fn set_pedal(&mut self, down: bool) {
        self.pedal = down;
    }

    /// 0..1: the hammers' voicing (soft felt .. hard and bright), taken at each strike.
    pub fn set_tone(&mut self, brightness: f32) {
        if brightness.is_finite() {
            self.bright.target = brightness.clamp(0.0, 1.0);
        }
    }

    crate::dsp::simd::wide_method! {
        /// ADDS into `l`, `r` (len <= MAX_BLOCK).
        pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) = render_avx2 / render_portable
    }

    #[inline(always)]
    fn render_portable(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        if !self.upright_live
            && !self
                .voices
                .iter()
                .chain(self.ghosts.iter())
                .any(|v| v.active)
            && self.board.iter().all(|b| b.asleep())
            && self.dc.iter().all(|d| d.asleep())
        {
            // Nothing struck and the soundboard and DC blockers at rest: the block would add
            // exact zeros (the filters' gates hold them at zero), so it is skipped.
            return;
        }
        let mut start = 0;
        while start < n {
            let m = (n - start).min(64);
            let mut bl = [0.0f32; 64];
            let mut br = [0.0f32; 64];
            let mut ul = [0.0f32; 64];
            let mut ur = [0.0f32; 64];
            let pedal = self.pedal;
            for v in self.voices.iter_mut().chain(self.ghosts.iter_mut()) {
                if v.active {
                    if v.upright {
                        self.upright_live = true;
                        v.render(&mut ul[..m], &mut ur[..m], pedal);
                    } else {
                        v.render(&mut bl[..m], &mut br[..m], pedal);
                    }
                }
            }
            if !self.upright_live {
                for i in 0..m {
                    let mono = 0.5 * (bl[i] + br[i]);
                    let mut body = 0.0;
                    for (band, &(_, q, g)) in self.board.iter_mut().zip(BOARD.iter()) {
                        body += g / q * band.tick(mono);
                    }
                    let yl = safety(self.dc[0].tick((bl[i] + body) * OUT_GAIN));
                    let yr = safety(self.dc[1].tick((br[i] + body) * OUT_GAIN));
                    l[start + i] += yl;
                    r[start + i] += yr;
                }
            } else {
                self.render_with_upright(
                    &bl,
                    &br,
                    &ul,
                    &ur,
                    &mut l[start..start + m],
                    &mut r[start..start + m],
                );
            }
            start += m;
        }
    }

    /// The output stage while the upright sounds: the grand's bus through its board, the
    /// upright's through its own; the upright stage stops after a run of exact silence (its
    /// filters have gated to zero, so stopping it changes no sample).
    fn render_with_upright(
        &mut self,
        bl: &[f32; 64],
        br: &[f32; 64],
        ul: &[f32; 64],
        ur: &[f32; 64],
        l: &mut [f32],
        r: &mut [f32],
    ) {
        let any_upright = self
            .voices
            .iter()
            .chain(self.ghosts.iter())
            .any(|v| v.active && v.upright);
        for i in 0..l.len() {
            let mono = 0.5 * (bl[i] + br[i]);
            let mut body = 0.0;
            for (band, &(_, q, g)) in self.board.iter_mut().zip(BOARD.iter()) {
                body += g / q * band.tick(mono);
            }
            let umono = 0.5 * (ul[i] + ur[i]);
            let mut ubody = 0.0;
            let mut silent = umono == 0.0;
            for (band, &(_, q, g)) in self.upright_board.iter_mut().zip(UPRIGHT_BOARD.iter()) {
                let y = band.tick(umono);
                silent &= y == 0.0;
                ubody += g / q * y;
            }
            self.upright_quiet = if silent { self.upright_quiet + 1 } else { 0 };
            let yl = safety(self.dc[0].tick((bl[i] + body + (ul[i] + ubody)) * OUT_GAIN));
            let yr = safety(self.dc[1].tick((br[i] + body + (ur[i] + ubody)) * OUT_GAIN));
            l[i] += yl;
            r[i] += yr;
        }
        if !any_upright && self.upright_quiet >= UPRIGHT_QUIET_RUN {
            self.upright_live = false;
        }
    }
}

/// The soundboard's radiation gain for a partial at `hz` (see `BOARD_PRESENCE`).
fn board_radiation(hz: f32) -> f32 {
    let (centre, width, gain) = BOARD_PRESENCE;
    let x = (hz / centre).log2() / width;
    let air = hz / BOARD_AIR_HZ;
    (1.0 + gain * (-0.5 * x * x).exp()) / (1.0 + air * air * air * air).sqrt()
}

/// The unprepared string's modes (harmonic before the stiffness stretch): the grand's strike
/// comb and a pluck's.
fn plain_modes() -> [PrepMode; PREP_PARTIALS] {
    let mut m = [PrepMode::default(); PREP_PARTIALS];
    for (n, mode) in m.iter_mut().enumerate() {
        let k = (n + 1) as f32;
        mode.ratio = k;
        mode.hammer = (core::f32::consts::PI * k * STRIKE_POINT).sin().abs();
        mode.pluck = (core::f32::consts::PI * k * PLUCK_POINT).sin().abs() / k;
    }
    m
}

/// The `n`-th (from 0) stretched partial of a plain string.
fn freqs_plain(f0: f32, b_coef: f32, n: usize) -> f32 {
    let k = (n + 1) as f32;
    k * f0 * (1.0 + b_coef * k * k).sqrt()
}

/// A honky-tonk key's tuning: fixed per key (the same badly tuned piano every night).
#[derive(Clone, Copy, Debug, PartialEq)]
struct UprightTuning {
    /// Strings in the unison (2 in the bass, 3 above).
    strings: usize,
    /// Each string's pitch against the key's (cents).
    cents: [f32; 3],
    /// The whole unison's drift from equal temperament (cents).
    drift_cents: f32,
    /// How squarely the worn hammer meets each string (energy factor about 1).
    contact: [f32; 3],
}

/// The honky-tonk tuning of `note`, from the key's own seed (not the piano's stream).
fn upright_tuning(note: u8) -> UprightTuning {
    let mut rng = Rng::from_parts(SEED, note as u64, 0x4854);
    let pitch01 = (note.clamp(LOWEST_NOTE, HIGHEST_NOTE) - LOWEST_NOTE) as f32
        / (HIGHEST_NOTE - LOWEST_NOTE) as f32;
    let spread = HT_SPREAD_CENTS.0
        + (HT_SPREAD_CENTS.1 - HT_SPREAD_CENTS.0) * pitch01
        + HT_SPREAD_JITTER_CENTS * rng.f32();
    let drift_cents = rng.gauss(HT_DRIFT_CENTS);
    let (strings, cents) = if note >= HT_TRICHORD_FROM {
        // One string near the key's pitch, the other two flat and sharp of it.
        let a = 0.3 + 0.4 * rng.f32();
        (3, [0.0, -a * spread, (1.0 - a) * spread])
    } else {
        (2, [-0.5 * spread, 0.5 * spread, 0.0])
    };
    let mut contact = [0.0f32; 3];
    for c in contact.iter_mut().take(strings) {
        *c = 1.0 + 0.25 * rng.bipolar();
    }
    UprightTuning {
        strings,
        cents,
        drift_cents,
        contact,
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;

    fn play(p: &mut Piano, n: usize) -> (Vec<f32>, Vec<f32>) {
        render_with(n, &[64], |l, r| p.render(l, r))
    }

    fn scripted(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut p = Piano::new(sr);
        let events: [(usize, u8, f32); 10] = [
            (0, 48, 0.7),
            (0, 55, 0.6),
            (7, 64, 0.8),
            (2001, 70, 0.9),
            (4000, 48, 0.0),
            (4000, 55, 0.0),
            (6003, 96, 1.0),
            (9000, 70, 0.0),
            (9001, 33, 0.5),
            (20000, 33, 0.0),
        ];
        let at = events.map(|e| e.0);
        let apply = |p: &mut Piano, i: usize| {
            let (_, n, v) = events[i];
            if i == 5 {
                p.set_pedal(true);
            }
            if i == 8 {
                p.set_pedal(false);
            }
            if v > 0.0 {
                p.note_on(n, v)
            } else {
                p.note_off(n)
            }
        };
        play_script(&mut p, 40000, sizes, &at, apply, |p, l, r| p.render(l, r))
    }

    /// FNV-1a over the bits of a fixed grand-piano performance (restrikes, more notes than
    /// voices, pedal, tone changes, the undamped top, a full ring-out), rendered in odd blocks.
    fn grand_fingerprint(sr: f32) -> u64 {
        let mut p = Piano::new(sr);
        let mut at = Vec::new();
        let mut ev: Vec<(u8, f32, u8)> = Vec::new(); // (note, velocity, what: 0 key, 1 pedal, 2 tone)
        for i in 0..40usize {
            let t = i * 1500 + (i * 37) % 101;
            let note = 21 + ((i * 29) % 88) as u8;
            let vel = 0.15 + 0.85 * ((i * 7) % 11) as f32 / 10.0;
            at.push(t);
            ev.push((note, vel, 0));
            if i % 3 == 0 {
                at.push(t + 700);
                ev.push((note, 0.0, 0));
            }
            if i % 5 == 0 {
                at.push(t + 701);
                ev.push((0, (i % 2) as f32, 1));
            }
            if i % 7 == 0 {
                at.push(t + 702);
                ev.push((0, (i % 4) as f32 / 3.0, 2));
            }
        }
        // A restrike of a sounding key, and a cluster wider than the voice pool.
        at.push(61_000);
        ev.push((60, 0.8, 0));
        at.push(61_300);
        ev.push((60, 0.5, 0));
        for k in 0..16u8 {
            at.push(62_000);
            ev.push((48 + k, 0.6, 0));
        }
        at.push(70_000);
        ev.push((0, 0.0, 3));
        let apply = |p: &mut Piano, i: usize| {
            let (note, v, what) = ev[i];
            match what {
                0 if v > 0.0 => p.note_on(note, v),
                0 => p.note_off(note),
                1 => p.set_pedal(v > 0.5),
                2 => p.set_tone(v),
                _ => p.all_notes_off(),
            }
        };
        let out = play_script(&mut p, 110_000, &[64, 13, 50], &at, apply, |p, l, r| {
            p.render(l, r)
        });
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for x in out {
            for b in x.to_bits().to_le_bytes() {
                h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    }

    #[test]
    fn piano_unprepared_grand_is_bit_identical_to_before_preparations() {
        // Fingerprints of the grand (first taken before `Preparation` existed, commit
        // 2c1f56c; re-taken when the grand got 20 partials, a 6 dB/octave felt and slower
        // upper partials, when its fundamental was lifted over partials 2-4, and when it got
        // 24 partials and the board's presence); the same
        // in debug and release builds. Any change to the grand's arithmetic, its random draws
        // or its voice handling changes them: the preparations must never touch the plain
        // grand.
        let got: Vec<String> = [44100.0f32, 48000.0, 96000.0]
            .into_iter()
            .map(|sr| format!("{:#018x}", grand_fingerprint(sr)))
            .collect();
        assert_eq!(
            got,
            [
                "0xc3ea88f3e68807da",
                "0xff9182edda478f52",
                "0x4657fa3ac1f046da"
            ],
            "the grand changed (44.1, 48, 96 kHz)"
        );
    }

    /// Renders `secs` of audio in 64-sample blocks, calling `events(p, block_index)` before
    /// each block; returns (ms per second of audio, p99 block us, max block us).
    fn time_it(
        p: &mut Piano,
        sr: f32,
        secs: f32,
        mut events: impl FnMut(&mut Piano, usize),
    ) -> (f64, f64, f64) {
        let blocks = (secs * sr / 64.0) as usize;
        let mut per = Vec::with_capacity(blocks);
        let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
        let t0 = std::time::Instant::now();
        for b in 0..blocks {
            events(p, b);
            let t = std::time::Instant::now();
            p.render(&mut l, &mut r);
            per.push(t.elapsed().as_secs_f64() * 1.0e6);
        }
        let total = t0.elapsed().as_secs_f64();
        assert!(l.iter().chain(r.iter()).all(|v| v.is_finite()));
        per.sort_by(|a, b| a.total_cmp(b));
        let p99 = per[per.len() * 99 / 100];
        (total * 1000.0 / secs as f64, p99, per[per.len() - 1])
    }

    /// Busy comping: a four-note voicing every half second (the previous one released just
    /// before), a bass note every beat, pedal changes each bar. 48 kHz, 20 s.
    fn busy(p: &mut Piano, b: usize) {
        const VOICINGS: [[u8; 4]; 4] = [
            [50, 57, 60, 65],
            [55, 59, 62, 67],
            [48, 55, 58, 64],
            [53, 57, 60, 63],
        ];
        let half = 375; // 0.5 s in 64-sample blocks at 48 kHz
        if b.is_multiple_of(half) {
            let k = (b / half) % 4;
            let prev = (k + 3) % 4;
            for n in VOICINGS[prev] {
                p.note_off(n);
            }
            for (j, n) in VOICINGS[k].iter().enumerate() {
                p.note_on(*n, 0.5 + 0.1 * j as f32);
            }
        }
        if b.is_multiple_of(half / 2) {
            let bass = [36u8, 43, 41, 38][(b / (half / 2)) % 4];
            p.note_on(bass, 0.7);
        }
        if b % (half / 2) == half / 4 {
            p.note_off([36u8, 43, 41, 38][(b / (half / 2)) % 4]);
        }
        if b.is_multiple_of(2 * half) {
            p.set_pedal(true);
        }
        if b % (2 * half) == 2 * half - 10 {
            p.set_pedal(false);
        }
    }

    #[test]
    #[ignore]
    fn piano_timing() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        for (name, prep) in [
            ("grand", Preparation::None),
            ("honky-tonk", Preparation::HonkyTonk),
            ("prepared", Preparation::Prepared),
        ] {
            p.reset();
            p.set_preparation(prep);
            let (ms, p99, max) = time_it(&mut p, sr, 20.0, busy);
            println!(
                "busy {name}: {ms:.3} ms per s of audio; block p99 {p99:.2} us, max {max:.2} us"
            );
        }
        // A dissonant four-note cluster (C3 C#3 D3 D#3: bolt with a free string, plain, rubber,
        // loose nut when prepared) struck every 2 s with the pedal down.
        for (name, prep) in [
            ("grand", Preparation::None),
            ("honky-tonk", Preparation::HonkyTonk),
            ("prepared", Preparation::Prepared),
        ] {
            p.reset();
            p.set_preparation(prep);
            p.set_pedal(true);
            let (ms, p99, max) = time_it(&mut p, sr, 20.0, |p, b| {
                if b % 1500 == 0 {
                    for n in [48u8, 49, 50, 51] {
                        p.note_on(n, 0.8);
                    }
                }
            });
            println!(
                "cluster {name}: {ms:.3} ms per s of audio; block p99 {p99:.2} us, max {max:.2} us"
            );
        }
        // One long held note, to count the cost of a phasor lane.
        for (name, prep, note) in [
            ("grand C4", Preparation::None, 60u8),
            ("honky-tonk C4", Preparation::HonkyTonk, 60),
            ("prepared nut F#4", Preparation::Prepared, 66),
        ] {
            p.reset();
            p.set_preparation(prep);
            p.set_pedal(true);
            let (ms, _, _) = time_it(&mut p, sr, 5.0, |p, b| {
                if b == 0 {
                    p.note_on(note, 0.8)
                }
            });
            println!("one {name}: {ms:.3} ms per s of audio");
        }
    }

    #[test]
    fn piano_block_size_independent_and_reset_reproduces() {
        let a = scripted(44100.0, &[64]);
        assert_eq!(a, scripted(44100.0, &[1, 7, 33]));
        assert_eq!(a, scripted(44100.0, &[64, 5, 200]));
        let mut p = Piano::new(48000.0);
        p.note_on(60, 0.8);
        let (x, _) = play(&mut p, 10000);
        p.reset();
        p.note_on(60, 0.8);
        let (y, _) = play(&mut p, 10000);
        assert_eq!(x, y);
    }

    #[test]
    fn piano_finite_no_subnormals_all_rates_and_frees_voices() {
        for sr in RATES {
            let mut p = Piano::new(sr);
            for (i, n) in [21u8, 36, 60, 64, 67, 84, 100, 108].iter().enumerate() {
                p.note_on(*n, 0.3 + 0.1 * i as f32);
            }
            let (l, r) = play(&mut p, (sr * 0.5) as usize);
            assert_clean(&l, "piano l");
            assert_clean(&r, "piano r");
            assert!(peak(&l) > 0.02, "silent at {sr}");
            assert!(peak(&l) < 1.0 && peak(&r) < 1.0, "too loud at {sr}");
            p.all_notes_off();
            let (l, _) = play(&mut p, (sr * 30.0) as usize);
            assert_clean(&l, "piano tail");
            assert!(
                p.voices.iter().all(|v| !v.active),
                "voices not freed at {sr}"
            );
            assert!(
                l[l.len() - 1000..].iter().all(|v| *v == 0.0),
                "tail not silent at {sr}"
            );
        }
    }

    #[test]
    fn piano_partials_are_stretched() {
        // A low note's 10th partial sits above 10 f0 (string stiffness): find its peak by a
        // fine scan of the windowed spectrum around the harmonic.
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        p.note_on(40, 0.9);
        let (l, _) = play(&mut p, 4096 + 32768);
        let x = &l[4096..];
        let n = x.len();
        let power = |hz: f64| {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for (i, v) in x.iter().enumerate() {
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos();
                let ph = std::f64::consts::TAU * hz * i as f64 / sr as f64;
                re += *v as f64 * w * ph.cos();
                im += *v as f64 * w * ph.sin();
            }
            re * re + im * im
        };
        let harm = 10.0 * midi_hz(40.0) as f64;
        let best = (0..70)
            .map(|k| harm * (0.999 + 0.0002 * k as f64))
            .max_by(|a, b| power(*a).total_cmp(&power(*b)))
            .unwrap();
        assert!(
            best > harm * 1.002,
            "10th partial at {best} Hz vs harmonic {harm}"
        );
        assert!(
            best < harm * 1.01,
            "10th partial at {best} Hz: too far from {harm}"
        );
    }

    #[test]
    fn piano_two_stage_decay_and_damper() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        p.note_on(52, 0.7);
        let (l, _) = play(&mut p, (sr * 4.0) as usize);
        let win = |a: f32| {
            let i = (a * sr) as usize;
            rms(&l[i..i + 4800])
        };
        let (a0, a1, a3) = (win(0.01), win(1.0), win(3.0));
        // Fast drop first, then a long tail: the first second loses more dB than the next two.
        let db = |x: f32| 20.0 * x.log10();
        let first = db(a0) - db(a1);
        let later = (db(a1) - db(a3)) / 2.0;
        assert!(
            first > later * 1.5,
            "first {first} dB/s, later {later} dB/s"
        );
        assert!(a3 > a0 * 0.01, "held note died too soon");
        // Lifting the key stops it within half a second.
        p.note_off(52);
        let (l, _) = play(&mut p, (sr * 0.5) as usize);
        let end = rms(&l[l.len() - 2400..]);
        assert!(
            end < a3 * 0.05,
            "damper did not stop the note: {end} vs {a3}"
        );
    }

    #[test]
    fn piano_pedal_holds_released_notes() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        p.set_pedal(true);
        p.note_on(57, 0.7);
        play(&mut p, 4800);
        p.note_off(57);
        let (l, _) = play(&mut p, 48000);
        let held = rms(&l[40000..]);
        p.set_pedal(false);
        let (l2, _) = play(&mut p, 24000);
        let after = rms(&l2[20000..]);
        assert!(held > 1.0e-3, "pedal did not hold: {held}");
        assert!(
            after < held * 0.05,
            "pedal up did not damp: {after} vs {held}"
        );
    }

    #[test]
    fn piano_velocity_brightens() {
        let sr = 48000.0;
        let bright_share = |vel: f32| {
            let mut p = Piano::new(sr);
            p.note_on(55, vel);
            let (l, _) = play(&mut p, 8192);
            power_fraction_above(&l, sr, 1500.0)
        };
        let (soft, hard) = (bright_share(0.25), bright_share(1.0));
        assert!(hard > soft * 2.0, "hard {hard} vs soft {soft}");
    }

    #[test]
    fn piano_chord_keeps_its_upper_partials() {
        // A mezzo-forte middle-register voicing, 0.1-0.5 s after the strike: a share of its
        // power above 2 kHz like a grand's (GM FluidR3's grand keeps 2-8 kHz for the note).
        // 12 partials, a 12 dB/octave felt and quick upper partials gave 4.8e-4; now 3.9e-3.
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        for n in [48u8, 55, 60, 64, 67] {
            p.note_on(n, 0.6);
        }
        let (l, _) = play(&mut p, 24000);
        let top = power_fraction_above(&l[4800..4800 + 16384], sr, 2000.0);
        assert!(top > 2.0e-3, "above 2 kHz: {top:.2e}");
    }

    #[test]
    fn piano_top_notes_ring_without_damper() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        p.note_on(96, 0.8);
        play(&mut p, 2400);
        p.note_off(96);
        let (l, _) = play(&mut p, 24000);
        assert!(rms(&l[19200..]) > 1.0e-4, "the top has no dampers");
    }

    #[test]
    fn piano_voicing_level_like_the_rhodes() {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        for n in [50u8, 57, 60, 65] {
            p.note_on(n, 0.7);
        }
        let (l, r) = play(&mut p, 24000);
        let pk = peak(&l).max(peak(&r));
        assert!(pk > 0.15 && pk < 0.6, "voicing peak {pk}");
    }

    // ---- Preparations ---------------------------------------------------------------------

    /// One note (struck, or plucked) held for `secs`, the two channels summed.
    fn one(prep: Preparation, note: u8, vel: f32, secs: f32, pluck: bool) -> Vec<f32> {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        p.set_preparation(prep);
        if pluck {
            p.pluck(note, vel);
        } else {
            p.note_on(note, vel);
        }
        let (l, r) = play(&mut p, (secs * sr) as usize);
        l.iter().zip(r.iter()).map(|(a, b)| a + b).collect()
    }

    /// Level (dB) of the band around `hz` every 10 ms: a 50 ms Hann-windowed DFT bin.
    fn band_db(x: &[f32], sr: f32, hz: f32) -> Vec<f64> {
        let (frame, hop) = ((0.05 * sr) as usize, (0.01 * sr) as usize);
        let mut out = Vec::new();
        let mut start = 0;
        while start + frame <= x.len() {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for i in 0..frame {
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / frame as f64).cos();
                let ph = std::f64::consts::TAU * hz as f64 * (start + i) as f64 / sr as f64;
                re += x[start + i] as f64 * w * ph.cos();
                im += x[start + i] as f64 * w * ph.sin();
            }
            out.push(10.0 * (re * re + im * im + 1.0e-30).log10());
            start += hop;
        }
        out
    }

    /// The part of a level curve a smooth decay does not explain: residual (dB) from a
    /// least-squares quadratic, and its rate (Hz) from zero crossings at 100 frames per s.
    fn wobble(db: &[f64]) -> (f64, f64) {
        let n = db.len() as f64;
        let t: Vec<f64> = (0..db.len()).map(|i| i as f64 / n - 0.5).collect();
        // Normal equations for a + b t + c t^2.
        let (mut m, mut v) = ([[0.0f64; 3]; 3], [0.0f64; 3]);
        for (ti, yi) in t.iter().zip(db) {
            let b = [1.0, *ti, ti * ti];
            for r in 0..3 {
                v[r] += b[r] * yi;
                for c in 0..3 {
                    m[r][c] += b[r] * b[c];
                }
            }
        }
        // Gaussian elimination (3x3, well conditioned on centred t).
        for col in 0..3 {
            for row in col + 1..3 {
                let f = m[row][col] / m[col][col];
                for c in col..3 {
                    m[row][c] -= f * m[col][c];
                }
                v[row] -= f * v[col];
            }
        }
        let mut coef = [0.0f64; 3];
        for row in (0..3).rev() {
            let s: f64 = (row + 1..3).map(|c| m[row][c] * coef[c]).sum();
            coef[row] = (v[row] - s) / m[row][row];
        }
        let res: Vec<f64> = t
            .iter()
            .zip(db)
            .map(|(ti, yi)| yi - (coef[0] + coef[1] * ti + coef[2] * ti * ti))
            .collect();
        let rms = (res.iter().map(|r| r * r).sum::<f64>() / n).sqrt();
        let crossings = res
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        (rms, crossings as f64 / 2.0 / (n / 100.0))
    }

    /// Seconds until the 10 ms RMS envelope has fallen `db` below its peak (and stays below).
    fn decay_s(x: &[f32], sr: f32, db: f32) -> f32 {
        let w = (0.01 * sr) as usize;
        let env: Vec<f32> = x.chunks(w).map(rms).collect();
        let (ipk, pk) =
            env.iter()
                .enumerate()
                .fold((0, 0.0f32), |a, (i, v)| if *v > a.1 { (i, *v) } else { a });
        let floor = pk * 10f32.powf(-db / 20.0);
        let last_above = env.iter().rposition(|v| *v > floor).unwrap_or(ipk);
        (last_above + 1 - ipk) as f32 * 0.01
    }

    /// Frequencies of the `count` strongest local maxima of the spectrum of `x` (Hz).
    fn strongest_peaks(x: &[f32], sr: f32, count: usize) -> Vec<f32> {
        let p = power_spectrum(x);
        let bin = sr / x.len() as f32;
        let mut peaks: Vec<(f64, f32)> = (2..p.len() - 1)
            .filter(|&k| p[k] > p[k - 1] && p[k] >= p[k + 1] && (k as f32 * bin) > 40.0)
            .map(|k| {
                // Parabolic interpolation on the log power.
                let (a, b, c) = (p[k - 1].ln(), p[k].ln(), p[k + 1].ln());
                let off = 0.5 * (a - c) / (a - 2.0 * b + c);
                (p[k], (k as f64 + off) as f32 * bin)
            })
            .collect();
        peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
        peaks.into_iter().take(count).map(|(_, f)| f).collect()
    }

    /// How far `f` is from the nearest partial `k f0 sqrt(1 + B k^2)` of a plain string with
    /// stiffness `b`, in multiples of `f0`.
    fn off_harmonic(f: f32, f0: f32, b: f32) -> f32 {
        (1..40)
            .map(|k| {
                let k = k as f32;
                (f - k * f0 * (1.0 + b * k * k).sqrt()).abs() / f0
            })
            .fold(f32::MAX, f32::min)
    }

    #[test]
    fn prep_default_and_none_keep_the_grand() {
        // Setting a preparation and going back to None before any note changes nothing.
        assert_eq!(Preparation::default(), Preparation::None);
        let a = scripted(48000.0, &[64]);
        let mut p = Piano::new(48000.0);
        p.set_preparation(Preparation::Prepared);
        p.set_preparation(Preparation::HonkyTonk);
        p.set_preparation(Preparation::None);
        let mut q = Piano::new(48000.0);
        for n in [48u8, 55, 64] {
            p.note_on(n, 0.7);
            q.note_on(n, 0.7);
        }
        assert_eq!(play(&mut p, 9000), play(&mut q, 9000));
        // And the scripted grand is still the grand after a reset from another preparation.
        let mut p = Piano::new(48000.0);
        p.set_preparation(Preparation::HonkyTonk);
        p.note_on(60, 0.9);
        play(&mut p, 3000);
        p.reset();
        assert_eq!(p.prep, Preparation::None);
        assert!(!a.is_empty());
    }

    #[test]
    fn prep_applies_to_notes_struck_after_it() {
        // A grand note keeps sounding as the grand when the piano is prepared under it.
        let sr = 48000.0;
        let (mut p, mut q) = (Piano::new(sr), Piano::new(sr));
        p.note_on(57, 0.7);
        q.note_on(57, 0.7);
        let a = play(&mut p, 4800);
        let b = play(&mut q, 4800);
        assert_eq!(a, b);
        q.set_preparation(Preparation::HonkyTonk);
        assert_eq!(play(&mut p, 9600), play(&mut q, 9600));
        // ... and the next strike is the upright's.
        q.note_on(60, 0.7);
        assert!(q
            .voices
            .iter()
            .any(|v| v.active && v.upright && v.note == 60));
        assert!(q
            .voices
            .iter()
            .any(|v| v.active && !v.upright && v.note == 57));
    }

    #[test]
    fn honky_tonk_unisons_are_8_to_25_cents_wider_in_the_treble() {
        let spread = |n: u8| {
            let t = upright_tuning(n);
            let c = &t.cents[..t.strings];
            c.iter().fold(f32::MIN, |a, v| a.max(*v)) - c.iter().fold(f32::MAX, |a, v| a.min(*v))
        };
        for n in LOWEST_NOTE..=HIGHEST_NOTE {
            let s = spread(n);
            assert!(
                (8.0..=25.0).contains(&s),
                "key {n}: unison spread {s} cents"
            );
            let t = upright_tuning(n);
            assert_eq!(t.strings, if n < HT_TRICHORD_FROM { 2 } else { 3 });
            assert_eq!(t, upright_tuning(n), "key {n}: tuning not fixed");
            assert!(t.drift_cents.abs() <= 3.0 * HT_DRIFT_CENTS);
        }
        // 8 + 9 x pitch + jitter: the top octave's mean spread exceeds the bottom's by ~7 cents.
        let mean = |r: core::ops::RangeInclusive<u8>| {
            let n = r.clone().count() as f32;
            r.map(spread).sum::<f32>() / n
        };
        let (low, high) = (mean(21..=32), mean(97..=108));
        assert!(high > low + 4.0, "treble spread {high} vs bass {low}");
    }

    #[test]
    fn honky_tonk_fundamental_beats_and_the_grand_does_not() {
        // C4 held: the band around 261.6 Hz from 0.3 s to 2.5 s. The upright's three strings,
        // ~10-20 cents apart, beat at 261.6 x (2^(c/1200) - 1) = 0.15 Hz per cent: 1.5-3 Hz.
        let sr = 48000.0;
        let f0 = midi_hz(60.0);
        let measure = |prep| {
            let x = one(prep, 60, 0.7, 2.6, false);
            let db = band_db(&x[(0.3 * sr) as usize..], sr, f0);
            wobble(&db)
        };
        let (grand_db, _) = measure(Preparation::None);
        let (honky_db, honky_hz) = measure(Preparation::HonkyTonk);
        assert!(grand_db < 0.5, "grand's fundamental wobbles {grand_db} dB");
        assert!(
            honky_db > 2.0,
            "honky-tonk's fundamental wobbles only {honky_db} dB"
        );
        assert!(
            (0.7..8.0).contains(&honky_hz),
            "beating at {honky_hz} Hz is not a few Hz"
        );
    }

    #[test]
    fn the_grands_fundamental_stands_over_its_next_partials() {
        // A General MIDI grand's middle register: the fundamental about 10 dB over partials
        // 2-3 (FluidR3, the after-hours comping, octaves 3-4). A point blow at 1/8 with a
        // 1/k^0.8 tilt gave them as much as the fundamental (-3 dB under them); the hammer's
        // contact lifts it. In the bass the lift is smaller: the band ratio is still positive.
        let sr = 48000.0;
        for (note, at_least_db) in [(60u8, 6.0), (67, 6.0), (48, 1.0)] {
            let f0 = midi_hz(note as f32);
            let x = one(Preparation::None, note, 0.55, 1.0, false);
            let seg = &x[..32768];
            let fund = band_fraction(seg, sr, 0.8 * f0, 1.3 * f0);
            let next = band_fraction(seg, sr, 1.7 * f0, 3.4 * f0);
            let db = 10.0 * (fund / next).log10();
            assert!(
                db >= at_least_db,
                "key {note}: fundamental {db:.1} dB over partials 2-3 (want {at_least_db})"
            );
        }
    }

    #[test]
    fn the_grand_has_its_presence_and_little_air() {
        // FluidR3's grand holds a plateau to 4 kHz (2-4 kHz 11-14 dB under the whole, as
        // loud as 1-2 kHz) and little above 8 kHz. The strings alone left 2-4 kHz 5-6 dB
        // under 1-2 kHz (a C3 had no partial above 2.7 kHz); the board's radiation lifts it,
        // and its roll-off keeps 8-12 kHz at least 25 dB under 2-4 kHz.
        let sr = 48000.0;
        for note in [48u8, 55, 60] {
            let x = one(Preparation::None, note, 0.6, 1.0, false);
            let seg = &x[..32768];
            let db = |lo, hi| 10.0 * band_fraction(seg, sr, lo, hi).log10();
            let (mid, presence, air) =
                (db(1000.0, 2000.0), db(2000.0, 4000.0), db(8000.0, 12000.0));
            assert!(
                presence > mid - 3.0,
                "key {note}: 2-4 kHz {presence:.1} dB vs 1-2 kHz {mid:.1} dB"
            );
            assert!(
                air < presence - 25.0,
                "key {note}: 8-12 kHz {air:.1} dB vs 2-4 kHz {presence:.1} dB"
            );
        }
    }

    #[test]
    fn honky_tonk_is_brighter_than_the_grand() {
        // Hard worn hammers: more power above 2 kHz in the first 0.17 s at equal velocity.
        let sr = 48000.0;
        for note in [48u8, 60, 67] {
            let share = |prep| {
                let x = one(prep, note, 0.6, 0.2, false);
                power_fraction_above(&x[..8192], sr, 2000.0)
            };
            let (grand, honky) = (share(Preparation::None), share(Preparation::HonkyTonk));
            assert!(
                honky > grand * 2.0,
                "key {note}: honky-tonk {honky} vs grand {grand} above 2 kHz"
            );
        }
    }

    #[test]
    fn honky_tonk_sustains_less_and_its_keys_clack_on_release() {
        let sr = 48000.0;
        let (grand, honky) = (
            one(Preparation::None, 55, 0.7, 6.0, false),
            one(Preparation::HonkyTonk, 55, 0.7, 6.0, false),
        );
        let (tg, th) = (decay_s(&grand, sr, 40.0), decay_s(&honky, sr, 40.0));
        assert!(th < tg * 0.7, "upright -40 dB at {th} s, grand at {tg} s");
        // Key release with the pedal down: no damper, but the key's return is heard.
        let mut p = Piano::new(sr);
        p.set_preparation(Preparation::HonkyTonk);
        p.set_pedal(true);
        p.note_on(55, 0.7);
        play(&mut p, 24000);
        let v = p.voices.iter().find(|v| v.active).unwrap();
        assert_eq!(v.knock, 0.0);
        p.note_off(55);
        let v = p.voices.iter().find(|v| v.active).unwrap();
        assert!(v.knock > 0.0, "no key noise on release");
    }

    #[test]
    fn bolt_keys_have_inharmonic_partials() {
        // F3 (174.6 Hz) and C#4 (277.2 Hz) carry bolts: of their 8 strongest spectral peaks
        // (0.05-0.22 s) at least half lie more than 0.1 f0 from every partial of the plain
        // string (k f0, stretched by its stiffness: the 11th of F3 is at
        // 11 sqrt(1 + 2.4e-4 x 121) = 11.16 f0), and from every multiple of the lowest peak;
        // the grand's same keys have none.
        let sr = 48000.0;
        for note in [53u8, 61] {
            assert_eq!(KeyPrep::for_key(note).object, Some(Object::Bolt));
            let f0 = midi_hz(note as f32);
            let b = 4.0e-4 * ((note as f32 - 60.0) / 12.0 * 1.3).exp2();
            let count_off = |prep| {
                let x = one(prep, note, 0.8, 0.3, false);
                let peaks = strongest_peaks(&x[2400..2400 + 8192], sr, 8);
                let lowest = peaks.iter().fold(f32::MAX, |a, f| a.min(*f));
                let off = peaks
                    .iter()
                    .filter(|f| off_harmonic(**f, f0, b) > 0.1)
                    .count();
                let off_lowest = peaks
                    .iter()
                    .filter(|f| off_harmonic(**f, lowest, b) > 0.1)
                    .count();
                (off, off_lowest, peaks)
            };
            let (g, _, gp) = count_off(Preparation::None);
            let (b, bl, bp) = count_off(Preparation::Prepared);
            assert!(g == 0, "key {note}: grand peaks off harmonic: {gp:?}");
            assert!(b >= 4, "key {note}: bolt peaks {bp:?} ({b} off f0)");
            assert!(
                bl >= 4,
                "key {note}: bolt peaks {bp:?} ({bl} off the lowest)"
            );
        }
    }

    #[test]
    fn rubber_keys_decay_at_least_three_times_faster() {
        // G3 and D#4 have rubber wedges: every mode loses 10-55 1/s through the rubber
        // (T60 <= 6.9 / 10 = 0.7 s) against the grand's 1-8 s.
        let sr = 48000.0;
        for note in [55u8, 63] {
            assert_eq!(KeyPrep::for_key(note).object, Some(Object::Rubber));
            let grand = one(Preparation::None, note, 0.7, 8.0, false);
            let rubber = one(Preparation::Prepared, note, 0.7, 8.0, false);
            let (tg, tr) = (decay_s(&grand, sr, 40.0), decay_s(&rubber, sr, 40.0));
            assert!(
                tg >= 3.0 * tr,
                "key {note}: grand {tg} s, rubber {tr} s to -40 dB"
            );
        }
    }

    #[test]
    fn rubber_damps_the_fundamental_and_shifts_the_pitch() {
        // The rubber pinches the string (kappa = 6): the lowest mode rises 12-25 % and it dies
        // (by 0.3 s it is 25 dB down on the unprepared key's).
        for note in [55u8, 63, 67] {
            let k = KeyPrep::for_key(note);
            let r = k.modes[0].ratio;
            assert!(
                (1.05..1.3).contains(&r),
                "key {note}: lowest mode at {r} f0"
            );
        }
        let sr = 48000.0;
        let f0 = midi_hz(55.0);
        let at = |prep, hz: f32| {
            let x = one(prep, 55, 0.7, 0.5, false);
            *band_db(&x[(0.3 * sr) as usize..], sr, hz).first().unwrap()
        };
        let grand = at(Preparation::None, f0);
        let rubber = at(
            Preparation::Prepared,
            f0 * KeyPrep::for_key(55).modes[0].ratio,
        );
        assert!(
            rubber < grand - 25.0,
            "rubber {rubber} dB vs grand {grand} dB"
        );
    }

    #[test]
    fn loose_nut_rattles_when_struck_hard_not_softly() {
        // F#4's nut: struck ff its lowest mode swings past the gap (0.22 of its ff swing) for
        // a few tenths of a second and every hit rings the nut's 2.7-9.7 kHz modes; struck pp
        // (0.2: a swing of (0.08 + 0.92 x 0.2^1.6) x 1.38 = 0.21 of ff) it never reaches the
        // gap. Against the same strike with the rattle taken out: energy above 2.5 kHz
        // from 0.12 s (the nut's own ring from the blow is gone: T60 0.1 s) for 0.17 s.
        let sr = 48000.0;
        assert_eq!(KeyPrep::for_key(66).object, Some(Object::NutScrew));
        let hf = |vel: f32, rattle: bool| {
            let mut p = Piano::new(sr);
            p.set_preparation(Preparation::Prepared);
            p.note_on(66, vel);
            if !rattle {
                let v = p.voices.iter_mut().find(|v| v.active).unwrap();
                v.gap = 0.0;
            }
            let (l, _) = play(&mut p, (0.6 * sr) as usize);
            let x = &l[(0.12 * sr) as usize..];
            let n = 8192;
            power_fraction_above(&x[..n], sr, 2500.0) * rms(&x[..n]) as f64
        };
        let (ff, ff_dry) = (hf(1.0, true), hf(1.0, false));
        let (pp, pp_dry) = (hf(0.2, true), hf(0.2, false));
        assert!(ff > ff_dry * 3.0, "no rattle at ff: {ff} vs {ff_dry}");
        assert!(
            (pp / pp_dry - 1.0).abs() < 0.05,
            "pp rattles: {pp} vs {pp_dry}"
        );
    }

    #[test]
    fn preparation_chart_is_fixed() {
        // The same key always gets the same object, at any sample rate and after any notes.
        let (a, b) = (Piano::new(44100.0), Piano::new(96000.0));
        assert!(a.chart == b.chart);
        for n in LOWEST_NOTE..=HIGHEST_NOTE {
            assert_eq!(a.chart[(n - LOWEST_NOTE) as usize], KeyPrep::for_key(n));
        }
        let mut keys: Vec<u8> = CHART.iter().map(|e| e.0).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), CHART.len(), "a key listed twice");
        for &(note, _, p, _) in CHART.iter() {
            assert!((LOWEST_NOTE..=HIGHEST_NOTE).contains(&note));
            assert!((0.15..0.45).contains(&p), "key {note}: object at {p}");
            assert!((p - PLUCK_POINT).abs() > 0.01 && (p - STRIKE_POINT).abs() > 0.01);
            let k = KeyPrep::for_key(note);
            assert!(k.modes.windows(2).all(|w| w[1].ratio > w[0].ratio));
            assert!(k
                .modes
                .iter()
                .all(|m| m.hammer.is_finite() && m.pluck.is_finite()));
        }
        // Struck first or after a dozen other notes, a bolt key rings the same bolt.
        let ring = |warm: bool| {
            let mut p = Piano::new(48000.0);
            p.set_preparation(Preparation::Prepared);
            if warm {
                for n in 30..42u8 {
                    p.note_on(n, 0.5);
                }
            }
            p.note_on(61, 0.8);
            let v = p.voices.iter().find(|v| v.active && v.note == 61).unwrap();
            (v.lanes, v.c[RING_LANE], v.s[RING_LANE])
        };
        assert_eq!(ring(false), ring(true));
        // Unlisted keys are unprepared: they strike as the grand, bit for bit.
        let mut p = Piano::new(48000.0);
        p.set_preparation(Preparation::Prepared);
        let mut q = Piano::new(48000.0);
        assert_eq!(KeyPrep::for_key(64).object, None);
        p.note_on(64, 0.7);
        q.note_on(64, 0.7);
        assert_eq!(play(&mut p, 4000), play(&mut q, 4000));
    }

    #[test]
    fn string_modes_of_a_bare_string_are_harmonic() {
        // No object: the roots are n pi, the hammer's amplitudes |sin(n pi / 8)|, the pluck's
        // |sin(n pi x)| / n, the object's share sin^2(n pi p).
        let p = 0.3;
        for (n, m) in string_modes(p, 0.0, 0.0).iter().enumerate() {
            let k = (n + 1) as f32;
            assert!((m.ratio - k).abs() < 1.0e-4, "mode {k} at {}", m.ratio);
            let pi = core::f32::consts::PI;
            assert!((m.hammer - (pi * k * STRIKE_POINT).sin().abs()).abs() < 1.0e-4);
            assert!((m.pluck - (pi * k * PLUCK_POINT).sin().abs() / k).abs() < 1.0e-4);
            assert!((m.at_object - (pi * k * p as f32).sin().powi(2)).abs() < 1.0e-4);
        }
        // A heavy mass splits the string: segments of 0.3 and 0.7 ring at f0 / 0.7 = 1.43 f0
        // and f0 / 0.3 = 3.33 f0, and the mass swings below f0.
        let heavy = string_modes(p, 200.0, 0.0);
        assert!(heavy[0].ratio < 0.2, "mass mode at {}", heavy[0].ratio);
        assert!(
            (heavy[1].ratio - 1.0 / 0.7).abs() < 0.02,
            "{}",
            heavy[1].ratio
        );
        assert!(heavy.iter().any(|m| (m.ratio - 1.0 / 0.3).abs() < 0.02));
    }

    #[test]
    fn pluck_has_no_knock_rings_longer_and_is_brighter() {
        let sr = 48000.0;
        for prep in [
            Preparation::None,
            Preparation::HonkyTonk,
            Preparation::Prepared,
        ] {
            for note in [60u8, 53] {
                // No hammer, no knock: with the strings silenced a pluck leaves nothing, a
                // stroke its knock.
                let knock_only = |pluck: bool| {
                    let mut p = Piano::new(sr);
                    p.set_preparation(prep);
                    if pluck {
                        p.pluck(note, 0.8)
                    } else {
                        p.note_on(note, 0.8)
                    }
                    for v in p.voices.iter_mut() {
                        v.re = [0.0; MAX_LANES];
                        v.gap = 0.0;
                    }
                    let (l, _) = play(&mut p, 960);
                    rms(&l)
                };
                assert_eq!(knock_only(true), 0.0, "{prep:?} {note}: a pluck knocks");
                assert!(knock_only(false) > 0.0, "{prep:?} {note}: no knock");
                // A pluck rings longer than a soft stroke (both keys held): -40 dB times.
                let soft = one(prep, note, 0.3, 14.0, false);
                let plucked = one(prep, note, 0.6, 14.0, true);
                let (ts, tp) = (decay_s(&soft, sr, 40.0), decay_s(&plucked, sr, 40.0));
                assert!(tp > ts * 1.15, "{prep:?} {note}: pluck {tp} s, soft {ts} s");
                // ... and is brighter at the attack (first 40 ms above 2 kHz) than the felt
                // hammer (the upright's worn hammers are harder than a fingertip even softly,
                // so not there).
                // On a bolt key (53 in the chart) the soft blow's jolt rings the bolt, which a
                // finger hardly moves: the comparison is for the plain strings.
                if prep == Preparation::HonkyTonk || KeyPrep::for_key(note).object.is_some() {
                    continue;
                }
                let n = 2048;
                let (bs, bp) = (
                    power_fraction_above(&soft[..n], sr, 2000.0),
                    power_fraction_above(&plucked[..n], sr, 2000.0),
                );
                assert!(
                    bp > bs * 1.5,
                    "{prep:?} {note}: pluck {bp} vs soft {bs} above 2 kHz"
                );
            }
        }
    }

    #[test]
    fn pluck_plays_one_string_of_the_upright() {
        // A finger sets one string of the unison going: the fundamental hardly beats.
        let sr = 48000.0;
        let x = one(Preparation::HonkyTonk, 60, 0.7, 2.6, true);
        let (d, _) = wobble(&band_db(&x[(0.3 * sr) as usize..], sr, midi_hz(60.0)));
        let y = one(Preparation::HonkyTonk, 60, 0.7, 2.6, false);
        let (dy, _) = wobble(&band_db(&y[(0.3 * sr) as usize..], sr, midi_hz(60.0)));
        assert!(
            d < dy * 0.5,
            "plucked upright wobbles {d} dB, struck {dy} dB"
        );
    }

    /// A script over every preparation: strikes, plucks, releases, pedal, a switch mid-note.
    fn prep_script(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut p = Piano::new(sr);
        let at: [usize; 16] = [
            0, 0, 5, 300, 2001, 2001, 4000, 4000, 6003, 7000, 9000, 9001, 12000, 15000, 15000,
            20000,
        ];
        let apply = |p: &mut Piano, i: usize| match i {
            0 => p.set_preparation(Preparation::HonkyTonk),
            1 => p.note_on(48, 0.8),
            2 => p.note_on(64, 0.6),
            3 => p.note_off(48),
            4 => p.set_preparation(Preparation::Prepared),
            5 => p.note_on(66, 1.0),
            6 => p.pluck(53, 0.9),
            7 => p.note_on(55, 0.7),
            8 => p.set_pedal(true),
            9 => p.note_off(66),
            10 => p.set_preparation(Preparation::None),
            11 => p.pluck(72, 0.5),
            12 => p.set_pedal(false),
            13 => p.set_preparation(Preparation::HonkyTonk),
            14 => p.pluck(60, 0.8),
            _ => p.all_notes_off(),
        };
        play_script(&mut p, 40000, sizes, &at, apply, |p, l, r| p.render(l, r))
    }

    #[test]
    fn prep_block_size_independent_and_reset_reproduces() {
        let a = prep_script(44100.0, &[64]);
        assert_eq!(a, prep_script(44100.0, &[1, 7, 33]));
        assert_eq!(a, prep_script(44100.0, &[64, 5, 200]));
        for prep in [Preparation::HonkyTonk, Preparation::Prepared] {
            let mut p = Piano::new(48000.0);
            let run = |p: &mut Piano| {
                p.set_preparation(prep);
                p.note_on(66, 0.9);
                p.pluck(61, 0.7);
                play(p, 10000)
            };
            let x = run(&mut p);
            p.reset();
            assert_eq!(x, run(&mut p));
        }
    }

    #[test]
    fn prep_clean_at_all_rates_and_rings_out_to_exact_silence() {
        for sr in RATES {
            for prep in [Preparation::HonkyTonk, Preparation::Prepared] {
                let mut p = Piano::new(sr);
                p.set_preparation(prep);
                for (i, n) in [21u8, 28, 35, 36, 53, 60, 66, 84, 96, 108]
                    .iter()
                    .enumerate()
                {
                    p.note_on(*n, 0.3 + 0.07 * i as f32);
                }
                p.pluck(41, 1.0);
                let (l, r) = render_with((sr * 0.5) as usize, &[64, 13, 7], |l, r| p.render(l, r));
                assert_clean(&l, "prep l");
                assert_clean(&r, "prep r");
                assert!(peak(&l) > 0.02, "{prep:?} silent at {sr}");
                assert!(
                    peak(&l) < 1.0 && peak(&r) < 1.0,
                    "{prep:?} too loud at {sr}"
                );
                p.all_notes_off();
                let (l, r) = play(&mut p, (sr * 30.0) as usize);
                assert_clean(&l, "prep tail");
                assert_clean(&r, "prep tail r");
                assert!(p.voices.iter().chain(p.ghosts.iter()).all(|v| !v.active));
                assert!(
                    !p.upright_live,
                    "{prep:?}: upright bus still running at {sr}"
                );
                assert!(
                    l[l.len() - 1000..].iter().all(|v| *v == 0.0),
                    "{prep:?}: tail not silent at {sr}"
                );
            }
        }
    }

    #[test]
    fn prep_survives_hostile_input() {
        let sr = 48000.0;
        for prep in [
            Preparation::None,
            Preparation::HonkyTonk,
            Preparation::Prepared,
        ] {
            let mut p = Piano::new(sr);
            p.set_preparation(prep);
            for v in [
                f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                -1.0,
                0.0,
                7.0,
                1.0e-30,
            ] {
                for n in [0u8, 20, 60, 127] {
                    p.pluck(n, v);
                    p.note_on(n, v);
                    p.note_off(n.wrapping_add(1));
                }
            }
            // Hundreds of strikes and plucks in one block.
            for i in 0..400u32 {
                let n = (i * 37 % 128) as u8;
                if i % 3 == 0 {
                    p.pluck(n, (i % 10) as f32 / 9.0);
                } else {
                    p.note_on(n, (i % 7) as f32 / 6.0);
                }
            }
            p.set_tone(f32::NAN);
            let (l, r) = render_with(48000, &[64, 1, 17], |l, r| p.render(l, r));
            assert_clean(&l, "hostile l");
            assert_clean(&r, "hostile r");
            assert!(peak(&l) < 1.0 && peak(&r) < 1.0);
            p.render(&mut [], &mut []);
        }
    }

    #[test]
    fn prep_voicing_level_like_the_grand() {
        // The same four-note voicing at 0.7 peaks within a few dB of the grand's.
        let sr = 48000.0;
        let level = |prep| {
            let mut p = Piano::new(sr);
            p.set_preparation(prep);
            for n in [50u8, 57, 60, 65] {
                p.note_on(n, 0.7);
            }
            let (l, r) = play(&mut p, 24000);
            rms(&l[..9600]).max(rms(&r[..9600]))
        };
        let grand = level(Preparation::None);
        for prep in [Preparation::HonkyTonk, Preparation::Prepared] {
            let x = level(prep);
            let db = 20.0 * (x / grand).log10();
            assert!(db.abs() < 4.0, "{prep:?} is {db} dB from the grand");
        }
    }

    #[test]
    fn idle_piano_renders_nothing_after_any_preparation() {
        // Voices rung out are freed, the upright bus stops, and output is exact zeros.
        let sr = 22050.0;
        let mut p = Piano::new(sr);
        p.set_preparation(Preparation::HonkyTonk);
        p.note_on(96, 0.9);
        p.note_off(96);
        play(&mut p, (sr * 20.0) as usize);
        assert!(!p.upright_live);
        let mut l = [0.25f32; 64];
        let mut r = [0.25f32; 64];
        p.render(&mut l, &mut r);
        assert!(l.iter().chain(r.iter()).all(|v| *v == 0.25));
    }
}

/// Listening material: `cargo test ... voices::piano::listen -- --ignored` writes WAVs to
/// /tmp/prep (the grand against the honky-tonk, the whole preparation chart, a Chinatown sketch).
#[cfg(test)]
mod listen {
    use super::*;

    /// (time s, kind: 0 on, 1 off, 2 pluck, 3 prep None, 4 HT, 5 Prepared, 6 pedal down, 7 up, note, vel)
    fn write(name: &str, events: &[(f32, u8, u8, f32)], secs: f32) {
        let sr = 48000.0;
        let mut p = Piano::new(sr);
        let n = (secs * sr) as usize;
        let mut out = Vec::with_capacity(2 * n);
        let mut ev = 0;
        let mut pos = 0;
        let mut sorted = events.to_vec();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        while pos < n {
            while ev < sorted.len() && (sorted[ev].0 * sr) as usize <= pos {
                let (_, k, note, vel) = sorted[ev];
                match k {
                    0 => p.note_on(note, vel),
                    1 => p.note_off(note),
                    2 => p.pluck(note, vel),
                    3 => p.set_preparation(Preparation::None),
                    4 => p.set_preparation(Preparation::HonkyTonk),
                    5 => p.set_preparation(Preparation::Prepared),
                    6 => p.set_pedal(true),
                    _ => p.set_pedal(false),
                }
                ev += 1;
            }
            let m = 64.min(n - pos);
            let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
            p.render(&mut l[..m], &mut r[..m]);
            for i in 0..m {
                out.push(l[i]);
                out.push(r[i]);
            }
            pos += m;
        }
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        std::fs::create_dir_all("/tmp/prep").unwrap();
        let mut w = hound::WavWriter::create(format!("/tmp/prep/{name}.wav"), spec).unwrap();
        for x in out {
            w.write_sample(x).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    #[ignore]
    fn dump_wavs() {
        // C4 held 3 s: grand, then honky-tonk; then a voicing each.
        let mut e = vec![(0.0, 3, 0, 0.0), (0.0, 0, 60, 0.7), (3.0, 1, 60, 0.0)];
        e.extend([(3.5, 4, 0, 0.0), (3.5, 0, 60, 0.7), (6.5, 1, 60, 0.0)]);
        e.extend([(7.0, 3, 0, 0.0)]);
        for n in [50u8, 57, 60, 65] {
            e.push((7.0, 0, n, 0.7));
            e.push((9.0, 1, n, 0.0));
        }
        e.push((9.5, 4, 0, 0.0));
        for n in [50u8, 57, 60, 65] {
            e.push((9.5, 0, n, 0.7));
            e.push((11.5, 1, n, 0.0));
        }
        // A bit of saloon stride on the upright.
        let mut t = 12.0;
        for bar in 0..4 {
            let (bass, chord): (u8, [u8; 3]) = [
                (36, [52, 55, 60]),
                (43, [53, 55, 59]),
                (41, [53, 57, 60]),
                (36, [52, 55, 60]),
            ][bar];
            for beat in 0..4 {
                let bt = t + beat as f32 * 0.33;
                if beat % 2 == 0 {
                    e.push((bt, 0, bass - if beat == 2 { 5 } else { 0 }, 0.8));
                    e.push((bt + 0.25, 1, bass - if beat == 2 { 5 } else { 0 }, 0.0));
                } else {
                    for c in chord {
                        e.push((bt, 0, c, 0.65));
                        e.push((bt + 0.2, 1, c, 0.0));
                    }
                }
                let mel = [72u8, 76, 79, 76][beat];
                e.push((bt + 0.165, 0, mel + (bar as u8 % 2), 0.75));
                e.push((bt + 0.3, 1, mel + (bar as u8 % 2), 0.0));
            }
            t += 1.32;
        }
        write("honky", &e, 19.0);

        // Every prepared key, 0.8 s apart, held 0.7 s.
        let mut e = vec![(0.0, 5, 0, 0.0)];
        for (i, (note, _, _, _)) in CHART.iter().enumerate() {
            e.push((i as f32 * 0.8, 0, *note, 0.8));
            e.push((i as f32 * 0.8 + 0.7, 1, *note, 0.0));
        }
        write("chart", &e, CHART.len() as f32 * 0.8 + 1.0);

        // Chinatown: low prepared clusters, a pluck, a bolt gong.
        let mut e = vec![(0.0, 5, 0, 0.0), (0.0, 6, 0, 0.0)];
        for n in [36u8, 37, 38, 39] {
            e.push((0.0, 0, n, 0.8));
        }
        for n in [48u8, 49, 50, 51] {
            e.push((2.5, 0, n, 0.7));
        }
        e.push((5.0, 2, 53, 0.8));
        e.push((6.5, 2, 61, 0.7));
        e.push((8.0, 0, 28, 1.0));
        e.push((8.0, 0, 35, 0.9));
        e.push((11.0, 7, 0, 0.0));
        e.push((11.0, 3, 0, 0.0));
        e.push((11.5, 2, 60, 0.7));
        e.push((13.5, 0, 60, 0.3));
        write("chinatown", &e, 16.0);
    }
}
