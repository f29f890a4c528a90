//! A Fountain screenplay as scenes: parsed by the `rustwell` crate (scene headings INT./EXT./
//! EST./I/E and forced `.`, scene numbers `#1#`, action, dialogue, transitions, page breaks
//! `===`, the title page; notes `[[ ]]` and boneyard `/* */` removed), then grouped into scenes
//! with their text and their length on the printed page. `rustwell` drops `#` sections, so
//! they are read here from the source lines. Main thread (CLI, editor file load).
//!
//! Page length follows the standard screenplay layout (12 pt Courier, 10 characters an inch,
//! 55 lines a page): action 60 characters wide, dialogue 35, parentheticals 25, character
//! cues, headings and transitions one line each, one blank line after every element. A scene
//! is counted in eighths of a page (at least one), the industry's unit for scheduling.

use rustwell::screenplay::{Dialogue, DialogueElement, Element};

/// Printed lines on a screenplay page.
pub const LINES_PER_PAGE: u32 = 55;
/// Characters a line of action holds.
pub const ACTION_WIDTH: usize = 60;
/// Characters a line of dialogue holds.
pub const DIALOGUE_WIDTH: usize = 35;
/// Characters a line of a parenthetical holds.
pub const PAREN_WIDTH: usize = 25;

/// Interior, exterior or both, from the heading's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// `INT.`
    Interior,
    /// `EXT.`
    Exterior,
    /// `I/E.`, `INT./EXT.`, `INT/EXT`
    Both,
    /// `EST.` (an establishing shot, outside)
    Establishing,
    /// A forced heading (`.HEADING`) or an unknown prefix.
    Unknown,
}

/// One scene of a screenplay.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// The heading as written (without the scene number), e.g. "EXT. ALLEY - NIGHT".
    pub heading: String,
    /// The scene number (`#12A#`), if written.
    pub number: Option<String>,
    /// The innermost `#` section the scene lies in, if any.
    pub section: Option<String>,
    /// Interior or exterior.
    pub place: Place,
    /// The location part of the heading ("ALLEY").
    pub location: String,
    /// The time of day part of the heading, upper case ("NIGHT"), or empty.
    pub time_of_day: String,
    /// Action paragraphs (plain text, emphasis removed).
    pub action: Vec<String>,
    /// Dialogue: (character, spoken text) per speech.
    pub dialogue: Vec<(String, String)>,
    /// The transition that ends the scene ("DISSOLVE TO:"), if any.
    pub transition_out: Option<String>,
    /// Printed lines (including the blank lines after elements).
    pub lines: u32,
    /// Length in eighths of a page (at least 1).
    pub eighths: u32,
    /// The source line of the heading (1-based; 0 for text before the first heading).
    pub source_line: usize,
}

/// A parsed screenplay.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// The title page's title, if any.
    pub title: Option<String>,
    /// Scenes in order. Text before the first heading forms a scene named "OPENING".
    pub scenes: Vec<Scene>,
    /// Printed pages of the body, counting forced page breaks.
    pub pages: f64,
}

/// Why a text is not a screenplay.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptError(pub String);

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptError {}

/// Lines a text takes when wrapped at `width` characters on word boundaries (at least 1).
pub fn wrapped_lines(text: &str, width: usize) -> u32 {
    let mut total = 0;
    for para in text.split('\n') {
        let mut lines = 1;
        let mut col = 0usize;
        for word in para.split_whitespace() {
            let w = word.chars().count();
            if col == 0 {
                col = w;
            } else if col + 1 + w <= width {
                col += 1 + w;
            } else {
                lines += 1;
                col = w;
            }
            while col > width {
                lines += 1;
                col -= width;
            }
        }
        total += lines;
    }
    total.max(1)
}

/// Splits a heading into place, location and time of day: "INT. OFFICE - NIGHT" gives
/// (Interior, "OFFICE", "NIGHT"). The time is the text after the last " - " (or en/em dash).
pub fn split_heading(heading: &str) -> (Place, String, String) {
    let h = heading.trim();
    let upper = h.to_uppercase();
    const PREFIXES: [(&str, Place); 7] = [
        ("INT./EXT", Place::Both),
        ("INT/EXT", Place::Both),
        ("I/E", Place::Both),
        ("INT", Place::Interior),
        ("EXT", Place::Exterior),
        ("EST", Place::Establishing),
        ("E/I", Place::Both),
    ];
    let mut place = Place::Unknown;
    let mut rest = h;
    for (p, kind) in PREFIXES {
        if upper.starts_with(p) {
            let after = &h[p.len()..];
            if after.is_empty() || after.starts_with(['.', ' ']) {
                place = kind;
                rest = after.trim_start_matches('.').trim();
                break;
            }
        }
    }
    let mut location = rest.to_string();
    let mut time = String::new();
    for sep in [" - ", " – ", " — ", " -- "] {
        if let Some((loc, t)) = rest.rsplit_once(sep) {
            location = loc.trim().to_string();
            time = t.trim().to_uppercase();
            break;
        }
    }
    (place, location, time)
}

/// `#` section lines outside boneyards: (source line, 1-based; depth; title).
fn sections(src: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut in_boneyard = false;
    for (i, line) in src.lines().enumerate() {
        let mut rest = line;
        let mut visible = String::new();
        loop {
            if in_boneyard {
                match rest.find("*/") {
                    Some(p) => {
                        in_boneyard = false;
                        rest = &rest[p + 2..];
                    }
                    None => break,
                }
            } else {
                match rest.find("/*") {
                    Some(p) => {
                        visible.push_str(&rest[..p]);
                        in_boneyard = true;
                        rest = &rest[p + 2..];
                    }
                    None => {
                        visible.push_str(rest);
                        break;
                    }
                }
            }
        }
        let t = visible.trim();
        if t.starts_with('#') {
            let depth = t.chars().take_while(|&c| c == '#').count();
            let title = t[depth..].trim().to_string();
            if !title.is_empty() {
                out.push((i + 1, depth, title));
            }
        }
    }
    out
}

/// Collects one scene's printed lines as elements arrive.
struct Builder {
    scene: Scene,
}

impl Builder {
    fn new(heading: String, number: Option<String>, line: usize, section: Option<String>) -> Self {
        let (place, location, time_of_day) = split_heading(&heading);
        Self {
            scene: Scene {
                heading,
                number,
                section,
                place,
                location,
                time_of_day,
                action: Vec::new(),
                dialogue: Vec::new(),
                transition_out: None,
                lines: 0,
                eighths: 1,
                source_line: line,
            },
        }
    }

    fn dialogue(&mut self, d: &Dialogue) {
        let mut said = String::new();
        let mut lines = 1; // the character cue
        for e in &d.elements {
            match e {
                DialogueElement::Parenthetical(p) => {
                    lines += wrapped_lines(&p.to_plain_string(), PAREN_WIDTH);
                }
                DialogueElement::Line(l) => {
                    let t = l.to_plain_string();
                    lines += wrapped_lines(&t, DIALOGUE_WIDTH);
                    if !said.is_empty() {
                        said.push(' ');
                    }
                    said.push_str(t.trim());
                }
            }
        }
        self.scene.lines += lines + 1;
        self.scene
            .dialogue
            .push((d.character.to_plain_string().trim().to_string(), said));
    }

    fn finish(mut self) -> Scene {
        let per_eighth = LINES_PER_PAGE as f64 / 8.0;
        self.scene.eighths = ((self.scene.lines as f64 / per_eighth).round() as u32).max(1);
        self.scene
    }

    fn is_empty(&self) -> bool {
        self.scene.action.is_empty() && self.scene.dialogue.is_empty()
    }
}

/// Parses a Fountain screenplay. A text without a single scene heading, and without
/// dialogue, is not taken for a screenplay.
pub fn parse(src: &str) -> Result<Script, ScriptError> {
    if src.contains('\0') {
        return Err(ScriptError(
            "this is binary data, not a Fountain screenplay".into(),
        ));
    }
    let sp = rustwell::parse(src);
    let secs = sections(src);
    let section_at = |line: usize| -> Option<String> {
        secs.iter()
            .rev()
            .find(|(l, _, _)| *l < line)
            .map(|(_, _, t)| t.clone())
    };
    let mut scenes = Vec::new();
    let mut cur = Builder::new("OPENING".into(), None, 0, None);
    cur.scene.place = Place::Unknown;
    let mut total_lines: u64 = 0;
    let mut headings = 0usize;
    let mut any_dialogue = false;
    for span in &sp.elements {
        match &span.inner {
            Element::Heading { slug, number } => {
                headings += 1;
                let next = Builder::new(
                    slug.to_plain_string().trim().to_string(),
                    number.clone(),
                    span.start_line,
                    section_at(span.start_line),
                );
                let prev = std::mem::replace(&mut cur, next);
                if prev.scene.source_line > 0 || !prev.is_empty() {
                    total_lines += prev.scene.lines as u64;
                    scenes.push(prev.finish());
                }
                cur.scene.lines += wrapped_lines(&cur.scene.heading, ACTION_WIDTH) + 1;
            }
            Element::Action(t) => {
                let t = t.to_plain_string();
                let tt = t.trim();
                let transition_like = tt.chars().any(char::is_alphabetic)
                    && tt == tt.to_uppercase()
                    && (tt.ends_with(':') || tt.starts_with("FADE"));
                if transition_like {
                    // FADE IN:, FADE OUT. written as action: printed, but not the scene's text.
                    cur.scene.lines += 2;
                } else if !tt.is_empty() {
                    cur.scene.lines += wrapped_lines(&t, ACTION_WIDTH) + 1;
                    cur.scene.action.push(t.trim().to_string());
                }
            }
            Element::Dialogue(d) => {
                any_dialogue = true;
                cur.dialogue(d);
            }
            Element::DualDialogue(a, b) => {
                any_dialogue = true;
                // Side by side: the longer column counts.
                let before = cur.scene.lines;
                cur.dialogue(a);
                let la = cur.scene.lines - before;
                cur.dialogue(b);
                let lb = cur.scene.lines - before - la;
                cur.scene.lines = before + la.max(lb);
            }
            Element::Lyrics(t) | Element::CenteredText(t) => {
                cur.scene.lines += wrapped_lines(&t.to_plain_string(), ACTION_WIDTH) + 1;
                cur.scene
                    .action
                    .push(t.to_plain_string().trim().to_string());
            }
            Element::Transition(t) => {
                cur.scene.lines += 2;
                cur.scene.transition_out = Some(t.to_plain_string().trim().to_uppercase());
            }
            Element::Synopsis(_) => {}
            Element::PageBreak => {
                // A forced page break spends the rest of the page.
                let used = (total_lines + cur.scene.lines as u64) % LINES_PER_PAGE as u64;
                if used > 0 {
                    cur.scene.lines += (LINES_PER_PAGE as u64 - used) as u32;
                }
            }
        }
    }
    if cur.scene.source_line > 0 || !cur.is_empty() {
        total_lines += cur.scene.lines as u64;
        scenes.push(cur.finish());
    }
    if headings == 0 && !any_dialogue {
        return Err(ScriptError(
            "no scene heading (INT./EXT./EST./I/E or a forced .HEADING) and no dialogue: \
             this does not look like a Fountain screenplay"
                .into(),
        ));
    }
    let title = sp
        .titlepage
        .as_ref()
        .and_then(|t| t.title.first())
        .map(|t| t.to_plain_string().trim().to_string())
        .filter(|t| !t.is_empty());
    Ok(Script {
        title,
        scenes,
        pages: total_lines as f64 / LINES_PER_PAGE as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_place_location_and_time() {
        assert_eq!(
            split_heading("INT. OFFICE - NIGHT"),
            (Place::Interior, "OFFICE".into(), "NIGHT".into())
        );
        assert_eq!(
            split_heading("EXT. DOCKS – dawn"),
            (Place::Exterior, "DOCKS".into(), "DAWN".into())
        );
        assert_eq!(split_heading("I/E. CAR - MOVING - DUSK").0, Place::Both);
        assert_eq!(split_heading("INT./EXT. CAB - NIGHT").0, Place::Both);
        assert_eq!(split_heading("EST. CITY SKYLINE").0, Place::Establishing);
        assert_eq!(split_heading("INTERROGATION ROOM").0, Place::Unknown);
    }

    const EDGE: &str = "Title: **Night Work**
Author: Test

# PART ONE

## Sequence A

INT. OFFICE - NIGHT #1#

Rain on the window. [[A note: rain, neon, gun should not count.]] Smoke.

/* A boneyard with a heading:

EXT. FORGOTTEN - DAY

Nothing here counts.
# NOT A SECTION
*/

JACK
(quietly)
It's late.

VERA ^
Too late.

CUT TO:

EXT. DOCKS - DAWN #12A#

Gulls.

> FADE TO BLACK.

.FLASHBACK

A memory.

===

I/E. CAR - MOVING - DUSK

She drives.

EST. CITY - NIGHT

The skyline.

INT./EXT. PHONE BOOTH - NIGHT
Not a heading: no blank line after it.
";

    #[test]
    fn parses_the_fountain_edge_cases() {
        let s = parse(EDGE).unwrap();
        assert_eq!(s.title.as_deref(), Some("Night Work"));
        let names: Vec<&str> = s.scenes.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(
            names,
            [
                "INT. OFFICE - NIGHT",
                "EXT. DOCKS - DAWN",
                "FLASHBACK",
                "I/E. CAR - MOVING - DUSK",
                "EST. CITY - NIGHT"
            ],
            "boneyard heading skipped, forced heading kept, headings need a blank line after"
        );
        let office = &s.scenes[0];
        assert_eq!(office.number.as_deref(), Some("1"));
        assert_eq!(office.section.as_deref(), Some("Sequence A"));
        assert_eq!(
            (office.place, office.time_of_day.as_str()),
            (Place::Interior, "NIGHT")
        );
        // Notes are gone from the action; the boneyard too.
        assert_eq!(office.action, ["Rain on the window.  Smoke."]);
        assert_eq!(
            office.dialogue.len(),
            2,
            "dual dialogue keeps both speeches"
        );
        assert_eq!(office.dialogue[0], ("JACK".into(), "It's late.".into()));
        assert_eq!(office.transition_out.as_deref(), Some("CUT TO:"));
        let docks = &s.scenes[1];
        assert_eq!(docks.number.as_deref(), Some("12A"));
        assert_eq!(
            docks.section.as_deref(),
            Some("Sequence A"),
            "boneyard sections ignored"
        );
        assert_eq!(docks.transition_out.as_deref(), Some("FADE TO BLACK."));
        assert_eq!(s.scenes[2].place, Place::Unknown);
        assert_eq!(s.scenes[3].place, Place::Both);
        assert_eq!(s.scenes[4].place, Place::Establishing);
        // The last heading-looking line has no blank line after it: no heading (an upper-case
        // line over text reads as a character cue, as the spec says).
        let city = &s.scenes[4];
        assert!(
            city.action.iter().any(|a| a.contains("PHONE BOOTH"))
                || city.dialogue.iter().any(|d| d.0.contains("PHONE BOOTH")),
            "{city:?}"
        );
        // The forced page break spends the rest of page 1: the FLASHBACK scene ends it.
        let before: u32 = s.scenes[..3].iter().map(|s| s.lines).sum();
        assert_eq!(before % LINES_PER_PAGE, 0, "{before}");
        assert!(s.pages > 1.0);
    }

    #[test]
    fn eighths_follow_the_printed_page() {
        // A heading (2 lines) and 53 one-line action paragraphs of 2 lines each = 108 lines:
        // 108 / 6.875 = 15.7 -> 16 eighths (two pages).
        let mut src = String::from("INT. ROOM - DAY\n\n");
        for _ in 0..53 {
            src.push_str("He waits.\n\n");
        }
        let s = parse(&src).unwrap();
        assert_eq!(s.scenes[0].lines, 108);
        assert_eq!(s.scenes[0].eighths, 16);
        // A one-line scene still counts an eighth.
        let s = parse("EXT. ROOF - NIGHT\n\nWind.\n").unwrap();
        assert_eq!(s.scenes[0].eighths, 1);
    }

    #[test]
    fn text_that_is_not_a_script_is_refused() {
        let e = parse("Dear diary, today was long.\n\nNothing happened at all.\n").unwrap_err();
        assert!(
            e.0.contains("does not look like a Fountain screenplay"),
            "{e}"
        );
        assert!(parse("\0\x01PNG").unwrap_err().0.contains("binary"));
        assert!(parse("{\"cues\": []}").is_err());
    }

    #[test]
    fn wrapping_counts_lines() {
        assert_eq!(wrapped_lines("", 60), 1);
        assert_eq!(wrapped_lines(&"word ".repeat(12), 60), 1); // 59 characters
        assert_eq!(wrapped_lines(&"word ".repeat(13), 60), 2);
        assert_eq!(wrapped_lines("a\nb", 60), 2);
        assert_eq!(wrapped_lines(&"x".repeat(130), 60), 3);
    }
}
