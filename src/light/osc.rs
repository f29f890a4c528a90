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
use rosc::{OscMessage, OscPacket, OscType};
use serde::{Deserialize, Serialize};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
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

/// The OSC settings persisted with the plugin state (`osc-config`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// Where and how often the plugin sends its mood, cue, beat and tempo back
    /// (`light/feedback.rs`).
    #[serde(default)]
    pub feedback: super::feedback::FeedbackConfig,
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
            feedback: Default::default(),
        }
    }
}

/// The cue-sheet path between the network thread (which loads sheets on `/noir/cues/load`)
/// and the audio thread: new sheets go in, replaced ones come back to be dropped here.
pub struct CueLink {
    /// New sheets (`None` unloads) for the audio thread.
    pub sheets: rtrb::Producer<Option<Box<CueSheet>>>,
    /// Replaced sheets coming back from the audio thread, dropped on the network thread.
    pub garbage: rtrb::Consumer<Box<CueSheet>>,
    /// The persisted cue sheet (`cue-sheet`): path and text.
    pub store: Arc<RwLock<Option<CueSource>>>,
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

/// Network-thread state: turns datagrams into events. Usable without a socket (tests, the
/// bench).
pub struct Decoder {
    /// The persisted configuration (mappings are read and learned here).
    config: Arc<RwLock<OscConfig>>,
    /// Counters and latest values.
    monitor: Arc<Monitor>,
    /// Where events go.
    events: rtrb::Producer<LightEvent>,
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
        config: Arc<RwLock<OscConfig>>,
        monitor: Arc<Monitor>,
        events: rtrb::Producer<LightEvent>,
        cues: Option<CueLink>,
    ) -> Self {
        let fixture = config.read().map(|c| c.fixture).unwrap_or_default();
        Self {
            config,
            monitor,
            events,
            cues,
            dmx: DmxDesk::new(fixture),
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

    /// Handles one datagram received at `now`.
    pub fn datagram(&mut self, bytes: &[u8], now: Instant) {
        self.datagram_inner(bytes, now);
        self.monitor.counts.handled.fetch_add(1, Ordering::Release);
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

    fn push(&mut self, ev: LightEvent) {
        if self.events.push(ev).is_err() {
            self.monitor
                .counts
                .queue_full
                .fetch_add(1, Ordering::Relaxed);
        }
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
            "/cue/go" => match a.as_slice() {
                [OscType::String(s)] => LightEvent::CueGo(CueRef::Name(name_hash(s))),
                [x] => {
                    let v = num(x).ok_or(Verdict::BadArgs)?;
                    if !((1.0..=1e6).contains(&v) && v.fract() == 0.0) {
                        return Err(Verdict::OutOfRange);
                    }
                    LightEvent::CueGo(CueRef::Index(v as u32))
                }
                _ => return Err(Verdict::BadArgs),
            },
            "/eos/out/color/hs" => {
                // Eos sends hue in degrees and saturation in percent; 0..1 is accepted too.
                let [h, s] = nums::<2>(a)?;
                let h = ranged(h, 0.0, 360.0)?;
                let s = ranged(s, 0.0, 100.0)?;
                let h = if h <= 1.0 { h * 360.0 } else { h };
                let s = if s > 1.0 { s / 100.0 } else { s };
                LightEvent::Rgb(hsv_to_rgb(h, s, 1.0))
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
                    if let Ok(mut c) = self.config.write() {
                        c.mappings.retain(|m| &m.address != s);
                    }
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

    fn load_cues(&mut self, path: Option<&str>) -> Result<(), Verdict> {
        let Some(link) = self.cues.as_mut() else {
            return Err(Verdict::Unknown);
        };
        let (sheet, source) = match path {
            None => (None, None),
            Some(p) => {
                let src = CueSource::read(Path::new(p));
                match src.and_then(|s| Ok((s.parse()?, s))) {
                    Ok((sheet, src)) => (Some(Box::new(sheet)), Some(src)),
                    Err(e) => {
                        self.monitor.note_error(format!("cue sheet: {e}"));
                        return Err(Verdict::OutOfRange);
                    }
                }
            }
        };
        if link.sheets.push(sheet).is_err() {
            self.monitor
                .note_error("cue sheet: the audio thread has not taken the last one yet".into());
            return Err(Verdict::OutOfRange);
        }
        if let Ok(mut s) = link.store.write() {
            *s = source;
        }
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
            return match self.dmx.set(u, ch, v) {
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
            let v = nums::<1>(a)?[0];
            let p = ranged(v, 0.0, 100.0)?;
            let p = if p > 1.0 { p / 100.0 } else { p };
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
                if let Ok(mut c) = self.config.write() {
                    c.mappings.retain(|x| x.address != addr);
                    c.mappings.push(m.clone());
                }
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

/// A running OSC server; dropping it stops the thread and frees the port.
pub struct OscServer {
    /// Set to stop the network thread.
    stop: Arc<AtomicBool>,
    /// The network thread.
    thread: Option<JoinHandle<()>>,
    /// Where the socket was bound (for the wake-up datagram).
    local: SocketAddr,
    /// Shared monitor.
    monitor: Arc<Monitor>,
}

impl OscServer {
    /// Binds (on this thread) and starts the network thread. `config` is read for the port
    /// and written when a clash makes the server remember another port or a mapping is
    /// learned.
    pub fn start(
        config: Arc<RwLock<OscConfig>>,
        monitor: Arc<Monitor>,
        events: rtrb::Producer<LightEvent>,
        cues: Option<CueLink>,
    ) -> io::Result<OscServer> {
        let cfg = config.read().map(|c| c.clone()).unwrap_or_default();
        let (sock, port, clash) = match bind(&cfg) {
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
            if let Ok(mut c) = config.write() {
                c.remembered_port = (port != cfg.port).then_some(port);
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let decoder = Decoder::new(config.clone(), monitor.clone(), events, cues);
        let want = (clash && cfg.port != 0).then_some(cfg.port);
        let thread = std::thread::Builder::new()
            .name("mood-noir-osc".into())
            .spawn({
                let stop = stop.clone();
                let ip = local.ip();
                move || {
                    run(
                        sock,
                        decoder,
                        stop,
                        want.map(|p| SocketAddr::new(ip, p)),
                        config,
                    )
                }
            })?;
        Ok(OscServer {
            stop,
            thread: Some(thread),
            local,
            monitor,
        })
    }

    /// The port held.
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
        let to = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port.max(self.local.port()));
        if let Ok(s) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) {
            let _ = s.send_to(b"\0\0\0\0", to);
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
fn run(
    mut sock: UdpSocket,
    mut decoder: Decoder,
    stop: Arc<AtomicBool>,
    want: Option<SocketAddr>,
    config: Arc<RwLock<OscConfig>>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let started = Instant::now();
    let mut want = want;
    let mut last_try = started;
    while !stop.load(Ordering::SeqCst) {
        match sock.recv_from(&mut buf) {
            Ok((n, _)) => {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                decoder.datagram(&buf[..n], Instant::now());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                // ICMP errors and the like: note, back off a little, keep serving.
                decoder.monitor.note_error(format!("socket: {e}"));
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        decoder.collect_garbage();
        if let Some(addr) = want {
            let now = Instant::now();
            if now.duration_since(started) > REACQUIRE_WINDOW {
                want = None;
                // A real clash: remember the port held so the desk's setting stays valid.
                let held = decoder.monitor.port.load(Ordering::Relaxed) as u16;
                if let Ok(mut c) = config.write() {
                    c.remembered_port = Some(held);
                }
            } else if now.duration_since(last_try) > Duration::from_millis(100) {
                last_try = now;
                if let Ok(s) = UdpSocket::bind(addr) {
                    if s.set_read_timeout(Some(READ_TIMEOUT)).is_ok() {
                        sock = s;
                        want = None;
                        decoder
                            .monitor
                            .port
                            .store(addr.port() as u32, Ordering::Relaxed);
                        decoder.monitor.clash.store(false, Ordering::Relaxed);
                        decoder
                            .monitor
                            .set_status(format!("listening on {addr} (taken back)"));
                        if let Ok(mut c) = config.write() {
                            c.remembered_port = None;
                        }
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
    fn map_targets_round_trip() {
        for t in MapTarget::ALL {
            assert_eq!(MapTarget::parse(t.name()), Some(t));
        }
    }
}
