//! OSC feedback: the desk hears back. With a feedback target set in the OSC settings
//! (`osc-config` → `feedback`), the plugin sends the live mood, the current cue, bar/beat and
//! tempo to `host:port` at a user-set rate:
//!
//! | address | arguments | when |
//! | --- | --- | --- |
//! | `/noir/out/mood` | f f f: valence -1..1, arousal 0..1, tension 0..1 (what the band plays) | every tick |
//! | `/noir/out/tempo` | f BPM | every tick |
//! | `/noir/out/beat` | i i: bar, beat (both from 1) | when the beat changes |
//! | `/noir/out/cue` | s name of the cue playing | when it changes, and once a second |
//!
//! Threads: the audio thread only stores atomics (`FeedbackState::publish`, called from
//! `LightLink::publish`, and only while the sender has a target); a small sender thread owned
//! by the `LightLink` runs from activation to deactivation whether feedback is on or not. It
//! watches the persisted `OscConfig` (a `Watched`): when the editor or a loaded session
//! changes `feedback`, it re-resolves the target (on its own thread, never the audio or GUI
//! thread), rebinds its socket when the address family changes and takes the new rate, within
//! `POLL_S`. At the configured rate it reads the atomics, encodes with `rosc` and sends UDP
//! datagrams, and it reports where it sends in the `Monitor` for the editor. Cue names are
//! looked up on the sender thread from the persisted cue sheet (the audio thread publishes the
//! cue's name hash). Nothing here reads or writes a file. Dropping the link stops, unparks and
//! joins the thread at once (or once a name lookup under way returns).

use super::cues::CueSource;
use super::event::name_hash;
use super::monitor::Monitor;
use super::osc::OscConfig;
use crate::engine::Engine;
use crate::watched::Watched;
use rosc::{OscMessage, OscPacket, OscType};
use serde::{Deserialize, Serialize};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Fastest feedback rate, messages a second.
pub const MAX_RATE_HZ: f32 = 60.0;
/// Slowest feedback rate.
pub const MIN_RATE_HZ: f32 = 1.0;
/// "No cue" in `FeedbackState::cue_index`.
const NO_CUE: u32 = u32::MAX;

/// The feedback settings (part of the persisted `OscConfig`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedbackConfig {
    /// Send feedback at all.
    pub enabled: bool,
    /// Where to: `host:port` (an address, or a name the sender thread resolves when it
    /// starts or the target changes).
    pub target: String,
    /// Ticks a second (1..60).
    pub rate_hz: f32,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            target: "127.0.0.1:9001".into(),
            rate_hz: 10.0,
        }
    }
}

impl FeedbackConfig {
    /// The target as a socket address.
    pub fn resolve(&self) -> Result<SocketAddr, String> {
        self.target
            .to_socket_addrs()
            .map_err(|e| format!("feedback target {:?}: {e}", self.target))?
            .next()
            .ok_or_else(|| format!("feedback target {:?} has no address", self.target))
    }
}

/// What the audio thread publishes for the sender (atomics only).
#[derive(Debug, Default)]
pub struct FeedbackState {
    /// Live mood: valence, arousal, tension as f32 bits.
    mood: [AtomicU32; 3],
    /// Tempo, f32 bits.
    tempo: AtomicU32,
    /// Bar from 1.
    bar: AtomicU32,
    /// Beat in the bar from 1.
    beat: AtomicU32,
    /// Index of the cue playing (`NO_CUE` for none).
    cue_index: AtomicU32,
    /// Name hash of the cue playing.
    cue_hash: AtomicU64,
    /// Blocks published (the sender sends only while this moves).
    blocks: AtomicU64,
    /// The sender has somewhere to send (set by the sender thread; while false the audio
    /// thread publishes nothing).
    active: AtomicBool,
}

/// Beats in a bar (the engine plays 4/4).
const BEATS_PER_BAR: f64 = 4.0;

impl FeedbackState {
    /// Audio thread: stores the engine's live state. Atomics only.
    pub fn publish(&self, engine: &Engine) {
        if !self.active.load(Relaxed) {
            return;
        }
        let m = engine.mood();
        self.mood[0].store(m.valence.to_bits(), Relaxed);
        self.mood[1].store(m.arousal.to_bits(), Relaxed);
        self.mood[2].store(m.tension.to_bits(), Relaxed);
        self.tempo
            .store((engine.tempo_bpm() as f32).to_bits(), Relaxed);
        let pos = engine.beat_position().max(0.0);
        self.bar.store((pos / BEATS_PER_BAR) as u32 + 1, Relaxed);
        self.beat.store((pos % BEATS_PER_BAR) as u32 + 1, Relaxed);
        let light = engine.light();
        let cue = light.held_cue().or_else(|| {
            light.sheet().and_then(|s| {
                s.cue_index_at(match s.base {
                    super::TimeBase::Seconds => engine.timeline_seconds(),
                    super::TimeBase::Beats => pos,
                })
            })
        });
        match (cue, light.sheet()) {
            (Some(k), Some(s)) if k < s.cues.len() => {
                self.cue_hash.store(s.cues[k].name_hash, Relaxed);
                self.cue_index.store(k as u32, Relaxed);
            }
            _ => self.cue_index.store(NO_CUE, Relaxed),
        }
        self.blocks.fetch_add(1, Relaxed);
    }
}

/// One tick's values as plain data.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Snapshot {
    mood: [f32; 3],
    tempo: f32,
    bar: u32,
    beat: u32,
    cue: Option<(u32, u64)>,
    blocks: u64,
}

impl FeedbackState {
    fn snapshot(&self) -> Snapshot {
        let idx = self.cue_index.load(Relaxed);
        Snapshot {
            mood: [0, 1, 2].map(|i| f32::from_bits(self.mood[i].load(Relaxed))),
            tempo: f32::from_bits(self.tempo.load(Relaxed)),
            bar: self.bar.load(Relaxed),
            beat: self.beat.load(Relaxed),
            cue: (idx != NO_CUE).then(|| (idx, self.cue_hash.load(Relaxed))),
            blocks: self.blocks.load(Relaxed),
        }
    }
}

/// Cue names by hash, from the persisted sheet (sender thread).
#[derive(Default)]
struct CueNames {
    /// The source text the names came from (re-read when it changes).
    text_len_and_hash: (usize, u64),
    /// Names by hash.
    names: Vec<(u64, String)>,
}

impl CueNames {
    fn name(&mut self, hash: u64, store: &Watched<Option<CueSource>>) -> Option<String> {
        if let Some((_, n)) = self.names.iter().find(|(h, _)| *h == hash) {
            return Some(n.clone());
        }
        let src = store.read().ok()?.clone()?;
        let key = (src.text.len(), name_hash(&src.text));
        if key != self.text_len_and_hash {
            self.text_len_and_hash = key;
            self.names = src
                .parse()
                .map(|s| s.cues.into_iter().map(|c| (c.name_hash, c.name)).collect())
                .unwrap_or_default();
        }
        self.names
            .iter()
            .find(|(h, _)| *h == hash)
            .map(|(_, n)| n.clone())
    }
}

fn send(sock: &UdpSocket, to: SocketAddr, addr: &str, args: Vec<OscType>) -> Result<(), String> {
    let packet = OscPacket::Message(OscMessage {
        addr: addr.to_string(),
        args,
    });
    let bytes = rosc::encoder::encode(&packet).map_err(|e| e.to_string())?;
    sock.send_to(&bytes, to)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The rate the sender uses for `rate_hz`: 1..60 a second; not a number gives the default.
pub fn clamp_rate_hz(rate_hz: f32) -> f32 {
    if rate_hz.is_finite() {
        rate_hz.clamp(MIN_RATE_HZ, MAX_RATE_HZ)
    } else {
        FeedbackConfig::default().rate_hz
    }
}

/// How often the sender thread looks at the stop flag and the configuration while it waits.
const POLL_S: f32 = 0.05;
/// How long after a target failed to resolve (or bind) the sender tries it again.
const RETRY_S: f32 = 5.0;

/// Where the sender thread sends now: the settings it applied and the socket they gave.
/// Built on the calling thread by `FeedbackSender::start` (so a bad target is reported at
/// once), then moved into the sender thread, which alone touches it.
struct Sink {
    /// The persisted OSC settings (only `feedback` is read).
    config: Watched<OscConfig>,
    /// The configuration generation last looked at.
    seen: u64,
    /// The feedback settings last applied.
    applied: FeedbackConfig,
    /// The socket and the resolved target, while sending.
    out: Option<(UdpSocket, SocketAddr)>,
    /// Time between ticks.
    period: Duration,
    /// When to try a target that failed again (None: no failure pending).
    retry_at: Option<Instant>,
    /// The last send failed (reported once, until a send succeeds).
    failing: bool,
    /// Where errors and the status line go.
    monitor: Arc<Monitor>,
    /// Told whether anyone listens (the audio thread skips publishing when not).
    state: Arc<FeedbackState>,
}

impl Sink {
    fn new(config: Watched<OscConfig>, monitor: Arc<Monitor>, state: Arc<FeedbackState>) -> Self {
        let mut sink = Sink {
            seen: config.generation(),
            config,
            applied: FeedbackConfig::default(),
            out: None,
            period: Duration::from_secs(1),
            retry_at: None,
            failing: false,
            monitor,
            state,
        };
        let fb = sink.read();
        sink.apply(fb, Instant::now(), false);
        sink
    }

    /// The feedback part of the configuration (the generation is read first by the caller).
    fn read(&self) -> FeedbackConfig {
        match self.config.read() {
            Ok(c) => c.feedback.clone(),
            Err(e) => e.into_inner().feedback.clone(),
        }
    }

    /// Applies a configuration written since the last look (or retries a failed target when
    /// due). Returns whether where or how often it sends changed (the caller then starts
    /// its clock and what it has said afresh).
    fn refresh(&mut self, now: Instant) -> bool {
        let g = self.config.generation();
        if g != self.seen {
            self.seen = g;
            let fb = self.read();
            if fb != self.applied {
                self.apply(fb, now, false);
                return true;
            }
        }
        if self.retry_at.is_some_and(|t| now >= t) {
            self.apply(self.applied.clone(), now, true);
            return self.out.is_some();
        }
        false
    }

    /// Takes `fb` as the settings: rate, on/off, and the target (re-resolved and the socket
    /// rebound only when the target or its address family changes).
    fn apply(&mut self, fb: FeedbackConfig, now: Instant, retry: bool) {
        self.period = Duration::from_secs_f32(1.0 / clamp_rate_hz(fb.rate_hz));
        self.retry_at = None;
        self.failing = false;
        if !fb.enabled {
            self.out = None;
        } else if self.out.is_none() || fb.target != self.applied.target || retry {
            match self.open(&fb) {
                Ok(out) => self.out = Some(out),
                Err(e) => {
                    self.out = None;
                    self.retry_at = Some(now + Duration::from_secs_f32(RETRY_S));
                    if !retry {
                        self.monitor.note_error(format!("OSC feedback off: {e}"));
                    }
                    self.monitor.set_feedback(
                        None,
                        format!("not sending: {e} (trying again every {RETRY_S:.0} s)"),
                    );
                }
            }
        }
        self.applied = fb;
        self.state.active.store(self.out.is_some(), Relaxed);
        if self.retry_at.is_none() {
            self.monitor
                .set_feedback(self.target(), self.status_line(None));
        }
    }

    /// A socket for `fb`'s target: the one held if the address family fits, else a new one.
    fn open(&mut self, fb: &FeedbackConfig) -> Result<(UdpSocket, SocketAddr), String> {
        let target = fb.resolve()?;
        if let Some((sock, _)) = self.out.take() {
            if sock
                .local_addr()
                .is_ok_and(|a| a.is_ipv4() == target.is_ipv4())
            {
                return Ok((sock, target));
            }
        }
        let bind: SocketAddr = if target.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let sock = UdpSocket::bind(bind).map_err(|e| format!("feedback socket: {e}"))?;
        Ok((sock, target))
    }

    /// The resolved target while sending.
    fn target(&self) -> Option<SocketAddr> {
        self.out.as_ref().map(|(_, t)| *t)
    }

    /// What the editor shows: "→ 10.0.0.5:8001 · 10 Hz", the name and its address for a
    /// host name, "off", or the last send error.
    fn status_line(&self, error: Option<&str>) -> String {
        let Some(to) = self.target() else {
            return "off".into();
        };
        let name = self.applied.target.trim();
        let mut s = if name == to.to_string() {
            format!("→ {to}")
        } else {
            format!("→ {name} ({to})")
        };
        s += &format!(" · {:.0} Hz", clamp_rate_hz(self.applied.rate_hz));
        if let Some(e) = error {
            s += &format!(" · send failed: {e}");
        }
        s
    }

    /// Sends one message, noting the first failure of a run (and the recovery after it).
    fn send(&mut self, addr: &str, args: Vec<OscType>) {
        let Some((sock, to)) = &self.out else {
            return;
        };
        match send(sock, *to, addr, args) {
            Ok(()) if self.failing => {
                self.failing = false;
                self.monitor
                    .set_feedback(self.target(), self.status_line(None));
            }
            Ok(()) => {}
            Err(e) if !self.failing => {
                self.failing = true;
                self.monitor
                    .set_feedback(self.target(), self.status_line(Some(&e)));
            }
            Err(_) => {}
        }
    }
}

/// The sender thread and its stop flag. See the module docs.
pub struct FeedbackSender {
    /// Where the audio thread publishes.
    state: Arc<FeedbackState>,
    /// Set to stop the thread.
    stop: Arc<AtomicBool>,
    /// The thread.
    thread: Option<JoinHandle<()>>,
    /// Where the thread reports where it sends (cleared when it stops).
    monitor: Arc<Monitor>,
}

impl FeedbackSender {
    /// Starts the sender thread (main thread, `activate()`): it applies `config`'s
    /// `feedback` now (a bad target is noted in the monitor at once) and again whenever the
    /// configuration is written, idling while feedback is off. `cues` is the persisted cue
    /// sheet (for names).
    pub fn start(
        config: Watched<OscConfig>,
        cues: Watched<Option<CueSource>>,
        monitor: Arc<Monitor>,
    ) -> Result<FeedbackSender, String> {
        let state = Arc::new(FeedbackState::default());
        state.cue_index.store(NO_CUE, Relaxed);
        let sink = Sink::new(config, monitor.clone(), state.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("mood-noir-osc-feedback".into())
            .spawn(move || run(sink, st, sp, cues))
            .map_err(|e| {
                let e = format!("feedback thread: {e}");
                monitor.note_error(format!("OSC feedback off: {e}"));
                monitor.set_feedback(None, String::new());
                e
            })?;
        Ok(FeedbackSender {
            state,
            stop,
            thread: Some(thread),
            monitor,
        })
    }

    /// The state the audio thread publishes into.
    pub fn state(&self) -> &FeedbackState {
        &self.state
    }

    /// Where feedback goes now (None while it is off or its target failed).
    pub fn target(&self) -> Option<SocketAddr> {
        self.monitor.feedback_target()
    }
}

/// The sender thread: applies configuration changes, then at each tick sends what the
/// audio thread published (nothing while the audio is stopped or feedback is off).
fn run(
    mut sink: Sink,
    st: Arc<FeedbackState>,
    stop: Arc<AtomicBool>,
    cues: Watched<Option<CueSource>>,
) {
    let poll = Duration::from_secs_f32(POLL_S);
    let mut names = CueNames::default();
    let mut last: Option<Snapshot> = None;
    let mut last_cue_sent = Instant::now() - Duration::from_secs(10);
    let mut next = Instant::now();
    while !stop.load(Relaxed) {
        let now = Instant::now();
        if sink.refresh(now) {
            // A new target or rate: start the clock now and tell the desk everything.
            last = None;
            next = now;
        }
        if sink.out.is_none() {
            last = None;
            // Parked, not asleep: stopping unparks it at once (hosts reactivate often).
            std::thread::park_timeout(poll);
            continue;
        }
        if now < next {
            // Sleep in short steps so a stop or a new configuration is seen promptly.
            std::thread::park_timeout((next - now).min(poll));
            continue;
        }
        next = (next + sink.period).max(now);
        let s = st.snapshot();
        if last.is_some_and(|l| l.blocks == s.blocks) || s.blocks == 0 {
            continue; // the audio is not running: nothing new to say
        }
        let m = s.mood;
        sink.send(
            "/noir/out/mood",
            vec![
                OscType::Float(m[0]),
                OscType::Float(m[1]),
                OscType::Float(m[2]),
            ],
        );
        sink.send("/noir/out/tempo", vec![OscType::Float(s.tempo)]);
        if last.is_none_or(|l| (l.bar, l.beat) != (s.bar, s.beat)) {
            sink.send(
                "/noir/out/beat",
                vec![OscType::Int(s.bar as i32), OscType::Int(s.beat as i32)],
            );
        }
        let cue_changed = last.is_none_or(|l| l.cue != s.cue);
        if let Some((_, hash)) = s.cue {
            if cue_changed || last_cue_sent.elapsed() >= Duration::from_secs(1) {
                if let Some(name) = names.name(hash, &cues) {
                    sink.send("/noir/out/cue", vec![OscType::String(name)]);
                    last_cue_sent = Instant::now();
                }
            }
        }
        last = Some(s);
    }
    st.active.store(false, Relaxed);
}

impl Drop for FeedbackSender {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            // Wake it from its wait so the join takes microseconds, not up to `POLL_S`.
            t.thread().unpark();
            let _ = t.join();
        }
        // No sender: the editor falls back to the saved settings.
        self.monitor.set_feedback(None, String::new());
    }
}
