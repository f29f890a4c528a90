//! The brass section: up to eight notes, two players each (trombones low, horns in the middle,
//! trumpets on top) for Mancini's big-band stabs, shakes and falls and Herrmann's low swells.
//! Audio thread: `render` and the control grid it drives; everything is allocated in `new`.

use super::common::{
    bandpass, lowpass, pan_gains, pick_key_slot, safety, sin_turns, unit_velocity, Bandpass,
    DcBlock, DelayLine, KeySlot, Lowpass, OnePole,
};
use crate::dsp::util::{flush, midi_hz};
use crate::dsp::{Rng, MAX_BLOCK};

const SEED: u64 = 0xB7A5_5EC7_0008;
/// Notes sounding at once, players per note, and the oscillator lanes they need.
const NOTES: usize = 8;
const PLAYERS: usize = 2;
const LANES: usize = NOTES * PLAYERS;
/// Lanes rendered side by side in one loop (two notes): the compiler vectorises across them.
const GROUP: usize = 4;
const GROUPS: usize = LANES / GROUP;
/// The section's compass; notes outside are folded in by octaves.
const LOWEST_NOTE: u8 = 34;
const HIGHEST_NOTE: u8 = 84;

// ---------------------------------------------------------------------------------------------
// What a sound designer tunes.
// ---------------------------------------------------------------------------------------------

/// Control grid (s): pressure, pitch and brightness are recomputed this often and glide
/// linearly in between (at most `MAX_BLOCK` samples).
const CONTROL_S: f32 = 0.001_333;
/// Whole-section output gain: a four-note chord at velocity 0.8 peaks about 0.4.
const OUT_GAIN: f32 = 0.067;
/// Velocity -> blowing pressure: p = velocity^PRESSURE_EXP (a pp note still speaks).
const PRESSURE_EXP: f32 = 0.8;
/// Lip source: harmonic k has amplitude a^k with a = exp(-f0 / edge), an exponential spectral
/// envelope whose edge (Hz, per family) rises with the square of the pressure, so partial k
/// grows much faster than the fundamental (Benade's spectral enrichment). `a`'s ceiling and
/// floor.
const A_MAX: f32 = 0.985;
const A_MIN: f32 = 0.01;
/// log2 of the level (relative to the fundamental) that harmonics folding over Nyquist may
/// reach: -60 dB. A high note's `a` is capped so that its partials above Nyquist are this small.
const ALIAS_FLOOR_LOG2: f32 = -9.966;
/// Breath support wobbles with the player's slow wander (share of pressure).
const PRESSURE_WOBBLE: f32 = 0.025;
/// Tongued attack: accent overshoot (share of the note's pressure) and its decay (s).
const ACCENT: f32 = 0.12;
const ACCENT_S: f32 = 0.07;
/// A restruck note: the tongue stops the air for a moment (pressure kept).
const TONGUE_DIP: f32 = 0.45;
/// Stab: attack time constant (s), accented peak, decay (s) and the level it decays towards.
const STAB_ATTACK_S: f32 = 0.003;
const STAB_PEAK: f32 = 1.2;
const STAB_DECAY_S: f32 = 0.085;
const STAB_FLOOR: f32 = 0.12;
/// The lips' blat on a hard attack: extra brightness, roughness (AM depth) and its decay (s).
const BLAT_BRIGHT: f32 = 0.55;
const BLAT_ROUGH: f32 = 0.4;
const BLAT_S: f32 = 0.018;
/// Swell: where it starts (dB under the note's level) and the pressure follower (s).
const SWELL_FROM_DB: f32 = -32.0;
const SWELL_FOLLOW_S: f32 = 0.03;
/// Shake: straight tone first (s), trill rate range (Hz), width range (semitones), how uneven
/// each cycle is, how square (lip slur time) and the level dip during each slur.
const SHAKE_STRAIGHT_S: f32 = 0.2;
const SHAKE_HZ: (f32, f32) = (6.6, 8.4);
const SHAKE_SEMIS: (f32, f32) = (2.7, 3.5);
const SHAKE_UNEVEN: f32 = 0.18;
const SHAKE_SHARP: f32 = 3.5;
const SHAKE_DIP: f32 = 0.22;
/// Vibrato on held notes only: delay and rise (s), rate range (Hz).
const VIB_DELAY_S: f32 = 0.3;
const VIB_RISE_S: f32 = 0.5;
const VIB_HZ: (f32, f32) = (4.8, 6.0);
/// Pitch: the attack settles from below with this time constant (s); each player's slow
/// wander (cents, seconds between targets, smoothing s) and fixed detune (cents).
const SCOOP_S: f32 = 0.009;
const WANDER_CENTS: f32 = 3.5;
const WANDER_HOLD_S: (f32, f32) = (0.25, 0.8);
const WANDER_S: f32 = 0.2;
const DETUNE_CENTS: f32 = 4.5;
/// Release: the pitch sags this far (cents) as the lips let go, and the ringing air column
/// loses its brightness this many times more slowly than its level.
const RELEASE_SAG_CENTS: f32 = 18.0;
const RELEASE_BRIGHT_SLOWER: f32 = 3.0;
/// Fall: depth (semitones) of a very short fall, and the length (s) from which it is an octave.
const FALL_MIN_SEMIS: f32 = 5.0;
const FALL_FULL_S: f32 = 0.8;
/// Entries: the first player within FIRST (s), the second a further SECOND (s) later.
const ENTRY_FIRST_S: (f32, f32) = (0.0, 0.004);
const ENTRY_SECOND_S: (f32, f32) = (0.003, 0.022);
/// Tongue noise ("t") at the attack and its decay (s); breath noise under the tone.
const CHIFF: f32 = 0.6;
const CHIFF_S: f32 = 0.007;
const BREATH: f32 = 0.035;
/// A stolen note fades out over this long (s) before the new one starts.
const STEAL_S: f32 = 0.004;
/// From this velocity, a held note in a register two families share goes to the brassier one.
const LOUD_VEL: f32 = 0.75;
/// In the notes trombones and trumpets share, stabs and shakes up to here go to trombones.
const BONE_TRUMPET_SPLIT: u8 = 63;
/// set_tone: roll-off corners and the loud spectral edge move by these factors from tone 0 to 1.
const TONE_ROLLOFF_SPAN: f32 = 2.5;
const TONE_EDGE_SPAN: f32 = 2.0;
const TONE_S: f32 = 0.05;
/// Tails: a family's bell filters run this long (s) after its last player stops; then the
/// output stage (DC blockers, horn reflections) this much longer before the section sleeps.
const FAMILY_TAIL_S: f32 = 0.25;
const OUT_TAIL_S: f32 = 0.4;
/// A player is silent (and freed) below this pressure (-80 dB).
const P_OFF: f32 = 1.0e-4;
/// Horns: direct share, and the back-wall reflections per side (delay s, gain): their bells
/// face away, so much of what the hall hears is reflected.
const HORN_DIRECT: f32 = 0.9;
const HORN_REFL: [[(f32, f32); 2]; 2] = [
    [(0.011, 0.12), (0.023, 0.08)],
    [(0.014, 0.12), (0.019, 0.08)],
];

/// One family of the section: its register, seat, bell and how its players play.
#[derive(Clone, Copy, Debug)]
struct Family {
    /// Lowest and highest note the family plays (MIDI).
    lo: u8,
    hi: u8,
    /// Seat, -1 left .. 1 right.
    pan: f32,
    /// Level of the family against the others.
    gain: f32,
    /// Bell radiation: the low end radiates poorly; below `rise_hz` the level falls to
    /// `rise_floor` (a first-order shelf: the highpass-like rise).
    rise_hz: f32,
    rise_floor: f32,
    /// The bore and bell's broad resonance region (Hz, Q, added gain).
    formant_hz: f32,
    formant_q: f32,
    formant_gain: f32,
    /// Bell roll-off: a 12 dB/octave corner (Hz, at tone 0.5) and a further one-pole.
    rolloff_hz: f32,
    rolloff2_hz: f32,
    /// The source's spectral edge (Hz) at zero pressure (round) and at full pressure (brassy).
    edge_soft_hz: f32,
    edge_loud_hz: f32,
    /// Tongued attack (time constant, s) and release (time constant, s).
    attack_s: f32,
    release_s: f32,
    /// The attack's pitch scoop from below (cents).
    scoop_cents: f32,
    /// Vibrato depth on held notes (cents).
    vibrato_cents: f32,
    /// Breath noise share.
    breath: f32,
}

const TROMBONES: usize = 0;
const HORNS: usize = 1;
const TRUMPETS: usize = 2;
const FAMILIES: usize = 3;

/// Who plays what. Registers overlap (bass trombone and tenor trombones 34-65, horns 50-77,
/// trumpets 60-84); where they do, `family_for` decides (see there).
const FAMILY: [Family; FAMILIES] = [
    // Trombones and bass trombone: broad and strong in the low mids, left of centre.
    Family {
        lo: 34,
        hi: 65,
        pan: -0.45,
        gain: 1.0,
        rise_hz: 320.0,
        rise_floor: 0.45,
        formant_hz: 560.0,
        formant_q: 0.9,
        formant_gain: 0.8,
        rolloff_hz: 4200.0,
        rolloff2_hz: 9000.0,
        edge_soft_hz: 200.0,
        edge_loud_hz: 1800.0,
        attack_s: 0.014,
        release_s: 0.012,
        scoop_cents: 40.0,
        vibrato_cents: 4.0,
        breath: 1.0,
    },
    // Horns: dark and distant, centre-back (their bells face away from the hall).
    Family {
        lo: 50,
        hi: 77,
        pan: 0.0,
        gain: 0.95,
        rise_hz: 260.0,
        rise_floor: 0.5,
        formant_hz: 430.0,
        formant_q: 1.2,
        formant_gain: 0.6,
        rolloff_hz: 1900.0,
        rolloff2_hz: 2600.0,
        edge_soft_hz: 130.0,
        edge_loud_hz: 1000.0,
        attack_s: 0.018,
        release_s: 0.014,
        scoop_cents: 25.0,
        vibrato_cents: 0.0,
        breath: 0.7,
    },
    // Trumpets: the brightest, presence around 1.2-1.5 kHz, right of centre.
    Family {
        lo: 60,
        hi: 84,
        pan: 0.45,
        gain: 0.85,
        rise_hz: 900.0,
        rise_floor: 0.3,
        formant_hz: 1350.0,
        formant_q: 1.1,
        formant_gain: 0.7,
        rolloff_hz: 7000.0,
        rolloff2_hz: 12000.0,
        edge_soft_hz: 250.0,
        edge_loud_hz: 3200.0,
        attack_s: 0.009,
        release_s: 0.010,
        scoop_cents: 30.0,
        vibrato_cents: 10.0,
        breath: 0.8,
    },
];

/// How a section note is played.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BrassArt {
    /// A held note with a normal tongued attack.
    Sustain,
    /// A short accented stab: hard attack with the lips' brassy "blat", dying away quickly
    /// (the composer ends it with note_off soon after).
    Stab,
    /// Starts almost inaudible and crescendos to the note's velocity over `seconds`
    /// (Herrmann's low brass swells); brightness grows with it.
    Swell { seconds: f32 },
    /// A big-band lip shake: a wide, fast, uneven trill up from the note (about a minor
    /// third, 6-9 per second) after a moment of straight tone.
    Shake,
}

impl BrassArt {
    /// Hostile inputs made safe: a swell's length is finite and between 50 ms and 30 s.
    fn sanitized(self) -> Self {
        match self {
            BrassArt::Swell { seconds } => BrassArt::Swell {
                seconds: if seconds.is_finite() {
                    seconds.clamp(0.05, 30.0)
                } else {
                    2.0
                },
            },
            other => other,
        }
    }
}

/// The family that plays `note` (already folded into 34..=84). One family where only one
/// reaches; where registers overlap, held and swelled notes go to the horns unless played
/// loud (velocity >= `LOUD_VEL`), and stabs, shakes and loud notes go to the brassier big-band
/// families: trombones up to `BONE_TRUMPET_SPLIT`, trumpets above.
fn family_for(note: u8, velocity: f32, art: BrassArt) -> usize {
    let fits = |f: usize| (FAMILY[f].lo..=FAMILY[f].hi).contains(&note);
    let brassy = match art {
        BrassArt::Stab | BrassArt::Shake => true,
        BrassArt::Sustain => velocity >= LOUD_VEL,
        BrassArt::Swell { .. } => false,
    };
    if fits(HORNS) && (!brassy || !(fits(TROMBONES) || fits(TRUMPETS))) {
        return HORNS;
    }
    match (fits(TROMBONES), fits(TRUMPETS)) {
        (true, true) if note <= BONE_TRUMPET_SPLIT => TROMBONES,
        (true, true) => TRUMPETS,
        (true, false) => TROMBONES,
        (false, true) => TRUMPETS,
        (false, false) => HORNS,
    }
}

/// Any MIDI note folded by octaves into the section's compass.
fn fold(note: u8) -> u8 {
    let mut n = note;
    while n < LOWEST_NOTE {
        n += 12;
    }
    while n > HIGHEST_NOTE {
        n -= 12;
    }
    n
}

/// 2^x at control rate: split at the nearest integer, degree-5 Taylor on [-0.5, 0.5]
/// (relative error ~2e-6, 0.004 cent), no libm call.
#[inline]
fn exp2_fast(x: f32) -> f32 {
    let x = x.clamp(-60.0, 60.0);
    let k = crate::dsp::util::floor(x + 0.5);
    let f = x - k;
    let p = 1.0
        + f * (core::f32::consts::LN_2
            + f * (0.240_226_5 + f * (0.055_504_1 + f * (0.009_618_1 + f * 0.001_333_4))));
    p * f32::from_bits(((k as i32 + 127) as u32) << 23)
}

/// (sin x, cos x) for |x| <= 0.6 rad (a per-sample rotation), Taylor to x^9 (error < 1e-9).
#[inline]
fn sincos_small(x: f32) -> (f32, f32) {
    let x2 = x * x;
    let s = x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0))));
    let c = 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0)));
    (s, c)
}

/// The fastest per-sample rotation allowed (turns): keeps `sincos_small` in range.
const MAX_DPH: f32 = 0.08;

/// A note waiting for the next control tick (event methods only record; the grid acts).
#[derive(Clone, Copy, Debug)]
struct Req {
    /// Folded note.
    note: u8,
    /// Velocity 0..1 (already sanitised).
    vel: f32,
    art: BrassArt,
    /// Still held (a note_off before it starts makes it a release at once).
    held: bool,
}

/// One section note: the pair of players on it and what they were asked to do.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Its players sound (or are about to).
    busy: bool,
    note: u8,
    /// The key is down (the players hold the note).
    held: bool,
    /// Order of the note-on (stealing takes the oldest).
    struck: u64,
    /// Loudest player pressure (stealing takes the quietest released note).
    loud: f32,
    /// Playing family (index into `FAMILY`).
    fam: usize,
    art: BrassArt,
    /// Target blowing pressure (velocity^PRESSURE_EXP).
    vel: f32,
    /// A note to start at the next tick (after a stolen note has faded).
    req: Option<Req>,
    /// Fall: progress 0..1, its step per tick (0: no fall) and its depth (semitones).
    fall_u: f32,
    fall_step: f32,
    fall_semis: f32,
}

impl Slot {
    const FREE: Slot = Slot {
        busy: false,
        note: 60,
        held: false,
        struck: 0,
        loud: 0.0,
        fam: HORNS,
        art: BrassArt::Sustain,
        vel: 0.0,
        req: None,
        fall_u: 0.0,
        fall_step: 0.0,
        fall_semis: 0.0,
    };
}

impl KeySlot for Slot {
    fn sounding(&self) -> bool {
        self.busy || self.req.is_some()
    }
    fn note(&self) -> u8 {
        self.req.map_or(self.note, |r| r.note)
    }
    fn held(&self) -> bool {
        self.req.map_or(self.held, |r| r.held)
    }
    fn loudness(&self) -> f32 {
        self.loud
    }
    fn struck(&self) -> u64 {
        self.struck
    }
}

/// One player's control-rate state (the audio-rate oscillator lives in `Osc`).
#[derive(Clone, Copy, Debug)]
struct Player {
    /// Sounding, or waiting to come in.
    on: bool,
    /// The last tick: its gain glides to zero, then the player is free.
    ending: bool,
    /// Family index (which bell and bus).
    fam: usize,
    /// Control ticks before this player comes in (the section's attack spread).
    wait: u32,
    /// Ticks since it came in.
    ticks: u32,
    /// Blowing pressure (0..~1.2): the envelope. Level and brightness follow it.
    p: f32,
    /// The pressure brightness follows: `p` while blowing, decaying more slowly after release.
    pb: f32,
    /// This player's share of the note's pressure (players never blow exactly alike).
    vel_scale: f32,
    /// The key is up: pressure decays; `p_rel` is the pressure at that moment (pitch sag).
    released: bool,
    p_rel: f32,
    /// A stolen note's fade (1 -> 0) and its step per tick.
    kill: f32,
    kill_step: f32,
    /// Accent overshoot (decays from 1); a stab's whole decay shape.
    accent: f32,
    /// The blat of a hard attack (decays from 1).
    blat: f32,
    /// Tongue noise (decays from its attack level).
    chiff: f32,
    /// The note's phase increment (turns per sample) before any bending.
    base_dph: f32,
    /// Highest spectral ratio `a` this note may use without audible aliasing.
    a_lim: f32,
    /// Fixed tuning offset (cents).
    detune_cents: f32,
    /// Slow pitch wander (cents): current, target, ticks until a new target.
    wander: f32,
    wander_to: f32,
    wander_left: u32,
    /// Vibrato phase (turns), step per tick, depth scale.
    vib_ph: f32,
    vib_step: f32,
    vib_scale: f32,
    /// Attack scoop (cents below, decaying to 0).
    scoop: f32,
    /// Shake: start (s into the note), cycle phase, step per tick (this cycle), mean step,
    /// width (semitones) and how far it has opened (0..1).
    shake_at: f32,
    shake_ph: f32,
    shake_step: f32,
    shake_base: f32,
    shake_semis: f32,
    shake_in: f32,
    /// This player's own fall: depth share and speed.
    fall_depth_scale: f32,
    fall_speed: f32,
    /// Targets the oscillator reaches at the next tick: rotation (cos, sin), the DSF
    /// denominator terms (1 + a^2, 2a) and the output gain.
    wc: f32,
    ws: f32,
    d0: f32,
    d1: f32,
    g: f32,
}

impl Player {
    const IDLE: Player = Player {
        on: false,
        ending: false,
        fam: HORNS,
        wait: 0,
        ticks: 0,
        p: 0.0,
        pb: 0.0,
        vel_scale: 1.0,
        released: false,
        p_rel: 1.0,
        kill: 1.0,
        kill_step: 0.0,
        accent: 0.0,
        blat: 0.0,
        chiff: 0.0,
        base_dph: 0.01,
        a_lim: A_MAX,
        detune_cents: 0.0,
        wander: 0.0,
        wander_to: 0.0,
        wander_left: 0,
        vib_ph: 0.0,
        vib_step: 0.0,
        vib_scale: 1.0,
        scoop: 0.0,
        shake_at: 0.0,
        shake_ph: 0.0,
        shake_step: 0.0,
        shake_base: 0.0,
        shake_semis: 0.0,
        shake_in: 0.0,
        fall_depth_scale: 1.0,
        fall_speed: 1.0,
        wc: 1.0,
        ws: 0.0,
        d0: 1.0,
        d1: 0.0,
        g: 0.0,
    };
}

/// Audio-rate state of four lanes (two notes) as flat arrays, so the per-sample loop is the
/// same arithmetic on four lanes at once.
#[derive(Clone, Copy, Debug)]
struct Osc {
    /// The lip oscillation as a unit phasor (cos, sin of the phase).
    c: [f32; GROUP],
    s: [f32; GROUP],
    /// Per-sample rotation (cos, sin) and its per-sample glide towards the next tick's.
    wc: [f32; GROUP],
    ws: [f32; GROUP],
    dwc: [f32; GROUP],
    dws: [f32; GROUP],
    /// Closed-form harmonic series sum_k a^k sin(k phase) = a s / (1 + a^2 - 2 a c): the two
    /// denominator terms and their glides.
    d0: [f32; GROUP],
    dd0: [f32; GROUP],
    d1: [f32; GROUP],
    dd1: [f32; GROUP],
    /// Output gain (level, normalisation by a, roughness) and its glide.
    g: [f32; GROUP],
    dg: [f32; GROUP],
}

impl Osc {
    const IDLE: Osc = Osc {
        c: [1.0; GROUP],
        s: [0.0; GROUP],
        wc: [1.0; GROUP],
        ws: [0.0; GROUP],
        dwc: [0.0; GROUP],
        dws: [0.0; GROUP],
        d0: [1.0; GROUP],
        dd0: [0.0; GROUP],
        d1: [0.0; GROUP],
        dd1: [0.0; GROUP],
        g: [0.0; GROUP],
        dg: [0.0; GROUP],
    };
}

/// One family's bell and breath: the radiation rise, the bore's resonance region, the
/// roll-off, and the breath/tongue noise that goes through them.
struct Bell {
    /// Lowpassed copy subtracted from the input: the first-order radiation rise.
    rise: OnePole,
    /// Broad resonance region (peak gain = Q, scaled by `formant_gain / Q`).
    formant: Bandpass,
    /// Roll-off: 12 dB/octave (tone-dependent corner) then a one-pole.
    rolloff: Lowpass,
    rolloff2: OnePole,
    /// Breath noise generator (xorshift32) and its previous sample (first difference: airy).
    noise: u32,
    prev: f32,
    /// Noise gain, its per-sample glide and the target reached at the next tick.
    ng: f32,
    dng: f32,
    ng_to: f32,
    /// The chain runs this tick (players sounding or tail left).
    run: bool,
    /// Ticks of tail left after the family's last player stopped.
    tail: u32,
    /// Seat gains (left, right).
    gl: f32,
    gr: f32,
}

/// Per-tick coefficients (decays are multipliers, followers are one-pole steps).
#[derive(Clone, Copy, Debug)]
struct Coefs {
    attack: [f32; FAMILIES],
    release: [f32; FAMILIES],
    release_bright: [f32; FAMILIES],
    stab_attack: f32,
    stab_decay: f32,
    swell_follow: f32,
    accent: f32,
    blat: f32,
    chiff: f32,
    scoop: f32,
    wander: f32,
    tone: f32,
    kill_step: f32,
}

/// Everything a player's control tick reads from the section.
#[derive(Clone, Copy, Debug)]
struct Ctl {
    sr: f32,
    tick_s: f32,
    inv_grid: f32,
    /// The tone's factor on the loud spectral edge.
    tone_edge: f32,
    k: Coefs,
}

/// The brass section: up to 8 notes, each played by two players in unison.
///
/// Each player is a lip-reed source: a phasor at the note's pitch feeding the closed-form
/// harmonic series sum a^k sin(k phase), where `a` follows the blowing pressure, so partial k
/// grows as the k-th power of the fundamental (soft notes nearly sine, forte brassy, fortissimo
/// steepened to a buzz; capped per note against aliasing). Pressure is the envelope: tongued
/// attacks (scoop from below, tongue noise, accent), stabs (blat: brightness overshoot and
/// lip roughness, fast decay), dB-linear swells, release decays of 30-80 ms with a pitch sag.
/// Each player has its own tuning, slow wander, delayed vibrato (held notes only), entry time,
/// shake and fall. Players are summed per family into a bell: radiation rise, resonance
/// region, roll-off (trumpets brightest, trombones broad, horns dark and reflected from the
/// back wall), with breath noise, then seated: trombones left, horns centre-back, trumpets
/// right. Control (pressure, pitch, brightness) runs on a ~1.3 ms grid counted from the
/// first note after silence, gliding linearly between ticks.
pub struct Brass {
    sr: f32,
    /// Samples per control tick.
    grid: usize,
    /// Samples left in the current tick (0: the next sample starts one).
    tick_left: usize,
    /// Seconds per tick.
    tick_s: f32,
    /// Nothing sounds and no tail rings: `render` returns at once.
    idle: bool,
    rng: Rng,
    /// Note-on counter (stealing order).
    counter: u64,
    slots: [Slot; NOTES],
    players: [Player; LANES],
    osc: [Osc; GROUPS],
    /// One group's lanes for a segment, interleaved, before they go to the family buses.
    lane_out: [[f32; GROUP]; MAX_BLOCK],
    /// Each family's players summed, for a segment.
    bus: [[f32; MAX_BLOCK]; FAMILIES],
    bells: [Bell; FAMILIES],
    /// Horns' back-wall reflections.
    horn_delay: DelayLine,
    /// Reflection taps per side: (samples back, gain).
    horn_taps: [[(usize, f32); 2]; 2],
    /// Output DC blockers (left, right).
    dc: [DcBlock; 2],
    /// Ticks of output-stage tail left after the last family stopped.
    out_tail: u32,
    /// Ticks of tail per family and for the output stage.
    family_tail_ticks: u32,
    out_tail_ticks: u32,
    /// Tone 0..1: current (smoothed per tick), target, and the value the filters were set at.
    tone: f32,
    tone_target: f32,
    tone_applied: f32,
    k: Coefs,
    /// Keeps white breath noise equally loud in the audible band at any sample rate.
    nscale: f32,
    /// Test hook: only the first player of each note comes in.
    #[cfg(test)]
    solo_first: bool,
}

impl Brass {
    pub fn new(sample_rate: f32) -> Self {
        let sr = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate.clamp(8000.0, 384_000.0)
        } else {
            48_000.0
        };
        let grid = ((sr * CONTROL_S).round() as usize).clamp(8, MAX_BLOCK);
        let tick_s = grid as f32 / sr;
        let decay = |tau: f32| (-tick_s / tau).exp();
        let follow = |tau: f32| 1.0 - (-tick_s / tau).exp();
        let k = Coefs {
            attack: FAMILY.map(|f| follow(f.attack_s)),
            release: FAMILY.map(|f| decay(f.release_s)),
            release_bright: FAMILY.map(|f| decay(f.release_s * RELEASE_BRIGHT_SLOWER)),
            stab_attack: follow(STAB_ATTACK_S),
            stab_decay: decay(STAB_DECAY_S),
            swell_follow: follow(SWELL_FOLLOW_S),
            accent: decay(ACCENT_S),
            blat: decay(BLAT_S),
            chiff: decay(CHIFF_S),
            scoop: decay(SCOOP_S),
            wander: follow(WANDER_S),
            tone: follow(TONE_S),
            kill_step: (tick_s / STEAL_S).min(1.0),
        };
        let bells = core::array::from_fn(|f| {
            let spec = FAMILY[f];
            let (gl, gr) = pan_gains(spec.pan);
            Bell {
                rise: OnePole::new(sr, spec.rise_hz),
                formant: bandpass(sr, spec.formant_hz, spec.formant_q),
                rolloff: lowpass(sr, spec.rolloff_hz, 0.7),
                rolloff2: OnePole::new(sr, spec.rolloff2_hz),
                noise: 0x9E37_79B9 ^ (f as u32 + 1).wrapping_mul(0x85EB_CA6B),
                prev: 0.0,
                ng: 0.0,
                dng: 0.0,
                ng_to: 0.0,
                run: false,
                tail: 0,
                gl,
                gr,
            }
        });
        let longest = HORN_REFL
            .iter()
            .flatten()
            .fold(0.0f32, |m, &(d, _)| m.max(d));
        let horn_taps = HORN_REFL.map(|side| side.map(|(d, g)| (((d * sr) as usize).max(1), g)));
        let mut b = Self {
            sr,
            grid,
            tick_left: 0,
            tick_s,
            idle: true,
            rng: Rng::new(SEED),
            counter: 0,
            slots: [Slot::FREE; NOTES],
            players: [Player::IDLE; LANES],
            osc: [Osc::IDLE; GROUPS],
            lane_out: [[0.0; GROUP]; MAX_BLOCK],
            bus: [[0.0; MAX_BLOCK]; FAMILIES],
            bells,
            horn_delay: DelayLine::new((longest * sr) as usize + 2),
            horn_taps,
            dc: [DcBlock::new(sr, 12.0), DcBlock::new(sr, 12.0)],
            out_tail: 0,
            family_tail_ticks: (FAMILY_TAIL_S / tick_s) as u32 + 1,
            out_tail_ticks: (OUT_TAIL_S / tick_s) as u32 + 1,
            tone: 0.5,
            tone_target: 0.5,
            tone_applied: -1.0,
            k,
            nscale: (sr / 48_000.0).sqrt(),
            #[cfg(test)]
            solo_first: false,
        };
        b.reset();
        b
    }

    pub fn reset(&mut self) {
        self.rng = Rng::new(SEED);
        self.counter = 0;
        self.tick_left = 0;
        self.idle = true;
        self.slots = [Slot::FREE; NOTES];
        self.players = [Player::IDLE; LANES];
        self.osc = [Osc::IDLE; GROUPS];
        self.lane_out = [[0.0; GROUP]; MAX_BLOCK];
        self.bus = [[0.0; MAX_BLOCK]; FAMILIES];
        for (f, b) in self.bells.iter_mut().enumerate() {
            b.rise.reset();
            b.formant.reset();
            b.rolloff.reset();
            b.rolloff2.reset();
            b.noise = 0x9E37_79B9 ^ (f as u32 + 1).wrapping_mul(0x85EB_CA6B);
            b.prev = 0.0;
            b.ng = 0.0;
            b.dng = 0.0;
            b.ng_to = 0.0;
            b.run = false;
            b.tail = 0;
        }
        self.horn_delay.clear();
        for d in &mut self.dc {
            d.reset();
        }
        self.out_tail = 0;
        self.tone = 0.5;
        self.tone_target = 0.5;
        self.apply_tone();
    }

    /// A section note (MIDI 34..84; outside folded by octaves). Who plays it follows the
    /// register (a documented table: trombones/bass trombone low, horns in the middle,
    /// trumpets on top, overlapping) with two players per note in unison.
    pub fn note_on(&mut self, note: u8, velocity: f32, art: BrassArt) {
        let vel = unit_velocity(velocity);
        let note = fold(note);
        if vel <= 0.0 {
            self.note_off(note);
            return;
        }
        let slot = pick_key_slot(&self.slots, note);
        self.counter += 1;
        let s = &mut self.slots[slot];
        s.req = Some(Req {
            note,
            vel,
            art: art.sanitized(),
            held: true,
        });
        s.struck = self.counter;
        s.fall_u = 0.0;
        s.fall_step = 0.0;
        s.fall_semis = 0.0;
        self.idle = false;
    }

    pub fn note_off(&mut self, note: u8) {
        let note = fold(note);
        for s in &mut self.slots {
            match &mut s.req {
                Some(r) if r.note == note => r.held = false,
                Some(_) => {}
                None => {
                    if s.busy && s.note == note {
                        s.held = false;
                    }
                }
            }
        }
    }

    /// The note falls off in pitch (a "fall", up to an octave down, faster at the end) over
    /// `seconds`, fading out; then it is free.
    pub fn fall(&mut self, note: u8, seconds: f32) {
        let note = fold(note);
        let secs = if seconds.is_finite() {
            seconds.clamp(0.05, 4.0)
        } else {
            0.5
        };
        let step = self.tick_s / secs;
        let semis = (FALL_MIN_SEMIS + (12.0 - FALL_MIN_SEMIS) * secs / FALL_FULL_S).min(12.0);
        for s in &mut self.slots {
            if s.sounding() && s.note() == note && s.fall_step == 0.0 {
                s.fall_u = 0.0;
                s.fall_step = step;
                s.fall_semis = semis;
            }
        }
    }

    pub fn all_notes_off(&mut self) {
        for s in &mut self.slots {
            s.held = false;
            if let Some(r) = &mut s.req {
                r.held = false;
            }
        }
    }

    /// 0 dark .. 1 bright (the mood and the light), on top of the dynamics.
    pub fn set_tone(&mut self, brightness: f32) {
        if brightness.is_finite() {
            self.tone_target = brightness.clamp(0.0, 1.0);
            if self.idle {
                self.tone = self.tone_target;
                self.apply_tone();
            }
        }
    }

    /// Retunes the bells' roll-off to the current tone.
    fn apply_tone(&mut self) {
        let scale = exp2_fast(TONE_ROLLOFF_SPAN.log2() * (self.tone - 0.5));
        for (b, spec) in self.bells.iter_mut().zip(FAMILY.iter()) {
            b.rolloff.set(spec.rolloff_hz * scale, 0.7);
            b.rolloff2.set_hz(self.sr, spec.rolloff2_hz * scale);
        }
        self.tone_applied = self.tone;
    }

    crate::dsp::simd::wide_method! {
        /// ADDS the section into `l`, `r` (trombones left, horns centre-back, trumpets right).
        pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) = render_avx2 / render_portable
    }

    #[inline(always)]
    fn render_portable(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        let mut pos = 0;
        while pos < n && !self.idle {
            if self.tick_left == 0 {
                self.control_tick();
                if self.idle {
                    break;
                }
                self.tick_left = self.grid;
            }
            let len = (n - pos).min(self.tick_left);
            self.render_players(len);
            self.finish(&mut l[pos..pos + len], &mut r[pos..pos + len]);
            self.tick_left -= len;
            pos += len;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Control grid
    // -----------------------------------------------------------------------------------------

    fn control_tick(&mut self) {
        self.tone += (self.tone_target - self.tone) * self.k.tone;
        if (self.tone - self.tone_applied).abs() > 0.005 {
            self.apply_tone();
        }
        for si in 0..NOTES {
            self.slot_tick(si);
        }
        let ctl = Ctl {
            sr: self.sr,
            tick_s: self.tick_s,
            inv_grid: 1.0 / self.grid as f32,
            tone_edge: exp2_fast(TONE_EDGE_SPAN.log2() * (self.tone - 0.5)),
            k: self.k,
        };
        let mut noise = [0.0f32; FAMILIES];
        let mut sounding = [false; FAMILIES];
        for lane in 0..LANES {
            let slot = self.slots[lane / PLAYERS];
            let o = &mut self.osc[lane / GROUP];
            if let Some((f, nz)) = player_tick(
                &mut self.players[lane],
                o,
                lane % GROUP,
                &slot,
                &mut self.rng,
                &ctl,
            ) {
                noise[f] += nz;
                sounding[f] = true;
            }
        }
        let mut any = false;
        for (si, s) in self.slots.iter_mut().enumerate() {
            let pair = &self.players[si * PLAYERS..(si + 1) * PLAYERS];
            let on = pair.iter().any(|p| p.on);
            s.loud = pair.iter().fold(0.0f32, |m, p| m.max(p.p));
            if !on && s.busy {
                s.busy = false;
                s.fall_step = 0.0;
                s.fall_u = 0.0;
            }
            any |= s.busy || s.req.is_some();
        }
        let inv_grid = ctl.inv_grid;
        for (f, b) in self.bells.iter_mut().enumerate() {
            b.ng = b.ng_to;
            if sounding[f] {
                b.tail = self.family_tail_ticks;
                b.run = true;
            } else if b.tail > 0 {
                b.tail -= 1;
                b.run = b.tail > 0;
                if !b.run {
                    b.rise.reset();
                    b.formant.reset();
                    b.rolloff.reset();
                    b.rolloff2.reset();
                    b.prev = 0.0;
                    noise[f] = 0.0;
                    b.ng = 0.0;
                }
            }
            b.ng_to = noise[f] * self.nscale;
            b.dng = (b.ng_to - b.ng) * inv_grid;
            any |= b.run;
        }
        if any {
            self.out_tail = self.out_tail_ticks;
        } else if self.out_tail > 0 {
            self.out_tail -= 1;
        } else {
            // Everything has rung out: sleep. The state left is exactly zero.
            self.idle = true;
            self.tick_left = 0;
            for d in &mut self.dc {
                d.reset();
            }
            self.horn_delay.clear();
            for b in &mut self.bells {
                b.ng = 0.0;
                b.dng = 0.0;
                b.ng_to = 0.0;
            }
        }
    }

    /// Starts a waiting note (after a stolen one has faded) and advances a fall.
    fn slot_tick(&mut self, si: usize) {
        let pair = si * PLAYERS..(si + 1) * PLAYERS;
        let on = self.players[pair.clone()].iter().any(|p| p.on);
        if let Some(req) = self.slots[si].req {
            let fam = family_for(req.note, req.vel, req.art);
            let s = self.slots[si];
            let same = on && s.busy && s.note == req.note && s.fam == fam;
            if on && !same {
                // Stolen: fade the old note's players out first.
                for p in &mut self.players[pair] {
                    if p.kill_step == 0.0 {
                        p.kill_step = self.k.kill_step;
                    }
                }
            } else {
                let s = &mut self.slots[si];
                s.req = None;
                s.busy = true;
                s.note = req.note;
                s.held = req.held;
                s.art = req.art;
                s.vel = req.vel.powf(PRESSURE_EXP);
                s.fam = fam;
                self.start_players(si, !same);
            }
        }
        let s = &mut self.slots[si];
        if s.busy && s.fall_step > 0.0 {
            s.fall_u = (s.fall_u + s.fall_step).min(2.0);
        }
    }

    /// The two players of slot `si` come in: `fresh` from silence (new phase, no pressure), or
    /// re-tongued on a note still sounding (phase and pressure kept, a dip).
    fn start_players(&mut self, si: usize, fresh: bool) {
        let slot = self.slots[si];
        let fam = FAMILY[slot.fam];
        let rng = &mut self.rng;
        let tick_s = self.tick_s;
        let (spread, chiff, scoop) = match slot.art {
            BrassArt::Stab => (0.6, 1.6, 1.0),
            BrassArt::Swell { .. } => (1.5, 0.1, 0.4),
            BrassArt::Sustain | BrassArt::Shake => (1.0, 1.0, 1.0),
        };
        let first = rng.range(ENTRY_FIRST_S.0, ENTRY_FIRST_S.1) * spread;
        let second = first + rng.range(ENTRY_SECOND_S.0, ENTRY_SECOND_S.1) * spread;
        let base_dph = midi_hz(slot.note as f32) / self.sr;
        let top_semis = if slot.art == BrassArt::Shake {
            SHAKE_SEMIS.1 + 0.5
        } else {
            0.5
        };
        let top_dph = base_dph * exp2_fast(top_semis / 12.0);
        let a_lim = A_MAX.min(exp2_fast(ALIAS_FLOOR_LOG2 * top_dph / 0.47));
        for k in 0..PLAYERS {
            let lane = si * PLAYERS + k;
            let (gi, j) = (lane / GROUP, lane % GROUP);
            let pl = &mut self.players[lane];
            let o = &mut self.osc[gi];
            let entry = if k == 0 { first } else { second };
            let wait = if fresh {
                (entry / tick_s).round() as u32
            } else {
                k as u32 * ((second - first) / tick_s).round() as u32
            };
            let vel_scale = rng.range(0.9, 1.0);
            let detune = if k == 0 { -1.0 } else { 1.0 } * DETUNE_CENTS * rng.range(0.3, 1.0);
            let wander = rng.bipolar() * WANDER_CENTS;
            let wander_left = (rng.range(WANDER_HOLD_S.0, WANDER_HOLD_S.1) / tick_s) as u32;
            let vib_ph = rng.f32();
            let vib_step = rng.range(VIB_HZ.0, VIB_HZ.1) * tick_s;
            let vib_scale = rng.range(0.6, 1.2);
            let scoop_amt = -fam.scoop_cents * rng.range(0.6, 1.3) * scoop;
            let shake_at = SHAKE_STRAIGHT_S * rng.range(0.8, 1.25);
            let shake_base = rng.range(SHAKE_HZ.0, SHAKE_HZ.1) * tick_s;
            let shake_semis = rng.range(SHAKE_SEMIS.0, SHAKE_SEMIS.1);
            let fall_depth_scale = rng.range(0.85, 1.0);
            let fall_speed = rng.range(1.0, 1.12);
            let phase = rng.f32();
            #[cfg(test)]
            if self.solo_first && k > 0 {
                continue;
            }
            if fresh {
                *pl = Player::IDLE;
                pl.p = 0.0;
                pl.wander = 0.5 * wander;
                o.c[j] = sin_turns(phase + 0.25);
                o.s[j] = sin_turns(phase);
                let (ws, wc) = sincos_small(
                    core::f32::consts::TAU
                        * (base_dph * exp2_fast(scoop_amt / 1200.0)).min(MAX_DPH),
                );
                pl.wc = wc;
                pl.ws = ws;
                pl.d0 = 1.0;
                pl.d1 = 0.0;
                pl.g = 0.0;
                pl.scoop = scoop_amt;
            } else {
                pl.p *= TONGUE_DIP;
                pl.scoop = 0.4 * scoop_amt;
            }
            pl.on = true;
            pl.ending = false;
            pl.fam = slot.fam;
            pl.wait = wait;
            pl.ticks = 0;
            pl.vel_scale = vel_scale;
            pl.released = !slot.held;
            pl.p_rel = pl.p.max(1.0e-6);
            pl.kill = 1.0;
            pl.kill_step = 0.0;
            pl.accent = 1.0;
            pl.blat = if slot.art == BrassArt::Stab { 1.0 } else { 0.0 };
            pl.chiff = CHIFF * chiff * (0.3 + 0.7 * slot.vel);
            pl.base_dph = base_dph;
            pl.a_lim = a_lim;
            pl.detune_cents = detune;
            pl.wander_to = wander;
            pl.wander_left = wander_left;
            pl.vib_ph = vib_ph;
            pl.vib_step = vib_step;
            pl.vib_scale = vib_scale;
            pl.shake_at = shake_at;
            pl.shake_ph = 0.0;
            pl.shake_step = shake_base;
            pl.shake_base = shake_base;
            pl.shake_semis = shake_semis;
            pl.shake_in = 0.0;
            pl.fall_depth_scale = fall_depth_scale;
            pl.fall_speed = fall_speed;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Audio rate
    // -----------------------------------------------------------------------------------------

    /// Renders every sounding group's lanes for `len` samples into the family buses.
    fn render_players(&mut self, len: usize) {
        for gi in 0..GROUPS {
            let lanes = &self.players[gi * GROUP..(gi + 1) * GROUP];
            if !lanes.iter().any(|p| p.on) {
                continue;
            }
            let o = &mut self.osc[gi];
            let (mut c, mut s, mut wc, mut ws) = (o.c, o.s, o.wc, o.ws);
            let (mut d0, mut d1, mut g) = (o.d0, o.d1, o.g);
            let (dwc, dws, dd0, dd1, dg) = (o.dwc, o.dws, o.dd0, o.dd1, o.dg);
            for frame in self.lane_out.iter_mut().take(len) {
                for j in 0..GROUP {
                    let nc = c[j] * wc[j] - s[j] * ws[j];
                    let ns = c[j] * ws[j] + s[j] * wc[j];
                    c[j] = nc;
                    s[j] = ns;
                    wc[j] += dwc[j];
                    ws[j] += dws[j];
                    d0[j] += dd0[j];
                    d1[j] += dd1[j];
                    g[j] += dg[j];
                    frame[j] = g[j] * ns / (d0[j] - d1[j] * nc);
                }
            }
            (o.c, o.s, o.wc, o.ws, o.d0, o.d1, o.g) = (c, s, wc, ws, d0, d1, g);
            for (j, p) in lanes.iter().enumerate() {
                if p.on {
                    let bus = &mut self.bus[p.fam];
                    for (b, frame) in bus.iter_mut().zip(self.lane_out.iter()).take(len) {
                        *b += frame[j];
                    }
                }
            }
        }
    }

    /// The family buses through their bells, seated, DC-blocked and added into `l`, `r`.
    fn finish(&mut self, l: &mut [f32], r: &mut [f32]) {
        let len = l.len();
        let mut ol = [0.0f32; MAX_BLOCK];
        let mut or = [0.0f32; MAX_BLOCK];
        for (f, b) in self.bells.iter_mut().enumerate() {
            if !b.run {
                continue;
            }
            let spec = &FAMILY[f];
            let cut = 1.0 - spec.rise_floor;
            let fg = spec.formant_gain / spec.formant_q;
            let bus = &mut self.bus[f];
            for i in 0..len {
                b.noise ^= b.noise << 13;
                b.noise ^= b.noise >> 17;
                b.noise ^= b.noise << 5;
                let w = (b.noise as i32) as f32 * (1.0 / 2_147_483_648.0);
                let airy = w - b.prev;
                b.prev = w;
                b.ng += b.dng;
                let x = bus[i] + airy * b.ng;
                let y = x - cut * b.rise.tick(x);
                let y = y + fg * b.formant.tick(y);
                let y = b.rolloff2.tick(b.rolloff.tick(y));
                if f == HORNS {
                    self.horn_delay.write(y);
                    let [tl, tr] = &self.horn_taps;
                    let rl = self.horn_delay.tap(tl[0].0) * tl[0].1
                        + self.horn_delay.tap(tl[1].0) * tl[1].1;
                    let rr = self.horn_delay.tap(tr[0].0) * tr[0].1
                        + self.horn_delay.tap(tr[1].0) * tr[1].1;
                    ol[i] += HORN_DIRECT * y * b.gl + rl;
                    or[i] += HORN_DIRECT * y * b.gr + rr;
                } else {
                    ol[i] += y * b.gl;
                    or[i] += y * b.gr;
                }
            }
            bus[..len].fill(0.0);
        }
        let [dl, dr] = &mut self.dc;
        for i in 0..len {
            l[i] += safety(dl.tick(ol[i]));
            r[i] += safety(dr.tick(or[i]));
        }
    }
}

/// One player's control tick: commits the previous targets, advances pressure, pitch and
/// brightness, and sets the glides to the new targets. Returns the family and the noise
/// (breath + tongue) this player feeds its bell, or None when it is not sounding.
fn player_tick(
    pl: &mut Player,
    o: &mut Osc,
    j: usize,
    slot: &Slot,
    rng: &mut Rng,
    ctl: &Ctl,
) -> Option<(usize, f32)> {
    if !pl.on {
        return None;
    }
    let k = &ctl.k;
    // The previous tick's targets are reached now, exactly.
    o.wc[j] = pl.wc;
    o.ws[j] = pl.ws;
    o.d0[j] = pl.d0;
    o.d1[j] = pl.d1;
    o.g[j] = pl.g;
    o.dwc[j] = 0.0;
    o.dws[j] = 0.0;
    o.dd0[j] = 0.0;
    o.dd1[j] = 0.0;
    o.dg[j] = 0.0;
    // Keep the phasor on the unit circle (one Newton step).
    let m = 1.5 - 0.5 * (o.c[j] * o.c[j] + o.s[j] * o.s[j]);
    o.c[j] *= m;
    o.s[j] *= m;
    if pl.ending {
        pl.on = false;
        pl.g = 0.0;
        o.g[j] = 0.0;
        return None;
    }
    if pl.wait > 0 {
        pl.wait -= 1;
        return Some((pl.fam, 0.0));
    }
    let fam = &FAMILY[pl.fam];
    pl.ticks = pl.ticks.saturating_add(1);
    let t = pl.ticks as f32 * ctl.tick_s;
    if !slot.held && !pl.released {
        pl.released = true;
        pl.p_rel = pl.p.max(1.0e-6);
    }

    // ---- pressure ----
    let v = slot.vel * pl.vel_scale;
    let (target, follow) = match slot.art {
        BrassArt::Sustain | BrassArt::Shake => (v * (1.0 + ACCENT * pl.accent), k.attack[pl.fam]),
        BrassArt::Stab => (
            v * (STAB_FLOOR + (STAB_PEAK - STAB_FLOOR) * pl.accent),
            k.stab_attack,
        ),
        BrassArt::Swell { seconds } => {
            let u = (t / seconds).min(1.0);
            (
                v * exp2_fast(SWELL_FROM_DB / 6.0206 * (1.0 - u)),
                k.swell_follow,
            )
        }
    };
    pl.accent = flush(
        pl.accent
            * if slot.art == BrassArt::Stab {
                k.stab_decay
            } else {
                k.accent
            },
    );
    if pl.released {
        pl.p = flush(pl.p * k.release[pl.fam]);
        pl.pb = flush(pl.pb * k.release_bright[pl.fam]);
    } else {
        pl.p += (target - pl.p) * follow;
        pl.pb = pl.p;
    }
    pl.blat = flush(pl.blat * k.blat);
    let chiff = pl.chiff;
    pl.chiff = flush(pl.chiff * k.chiff);
    if pl.kill_step > 0.0 {
        pl.kill = (pl.kill - pl.kill_step).max(0.0);
    }

    // ---- fall ----
    let u = (slot.fall_u * pl.fall_speed).min(1.0);
    let fall_gain = (1.0 - u) * (1.0 - u).sqrt();
    let fall_semis = -slot.fall_semis * pl.fall_depth_scale * u * u * u.sqrt();

    // ---- pitch ----
    if pl.wander_left == 0 {
        pl.wander_to = rng.bipolar() * WANDER_CENTS;
        pl.wander_left = (rng.range(WANDER_HOLD_S.0, WANDER_HOLD_S.1) / ctl.tick_s) as u32;
    } else {
        pl.wander_left -= 1;
    }
    pl.wander += (pl.wander_to - pl.wander) * k.wander;
    pl.scoop = flush(pl.scoop * k.scoop);
    let vib = if slot.art == BrassArt::Sustain && fam.vibrato_cents > 0.0 {
        pl.vib_ph += pl.vib_step;
        pl.vib_ph -= crate::dsp::util::floor(pl.vib_ph);
        let depth =
            fam.vibrato_cents * pl.vib_scale * ((t - VIB_DELAY_S) / VIB_RISE_S).clamp(0.0, 1.0);
        depth * sin_turns(pl.vib_ph)
    } else {
        0.0
    };
    let sag = if pl.released {
        -RELEASE_SAG_CENTS * (1.0 - pl.p / pl.p_rel).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (shake, dip) = if slot.art == BrassArt::Shake && t >= pl.shake_at {
        pl.shake_ph += pl.shake_step;
        if pl.shake_ph >= 1.0 {
            pl.shake_ph -= 1.0;
            pl.shake_step = pl.shake_base * (1.0 + SHAKE_UNEVEN * rng.bipolar());
        }
        // Opens over the first cycle.
        pl.shake_in = (pl.shake_in + pl.shake_base).min(1.0);
        let tri = 1.0 - (2.0 * pl.shake_ph - 1.0).abs();
        let x = ((tri - 0.5) * SHAKE_SHARP + 0.5).clamp(0.0, 1.0);
        let sq = x * x * (3.0 - 2.0 * x);
        (
            pl.shake_semis * (0.6 + 0.4 * pl.shake_in) * sq,
            1.0 - SHAKE_DIP * 4.0 * sq * (1.0 - sq),
        )
    } else {
        (0.0, 1.0)
    };
    let cents = pl.detune_cents + pl.wander + vib + pl.scoop + sag;
    let dph = (pl.base_dph * exp2_fast((cents * 0.01 + shake + fall_semis) / 12.0)).min(MAX_DPH);
    let (ws, wc) = sincos_small(core::f32::consts::TAU * dph);

    // ---- brightness and level ----
    let pe = pl.p * fall_gain * (1.0 + PRESSURE_WOBBLE * pl.wander / WANDER_CENTS);
    let x = (pl.pb * fall_gain).min(1.3);
    let edge = fam.edge_soft_hz + (fam.edge_loud_hz * ctl.tone_edge - fam.edge_soft_hz) * x * x;
    let mut a = exp2_fast(-core::f32::consts::LOG2_E * dph * ctl.sr / edge);
    a += BLAT_BRIGHT * pl.blat * (A_MAX - a).max(0.0);
    let a = a.clamp(A_MIN, pl.a_lim);
    let rough = 1.0 + BLAT_ROUGH * pl.blat * rng.bipolar();
    let mut g = fam.gain * OUT_GAIN * pe * (1.0 - a * a).sqrt() * rough * dip * pl.kill;
    let done = (pl.released && pl.p < P_OFF) || u >= 1.0 || (pl.kill_step > 0.0 && pl.kill <= 0.0);
    if done {
        pl.ending = true;
        g = 0.0;
    }
    let breath = BREATH * fam.breath * pe.sqrt() * pe.sqrt().sqrt() * (1.0 + 2.0 * u);
    let noise = fam.gain * OUT_GAIN * (chiff + breath) * pl.kill * if done { 0.0 } else { 1.0 };

    // ---- glides to the new targets ----
    let (d0, d1) = (1.0 + a * a, 2.0 * a);
    o.dwc[j] = (wc - pl.wc) * ctl.inv_grid;
    o.dws[j] = (ws - pl.ws) * ctl.inv_grid;
    o.dd0[j] = (d0 - pl.d0) * ctl.inv_grid;
    o.dd1[j] = (d1 - pl.d1) * ctl.inv_grid;
    o.dg[j] = (g - pl.g) * ctl.inv_grid;
    pl.wc = wc;
    pl.ws = ws;
    pl.d0 = d0;
    pl.d1 = d1;
    pl.g = g;
    Some((pl.fam, noise))
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;
    use BrassArt::{Shake, Stab, Sustain, Swell};

    fn play(b: &mut Brass, sizes: &[usize], n: usize) -> (Vec<f32>, Vec<f32>) {
        render_with(n, sizes, |l, r| b.render(l, r))
    }

    fn mono(l: &[f32], r: &[f32]) -> Vec<f32> {
        l.iter().zip(r).map(|(a, b)| a + b).collect()
    }

    fn db(x: f32) -> f32 {
        20.0 * x.max(1.0e-12).log10()
    }

    fn window_rms(x: &[f32], sr: f32, from_s: f32, len_s: f32) -> f32 {
        let a = (from_s * sr) as usize;
        let b = (a + (len_s * sr) as usize).min(x.len());
        rms(&x[a..b])
    }

    /// One note (mono), `secs` long, from a fresh section.
    fn note(sr: f32, n: u8, vel: f32, art: BrassArt, secs: f32, solo: bool) -> Vec<f32> {
        let mut b = Brass::new(sr);
        b.solo_first = solo;
        b.note_on(n, vel, art);
        let (l, r) = play(&mut b, &[64], (secs * sr) as usize);
        mono(&l, &r)
    }

    /// Fundamental between `lo` and `hi` Hz (hi < 2 lo): the lag with the best normalised
    /// autocorrelation, parabolically interpolated.
    fn track_hz(x: &[f32], sr: f32, lo: f32, hi: f32) -> f32 {
        let (l0, l1) = ((sr / hi) as usize, (sr / lo) as usize + 2);
        let w = x.len() - l1 - 2;
        let nsdf = |lag: usize| -> f64 {
            let (mut r, mut e1, mut e2) = (0.0f64, 0.0f64, 0.0f64);
            for i in 0..w {
                let (a, b) = (x[i] as f64, x[i + lag] as f64);
                r += a * b;
                e1 += a * a;
                e2 += b * b;
            }
            r / (e1 * e2).sqrt().max(1e-30)
        };
        let vals: Vec<f64> = (l0 - 1..=l1 + 1).map(nsdf).collect();
        let mut best = 1;
        for i in 1..vals.len() - 1 {
            if vals[i] > vals[best] {
                best = i;
            }
        }
        let (a, b, c) = (vals[best - 1], vals[best], vals[best + 1]);
        let off = 0.5 * (a - c) / (a - 2.0 * b + c);
        sr / ((l0 - 1 + best) as f64 + off) as f32
    }

    fn semis(f: f32, reference: f32) -> f32 {
        12.0 * (f / reference).log2()
    }

    #[derive(Clone, Copy)]
    enum Ev {
        On(u8, f32, BrassArt),
        Off(u8),
        Fall(u8, f32),
        Tone(f32),
        AllOff,
    }

    fn scripted(sr: f32, sizes: &[usize]) -> Vec<f32> {
        let mut b = Brass::new(sr);
        let events = [
            (0, Ev::On(46, 0.8, Sustain)),
            (0, Ev::On(58, 0.6, Swell { seconds: 1.0 })),
            (10, Ev::On(70, 0.9, Stab)),
            (3001, Ev::Off(70)),
            (4000, Ev::On(74, 0.85, Shake)),
            (9000, Ev::Tone(0.9)),
            (12001, Ev::Fall(74, 0.4)),
            (15000, Ev::On(46, 0.6, Stab)),
            (20000, Ev::On(48, 0.7, Sustain)),
            (20000, Ev::On(52, 0.7, Sustain)),
            (20000, Ev::On(55, 0.7, Sustain)),
            (20000, Ev::On(59, 0.7, Sustain)),
            (20000, Ev::On(62, 0.9, Stab)),
            (20000, Ev::On(66, 0.9, Stab)),
            (20005, Ev::On(69, 0.9, Stab)),
            (20005, Ev::On(73, 0.9, Stab)),
            (20007, Ev::On(76, 0.9, Stab)),
            (26000, Ev::AllOff),
            (33000, Ev::On(40, 0.9, Swell { seconds: 0.2 })),
            (40000, Ev::Off(40)),
        ];
        let at = events.map(|e| e.0);
        let apply = |b: &mut Brass, i: usize| match events[i].1 {
            Ev::On(n, v, a) => b.note_on(n, v, a),
            Ev::Off(n) => b.note_off(n),
            Ev::Fall(n, s) => b.fall(n, s),
            Ev::Tone(t) => b.set_tone(t),
            Ev::AllOff => b.all_notes_off(),
        };
        play_script(&mut b, 50000, sizes, &at, apply, |b, l, r| b.render(l, r))
    }

    #[test]
    fn brass_clean_at_all_rates_and_odd_blocks() {
        let arts = [Sustain, Stab, Swell { seconds: 0.3 }, Shake];
        for sr in RATES {
            let mut b = Brass::new(sr);
            b.set_tone(1.0);
            for (i, n) in [34u8, 41, 50, 58, 65, 72, 79, 84].iter().enumerate() {
                b.note_on(*n, 1.0, arts[i % 4]);
            }
            let (l, r) = play(&mut b, &[64, 13, 1, 50], (sr * 0.6) as usize);
            assert_clean(&l, "brass l");
            assert_clean(&r, "brass r");
            let pk = peak(&l).max(peak(&r));
            assert!(pk > 0.05 && pk < 1.0, "peak {pk} at {sr}");
            b.fall(84, 0.2);
            b.all_notes_off();
            let (l, r) = play(&mut b, &[7, 64, 33], (sr * 1.5) as usize);
            assert_clean(&l, "brass l tail");
            assert_clean(&r, "brass r tail");
            let tail = l.len() - (sr * 0.2) as usize;
            assert!(
                l[tail..].iter().chain(&r[tail..]).all(|v| *v == 0.0),
                "{sr}: no silence"
            );
        }
    }

    #[test]
    fn brass_block_size_independent() {
        let a = scripted(44100.0, &[64]);
        assert!(peak(&a) > 0.05);
        assert_eq!(a, scripted(44100.0, &[1, 7, 33]));
        assert_eq!(a, scripted(44100.0, &[63, 2, 19]));
    }

    #[test]
    fn brass_reset_reproduces_and_is_deterministic() {
        let mut b = Brass::new(48000.0);
        let run = |b: &mut Brass| {
            b.set_tone(0.3);
            for n in [43u8, 55, 62, 67] {
                b.note_on(n, 0.8, Sustain);
            }
            let (mut l, r) = play(b, &[64], 20000);
            b.note_on(72, 0.9, Shake);
            b.fall(43, 0.3);
            let (l2, _) = play(b, &[64], 20000);
            l.extend(l2);
            l.extend(r);
            l
        };
        let a = run(&mut b);
        b.reset();
        assert_eq!(a, run(&mut b));
        assert_eq!(a, run(&mut Brass::new(48000.0)));
    }

    #[test]
    fn brass_rings_out_to_exact_silence_and_sleeps() {
        let sr = 44100.0;
        let mut b = Brass::new(sr);
        for n in [40u8, 52, 64, 76] {
            b.note_on(n, 1.0, Sustain);
        }
        play(&mut b, &[64], 20000);
        b.all_notes_off();
        let (l, r) = play(&mut b, &[64], 44100);
        assert!(l[40000..].iter().chain(&r[40000..]).all(|v| *v == 0.0));
        // Asleep: every player free, nothing runs, the next render adds nothing.
        assert!(b.idle);
        assert!(b.players.iter().all(|p| !p.on));
        assert!(b.slots.iter().all(|s| !s.busy && s.req.is_none()));
        let mut l = [0.25f32; 64];
        let mut r = [0.25f32; 64];
        b.render(&mut l, &mut r);
        assert!(l.iter().chain(&r).all(|v| *v == 0.25));
    }

    #[test]
    fn brass_survives_hostile_input() {
        let mut b = Brass::new(48000.0);
        b.set_tone(f32::NAN);
        b.set_tone(-5.0);
        b.note_off(99);
        b.fall(12, f32::INFINITY);
        for v in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -1.0, 0.0, 7.0] {
            b.note_on(60, v, Sustain);
        }
        for n in 0..=127u8 {
            b.note_on(n, 1.0, if n % 2 == 0 { Stab } else { Shake });
            b.note_on(127 - n, 1.0, Swell { seconds: f32::NAN });
            b.note_on(n, 0.9, Swell { seconds: -3.0 });
            b.fall(n, f32::NAN);
        }
        let (l, r) = play(&mut b, &[64, 3], 24000);
        assert_clean(&l, "hostile l");
        assert_clean(&r, "hostile r");
        assert!(peak(&l).max(peak(&r)) < 1.0);
        assert!(b.slots.iter().filter(|s| s.busy).count() <= NOTES);
        for n in 0..=127u8 {
            b.note_off(n);
        }
        b.note_off(200);
        b.all_notes_off();
        let (l, r) = play(&mut b, &[64], 96000);
        assert_clean(&l, "hostile tail");
        assert!(l[80000..].iter().chain(&r[80000..]).all(|v| *v == 0.0));
        // A silly sample rate still gives a working section.
        let mut b = Brass::new(f32::NAN);
        b.note_on(60, 0.8, Sustain);
        let (l, _) = play(&mut b, &[64], 4800);
        assert_clean(&l, "NaN rate");
        assert!(peak(&l) > 0.01);
    }

    #[test]
    fn brass_four_note_chord_level() {
        // Brief: a 4-note chord at velocity 0.8 peaks about 0.3-0.5.
        for (chord, art) in [
            ([55u8, 60, 64, 67], Sustain),
            ([41, 48, 53, 57], Sustain),
            ([65, 70, 74, 77], Stab),
            ([50, 57, 62, 65], Swell { seconds: 0.5 }),
        ] {
            let mut b = Brass::new(48000.0);
            for n in chord {
                b.note_on(n, 0.8, art);
            }
            let (l, r) = play(&mut b, &[64], 48000);
            let pk = peak(&l).max(peak(&r));
            assert!(pk > 0.25 && pk < 0.55, "{chord:?} {art:?}: peak {pk}");
        }
    }

    #[test]
    fn brass_brightness_grows_faster_than_level() {
        // Benade: partial k grows as the k-th power of the fundamental, so the share of power
        // above 1.5 kHz must rise by a larger factor than the total power does (soft -> loud).
        let sr = 48000.0;
        for n in [40u8, 79] {
            let measure = |vel: f32| {
                let x = note(sr, n, vel, Sustain, 1.0, false);
                let w = &x[24000..24000 + 8192];
                (power_fraction_above(w, sr, 1500.0), rms(w))
            };
            let (soft_share, soft_rms) = measure(0.3);
            let (loud_share, loud_rms) = measure(0.95);
            let share_gain = loud_share / soft_share;
            let power_gain = (loud_rms as f64 / soft_rms as f64).powi(2);
            assert!(
                power_gain > 2.0,
                "note {n}: level barely grows ({power_gain})"
            );
            // (The top of the trumpets' range already has its second partial above 1.5 kHz
            // when soft: there the share still has to outgrow the power.)
            let margin = if n < 60 { 2.0 } else { 1.0 };
            assert!(
                share_gain > margin * power_gain,
                "note {n}: brightness x{share_gain:.1} ({soft_share:.2e} -> {loud_share:.2e}) vs power x{power_gain:.1}"
            );
            // A soft low note is round: nearly all its power below 1.5 kHz.
            assert!(soft_share < 0.05, "note {n}: soft share {soft_share}");
        }
    }

    #[test]
    fn brass_swell_rises_monotonically() {
        let sr = 48000.0;
        for (n, secs) in [(41u8, 2.0f32), (57, 1.0)] {
            let x = note(sr, n, 0.9, Swell { seconds: secs }, secs + 0.3, false);
            // Ten windows over the swell: each louder than the last (dB-linear crescendo of
            // 32 dB: ~3 dB a window, far above the wander's few tenths of a dB).
            let w = secs / 10.0;
            let levels: Vec<f32> = (0..10)
                .map(|k| db(window_rms(&x, sr, 0.02 + k as f32 * w, w * 0.9)))
                .collect();
            for k in 1..10 {
                assert!(levels[k] > levels[k - 1], "note {n}: not rising {levels:?}");
            }
            let end = db(window_rms(&x, sr, secs, 0.2));
            assert!(
                end - levels[0] > 12.0,
                "note {n}: swell only {} dB",
                end - levels[0]
            );
            // Brightness grows with it.
            let share = |t: f32| {
                let a = (t * sr) as usize;
                power_fraction_above(&x[a..a + 4096], sr, 1000.0)
            };
            assert!(
                share(secs) > 3.0 * share(0.1 * secs),
                "note {n}: swell brightness {} -> {}",
                share(0.1 * secs),
                share(secs)
            );
        }
    }

    #[test]
    fn brass_stab_dies_quickly() {
        let sr = 48000.0;
        for n in [45u8, 70] {
            let x = note(sr, n, 0.9, Stab, 0.5, false);
            let peak_rms = (0..20)
                .map(|k| window_rms(&x, sr, k as f32 * 0.005, 0.01))
                .fold(0.0f32, f32::max);
            let late = window_rms(&x, sr, 0.3, 0.02);
            // Accent 1.2 decaying (85 ms) to 0.12 of the note: about -17 dB at 300 ms.
            assert!(
                db(late) < db(peak_rms) - 12.0,
                "note {n}: 300 ms {} dB vs peak {} dB",
                db(late),
                db(peak_rms)
            );
            // And a stab is brassier at its blat than a held note's attack.
            let held = note(sr, n, 0.9, Sustain, 0.1, false);
            let b_stab = power_fraction_above(&x[480..480 + 2048], sr, 1500.0);
            let b_held = power_fraction_above(&held[480..480 + 2048], sr, 1500.0);
            assert!(b_stab > b_held, "note {n}: stab {b_stab} held {b_held}");
        }
    }

    #[test]
    fn brass_shake_trills_a_minor_third_at_6_to_9_hz() {
        let sr = 48000.0;
        let n = 72u8;
        let f0 = midi_hz(n as f32);
        let x = note(sr, n, 0.85, Shake, 1.6, true);
        // Pitch every 5 ms (12 ms windows).
        let hop = 240;
        let track: Vec<f32> = (0..((1.5 * sr) as usize - 1200) / hop)
            .map(|k| {
                semis(
                    track_hz(&x[k * hop..k * hop + 1200], sr, f0 * 0.85, f0 * 1.45),
                    f0,
                )
            })
            .collect();
        // The straight tone first (the first 150 ms, after the scoop): on the note.
        let straight = &track[8..30];
        assert!(
            straight.iter().all(|s| s.abs() < 0.3),
            "not straight {straight:?}"
        );
        // Then from 0.45 s: the width and the rate of the trill.
        let shaking = &track[90..];
        let mut sorted = shaking.to_vec();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let (lo, hi) = (sorted[sorted.len() / 20], sorted[sorted.len() * 19 / 20]);
        assert!(hi - lo > 2.0, "shake only {} semitones", hi - lo);
        // Rate: upward crossings of the middle (with hysteresis) per second.
        let mid = 0.5 * (lo + hi);
        let (mut up, mut crossings) = (false, 0);
        for s in shaking {
            if !up && *s > mid + 0.4 {
                up = true;
                crossings += 1;
            } else if up && *s < mid - 0.4 {
                up = false;
            }
        }
        let rate = crossings as f32 / (shaking.len() as f32 * hop as f32 / sr);
        assert!((5.0..=10.0).contains(&rate), "shake rate {rate} Hz");
    }

    #[test]
    fn brass_fall_ends_lower_and_silent() {
        let sr = 48000.0;
        let n = 72u8;
        let f0 = midi_hz(n as f32);
        let mut b = Brass::new(sr);
        b.solo_first = true;
        b.note_on(n, 0.8, Sustain);
        let (l, r) = play(&mut b, &[64], (0.4 * sr) as usize);
        let before = track_hz(&mono(&l, &r)[14400..16800], sr, f0 * 0.8, f0 * 1.2);
        b.fall(n, 0.6);
        let (l, r) = play(&mut b, &[64], (1.4 * sr) as usize);
        let x = mono(&l, &r);
        // 0.45 s into a 0.6 s fall of ~10 semitones (accelerating: u^2.5 with u ~ 0.75-0.85).
        let a = (0.42 * sr) as usize;
        let late = track_hz(&x[a..a + 2400], sr, f0 * 0.45, f0 * 0.85);
        let drop = semis(late, before);
        assert!(drop < -3.0, "fell only {drop} semitones");
        let fading = window_rms(&x, sr, 0.42, 0.05);
        assert!(
            db(fading) < db(window_rms(&l, sr, 0.0, 0.05)) - 6.0,
            "not fading"
        );
        // Then silent and free.
        let end = (1.1 * sr) as usize;
        assert!(x[end..].iter().all(|v| *v == 0.0));
        assert!(b.slots.iter().all(|s| !s.busy));
    }

    #[test]
    fn brass_the_two_players_are_not_identical() {
        // The pair's sum is not a scaled copy of the first player alone: after the best
        // scaling, at least 10 % of the pair's power remains.
        let sr = 48000.0;
        for n in [45u8, 60, 76] {
            let pair = note(sr, n, 0.8, Sustain, 1.0, false);
            let one = note(sr, n, 0.8, Sustain, 1.0, true);
            let (p, o) = (&pair[12000..], &one[12000..]);
            let dot: f64 = p.iter().zip(o).map(|(a, b)| *a as f64 * *b as f64).sum();
            let oo: f64 = o.iter().map(|b| (*b as f64).powi(2)).sum();
            let pp: f64 = p.iter().map(|a| (*a as f64).powi(2)).sum();
            let k = dot / oo;
            let resid: f64 = p
                .iter()
                .zip(o)
                .map(|(a, b)| (*a as f64 - k * *b as f64).powi(2))
                .sum();
            assert!(
                resid / pp > 0.1,
                "note {n}: the pair is one player x{k} ({})",
                resid / pp
            );
            // And the second player comes in later: the first 3 ms are the first player alone.
            let start = pair.iter().position(|v| v.abs() > 1e-4).unwrap();
            let solo_start = one.iter().position(|v| v.abs() > 1e-4).unwrap();
            assert_eq!(start, solo_start);
        }
    }

    #[test]
    fn brass_register_picks_the_family() {
        assert_eq!(family_for(34, 0.8, Sustain), TROMBONES);
        assert_eq!(family_for(45, 0.3, Swell { seconds: 2.0 }), TROMBONES);
        assert_eq!(family_for(57, 0.5, Sustain), HORNS);
        assert_eq!(family_for(57, 0.5, Swell { seconds: 2.0 }), HORNS);
        assert_eq!(family_for(57, 0.9, Stab), TROMBONES);
        assert_eq!(family_for(63, 0.9, Stab), TROMBONES);
        assert_eq!(family_for(64, 0.9, Shake), TRUMPETS);
        assert_eq!(family_for(70, 0.5, Sustain), HORNS);
        assert_eq!(family_for(70, 0.9, Sustain), TRUMPETS);
        assert_eq!(family_for(80, 0.3, Swell { seconds: 1.0 }), TRUMPETS);
        // Every note of the compass has a family that reaches it.
        for n in LOWEST_NOTE..=HIGHEST_NOTE {
            for art in [Sustain, Stab, Swell { seconds: 1.0 }, Shake] {
                let f = family_for(n, 0.8, art);
                assert!((FAMILY[f].lo..=FAMILY[f].hi).contains(&n), "{n} {art:?}");
            }
        }
        assert_eq!(fold(0), 36);
        assert_eq!(fold(127), 79);
        assert_eq!(fold(33), 45);
        // A low note (trombones) is darker than a high one (trumpets) at equal velocity.
        let sr = 48000.0;
        let low = note(sr, 43, 0.8, Sustain, 0.6, false);
        let high = note(sr, 79, 0.8, Sustain, 0.6, false);
        let share = |x: &[f32]| power_fraction_above(&x[14400..14400 + 8192], sr, 1500.0);
        assert!(
            share(&low) * 2.0 < share(&high),
            "low {} high {}",
            share(&low),
            share(&high)
        );
        // Horns are darker than trumpets on the same note (70, soft vs loud).
        let horn = note(sr, 70, 0.7, Sustain, 0.6, false);
        let tpt = note(sr, 70, 0.8, Sustain, 0.6, false);
        assert!(centroid(&horn[14400..14400 + 8192], sr) < centroid(&tpt[14400..14400 + 8192], sr));
    }

    #[test]
    fn brass_seats_trombones_left_horns_centre_trumpets_right() {
        let sr = 48000.0;
        let side = |n: u8, vel: f32| {
            let mut b = Brass::new(sr);
            b.note_on(n, vel, Sustain);
            let (l, r) = play(&mut b, &[64], 24000);
            db(rms(&r[4800..])) - db(rms(&l[4800..]))
        };
        let (bone, horn, tpt) = (side(43, 0.8), side(60, 0.5), side(79, 0.8));
        assert!(bone < -3.0, "trombones at {bone} dB (R-L)");
        assert!(tpt > 3.0, "trumpets at {tpt} dB (R-L)");
        assert!(horn.abs() < 1.5, "horns at {horn} dB (R-L)");
    }

    #[test]
    fn brass_attack_settles_from_below() {
        // The lips find the note from below: the first ~15 ms are flat, by 60-100 ms it sits.
        let sr = 48000.0;
        for (n, vel) in [(76u8, 0.9f32), (60, 0.9), (57, 0.5)] {
            let f0 = midi_hz(n as f32);
            let x = note(sr, n, vel, Sustain, 0.2, true);
            let start = x.iter().position(|v| v.abs() > 1e-4).unwrap();
            // About 5 periods of analysis (plus the longest lag searched).
            let len = (6.5 * sr / f0) as usize + 4;
            let early = track_hz(&x[start + 48..start + 48 + len], sr, f0 * 0.8, f0 * 1.2);
            let a = start + (0.06 * sr) as usize;
            let late = track_hz(&x[a..a + len], sr, f0 * 0.8, f0 * 1.2);
            let (e, l) = (100.0 * semis(early, f0), 100.0 * semis(late, f0));
            assert!(e < l - 5.0, "note {n}: early {e} cents, settled {l} cents");
            assert!(l.abs() < 9.0, "note {n}: settled at {l} cents");
        }
    }

    #[test]
    fn brass_release_dies_in_80_ms_with_a_sag() {
        let sr = 48000.0;
        for n in [43u8, 60, 79] {
            let f0 = midi_hz(n as f32);
            // Level windows of two periods (the waves are pulse-like: shorter windows see the
            // pulse or the gap between pulses).
            let w = (2.0 / f0).max(0.005);
            let mut b = Brass::new(sr);
            b.solo_first = true;
            b.note_on(n, 0.8, Sustain);
            let (l, r) = play(&mut b, &[64], 24000);
            let held = mono(&l, &r);
            let before = rms(&held[19200..]);
            let len = (12.0 * sr / f0) as usize + 40;
            let f_held = track_hz(&held[24000 - 2 * len..24000 - len], sr, f0 * 0.8, f0 * 1.2);
            b.note_off(n);
            let (l, r) = play(&mut b, &[64], 9600);
            let x = mono(&l, &r);
            // Not a gate: 10 ms in, still within 20 dB; 80 ms in, 40 dB down (time constants
            // of 10-12 ms on the pressure: -60 dB after 70-85 ms).
            let at10 = db(window_rms(&x, sr, 0.010, w)) - db(before);
            assert!(at10 > -20.0, "note {n} gated: {at10} dB at 10 ms");
            let at80 = db(window_rms(&x, sr, 0.080, w)) - db(before);
            assert!(at80 < -40.0, "note {n}: {at80} dB at 80 ms");
            // The pitch sags a little as the lips let go.
            let f_rel = track_hz(&x[480..480 + len], sr, f0 * 0.8, f0 * 1.2);
            let sag = 1200.0 * (f_rel / f_held).log2();
            assert!(sag < -3.0 && sag > -30.0, "note {n}: sag {sag} cents");
        }
    }

    #[test]
    fn brass_tongued_attack_has_a_noisy_transient() {
        // Power above 5 kHz relative to the total: the attack's tongue noise and blat vs the
        // settled tone of a mezzo-piano note (whose partials stop well below 5 kHz).
        let sr = 48000.0;
        let x = note(sr, 50, 0.5, Stab, 0.6, false);
        let onset = x.iter().position(|v| v.abs() > 1e-4).unwrap();
        let attack = power_fraction_above(&x[onset..onset + 1024], sr, 5000.0);
        let x = note(sr, 50, 0.5, Sustain, 0.6, false);
        let sustain = power_fraction_above(&x[19200..19200 + 1024], sr, 5000.0);
        assert!(attack > 5.0 * sustain, "attack {attack} sustain {sustain}");
        assert!(sustain > 0.0, "no breath at all");
    }

    #[test]
    fn brass_has_no_dc() {
        let mut b = Brass::new(48000.0);
        for n in [38u8, 50, 57, 64, 71, 79] {
            b.note_on(n, 0.9, Sustain);
        }
        let (l, r) = play(&mut b, &[64], 96000);
        for x in [&l[24000..], &r[24000..]] {
            let mean = x.iter().map(|v| *v as f64).sum::<f64>() / x.len() as f64;
            // -60 dB under the signal.
            assert!(mean.abs() < 1e-3 * rms(x) as f64, "DC {mean}");
        }
    }

    #[test]
    fn brass_tone_darkens_and_brightens() {
        let sr = 48000.0;
        let share = |tone: f32| {
            let mut b = Brass::new(sr);
            b.set_tone(tone);
            for n in [48u8, 60, 72, 79] {
                b.note_on(n, 0.8, Sustain);
            }
            let (l, r) = play(&mut b, &[64], 24000);
            power_fraction_above(&mono(&l, &r)[14400..14400 + 8192], sr, 1500.0)
        };
        let (dark, mid, bright) = (share(0.0), share(0.5), share(1.0));
        assert!(dark < mid && mid < bright, "{dark} {mid} {bright}");
        assert!(bright > 2.0 * dark, "{dark} vs {bright}");
    }

    #[test]
    fn brass_steals_without_clicks() {
        // Nine notes a bar: the ninth steals the oldest after a 4 ms fade; the output never
        // jumps by more than twice the largest step of the settled chord.
        let sr = 48000.0;
        let mut b = Brass::new(sr);
        for n in [48u8, 52, 55, 59, 62, 65, 69, 72] {
            b.note_on(n, 0.7, Sustain);
        }
        let (l0, _) = play(&mut b, &[64], 24000);
        let typical = l0[12000..]
            .windows(2)
            .fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()));
        let mut worst = 0.0f32;
        let mut last = l0[l0.len() - 1];
        for k in 0..12u8 {
            b.note_on(74 + k % 5, 0.7, Sustain);
            let (l, _) = play(&mut b, &[64], 2400);
            worst = worst.max((l[0] - last).abs());
            worst = worst.max(l.windows(2).fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs())));
            last = l[l.len() - 1];
            assert!(b.slots.iter().filter(|s| s.busy).count() <= NOTES);
        }
        assert!(worst < 2.0 * typical, "jump {worst} vs typical {typical}");
    }

    /// Release-mode cost: 8 notes (16 players) sounding, all families, mixed articulations.
    #[test]
    #[ignore]
    fn brass_cost_eight_notes() {
        let sr = 48000.0;
        let mut b = Brass::new(sr);
        let secs = 20;
        let mut blocks = Vec::with_capacity(secs * 750);
        let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
        let arts = [
            Sustain,
            Sustain,
            Swell { seconds: 2.0 },
            Shake,
            Sustain,
            Sustain,
            Sustain,
            Stab,
        ];
        let chord = [38u8, 45, 52, 57, 62, 67, 72, 79];
        let total = std::time::Instant::now();
        for s in 0..secs {
            if s % 2 == 0 {
                for (n, a) in chord.iter().zip(arts) {
                    b.note_on(*n + (s % 3) as u8, 0.8, a);
                }
            }
            for _ in 0..750 {
                let t = std::time::Instant::now();
                b.render(&mut l, &mut r);
                blocks.push(t.elapsed().as_nanos() as f64);
                l[0] = 0.0;
                r[0] = 0.0;
            }
        }
        let total = total.elapsed().as_secs_f64();
        blocks.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let q = |p: f64| blocks[((blocks.len() - 1) as f64 * p) as usize] / 1000.0;
        println!(
            "brass, 8 notes x 2 players @48k: {:.3} ms per second of audio ({:.0}x real time); \
             block (64) mean {:.2} us, p99 {:.2} us, p99.9 {:.2} us, max {:.2} us",
            1000.0 * total / secs as f64,
            secs as f64 / total,
            blocks.iter().sum::<f64>() / blocks.len() as f64 / 1000.0,
            q(0.99),
            q(0.999),
            q(1.0)
        );
    }

    /// Writes listening WAVs to /tmp/brass_*.wav.
    #[test]
    #[ignore]
    fn brass_write_wavs() {
        let sr = 48000.0;
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: sr as u32,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        type Script = Vec<(f32, Ev)>;
        let scripts: Vec<(&str, Script)> = vec![
            (
                "mancini",
                vec![
                    (0.0, Ev::On(46, 0.95, Stab)),
                    (0.0, Ev::On(58, 0.95, Stab)),
                    (0.0, Ev::On(70, 0.95, Stab)),
                    (0.0, Ev::On(75, 0.95, Stab)),
                    (0.18, Ev::AllOff),
                    (0.5, Ev::On(47, 0.95, Stab)),
                    (0.5, Ev::On(59, 0.95, Stab)),
                    (0.5, Ev::On(71, 0.95, Stab)),
                    (0.5, Ev::On(76, 0.95, Stab)),
                    (0.68, Ev::AllOff),
                    (1.2, Ev::On(55, 0.9, Sustain)),
                    (1.2, Ev::On(62, 0.9, Sustain)),
                    (1.2, Ev::On(67, 0.9, Shake)),
                    (1.2, Ev::On(74, 0.9, Shake)),
                    (3.0, Ev::Fall(74, 0.7)),
                    (3.0, Ev::Fall(67, 0.7)),
                    (3.0, Ev::Fall(62, 0.7)),
                    (3.0, Ev::Fall(55, 0.7)),
                ],
            ),
            (
                "herrmann",
                vec![
                    (0.0, Ev::Tone(0.15)),
                    (0.0, Ev::On(36, 0.85, Swell { seconds: 3.0 })),
                    (0.0, Ev::On(43, 0.85, Swell { seconds: 3.0 })),
                    (0.0, Ev::On(49, 0.85, Swell { seconds: 3.0 })),
                    (0.0, Ev::On(54, 0.85, Swell { seconds: 3.0 })),
                    (3.6, Ev::AllOff),
                    (4.2, Ev::On(41, 0.95, Stab)),
                    (4.2, Ev::On(47, 0.95, Stab)),
                    (4.2, Ev::On(52, 0.95, Stab)),
                    (4.45, Ev::AllOff),
                    (4.8, Ev::On(40, 0.95, Stab)),
                    (4.8, Ev::On(46, 0.95, Stab)),
                    (4.8, Ev::On(53, 0.95, Stab)),
                    (5.05, Ev::AllOff),
                ],
            ),
            (
                "dynamics",
                vec![
                    (0.0, Ev::On(60, 0.2, Sustain)),
                    (1.0, Ev::Off(60)),
                    (1.3, Ev::On(60, 0.5, Sustain)),
                    (2.3, Ev::Off(60)),
                    (2.6, Ev::On(60, 0.8, Sustain)),
                    (3.6, Ev::Off(60)),
                    (3.9, Ev::On(60, 1.0, Sustain)),
                    (4.9, Ev::Off(60)),
                    (5.2, Ev::On(79, 0.3, Sustain)),
                    (6.2, Ev::Off(79)),
                    (6.5, Ev::On(79, 1.0, Sustain)),
                    (7.5, Ev::Off(79)),
                    (7.8, Ev::On(41, 0.3, Sustain)),
                    (8.8, Ev::Off(41)),
                    (9.1, Ev::On(41, 1.0, Sustain)),
                    (10.1, Ev::Off(41)),
                ],
            ),
        ];
        for (name, script) in scripts {
            let mut b = Brass::new(sr);
            let end = script.last().unwrap().0 + 1.5;
            let at: Vec<usize> = script.iter().map(|e| (e.0 * sr) as usize).collect();
            let apply = |b: &mut Brass, i: usize| match script[i].1 {
                Ev::On(n, v, a) => b.note_on(n, v, a),
                Ev::Off(n) => b.note_off(n),
                Ev::Fall(n, s) => b.fall(n, s),
                Ev::Tone(t) => b.set_tone(t),
                Ev::AllOff => b.all_notes_off(),
            };
            let out = play_script(&mut b, (end * sr) as usize, &[64], &at, apply, |b, l, r| {
                b.render(l, r)
            });
            let path = format!("/tmp/brass_{name}.wav");
            let mut w = hound::WavWriter::create(&path, spec).unwrap();
            for v in out {
                w.write_sample((v.clamp(-1.0, 1.0) * 32767.0) as i16)
                    .unwrap();
            }
            w.finalize().unwrap();
            println!("wrote {path}");
        }
    }
}
#[cfg(test)]
mod probe {
    use super::super::common::testutil::*;
    use super::*;
    #[test]
    #[ignore]
    fn probe_release() {
        let sr = 48000.0;
        let mut b = Brass::new(sr);
        b.solo_first = true;
        b.note_on(43, 0.8, BrassArt::Sustain);
        let (l, _) = render_with(24000, &[64], |l, r| b.render(l, r));
        println!("before {}", rms(&l[19200..]));
        b.note_off(43);
        for k in 0..20 {
            let (l, _) = render_with(240, &[64], |l, r| b.render(l, r));
            let p = &b.players[0];
            println!(
                "{} ms: rms {:.2e} p {:.2e} pb {:.2e} g {:.2e} d1 {:.3}",
                k * 5,
                rms(&l),
                p.p,
                p.pb,
                p.g,
                p.d1
            );
        }
    }
}
