//! The editor's window onto the light input: `LightView` is what the light panels (lamp,
//! palette, OSC monitor, cue-sheet timeline) read, once per frame on the GUI thread. The light
//! module (src/light, OSC network thread + audio thread) implements it over its own lock-free
//! monitor; until it is wired in, `NotConnected` fills the panels with a clearly labelled
//! placeholder. Implementations must not block: the GUI thread calls `snapshot` every frame.

/// One cue of the loaded cue sheet, for the timeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CueMark {
    /// The cue's name as the sheet gives it.
    pub name: String,
    /// Start on the timeline, seconds.
    pub start_s: f64,
    /// The cue's key-light colour, 0..1 RGB, if it sets one (drawn as the cue's band colour).
    pub color: Option<[f32; 3]>,
}

/// Everything the light panels show, filled by a `LightView` each frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LightSnapshot {
    /// False when no light input is wired into the editor yet (the panels say so).
    pub connected: bool,
    /// Where the OSC server listens, e.g. "127.0.0.1:9000", if it is bound.
    pub listening: Option<String>,
    /// A port-clash report, e.g. "9000 taken: bound 9001".
    pub port_clash: Option<String>,
    /// Messages accepted since activation.
    pub received: u64,
    /// Messages ignored (malformed, unknown, out of range) since activation.
    pub ignored: u64,
    /// The newest messages, newest first, already formatted ("/light/rgb 1 0.4 0.2").
    pub last_messages: Vec<String>,
    /// The newest error, if any ("/light/cct 50: out of range").
    pub last_error: Option<String>,
    /// The scene palette, `[r, g, b, weight]` each 0..1.
    pub palette: Vec<[f32; 4]>,
    /// The key light's colour, 0..1 RGB, if any light has arrived.
    pub lamp_rgb: Option<[f32; 3]>,
    /// Overall light level 0..1.
    pub intensity: f32,
    /// The loaded cue sheet's name, if one is loaded.
    pub cue_sheet: Option<String>,
    /// The sheet's cues in time order.
    pub cues: Vec<CueMark>,
    /// Length of the sheet in seconds (the timeline's span); 0 = from the last cue.
    pub sheet_length_s: f64,
    /// Index into `cues` of the cue playing now.
    pub active_cue: Option<usize>,
}

/// A source of `LightSnapshot`s. See the module docs.
pub trait LightView: Send + Sync {
    /// Overwrites `out` with the current state (reuse its allocations; never block).
    fn snapshot(&self, out: &mut LightSnapshot);
}

/// The stand-in used while the light module is not wired into the editor.
#[derive(Debug, Default)]
pub struct NotConnected;

impl LightView for NotConnected {
    fn snapshot(&self, out: &mut LightSnapshot) {
        *out = LightSnapshot::default();
    }
}
