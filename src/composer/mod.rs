//! The composer: decides, one beat at a time, what the bass, drums and keys play, from the
//! form, the committed mood, the seed and the beat's position. Runs on the audio thread inside
//! the engine; all state is fixed-size and `reset()` makes it replay identically.
//!
//! Determinism: every random choice draws from a stream keyed by (seed, beat or bar, part), so
//! the notes at a timeline position depend only on that position, the seed, the mood history
//! and (for voice leading) the notes just before it.

pub mod events;
pub mod harmony;

use crate::dsp::Rng;
use crate::mood::Mood;
use crate::voices::DrumHit;
use events::{Event, EventKind, EventQueue};
use harmony::{colour, rootless_voicing, Chord, Form};

/// Beats per bar: the band plays in 4/4.
pub const BEATS_PER_BAR: u64 = 4;
/// Form changes land on 4-bar phrase boundaries.
const PHRASE_BEATS: u64 = 16;

/// The pedal comes up this long before a chord change (beats) and goes down again this long
/// after it, once the new chord's keys are down (legato pedalling).
const PEDAL_LIFT_BEATS: f64 = 0.04;
const PEDAL_CATCH_BEATS: f64 = 0.12;

/// Random stream ids, one per decision family.
const S_COLOUR: u64 = 1;
const S_BASS: u64 = 2;
const S_DRUMS: u64 = 3;
const S_KEYS: u64 = 4;
const S_KEYS_BAR: u64 = 5;
const S_LEAD: u64 = 6;
const S_LEAD_MOTIF: u64 = 7;
const S_STINGER: u64 = 8;

/// Bars of intro at the top of the timeline (bass and keys, then brushes; the lead waits).
const INTRO_BARS: u64 = 4;
/// Bars per chorus: phrases 0-3 are the A section, 4-5 the B section (bridge), 6-7 A again.
const CHORUS_BARS: u64 = 32;
/// Light intensity at or below which the scene is a blackout (band drops to bass and rain):
/// the light going out, not a dim night scene (a look dimmed to 5 % still has its band).
pub const BLACKOUT_INTENSITY: f32 = 0.02;

/// Level of the continuous brush stir under the strokes, per unit of arousal (0: none; a
/// continuous stir reads as electronic noise, issue 10).
pub const BRUSH_STIR: f32 = 0.0;

/// When the strings play (a section, not a bed under every chord): for dread, on a section
/// change (its first bars), and under the horn's long notes in a tense, slow scene; they rest
/// otherwise, and always when the mood is calm. Decided per bar.
#[derive(Clone, Copy, Debug)]
pub struct StringsRules {
    /// Tension at or above which the strings play throughout (dread).
    pub dread_tension: f32,
    /// Bars at the head of a new section (A, B) the strings mark...
    pub entry_bars: u64,
    /// ...when the tension is at least this.
    pub entry_tension: f32,
    /// Under the lead's long notes: tension at least this, arousal below `long_arousal`.
    pub long_tension: f32,
    /// See `long_tension`.
    pub long_arousal: f32,
}

/// The strings' orchestration (tunable by a composer; see `StringsRules`).
pub const STRINGS: StringsRules = StringsRules {
    dread_tension: 0.62,
    entry_bars: 2,
    entry_tension: 0.3,
    long_tension: 0.45,
    long_arousal: 0.4,
};

/// Which keyboard the keys player plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeysVoice {
    /// The mood chooses at each phrase (`KEYS_RULE`).
    #[default]
    Auto,
    /// The Rhodes electric piano.
    Rhodes,
    /// The acoustic grand piano.
    Piano,
}

/// When *Auto* keys choose the acoustic piano: the late-night club ballad (calm, unhurried)
/// gets the grand and its pedal; tense or driving scenes get the Rhodes, whose bark and
/// tremolo cut through. Decided at phrase boundaries, with a margin so a mood on the edge
/// does not flip every phrase.
#[derive(Clone, Copy, Debug)]
pub struct KeysRule {
    /// The piano plays while the tension is below this...
    pub piano_tension_below: f32,
    /// ...and the arousal below this.
    pub piano_arousal_below: f32,
    /// Once chosen, an instrument keeps playing until the mood is this far past the line.
    pub margin: f32,
    /// The piano's player pedals through each chord (lifting at the change) below this
    /// arousal; above it the chords are dry, as comping at tempo is.
    pub pedal_arousal_below: f32,
}

/// The keys' instrument choice (tunable by a composer; see `KeysRule`).
pub const KEYS_RULE: KeysRule = KeysRule {
    piano_tension_below: 0.45,
    piano_arousal_below: 0.55,
    margin: 0.08,
    pedal_arousal_below: 0.45,
};

impl KeysVoice {
    /// Whether the piano plays, given the mood and what played in the last phrase.
    pub fn plays_piano(self, m: Mood, was_piano: bool) -> bool {
        match self {
            KeysVoice::Rhodes => false,
            KeysVoice::Piano => true,
            KeysVoice::Auto => {
                let r = KEYS_RULE;
                let slack = if was_piano { r.margin } else { 0.0 };
                m.tension < r.piano_tension_below + slack
                    && m.arousal < r.piano_arousal_below + slack
            }
        }
    }
}

/// How the key light moves the band's register (lightness and pitch height go together:
/// brighter light, higher voicings and lines). Semitones at full light and at darkness
/// (linear between, 0 at half light); without light coming in, nothing moves.
pub const LIGHT_REGISTER_SEMITONES: (f32, f32) = (4.0, -4.0);

/// Register offset in semitones for a key-light intensity (see `LIGHT_REGISTER_SEMITONES`).
pub fn light_register(intensity: Option<f32>) -> f32 {
    match intensity {
        Some(i) if i.is_finite() => {
            let x = (i.clamp(0.0, 1.0) - 0.5) * 2.0;
            let (up, down) = LIGHT_REGISTER_SEMITONES;
            if x >= 0.0 {
                x * up
            } else {
                -x * down
            }
        }
        _ => 0.0,
    }
}

/// Keys the band may play in (tonic pitch classes of dark, horn- and bass-friendly minor keys:
/// C, F, G, D, Bb, Eb minor), chosen by the seed.
const KEYS: [i32; 6] = [0, 5, 7, 2, 10, 3];

/// Everything a beat's plan needs to know about the moment, from the engine.
#[derive(Clone, Copy, Debug)]
pub struct BeatContext {
    /// The live (glided) mood; committed on the quantize grid.
    pub mood: Mood,
    /// Current tempo in BPM (for swing ratio, humanisation in ms and sweep lengths).
    pub tempo_bpm: f64,
    /// Swing amount 0 (straight) .. 1 (the tempo's natural jazz swing).
    pub swing: f32,
    /// Harmonic/rhythmic changes happen only on multiples of this many beats.
    pub quantize_beats: u64,
    /// Key-light intensity 0..1 when light is coming in (blackout below
    /// `BLACKOUT_INTENSITY`); `None` without light input.
    pub intensity: Option<f32>,
    /// Which keyboard the keys player plays (Auto: the mood chooses).
    pub keys: KeysVoice,
}

/// Where in the song a bar is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// The first bars of the timeline: the band comes in.
    Intro,
    /// The main theme's harmony.
    A,
    /// The bridge: contrasting harmony, the lead lays out more.
    B,
}

impl Section {
    /// Section of `bar` (absolute).
    pub fn of_bar(bar: u64) -> Section {
        if bar < INTRO_BARS {
            Section::Intro
        } else if matches!(((bar - INTRO_BARS) % CHORUS_BARS) / 4, 4 | 5) {
            Section::B
        } else {
            Section::A
        }
    }

    /// Name for display.
    pub fn name(self) -> &'static str {
        match self {
            Section::Intro => "intro",
            Section::A => "A",
            Section::B => "B (bridge)",
        }
    }
}

/// The swing ratio (long:short eighth) jazz drummers play at a tempo: up to 3.5:1 at ballad
/// tempi, about 2:1 (triplet) near 120 BPM, falling to 1:1 near 300 BPM where the short note
/// bottoms out near 100 ms (Friberg & Sundstrom 2002). `amount` scales from straight.
pub fn swing_ratio(tempo_bpm: f64, amount: f32) -> f64 {
    let beat_s = 60.0 / tempo_bpm.clamp(20.0, 400.0);
    let natural = (1.0 + (beat_s - 0.2) * 3.2).clamp(1.0, 3.5);
    1.0 + amount.clamp(0.0, 1.0) as f64 * (natural - 1.0)
}

/// Where the swung off-beat eighth falls inside the beat (0.5 straight, 0.667 triplet).
pub fn swing_offbeat(tempo_bpm: f64, amount: f32) -> f64 {
    let r = swing_ratio(tempo_bpm, amount);
    r / (1.0 + r)
}

/// A comping rhythm: (start beat in bar, held beats); starts at x.5 are swung off-beats.
type Comp = &'static [(f64, f64)];
const COMP_SPARSE: [Comp; 4] = [
    &[(0.0, 3.6)],
    &[(0.0, 1.8), (2.0, 1.7)],
    &[(1.5, 2.3)],
    &[(0.0, 2.6), (3.5, 0.4)],
];
const COMP_MEDIUM: [Comp; 5] = [
    &[(0.0, 1.3), (1.5, 0.4)],
    &[(1.5, 0.8), (3.5, 0.4)],
    &[(0.0, 0.6), (2.5, 1.2)],
    &[(0.5, 0.4), (2.0, 1.2)],
    &[(1.5, 0.3), (2.5, 1.3)],
];
const COMP_BUSY: [Comp; 4] = [
    &[(0.0, 0.3), (1.5, 0.3), (2.5, 0.3), (3.5, 0.4)],
    &[(0.5, 0.3), (1.5, 0.3), (3.0, 0.8)],
    &[(0.0, 0.4), (1.0, 0.3), (2.5, 0.4), (3.5, 0.4)],
    &[(0.0, 0.6), (1.5, 0.4), (3.0, 0.3), (3.5, 0.4)],
];

/// A lead rhythm for a two-bar call: (start beat 0..8, held beats); x.5 starts are swung.
type Line = &'static [(f64, f64)];
const LEAD_SPARSE: [Line; 3] = [
    &[(0.0, 1.5), (1.5, 0.5), (2.0, 4.0)],
    &[(0.5, 1.0), (1.5, 2.5), (4.0, 3.0)],
    &[(1.0, 3.0), (4.5, 3.0)],
];
const LEAD_MEDIUM: [Line; 3] = [
    &[(0.0, 0.5), (0.5, 0.5), (1.0, 1.0), (2.5, 0.5), (3.0, 2.5)],
    &[(0.5, 0.5), (1.0, 0.5), (1.5, 1.5), (3.5, 0.5), (4.0, 2.5)],
    &[
        (0.0, 1.0),
        (1.0, 0.5),
        (1.5, 0.5),
        (2.0, 0.5),
        (2.5, 1.5),
        (4.5, 2.0),
    ],
];
const LEAD_BUSY: [Line; 3] = [
    &[
        (0.0, 0.5),
        (0.5, 0.5),
        (1.0, 0.5),
        (1.5, 0.5),
        (2.0, 0.5),
        (2.5, 0.5),
        (3.0, 1.0),
        (4.5, 0.5),
        (5.0, 0.5),
        (5.5, 1.5),
    ],
    &[
        (0.5, 0.5),
        (1.0, 0.5),
        (1.5, 0.5),
        (2.0, 1.0),
        (3.5, 0.5),
        (4.0, 0.5),
        (4.5, 0.5),
        (5.0, 2.0),
    ],
    &[
        (0.0, 0.25),
        (0.25, 0.25),
        (0.5, 0.5),
        (1.0, 0.5),
        (1.5, 1.0),
        (3.0, 0.5),
        (3.5, 0.5),
        (4.0, 2.5),
    ],
];
/// Melodic contour steps (scale steps between successive notes) a motif may use.
const CONTOURS: [[i32; 10]; 4] = [
    [2, -1, -1, 3, -2, -1, 1, -2, 2, -3],
    [-1, -1, 2, 1, 1, -3, 2, -1, -1, 1],
    [3, -1, -2, 1, 2, -1, -1, -2, 4, -2],
    [1, 1, 1, -2, -1, 3, -4, 2, -1, -1],
];

/// Display of what the band is playing now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NowPlaying {
    /// The chord of the latest planned beat.
    pub chord: Chord,
    /// The form being played.
    pub form: Form,
    /// Bar within the form (0-based).
    pub bar_in_form: u64,
    /// The song section.
    pub section: Section,
    /// Whether the scene is blacked out (band down to bass and rain).
    pub blackout: bool,
}

/// The composer. See the module docs.
pub struct Composer {
    /// The user's seed: picks the key and every random stream.
    seed: u64,
    /// A new seed waiting for the next phrase boundary (so the key never changes mid-phrase).
    pending_seed: Option<u64>,
    /// Tonic pitch class.
    key: i32,
    /// The form in play (changes on phrase boundaries).
    form: Form,
    /// The mood the music is following (committed on the quantize grid).
    committed: Mood,
    /// False until the first beat after a reset commits a mood and picks a form.
    started: bool,
    /// Last bass note played (MIDI), 0 after a reset.
    last_bass: i32,
    /// Direction the walking line is moving (+1 up, -1 down).
    bass_dir: i32,
    /// Centre pitch of the last piano voicing, for voice leading.
    keys_centre: f32,
    /// Whether the pad has its chord since the last reset.
    pad_sent: bool,
    /// Whether the strings play in the current bar (`StringsRules`).
    strings_on: bool,
    /// Last lead note (MIDI), 0 after a reset.
    last_lead: i32,
    /// Whether a lead note is sounding (so the next may glide).
    lead_sounding: bool,
    /// Blacked out: only bass (and the ambience) play; lifts on a downbeat.
    blackout: bool,
    /// Register offset from the key light, semitones (`light_register`), for this beat.
    register: f32,
    /// The keys player is at the acoustic piano (else the Rhodes).
    piano: bool,
    /// The piano's sustain pedal is down.
    pedal: bool,
    /// Events waiting to be played.
    pub queue: EventQueue,
    /// What is playing now (for the editor and the CLI).
    pub now: NowPlaying,
}

impl Composer {
    /// A composer for `seed` (allocates its event queue).
    pub fn new(seed: u64) -> Self {
        let mut c = Self {
            seed,
            pending_seed: None,
            key: 0,
            form: Form::MinorTwoFiveOne,
            committed: Mood::NEUTRAL,
            started: false,
            last_bass: 0,
            bass_dir: 1,
            keys_centre: 62.0,
            pad_sent: false,
            strings_on: false,
            last_lead: 0,
            lead_sounding: false,
            blackout: false,
            register: 0.0,
            piano: false,
            pedal: false,
            queue: EventQueue::new(),
            now: NowPlaying {
                chord: Form::MinorTwoFiveOne.written(0, 0),
                form: Form::MinorTwoFiveOne,
                bar_in_form: 0,
                section: Section::Intro,
                blackout: false,
            },
        };
        c.reset(seed);
        c
    }

    /// Forget everything (a new seed, a jump on the timeline); no allocation.
    pub fn reset(&mut self, seed: u64) {
        self.seed = seed;
        self.pending_seed = None;
        self.key = KEYS[(seed % KEYS.len() as u64) as usize];
        self.form = Form::MinorTwoFiveOne;
        self.committed = Mood::NEUTRAL;
        self.started = false;
        self.last_bass = 0;
        self.bass_dir = 1;
        self.keys_centre = 62.0;
        self.pad_sent = false;
        self.strings_on = false;
        self.last_lead = 0;
        self.lead_sounding = false;
        self.blackout = false;
        self.piano = false;
        self.pedal = false;
        self.queue.clear();
    }

    /// Asks for a new seed; it takes effect at the next 4-bar phrase.
    pub fn change_seed(&mut self, seed: u64) {
        self.pending_seed = (seed != self.seed).then_some(seed);
    }

    /// Sets the mood to follow before the first beat (after a reset or a jump).
    pub fn set_committed(&mut self, mood: Mood) {
        self.committed = mood.sanitized();
    }

    /// The mood the music currently follows.
    pub fn committed_mood(&self) -> Mood {
        self.committed
    }

    /// The key's tonic pitch class.
    pub fn key(&self) -> i32 {
        self.key
    }

    /// The coloured chord sounding at (absolute) `beat` under the current form and mood.
    pub fn chord_at(&self, beat: u64) -> Chord {
        let bar = beat / BEATS_PER_BAR;
        let (form, bar_in_form) = self.form_at(bar);
        let half_in_form = bar_in_form * 2 + (beat % BEATS_PER_BAR) / 2;
        let written = form.written(half_in_form, self.key);
        let half_abs = beat / 2;
        let mut rng = Rng::from_parts(self.seed, half_abs, S_COLOUR);
        colour(
            written,
            self.committed.valence,
            self.committed.tension,
            &mut rng,
        )
    }

    /// The form played at `bar` and the bar's position in it: the A form as chosen, its bridge
    /// in B sections (counted from the top of the bridge).
    pub fn form_at(&self, bar: u64) -> (Form, u64) {
        match Section::of_bar(bar) {
            Section::B => {
                let f = self
                    .form
                    .bridge_for(self.committed.valence, self.committed.tension);
                (f, (bar % 8) % f.bars())
            }
            _ => (self.form, bar % self.form.bars()),
        }
    }

    /// Plans beat number `beat` (absolute, from the timeline origin): pushes its events into
    /// the queue at absolute beat times in `[beat, beat + 1)` (note-offs may be later).
    pub fn plan_beat(&mut self, beat: u64, ctx: &BeatContext) {
        let q = ctx.quantize_beats.max(1);
        if !self.started || beat.is_multiple_of(q) {
            self.committed = ctx.mood.sanitized();
            // A chosen keyboard changes on the grid; Auto waits for the phrase (below).
            if ctx.keys != KeysVoice::Auto {
                self.switch_keys(beat, ctx.keys.plays_piano(self.committed, self.piano));
            }
        }
        if !self.started || beat.is_multiple_of(PHRASE_BEATS) {
            if ctx.keys == KeysVoice::Auto {
                self.switch_keys(beat, ctx.keys.plays_piano(self.committed, self.piano));
            }
            if let Some(seed) = self.pending_seed.take() {
                self.seed = seed;
                self.key = KEYS[(seed % KEYS.len() as u64) as usize];
            }
            let m = self.committed;
            self.form = Form::for_mood(m.valence, m.arousal, m.tension);
        }
        self.started = true;

        let bar = beat / BEATS_PER_BAR;
        let b = beat % BEATS_PER_BAR;
        let section = Section::of_bar(bar);
        self.register = light_register(ctx.intensity);
        // Blackout: drops at once; the band comes back in on a downbeat.
        let dark = matches!(ctx.intensity, Some(i) if i <= BLACKOUT_INTENSITY);
        if dark && !self.blackout {
            self.blackout = true;
            self.push(beat as f64, EventKind::KeysAllOff);
            self.pedal = false;
            self.push(beat as f64, EventKind::LeadOff);
            self.push(
                beat as f64,
                EventKind::PadChord {
                    notes: [0; 6],
                    len: 0,
                },
            );
            self.push(
                beat as f64,
                EventKind::Swirl {
                    level: 0.0,
                    rate_hz: 1.0,
                },
            );
            self.lead_sounding = false;
        } else if !dark && self.blackout && b == 0 {
            self.blackout = false;
        }

        let chord = self.chord_at(beat);
        let (form, bar_in_form) = self.form_at(bar);
        self.now = NowPlaying {
            chord,
            form,
            bar_in_form,
            section,
            blackout: self.blackout,
        };
        let sw = swing_offbeat(ctx.tempo_bpm, ctx.swing);
        // Milliseconds to beats at this tempo.
        let ms = ctx.tempo_bpm / 60_000.0;
        self.plan_bass(beat, chord, sw, ms);
        if self.blackout {
            return;
        }
        // Intro: keys and bass first, brushes from the third bar, the lead after the intro.
        if section != Section::Intro || bar >= 2 {
            self.plan_drums(beat, ctx, sw, ms);
        }
        self.plan_keys(beat, sw, ms);
        self.plan_pad(beat, chord);
        if section != Section::Intro {
            self.plan_lead(beat, sw, ms);
        }
    }

    /// A stinger for a lighting hit (flash, lightning, a door): crash and kick, a dissonant
    /// piano stab, a low bass hit and the lead's two-note brass motif (Herrmann's falling
    /// tritone), all starting at `at` (beats). `strength` 0..1 scales it.
    pub fn stinger(&mut self, at: f64, strength: f32) {
        let s = if strength.is_finite() {
            strength.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let v = 0.45 + 0.55 * s;
        let beat = at.max(0.0).floor() as u64;
        let chord = self.chord_at(beat);
        let mut rng = Rng::from_parts(self.seed, beat, S_STINGER);
        self.push(
            at,
            EventKind::Drum {
                hit: DrumHit::Crash,
                velocity: v,
            },
        );
        self.push(
            at,
            EventKind::Drum {
                hit: DrumHit::Kick,
                velocity: v,
            },
        );
        let root = 36 + (chord.root - 36).rem_euclid(12);
        let low = if root > 40 { root - 12 } else { root };
        self.push(
            at,
            EventKind::BassOn {
                note: low as u8,
                velocity: v,
            },
        );
        self.last_bass = low;
        // Stab: root-position dim7 plus a minor ninth on top, short.
        let base = 60 + (chord.root - 60).rem_euclid(12) - 12;
        for iv in [0, 3, 6, 9, 13] {
            let n = (base + iv) as u8;
            self.push(
                at + rng.range(0.0, 0.01) as f64,
                EventKind::KeysOn {
                    note: n,
                    velocity: v,
                    piano: self.piano,
                },
            );
            self.push(
                at + 0.45,
                EventKind::KeysOff {
                    note: n,
                    piano: self.piano,
                },
            );
        }
        let top = 72 + (chord.root + 1 - 72).rem_euclid(12);
        self.push(
            at,
            EventKind::LeadOn {
                note: top as u8,
                velocity: v,
                legato: false,
            },
        );
        self.push(
            at + 0.5,
            EventKind::LeadOn {
                note: (top - 6) as u8,
                velocity: v * 0.9,
                legato: false,
            },
        );
        self.push(at + 1.6, EventKind::LeadFall { time_s: 0.35 });
        self.last_lead = top - 6;
        self.lead_sounding = false;
    }

    fn push(&mut self, beat: f64, kind: EventKind) {
        self.queue.push(Event { beat, kind });
    }

    /// Nearest MIDI note of pitch class `pc` to `near`, kept inside the upright's range.
    fn bass_note(pc: i32, near: i32) -> i32 {
        let mut n = 36 + (pc - 36).rem_euclid(12); // C2..B2
        while n + 6 < near {
            n += 12;
        }
        while n - 6 > near {
            n -= 12;
        }
        while n < 31 {
            n += 12;
        }
        while n > 55 {
            n -= 12;
        }
        n
    }

    fn plan_bass(&mut self, beat: u64, chord: Chord, sw: f64, ms: f64) {
        let m = self.committed;
        let mut rng = Rng::from_parts(self.seed, beat, S_BASS);
        let b = beat % BEATS_PER_BAR;
        let t0 = beat as f64 + rng.range(0.0, 6.0) as f64 * ms;
        let near = if self.last_bass == 0 {
            40
        } else {
            self.last_bass
        };
        let accent = if b == 0 { 0.12 } else { 0.0 };
        let vel = (0.55 + 0.3 * m.arousal + accent + rng.gauss(0.03)).clamp(0.2, 1.0);
        let next = self.chord_at(beat + 1);
        let chord_starts = b.is_multiple_of(2) && (b == 0 || self.chord_at(beat - 1) != chord);
        let change_next = next != chord;

        if self.form.pedal() {
            // Pedal point on the key's fifth: a dotted, throbbing figure.
            let pedal = Self::bass_note(self.key + 7, 40);
            if b.is_multiple_of(2) || m.tension > 0.85 {
                self.push(
                    t0,
                    EventKind::BassOn {
                        note: pedal as u8,
                        velocity: vel,
                    },
                );
                self.last_bass = pedal;
                if m.tension > 0.6 && rng.chance(0.5) {
                    self.push(
                        beat as f64 + sw + 1.0,
                        EventKind::BassOn {
                            note: pedal as u8,
                            velocity: vel * 0.6,
                        },
                    );
                }
            }
            return;
        }

        let two_feel = m.arousal < 0.3;
        if two_feel && b % 2 == 1 {
            return;
        }
        let note = if b == 0 || chord_starts {
            Self::bass_note(chord.root, near)
        } else if change_next || (two_feel && b == 2) {
            // Approach the next root chromatically (from above or below) or from its fifth.
            let target = Self::bass_note(next.root, near);
            match rng.below(3) {
                0 => target + 7 - 12 * ((target + 7 > 55) as i32),
                1 => target - 1,
                _ => target + 1,
            }
        } else {
            // A chord tone in the line's direction, close to the last note.
            let tones = chord.quality.bass_tones();
            let mut best = near;
            let mut best_score = f32::MAX;
            for &iv in tones.iter().skip(1) {
                for oct in [-12, 0, 12] {
                    let n = Self::bass_note(chord.root + iv, near) + oct;
                    if !(31..=55).contains(&n) || n == near {
                        continue;
                    }
                    let step = (n - near) as f32;
                    let wrong_way = if step.signum() as i32 != self.bass_dir {
                        4.0
                    } else {
                        0.0
                    };
                    let score = step.abs() + wrong_way + rng.range(0.0, 3.0);
                    if score < best_score {
                        best_score = score;
                        best = n;
                    }
                }
            }
            best
        };
        let note = note.clamp(28, 60);
        if note > 50 {
            self.bass_dir = -1;
        } else if note < 36 {
            self.bass_dir = 1;
        } else if note != near && rng.chance(0.2) {
            self.bass_dir = -self.bass_dir;
        }
        self.push(
            t0,
            EventKind::BassOn {
                note: note as u8,
                velocity: vel,
            },
        );
        self.last_bass = note;
        // A ghosted "skip" note on the swung off-beat, more often when the band is hot.
        if !two_feel && b % 2 == 1 && rng.chance(0.25 * m.arousal) {
            self.push(
                beat as f64 + sw,
                EventKind::BassOn {
                    note: note as u8,
                    velocity: vel * 0.45,
                },
            );
        }
        // Tense, agitated moods clip the notes short.
        if m.tension > 0.65 && m.arousal > 0.5 && rng.chance(0.5) {
            self.push(beat as f64 + 0.55, EventKind::BassOff);
        }
    }

    fn plan_drums(&mut self, beat: u64, ctx: &BeatContext, sw: f64, ms: f64) {
        let m = self.committed;
        let mut rng = Rng::from_parts(self.seed, beat, S_DRUMS);
        let b = beat % BEATS_PER_BAR;
        let t0 = beat as f64;
        let dyn_ = 0.45 + 0.45 * m.arousal;
        let ride = m.arousal >= 0.45;
        let backbeat = b % 2 == 1;
        let late = |rng: &mut Rng| rng.range(0.0, 5.0) as f64 * ms;
        let jit = |rng: &mut Rng| rng.gauss(0.04);

        if b == 0 {
            // Brushes are strokes, not a bed of noise: the continuous stir stays off in the
            // groove (`BRUSH_STIR`); the sweeps on 1 and 3 and the slaps on 2 and 4 carry it.
            let level = if ride { 0.0 } else { BRUSH_STIR * m.arousal };
            let rate = ctx.tempo_bpm as f32 / 60.0;
            self.push(
                t0,
                EventKind::Swirl {
                    level,
                    rate_hz: rate,
                },
            );
        }
        if ride {
            // The ride rings long and bright: it sits well under the brushes' level.
            let v = dyn_ * if backbeat { 0.55 } else { 0.45 };
            self.push(
                t0 + late(&mut rng),
                EventKind::Drum {
                    hit: DrumHit::Ride,
                    velocity: (v + jit(&mut rng)).clamp(0.1, 1.0),
                },
            );
            if backbeat {
                // The skip note of "ding, ding-a ding": lines up with the swung off-beat.
                self.push(
                    t0 + sw,
                    EventKind::Drum {
                        hit: DrumHit::Ride,
                        velocity: (dyn_ * 0.32 + jit(&mut rng)).clamp(0.1, 1.0),
                    },
                );
            }
        } else {
            if backbeat {
                self.push(
                    t0 + late(&mut rng),
                    EventKind::Drum {
                        hit: DrumHit::BrushTap,
                        velocity: (dyn_ * 0.75 + jit(&mut rng)).clamp(0.1, 1.0),
                    },
                );
                self.push(
                    t0 + sw,
                    EventKind::Drum {
                        hit: DrumHit::BrushTap,
                        velocity: (dyn_ * 0.35 + jit(&mut rng)).clamp(0.05, 1.0),
                    },
                );
            } else {
                let beat_s = 60.0 / ctx.tempo_bpm as f32;
                self.push(
                    t0,
                    EventKind::Drum {
                        hit: DrumHit::BrushSweep {
                            length_s: beat_s * 0.9,
                        },
                        velocity: (dyn_ * 0.6).clamp(0.1, 1.0),
                    },
                );
            }
        }
        if backbeat && m.arousal > 0.12 {
            self.push(
                t0 + late(&mut rng),
                EventKind::Drum {
                    hit: DrumHit::HatFoot,
                    velocity: (0.35 + 0.4 * m.arousal + jit(&mut rng)).clamp(0.1, 1.0),
                },
            );
        }
        // Feathered kick: all four beats, barely heard, once the band is moving.
        if m.arousal > 0.35 || b == 0 {
            let v = if m.arousal > 0.35 {
                0.2 + 0.25 * m.arousal
            } else {
                0.25
            };
            self.push(
                t0,
                EventKind::Drum {
                    hit: DrumHit::Kick,
                    velocity: v + jit(&mut rng).abs(),
                },
            );
        }
        // Snare chatter on the off-beats; cross-stick more with tension.
        if rng.chance(0.06 + 0.3 * m.arousal) {
            let hit = if rng.chance(m.tension * 0.8) {
                DrumHit::CrossStick
            } else {
                DrumHit::BrushTap
            };
            self.push(
                t0 + sw,
                EventKind::Drum {
                    hit,
                    velocity: (0.2 + 0.3 * m.arousal + jit(&mut rng)).clamp(0.05, 1.0),
                },
            );
        }
        // Phrase-end fill: brush triplets into the next phrase.
        let bar = beat / BEATS_PER_BAR;
        if bar % 4 == 3 && b == 3 && rng.chance(0.3 + 0.6 * m.arousal) {
            for i in 0..3 {
                let v = (0.3 + 0.15 * i as f32) * dyn_;
                self.push(
                    t0 + i as f64 / 3.0,
                    EventKind::Drum {
                        hit: DrumHit::BrushTap,
                        velocity: v.clamp(0.05, 1.0),
                    },
                );
            }
        }
        // Top of the form: a crash with the kick when the band is hot.
        if b == 0 && bar.is_multiple_of(self.form.bars()) && m.arousal > 0.6 {
            self.push(
                t0,
                EventKind::Drum {
                    hit: DrumHit::Crash,
                    velocity: 0.25 + 0.2 * m.arousal,
                },
            );
            self.push(
                t0,
                EventKind::Drum {
                    hit: DrumHit::Kick,
                    velocity: 0.5 + 0.3 * m.arousal,
                },
            );
        }
    }

    /// The keys player moves to the piano (`piano`) or the Rhodes at `beat`: notes already
    /// struck ring out on the old instrument, and the pedal comes up.
    fn switch_keys(&mut self, beat: u64, piano: bool) {
        if piano != self.piano {
            if self.pedal {
                self.push(beat as f64, EventKind::KeysPedal { down: false });
                self.pedal = false;
            }
            self.piano = piano;
        }
    }

    /// The piano's pedal at `beat`: in a slow scene the player pedals through each chord,
    /// lifting just before the change and catching the new chord just after it strikes
    /// (legato pedalling); at tempo, or on the Rhodes, the pedal stays up. Beats are planned
    /// as the clock reaches them, so the lift before a change is planned a beat ahead (and
    /// before every phrase, where the form may change).
    fn plan_pedal(&mut self, beat: u64) {
        let want = self.piano && self.committed.arousal < KEYS_RULE.pedal_arousal_below;
        let t = beat as f64;
        let change = beat == 0 || self.chord_at(beat) != self.chord_at(beat.saturating_sub(1));
        if self.pedal && (!want || change) {
            // A change the last beat could not foresee (a new mood on the grid).
            self.push(t, EventKind::KeysPedal { down: false });
            self.pedal = false;
        }
        if want && !self.pedal && (change || beat.is_multiple_of(PHRASE_BEATS)) {
            self.push(t + PEDAL_CATCH_BEATS, EventKind::KeysPedal { down: true });
            self.pedal = true;
        }
        let next = beat + 1;
        if self.pedal
            && (next.is_multiple_of(PHRASE_BEATS) || self.chord_at(next) != self.chord_at(beat))
        {
            self.push(
                next as f64 - PEDAL_LIFT_BEATS,
                EventKind::KeysPedal { down: false },
            );
            self.pedal = false;
        }
    }

    fn plan_keys(&mut self, beat: u64, sw: f64, ms: f64) {
        self.plan_pedal(beat);
        let m = self.committed;
        let bar = beat / BEATS_PER_BAR;
        let b = (beat % BEATS_PER_BAR) as f64;
        // The bar's rhythm is chosen once per bar (keyed by bar), so every beat agrees.
        let mut bar_rng = Rng::from_parts(self.seed, bar, S_KEYS_BAR);
        let rest_p = 0.18 * (1.0 - m.arousal);
        if bar_rng.chance(rest_p) {
            return;
        }
        // Call and response: busier while the lead rests, sparser under its phrase.
        let lead_rests = !self.lead_plays(beat);
        let a = m.arousal + if lead_rests { 0.25 } else { -0.1 };
        let pattern: Comp = if a < 0.3 {
            COMP_SPARSE[bar_rng.below(COMP_SPARSE.len() as u32) as usize]
        } else if a < 0.65 {
            COMP_MEDIUM[bar_rng.below(COMP_MEDIUM.len() as u32) as usize]
        } else {
            COMP_BUSY[bar_rng.below(COMP_BUSY.len() as u32) as usize]
        };
        let mut rng = Rng::from_parts(self.seed, beat, S_KEYS);
        for &(start, dur) in pattern {
            if start < b || start >= b + 1.0 {
                continue;
            }
            let whole = start.floor();
            let offbeat = start - whole > 0.25;
            let t = bar as f64 * 4.0 + whole + if offbeat { sw } else { 0.0 };
            let t = t + rng.range(0.0, 8.0) as f64 * ms;
            // An anticipation on the last off-beat pushes the next bar's chord.
            let chord_beat = if start >= 3.5 {
                (bar + 1) * 4
            } else {
                bar * 4 + whole as u64
            };
            let chord = self.chord_at(chord_beat);
            let target = 60.0 + 5.0 * m.valence + self.register + 0.35 * (self.keys_centre - 60.0);
            let v = rootless_voicing(chord, target, m.tension);
            self.keys_centre = v.centre();
            let base_vel = 0.35 + 0.35 * m.arousal + if offbeat { 0.08 } else { 0.0 };
            // Keep each hit's release before the bar line so it never cuts the next strike.
            let end = (t + dur).min(bar as f64 * 4.0 + 3.95);
            for (i, &n) in v.as_slice().iter().enumerate() {
                // Roll the voicing a few milliseconds, top voice a little louder.
                let tn =
                    t + i as f64 * rng.range(2.0, 6.0) as f64 * ms * (1.0 - m.arousal as f64 * 0.7);
                let vel = (base_vel + rng.gauss(0.03) + if i + 1 == v.len { 0.06 } else { 0.0 })
                    .clamp(0.1, 1.0);
                self.push(
                    tn,
                    EventKind::KeysOn {
                        note: n,
                        velocity: vel,
                        piano: self.piano,
                    },
                );
                self.push(
                    end.max(tn + 0.05),
                    EventKind::KeysOff {
                        note: n,
                        piano: self.piano,
                    },
                );
            }
        }
    }
}

impl Composer {
    /// How "trumpet" the lead is: tension and heat turn the breathy tenor into a muted horn.
    pub fn lead_character(m: Mood) -> f32 {
        ((m.tension - 0.45) * 2.2 + (m.arousal - 0.7) * 1.5).clamp(0.0, 1.0)
    }

    /// Whether the lead plays at `beat` (call windows of phrases it does not sit out).
    fn lead_plays(&self, beat: u64) -> bool {
        let bar = beat / BEATS_PER_BAR;
        if Section::of_bar(bar) == Section::Intro || self.blackout {
            return false;
        }
        let m = self.committed;
        let phrase = bar / 4;
        let pb = beat % 16;
        let mut rng = Rng::from_parts(self.seed, phrase, S_LEAD);
        // Dialogue-dense scenes (quiet, untroubled) leave the most space; the bridge's
        // first phrase belongs to the piano.
        let mut rest_p = 0.4 * (1.0 - m.arousal) * (1.0 - m.tension);
        if Section::of_bar(bar) == Section::B && phrase.is_multiple_of(2) {
            rest_p += 0.5;
        }
        if rng.chance(rest_p) {
            return false;
        }
        let window = if m.arousal > 0.7 { 12 } else { 8 };
        pb < window
    }

    /// The pitch classes a lead note may use: chord tones on strong beats, the mood's mode
    /// (Wallis et al.: mode index = round(3 - 3v), Lydian .. Locrian) on weak ones.
    fn lead_pitch_classes(&self, chord: Chord, strong: bool, out: &mut [bool; 12]) {
        *out = [false; 12];
        if strong {
            out[chord.root.rem_euclid(12) as usize] = true;
            for iv in chord.quality.rootless_tones() {
                out[(chord.root + iv).rem_euclid(12) as usize] = true;
            }
            return;
        }
        const MODES: [[i32; 7]; 7] = [
            [0, 2, 4, 6, 7, 9, 11],
            [0, 2, 4, 5, 7, 9, 11],
            [0, 2, 4, 5, 7, 9, 10],
            [0, 2, 3, 5, 7, 9, 10],
            [0, 2, 3, 5, 7, 8, 10],
            [0, 1, 3, 5, 7, 8, 10],
            [0, 1, 3, 5, 6, 8, 10],
        ];
        let idx = (3.0 - 3.0 * self.committed.valence).round().clamp(0.0, 6.0) as usize;
        let tonic = self.key + if idx <= 2 { 3 } else { 0 };
        for iv in MODES[idx] {
            out[(tonic + iv).rem_euclid(12) as usize] = true;
        }
        // Chord tones are always available.
        for iv in chord.quality.bass_tones() {
            out[(chord.root + iv).rem_euclid(12) as usize] = true;
        }
    }

    fn plan_lead(&mut self, beat: u64, sw: f64, ms: f64) {
        if !self.lead_plays(beat) {
            if self.lead_sounding && beat % 16 >= 8 {
                self.push(beat as f64, EventKind::LeadOff);
                self.lead_sounding = false;
            }
            return;
        }
        let m = self.committed;
        let bar = beat / BEATS_PER_BAR;
        let phrase = bar / 4;
        let pb = (beat % 16) as f64;
        // A motif serves two phrases: stated, then restated over the new chords.
        let mut motif = Rng::from_parts(self.seed, phrase / 2, S_LEAD_MOTIF);
        let line: Line = if m.arousal < 0.3 || Section::of_bar(bar) == Section::B {
            LEAD_SPARSE[motif.below(3) as usize]
        } else if m.arousal < 0.65 {
            LEAD_MEDIUM[motif.below(3) as usize]
        } else {
            LEAD_BUSY[motif.below(3) as usize]
        };
        let contour = CONTOURS[motif.below(4) as usize];
        let mut rng = Rng::from_parts(self.seed, beat, S_LEAD);
        let trumpet = Self::lead_character(m);
        let centre = 62.0 + 4.0 * m.valence + 7.0 * trumpet + self.register;
        let (lo, hi) = ((centre - 10.0) as i32, (centre + 10.0) as i32);
        let phrase_start = (beat - beat % 16) as f64;
        for k in 0..line.len() {
            // The call is the line; past beat 8 (hot moods) the line answers itself.
            let offset = if pb >= 8.0 { 8.0 } else { 0.0 };
            let (start, dur) = line[k];
            let start = start + offset;
            if start < pb || start >= pb + 1.0 || start >= 16.0 {
                continue;
            }
            let whole = start.floor();
            let frac = start - whole;
            let strong = frac < 0.01;
            let swung = if (frac - 0.5).abs() < 0.01 { sw } else { frac };
            // Lay back on downbeats, line up on off-beats.
            let lay = if strong {
                rng.range(12.0, 28.0) as f64 * ms
            } else {
                0.0
            };
            let t = phrase_start + whole + swung + lay;
            let chord = self.chord_at(beat);
            let mut allowed = [false; 12];
            self.lead_pitch_classes(chord, strong, &mut allowed);
            let from = if self.last_lead == 0 {
                centre as i32
            } else {
                self.last_lead
            };
            let step = contour[k % contour.len()];
            let target = from + step * 2;
            let mut best = from;
            let mut best_d = i32::MAX;
            for n in lo..=hi {
                if !allowed[n.rem_euclid(12) as usize] || (n == from && step != 0) {
                    continue;
                }
                let d = (n - target).abs() * 4 + rng.below(3) as i32;
                if d < best_d {
                    best_d = d;
                    best = n;
                }
            }
            let note = best.clamp(40, 90) as u8;
            let vel = (0.5 + 0.35 * m.arousal + rng.gauss(0.04) + if strong { 0.05 } else { 0.0 })
                .clamp(0.15, 1.0);
            let next_start = line.get(k + 1).map(|&(s, _)| s + offset);
            let legato = self.lead_sounding && k > 0 && {
                let (ps, pd) = line[k - 1];
                (ps + offset + pd - start).abs() < 0.05
            };
            self.push(
                t,
                EventKind::LeadOn {
                    note,
                    velocity: vel,
                    legato,
                },
            );
            self.last_lead = note as i32;
            self.lead_sounding = true;
            let end = phrase_start + start + dur;
            let gap_follows = match next_start {
                Some(ns) => ns > start + dur + 0.05,
                None => true,
            };
            if gap_follows {
                let off = (end - 0.08).max(t + 0.05);
                if next_start.is_none() && m.tension > 0.55 {
                    self.push(
                        off,
                        EventKind::LeadFall {
                            time_s: 0.25 + 0.2 * m.tension,
                        },
                    );
                } else {
                    self.push(off, EventKind::LeadOff);
                }
                self.lead_sounding = false;
            }
        }
    }

    /// Whether the strings play in `bar` (see `StringsRules`).
    fn strings_play(&self, bar: u64) -> bool {
        let m = self.committed;
        let r = STRINGS;
        if m.tension >= r.dread_tension {
            return true;
        }
        let section = Section::of_bar(bar);
        // Bars since the section began, counted up to `entry_bars`.
        let mut into = 0;
        while into < r.entry_bars && bar > into && Section::of_bar(bar - into - 1) == section {
            into += 1;
        }
        let entry = section != Section::Intro && into < r.entry_bars;
        if entry && m.tension >= r.entry_tension {
            return true;
        }
        m.tension >= r.long_tension
            && m.arousal < r.long_arousal
            && self.lead_plays(bar * BEATS_PER_BAR)
    }

    fn plan_pad(&mut self, beat: u64, chord: Chord) {
        let b = beat % BEATS_PER_BAR;
        if b == 0 || !self.pad_sent {
            let on = self.strings_play(beat / BEATS_PER_BAR);
            if !on {
                if self.strings_on || !self.pad_sent {
                    // The section rests: the bows lift (the pad fades out).
                    self.push(
                        beat as f64,
                        EventKind::PadChord {
                            notes: [0; 6],
                            len: 0,
                        },
                    );
                }
                self.strings_on = false;
                self.pad_sent = true;
                return;
            }
            if !self.strings_on {
                self.strings_on = true;
                self.pad_sent = false;
            }
        }
        if !self.strings_on {
            return;
        }
        if self.pad_sent && b != 0 && beat > 0 && self.chord_at(beat - 1) == chord {
            return;
        }
        self.pad_sent = true;
        let m = self.committed;
        let root = 48 + (chord.root - 48).rem_euclid(12);
        let t = chord.quality.rootless_tones();
        let mut notes = [0u8; 6];
        let mut len = 0;
        for iv in [0, t[0], t[2], t[1] + 12, t[3] + 12] {
            notes[len] = (root + iv).clamp(36, 84) as u8;
            len += 1;
        }
        if m.tension > 0.6 {
            // The minor-ninth rub: strings clustering against the root.
            notes[len] = (root + 13).clamp(36, 84) as u8;
            len += 1;
        }
        notes[..len].sort_unstable();
        self.push(
            beat as f64,
            EventKind::PadChord {
                notes,
                len: len as u8,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(mood: Mood) -> BeatContext {
        BeatContext {
            mood,
            tempo_bpm: 120.0,
            swing: 1.0,
            quantize_beats: 4,
            intensity: None,
            keys: KeysVoice::Auto,
        }
    }

    fn play(seed: u64, mood: Mood, beats: u64) -> Vec<Event> {
        let mut c = Composer::new(seed);
        let mut out = Vec::new();
        for beat in 0..beats {
            c.plan_beat(beat, &ctx(mood));
            while let Some(e) = c.queue.pop_due(beat as f64 + 0.999) {
                out.push(e);
            }
        }
        out
    }

    #[test]
    fn swing_follows_tempo() {
        // 60 BPM: natural ratio clamps at 3.5 -> off-beat at 3.5/4.5 = 0.778 of the beat.
        assert!((swing_offbeat(60.0, 1.0) - 3.5 / 4.5).abs() < 1e-9);
        // 120 BPM: 1 + 0.3 * 3.2 = 1.96:1, close to the 2:1 triplet.
        assert!((swing_ratio(120.0, 1.0) - 1.96).abs() < 1e-9);
        // 300 BPM: even eighths; and amount 0 is straight at any tempo.
        assert!((swing_offbeat(300.0, 1.0) - 0.5).abs() < 1e-9);
        assert!((swing_offbeat(90.0, 0.0) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn same_seed_same_notes_other_seed_other_notes() {
        let a = play(3, Mood::NEUTRAL, 64);
        let b = play(3, Mood::NEUTRAL, 64);
        let c = play(4, Mood::NEUTRAL, 64);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn walking_bass_lands_on_roots_at_chord_changes() {
        let mood = Mood {
            valence: -0.4,
            arousal: 0.5,
            tension: 0.2,
        };
        let mut c = Composer::new(0);
        for beat in 0..64u64 {
            c.plan_beat(beat, &ctx(mood));
            let chord = c.chord_at(beat);
            let mut first_bass = None;
            while let Some(e) = c.queue.pop_due(beat as f64 + 0.999) {
                if let EventKind::BassOn { note, .. } = e.kind {
                    first_bass.get_or_insert(note);
                }
            }
            if beat % 4 == 0 {
                let n = first_bass.expect("bass plays beat 1");
                assert_eq!(
                    (n as i32 - chord.root).rem_euclid(12),
                    0,
                    "beat {beat}: {n} over {chord:?}"
                );
            }
        }
    }

    #[test]
    fn arousal_raises_density() {
        let count = |a: f32| {
            play(
                9,
                Mood {
                    valence: -0.3,
                    arousal: a,
                    tension: 0.3,
                },
                64,
            )
            .len()
        };
        let calm = count(0.1);
        let hot = count(0.9);
        assert!(hot as f32 > calm as f32 * 1.3, "calm {calm} hot {hot}");
    }

    #[test]
    fn mood_commits_only_on_the_grid() {
        let mut c = Composer::new(1);
        let calm = Mood {
            valence: -0.5,
            arousal: 0.2,
            tension: 0.1,
        };
        let hot = Mood {
            valence: 0.6,
            arousal: 0.9,
            tension: 0.8,
        };
        let mut cx = ctx(calm);
        cx.quantize_beats = 8;
        c.plan_beat(0, &cx);
        cx.mood = hot;
        for beat in 1..8 {
            c.plan_beat(beat, &cx);
            assert_eq!(c.committed_mood(), calm, "beat {beat}");
        }
        c.plan_beat(8, &cx);
        assert_eq!(c.committed_mood(), hot);
    }

    #[test]
    fn queue_never_overflows_in_a_busy_hour() {
        let mut c = Composer::new(5);
        let hot = Mood {
            valence: -0.8,
            arousal: 1.0,
            tension: 1.0,
        };
        for beat in 0..(60 * 200) {
            c.plan_beat(beat, &ctx(hot));
            while c.queue.pop_due(beat as f64 + 0.999).is_some() {}
        }
        assert_eq!(c.queue.dropped, 0);
        assert!(c.queue.len() < 64);
    }
}
