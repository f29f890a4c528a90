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
//! `LightLink::publish`); a small sender thread owned by the `LightLink` reads them at the
//! configured rate, encodes with `rosc` and sends UDP datagrams. Cue names are looked up on
//! the sender thread from the persisted cue sheet (the audio thread publishes the cue's
//! name hash). Dropping the link stops and joins the thread (within one tick, at most 100 ms).

use super::cues::CueSource;
use super::event::name_hash;
use super::monitor::Monitor;
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
    /// Where to: `host:port` (an address, or a name resolved when the sender starts).
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
}

/// Beats in a bar (the engine plays 4/4).
const BEATS_PER_BAR: f64 = 4.0;

impl FeedbackState {
    /// Audio thread: stores the engine's live state. Atomics only.
    pub fn publish(&self, engine: &Engine) {
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

fn send(sock: &UdpSocket, to: SocketAddr, addr: &str, args: Vec<OscType>) -> bool {
    let packet = OscPacket::Message(OscMessage {
        addr: addr.to_string(),
        args,
    });
    match rosc::encoder::encode(&packet) {
        Ok(bytes) => sock.send_to(&bytes, to).is_ok(),
        Err(_) => false,
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
    /// The resolved target.
    target: SocketAddr,
}

impl FeedbackSender {
    /// Starts sending per `config` (main thread, `activate()`); `cues` is the persisted cue
    /// sheet (for names). Errors (a bad target, no socket) are also noted in the monitor.
    pub fn start(
        config: &FeedbackConfig,
        cues: Watched<Option<CueSource>>,
        monitor: Arc<Monitor>,
    ) -> Result<FeedbackSender, String> {
        let result = Self::start_inner(config, cues);
        if let Err(e) = &result {
            monitor.note_error(format!("OSC feedback off: {e}"));
        }
        result
    }

    fn start_inner(
        config: &FeedbackConfig,
        cues: Watched<Option<CueSource>>,
    ) -> Result<FeedbackSender, String> {
        let target = config.resolve()?;
        let bind: SocketAddr = if target.is_ipv4() {
            "0.0.0.0:0".parse().expect("valid")
        } else {
            "[::]:0".parse().expect("valid")
        };
        let sock = UdpSocket::bind(bind).map_err(|e| format!("feedback socket: {e}"))?;
        let rate = if config.rate_hz.is_finite() {
            config.rate_hz.clamp(MIN_RATE_HZ, MAX_RATE_HZ)
        } else {
            FeedbackConfig::default().rate_hz
        };
        let period = Duration::from_secs_f32(1.0 / rate);
        let state = Arc::new(FeedbackState::default());
        state.cue_index.store(NO_CUE, Relaxed);
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("mood-noir-osc-feedback".into())
            .spawn(move || {
                let mut names = CueNames::default();
                let mut last: Option<Snapshot> = None;
                let mut last_cue_sent = Instant::now() - Duration::from_secs(10);
                let mut next = Instant::now();
                while !sp.load(Relaxed) {
                    let now = Instant::now();
                    if now < next {
                        // Sleep in short steps so a stop is seen promptly.
                        std::thread::sleep((next - now).min(Duration::from_millis(100)));
                        continue;
                    }
                    next = (next + period).max(now);
                    let s = st.snapshot();
                    if last.is_some_and(|l| l.blocks == s.blocks) || s.blocks == 0 {
                        continue; // the audio is not running: nothing new to say
                    }
                    let m = s.mood;
                    send(
                        &sock,
                        target,
                        "/noir/out/mood",
                        vec![
                            OscType::Float(m[0]),
                            OscType::Float(m[1]),
                            OscType::Float(m[2]),
                        ],
                    );
                    send(
                        &sock,
                        target,
                        "/noir/out/tempo",
                        vec![OscType::Float(s.tempo)],
                    );
                    if last.is_none_or(|l| (l.bar, l.beat) != (s.bar, s.beat)) {
                        send(
                            &sock,
                            target,
                            "/noir/out/beat",
                            vec![OscType::Int(s.bar as i32), OscType::Int(s.beat as i32)],
                        );
                    }
                    let cue_changed = last.is_none_or(|l| l.cue != s.cue);
                    if let Some((_, hash)) = s.cue {
                        if cue_changed || last_cue_sent.elapsed() >= Duration::from_secs(1) {
                            if let Some(name) = names.name(hash, &cues) {
                                send(&sock, target, "/noir/out/cue", vec![OscType::String(name)]);
                                last_cue_sent = Instant::now();
                            }
                        }
                    }
                    last = Some(s);
                }
            })
            .map_err(|e| format!("feedback thread: {e}"))?;
        Ok(FeedbackSender {
            state,
            stop,
            thread: Some(thread),
            target,
        })
    }

    /// The state the audio thread publishes into.
    pub fn state(&self) -> &FeedbackState {
        &self.state
    }

    /// Where feedback goes.
    pub fn target(&self) -> SocketAddr {
        self.target
    }
}

impl Drop for FeedbackSender {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
