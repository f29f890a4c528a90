//! A screenplay scene's light and mood: the documented table (`ScriptTable::DEFAULT`, data
//! only) and the analysis that reads a scene through it. Main thread (CLI, editor file load).
//!
//! How a scene is read, in order:
//! 1. **The heading** gives the base light: time of day (`TIMES`) and interior/exterior
//!    (`PLACES`). Noir's conventions for them are low-key lighting at night, hard single
//!    sources, practicals and moonlight (Place & Peterson, "Some Visual Motifs of Film Noir",
//!    Film Comment 10(1), 1974; John Alton, "Painting with Light", 1949); daylight is about
//!    5600 K, tungsten practicals 2700-3200 K, moonlight is shot cool/blue, dawn and dusk are
//!    low, warm and soft.
//! 2. **Keywords** in the action lines (`KEYWORDS`, matched on whole words, case-insensitive)
//!    shift the light (intensity, contrast, flicker, colour temperature, palette colours) and
//!    the mood. The light shifts follow the same lighting conventions (rain and neon are
//!    reflections and buzz; smoke and fog diffuse; blinds and shadows are chiaroscuro); the
//!    direction of each mood shift follows published affective norms of English words (ANEW,
//!    Bradley & Lang 1999; Warriner, Kuperman & Brysbaert 2013: "gun", "blood", "murder" are
//!    low in valence and high in arousal, "kiss", "dawn", "laugh" high in valence). The
//!    magnitudes are ours, tuned by ear; none of those norms is shipped.
//! 3. **The look's mood** is the light → mood table every other source uses
//!    (`MappingTable::DEFAULT`: Valdez & Mehrabian 1994 and the rest, see `light/mapping.rs`),
//!    and the keyword shifts are added to it.
//! 4. **Pace** (`Pace`): short action sentences read fast, long ones slow (arousal); a talky
//!    scene (a high dialogue share) leaves space, so it is calmer; exclamation marks raise
//!    arousal and tension. Tempo and density are the main arousal cues in music (Gabrielsson &
//!    Lindström 2010; Juslin & Laukka 2004), so pace goes to arousal.
//! 5. **Sentiment**: the VADER lexicon and rules (Hutto & Gilbert, ICWSM 2014; MIT licence,
//!    shipped in the `vader_sentiment` crate) scores the scene's sentences; their mean compound
//!    score nudges valence. (The NRC lexicons forbid commercial use and are not used.)

use super::fountain::{Place, Scene};
use crate::light::mapping::{LightLook, MappingTable};
use crate::light::Palette;
use crate::mood::Mood;

/// A change to the light.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LookShift {
    /// Added to intensity (0..1).
    pub intensity: f32,
    /// Added to contrast (0..1).
    pub contrast: f32,
    /// Added to flicker (0..1).
    pub flicker: f32,
    /// Added to the colour temperature, kelvin (negative is warmer).
    pub cct_k: f32,
}

impl LookShift {
    /// No change.
    pub const NONE: LookShift = LookShift {
        intensity: 0.0,
        contrast: 0.0,
        flicker: 0.0,
        cct_k: 0.0,
    };
}

/// A change to the mood.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MoodShift {
    /// Added to valence.
    pub valence: f32,
    /// Added to arousal.
    pub arousal: f32,
    /// Added to tension.
    pub tension: f32,
}

/// The base light of a time of day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeOfDay {
    /// Words of the heading's time part that select it.
    pub words: &'static [&'static str],
    /// Intensity 0..1.
    pub intensity: f32,
    /// Colour temperature, kelvin.
    pub cct_k: f32,
    /// Contrast 0..1.
    pub contrast: f32,
    /// Key colour (0..1 each) outside; inside the practicals are white at `cct_k`.
    pub exterior_rgb: [f32; 3],
}

/// How interior/exterior changes the base light.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlaceShift {
    /// Which place.
    pub place: Place,
    /// The shift.
    pub look: LookShift,
    /// Whether the exterior key colour (moonlight, dawn sky) applies.
    pub exterior_colour: bool,
}

/// One keyword rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Keyword {
    /// The words (lower case, whole words; a trailing `*` matches any ending).
    pub words: &'static [&'static str],
    /// What it does to the light.
    pub look: LookShift,
    /// What it does to the mood.
    pub mood: MoodShift,
    /// A colour it adds to the scene's palette (r, g, b), if any.
    pub colour: Option<[f32; 3]>,
}

/// Pace constants (see the module docs, step 4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pace {
    /// Action sentence length (words) that counts as neutral.
    pub neutral_words: f32,
    /// Words away from neutral for the full effect.
    pub span_words: f32,
    /// Arousal at the full effect (short sentences add, long ones take away).
    pub sentence_arousal: f32,
    /// Dialogue share (of all words) that counts as neutral.
    pub neutral_dialogue: f32,
    /// Arousal per unit of dialogue share above neutral (negative: talk is calmer).
    pub dialogue_arousal: f32,
    /// Arousal at one exclamation mark per sentence (or more).
    pub exclaim_arousal: f32,
    /// Tension at one exclamation mark per sentence (or more).
    pub exclaim_tension: f32,
    /// Valence per unit of mean VADER compound score (-1..1).
    pub sentiment_valence: f32,
    /// A keyword's extra weight per repeat (the first mention counts 1).
    pub repeat_weight: f32,
    /// Most repeats that count.
    pub max_repeats: u32,
    /// The largest total change keywords make to intensity, contrast and flicker (each
    /// compressed like `ScriptTable::max_shift`): the light moves the mood again through
    /// the light table, so its share stays modest.
    pub max_look_shift: f32,
}

/// All constants of screenplay → light and mood in one place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScriptTable {
    /// Times of day (the first whose word appears in the heading's time part wins).
    pub times: &'static [TimeOfDay],
    /// The light when the heading names no known time.
    pub default_time: TimeOfDay,
    /// Interior/exterior shifts.
    pub places: &'static [PlaceShift],
    /// Keywords of the action lines.
    pub keywords: &'static [Keyword],
    /// Pace.
    pub pace: Pace,
    /// Heading time words that continue the previous scene's time of day.
    pub continuing: &'static [&'static str],
    /// The largest total shift keywords, pace and sentiment make per axis: the sum `s` is
    /// compressed to `max * tanh(s / max)`, so a scene full of keywords leans hard but does
    /// not pin every axis to its end.
    pub max_shift: MoodShift,
}

const fn ls(intensity: f32, contrast: f32, flicker: f32, cct_k: f32) -> LookShift {
    LookShift {
        intensity,
        contrast,
        flicker,
        cct_k,
    }
}

const fn ms(valence: f32, arousal: f32, tension: f32) -> MoodShift {
    MoodShift {
        valence,
        arousal,
        tension,
    }
}

const fn kw(
    words: &'static [&'static str],
    look: LookShift,
    mood: MoodShift,
    colour: Option<[f32; 3]>,
) -> Keyword {
    Keyword {
        words,
        look,
        mood,
        colour,
    }
}

/// Times of day: (words, intensity, cct, contrast, exterior key colour).
pub const TIMES: [TimeOfDay; 8] = [
    TimeOfDay {
        words: &["NIGHT", "MIDNIGHT", "LATE NIGHT"],
        intensity: 0.3,
        cct_k: 3200.0,
        contrast: 0.6,
        exterior_rgb: [0.55, 0.65, 1.0],
    },
    TimeOfDay {
        words: &["DAWN", "SUNRISE", "FIRST LIGHT"],
        intensity: 0.55,
        cct_k: 3000.0,
        contrast: 0.3,
        exterior_rgb: [1.0, 0.78, 0.7],
    },
    TimeOfDay {
        words: &["DUSK", "SUNSET", "MAGIC HOUR", "TWILIGHT"],
        intensity: 0.42,
        cct_k: 2700.0,
        contrast: 0.5,
        exterior_rgb: [1.0, 0.62, 0.45],
    },
    TimeOfDay {
        words: &["EVENING"],
        intensity: 0.38,
        cct_k: 3000.0,
        contrast: 0.6,
        exterior_rgb: [0.75, 0.7, 0.95],
    },
    TimeOfDay {
        words: &["MORNING"],
        intensity: 0.75,
        cct_k: 4800.0,
        contrast: 0.3,
        exterior_rgb: [1.0, 0.97, 0.9],
    },
    TimeOfDay {
        words: &["AFTERNOON", "NOON"],
        intensity: 0.85,
        cct_k: 5600.0,
        contrast: 0.4,
        exterior_rgb: [1.0, 1.0, 0.97],
    },
    TimeOfDay {
        words: &["DAY", "DAYTIME"],
        intensity: 0.85,
        cct_k: 5600.0,
        contrast: 0.35,
        exterior_rgb: [1.0, 1.0, 1.0],
    },
    TimeOfDay {
        words: &["PREDAWN", "SMALL HOURS"],
        intensity: 0.25,
        cct_k: 6500.0,
        contrast: 0.6,
        exterior_rgb: [0.6, 0.7, 0.95],
    },
];

/// Interior/exterior: inside, the practicals are warmer and a little brighter at night;
/// outside the sky's colour keys the scene.
pub const PLACES: [PlaceShift; 5] = [
    PlaceShift {
        place: Place::Interior,
        look: ls(0.05, 0.0, 0.0, -200.0),
        exterior_colour: false,
    },
    PlaceShift {
        place: Place::Exterior,
        look: ls(0.0, 0.05, 0.0, 0.0),
        exterior_colour: true,
    },
    PlaceShift {
        place: Place::Establishing,
        look: ls(0.0, 0.0, 0.0, 0.0),
        exterior_colour: true,
    },
    PlaceShift {
        place: Place::Both,
        look: ls(0.0, 0.05, 0.05, 0.0),
        exterior_colour: true,
    },
    PlaceShift {
        place: Place::Unknown,
        look: LookShift::NONE,
        exterior_colour: false,
    },
];

/// The keyword table: (words; light: intensity, contrast, flicker, kelvin; mood: valence,
/// arousal, tension; palette colour).
pub const KEYWORDS: [Keyword; 24] = [
    kw(
        &["night", "midnight", "dark", "darkness", "pitch-black"],
        ls(-0.08, 0.08, 0.0, 0.0),
        ms(-0.05, 0.0, 0.06),
        None,
    ),
    kw(
        &[
            "rain*", "drizzle", "downpour", "storm*", "wet", "puddle*", "drench*",
        ],
        ls(-0.04, 0.05, 0.1, 400.0),
        ms(-0.12, 0.0, 0.06),
        Some([0.35, 0.45, 0.6]),
    ),
    kw(
        &["neon", "sign", "flickering", "flicker*", "buzz*"],
        ls(0.0, 0.05, 0.25, 0.0),
        ms(0.0, 0.1, 0.06),
        Some([0.95, 0.15, 0.55]),
    ),
    kw(
        &["shadow*", "silhouette*", "blinds", "venetian", "slats"],
        ls(-0.05, 0.2, 0.0, 0.0),
        ms(-0.05, 0.0, 0.12),
        None,
    ),
    kw(
        &[
            "smoke*",
            "cigarette*",
            "fog*",
            "mist*",
            "haze",
            "hazy",
            "steam*",
        ],
        ls(-0.04, -0.12, 0.0, 0.0),
        ms(-0.04, -0.06, 0.02),
        Some([0.55, 0.55, 0.58]),
    ),
    kw(
        &[
            "gun*",
            "pistol*",
            "revolver*",
            "rifle*",
            "trigger",
            "bullet*",
            "gunshot*",
        ],
        ls(0.0, 0.1, 0.0, 0.0),
        ms(-0.15, 0.2, 0.3),
        None,
    ),
    kw(
        &[
            "blood*", "bleed*", "wound*", "corpse*", "murder*", "kill*", "dead", "body",
        ],
        ls(-0.03, 0.08, 0.0, 0.0),
        ms(-0.3, 0.1, 0.25),
        Some([0.55, 0.03, 0.05]),
    ),
    kw(
        &["kiss*", "embrace*", "caress*", "tender*", "love*"],
        ls(0.04, -0.1, 0.0, -500.0),
        ms(0.3, -0.05, -0.15),
        Some([0.95, 0.65, 0.45]),
    ),
    kw(
        &["dawn", "sunrise", "daybreak"],
        ls(0.08, -0.05, 0.0, -300.0),
        ms(0.2, 0.0, -0.1),
        Some([1.0, 0.75, 0.6]),
    ),
    kw(
        &["lightning", "thunder*", "flash*", "strobe*"],
        ls(0.0, 0.1, 0.35, 600.0),
        ms(-0.05, 0.15, 0.15),
        None,
    ),
    kw(
        &["candle*", "fire", "fireplace", "lamp*", "lantern*", "match"],
        ls(0.0, 0.05, 0.08, -700.0),
        ms(0.06, -0.03, 0.0),
        Some([1.0, 0.6, 0.25]),
    ),
    kw(
        &["siren*", "police", "cop*", "squad"],
        ls(0.0, 0.05, 0.2, 0.0),
        ms(-0.05, 0.15, 0.12),
        Some([0.15, 0.25, 0.95]),
    ),
    kw(
        &[
            "run*", "ran", "chase*", "sprint*", "race*", "races", "crash*", "flee*",
        ],
        ls(0.0, 0.0, 0.05, 0.0),
        ms(-0.02, 0.3, 0.12),
        None,
    ),
    kw(
        &["scream*", "shout*", "yell*", "slam*", "smash*"],
        ls(0.0, 0.05, 0.0, 0.0),
        ms(-0.1, 0.2, 0.15),
        None,
    ),
    kw(
        &["laugh*", "smile*", "grin*", "sunlight", "sunshine", "warm*"],
        ls(0.05, -0.05, 0.0, -300.0),
        ms(0.22, 0.05, -0.1),
        None,
    ),
    kw(
        &[
            "whisper*", "quiet*", "silence", "silent", "still", "waits", "wait",
        ],
        ls(0.0, 0.0, 0.0, 0.0),
        ms(0.0, -0.15, 0.04),
        None,
    ),
    kw(
        &[
            "cry", "cries", "crying", "tears", "weep*", "grave", "funeral", "alone",
        ],
        ls(-0.03, 0.0, 0.0, 0.0),
        ms(-0.25, -0.1, 0.0),
        None,
    ),
    kw(
        &[
            "jazz",
            "piano",
            "saxophone",
            "sax",
            "trumpet",
            "club",
            "bar",
            "bourbon",
            "whiskey",
        ],
        ls(0.0, 0.0, 0.0, -300.0),
        ms(0.05, 0.05, 0.0),
        Some([0.85, 0.55, 0.2]),
    ),
    kw(
        &["alley*", "docks", "warehouse*", "rooftop*", "gutter*"],
        ls(-0.04, 0.1, 0.0, 0.0),
        ms(-0.05, 0.0, 0.08),
        None,
    ),
    kw(
        &["kitchen", "breakfast", "coffee", "home", "bed", "curtains"],
        ls(0.04, -0.05, 0.0, -200.0),
        ms(0.12, -0.05, -0.08),
        None,
    ),
    kw(
        &[
            "fluorescent",
            "interrogation",
            "precinct",
            "hospital",
            "cell",
            "morgue",
        ],
        ls(0.05, 0.05, 0.05, 1200.0),
        ms(-0.1, 0.05, 0.12),
        Some([0.8, 0.9, 0.85]),
    ),
    kw(
        &["fear*", "afraid", "threat*", "danger*", "trap*", "menace*"],
        ls(-0.03, 0.05, 0.0, 0.0),
        ms(-0.12, 0.1, 0.2),
        None,
    ),
    kw(
        &[
            "moon*",
            "moonlight",
            "streetlight*",
            "streetlamp*",
            "headlight*",
        ],
        ls(0.0, 0.1, 0.0, 500.0),
        ms(0.0, 0.0, 0.04),
        Some([0.6, 0.7, 0.95]),
    ),
    kw(
        &["hope*", "free", "safe", "peace*", "forgive*"],
        ls(0.03, -0.05, 0.0, -200.0),
        ms(0.2, -0.03, -0.12),
        None,
    ),
];

impl ScriptTable {
    /// The shipped table.
    pub const DEFAULT: ScriptTable = ScriptTable {
        times: &TIMES,
        default_time: TimeOfDay {
            words: &[],
            intensity: 0.6,
            cct_k: 4500.0,
            contrast: 0.35,
            exterior_rgb: [1.0, 1.0, 1.0],
        },
        places: &PLACES,
        keywords: &KEYWORDS,
        pace: Pace {
            neutral_words: 11.0,
            span_words: 7.0,
            sentence_arousal: 0.2,
            neutral_dialogue: 0.4,
            dialogue_arousal: -0.25,
            exclaim_arousal: 0.25,
            exclaim_tension: 0.1,
            sentiment_valence: 0.25,
            repeat_weight: 0.25,
            max_repeats: 3,
            max_look_shift: 0.2,
        },
        continuing: &["CONTINUOUS", "LATER", "MOMENTS LATER", "SAME", "SAME TIME"],
        max_shift: MoodShift {
            valence: 0.4,
            arousal: 0.3,
            tension: 0.25,
        },
    };
}

/// What the table made of one scene.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneReading {
    /// The light look.
    pub look: LightLook,
    /// The mood.
    pub mood: Mood,
    /// The time of day used (its first word), or "" when none was known.
    pub time: &'static str,
    /// Keywords found, with counts.
    pub keywords: Vec<(&'static str, u32)>,
    /// Mean words per action sentence.
    pub sentence_words: f32,
    /// Share of the scene's words that are dialogue, 0..1.
    pub dialogue_share: f32,
    /// Exclamation marks per sentence.
    pub exclaims: f32,
    /// Mean VADER compound score of the sentences, -1..1.
    pub sentiment: f32,
}

fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split(['.', '!', '?', '\n'])
        .map(str::trim)
        .filter(|s| s.split_whitespace().next().is_some())
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches('\'').to_lowercase())
}

fn matches(pattern: &str, word: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) => word.starts_with(stem),
        None => pattern == word,
    }
}

/// Reads scenes through the table; keeps the time of day across `CONTINUOUS` headings.
pub struct SceneReader<'a> {
    /// The table.
    table: &'a ScriptTable,
    /// The light → mood table.
    mapping: MappingTable,
    /// VADER.
    vader: vader_sentiment::SentimentIntensityAnalyzer<'static>,
    /// The previous scene's time of day.
    last_time: Option<TimeOfDay>,
}

impl<'a> SceneReader<'a> {
    /// A reader over `table`.
    pub fn new(table: &'a ScriptTable) -> Self {
        Self {
            table,
            mapping: MappingTable::DEFAULT,
            vader: vader_sentiment::SentimentIntensityAnalyzer::new(),
            last_time: None,
        }
    }

    fn time_of_day(&mut self, scene: &Scene) -> (TimeOfDay, &'static str) {
        let t = &scene.time_of_day;
        let has = |w: &str| {
            t.split(|c: char| !c.is_alphanumeric())
                .collect::<Vec<_>>()
                .join(" ")
                .contains(w)
        };
        for tod in self.table.times {
            if tod.words.iter().any(|w| has(w)) {
                self.last_time = Some(*tod);
                return (*tod, tod.words[0]);
            }
        }
        if self.table.continuing.iter().any(|w| has(w)) {
            if let Some(prev) = self.last_time {
                return (prev, prev.words.first().copied().unwrap_or(""));
            }
        }
        (self.table.default_time, "")
    }

    /// Reads one scene.
    pub fn read(&mut self, scene: &Scene) -> SceneReading {
        let (tod, time) = self.time_of_day(scene);
        let place = self
            .table
            .places
            .iter()
            .find(|p| p.place == scene.place)
            .copied()
            .unwrap_or(PlaceShift {
                place: scene.place,
                look: LookShift::NONE,
                exterior_colour: false,
            });
        let mut look = LightLook {
            intensity: tod.intensity + place.look.intensity,
            rgb: if place.exterior_colour {
                tod.exterior_rgb
            } else {
                [1.0, 1.0, 1.0]
            },
            cct_k: tod.cct_k + place.look.cct_k,
            contrast: tod.contrast + place.look.contrast,
            flicker: place.look.flicker,
            palette: Palette::EMPTY,
        };
        // Keywords: the action lines (and the heading's location) are what the camera sees.
        let mut seen = scene.location.clone();
        for a in &scene.action {
            seen.push('\n');
            seen.push_str(a);
        }
        let mut counts = vec![0u32; self.table.keywords.len()];
        for w in words(&seen) {
            for (k, rule) in self.table.keywords.iter().enumerate() {
                if rule.words.iter().any(|p| matches(p, &w)) {
                    counts[k] += 1;
                }
            }
        }
        let pace = self.table.pace;
        let mut shift = ms(0.0, 0.0, 0.0);
        let mut colours: Vec<[f32; 4]> = Vec::new();
        let mut found = Vec::new();
        let mut dl = LookShift::NONE;
        for (rule, &n) in self.table.keywords.iter().zip(&counts) {
            if n == 0 {
                continue;
            }
            found.push((rule.words[0].trim_end_matches('*'), n));
            let w = 1.0 + pace.repeat_weight * (n.min(pace.max_repeats) - 1) as f32;
            dl.intensity += w * rule.look.intensity;
            dl.contrast += w * rule.look.contrast;
            dl.flicker += w * rule.look.flicker;
            dl.cct_k += w * rule.look.cct_k;
            shift.valence += w * rule.mood.valence;
            shift.arousal += w * rule.mood.arousal;
            shift.tension += w * rule.mood.tension;
            if let Some(c) = rule.colour {
                colours.push([c[0], c[1], c[2], w.min(1.0)]);
            }
        }
        let ml = pace.max_look_shift;
        let squash_l = |s: f32| ml * (s / ml).tanh();
        look.intensity += squash_l(dl.intensity);
        look.contrast += squash_l(dl.contrast);
        look.flicker += squash_l(dl.flicker);
        look.cct_k += 1500.0 * (dl.cct_k / 1500.0).tanh();
        look.intensity = look.intensity.clamp(0.02, 1.0);
        look.contrast = look.contrast.clamp(0.0, 1.0);
        look.flicker = look.flicker.clamp(0.0, 1.0);
        look.cct_k = look.cct_k.clamp(1800.0, 12000.0);
        // The palette: the key light first, then the keyword colours, at most 16.
        if !colours.is_empty() {
            let key = look.rgb.map(|c| c * look.intensity.max(0.15));
            colours.insert(0, [key[0], key[1], key[2], 1.0]);
            colours.truncate(crate::light::event::MAX_PALETTE);
            look.palette = Palette::from_quads(&colours);
        }
        // Pace.
        let action_text = scene.action.join("\n");
        let sents: Vec<&str> = sentences(&action_text).collect();
        let action_words: usize = sents.iter().map(|s| s.split_whitespace().count()).sum();
        let sentence_words = if sents.is_empty() {
            pace.neutral_words
        } else {
            action_words as f32 / sents.len() as f32
        };
        let dialogue_words: usize = scene
            .dialogue
            .iter()
            .map(|(_, t)| t.split_whitespace().count())
            .sum();
        let all_words = action_words + dialogue_words;
        let dialogue_share = if all_words == 0 {
            0.0
        } else {
            dialogue_words as f32 / all_words as f32
        };
        let mut all_text = action_text.clone();
        for (_, t) in &scene.dialogue {
            all_text.push('\n');
            all_text.push_str(t);
        }
        let n_sent = sentences(&all_text).count().max(1);
        let exclaims = all_text.matches('!').count() as f32 / n_sent as f32;
        let mut compound = 0.0f64;
        let mut n = 0usize;
        for s in sentences(&all_text) {
            compound += self
                .vader
                .polarity_scores(s)
                .get("compound")
                .copied()
                .unwrap_or(0.0);
            n += 1;
        }
        let sentiment = if n == 0 {
            0.0
        } else {
            (compound / n as f64) as f32
        };
        let fast = ((pace.neutral_words - sentence_words) / pace.span_words).clamp(-1.0, 1.0);
        shift.arousal += pace.sentence_arousal * fast;
        shift.arousal += pace.dialogue_arousal * (dialogue_share - pace.neutral_dialogue);
        let ex = exclaims.min(1.0);
        shift.arousal += pace.exclaim_arousal * ex;
        shift.tension += pace.exclaim_tension * ex;
        shift.valence += pace.sentiment_valence * sentiment;
        let base = self.mapping.mood(&look, 0.0);
        let lim = self.table.max_shift;
        let squash = |s: f32, max: f32| if max > 0.0 { max * (s / max).tanh() } else { s };
        let mood = Mood {
            valence: base.valence + squash(shift.valence, lim.valence),
            arousal: base.arousal + squash(shift.arousal, lim.arousal),
            tension: base.tension + squash(shift.tension, lim.tension),
        }
        .sanitized();
        SceneReading {
            look,
            mood,
            time,
            keywords: found,
            sentence_words,
            dialogue_share,
            exclaims,
            sentiment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::film::fountain::parse;

    fn read(src: &str) -> SceneReading {
        let s = parse(src).unwrap();
        SceneReader::new(&ScriptTable::DEFAULT).read(&s.scenes[0])
    }

    #[test]
    fn a_night_rain_alley_is_darker_tenser_and_sadder_than_a_dawn_kitchen() {
        let alley = read(
            "EXT. ALLEY - NIGHT\n\nRain falls in the dark alley. Neon buzzes. Shadows move. \
             A gun glints.\n",
        );
        let kitchen = read(
            "INT. KITCHEN - DAWN\n\nSunrise through the curtains. Coffee on the stove. \
             She smiles.\n",
        );
        assert!(
            alley.look.intensity < kitchen.look.intensity - 0.2,
            "{alley:?}\n{kitchen:?}"
        );
        assert!(alley.mood.tension > kitchen.mood.tension + 0.2);
        assert!(alley.mood.valence < kitchen.mood.valence - 0.3);
        assert!(alley.look.contrast > kitchen.look.contrast);
        assert!(
            alley.look.flicker > kitchen.look.flicker,
            "rain and neon flicker"
        );
        assert!(alley.look.palette.len >= 2, "rain and neon colours");
        assert_eq!(alley.time, "NIGHT");
        assert_eq!(kitchen.time, "DAWN");
        let found: Vec<&str> = alley.keywords.iter().map(|k| k.0).collect();
        for k in ["night", "rain", "neon", "shadow", "gun", "alley"] {
            assert!(found.contains(&k), "{k} not in {found:?}");
        }
    }

    #[test]
    fn keywords_move_the_mood_their_way() {
        let base = read("INT. ROOM - DAY\n\nA man sits at a table.\n");
        let gun = read("INT. ROOM - DAY\n\nA man sits at a table with a gun.\n");
        let kiss = read("INT. ROOM - DAY\n\nA man sits at a table. A kiss.\n");
        assert!(gun.mood.tension > base.mood.tension + 0.2);
        assert!(gun.mood.valence < base.mood.valence);
        assert!(kiss.mood.valence > base.mood.valence + 0.2);
        assert!(kiss.look.cct_k < base.look.cct_k, "a kiss is lit warmer");
        // Notes do not count.
        let note = read("INT. ROOM - DAY\n\nA man sits at a table. [[gun gun gun]]\n");
        assert_eq!(note.mood, base.mood);
    }

    #[test]
    fn pace_reads_sentences_dialogue_and_exclamations() {
        let slow = read(
            "INT. ROOM - NIGHT\n\nThe man sits for a long while at the old table by the \
             window, thinking about the years that went by and the people he once knew.\n",
        );
        let fast = read("INT. ROOM - NIGHT\n\nHe stands. Turns. Listens. Nothing. Then a knock.\n");
        assert!(
            fast.mood.arousal > slow.mood.arousal + 0.1,
            "{fast:?} {slow:?}"
        );
        let shouting = read("INT. ROOM - NIGHT\n\nHe stands. Turns!\n\nJOE\nGet out! Now!\n");
        assert!(shouting.exclaims > 0.5);
        assert!(shouting.mood.arousal > fast.mood.arousal);
        let talky = read(
            "INT. ROOM - NIGHT\n\nHe stands. Turns.\n\nJOE\nI have been thinking about \
             what you said the other night, about the city and about us and what we owe.\n\n\
             ANN\nI meant every word of it, and I would say it again tonight if you asked.\n",
        );
        assert!(talky.dialogue_share > 0.8);
        assert!(talky.mood.arousal < fast.mood.arousal, "talk leaves space");
    }

    #[test]
    fn sentiment_comes_from_vader() {
        let happy = read("INT. ROOM - DAY\n\nWhat a wonderful, beautiful, happy morning.\n");
        let grim = read("INT. ROOM - DAY\n\nA horrible, miserable, hateful morning.\n");
        assert!(
            happy.sentiment > 0.5 && grim.sentiment < -0.5,
            "{happy:?} {grim:?}"
        );
        assert!(happy.mood.valence > grim.mood.valence + 0.2);
    }

    #[test]
    fn continuous_keeps_the_time_of_day() {
        let s = parse("EXT. STREET - NIGHT\n\nDark.\n\nINT. BAR - CONTINUOUS\n\nA bar.\n").unwrap();
        let mut r = SceneReader::new(&ScriptTable::DEFAULT);
        r.read(&s.scenes[0]);
        assert_eq!(r.read(&s.scenes[1]).time, "NIGHT");
    }
}
