//! The OSC server (`shared/osc.md`): a UDP socket and its own network thread. Datagrams are
//! structure-checked (padding, bundle nesting capped at `MAX_BUNDLE_DEPTH`, no trailing
//! bytes), decoded with `rosc` (which allocates: fine here, never on the audio thread),
//! validated, converted to `LightEvent`s and pushed into a bounded lock-free `rtrb` queue that
//! the audio thread drains. Anything malformed, unknown or out of range is ignored and counted
//! in the `Monitor`.
//!
//! Threads: `OscServer::start` binds on the caller's thread (the plugin's `activate()`, main
//! thread) so a port clash is known at once; `Decoder` runs on the network thread; dropping
//! the `OscServer` (plugin `deactivate()` or drop) stops and joins the thread and frees the
//! port within one read timeout (`READ_TIMEOUT`, plus a wake-up datagram to itself).
//!
//! Ports: the configured port (default 9000 on 127.0.0.1, or all interfaces) is tried first
//! (after a port remembered from an earlier clash); when taken, the clash is reported and,
//! unless turned off, the next free port of the following `PORT_SEARCH` is bound. A server
//! pushed off its configured port keeps trying to take it back for `REACQUIRE_WINDOW` (a host
//! that re-creates an instance before dropping the old one, as pedalboard does on reset,
//! frees it a moment later); if the clash outlasts the window, the port held is remembered
//! in the persisted `OscConfig` and tried first next time.

use super::cues::{CueSheet, CueSource};
use super::dmx::{DmxDesk, DmxOutcome, FixtureProfile};
use super::event::{clamp01, name_hash, CueRef, LightEvent, MoodAxis, Palette, MAX_PALETTE};
use super::mapping::hsv_to_rgb;
use super::monitor::Monitor;
use super::sidechain::{CCT_MAX_K, CCT_MIN_K};
use crate::watched::Watched;
use rosc::{OscMessage, OscPacket, OscType};
use serde::{Deserialize, Serialize};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Default UDP port (osc.md).
pub const DEFAULT_PORT: u16 = 9000;
/// How many following ports are tried after a clash.
pub const PORT_SEARCH: u16 = 16;
/// Deepest bundle nesting accepted.
pub const MAX_BUNDLE_DEPTH: usize = 8;
/// The network thread wakes at least this often to see whether it should stop.
pub const READ_TIMEOUT: Duration = Duration::from_millis(25);
/// How long a server pushed off its configured port keeps trying to take it back.
pub const REACQUIRE_WINDOW: Duration = Duration::from_secs(10);
/// Capacity of the network → audio event queue.
pub const QUEUE_CAPACITY: usize = 1024;
/// Largest datagram read.
const MAX_DATAGRAM: usize = 65536;

/// What a user mapping drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MapTarget {
    /// Overall light level.
    Intensity,
    /// Key colour red.
    Red,
    /// Key colour green.
    Green,
    /// Key colour blue.
    Blue,
    /// Key colour hue (0..1 of the circle).
    Hue,
    /// Key colour saturation.
    Saturation,
    /// Colour temperature, 0 = 2000 K .. 1 = 10000 K.
    Cct,
    /// Contrast.
    Contrast,
    /// Flicker.
    Flicker,
    /// A lighting hit (fires when the value rises above 0.5).
    Hit,
    /// Heartbeat, 0 = 20 .. 1 = 300 BPM.
    Bpm,
    /// Mood override: valence (0 = -1 .. 1 = +1).
    Valence,
    /// Mood override: arousal.
    Arousal,
    /// Mood override: tension.
    Tension,
}

impl MapTarget {
    /// Every target, for parsing and help texts.
    pub const ALL: [MapTarget; 14] = [
        MapTarget::Intensity,
        MapTarget::Red,
        MapTarget::Green,
        MapTarget::Blue,
        MapTarget::Hue,
        MapTarget::Saturation,
        MapTarget::Cct,
        MapTarget::Contrast,
        MapTarget::Flicker,
        MapTarget::Hit,
        MapTarget::Bpm,
        MapTarget::Valence,
        MapTarget::Arousal,
        MapTarget::Tension,
    ];

    /// Its kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            MapTarget::Intensity => "intensity",
            MapTarget::Red => "red",
            MapTarget::Green => "green",
            MapTarget::Blue => "blue",
            MapTarget::Hue => "hue",
            MapTarget::Saturation => "saturation",
            MapTarget::Cct => "cct",
            MapTarget::Contrast => "contrast",
            MapTarget::Flicker => "flicker",
            MapTarget::Hit => "hit",
            MapTarget::Bpm => "bpm",
            MapTarget::Valence => "valence",
            MapTarget::Arousal => "arousal",
            MapTarget::Tension => "tension",
        }
    }

    /// From its name.
    pub fn parse(s: &str) -> Option<MapTarget> {
        Self::ALL.into_iter().find(|t| t.name() == s.trim())
    }
}

/// A free-form address (grandMA3 fader, TouchDesigner channel, Resolume) bound to a target.
/// The first numeric argument, read on `in_min..in_max`, becomes 0..1 for the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserMapping {
    /// The exact OSC address.
    pub address: String,
    /// What it drives.
    pub target: MapTarget,
    /// Input value that means 0.
    pub in_min: f32,
    /// Input value that means 1 (grandMA3 faders: 100).
    pub in_max: f32,
}

/// The OSC settings persisted with the plugin state (`osc-config`). Loading is lenient: a
/// field that does not parse keeps its default and is reported in `load_warnings` (shown in
/// the editor's OSC panel), every other field is kept, so one bad value never throws away a
/// user's mappings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OscConfig {
    /// Serve OSC at all.
    pub enabled: bool,
    /// UDP port (0 = any free port, for tests).
    pub port: u16,
    /// Listen on all interfaces (0.0.0.0) instead of 127.0.0.1.
    pub all_interfaces: bool,
    /// On a clash, bind the next free port of the following 16.
    pub auto_next_port: bool,
    /// The port taken after a clash, tried first next time.
    pub remembered_port: Option<u16>,
    /// The DMX fixture profile.
    pub fixture: FixtureProfile,
    /// User mappings of free-form addresses.
    pub mappings: Vec<UserMapping>,
    /// The only folder `/noir/cues/load` may read cue sheets from (a file name inside it, no
    /// `..`, no symlink out of it, at most `MAX_NETWORK_CUE_BYTES`); `None` turns network cue
    /// loading off (the default).
    pub cue_folder: Option<String>,
    /// Allow `/noir/cues/load` while listening on all interfaces (off by default: then any
    /// machine on the network could choose what the session plays).
    pub remote_cue_loads: bool,
    /// Senders accepted, as IP addresses (e.g. the desk's); empty accepts any sender.
    pub allowed_senders: Vec<String>,
    /// Where and how often the plugin sends its mood, cue, beat and tempo back
    /// (`light/feedback.rs`).
    pub feedback: super::feedback::FeedbackConfig,
    /// What could not be read from a saved configuration (not saved).
    #[serde(skip)]
    pub load_warnings: Vec<String>,
}

impl Default for OscConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            port: DEFAULT_PORT,
            all_interfaces: false,
            auto_next_port: true,
            remembered_port: None,
            fixture: FixtureProfile::default(),
            mappings: Vec::new(),
            cue_folder: None,
            remote_cue_loads: false,
            allowed_senders: Vec::new(),
            feedback: Default::default(),
            load_warnings: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for OscConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(OscConfig::from_value(serde_json::Value::deserialize(d)?))
    }
}

/// Most user mappings kept (learn from the network cannot grow the list without bound).
pub const MAX_MAPPINGS: usize = 256;
/// Longest OSC address a mapping may bind.
pub const MAX_MAPPED_ADDRESS: usize = 256;
/// Largest cue sheet `/noir/cues/load` reads.
pub const MAX_NETWORK_CUE_BYTES: u64 = 1 << 20;

impl OscConfig {
    /// Reads a saved configuration field by field: what parses is kept, the rest keeps its
    /// default and is listed in `load_warnings`.
    pub fn from_value(v: serde_json::Value) -> OscConfig {
        use serde::de::DeserializeOwned;
        fn take<T: DeserializeOwned>(
            slot: &mut T,
            v: serde_json::Value,
            name: &str,
            warn: &mut Vec<String>,
        ) {
            match serde_json::from_value(v) {
                Ok(x) => *slot = x,
                Err(e) => warn.push(format!("osc-config.{name}: {e} (the default is used)")),
            }
        }
        let mut c = OscConfig::default();
        let mut warn = Vec::new();
        let serde_json::Value::Object(map) = v else {
            c.load_warnings
                .push("osc-config is not an object: the defaults are used".into());
            return c;
        };
        for (k, val) in map {
            match k.as_str() {
                "enabled" => take(&mut c.enabled, val, &k, &mut warn),
                "port" => take(&mut c.port, val, &k, &mut warn),
                "all_interfaces" => take(&mut c.all_interfaces, val, &k, &mut warn),
                "auto_next_port" => take(&mut c.auto_next_port, val, &k, &mut warn),
                "remembered_port" => take(&mut c.remembered_port, val, &k, &mut warn),
                "fixture" => take(&mut c.fixture, val, &k, &mut warn),
                "cue_folder" => take(&mut c.cue_folder, val, &k, &mut warn),
                "remote_cue_loads" => take(&mut c.remote_cue_loads, val, &k, &mut warn),
                "allowed_senders" => take(&mut c.allowed_senders, val, &k, &mut warn),
                "feedback" => take(&mut c.feedback, val, &k, &mut warn),
                "mappings" => match val {
                    serde_json::Value::Array(items) => {
                        for (i, item) in items.into_iter().enumerate() {
                            match serde_json::from_value::<UserMapping>(item) {
                                Ok(m) if c.mappings.len() < MAX_MAPPINGS => c.mappings.push(m),
                                Ok(_) => warn.push(format!(
                                    "osc-config.mappings[{i}]: more than {MAX_MAPPINGS} mappings"
                                )),
                                Err(e) => warn.push(format!(
                                    "osc-config.mappings[{i}]: {e} (this mapping is dropped)"
                                )),
                            }
                        }
                    }
                    _ => warn.push("osc-config.mappings: not a list (no mappings)".into()),
                },
                other => warn.push(format!("osc-config.{other}: unknown field (ignored)")),
            }
        }
        c.load_warnings = warn;
        c
    }

    /// The senders accepted (the parsable entries of `allowed_senders`).
    pub fn allowed_ips(&self) -> Vec<std::net::IpAddr> {
        self.allowed_senders
            .iter()
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    }
}

/// The cue-sheet path between the network thread (which loads sheets on `/noir/cues/load`,
/// and applies a sheet the host loaded with a session while the plugin runs) and the audio
/// thread: new sheets go in, replaced ones come back to be dropped here.
pub struct CueLink {
    /// New sheets (`None` unloads) for the audio thread.
    pub sheets: rtrb::Producer<Option<Box<CueSheet>>>,
    /// Replaced sheets coming back from the audio thread, dropped on the network thread.
    pub garbage: rtrb::Consumer<Box<CueSheet>>,
    /// The persisted cue sheet (`cue-sheet`): path and text.
    pub store: Watched<Option<CueSource>>,
    /// Name hashes of the cues of the sheet the audio thread has (for `/cue/go` checks).
    pub cue_names: Vec<u64>,
    /// The store's generation that the audio thread's sheet belongs to.
    pub generation: u64,
}

/// Tap tempo: the median of the last intervals between `/light/beat` taps.
#[derive(Clone, Copy, Debug, Default)]
pub struct TapTempo {
    /// Time of the last tap.
    last: Option<Instant>,
    /// Recent intervals, seconds.
    intervals: [f32; 4],
    /// How many of `intervals` are valid.
    n: usize,
}

impl TapTempo {
    /// A tap at `now`; returns the tempo estimate once two taps are in.
    pub fn tap(&mut self, now: Instant) -> Option<f32> {
        let last = self.last.replace(now);
        let dt = now.duration_since(last?).as_secs_f32();
        if !(0.2..=3.0).contains(&dt) {
            // 20..300 BPM: a longer gap starts a new count; a bounce is ignored.
            if dt > 3.0 {
                self.n = 0;
            }
            return self.estimate();
        }
        self.intervals.rotate_right(1);
        self.intervals[0] = dt;
        self.n = (self.n + 1).min(4);
        self.estimate()
    }

    /// BPM from the median interval.
    pub fn estimate(&self) -> Option<f32> {
        if self.n == 0 {
            return None;
        }
        let mut v = self.intervals;
        let s = &mut v[..self.n];
        s.sort_by(f32::total_cmp);
        let med = if self.n % 2 == 1 {
            s[self.n / 2]
        } else {
            0.5 * (s[self.n / 2 - 1] + s[self.n / 2])
        };
        Some((60.0 / med).clamp(20.0, 300.0))
    }
}

/// Checks a datagram's structure without recursion beyond `MAX_BUNDLE_DEPTH`: 4-byte
/// alignment, bundle headers, element sizes. Message contents are left to `rosc`.
pub fn check_structure(bytes: &[u8], depth: usize) -> Result<(), &'static str> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return Err("size is not a positive multiple of 4");
    }
    if bytes.starts_with(b"#bundle\0") {
        if depth >= MAX_BUNDLE_DEPTH {
            return Err("bundles nested too deep");
        }
        if bytes.len() < 16 {
            return Err("bundle header truncated");
        }
        let mut rest = &bytes[16..];
        while !rest.is_empty() {
            if rest.len() < 4 {
                return Err("bundle element size truncated");
            }
            let n = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if n > rest.len() - 4 {
                return Err("bundle element longer than the bundle");
            }
            check_structure(&rest[4..4 + n], depth + 1)?;
            rest = &rest[4 + n..];
        }
        Ok(())
    } else if bytes[0] == b'/' {
        Ok(())
    } else {
        Err("neither a message nor a bundle")
    }
}

/// How a message was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Understood and applied.
    Accepted,
    /// Nobody understands this address.
    Unknown,
    /// Wrong argument types or count.
    BadArgs,
    /// A number out of range (or NaN).
    OutOfRange,
}

fn num(a: &OscType) -> Option<f64> {
    match a {
        OscType::Int(i) => Some(*i as f64),
        OscType::Float(f) => Some(*f as f64),
        OscType::Double(d) => Some(*d),
        OscType::Long(l) => Some(*l as f64),
        _ => None,
    }
}

fn nums<const N: usize>(args: &[OscType]) -> Result<[f64; N], Verdict> {
    if args.len() != N {
        return Err(Verdict::BadArgs);
    }
    let mut out = [0.0; N];
    for (o, a) in out.iter_mut().zip(args) {
        *o = num(a).ok_or(Verdict::BadArgs)?;
    }
    Ok(out)
}

fn ranged(v: f64, lo: f64, hi: f64) -> Result<f32, Verdict> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v as f32)
    } else {
        Err(Verdict::OutOfRange)
    }
}

fn args_text(args: &[OscType]) -> String {
    let mut s = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        match a {
            OscType::Int(v) => s.push_str(&v.to_string()),
            OscType::Float(v) => s.push_str(&format!("{v:.4}")),
            OscType::Double(v) => s.push_str(&format!("{v:.4}")),
            OscType::Long(v) => s.push_str(&v.to_string()),
            OscType::String(v) => s.push_str(&format!("{v:?}")),
            other => s.push_str(&format!("{other:?}")),
        }
        if s.len() > 80 {
            s.push_str("...");
            break;
        }
    }
    s
}

/// "name.csv (3 cues)" for the monitor, or "" without a sheet.
pub fn describe_sheet(path: Option<String>, cues: usize) -> String {
    match path {
        None => String::new(),
        Some(p) => {
            let name = Path::new(&p)
                .file_name()
                .map_or(p.clone(), |n| n.to_string_lossy().into_owned());
            format!("{name} ({cues} cues)")
        }
    }
}

fn path_of(store: &Watched<Option<CueSource>>) -> Option<String> {
    store
        .read()
        .ok()
        .and_then(|s| s.as_ref().map(|s| s.path.clone()))
}

/// Event kinds that keep only their latest value while the audio thread's queue is full (one
/// slot each; hits keep the strongest).
const PENDING_SLOTS: usize = 16;

fn pending_slot(ev: &LightEvent) -> usize {
    match ev {
        LightEvent::Intensity(_) => 0,
        LightEvent::Rgb(_) => 1,
        LightEvent::Cct(_) => 2,
        LightEvent::Contrast(_) => 3,
        LightEvent::Flicker(_) => 4,
        LightEvent::Palette(_) => 5,
        LightEvent::Hit(_) => 6,
        LightEvent::Bpm(_) => 7,
        LightEvent::Beat { .. } => 8,
        LightEvent::MoodOverride(MoodAxis::Valence, _) => 9,
        LightEvent::MoodOverride(MoodAxis::Arousal, _) => 10,
        LightEvent::MoodOverride(MoodAxis::Tension, _) => 11,
        LightEvent::MoodRelease => 12,
        LightEvent::CueGo(_) => 13,
        LightEvent::CueProgress { .. } => 14,
        LightEvent::SheetReady => 15,
    }
}

/// Network-thread state: turns datagrams into events. Usable without a socket (tests, the
/// bench).
pub struct Decoder {
    /// The persisted configuration (mappings are read and learned here).
    config: Watched<OscConfig>,
    /// The configuration's generation last applied here.
    config_seen: u64,
    /// Senders accepted (empty: any).
    allowed: Vec<std::net::IpAddr>,
    /// Counters and latest values.
    monitor: Arc<Monitor>,
    /// Where events go.
    events: rtrb::Producer<LightEvent>,
    /// Events waiting for room in `events`, latest per kind, with the order they came in.
    pending: [Option<(u64, LightEvent)>; PENDING_SLOTS],
    /// Arrival counter for `pending`.
    pending_seq: u64,
    /// Cue-sheet loading, when the host side has one.
    cues: Option<CueLink>,
    /// The DMX fixture's channel state.
    dmx: DmxDesk,
    /// Colour state of user-mapped red/green/blue/hue/saturation channels.
    mapped_rgb: [f32; 3],
    /// Hue (0..1) and saturation of user-mapped colour channels.
    mapped_hs: [f32; 2],
    /// Last value of user-mapped hit channels (hits fire on a rise through 0.5).
    mapped_hit: f32,
    /// Tap tempo from `/light/beat`.
    taps: TapTempo,
    /// A learn request: the next unknown address is bound to this target.
    learn: Option<MapTarget>,
}

impl Decoder {
    /// A decoder feeding `events`.
    pub fn new(
        config: Watched<OscConfig>,
        monitor: Arc<Monitor>,
        events: rtrb::Producer<LightEvent>,
        cues: Option<CueLink>,
    ) -> Self {
        let (cfg, config_seen) = config.snapshot();
        for w in &cfg.load_warnings {
            monitor.note_error(w.clone());
        }
        Self {
            config,
            config_seen,
            allowed: cfg.allowed_ips(),
            monitor,
            events,
            pending: [None; PENDING_SLOTS],
            pending_seq: 0,
            cues,
            dmx: DmxDesk::new(cfg.fixture),
            mapped_rgb: [1.0; 3],
            mapped_hs: [0.0, 0.0],
            mapped_hit: 0.0,
            taps: TapTempo::default(),
            learn: None,
        }
    }

    /// Arms learn mode: the next address nobody understands is bound to `target`.
    pub fn learn(&mut self, target: MapTarget) {
        self.learn = Some(target);
    }

    /// Handles one datagram received at `now` (from an unknown sender).
    pub fn datagram(&mut self, bytes: &[u8], now: Instant) {
        self.datagram_from(bytes, now, None);
    }

    /// Handles one datagram from `from` received at `now`; a sender outside the allow-list
    /// is counted and ignored.
    pub fn datagram_from(&mut self, bytes: &[u8], now: Instant, from: Option<std::net::IpAddr>) {
        let allowed = self.allowed.is_empty() || from.is_some_and(|ip| self.allowed.contains(&ip));
        if allowed {
            self.datagram_inner(bytes, now);
        } else {
            let c = &self.monitor.counts;
            c.datagrams.fetch_add(1, Ordering::Relaxed);
            c.refused_sender.fetch_add(1, Ordering::Relaxed);
            if let Some(ip) = from {
                self.monitor
                    .note_error(format!("datagram from {ip} refused: not an allowed sender"));
            }
        }
        self.monitor.counts.handled.fetch_add(1, Ordering::Release);
    }

    /// Applies a configuration the host (a session or preset load) or the editor wrote since
    /// the last call: fixture profile, allowed senders, and its load warnings. Returns the new
    /// configuration so the caller can rebind its socket if the port settings changed.
    pub fn config_changed(&mut self) -> Option<OscConfig> {
        let g = self.config.generation();
        if g == self.config_seen {
            return None;
        }
        let (cfg, g) = self.config.snapshot();
        self.config_seen = g;
        if cfg.fixture != self.dmx.profile {
            self.dmx = DmxDesk::new(cfg.fixture);
        }
        self.allowed = cfg.allowed_ips();
        for w in &cfg.load_warnings {
            self.monitor.note_error(w.clone());
        }
        Some(cfg)
    }

    /// Changes the configuration from here (learn, unmap, a remembered port) without taking
    /// our own write for an outside change.
    pub(crate) fn write_config(&mut self, f: impl FnOnce(&mut OscConfig)) {
        // An outside change not yet seen is applied first, so it is not skipped below.
        let _ = self.config_changed();
        if let Ok(mut c) = self.config.write() {
            f(&mut c);
        }
        self.config_seen = self.config.generation();
    }

    /// Applies a cue sheet the host loaded (with a session or preset) or the editor set while
    /// running: parsed here, handed to the audio thread. Returns whether one was sent.
    pub fn cues_changed(&mut self) -> bool {
        let Some(link) = self.cues.as_mut() else {
            return false;
        };
        if link.store.generation() == link.generation {
            return false;
        }
        if link.sheets.slots() == 0 {
            // The audio thread has not taken the last one yet: try again on the next round.
            return false;
        }
        let (source, g) = link.store.snapshot();
        let sheet = match source.map(|s| (s.parse(), s.path)) {
            None => None,
            Some((Ok(sheet), _)) => Some(Box::new(sheet)),
            Some((Err(e), path)) => {
                self.monitor.note_error(format!(
                    "loaded cue sheet {path}: {e} (keeping the old one)"
                ));
                link.generation = g;
                return false;
            }
        };
        link.cue_names = sheet
            .as_ref()
            .map_or_else(Vec::new, |s| s.cues.iter().map(|c| c.name_hash).collect());
        link.generation = g;
        self.monitor
            .set_sheet(describe_sheet(path_of(&link.store), link.cue_names.len()));
        let sent = link.sheets.push(sheet).is_ok();
        if sent {
            self.push(LightEvent::SheetReady);
        }
        sent
    }

    /// Sends waiting events (oldest first) while the queue has room.
    pub fn flush_pending(&mut self) {
        loop {
            let next = self
                .pending
                .iter()
                .enumerate()
                .filter_map(|(k, p)| p.map(|(seq, _)| (seq, k)))
                .min();
            let Some((_, k)) = next else {
                return;
            };
            let (_, ev) = self.pending[k].expect("present");
            if self.events.push(ev).is_err() {
                return;
            }
            self.pending[k] = None;
        }
    }

    /// Events waiting for room in the audio thread's queue.
    pub fn pending(&self) -> usize {
        self.pending.iter().filter(|p| p.is_some()).count()
    }

    fn datagram_inner(&mut self, bytes: &[u8], now: Instant) {
        let c = &self.monitor.counts;
        c.datagrams.fetch_add(1, Ordering::Relaxed);
        if let Err(why) = check_structure(bytes, 0) {
            c.malformed.fetch_add(1, Ordering::Relaxed);
            self.monitor
                .note_error(format!("malformed datagram ({} bytes): {why}", bytes.len()));
            return;
        }
        let packet = match rosc::decoder::decode_udp(bytes) {
            Ok((rest, _)) if !rest.is_empty() => Err(format!("{} trailing bytes", rest.len())),
            Ok((_, p)) => match rosc::encoder::encode(&p) {
                // rosc ignores junk inside bundle elements; a canonical re-encoding of a
                // different size means there was some.
                Ok(enc) if enc.len() == bytes.len() => Ok(p),
                _ => Err("trailing bytes inside a bundle element".to_string()),
            },
            Err(e) => Err(format!("{e:?}")),
        };
        match packet {
            Ok(p) => self.packet(&p, now),
            Err(e) => {
                c.malformed.fetch_add(1, Ordering::Relaxed);
                self.monitor.note_error(format!("malformed datagram: {e}"));
            }
        }
    }

    fn packet(&mut self, p: &OscPacket, now: Instant) {
        match p {
            OscPacket::Message(m) => self.message(m, now),
            // Time tags are treated as "now" (osc.md allows it).
            OscPacket::Bundle(b) => {
                for p in &b.content {
                    self.packet(p, now);
                }
            }
        }
    }

    /// Queues an event for the audio thread. When its queue is full the event waits, and a
    /// newer value of the same kind replaces it (counted in `queue_full`): the last value a
    /// desk sent is never lost, only values it already replaced.
    fn push(&mut self, ev: LightEvent) {
        self.flush_pending();
        let k = pending_slot(&ev);
        let waiting = self.pending.iter().any(Option::is_some);
        if !waiting {
            match self.events.push(ev) {
                Ok(()) => return,
                Err(rtrb::PushError::Full(_)) => {}
            }
        }
        self.pending_seq += 1;
        let ev = match (self.pending[k], ev) {
            (Some((_, old)), new) => {
                self.monitor
                    .counts
                    .queue_full
                    .fetch_add(1, Ordering::Relaxed);
                match (old, new) {
                    (LightEvent::Hit(a), LightEvent::Hit(b)) => LightEvent::Hit(a.max(b)),
                    (_, new) => new,
                }
            }
            (None, new) => new,
        };
        self.pending[k] = Some((self.pending_seq, ev));
    }

    /// Handles one message and counts it.
    pub fn message(&mut self, m: &OscMessage, now: Instant) {
        let verdict = match self.route(m, now) {
            Ok(()) => Verdict::Accepted,
            Err(v) => v,
        };
        let c = &self.monitor.counts;
        match verdict {
            Verdict::Accepted => {
                self.monitor.note_value(&m.addr, args_text(&m.args));
                return;
            }
            Verdict::Unknown => c.unknown.fetch_add(1, Ordering::Relaxed),
            Verdict::BadArgs => c.bad_args.fetch_add(1, Ordering::Relaxed),
            Verdict::OutOfRange => c.out_of_range.fetch_add(1, Ordering::Relaxed),
        };
        self.monitor.note_error(format!(
            "{:?}: {} {}",
            verdict,
            m.addr.chars().take(64).collect::<String>(),
            args_text(&m.args)
        ));
    }

    fn route(&mut self, m: &OscMessage, now: Instant) -> Result<(), Verdict> {
        let a = &m.args;
        let unit = |a: &[OscType]| -> Result<f32, Verdict> { ranged(nums::<1>(a)?[0], 0.0, 1.0) };
        let ev = match m.addr.as_str() {
            "/light/intensity" => LightEvent::Intensity(unit(a)?),
            "/light/rgb" => {
                let v = nums::<3>(a)?;
                let ints = a
                    .iter()
                    .all(|x| matches!(x, OscType::Int(_) | OscType::Long(_)));
                let (hi, scale) = if ints { (255.0, 255.0) } else { (1.0, 1.0) };
                let mut c = [0.0f32; 3];
                for k in 0..3 {
                    c[k] = ranged(v[k], 0.0, hi)? / scale as f32;
                }
                LightEvent::Rgb(c)
            }
            "/light/hsv" => {
                let v = nums::<3>(a)?;
                let h = ranged(v[0], 0.0, 1.0)?;
                let s = ranged(v[1], 0.0, 1.0)?;
                let val = ranged(v[2], 0.0, 1.0)?;
                LightEvent::Rgb(hsv_to_rgb(h * 360.0, s, val))
            }
            "/light/cct" => LightEvent::Cct(ranged(nums::<1>(a)?[0], 1000.0, 20000.0)?),
            "/light/contrast" => LightEvent::Contrast(unit(a)?),
            "/light/flicker" => LightEvent::Flicker(unit(a)?),
            "/light/hit" => LightEvent::Hit(if a.is_empty() { 1.0 } else { unit(a)? }),
            "/light/bpm" => LightEvent::Bpm(ranged(nums::<1>(a)?[0], 20.0, 300.0)?),
            "/light/beat" => LightEvent::Beat {
                bpm: self.taps.tap(now),
            },
            "/palette" => {
                if a.is_empty() || !a.len().is_multiple_of(4) || a.len() > 4 * MAX_PALETTE {
                    return Err(Verdict::BadArgs);
                }
                let mut p = Palette::EMPTY;
                for (i, x) in a.iter().enumerate() {
                    p.colors[i / 4][i % 4] = ranged(num(x).ok_or(Verdict::BadArgs)?, 0.0, 1.0)?;
                }
                p.len = (a.len() / 4) as u8;
                LightEvent::Palette(p)
            }
            "/mood/valence" => {
                LightEvent::MoodOverride(MoodAxis::Valence, ranged(nums::<1>(a)?[0], -1.0, 1.0)?)
            }
            "/mood/arousal" => LightEvent::MoodOverride(MoodAxis::Arousal, unit(a)?),
            "/mood/tension" => LightEvent::MoodOverride(MoodAxis::Tension, unit(a)?),
            "/mood/release" => LightEvent::MoodRelease,
            "/cue/go" => {
                let r = match a.as_slice() {
                    [OscType::String(s)] => CueRef::Name(name_hash(s)),
                    [x] => {
                        let v = num(x).ok_or(Verdict::BadArgs)?;
                        if !((1.0..=1e6).contains(&v) && v.fract() == 0.0) {
                            return Err(Verdict::OutOfRange);
                        }
                        CueRef::Index(v as u32)
                    }
                    _ => return Err(Verdict::BadArgs),
                };
                // Only a cue that exists: say so when there is no sheet or no such cue.
                let names = self.cues.as_ref().map_or(&[][..], |l| &l.cue_names[..]);
                let found = match r {
                    CueRef::Index(i) => (i as usize) <= names.len(),
                    CueRef::Name(h) => names.contains(&h),
                };
                if !found {
                    self.monitor.note_error(if names.is_empty() {
                        "/cue/go: no cue sheet is loaded".to_string()
                    } else {
                        format!("/cue/go {}: no such cue in the loaded sheet", args_text(a))
                    });
                    return Err(Verdict::OutOfRange);
                }
                LightEvent::CueGo(r)
            }
            "/eos/out/color/hs" => {
                // Eos's contract: hue in degrees, saturation in percent (never guessed from
                // the value: 1 means 1 %).
                let [h, s] = nums::<2>(a)?;
                let h = ranged(h, 0.0, 360.0)?;
                let s = ranged(s, 0.0, 100.0)?;
                LightEvent::Rgb(hsv_to_rgb(h, s / 100.0, 1.0))
            }
            "/eos/out/active/cue/text" => match a.as_slice() {
                [OscType::String(s)] => {
                    self.monitor.set_cue_text(s.chars().take(200).collect());
                    return Ok(());
                }
                _ => return Err(Verdict::BadArgs),
            },
            "/noir/learn" => match a.as_slice() {
                [OscType::String(s)] => {
                    self.learn = Some(MapTarget::parse(s).ok_or(Verdict::OutOfRange)?);
                    return Ok(());
                }
                _ => return Err(Verdict::BadArgs),
            },
            "/noir/unmap" => match a.as_slice() {
                [OscType::String(s)] => {
                    let mapped = self
                        .config
                        .read()
                        .map(|c| c.mappings.iter().any(|m| &m.address == s))
                        .unwrap_or(false);
                    if !mapped {
                        self.monitor
                            .note_error(format!("/noir/unmap {s:?}: that address is not mapped"));
                        return Err(Verdict::OutOfRange);
                    }
                    let s = s.clone();
                    self.write_config(|c| c.mappings.retain(|m| m.address != s));
                    return Ok(());
                }
                _ => return Err(Verdict::BadArgs),
            },
            "/noir/cues/load" => match a.as_slice() {
                [OscType::String(s)] => return self.load_cues(Some(s)),
                _ => return Err(Verdict::BadArgs),
            },
            "/noir/cues/clear" => return self.load_cues(None),
            addr => return self.other(addr, a),
        };
        self.push(ev);
        Ok(())
    }

    /// `/noir/cues/load ,s NAME` and `/noir/cues/clear`: only when the user chose a cue
    /// folder (and, listening on all interfaces, allowed remote loads); the file must be a
    /// `.json`/`.csv` inside that folder, no bigger than `MAX_NETWORK_CUE_BYTES`.
    fn load_cues(&mut self, path: Option<&str>) -> Result<(), Verdict> {
        if self.cues.is_none() {
            return Err(Verdict::Unknown);
        }
        let cfg = self.config.snapshot().0;
        let refuse = |monitor: &Monitor, why: String| {
            monitor.note_error(format!("cue sheet from the network refused: {why}"));
            Err(Verdict::OutOfRange)
        };
        let Some(folder) = cfg.cue_folder.as_deref().filter(|f| !f.is_empty()) else {
            return refuse(
                &self.monitor,
                "network cue loading is off (choose a cue folder in the OSC settings)".into(),
            );
        };
        if cfg.all_interfaces && !cfg.remote_cue_loads {
            return refuse(
                &self.monitor,
                "listening on all interfaces, and remote cue loads are not allowed".into(),
            );
        }
        let (sheet, source) = match path {
            None => (None, None),
            Some(p) => {
                let src = CueSource::read_confined(Path::new(folder), p, MAX_NETWORK_CUE_BYTES);
                match src.and_then(|s| Ok((s.parse()?, s))) {
                    Ok((sheet, src)) => (Some(Box::new(sheet)), Some(src)),
                    Err(e) => return refuse(&self.monitor, e.to_string()),
                }
            }
        };
        let link = self.cues.as_mut().expect("checked above");
        let names = sheet.as_deref().map_or_else(Vec::new, |s: &CueSheet| {
            s.cues.iter().map(|c| c.name_hash).collect()
        });
        if link.sheets.push(sheet).is_err() {
            self.monitor
                .note_error("cue sheet: the audio thread has not taken the last one yet".into());
            return Err(Verdict::OutOfRange);
        }
        link.cue_names = names;
        let path = source.as_ref().map(|s| s.path.clone());
        if let Ok(mut s) = link.store.write() {
            *s = source;
        }
        self.monitor
            .set_sheet(describe_sheet(path, link.cue_names.len()));
        // Our own write: the audio thread gets this sheet (in order with the events).
        link.generation = link.store.generation();
        self.push(LightEvent::SheetReady);
        Ok(())
    }

    /// Drops cue sheets the audio thread handed back (network thread).
    pub fn collect_garbage(&mut self) {
        if let Some(link) = self.cues.as_mut() {
            while let Ok(old) = link.garbage.pop() {
                drop(old);
            }
        }
    }

    /// DMX, Eos active cue, user mappings, learn, or unknown.
    fn other(&mut self, addr: &str, a: &[OscType]) -> Result<(), Verdict> {
        if let Some((u, ch)) = DmxDesk::parse_address(addr) {
            let v = nums::<1>(a)?[0];
            // An integer is a DMX level 0..255 (1 is 1/255, not full); a float is 0..1 as QLC+
            // sends it (or 0..255 when above 1, as some tools send).
            let integer = matches!(a[0], OscType::Int(_) | OscType::Long(_));
            return match self.dmx.set(u, ch, v, integer) {
                DmxOutcome::Event(ev) => {
                    self.push(ev);
                    Ok(())
                }
                // A channel of another fixture: understood, nothing to do.
                DmxOutcome::NotOurs => Ok(()),
                DmxOutcome::OutOfRange => Err(Verdict::OutOfRange),
            };
        }
        if let Some(rest) = addr.strip_prefix("/eos/out/active/cue/") {
            // `<list>/<cue>` with a percent-complete float.
            let mut parts = rest.split('/');
            let (Some(_list), Some(cue), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(Verdict::Unknown);
            };
            // Percent complete as osc.md has it: 0..1.
            let p = ranged(nums::<1>(a)?[0], 0.0, 1.0)?;
            self.push(LightEvent::CueProgress {
                cue: name_hash(cue),
                progress: p,
            });
            return Ok(());
        }
        let mapping = self
            .config
            .read()
            .ok()
            .and_then(|c| c.mappings.iter().find(|m| m.address == addr).cloned());
        let mapping = match (mapping, self.learn) {
            (Some(m), _) => m,
            (None, Some(target)) => {
                // Learn: bind this address; the first value picks the input scale.
                let v = a.first().and_then(num).ok_or(Verdict::BadArgs)?;
                let in_max = if v.abs() <= 1.0 {
                    1.0
                } else if v.abs() <= 100.0 {
                    100.0
                } else {
                    255.0
                };
                let m = UserMapping {
                    address: addr.to_string(),
                    target,
                    in_min: 0.0,
                    in_max,
                };
                if addr.len() > MAX_MAPPED_ADDRESS {
                    self.monitor.note_error(format!(
                        "learn: address longer than {MAX_MAPPED_ADDRESS} bytes not mapped"
                    ));
                    return Err(Verdict::OutOfRange);
                }
                let full = self
                    .config
                    .read()
                    .map(|c| c.mappings.len() >= MAX_MAPPINGS)
                    .unwrap_or(true);
                if full {
                    self.monitor
                        .note_error(format!("learn: already {MAX_MAPPINGS} mappings"));
                    return Err(Verdict::OutOfRange);
                }
                let stored = m.clone();
                self.write_config(move |c| {
                    c.mappings.retain(|x| x.address != stored.address);
                    c.mappings.push(stored);
                });
                self.learn = None;
                self.monitor
                    .note_learned(format!("{addr} -> {} (0..{in_max})", target.name()));
                m
            }
            (None, None) => return Err(Verdict::Unknown),
        };
        let v = a.first().and_then(num).ok_or(Verdict::BadArgs)?;
        let span = (mapping.in_max - mapping.in_min) as f64;
        if !v.is_finite() || span.abs() < 1e-9 {
            return Err(Verdict::OutOfRange);
        }
        let n = (v - mapping.in_min as f64) / span;
        if !(-0.01..=1.01).contains(&n) {
            return Err(Verdict::OutOfRange);
        }
        let n = clamp01(n as f32);
        let ev = match mapping.target {
            MapTarget::Intensity => LightEvent::Intensity(n),
            MapTarget::Red | MapTarget::Green | MapTarget::Blue => {
                let k = mapping.target as usize - MapTarget::Red as usize;
                self.mapped_rgb[k] = n;
                LightEvent::Rgb(self.mapped_rgb)
            }
            MapTarget::Hue | MapTarget::Saturation => {
                let k = (mapping.target == MapTarget::Saturation) as usize;
                self.mapped_hs[k] = n;
                let rgb = hsv_to_rgb(self.mapped_hs[0] * 360.0, self.mapped_hs[1], 1.0);
                self.mapped_rgb = rgb;
                LightEvent::Rgb(rgb)
            }
            MapTarget::Cct => LightEvent::Cct(CCT_MIN_K + n * (CCT_MAX_K - CCT_MIN_K)),
            MapTarget::Contrast => LightEvent::Contrast(n),
            MapTarget::Flicker => LightEvent::Flicker(n),
            MapTarget::Hit => {
                let rose = self.mapped_hit < 0.5 && n >= 0.5;
                self.mapped_hit = n;
                if !rose {
                    return Ok(());
                }
                LightEvent::Hit(1.0)
            }
            MapTarget::Bpm => LightEvent::Bpm(20.0 + n * 280.0),
            MapTarget::Valence => LightEvent::MoodOverride(MoodAxis::Valence, 2.0 * n - 1.0),
            MapTarget::Arousal => LightEvent::MoodOverride(MoodAxis::Arousal, n),
            MapTarget::Tension => LightEvent::MoodOverride(MoodAxis::Tension, n),
        };
        self.push(ev);
        Ok(())
    }
}

/// Binds per the configuration: (socket, port, clash). See the module docs for the order.
pub fn bind(cfg: &OscConfig) -> io::Result<(UdpSocket, u16, bool)> {
    let ip = if cfg.all_interfaces {
        Ipv4Addr::UNSPECIFIED
    } else {
        Ipv4Addr::LOCALHOST
    };
    let try_port = |p: u16| UdpSocket::bind(SocketAddrV4::new(ip, p));
    if cfg.port == 0 {
        let s = try_port(0)?;
        let p = s.local_addr()?.port();
        return Ok((s, p, false));
    }
    let window = |p: u16| p > cfg.port && p as u32 <= cfg.port as u32 + PORT_SEARCH as u32;
    if let Some(r) = cfg
        .remembered_port
        .filter(|&r| window(r) && cfg.auto_next_port)
    {
        if let Ok(s) = try_port(r) {
            return Ok((s, r, false));
        }
    }
    let first_err = match try_port(cfg.port) {
        Ok(s) => return Ok((s, cfg.port, false)),
        Err(e) => e,
    };
    if cfg.auto_next_port {
        for k in 1..=PORT_SEARCH {
            let Some(p) = cfg.port.checked_add(k) else {
                break;
            };
            if let Ok(s) = try_port(p) {
                return Ok((s, p, true));
            }
        }
    }
    Err(first_err)
}

/// What decides where the server listens (a change of any of these rebinds the socket).
fn bind_key(cfg: &OscConfig) -> (bool, u16, bool, bool) {
    (
        cfg.enabled,
        cfg.port,
        cfg.all_interfaces,
        cfg.auto_next_port,
    )
}

/// A bound socket and, after a clash, the configured address to take back.
struct Bound {
    /// The socket (with the read timeout set).
    sock: UdpSocket,
    /// The configured port's address while we hold another one.
    want: Option<SocketAddr>,
    /// When it was bound (the take-back window counts from here).
    since: Instant,
}

/// Binds per `cfg`, reporting in `monitor`; the decoder records a remembered port.
fn open(cfg: &OscConfig, decoder: &mut Decoder) -> io::Result<Bound> {
    let monitor = decoder.monitor.clone();
    let (sock, port, clash) = match bind(cfg) {
        Ok(b) => b,
        Err(e) => {
            monitor.port.store(0, Ordering::Relaxed);
            monitor.clash.store(true, Ordering::Relaxed);
            monitor.set_status(format!(
                "cannot listen on port {} (or the next {}): {e}",
                cfg.port, PORT_SEARCH
            ));
            return Err(e);
        }
    };
    sock.set_read_timeout(Some(READ_TIMEOUT))?;
    let local = sock.local_addr()?;
    monitor.port.store(port as u32, Ordering::Relaxed);
    monitor.clash.store(clash, Ordering::Relaxed);
    let status = if clash {
        format!(
            "port {} is taken: listening on {local} instead (remembered)",
            cfg.port
        )
    } else {
        format!("listening on {local}")
    };
    monitor.set_status(status);
    // On the configured port: nothing to remember. After a clash the fallback is
    // remembered only once the take-back window has passed (a host re-creating the
    // instance frees the port within it, and its state must not keep the fallback).
    if cfg.port != 0 && (port == cfg.port || !clash) {
        let remembered = (port != cfg.port).then_some(port);
        if cfg.remembered_port != remembered {
            decoder.write_config(|c| c.remembered_port = remembered);
        }
    }
    let want = (clash && cfg.port != 0).then(|| SocketAddr::new(local.ip(), cfg.port));
    Ok(Bound {
        sock,
        want,
        since: Instant::now(),
    })
}

/// A running OSC service: the socket (when OSC is on and a port could be bound) and its
/// network thread, which also applies a configuration or cue sheet the host loads while the
/// plugin runs. Dropping it stops the thread and frees the port.
pub struct OscServer {
    /// Set to stop the network thread.
    stop: Arc<AtomicBool>,
    /// The network thread.
    thread: Option<JoinHandle<()>>,
    /// Shared monitor.
    monitor: Arc<Monitor>,
}

impl OscServer {
    /// Binds (on this thread, so a clash is known at once) and starts the network thread;
    /// fails if no port could be bound. `config` is read for the port and written when a
    /// clash makes the server remember another port or a mapping is learned.
    pub fn start(
        config: Watched<OscConfig>,
        monitor: Arc<Monitor>,
        events: rtrb::Producer<LightEvent>,
        cues: Option<CueLink>,
    ) -> io::Result<OscServer> {
        let mut decoder = Decoder::new(config.clone(), monitor.clone(), events, cues);
        let cfg = config.snapshot().0;
        let bound = open(&cfg, &mut decoder)?;
        Self::run_thread(decoder, Some(bound), cfg)
    }

    /// Starts the service whatever happens to the socket: with OSC off or every port taken
    /// it still applies loaded state, and binds when the settings allow (retrying a failed
    /// bind every second).
    pub fn spawn(
        config: Watched<OscConfig>,
        monitor: Arc<Monitor>,
        events: rtrb::Producer<LightEvent>,
        cues: Option<CueLink>,
    ) -> io::Result<OscServer> {
        let mut decoder = Decoder::new(config.clone(), monitor.clone(), events, cues);
        let cfg = config.snapshot().0;
        let bound = if cfg.enabled {
            open(&cfg, &mut decoder).ok()
        } else {
            monitor.port.store(0, Ordering::Relaxed);
            monitor.set_status("OSC off".into());
            None
        };
        Self::run_thread(decoder, bound, cfg)
    }

    fn run_thread(decoder: Decoder, bound: Option<Bound>, cfg: OscConfig) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let monitor = decoder.monitor.clone();
        let thread = std::thread::Builder::new()
            .name("mood-noir-osc".into())
            .spawn({
                let stop = stop.clone();
                move || run(bound, decoder, stop, cfg)
            })?;
        Ok(OscServer {
            stop,
            thread: Some(thread),
            monitor,
        })
    }

    /// The port held (0 = none).
    pub fn port(&self) -> u16 {
        self.monitor.port.load(Ordering::Relaxed) as u16
    }

    /// The monitor.
    pub fn monitor(&self) -> &Arc<Monitor> {
        &self.monitor
    }
}

impl Drop for OscServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake a thread blocked in recv at once (the read timeout would anyway).
        let port = self.monitor.port.load(Ordering::Relaxed) as u16;
        if port != 0 {
            let to = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port);
            if let Ok(s) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) {
                let _ = s.send_to(b"\0\0\0\0", to);
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = self.monitor.port.compare_exchange(
            port as u32,
            0,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        self.monitor.set_status("stopped".into());
    }
}

/// The network thread.
fn run(mut bound: Option<Bound>, mut decoder: Decoder, stop: Arc<AtomicBool>, cfg: OscConfig) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut key = bind_key(&cfg);
    let mut cfg = cfg;
    let mut last_try = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        match bound.as_ref().map(|b| b.sock.recv_from(&mut buf)) {
            Some(Ok((n, from))) => {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                decoder.datagram_from(&buf[..n], Instant::now(), Some(from.ip()));
            }
            Some(Err(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Some(Err(e)) => {
                // ICMP errors and the like: note, back off a little, keep serving.
                decoder.monitor.note_error(format!("socket: {e}"));
                std::thread::sleep(Duration::from_millis(5));
            }
            None => std::thread::sleep(READ_TIMEOUT),
        }
        decoder.flush_pending();
        decoder.collect_garbage();
        decoder.cues_changed();
        // A session or preset loaded while running: rebind if the port settings changed.
        if let Some(new) = decoder.config_changed() {
            if bind_key(&new) != key {
                key = bind_key(&new);
                bound = None;
                decoder.monitor.port.store(0, Ordering::Relaxed);
                decoder.monitor.clash.store(false, Ordering::Relaxed);
                if new.enabled {
                    bound = open(&new, &mut decoder).ok();
                } else {
                    decoder.monitor.set_status("OSC off".into());
                }
                last_try = Instant::now();
            }
            cfg = new;
        }
        let now = Instant::now();
        if bound.is_none() && cfg.enabled && now.duration_since(last_try) > Duration::from_secs(1) {
            last_try = now;
            bound = open(&cfg, &mut decoder).ok();
        }
        let Some(b) = bound.as_mut() else {
            continue;
        };
        if let Some(addr) = b.want {
            if now.duration_since(b.since) > REACQUIRE_WINDOW {
                b.want = None;
                // A real clash: remember the port held so the desk's setting stays valid.
                let held = decoder.monitor.port.load(Ordering::Relaxed) as u16;
                decoder.write_config(|c| c.remembered_port = Some(held));
            } else if now.duration_since(last_try) > Duration::from_millis(100) {
                last_try = now;
                if let Ok(s) = UdpSocket::bind(addr) {
                    if s.set_read_timeout(Some(READ_TIMEOUT)).is_ok() {
                        b.sock = s;
                        b.want = None;
                        decoder
                            .monitor
                            .port
                            .store(addr.port() as u32, Ordering::Relaxed);
                        decoder.monitor.clash.store(false, Ordering::Relaxed);
                        decoder
                            .monitor
                            .set_status(format!("listening on {addr} (taken back)"));
                        decoder.write_config(|c| c.remembered_port = None);
                    }
                }
            }
        }
    }
    decoder.collect_garbage();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_check_rejects_junk_and_deep_bundles() {
        assert!(check_structure(b"/a\0\0,\0\0\0", 0).is_ok());
        assert!(check_structure(b"/a\0", 0).is_err());
        assert!(check_structure(b"xxxx", 0).is_err());
        // Nest bundles 9 deep around one message.
        let mut p = rosc::encoder::encode(&OscPacket::Message(OscMessage {
            addr: "/light/hit".into(),
            args: vec![],
        }))
        .unwrap();
        for depth in 1..=9 {
            p = rosc::encoder::encode(&OscPacket::Bundle(rosc::OscBundle {
                timetag: rosc::OscTime {
                    seconds: 0,
                    fractional: 1,
                },
                content: vec![rosc::decoder::decode_udp(&p).unwrap().1],
            }))
            .unwrap();
            assert_eq!(
                check_structure(&p, 0).is_ok(),
                depth <= MAX_BUNDLE_DEPTH,
                "{depth}"
            );
        }
    }

    #[test]
    fn tap_tempo_takes_the_median() {
        let mut t = TapTempo::default();
        let t0 = Instant::now();
        assert_eq!(t.tap(t0), None);
        let mut bpm = None;
        for (i, dt) in [0.5, 0.5, 0.52, 0.5].iter().enumerate() {
            bpm = t.tap(t0 + Duration::from_secs_f32(0.5 * i as f32 + dt));
        }
        assert!((bpm.unwrap() - 120.0).abs() < 2.0, "{bpm:?}");
    }

    #[test]
    fn every_address_understood_is_in_docs_osc_md() {
        let doc = include_str!("../../docs/osc.md");
        let src = include_str!("osc.rs");
        let mut n = 0;
        for line in src.lines() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix("\"/") {
                if let Some(end) = rest.find("\" =>") {
                    let addr = format!("/{}", &rest[..end]);
                    assert!(
                        doc.contains(&format!("`{addr}`")),
                        "docs/osc.md lacks {addr}"
                    );
                    n += 1;
                }
            }
        }
        assert!(n >= 20, "found only {n} addresses");
        for out in [
            "/noir/out/mood",
            "/noir/out/tempo",
            "/noir/out/beat",
            "/noir/out/cue",
        ] {
            assert!(doc.contains(out));
        }
    }

    #[test]
    fn map_targets_round_trip() {
        for t in MapTarget::ALL {
            assert_eq!(MapTarget::parse(t.name()), Some(t));
        }
    }
}
