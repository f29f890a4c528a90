//! `Monitor`: what the light input is doing, readable from the GUI thread (and printed by
//! `mood-noir osc-monitor`). Counters, the bound port and the derived mood are atomics; the
//! latest values per address and the recent errors sit behind a mutex that only the network
//! thread and the GUI/main thread touch. The audio thread writes only atomics
//! (`publish_mood`, `count_block`), never the mutex.

use crate::mood::Mood;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// Most addresses the latest-values table keeps (a desk spraying addresses cannot grow it).
pub const MAX_ADDRESSES: usize = 128;
/// Recent error lines kept.
pub const MAX_ERRORS: usize = 16;

/// Message counters.
#[derive(Default, Debug)]
pub struct Counters {
    /// UDP datagrams received.
    pub datagrams: AtomicU64,
    /// Datagrams fully handled (their events queued, their verdicts counted).
    pub handled: AtomicU64,
    /// OSC messages understood and applied (or queued).
    pub accepted: AtomicU64,
    /// Datagrams that are not valid OSC (bad padding, trailing bytes, too deep bundles...).
    pub malformed: AtomicU64,
    /// Messages to addresses nobody understands (and no user mapping covers).
    pub unknown: AtomicU64,
    /// Messages with wrong argument types or counts.
    pub bad_args: AtomicU64,
    /// Messages with numbers out of range (NaN, absurd values).
    pub out_of_range: AtomicU64,
    /// Values superseded by a newer value of the same kind while the audio thread's queue
    /// was full (the newest always gets through).
    pub queue_full: AtomicU64,
    /// Datagrams from senders outside the allow-list.
    pub refused_sender: AtomicU64,
    /// Audio blocks processed while the server ran (written by the audio thread).
    pub audio_blocks: AtomicU64,
    /// Events the audio thread applied.
    pub applied: AtomicU64,
}

/// A snapshot of counters (plain numbers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountSnapshot {
    /// See `Counters`.
    pub datagrams: u64,
    /// See `Counters`.
    pub handled: u64,
    /// See `Counters`.
    pub accepted: u64,
    /// See `Counters`.
    pub malformed: u64,
    /// See `Counters`.
    pub unknown: u64,
    /// See `Counters`.
    pub bad_args: u64,
    /// See `Counters`.
    pub out_of_range: u64,
    /// See `Counters`.
    pub queue_full: u64,
    /// See `Counters`.
    pub refused_sender: u64,
    /// See `Counters`.
    pub audio_blocks: u64,
    /// See `Counters`.
    pub applied: u64,
}

impl CountSnapshot {
    /// Everything ignored (malformed, unknown, bad arguments, out of range).
    pub fn ignored(&self) -> u64 {
        self.malformed + self.unknown + self.bad_args + self.out_of_range + self.refused_sender
    }
}

/// The mutex-guarded part: network and GUI threads only.
#[derive(Debug, Default)]
struct Latest {
    /// Latest arguments (as text) per address, with a per-address count.
    values: BTreeMap<String, (String, u64)>,
    /// Recent errors, oldest first.
    errors: Vec<String>,
    /// The bound address, e.g. "127.0.0.1:9000", or why nothing is bound.
    status: String,
    /// The latest Eos cue text.
    cue_text: String,
    /// Where user mappings were learned (for the editor to show).
    learned: Vec<String>,
    /// The cue sheet the light follows, e.g. "scene.csv (3 cues)"; empty for none.
    sheet: String,
    /// Where OSC feedback goes now, as the sender thread last said ("→ 10.0.0.5:8001 ·
    /// 10 Hz", "off", "not sending: ..."); empty while no sender runs.
    feedback: String,
    /// The address feedback is sent to, while it is sent.
    feedback_target: Option<std::net::SocketAddr>,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct Monitor {
    /// Message counters.
    pub counts: Counters,
    /// The UDP port held (0 = none).
    pub port: AtomicU32,
    /// The configured port was taken when the server started (and another was bound).
    pub clash: AtomicBool,
    /// The derived light mood: valence, arousal, tension as f32 bits.
    mood: [AtomicU32; 3],
    /// Whether `mood` holds a value (a light source is active).
    mood_valid: AtomicBool,
    /// The light's intensity as f32 bits.
    intensity: AtomicU32,
    /// The mutex-guarded part.
    latest: Mutex<Latest>,
}

/// Everything the monitor knows, as plain data (GUI/main thread).
#[derive(Clone, Debug, Default)]
pub struct MonitorSnapshot {
    /// Counters.
    pub counts: CountSnapshot,
    /// Bound port (0 = none).
    pub port: u16,
    /// The configured port was taken.
    pub clash: bool,
    /// Status line.
    pub status: String,
    /// The derived light mood, if a light source is active.
    pub mood: Option<Mood>,
    /// The light's intensity, if present.
    pub intensity: Option<f32>,
    /// Latest arguments per address: (address, arguments, count).
    pub values: Vec<(String, String, u64)>,
    /// Recent errors.
    pub errors: Vec<String>,
    /// Latest Eos cue text.
    pub cue_text: String,
    /// Learned mappings (descriptions).
    pub learned: Vec<String>,
    /// The cue sheet the light follows ("" for none).
    pub sheet: String,
    /// Where OSC feedback goes now ("" while no sender runs, i.e. the plugin is inactive).
    pub feedback: String,
    /// The address feedback is sent to, while it is sent.
    pub feedback_target: Option<std::net::SocketAddr>,
}

impl Monitor {
    /// A fresh monitor.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Latest> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Network thread: a message to `addr` with `args` was accepted.
    pub fn note_value(&self, addr: &str, args: String) {
        self.counts.accepted.fetch_add(1, Relaxed);
        let mut l = self.lock();
        if let Some(v) = l.values.get_mut(addr) {
            v.0 = args;
            v.1 += 1;
        } else if l.values.len() < MAX_ADDRESSES {
            l.values.insert(addr.to_string(), (args, 1));
        }
    }

    /// Network thread: an error line (the counter is bumped by the caller).
    pub fn note_error(&self, msg: String) {
        let mut l = self.lock();
        if l.errors.len() >= MAX_ERRORS {
            l.errors.remove(0);
        }
        l.errors.push(msg);
    }

    /// Network/main thread: the status line.
    pub fn set_status(&self, s: String) {
        self.lock().status = s;
    }

    /// Network/main thread: the cue sheet in use (a description; "" for none).
    pub fn set_sheet(&self, s: String) {
        self.lock().sheet = s;
    }

    /// Feedback sender thread: where feedback goes now (`target` None while nothing is
    /// sent) and the line the editor shows.
    pub fn set_feedback(&self, target: Option<std::net::SocketAddr>, line: String) {
        let mut l = self.lock();
        l.feedback_target = target;
        l.feedback = line;
    }

    /// Where feedback is sent now (main/GUI thread: takes the mutex).
    pub fn feedback_target(&self) -> Option<std::net::SocketAddr> {
        self.lock().feedback_target
    }

    /// Network thread: Eos cue text.
    pub fn set_cue_text(&self, s: String) {
        self.lock().cue_text = s;
    }

    /// Network thread: a mapping was learned.
    pub fn note_learned(&self, s: String) {
        let mut l = self.lock();
        if l.learned.len() >= MAX_ERRORS {
            l.learned.remove(0);
        }
        l.learned.push(s);
    }

    /// Audio thread (atomics only): the derived mood and intensity after a block.
    pub fn publish_mood(&self, mood: Option<Mood>, intensity: Option<f32>) {
        if let Some(m) = mood {
            self.mood[0].store(m.valence.to_bits(), Relaxed);
            self.mood[1].store(m.arousal.to_bits(), Relaxed);
            self.mood[2].store(m.tension.to_bits(), Relaxed);
        }
        self.mood_valid.store(mood.is_some(), Relaxed);
        self.intensity
            .store(intensity.map_or(u32::MAX, f32::to_bits), Relaxed);
    }

    /// Audio thread (atomics only): one block processed, `applied` events applied in it.
    pub fn count_block(&self, applied: u64) {
        self.counts.audio_blocks.fetch_add(1, Relaxed);
        if applied > 0 {
            self.counts.applied.fetch_add(applied, Relaxed);
        }
    }

    /// The derived mood (any thread).
    pub fn mood(&self) -> Option<Mood> {
        self.mood_valid.load(Relaxed).then(|| Mood {
            valence: f32::from_bits(self.mood[0].load(Relaxed)),
            arousal: f32::from_bits(self.mood[1].load(Relaxed)),
            tension: f32::from_bits(self.mood[2].load(Relaxed)),
        })
    }

    /// Counters (any thread).
    pub fn counts(&self) -> CountSnapshot {
        let c = &self.counts;
        CountSnapshot {
            datagrams: c.datagrams.load(Relaxed),
            handled: c.handled.load(Relaxed),
            accepted: c.accepted.load(Relaxed),
            malformed: c.malformed.load(Relaxed),
            unknown: c.unknown.load(Relaxed),
            bad_args: c.bad_args.load(Relaxed),
            out_of_range: c.out_of_range.load(Relaxed),
            queue_full: c.queue_full.load(Relaxed),
            refused_sender: c.refused_sender.load(Relaxed),
            audio_blocks: c.audio_blocks.load(Relaxed),
            applied: c.applied.load(Relaxed),
        }
    }

    /// Everything (GUI/main thread: takes the mutex).
    pub fn snapshot(&self) -> MonitorSnapshot {
        let l = self.lock();
        let bits = self.intensity.load(Relaxed);
        MonitorSnapshot {
            counts: self.counts(),
            port: self.port.load(Relaxed) as u16,
            clash: self.clash.load(Relaxed),
            status: l.status.clone(),
            mood: self.mood(),
            intensity: (bits != u32::MAX).then(|| f32::from_bits(bits)),
            values: l
                .values
                .iter()
                .map(|(a, (v, n))| (a.clone(), v.clone(), *n))
                .collect(),
            errors: l.errors.clone(),
            cue_text: l.cue_text.clone(),
            learned: l.learned.clone(),
            sheet: l.sheet.clone(),
            feedback: l.feedback.clone(),
            feedback_target: l.feedback_target,
        }
    }
}

impl MonitorSnapshot {
    /// A human-readable report (the `osc-monitor` CLI prints it).
    pub fn report(&self) -> String {
        use std::fmt::Write;
        let c = &self.counts;
        let mut s = String::new();
        let _ = writeln!(s, "status: {}", self.status);
        let _ = writeln!(
            s,
            "datagrams {}  accepted {}  ignored {} (malformed {}, unknown {}, bad args {}, out of range {}, refused senders {})  superseded while the queue was full {}",
            c.datagrams, c.accepted, c.ignored(), c.malformed, c.unknown, c.bad_args, c.out_of_range, c.refused_sender, c.queue_full
        );
        match self.mood {
            Some(m) => {
                let _ = writeln!(
                    s,
                    "light mood: valence {:+.3}  arousal {:.3}  tension {:.3}",
                    m.valence, m.arousal, m.tension
                );
            }
            None => {
                let _ = writeln!(s, "light mood: (no light yet)");
            }
        }
        if let Some(i) = self.intensity {
            let _ = writeln!(s, "intensity: {i:.3}");
        }
        if !self.sheet.is_empty() {
            let _ = writeln!(s, "cue sheet: {}", self.sheet);
        }
        if !self.feedback.is_empty() {
            let _ = writeln!(s, "feedback: {}", self.feedback);
        }
        if !self.cue_text.is_empty() {
            let _ = writeln!(s, "eos cue: {}", self.cue_text);
        }
        for (a, v, n) in &self.values {
            let _ = writeln!(s, "  {a:<32} {v:<28} x{n}");
        }
        for l in &self.learned {
            let _ = writeln!(s, "learned: {l}");
        }
        for e in &self.errors {
            let _ = writeln!(s, "error: {e}");
        }
        s
    }
}
