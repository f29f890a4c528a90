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
    /// The cue times are quarter-note beats (a bars:beats sheet), not seconds.
    pub cues_in_beats: bool,
    /// Where OSC feedback is actually going, as the sender thread reports it ("→
    /// 10.0.0.5:8001 · 10 Hz", "off", "not sending: ..."); None while the plugin is inactive.
    pub feedback: Option<String>,
    /// The sender has a resolved target and sends to it.
    pub feedback_sending: bool,
}

/// A source of `LightSnapshot`s. See the module docs.
pub trait LightView: Send + Sync {
    /// Overwrites `out` with the state at timeline position `timeline_s` seconds /
    /// `beats` quarter notes (reuse its allocations; never block for long).
    fn snapshot(&self, out: &mut LightSnapshot, timeline_s: f64, beats: f64);
}

/// The stand-in used while the light module is not wired into the editor.
#[derive(Debug, Default)]
pub struct NotConnected;

impl LightView for NotConnected {
    fn snapshot(&self, out: &mut LightSnapshot, _timeline_s: f64, _beats: f64) {
        *out = LightSnapshot::default();
    }
}

/// The real light input: the OSC `Monitor` (counts, port, latest values, errors) and the loaded
/// cue sheet. The monitor's mutex is shared only with the network thread and held for a copy;
/// the cue sheet is parsed again only when its text changes.
pub struct LightInput {
    /// The light input's monitor (atomics + a network/GUI mutex).
    monitor: std::sync::Arc<crate::light::Monitor>,
    /// The persisted cue-sheet source (main/GUI threads only).
    cues: crate::watched::Watched<Option<crate::light::CueSource>>,
    /// The last parsed sheet and the text it came from.
    parsed: std::sync::Mutex<Option<(String, Option<crate::light::CueSheet>)>>,
}

impl LightInput {
    /// An adapter over the plugin's monitor and cue-sheet source.
    pub fn new(
        monitor: std::sync::Arc<crate::light::Monitor>,
        cues: crate::watched::Watched<Option<crate::light::CueSource>>,
    ) -> Self {
        Self {
            monitor,
            cues,
            parsed: std::sync::Mutex::new(None),
        }
    }
}

/// Numbers in an OSC monitor argument text ("0.5000 1 0.2"), ints above 1 read as 0..255.
fn numbers(args: &str) -> Vec<f32> {
    args.split_whitespace()
        .filter_map(|a| a.parse::<f32>().ok())
        .filter(|v| v.is_finite())
        .collect()
}

impl LightView for LightInput {
    fn snapshot(&self, out: &mut LightSnapshot, timeline_s: f64, beats: f64) {
        let m = self.monitor.snapshot();
        out.connected = true;
        out.listening = (m.port != 0).then(|| {
            if m.status.is_empty() {
                format!("port {}", m.port)
            } else {
                m.status.clone()
            }
        });
        if out.listening.is_none() && !m.status.is_empty() {
            out.listening = None;
            out.last_error = Some(m.status.clone());
        } else {
            out.last_error = m.errors.last().cloned();
        }
        out.port_clash = m
            .clash
            .then(|| format!("configured port taken, holding {}", m.port));
        out.feedback = (!m.feedback.is_empty()).then(|| m.feedback.clone());
        out.feedback_sending = m.feedback_target.is_some();
        out.received = m.counts.accepted;
        out.ignored = m.counts.ignored();
        out.last_messages.clear();
        out.last_messages.extend(
            m.values
                .iter()
                .map(|(addr, args, n)| format!("{addr} {args}  ×{n}")),
        );
        out.intensity = m.intensity.unwrap_or(1.0);
        out.lamp_rgb = None;
        out.palette.clear();
        for (addr, args, _) in &m.values {
            let v = numbers(args);
            let scale = if v.iter().any(|&x| x > 1.0) {
                255.0
            } else {
                1.0
            };
            match addr.as_str() {
                "/light/rgb" if v.len() >= 3 => {
                    out.lamp_rgb = Some([v[0] / scale, v[1] / scale, v[2] / scale]);
                }
                "/palette" => {
                    out.palette
                        .extend(v.chunks_exact(4).take(16).map(|q| [q[0], q[1], q[2], q[3]]));
                }
                _ => {}
            }
        }

        // The cue sheet (re-parsed only when its text changes).
        let source = self.cues.read().ok().and_then(|s| s.clone());
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        match &source {
            None => *parsed = None,
            Some(src) => {
                if parsed.as_ref().is_none_or(|(t, _)| *t != src.text) {
                    *parsed = Some((src.text.clone(), src.parse().ok()));
                }
            }
        }
        out.cues.clear();
        out.cue_sheet = None;
        out.active_cue = None;
        out.sheet_length_s = 0.0;
        out.cues_in_beats = false;
        if let (Some(src), Some((_, Some(sheet)))) = (&source, parsed.as_ref()) {
            let name = std::path::Path::new(&src.path)
                .file_name()
                .map_or_else(|| src.path.clone(), |n| n.to_string_lossy().into_owned());
            out.cue_sheet = Some(if name.is_empty() {
                "loaded".into()
            } else {
                name
            });
            out.cues_in_beats = sheet.base == crate::light::TimeBase::Beats;
            let pos = if out.cues_in_beats { beats } else { timeline_s };
            for (k, cue) in sheet.cues.iter().enumerate() {
                out.cues.push(CueMark {
                    name: if cue.name.is_empty() {
                        format!("{}", k + 1)
                    } else {
                        cue.name.clone()
                    },
                    start_s: cue.at,
                    color: sheet.cue_look(k).map(|(look, _)| look.rgb),
                });
            }
            out.active_cue = sheet.cues.iter().rposition(|c| c.at <= pos);
            if !sheet.cues.is_empty() {
                let look = sheet.look_at(pos);
                if out.lamp_rgb.is_none() {
                    out.lamp_rgb = Some(look.rgb);
                    out.intensity = look.intensity;
                }
                if out.palette.is_empty() {
                    out.palette.extend_from_slice(look.palette.colors());
                }
            }
        }
    }
}
