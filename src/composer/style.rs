//! Score styles as data: the harmony's forms, each player's groove, density and space, the
//! strings' orchestration, the horn and the room. A style is one table (`COMBO`, `ELEVATOR`);
//! the players read `self.style`, so another style is another table, not new branches. Constant
//! data read by the `Composer` and the engine on the audio thread; nothing allocates.

use super::harmony::Form;
use super::keys::KeysVoice;
use super::strings::StringsRules;
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
}

impl StyleId {
    /// Every style, in id order.
    pub const ALL: [StyleId; 2] = [StyleId::Combo, StyleId::Elevator];

    /// The style's rules.
    pub fn style(self) -> &'static Style {
        match self {
            StyleId::Combo => &COMBO,
            StyleId::Elevator => &ELEVATOR,
        }
    }

    /// The stable id (`combo`, `elevator`), as presets and the CLI spell it.
    pub fn id(self) -> &'static str {
        self.style().id
    }

    /// The style for an id (case-insensitive), if there is one.
    pub fn from_id(id: &str) -> Option<StyleId> {
        StyleId::ALL
            .into_iter()
            .find(|s| s.id().eq_ignore_ascii_case(id.trim()))
    }
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
    /// key's tonic; `None`: the mood picks it (Wallis et al.).
    pub lead_mode: Option<usize>,
}

/// The bass player.
#[derive(Clone, Copy, Debug)]
pub struct BassRules {
    /// A one-bar ostinato (start beat in the bar, semitones above the chord's root, velocity
    /// scale); x.5 starts are swung. Empty: the walking line.
    pub ostinato: &'static [(f64, i32, f32)],
}

/// The drummer.
#[derive(Clone, Copy, Debug)]
pub struct DrumRules {
    /// Arousal at or above which the ride carries the time (below it, brushes).
    pub ride_arousal: f32,
    /// Scales every stroke's dynamics.
    pub dynamics: f32,
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
}

/// The horn.
#[derive(Clone, Copy, Debug)]
pub struct LeadStyle {
    /// Chance a phrase rests, at zero arousal and tension.
    pub rest: f32,
    /// Added to the arousal that picks sparse, medium or busy lines.
    pub density: f32,
    /// Beats of each 16-beat phrase the horn may play: (usually, when the band is hot).
    pub window: (u64, u64),
    /// Fixed character 0 (breathy tenor) .. 1 (muted trumpet); `None`: the mood decides.
    pub trumpet: Option<f32>,
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
    /// Drummer.
    pub drums: DrumRules,
    /// Keys player.
    pub keys: KeysStyle,
    /// Horn.
    pub lead: LeadStyle,
    /// When the strings play.
    pub strings: StringsRules,
    /// Scales the room's send (the Reverb setting).
    pub room: f32,
    /// Scales the mood's tempo (when the mood sets the tempo).
    pub tempo: f64,
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
    bass: BassRules { ostinato: &[] },
    drums: DrumRules {
        ride_arousal: 0.45,
        dynamics: 1.0,
    },
    keys: KeysStyle {
        rest: 0.18,
        density: 0.0,
        voice: KeysVoice::Auto,
    },
    lead: LeadStyle {
        rest: 0.4,
        density: 0.0,
        window: (8, 12),
        trumpet: None,
    },
    strings: super::STRINGS,
    room: 1.0,
    tempo: 1.0,
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
        ostinato: &[(0.0, 0, 1.0), (1.5, 7, 0.7), (2.0, 12, 0.85), (3.0, 10, 0.75)],
    },
    drums: DrumRules {
        ride_arousal: 0.75,
        dynamics: 0.8,
    },
    keys: KeysStyle {
        rest: 0.45,
        density: -0.35,
        voice: KeysVoice::Piano,
    },
    lead: LeadStyle {
        rest: 0.5,
        density: -0.35,
        window: (8, 8),
        trumpet: Some(1.0),
    },
    strings: StringsRules {
        dread_tension: 0.8,
        entry_bars: 0,
        entry_tension: 1.1,
        long_tension: 0.7,
        long_arousal: 0.3,
    },
    room: 1.5,
    tempo: 0.9,
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
        assert_eq!(StyleId::from_id("polka"), None);
        let json = serde_json::to_string(&StyleId::Elevator).unwrap();
        assert_eq!(json, "\"elevator\"");
    }
}
