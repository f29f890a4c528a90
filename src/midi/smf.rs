//! Standard MIDI File export of a render: a conductor track (tempo map, 4/4) and one track per
//! instrument plus a mood-lane track, timed in beats exactly as the engine scheduled them.
//! Main thread (CLI); allocates freely.

use super::{
    mood_ccs, MidiMapper, MidiMsg, CH_BASS, CH_BRASS, CH_DRUMS, CH_HARP, CH_HONKY, CH_KEYS,
    CH_LEAD, CH_MOOD, CH_PAD, CH_PERC, CH_PIANO, CH_PREPARED, PROGRAMS,
};
use crate::engine::Engine;
use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

/// Ticks per quarter note.
pub const PPQ: u16 = 960;
/// Drum notes last a thirty-second note.
const DRUM_TICKS: u64 = PPQ as u64 / 8;

/// Channels in track order, with track names.
const TRACKS: [(u8, &str); 12] = [
    (CH_BASS, "Upright bass"),
    (CH_DRUMS, "Brushed drums"),
    (CH_KEYS, "Rhodes"),
    (CH_LEAD, "Lead horn"),
    (CH_PAD, "Strings pad"),
    (CH_PIANO, "Piano"),
    (CH_HONKY, "Honky-tonk piano"),
    (CH_PREPARED, "Prepared piano"),
    (CH_HARP, "Harp"),
    (CH_BRASS, "Brass section"),
    (CH_PERC, "Percussion (GM keys)"),
    (CH_MOOD, "Mood (CC20 valence, CC21 arousal, CC22 tension)"),
];

/// Collects a render's events and writes them as a Standard MIDI File.
#[derive(Default)]
pub struct SmfRecorder {
    /// (tick, order, channel, message) for the instrument and mood tracks.
    events: Vec<(u64, u64, MidiMsg)>,
    /// (tick, microseconds per quarter) for the conductor track.
    tempo: Vec<(u64, u32)>,
    /// Note bookkeeping so every note is closed.
    mapper: MidiMapper,
    /// Insertion counter (keeps equal-tick events in played order).
    order: u64,
    /// Last mood lane values written (0..127), to write only changes.
    last_cc: [i16; 3],
}

fn to_tick(beat: f64) -> u64 {
    (beat.max(0.0) * PPQ as f64).round() as u64
}

impl SmfRecorder {
    /// An empty recording.
    pub fn new() -> Self {
        Self {
            last_cc: [-1; 3],
            ..Default::default()
        }
    }

    /// Records what the engine played in its last `process` call.
    pub fn record_block(&mut self, engine: &Engine) {
        for mark in engine.beat_marks() {
            let t = to_tick(mark.beat as f64);
            let us = (60_000_000.0 / mark.tempo_bpm.max(1.0)).round() as u32;
            if self.tempo.last().map(|&(_, u)| u) != Some(us) {
                self.tempo.push((t, us));
            }
            for (i, cc) in mood_ccs(mark.mood).into_iter().enumerate() {
                if let MidiMsg::Cc { value, .. } = cc {
                    let v = (value.clamp(0.0, 1.0) * 127.0).round() as i16;
                    if v != self.last_cc[i] {
                        self.last_cc[i] = v;
                        self.push(t, cc);
                    }
                }
            }
        }
        for played in engine.played_events() {
            let t = to_tick(played.event.beat);
            let mut out = Vec::new();
            self.mapper.map(&played.event.kind, &mut |m| out.push(m));
            for m in out {
                let at = match m {
                    MidiMsg::Off {
                        channel: CH_DRUMS | CH_PERC,
                        ..
                    } => t + DRUM_TICKS,
                    _ => t,
                };
                self.push(at, m);
            }
        }
    }

    fn push(&mut self, tick: u64, m: MidiMsg) {
        self.order += 1;
        self.events.push((tick, self.order, m));
    }

    /// Closes sounding notes at `end_beat` (where the audio ends) and returns the file's
    /// bytes; the tracks end there too.
    pub fn finish(mut self, end_beat: f64) -> Vec<u8> {
        let end = to_tick(end_beat.max(0.0));
        // Nothing may outlast the audio (a drum note's tail at the very end is cut short).
        for e in self.events.iter_mut() {
            e.0 = e.0.min(end);
        }
        let mut offs = Vec::new();
        self.mapper.all_off(&mut |m| offs.push(m));
        for m in offs {
            self.push(end, m);
        }
        self.events.sort_by_key(|&(t, o, _)| (t, o));

        let mut tracks: Vec<Vec<TrackEvent>> = Vec::new();
        // Conductor.
        let mut conductor = vec![
            TrackEvent {
                delta: u28::new(0),
                kind: TrackEventKind::Meta(MetaMessage::TrackName(b"Mood Noir")),
            },
            TrackEvent {
                delta: u28::new(0),
                kind: TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8)),
            },
        ];
        let mut last = 0u64;
        let tempo = if self.tempo.is_empty() {
            vec![(0, 500_000)]
        } else {
            self.tempo.clone()
        };
        for (t, us) in tempo {
            conductor.push(TrackEvent {
                delta: u28::new((t - last.min(t)) as u32),
                kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(us.min(0xFF_FFFF)))),
            });
            last = last.max(t);
        }
        conductor.push(TrackEvent {
            delta: u28::new((end.saturating_sub(last)) as u32),
            kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
        });
        tracks.push(conductor);

        for (channel, name) in TRACKS {
            let mut tr = vec![TrackEvent {
                delta: u28::new(0),
                kind: TrackEventKind::Meta(MetaMessage::TrackName(name.as_bytes())),
            }];
            if let Some(&(_, program)) = PROGRAMS.iter().find(|(c, _)| *c == channel) {
                tr.push(TrackEvent {
                    delta: u28::new(0),
                    kind: TrackEventKind::Midi {
                        channel: u4::new(channel),
                        message: MidiMessage::ProgramChange {
                            program: u7::new(program),
                        },
                    },
                });
            }
            let mut last = 0u64;
            for &(t, _, m) in &self.events {
                let (ch, message) = match m {
                    MidiMsg::On {
                        channel,
                        key,
                        velocity,
                    } => (
                        channel,
                        MidiMessage::NoteOn {
                            key: u7::new(key.min(127)),
                            vel: u7::new(
                                ((velocity.clamp(0.0, 1.0) * 126.0).round() as u8 + 1).min(127),
                            ),
                        },
                    ),
                    MidiMsg::Off { channel, key } => (
                        channel,
                        MidiMessage::NoteOff {
                            key: u7::new(key.min(127)),
                            vel: u7::new(64),
                        },
                    ),
                    MidiMsg::Cc { channel, cc, value } => (
                        channel,
                        MidiMessage::Controller {
                            controller: u7::new(cc.min(127)),
                            value: u7::new((value.clamp(0.0, 1.0) * 127.0).round() as u8),
                        },
                    ),
                };
                if ch != channel {
                    continue;
                }
                tr.push(TrackEvent {
                    delta: u28::new((t - last) as u32),
                    kind: TrackEventKind::Midi {
                        channel: u4::new(ch),
                        message,
                    },
                });
                last = t;
            }
            tr.push(TrackEvent {
                delta: u28::new((end.saturating_sub(last)) as u32),
                kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
            });
            tracks.push(tr);
        }
        let smf = Smf {
            header: Header::new(Format::Parallel, Timing::Metrical(u15::new(PPQ))),
            tracks,
        };
        let mut bytes = Vec::new();
        smf.write_std(&mut bytes)
            .expect("writing to memory cannot fail");
        bytes
    }
}
