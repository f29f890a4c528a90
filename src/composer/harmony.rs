//! Chords, forms and voicings: the harmonic vocabulary of the noir score (minor ii-V-i,
//! minor blues, relative-major ii-V-I, pedal vamps) and how mood colours it.
//! Pure functions over `Copy` data; called by the composer on the audio thread.

use crate::dsp::Rng;

/// Chord qualities the band knows. Intervals are in semitones above the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quality {
    Maj7,
    Maj7Sharp11,
    Six9,
    Min7,
    Min6,
    MinMaj7,
    Min7b5,
    Dom7,
    Dom7b9,
    Dom7Alt,
    Dom7Sharp11,
    Dim7,
}

impl Quality {
    /// Guide tones and colour tones as (third, fifth-or-thirteenth, seventh, ninth) in
    /// semitones; the rootless voicings are built from these four.
    pub fn rootless_tones(self) -> [i32; 4] {
        match self {
            Quality::Maj7 => [4, 7, 11, 14],
            Quality::Maj7Sharp11 => [4, 6, 11, 14],
            Quality::Six9 => [4, 9, 7, 14],
            Quality::Min7 => [3, 7, 10, 14],
            Quality::Min6 => [3, 9, 7, 14],
            Quality::MinMaj7 => [3, 7, 11, 14],
            Quality::Min7b5 => [3, 6, 10, 17],
            Quality::Dom7 => [4, 9, 10, 14],
            Quality::Dom7b9 => [4, 8, 10, 13],
            Quality::Dom7Alt => [4, 8, 10, 15],
            Quality::Dom7Sharp11 => [4, 6, 10, 14],
            Quality::Dim7 => [3, 6, 9, 14],
        }
    }

    /// Chord tones a walking bass may land on (root, third, fifth, seventh).
    pub fn bass_tones(self) -> [i32; 4] {
        match self {
            Quality::Maj7 | Quality::Maj7Sharp11 => [0, 4, 7, 11],
            Quality::Six9 => [0, 4, 7, 9],
            Quality::Min7 => [0, 3, 7, 10],
            Quality::Min6 => [0, 3, 7, 9],
            Quality::MinMaj7 => [0, 3, 7, 11],
            Quality::Min7b5 => [0, 3, 6, 10],
            Quality::Dom7 | Quality::Dom7b9 | Quality::Dom7Sharp11 => [0, 4, 7, 10],
            Quality::Dom7Alt => [0, 4, 8, 10],
            Quality::Dim7 => [0, 3, 6, 9],
        }
    }

    /// Whether this is a dominant-function chord (may be altered or substituted).
    pub fn is_dominant(self) -> bool {
        matches!(
            self,
            Quality::Dom7 | Quality::Dom7b9 | Quality::Dom7Alt | Quality::Dom7Sharp11
        )
    }

    /// Short chord symbol suffix, for display and MIDI-export markers.
    pub fn symbol(self) -> &'static str {
        match self {
            Quality::Maj7 => "maj7",
            Quality::Maj7Sharp11 => "maj7#11",
            Quality::Six9 => "6/9",
            Quality::Min7 => "m7",
            Quality::Min6 => "m6",
            Quality::MinMaj7 => "m(maj7)",
            Quality::Min7b5 => "m7b5",
            Quality::Dom7 => "7",
            Quality::Dom7b9 => "7b9",
            Quality::Dom7Alt => "7alt",
            Quality::Dom7Sharp11 => "7#11",
            Quality::Dim7 => "dim7",
        }
    }
}

/// One chord: a root pitch class (0 = C) and a quality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chord {
    /// Root pitch class 0..12.
    pub root: i32,
    /// What kind of chord.
    pub quality: Quality,
}

const NAMES: [&str; 12] = [
    "C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B",
];

impl Chord {
    /// Root name, e.g. "Eb".
    pub fn root_name(&self) -> &'static str {
        NAMES[self.root.rem_euclid(12) as usize]
    }
}

/// The forms the band plays. Every form is a whole number of 4-bar sections so that a form
/// change on a 4-bar boundary always lands at the top of a phrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// 8 bars of minor ii-V-i with a turnaround (the default noir ballad/medium form).
    MinorTwoFiveOne,
    /// 12-bar minor blues.
    MinorBlues,
    /// 8 bars in the relative major (higher valence).
    RelativeMajor,
    /// 4-bar pedal-point vamp (high tension, low arousal): the bass holds the dominant.
    PedalVamp,
    /// 8 bars on the tonic minor seventh, played Dorian (the modal vamp: one chord, slow
    /// harmonic rhythm; the *Elevator* style).
    DorianVamp,
    /// 8 bars on the minor seventh a half step above the tonic (the modal vamp's bridge).
    DorianLift,
    /// 8 bars of i - iv - V7 a bar or more each, the harmony under a montuno and a tumbao
    /// (the *Border town* style's A section).
    Montuno,
    /// 8 bars of the descending i - bVII - bVI - V7 (the Andalusian cadence; *Border town*'s
    /// bridge).
    Andalusian,
    /// 8 bars of slow, lyrical minor, two bars a chord: i(maj7) - bVImaj7 - iv - ii-V (the
    /// *Reservoir* style's A section).
    Romance,
    /// 8 bars with the dread underneath: the Neapolitan bIImaj7#11, i(maj7), bVI7#11,
    /// V7alt, two bars each (*Reservoir*'s bridge).
    Lament,
    /// 8 bars of a minor ballad, a chord a bar: i - bVImaj7 - iv - bVII7 - bIIImaj7 -
    /// bVImaj7 - iiø - V7b9 (the *Night cab* style's theme).
    NightBallad,
    /// 8 bars of one two-chord figure repeated bar by bar: the minor-major tonic against
    /// the major seventh a half step above it (*Night cab*'s dread).
    DreadFigure,
}

/// One slot of a form: chord degree (semitones above the key's tonic) and quality,
/// lasting two beats (half a bar).
type Slot = (i32, Quality);

use Quality::*;

const MINOR_251: [Slot; 16] = [
    (0, MinMaj7),
    (0, MinMaj7),
    (0, Min6),
    (0, Min6),
    (5, Min7),
    (5, Min7),
    (10, Dom7),
    (10, Dom7),
    (3, Maj7),
    (3, Maj7),
    (8, Maj7),
    (8, Maj7),
    (2, Min7b5),
    (7, Dom7Alt),
    (0, Min6),
    (7, Dom7b9),
];

const MINOR_BLUES: [Slot; 24] = [
    (0, Min7),
    (0, Min7),
    (5, Min7),
    (5, Min7),
    (0, Min7),
    (0, Min7),
    (0, Min7),
    (0, Min7),
    (5, Min7),
    (5, Min7),
    (5, Min7),
    (5, Min7),
    (0, Min7),
    (0, Min7),
    (0, Min7),
    (0, Min7),
    (8, Dom7),
    (8, Dom7),
    (7, Dom7Alt),
    (7, Dom7Alt),
    (0, Min7),
    (8, Dom7),
    (2, Min7b5),
    (7, Dom7Alt),
];

const RELATIVE_MAJOR: [Slot; 16] = [
    (3, Maj7),
    (3, Maj7),
    (0, Min7),
    (0, Min7),
    (5, Min7),
    (5, Min7),
    (10, Dom7),
    (10, Dom7),
    (7, Min7),
    (7, Min7),
    (0, Dom7),
    (0, Dom7),
    (5, Min7),
    (10, Dom7),
    (3, Six9),
    (0, Min7),
];

const PEDAL_VAMP: [Slot; 8] = [
    (0, MinMaj7),
    (0, MinMaj7),
    (8, Maj7Sharp11),
    (8, Maj7Sharp11),
    (0, Min6),
    (0, Min6),
    (1, Dom7Sharp11),
    (1, Dom7Sharp11),
];

const DORIAN_VAMP: [Slot; 16] = [(0, Min7); 16];
const DORIAN_LIFT: [Slot; 16] = [(1, Min7); 16];

const MONTUNO: [Slot; 16] = [
    (0, Min7),
    (0, Min7),
    (0, Min7),
    (0, Min7),
    (5, Min7),
    (5, Min7),
    (5, Min7),
    (5, Min7),
    (7, Dom7b9),
    (7, Dom7b9),
    (7, Dom7b9),
    (7, Dom7b9),
    (0, Min7),
    (0, Min7),
    (7, Dom7b9),
    (7, Dom7b9),
];

const ANDALUSIAN: [Slot; 16] = [
    (0, Min7),
    (0, Min7),
    (0, Min7),
    (0, Min7),
    (10, Dom7),
    (10, Dom7),
    (10, Dom7),
    (10, Dom7),
    (8, Maj7),
    (8, Maj7),
    (8, Maj7),
    (8, Maj7),
    (7, Dom7b9),
    (7, Dom7b9),
    (7, Dom7b9),
    (7, Dom7b9),
];

const ROMANCE: [Slot; 16] = [
    (0, MinMaj7),
    (0, MinMaj7),
    (0, MinMaj7),
    (0, MinMaj7),
    (8, Maj7),
    (8, Maj7),
    (8, Maj7),
    (8, Maj7),
    (5, Min7),
    (5, Min7),
    (5, Min7),
    (5, Min7),
    (2, Min7b5),
    (2, Min7b5),
    (7, Dom7b9),
    (7, Dom7b9),
];

const LAMENT: [Slot; 16] = [
    (1, Maj7Sharp11),
    (1, Maj7Sharp11),
    (1, Maj7Sharp11),
    (1, Maj7Sharp11),
    (0, MinMaj7),
    (0, MinMaj7),
    (0, MinMaj7),
    (0, MinMaj7),
    (8, Dom7Sharp11),
    (8, Dom7Sharp11),
    (8, Dom7Sharp11),
    (8, Dom7Sharp11),
    (7, Dom7Alt),
    (7, Dom7Alt),
    (7, Dom7Alt),
    (7, Dom7Alt),
];

const NIGHT_BALLAD: [Slot; 16] = [
    (0, Min7),
    (0, Min7),
    (8, Maj7),
    (8, Maj7),
    (5, Min7),
    (5, Min7),
    (10, Dom7),
    (10, Dom7),
    (3, Maj7),
    (3, Maj7),
    (8, Maj7),
    (8, Maj7),
    (2, Min7b5),
    (2, Min7b5),
    (7, Dom7b9),
    (7, Dom7b9),
];

const DREAD_FIGURE: [Slot; 16] = [
    (0, MinMaj7),
    (0, MinMaj7),
    (1, Maj7Sharp11),
    (1, Maj7Sharp11),
    (0, MinMaj7),
    (0, MinMaj7),
    (1, Maj7Sharp11),
    (1, Maj7Sharp11),
    (0, MinMaj7),
    (0, MinMaj7),
    (1, Maj7Sharp11),
    (1, Maj7Sharp11),
    (0, MinMaj7),
    (0, MinMaj7),
    (1, Maj7Sharp11),
    (1, Maj7Sharp11),
];

impl Form {
    fn slots(self) -> &'static [Slot] {
        match self {
            Form::MinorTwoFiveOne => &MINOR_251,
            Form::MinorBlues => &MINOR_BLUES,
            Form::RelativeMajor => &RELATIVE_MAJOR,
            Form::PedalVamp => &PEDAL_VAMP,
            Form::DorianVamp => &DORIAN_VAMP,
            Form::DorianLift => &DORIAN_LIFT,
            Form::Montuno => &MONTUNO,
            Form::Andalusian => &ANDALUSIAN,
            Form::Romance => &ROMANCE,
            Form::Lament => &LAMENT,
            Form::NightBallad => &NIGHT_BALLAD,
            Form::DreadFigure => &DREAD_FIGURE,
        }
    }

    /// Length in bars.
    pub fn bars(self) -> u64 {
        self.slots().len() as u64 / 2
    }

    /// Every form, in declaration order.
    pub const ALL: [Form; 12] = [
        Form::MinorTwoFiveOne,
        Form::MinorBlues,
        Form::RelativeMajor,
        Form::PedalVamp,
        Form::DorianVamp,
        Form::DorianLift,
        Form::Montuno,
        Form::Andalusian,
        Form::Romance,
        Form::Lament,
        Form::NightBallad,
        Form::DreadFigure,
    ];

    /// Whether the bass holds a pedal tone (the key's fifth) through this form.
    pub fn pedal(self) -> bool {
        matches!(self, Form::PedalVamp)
    }

    /// Name for display.
    pub fn name(self) -> &'static str {
        match self {
            Form::MinorTwoFiveOne => "minor ii-V-i",
            Form::MinorBlues => "minor blues",
            Form::RelativeMajor => "relative major",
            Form::PedalVamp => "pedal vamp",
            Form::DorianVamp => "Dorian vamp",
            Form::DorianLift => "Dorian vamp, up a half step",
            Form::Montuno => "montuno i-iv-V",
            Form::Andalusian => "Andalusian cadence",
            Form::Romance => "romance",
            Form::Lament => "lament",
            Form::NightBallad => "night ballad",
            Form::DreadFigure => "dread figure",
        }
    }

    /// The form a mood calls for. Valence picks major vs minor (Gabrielsson & Lindstrom 2010:
    /// mode is the strongest valence cue); tension with low arousal picks the pedal vamp;
    /// the minor blues serves the middle, darker, more agitated moods.
    pub fn for_mood(valence: f32, arousal: f32, tension: f32) -> Form {
        if valence > 0.35 {
            Form::RelativeMajor
        } else if tension > 0.7 && arousal < 0.55 {
            Form::PedalVamp
        } else if arousal > 0.55 || (tension > 0.5 && valence < -0.3) {
            Form::MinorBlues
        } else {
            Form::MinorTwoFiveOne
        }
    }

    /// The contrasting form for a B section (the bridge) after this A form: the relative
    /// major lifts a minor A unless the mood is very dark or tense, where the pedal vamp
    /// darkens it instead; a major A turns to the minor ii-V-i.
    pub fn bridge_for(self, valence: f32, tension: f32) -> Form {
        match self {
            Form::RelativeMajor => Form::MinorTwoFiveOne,
            Form::PedalVamp => Form::MinorTwoFiveOne,
            Form::DorianVamp => Form::DorianLift,
            Form::DorianLift => Form::DorianVamp,
            Form::Montuno => Form::Andalusian,
            Form::Andalusian => Form::Montuno,
            Form::Romance => Form::Lament,
            Form::Lament => Form::Romance,
            Form::NightBallad => Form::DreadFigure,
            Form::DreadFigure => Form::NightBallad,
            Form::MinorTwoFiveOne | Form::MinorBlues => {
                if tension > 0.55 || valence < -0.7 {
                    Form::PedalVamp
                } else {
                    Form::RelativeMajor
                }
            }
        }
    }

    /// The written chord of the half bar `half` (0-based, counting from the top of the form,
    /// wrapping), transposed to `key` (tonic pitch class).
    pub fn written(self, half: u64, key: i32) -> Chord {
        let slots = self.slots();
        let (deg, quality) = slots[(half % slots.len() as u64) as usize];
        Chord {
            root: (key + deg).rem_euclid(12),
            quality,
        }
    }
}

/// Colours a written chord for a mood: altered dominants and tritone substitutions as tension
/// rises, brighter major colours (6/9, maj7#11) as valence rises, darker minor colours
/// (minor-major seventh, m6) as it falls. `rng` is the slot's own stream so the choice is a
/// function of position and seed.
pub fn colour(chord: Chord, valence: f32, tension: f32, rng: &mut Rng) -> Chord {
    let mut c = chord;
    if c.quality.is_dominant() {
        if tension > 0.75 && rng.chance((tension - 0.6) * 1.5) {
            // Tritone substitution: bII7 for V7 (same guide tones, chromatic bass).
            c.root = (c.root + 6).rem_euclid(12);
            c.quality = Dom7Sharp11;
        } else if tension > 0.55 {
            c.quality = Dom7Alt;
        } else if tension > 0.3 || valence < -0.3 {
            c.quality = Dom7b9;
        } else if valence > 0.4 {
            c.quality = Dom7;
        }
    } else {
        match c.quality {
            Maj7 if valence > 0.55 => c.quality = if tension > 0.4 { Maj7Sharp11 } else { Six9 },
            Min7 if valence < -0.5 && tension > 0.4 => c.quality = MinMaj7,
            Min6 if valence < -0.6 => c.quality = MinMaj7,
            MinMaj7 if valence > 0.2 => c.quality = Min6,
            _ => {}
        }
    }
    c
}

/// A voicing of up to six notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Voicing {
    /// MIDI notes, ascending; only the first `len` are used.
    pub notes: [u8; 6],
    /// How many notes sound.
    pub len: usize,
}

impl Voicing {
    /// The notes in use.
    pub fn as_slice(&self) -> &[u8] {
        &self.notes[..self.len]
    }

    /// Mean pitch (for voice leading); 0 for an empty voicing.
    pub fn centre(&self) -> f32 {
        if self.len == 0 {
            return 0.0;
        }
        self.as_slice().iter().map(|&n| n as f32).sum::<f32>() / self.len as f32
    }
}

/// A rootless piano voicing (Bill Evans A form 3-5-7-9 or B form 7-9-3-5) placed near
/// `target_centre` (MIDI), choosing the form closest to the previous voicing for smooth voice
/// leading. Tension adds a cluster tone (a minor second rub) and spreads the register.
pub fn rootless_voicing(chord: Chord, target_centre: f32, tension: f32) -> Voicing {
    let t = chord.quality.rootless_tones();
    // A form: third, fifth/13th, seventh, ninth. B form: seventh, ninth, third+12, fifth+12.
    let a = [t[0], t[1], t[2], t[3]];
    let b = [t[2], t[3], t[0] + 12, t[1] + 12];
    let mut best = Voicing::default();
    let mut best_dist = f32::MAX;
    for shape in [a, b] {
        for octave in 2..=6 {
            let base = octave * 12 + chord.root;
            let mut v = Voicing::default();
            let mut prev = 0;
            for &iv in shape.iter() {
                let mut n = base + iv;
                while n <= prev {
                    n += 12;
                }
                prev = n;
                v.notes[v.len] = n.clamp(0, 127) as u8;
                v.len += 1;
            }
            let d = (v.centre() - target_centre).abs();
            if d < best_dist {
                best_dist = d;
                best = v;
            }
        }
    }
    if tension > 0.6 && best.len < 6 {
        // A half-step cluster under the top note: the noir "rub".
        let top = best.notes[best.len - 1];
        let rub = top.saturating_sub(1);
        if !best.as_slice().contains(&rub) {
            best.notes[best.len] = rub;
            best.len += 1;
        }
    }
    if tension > 0.8 && best.len < 6 {
        // Spread: double the bottom guide tone an octave lower for weight.
        best.notes[best.len] = best.notes[0].saturating_sub(12);
        best.len += 1;
    }
    best.notes[..best.len].sort_unstable();
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_whole_four_bar_sections() {
        for f in Form::ALL {
            assert_eq!(f.bars() % 4, 0, "{f:?}");
        }
    }

    #[test]
    fn every_bridge_contrasts_with_its_form() {
        for f in Form::ALL {
            assert_ne!(f.bridge_for(-0.3, 0.5), f, "{f:?}");
        }
    }

    #[test]
    fn the_dread_figure_repeats_two_chords_a_bar_each() {
        // Halves 0-1 on the tonic's minor-major seventh, 2-3 a half step up, and again.
        let f = Form::DreadFigure;
        let chords: Vec<Chord> = (0..16).map(|h| f.written(h, 0)).collect();
        let mut distinct = chords.clone();
        distinct.dedup();
        distinct.sort_by_key(|c| c.root);
        distinct.dedup();
        assert_eq!(distinct.len(), 2, "{distinct:?}");
        for h in 0..16 {
            assert_eq!(chords[h].root, ((h / 2) % 2) as i32, "half {h}");
        }
    }

    #[test]
    fn minor_251_in_c_starts_on_c_and_has_dm7b5_g7alt() {
        let f = Form::MinorTwoFiveOne;
        assert_eq!(
            f.written(0, 0),
            Chord {
                root: 0,
                quality: MinMaj7
            }
        );
        // Bar 7 (halves 12, 13): Dm7b5 then G7alt.
        assert_eq!(
            f.written(12, 0),
            Chord {
                root: 2,
                quality: Min7b5
            }
        );
        assert_eq!(
            f.written(13, 0),
            Chord {
                root: 7,
                quality: Dom7Alt
            }
        );
        // Wraps.
        assert_eq!(f.written(16, 0), f.written(0, 0));
    }

    #[test]
    fn mood_picks_mode() {
        assert_eq!(Form::for_mood(0.8, 0.3, 0.1), Form::RelativeMajor);
        assert_eq!(Form::for_mood(-0.5, 0.2, 0.2), Form::MinorTwoFiveOne);
        assert_eq!(Form::for_mood(-0.5, 0.3, 0.9), Form::PedalVamp);
        assert_eq!(Form::for_mood(-0.2, 0.8, 0.3), Form::MinorBlues);
    }

    #[test]
    fn bridges_contrast() {
        for a in [
            Form::MinorTwoFiveOne,
            Form::MinorBlues,
            Form::RelativeMajor,
            Form::PedalVamp,
        ] {
            for (v, t) in [(-0.9, 0.9), (0.0, 0.0), (0.8, 0.2)] {
                assert_ne!(a.bridge_for(v, t), a, "{a:?} at v {v} t {t}");
            }
        }
    }

    #[test]
    fn tension_alters_dominants() {
        let g7 = Chord {
            root: 7,
            quality: Dom7,
        };
        let mut rng = Rng::new(1);
        assert_eq!(colour(g7, 0.6, 0.0, &mut rng).quality, Dom7);
        assert_eq!(colour(g7, 0.0, 0.6, &mut rng).quality, Dom7Alt);
        // At full tension the substitution shows up for some streams: bII7 (Db) #11.
        let subs = (0..50)
            .filter(|&s| {
                let c = colour(g7, 0.0, 1.0, &mut Rng::new(s));
                c.root == 1 && c.quality == Dom7Sharp11
            })
            .count();
        assert!(subs > 10 && subs < 50, "{subs}");
    }

    #[test]
    fn rootless_voicing_has_guide_tones_and_no_root() {
        // Dm7b5 rootless: F, Ab, C, G (3, b5, b7, 11) — no D in the voicing.
        let v = rootless_voicing(
            Chord {
                root: 2,
                quality: Min7b5,
            },
            62.0,
            0.0,
        );
        assert_eq!(v.len, 4);
        let pcs: Vec<u8> = v.as_slice().iter().map(|n| n % 12).collect();
        assert!(pcs.contains(&5) && pcs.contains(&0), "{pcs:?}");
        assert!(!pcs.contains(&2), "{pcs:?}");
        assert!((v.centre() - 62.0).abs() < 7.0);
    }

    #[test]
    fn tension_adds_cluster() {
        let c = Chord {
            root: 0,
            quality: Min6,
        };
        let calm = rootless_voicing(c, 60.0, 0.0);
        let tense = rootless_voicing(c, 60.0, 0.9);
        assert!(tense.len > calm.len);
        let s = tense.as_slice();
        assert!(s.windows(2).any(|w| w[1] - w[0] == 1), "{s:?}");
    }
}
