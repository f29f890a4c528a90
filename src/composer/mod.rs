//! The composer: decides, one beat at a time, what the band plays, from the form, the
//! committed mood, the seed and the beat's position. This file owns the shared state, the form
//! and the beat plan; each player's rules are in their own file (`bass`, `drums`, `keys`,
//! `lead`, `strings`). Runs on the audio thread inside the engine; all state is fixed-size and
//! `reset()` makes it replay identically.
//!
//! Determinism: every random choice draws from a stream keyed by (seed, beat or bar, part), so
//! the notes at a timeline position depend only on that position, the seed, the mood history
//! and (for voice leading) the notes just before it.

mod bass;
mod brass;
mod drums;
pub mod events;
pub mod harmony;
mod harp;
mod keys;
mod lead;
mod percussion;
mod strings;
pub mod style;

pub use brass::STAB_FIGURES;
pub use drums::BRUSH_STIR;
pub use harp::{GLISS, HARP_RANGE};
pub use keys::{Keyboard, KeysRule, KeysVoice, KEYS_RULE};
pub use percussion::{PercStroke, AFRO_CUBAN, DREAD_ROLL, SON_CLAVE_3_2};
pub use strings::{StringsRules, STRINGS};
pub use style::{
    auto_style, StingerPart, Style, StyleId, StylePick, AUTO_STYLE, BORDER_TOWN, COMBO, ELEVATOR,
    NIGHT_CAB, RESERVOIR,
};

use crate::dsp::Rng;
use crate::mood::Mood;
use crate::voices::DrumHit;
use events::{Event, EventKind, EventQueue};
use harmony::{colour, rootless_voicing, Chord, Form};

/// Beats per bar: the band plays in 4/4.
pub const BEATS_PER_BAR: u64 = 4;
/// Form changes land on 4-bar phrase boundaries.
const PHRASE_BEATS: u64 = 16;

/// Random stream ids, one per decision family.
const S_COLOUR: u64 = 1;
const S_BASS: u64 = 2;
const S_DRUMS: u64 = 3;
const S_KEYS: u64 = 4;
const S_KEYS_BAR: u64 = 5;
const S_LEAD: u64 = 6;
const S_LEAD_MOTIF: u64 = 7;
const S_STINGER: u64 = 8;
const S_PERC: u64 = 9;
const S_HARP: u64 = 10;
const S_BRASS: u64 = 11;

/// Bars of intro at the top of the timeline (bass and keys, then brushes; the lead waits).
const INTRO_BARS: u64 = 4;
/// Bars per chorus: phrases 0-3 are the A section, 4-5 the B section (bridge), 6-7 A again.
const CHORUS_BARS: u64 = 32;
/// Light intensity at or below which the scene is a blackout (band drops to bass and rain):
/// the light going out, not a dim night scene (a look dimmed to 5 % still has its band).
pub const BLACKOUT_INTENSITY: f32 = 0.02;

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
    /// Which keyboard the keys player plays (Auto: the style, else the mood, chooses).
    pub keys: KeysVoice,
    /// The score style asked for, or Auto (a change lands on the next phrase).
    pub style: StylePick,
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
    /// The score style playing.
    pub style: StyleId,
}

/// The composer. See the module docs.
pub struct Composer {
    /// The user's seed: picks the key and every random stream.
    seed: u64,
    /// The score style playing (its rules are read by every player).
    style: &'static Style,
    /// A style asked for, waiting for the next phrase boundary (the band hands over there).
    pending_style: Option<StyleId>,
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
            style: &COMBO,
            pending_style: None,
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
                style: StyleId::Combo,
            },
        };
        c.reset(seed);
        c
    }

    /// Forget everything (a new seed, a jump on the timeline); no allocation.
    pub fn reset(&mut self, seed: u64) {
        self.seed = seed;
        self.pending_seed = None;
        self.pending_style = None;
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

    /// The score style playing now.
    pub fn style(&self) -> &'static Style {
        self.style
    }

    /// The horn's character now: the style's fixed one, else the mood's (`lead_character`).
    pub fn horn_character(&self, m: Mood) -> f32 {
        self.style
            .lead
            .trumpet
            .unwrap_or_else(|| Self::lead_character(m))
    }

    /// The keyboard the keys player is asked for: the setting, or when it is Auto the style's.
    fn keys_choice(&self, asked: KeysVoice) -> KeysVoice {
        if asked == KeysVoice::Auto {
            self.style.keys.voice
        } else {
            asked
        }
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
        if !self.style.harmony.colour {
            return written;
        }
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
                let f = (self.style.harmony.bridge)(self.form, self.committed);
                (f, (bar % 8) % f.bars())
            }
            _ => (self.form, bar % self.form.bars()),
        }
    }

    /// Plans beat number `beat` (absolute, from the timeline origin): pushes its events into
    /// the queue at absolute beat times in `[beat, beat + 1)` (note-offs may be later).
    pub fn plan_beat(&mut self, beat: u64, ctx: &BeatContext) {
        let q = ctx.quantize_beats.max(1);
        // A style change waits for the next phrase: the band hands over there (the drummer
        // fills into it), and the new style plays from its downbeat.
        // (The first beat after a reset is a phrase boundary: it plays the asked style.)
        // Auto asks the mood committed on this beat's grid (so the drummer's hand-over fill
        // on a phrase's last beat knows what comes).
        let phrase = !self.started || beat.is_multiple_of(PHRASE_BEATS);
        if !self.started || beat.is_multiple_of(q) {
            self.committed = ctx.mood.sanitized();
        }
        let asked = ctx.style.resolve(self.committed, self.style.which);
        self.pending_style = (asked != self.style.which).then_some(asked);
        if phrase {
            if let Some(s) = self.pending_style.take() {
                self.style = s.style();
            }
        }
        let keys = self.keys_choice(ctx.keys);
        if !self.started || beat.is_multiple_of(q) {
            // A chosen keyboard changes on the grid; Auto waits for the phrase (below).
            if keys != KeysVoice::Auto {
                self.switch_keys(beat, keys.plays_piano(self.committed, self.piano));
            }
        }
        if phrase {
            if keys == KeysVoice::Auto {
                self.switch_keys(beat, keys.plays_piano(self.committed, self.piano));
            }
            if let Some(seed) = self.pending_seed.take() {
                self.seed = seed;
                self.key = KEYS[(seed % KEYS.len() as u64) as usize];
            }
            let m = self.committed;
            self.form = (self.style.harmony.a_form)(m);
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
            style: self.style.which,
        };
        let sw = swing_offbeat(ctx.tempo_bpm, ctx.swing * self.style.swing);
        // Milliseconds to beats at this tempo.
        let ms = ctx.tempo_bpm / 60_000.0;
        self.plan_bass(beat, chord, sw, ms);
        if self.blackout {
            return;
        }
        // Intro: keys and bass first, brushes from the third bar, the lead after the intro.
        if (section != Section::Intro || bar >= 2) && self.style.drums.kit {
            self.plan_drums(beat, ctx, sw, ms);
        }
        self.plan_keys(beat, sw, ms);
        self.plan_pad(beat, chord);
        if section != Section::Intro {
            self.plan_lead(beat, sw, ms);
        }
        // The film-score sections: percussion with the kit (from the third bar), the harp
        // from the top, the brass after the intro.
        if section != Section::Intro || bar >= 2 {
            self.plan_percussion(beat, sw, ms);
        }
        self.plan_harp(beat, chord);
        if section != Section::Intro {
            self.plan_brass(beat, chord, sw, ms);
        }
    }

    /// A stinger for a lighting hit (flash, lightning, a door): the style's parts
    /// (`Style::stinger`, e.g. the combo's crash and kick, dissonant piano stab, low bass hit
    /// and the horn's falling tritone after Herrmann), all starting at `at` (beats).
    /// `strength` 0..1 scales it.
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
        for &part in self.style.stinger {
            self.stinger_part(part, at, v, chord, &mut rng);
        }
    }

    /// One part of a stinger (see `StingerPart`).
    fn stinger_part(&mut self, part: StingerPart, at: f64, v: f32, chord: Chord, rng: &mut Rng) {
        use crate::voices::PercHit;
        let drum = |hit, velocity| EventKind::Drum { hit, velocity };
        let perc = |hit, velocity| EventKind::Perc { hit, velocity };
        match part {
            StingerPart::Crash => self.push(at, drum(DrumHit::Crash, v)),
            StingerPart::Kick => self.push(at, drum(DrumHit::Kick, v)),
            StingerPart::BassHit => {
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
            }
            StingerPart::KeysStab | StingerPart::PreparedCluster => {
                // Stab: root-position dim7 plus a minor ninth on top, short; the prepared
                // piano's is a low cluster of bolted strings, left to ring.
                let keyboard = if part == StingerPart::PreparedCluster {
                    Keyboard::Prepared
                } else {
                    self.keyboard()
                };
                let (base, ivs, len): (i32, &[i32], f64) = if part == StingerPart::KeysStab {
                    (
                        60 + (chord.root - 60).rem_euclid(12) - 12,
                        &[0, 3, 6, 9, 13],
                        0.45,
                    )
                } else {
                    (36 + (chord.root - 36).rem_euclid(12), &[0, 1, 2, 6, 7], 1.5)
                };
                for &iv in ivs {
                    let n = (base + iv) as u8;
                    self.push(
                        at + rng.range(0.0, 0.01) as f64,
                        EventKind::KeysOn {
                            note: n,
                            velocity: v,
                            keyboard,
                        },
                    );
                    self.push(at + len, EventKind::KeysOff { note: n, keyboard });
                }
            }
            StingerPart::HornTritone => {
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
            StingerPart::HornFall => {
                let top = 74 + (chord.root + 2 - 74).rem_euclid(12);
                self.push(
                    at,
                    EventKind::LeadOn {
                        note: top as u8,
                        velocity: v,
                        legato: false,
                    },
                );
                self.push(at + 1.0, EventKind::LeadFall { time_s: 0.5 });
                self.last_lead = top;
                self.lead_sounding = false;
            }
            StingerPart::BrassStab => self.brass_stab_fall(at, chord, v),
            StingerPart::LowBrass => {
                let seconds = 0.8;
                self.low_brass_swell(at, chord, v, seconds, 2.5);
            }
            StingerPart::SnareSnap => {
                self.push(at, perc(PercHit::SnareSnap, v));
                self.push(at, perc(PercHit::SnareRim, v * 0.7));
            }
            StingerPart::Timbales => {
                self.push(at, perc(PercHit::TimbaleRim, v));
                self.push(at, perc(PercHit::Cowbell, v * 0.8));
                self.push(at, perc(PercHit::TimbaleLow, v * 0.9));
            }
            StingerPart::TamTam => self.push(at, perc(PercHit::TamTam, v)),
            StingerPart::HarpGliss => {
                let (lo, hi, _) = harp::GLISS;
                self.harp_gliss(at, chord, (hi, lo), 0.75, v, 4.0);
            }
        }
    }

    fn push(&mut self, beat: f64, kind: EventKind) {
        self.queue.push(Event { beat, kind });
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
            style: StylePick::Fixed(StyleId::Combo),
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
