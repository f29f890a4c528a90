//! The plugin's live MIDI output: turns what the engine played in a block into MIDI messages
//! and sends them in time order, delayed by the plugin's latency so they line up with the
//! audio. Drum notes get a short length, every note-on gets its note-off (on jumps, resets and
//! reactivation too), and a message the host refused is retried in the next block rather
//! than forgotten. Audio thread: fixed-capacity storage allocated in `new`, no locks.

use super::{mood_ccs, MidiMapper, MidiMsg, CH_DRUMS};
use crate::engine::Engine;

/// Messages that can wait in the delay queue.
pub const OUT_QUEUE_CAPACITY: usize = 4096;
/// How long a drum note lasts, seconds (GM drum kits ignore the length; samplers do not).
pub const DRUM_NOTE_S: f64 = 0.03;

/// One message waiting for its time.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Pending {
    /// Absolute output sample (counted from `MidiOut::new`) at which it goes out.
    due: u64,
    /// The message.
    msg: MidiMsg,
}

/// See the module docs.
pub struct MidiOut {
    /// Sounding-note bookkeeping (logical state at the time the engine played).
    mapper: MidiMapper,
    /// Messages sorted by `due` (equal times keep the order they were made in).
    queue: Box<[Pending; OUT_QUEUE_CAPACITY]>,
    /// Valid entries at the front of `queue`.
    len: usize,
    /// Output sample at the start of the current block.
    clock: u64,
    /// Delay applied to everything the engine plays (the latency the plugin reports).
    latency: u64,
    /// Drum note length in samples.
    drum_len: u64,
    /// The engine's relocation count last seen.
    relocations_seen: u64,
    /// End every sounding note at the start of the next block (reset, reactivation).
    panic: bool,
    /// Messages that did not fit in the queue (should stay 0).
    pub dropped: u64,
}

impl MidiOut {
    /// An output for `sample_rate` delaying by `latency` samples; allocates its queue.
    pub fn new(sample_rate: f32, latency: u32) -> Self {
        let empty = Pending {
            due: 0,
            msg: MidiMsg::Off { channel: 0, key: 0 },
        };
        let mut out = Self {
            mapper: MidiMapper::default(),
            queue: Box::new([empty; OUT_QUEUE_CAPACITY]),
            len: 0,
            clock: 0,
            latency: 0,
            drum_len: 1,
            relocations_seen: 0,
            panic: false,
            dropped: 0,
        };
        out.configure(sample_rate, latency);
        out
    }

    /// A new sample rate or latency (main thread, `activate()`); sounding notes end at the
    /// next block.
    pub fn configure(&mut self, sample_rate: f32, latency: u32) {
        self.latency = latency as u64;
        self.drum_len = ((DRUM_NOTE_S * sample_rate as f64).round() as u64).max(1);
        self.relocations_seen = 0;
        self.panic = true;
    }

    /// Everything sounding ends at the start of the next block, and what waits is dropped but
    /// its note-offs (`reset()`, `deactivate()`: the host may call either at any time).
    pub fn panic(&mut self) {
        self.panic = true;
    }

    /// Notes currently sounding or waiting to be sent (for tests and the editor).
    pub fn pending(&self) -> usize {
        self.len
    }

    fn insert(&mut self, due: u64, msg: MidiMsg) {
        if self.len == OUT_QUEUE_CAPACITY {
            // Never lose a note-off: make room by dropping the latest note-on or controller.
            let victim = if matches!(msg, MidiMsg::Off { .. }) {
                (0..self.len)
                    .rev()
                    .find(|&i| !matches!(self.queue[i].msg, MidiMsg::Off { .. }))
            } else {
                None
            };
            match victim {
                Some(i) => {
                    self.queue.copy_within(i + 1..self.len, i);
                    self.len -= 1;
                }
                None => {
                    self.dropped += 1;
                    return;
                }
            }
            self.dropped += 1;
        }
        let mut i = self.len;
        while i > 0 && self.queue[i - 1].due > due {
            self.queue[i] = self.queue[i - 1];
            i -= 1;
        }
        self.queue[i] = Pending { due, msg };
        self.len += 1;
    }

    fn end_everything(&mut self, due: u64) {
        // Waiting note-ons and controllers are dropped; waiting note-offs go out now.
        let mut kept = 0;
        for i in 0..self.len {
            if let MidiMsg::Off { .. } = self.queue[i].msg {
                self.queue[kept] = Pending {
                    due,
                    msg: self.queue[i].msg,
                };
                kept += 1;
            }
        }
        self.len = kept;
        let mut offs = [MidiMsg::Off { channel: 0, key: 0 }; 160];
        let mut n = 0;
        self.mapper.all_off(&mut |m| {
            if n < offs.len() {
                offs[n] = m;
                n += 1;
            }
        });
        for &m in &offs[..n] {
            self.insert(due, m);
        }
    }

    /// One block of `len` samples: schedules what `engine` played in its last `process` call
    /// and sends, in time order, everything due inside this block through `send(offset, msg)`,
    /// which returns false when the host refused it (that message and the rest wait for the
    /// next block, at its start).
    pub fn block(
        &mut self,
        engine: &Engine,
        len: usize,
        mut send: impl FnMut(u32, MidiMsg) -> bool,
    ) {
        let start = self.clock;
        if self.panic {
            self.panic = false;
            self.relocations_seen = engine.relocations();
            self.end_everything(start);
        } else if engine.relocations() != self.relocations_seen {
            // A jump or loop: the band went silent and re-located at the block start.
            self.relocations_seen = engine.relocations();
            self.end_everything(start + self.latency);
        }
        let delay = start + self.latency;
        for mark in engine.beat_marks() {
            for cc in mood_ccs(mark.mood) {
                self.insert(delay + mark.offset as u64, cc);
            }
        }
        let mut msgs = [MidiMsg::Off { channel: 0, key: 0 }; 16];
        for played in engine.played_events() {
            let at = delay + played.offset as u64;
            let mut n = 0;
            self.mapper.map(&played.event.kind, &mut |m| {
                if n < msgs.len() {
                    msgs[n] = m;
                    n += 1;
                }
            });
            for &m in &msgs[..n] {
                let due = match m {
                    MidiMsg::Off {
                        channel: CH_DRUMS, ..
                    } => at + self.drum_len,
                    _ => at,
                };
                self.insert(due, m);
            }
        }
        let end = start + len as u64;
        let mut sent = 0;
        while sent < self.len && self.queue[sent].due < end {
            let p = self.queue[sent];
            let offset = p.due.saturating_sub(start) as u32;
            if !send(offset, p.msg) {
                // The host's queue is full: keep this and everything after it, in order, for
                // the start of the next block.
                for q in self.queue[sent..self.len].iter_mut() {
                    if q.due < end {
                        q.due = end;
                    }
                }
                break;
            }
            sent += 1;
        }
        self.queue.copy_within(sent..self.len, 0);
        self.len -= sent;
        self.clock = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{HostTransport, Settings};

    fn run(out: &mut MidiOut, engine: &mut Engine, blocks: usize, n: usize) -> Vec<(u64, MidiMsg)> {
        let mut l = vec![0.0; n];
        let mut r = vec![0.0; n];
        let mut got = Vec::new();
        for _ in 0..blocks {
            engine.process(&HostTransport::default(), &mut l, &mut r);
            let start = out.clock;
            out.block(engine, n, |o, m| {
                assert!((o as usize) < n, "offset {o} outside a block of {n}");
                got.push((start + o as u64, m));
                true
            });
        }
        got
    }

    #[test]
    fn messages_are_sorted_delayed_and_drums_have_length() {
        let mut e = Engine::new(48_000.0, Settings::default());
        let lat = e.latency_samples() as u32;
        let mut out = MidiOut::new(48_000.0, lat);
        let got = run(&mut out, &mut e, 3000, 333);
        assert!(got.len() > 200, "{}", got.len());
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "out of order");
        // Nothing before the latency: the band's first beat is at sample 0 of the engine.
        assert!(got[0].0 >= lat as u64, "first at {}", got[0].0);
        let drum_len = (DRUM_NOTE_S * 48_000.0).round() as u64;
        let mut on_at = [None; 128];
        let mut lengths = Vec::new();
        for &(t, m) in &got {
            match m {
                MidiMsg::On {
                    channel: CH_DRUMS,
                    key,
                    ..
                } => on_at[key as usize] = Some(t),
                MidiMsg::Off {
                    channel: CH_DRUMS,
                    key,
                } => {
                    if let Some(t0) = on_at[key as usize].take() {
                        lengths.push(t - t0);
                    }
                }
                _ => {}
            }
        }
        assert!(!lengths.is_empty());
        assert!(
            lengths.iter().all(|&d| d == drum_len || d == 0),
            "{lengths:?}"
        );
        assert!(lengths.iter().filter(|&&d| d == drum_len).count() * 10 >= lengths.len() * 9);
    }

    #[test]
    fn refused_messages_are_retried_not_forgotten() {
        let mut e = Engine::new(48_000.0, Settings::default());
        let mut out = MidiOut::new(48_000.0, 0);
        let mut l = vec![0.0; 256];
        let mut r = vec![0.0; 256];
        let mut accepted = Vec::new();
        let mut ons = 0i64;
        for b in 0..2000 {
            e.process(&HostTransport::default(), &mut l, &mut r);
            // A host whose queue takes only two events per block, and none every third block.
            let mut room = if b % 3 == 0 { 0 } else { 2 };
            out.block(&e, 256, |_, m| {
                if room == 0 {
                    return false;
                }
                room -= 1;
                accepted.push(m);
                true
            });
        }
        out.panic();
        e.process(&HostTransport::default(), &mut l, &mut r);
        for _ in 0..200 {
            out.block(&e, 256, |_, m| {
                accepted.push(m);
                true
            });
        }
        let mut sounding = std::collections::HashMap::<(u8, u8), i64>::new();
        for m in &accepted {
            match *m {
                MidiMsg::On { channel, key, .. } => {
                    ons += 1;
                    *sounding.entry((channel, key)).or_default() += 1;
                }
                MidiMsg::Off { channel, key } => {
                    let c = sounding.entry((channel, key)).or_default();
                    *c = (*c - 1).max(0);
                }
                _ => {}
            }
        }
        assert!(ons > 50);
        let hanging: Vec<_> = sounding.iter().filter(|(_, &c)| c > 0).collect();
        assert!(hanging.is_empty(), "hanging notes: {hanging:?}");
    }

    #[test]
    fn panic_ends_every_sounding_note_at_once() {
        let mut e = Engine::new(48_000.0, Settings::default());
        let mut out = MidiOut::new(48_000.0, 192);
        let got = run(&mut out, &mut e, 200, 512);
        let mut sounding = std::collections::HashSet::new();
        for &(_, m) in &got {
            match m {
                MidiMsg::On { channel, key, .. } => {
                    sounding.insert((channel, key));
                }
                MidiMsg::Off { channel, key } => {
                    sounding.remove(&(channel, key));
                }
                _ => {}
            }
        }
        assert!(
            !sounding.is_empty(),
            "something should be sounding mid-song"
        );
        out.panic();
        e.reset();
        let mut first_block = Vec::new();
        out.block(&e, 512, |o, m| {
            first_block.push((o, m));
            true
        });
        for (o, m) in &first_block {
            if let MidiMsg::Off { channel, key } = *m {
                assert_eq!(*o, 0);
                sounding.remove(&(channel, key));
            }
        }
        assert!(sounding.is_empty(), "still sounding: {sounding:?}");
    }
}
