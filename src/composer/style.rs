//! Score styles as data: the harmony's forms, each player's groove, density and space, who
//! plays (kit, percussion, harp, brass, strings), the stinger, the grain and the room. A style
//! is one table (`COMBO`, `ELEVATOR`, `BORDER_TOWN`, `RESERVOIR`, `NIGHT_CAB`); the players
//! read `self.style`, so another style is another table, not new branches. *Auto* picks a
//! style from the mood (`AUTO_STYLE`). Constant data read on the audio thread; no allocation.

use super::harmony::Form;
use super::keys::KeysVoice;
use super::strings::StringsRules;
use crate::engine::mixer::CHANNELS;
use crate::mood::Mood;

/// Which score style the band plays. Ids are stable (presets, cue sheets, the `style`
/// parameter); new styles are added at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StyleId {
    /// The small-group noir club (the band as it always played).
    #[default]
    Combo,
    /// After Miles Davis's *Ascenseur pour l'échafaud* (1958): modal vamps, a muted trumpet
    /// in long breaths, bass ostinato, brushes, sparse piano, a big room.
    Elevator,
    /// After Henry Mancini's *Touch of Evil* (1958): Afro-Cuban groove, brass stabs and
    /// shakes, a honky-tonk montuno, a tumbao bass, a sleazy tenor; loud and close.
    BorderTown,
    /// After Jerry Goldsmith's *Chinatown* (1974): a lone lyrical trumpet over strings, harp
    /// arpeggios and glissandi, prepared-piano plucks and clusters, sparse percussion.
    Reservoir,
    /// After Bernard Herrmann's *Taxi Driver* (1976): a tenor ballad over lush strings, then
    /// the dread: snare snaps, low brass swells, harp glissandi on a two-chord figure.
    NightCab,
}

impl StyleId {
    /// Every style, in id order.
    pub const ALL: [StyleId; 5] = [
        StyleId::Combo,
        StyleId::Elevator,
        StyleId::BorderTown,
        StyleId::Reservoir,
        StyleId::NightCab,
    ];

    /// The style's rules.
    pub fn style(self) -> &'static Style {
        match self {
            StyleId::Combo => &COMBO,
            StyleId::Elevator => &ELEVATOR,
            StyleId::BorderTown => &BORDER_TOWN,
            StyleId::Reservoir => &RESERVOIR,
            StyleId::NightCab => &NIGHT_CAB,
        }
    }

    /// The stable id (`combo`, `elevator`, `border-town`, ...), as presets and the CLI spell it.
    pub fn id(self) -> &'static str {
        self.style().id
    }

    /// The style for an id (case-insensitive; `_` and spaces count as `-`), if there is one.
    pub fn from_id(id: &str) -> Option<StyleId> {
        let want: String = id
            .trim()
            .chars()
            .map(|c| if c == '_' || c == ' ' { '-' } else { c })
            .collect();
        StyleId::ALL
            .into_iter()
            .find(|s| s.id().eq_ignore_ascii_case(&want))
    }
}

/// The style asked for: one style, or *Auto* (the mood picks one at each phrase,
/// `AUTO_STYLE`). Written as the style's id or `"auto"` in presets, cue sheets and the CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StylePick {
    /// The mood (from the light, a cue sheet or the knobs) picks the style.
    Auto,
    /// This style.
    Fixed(StyleId),
}

impl Default for StylePick {
    fn default() -> Self {
        StylePick::Fixed(StyleId::Combo)
    }
}

impl From<StyleId> for StylePick {
    fn from(s: StyleId) -> Self {
        StylePick::Fixed(s)
    }
}

impl StylePick {
    /// `"auto"` or the style's id.
    pub fn id(self) -> &'static str {
        match self {
            StylePick::Auto => "auto",
            StylePick::Fixed(s) => s.id(),
        }
    }

    /// From `"auto"` or a style id (case-insensitive).
    pub fn from_id(id: &str) -> Option<StylePick> {
        if id.trim().eq_ignore_ascii_case("auto") {
            Some(StylePick::Auto)
        } else {
            StyleId::from_id(id).map(StylePick::Fixed)
        }
    }

    /// The style to play for `mood`, when `current` is playing (Auto keeps the current style
    /// until another fits clearly better: `AUTO_MARGIN`).
    pub fn resolve(self, mood: Mood, current: StyleId) -> StyleId {
        match self {
            StylePick::Fixed(s) => s,
            StylePick::Auto => auto_style(mood, current),
        }
    }

    /// The ids a user may write, for error messages.
    pub fn known_ids() -> String {
        let mut ids: Vec<&str> = vec!["auto"];
        ids.extend(StyleId::ALL.iter().map(|s| s.id()));
        ids.join(", ")
    }
}

impl serde::Serialize for StylePick {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for StylePick {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        StylePick::from_id(&id).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "no style {id:?}; the styles are {}",
                StylePick::known_ids()
            ))
        })
    }
}

/// Where each style sits in the mood space, for *Auto*: the mood plays the style whose
/// point is nearest (valence counted at half weight, its range being twice as wide), and
/// the playing style keeps going until another is `AUTO_MARGIN` nearer. The points follow the
/// touchstones: the club in the middle; the cool modal melancholy of *Ascenseur* calm and
/// untroubled; *Touch of Evil* hot and loud; *Chinatown* slow, romantic, with dread under it;
/// *Taxi Driver* dark and full of dread.
pub const AUTO_STYLE: [(StyleId, Mood); 5] = [
    (
        StyleId::Combo,
        Mood {
            valence: -0.2,
            arousal: 0.5,
            tension: 0.35,
        },
    ),
    (
        StyleId::Elevator,
        Mood {
            valence: -0.35,
            arousal: 0.3,
            tension: 0.15,
        },
    ),
    (
        StyleId::BorderTown,
        Mood {
            valence: -0.05,
            arousal: 0.85,
            tension: 0.5,
        },
    ),
    (
        StyleId::Reservoir,
        Mood {
            valence: -0.35,
            arousal: 0.2,
            tension: 0.5,
        },
    ),
    (
        StyleId::NightCab,
        Mood {
            valence: -0.7,
            arousal: 0.45,
            tension: 0.85,
        },
    ),
];

/// How much nearer (in the weighted mood distance) another style must be before *Auto*
/// leaves the playing one.
pub const AUTO_MARGIN: f32 = 0.08;

fn mood_distance(a: Mood, b: Mood) -> f32 {
    let dv = 0.5 * (a.valence - b.valence);
    let da = a.arousal - b.arousal;
    let dt = a.tension - b.tension;
    (dv * dv + da * da + dt * dt).sqrt()
}

/// The style *Auto* plays for `mood` while `current` plays (see `AUTO_STYLE`).
pub fn auto_style(mood: Mood, current: StyleId) -> StyleId {
    let mood = mood.sanitized();
    let mut best = current;
    let mut best_d = f32::MAX;
    for (s, point) in AUTO_STYLE {
        let d = mood_distance(mood, point) - if s == current { AUTO_MARGIN } else { 0.0 };
        if d < best_d {
            best_d = d;
            best = s;
        }
    }
    best
}

/// The harmony language: which forms play, whether chords are coloured by the mood, and the
/// mode the horn's passing notes use.
#[derive(Clone, Copy, Debug)]
pub struct HarmonyRules {
    /// The A section's form for a mood (chosen at each phrase).
    pub a_form: fn(Mood) -> Form,
    /// The bridge (B section) after an A form.
    pub bridge: fn(Form, Mood) -> Form,
    /// Colour the written chords by the mood (altered dominants, substitutions, darker
    /// minors); modal styles keep the vamp's chord as written.
    pub colour: bool,
    /// Mode of the horn's weak-beat notes, as an index into Lydian (0) .. Locrian (6) on the
    /// chord's root; `None`: the mood picks it on the key (Wallis et al.).
    pub lead_mode: Option<usize>,
}

/// One note of a bass figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BassNote {
    /// Start in the bar, beats; x.5 starts are swung (in swung styles).
    pub at: f64,
    /// Semitones above the chord's root.
    pub interval: i32,
    /// Velocity scale.
    pub vel: f32,
    /// Taken on the next bar's chord (the tumbao anticipates the change).
    pub next: bool,
}

/// How the bass plays.
#[derive(Clone, Copy, Debug)]
pub enum BassFeel {
    /// The walking line (two-feel when calm, a pedal under the pedal vamp).
    Walking,
    /// A one-bar figure on the chord's root, the same shape every bar.
    Figure(&'static [BassNote]),
    /// Long notes: the root when the chord changes and once a bar, a fifth now and then
    /// (under strings and harp, where a walking line would crowd them).
    Roots,
}

/// The bass player.
#[derive(Clone, Copy, Debug)]
pub struct BassRules {
    /// Walking, a figure, or long roots.
    pub feel: BassFeel,
}

/// The drummer at the jazz kit.
#[derive(Clone, Copy, Debug)]
pub struct DrumRules {
    /// Whether the kit plays at all (some scores have no kit, only percussion).
    pub kit: bool,
    /// Arousal at or above which the ride carries the time (below it, brushes).
    pub ride_arousal: f32,
    /// Scales every stroke's dynamics.
    pub dynamics: f32,
}

/// What the percussionists play.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PercGroove {
    /// No percussion section.
    None,
    /// Son clave, bongo martillo, conga tumbao, cowbell on the beat, timbale cascara and
    /// fills when the band is hot.
    AfroCuban,
    /// Stick snare snaps on the dread figure's changes, buzz rolls into them, a tam-tam at
    /// the top of a section in the dread.
    DreadSnare,
    /// Sparse colour: a guiro scrape, the wood block, a tam-tam at section heads, a shaker
    /// under tension; much space.
    Sparse,
}

/// The percussion section.
#[derive(Clone, Copy, Debug)]
pub struct PercRules {
    /// Its groove.
    pub groove: PercGroove,
    /// Scales every stroke's dynamics.
    pub dynamics: f32,
}

/// Which piano the keys player sits at when the keyboard is a piano.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PianoKind {
    /// The concert grand.
    Grand,
    /// An old upright in a bar (detuned unisons, hard hammers).
    HonkyTonk,
    /// A grand with bolts and rubber between its strings.
    Prepared,
}

/// How the keys player comps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comping {
    /// Rootless voicings in swung comping rhythms (call and response with the horn).
    Swing,
    /// A Latin montuno (guajeo): a syncopated, octave-doubled figure of chord tones that
    /// anticipates the changes.
    Montuno,
    /// The prepared piano's colours: single plucked strings and low clusters, sparse.
    Colours,
}

/// The keys player.
#[derive(Clone, Copy, Debug)]
pub struct KeysStyle {
    /// Chance a bar rests, at zero arousal (falls linearly to none at full arousal).
    pub rest: f32,
    /// Added to the arousal that picks sparse, medium or busy comping.
    pub density: f32,
    /// The keyboard when the Keys setting is Auto (`KeysVoice::Auto`: the mood chooses).
    pub voice: KeysVoice,
    /// The piano, when a piano plays.
    pub piano: PianoKind,
    /// How the keys comp.
    pub comping: Comping,
}

/// The horn.
#[derive(Clone, Copy, Debug)]
pub struct LeadStyle {
    /// Chance a phrase rests, at zero arousal and tension.
    pub rest: f32,
    /// Added chance a phrase rests, per unit of tension (a ballad's horn gives way to the
    /// dread).
    pub tension_rest: f32,
    /// Added to the arousal that picks sparse, medium or busy lines.
    pub density: f32,
    /// Beats of each 16-beat phrase the horn may play: (usually, when the band is hot).
    pub window: (u64, u64),
    /// Fixed character 0 (breathy tenor) .. 1 (trumpet); `None`: the mood decides.
    pub trumpet: Option<f32>,
    /// The trumpet plays open (no mute): a lyrical solo trumpet.
    pub open: bool,
}

/// The harpist.
#[derive(Clone, Copy, Debug)]
pub struct HarpRules {
    /// Chance a bar has an arpeggio (rising chord tones), at arousal 0.5 (0: no harp).
    pub arpeggio: f32,
    /// A glissandus sweeps into the head of each section.
    pub gliss_sections: bool,
    /// Tension at or above which a glissandus also sweeps into chord changes (> 1: never).
    pub gliss_tension: f32,
}

/// The brass section.
#[derive(Clone, Copy, Debug)]
pub struct BrassRules {
    /// Chance a bar has a stab figure, at full arousal (0: no stabs).
    pub stabs: f32,
    /// Tension at or above which the low brass swells into chord changes (> 1: never).
    pub swell_tension: f32,
    /// Long notes at a phrase's end are shaken, short ones fall.
    pub shakes: bool,
}

/// One element of a stinger (a lighting hit): the band's part in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StingerPart {
    /// Crash cymbal.
    Crash,
    /// Kick drum.
    Kick,
    /// The keys' dim7(b9) stab.
    KeysStab,
    /// A low bass hit on the root.
    BassHit,
    /// The horn's falling tritone (Herrmann's two-note brass motif).
    HornTritone,
    /// The horn's high note falling off.
    HornFall,
    /// The brass section's dissonant stab (a dim7 with a minor ninth on top) with a fall.
    BrassStab,
    /// The low brass's cluster swelling up.
    LowBrass,
    /// A stick snare snap with a rim shot.
    SnareSnap,
    /// The timbale rim shot and cowbell.
    Timbales,
    /// A harp glissandus down.
    HarpGliss,
    /// The tam-tam.
    TamTam,
    /// A low cluster on the prepared piano.
    PreparedCluster,
}

/// A score style: everything that makes the band play in one idiom.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Which style this is.
    pub which: StyleId,
    /// Stable id.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// The touchstone it follows.
    pub after: &'static str,
    /// What defines it, in a line.
    pub about: &'static str,
    /// Harmony language.
    pub harmony: HarmonyRules,
    /// Bass player.
    pub bass: BassRules,
    /// Drummer at the kit.
    pub drums: DrumRules,
    /// Percussion section.
    pub percussion: PercRules,
    /// Keys player.
    pub keys: KeysStyle,
    /// Horn.
    pub lead: LeadStyle,
    /// When the strings play.
    pub strings: StringsRules,
    /// Harpist.
    pub harp: HarpRules,
    /// Brass section.
    pub brass: BrassRules,
    /// What a lighting hit plays.
    pub stinger: &'static [StingerPart],
    /// The style's analog wear (its factory scenes' `grain`; 0 = clean).
    pub grain: f32,
    /// Scales the room's send (the Reverb setting).
    pub room: f32,
    /// Scales the mood's tempo (when the mood sets the tempo).
    pub tempo: f64,
    /// Scales the Swing setting (0: straight eighths, as Latin and film-score strings play).
    pub swing: f32,
    /// The style's own balance, dB added to each instrument's level, in channel order (bass,
    /// drums, keys, lead, pad, ambience, harp, brass, percussion): the open trumpet sits
    /// lower than the muted one, the prepared piano and sparse percussion come forward.
    pub mix_db: [f32; CHANNELS],
}

fn combo_form(m: Mood) -> Form {
    Form::for_mood(m.valence, m.arousal, m.tension)
}

fn combo_bridge(f: Form, m: Mood) -> Form {
    f.bridge_for(m.valence, m.tension)
}

fn modal_form(_: Mood) -> Form {
    Form::DorianVamp
}

fn modal_bridge(_: Form, _: Mood) -> Form {
    Form::DorianLift
}

fn montuno_form(_: Mood) -> Form {
    Form::Montuno
}

fn romance_form(_: Mood) -> Form {
    Form::Romance
}

/// Night cab: the ballad until the tension rises, then the dread figure.
fn night_form(m: Mood) -> Form {
    if m.tension >= 0.55 {
        Form::DreadFigure
    } else {
        Form::NightBallad
    }
}

/// The bridge after an A form of its own family (`Form::bridge_for`).
fn paired_bridge(f: Form, m: Mood) -> Form {
    f.bridge_for(m.valence, m.tension)
}

/// Strings that rest: none of the rules fire.
const NO_STRINGS: StringsRules = StringsRules {
    dread_tension: 1.1,
    entry_bars: 0,
    entry_tension: 1.1,
    long_tension: 1.1,
    long_arousal: 0.0,
};
const NO_PERCUSSION: PercRules = PercRules {
    groove: PercGroove::None,
    dynamics: 1.0,
};
const NO_HARP: HarpRules = HarpRules {
    arpeggio: 0.0,
    gliss_sections: false,
    gliss_tension: 1.1,
};
const NO_BRASS: BrassRules = BrassRules {
    stabs: 0.0,
    swell_tension: 1.1,
    shakes: false,
};

/// The small-group noir club: walking bass, brushes and ride, Rhodes or grand, tenor turning
/// to muted trumpet with tension; functional minor harmony coloured by the mood.
pub const COMBO: Style = Style {
    which: StyleId::Combo,
    id: "combo",
    name: "Combo",
    after: "the small-group noir club",
    about: "walking bass, brushes/ride, Rhodes or grand, tenor/trumpet; minor ii-V-i, blues",
    harmony: HarmonyRules {
        a_form: combo_form,
        bridge: combo_bridge,
        colour: true,
        lead_mode: None,
    },
    bass: BassRules {
        feel: BassFeel::Walking,
    },
    drums: DrumRules {
        kit: true,
        ride_arousal: 0.45,
        dynamics: 1.0,
    },
    percussion: NO_PERCUSSION,
    keys: KeysStyle {
        rest: 0.18,
        density: 0.0,
        voice: KeysVoice::Auto,
        piano: PianoKind::Grand,
        comping: Comping::Swing,
    },
    lead: LeadStyle {
        rest: 0.4,
        tension_rest: 0.0,
        density: 0.0,
        window: (8, 12),
        trumpet: None,
        open: false,
    },
    strings: super::STRINGS,
    harp: NO_HARP,
    brass: NO_BRASS,
    stinger: &[
        StingerPart::Crash,
        StingerPart::Kick,
        StingerPart::KeysStab,
        StingerPart::BassHit,
        StingerPart::HornTritone,
    ],
    grain: 0.0,
    room: 1.0,
    tempo: 1.0,
    swing: 1.0,
    mix_db: [0.0; CHANNELS],
};

/// After *Ascenseur pour l'échafaud*: a Dorian vamp held for the whole A section and lifted
/// a half step for the bridge (slow harmonic rhythm), a bass ostinato of root, fifth, octave
/// and seventh, brushes kept low, the piano sparse, a muted trumpet phrasing in long breaths
/// with space between, strings only for dread, and a large, echoing room.
pub const ELEVATOR: Style = Style {
    which: StyleId::Elevator,
    id: "elevator",
    name: "Elevator",
    after: "Miles Davis, Ascenseur pour l'échafaud (1958)",
    about: "modal Dorian vamps, muted trumpet in long breaths, bass ostinato, brushes, sparse piano, big room",
    harmony: HarmonyRules {
        a_form: modal_form,
        bridge: modal_bridge,
        colour: false,
        lead_mode: Some(3),
    },
    bass: BassRules {
        feel: BassFeel::Figure(&[
            BassNote {
                at: 0.0,
                interval: 0,
                vel: 1.0,
                next: false,
            },
            BassNote {
                at: 1.5,
                interval: 7,
                vel: 0.7,
                next: false,
            },
            BassNote {
                at: 2.0,
                interval: 12,
                vel: 0.85,
                next: false,
            },
            BassNote {
                at: 3.0,
                interval: 10,
                vel: 0.75,
                next: false,
            },
        ]),
    },
    drums: DrumRules {
        kit: true,
        ride_arousal: 0.75,
        dynamics: 0.8,
    },
    percussion: NO_PERCUSSION,
    keys: KeysStyle {
        rest: 0.45,
        density: -0.35,
        voice: KeysVoice::Piano,
        piano: PianoKind::Grand,
        comping: Comping::Swing,
    },
    lead: LeadStyle {
        rest: 0.5,
        tension_rest: 0.0,
        density: -0.35,
        window: (8, 8),
        trumpet: Some(1.0),
        open: false,
    },
    strings: StringsRules {
        dread_tension: 0.8,
        entry_bars: 0,
        entry_tension: 1.1,
        long_tension: 0.7,
        long_arousal: 0.3,
    },
    harp: NO_HARP,
    brass: NO_BRASS,
    stinger: &[
        StingerPart::Crash,
        StingerPart::BassHit,
        StingerPart::HornFall,
    ],
    grain: 0.15,
    room: 1.5,
    tempo: 0.9,
    swing: 1.0,
    mix_db: [0.0; CHANNELS],
};

/// After *Touch of Evil*: a montuno vamp (i - iv - V7) with the Andalusian cadence for the
/// bridge; a tumbao bass that anticipates the changes, straight eighths; son clave, bongos,
/// congas, cowbell and timbales over a light kit on the ride; a honky-tonk piano playing a
/// montuno; a sleazy tenor; brass stabs on the off-beats, shakes and falls at the ends of
/// phrases; no strings; loud and close (a small room), a worn print.
pub const BORDER_TOWN: Style = Style {
    which: StyleId::BorderTown,
    id: "border-town",
    name: "Border town",
    after: "Henry Mancini, Touch of Evil (1958)",
    about: "Afro-Cuban groove, brass stabs and shakes, honky-tonk montuno, tumbao bass, sleazy tenor; loud and close",
    harmony: HarmonyRules {
        a_form: montuno_form,
        bridge: paired_bridge,
        colour: true,
        lead_mode: Some(4),
    },
    bass: BassRules {
        feel: BassFeel::Figure(&[
            BassNote {
                at: 0.0,
                interval: 0,
                vel: 0.55,
                next: false,
            },
            BassNote {
                at: 1.5,
                interval: 7,
                vel: 1.0,
                next: false,
            },
            BassNote {
                at: 3.0,
                interval: 0,
                vel: 0.95,
                next: true,
            },
        ]),
    },
    drums: DrumRules {
        kit: true,
        ride_arousal: 0.0,
        dynamics: 0.7,
    },
    percussion: PercRules {
        groove: PercGroove::AfroCuban,
        dynamics: 1.0,
    },
    keys: KeysStyle {
        rest: 0.05,
        density: 0.2,
        voice: KeysVoice::Piano,
        piano: PianoKind::HonkyTonk,
        comping: Comping::Montuno,
    },
    lead: LeadStyle {
        rest: 0.35,
        tension_rest: 0.0,
        density: 0.1,
        window: (8, 12),
        trumpet: Some(0.0),
        open: false,
    },
    strings: NO_STRINGS,
    harp: NO_HARP,
    brass: BrassRules {
        stabs: 0.8,
        swell_tension: 1.1,
        shakes: true,
    },
    stinger: &[
        StingerPart::BrassStab,
        StingerPart::Timbales,
        StingerPart::Kick,
        StingerPart::BassHit,
        StingerPart::Crash,
    ],
    grain: 0.35,
    room: 0.55,
    tempo: 1.15,
    swing: 0.0,
    mix_db: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 0.0],
};

/// After *Chinatown*: slow, romantic minor (two bars a chord) with a Neapolitan lament for
/// the bridge; a lone lyrical trumpet, open, over strings that play under its phrases; harp
/// arpeggios every bar or two and glissandi into each section; the prepared piano's plucks
/// and low clusters; sparse unpitched percussion (guiro, wood block, tam-tam); no kit; long
/// bass roots; a large room.
pub const RESERVOIR: Style = Style {
    which: StyleId::Reservoir,
    id: "reservoir",
    name: "Reservoir",
    after: "Jerry Goldsmith, Chinatown (1974)",
    about: "lone lyrical trumpet over strings, harp arpeggios and glissandi, prepared-piano plucks and clusters, sparse percussion; slow, romantic, dread underneath",
    harmony: HarmonyRules {
        a_form: romance_form,
        bridge: paired_bridge,
        colour: true,
        lead_mode: Some(4),
    },
    bass: BassRules {
        feel: BassFeel::Roots,
    },
    drums: DrumRules {
        kit: false,
        ride_arousal: 2.0,
        dynamics: 0.0,
    },
    percussion: PercRules {
        groove: PercGroove::Sparse,
        dynamics: 0.8,
    },
    keys: KeysStyle {
        rest: 0.35,
        density: -0.3,
        voice: KeysVoice::Piano,
        piano: PianoKind::Prepared,
        comping: Comping::Colours,
    },
    lead: LeadStyle {
        rest: 0.25,
        tension_rest: 0.0,
        density: -0.3,
        window: (12, 14),
        trumpet: Some(1.0),
        open: true,
    },
    strings: StringsRules {
        dread_tension: 0.55,
        entry_bars: 2,
        entry_tension: 0.0,
        long_tension: 0.0,
        long_arousal: 1.1,
    },
    harp: HarpRules {
        arpeggio: 0.6,
        gliss_sections: true,
        gliss_tension: 0.7,
    },
    brass: NO_BRASS,
    stinger: &[
        StingerPart::PreparedCluster,
        StingerPart::HarpGliss,
        StingerPart::TamTam,
        StingerPart::BassHit,
    ],
    grain: 0.2,
    room: 1.35,
    tempo: 0.8,
    swing: 0.3,
    mix_db: [0.0, 0.0, 2.0, -7.0, 0.0, 0.0, 3.0, 0.0, 8.0],
};

/// After *Taxi Driver*: a minor ballad (a chord a bar) for the tenor over lush strings until
/// the tension rises, then the dread figure (two chords a half step apart, bar by bar) with
/// stick-snare snaps and buzz rolls on its changes, low brass swelling into them, harp
/// glissandi and the horn giving way; soft brushes, long bass roots, a dark room.
pub const NIGHT_CAB: Style = Style {
    which: StyleId::NightCab,
    id: "night-cab",
    name: "Night cab",
    after: "Bernard Herrmann, Taxi Driver (1976)",
    about: "tenor ballad over lush strings, then the dread: snare snaps, low brass swells, harp glissandi on a two-chord figure",
    harmony: HarmonyRules {
        a_form: night_form,
        bridge: paired_bridge,
        colour: false,
        lead_mode: None,
    },
    bass: BassRules {
        feel: BassFeel::Roots,
    },
    drums: DrumRules {
        kit: true,
        ride_arousal: 0.95,
        dynamics: 0.6,
    },
    percussion: PercRules {
        groove: PercGroove::DreadSnare,
        dynamics: 1.0,
    },
    keys: KeysStyle {
        rest: 0.55,
        density: -0.3,
        voice: KeysVoice::Piano,
        piano: PianoKind::Grand,
        comping: Comping::Swing,
    },
    lead: LeadStyle {
        rest: 0.2,
        tension_rest: 0.7,
        density: -0.2,
        window: (12, 14),
        trumpet: Some(0.0),
        open: false,
    },
    strings: StringsRules {
        dread_tension: 0.5,
        entry_bars: 2,
        entry_tension: 0.0,
        long_tension: 0.0,
        long_arousal: 1.1,
    },
    harp: HarpRules {
        arpeggio: 0.25,
        gliss_sections: true,
        gliss_tension: 0.55,
    },
    brass: BrassRules {
        stabs: 0.0,
        swell_tension: 0.5,
        shakes: false,
    },
    stinger: &[
        StingerPart::SnareSnap,
        StingerPart::LowBrass,
        StingerPart::HarpGliss,
        StingerPart::BassHit,
    ],
    grain: 0.25,
    room: 1.2,
    tempo: 0.85,
    swing: 0.6,
    mix_db: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 6.0, 0.0],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        for s in StyleId::ALL {
            assert_eq!(s.style().which, s);
            assert_eq!(StyleId::from_id(s.id()), Some(s));
            assert_eq!(StyleId::from_id(&s.id().to_uppercase()), Some(s));
        }
        assert_eq!(StyleId::from_id("border_town"), Some(StyleId::BorderTown));
        assert_eq!(StyleId::from_id("Night cab"), Some(StyleId::NightCab));
        assert_eq!(StyleId::from_id("polka"), None);
        let json = serde_json::to_string(&StyleId::Elevator).unwrap();
        assert_eq!(json, "\"elevator\"");
        let json = serde_json::to_string(&StyleId::BorderTown).unwrap();
        assert_eq!(json, "\"border-town\"");
    }

    #[test]
    fn a_pick_is_auto_or_a_style_and_round_trips_as_text() {
        for p in [StylePick::Auto, StylePick::Fixed(StyleId::NightCab)] {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<StylePick>(&json).unwrap(), p);
        }
        assert_eq!(serde_json::to_string(&StylePick::Auto).unwrap(), "\"auto\"");
        let e = serde_json::from_str::<StylePick>("\"polka\"").unwrap_err();
        assert!(e.to_string().contains("border-town"), "{e}");
    }

    #[test]
    fn auto_plays_each_style_at_its_own_mood() {
        for (s, m) in AUTO_STYLE {
            for current in StyleId::ALL {
                assert_eq!(auto_style(m, current), s, "{s:?} from {current:?}");
            }
        }
    }

    #[test]
    fn auto_keeps_the_playing_style_near_a_border() {
        // Halfway between the combo's and Night cab's points: whichever plays keeps playing.
        let (a, b) = (AUTO_STYLE[0].1, AUTO_STYLE[4].1);
        let mid = a.lerp(b, 0.5);
        assert_eq!(auto_style(mid, StyleId::Combo), StyleId::Combo);
        assert_eq!(auto_style(mid, StyleId::NightCab), StyleId::NightCab);
        // Far past it, it moves.
        assert_eq!(
            auto_style(a.lerp(b, 0.9), StyleId::Combo),
            StyleId::NightCab
        );
    }

    #[test]
    fn auto_survives_a_nonsense_mood() {
        let m = Mood {
            valence: f32::NAN,
            arousal: f32::INFINITY,
            tension: -3.0,
        };
        let s = auto_style(m, StyleId::Elevator);
        assert!(StyleId::ALL.contains(&s));
    }

    #[test]
    fn every_style_has_a_stinger_and_a_sane_table() {
        for s in StyleId::ALL {
            let st = s.style();
            assert!(!st.stinger.is_empty(), "{s:?}");
            assert!((0.0..=1.0).contains(&st.grain), "{s:?}");
            assert!(st.room > 0.0 && st.tempo > 0.5 && st.tempo < 1.5, "{s:?}");
            assert!(st.lead.window.0 <= 16 && st.lead.window.1 <= 16, "{s:?}");
        }
        // The combo is the band as it always played: clean.
        assert_eq!(COMBO.grain, 0.0);
    }
}
