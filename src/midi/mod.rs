//! The score as MIDI: one channel per instrument (General MIDI programs and drum notes, so
//! any GM synth or sample library plays the parts), mood as controller lanes. `MidiMapper`
//! turns engine events into MIDI messages without allocating (the plugin uses it on the audio
//! thread for its note output); `write_smf` builds a Standard MIDI File (CLI, main thread).

pub mod out;
pub mod smf;

use crate::composer::events::{EventKind, Keyboard};
use crate::mood::Mood;
use crate::voices::DrumHit;

/// MIDI channel (0-based) per part.
pub const CH_BASS: u8 = 0;
/// Keys channel.
pub const CH_KEYS: u8 = 1;
/// Lead channel.
pub const CH_LEAD: u8 = 2;
/// Pad channel.
pub const CH_PAD: u8 = 3;
/// The keys player's acoustic piano (its own channel: a GM piano, not the Rhodes patch).
pub const CH_PIANO: u8 = 4;
/// The honky-tonk upright (the *Border town* style's piano).
pub const CH_HONKY: u8 = 7;
/// The prepared grand (the *Reservoir* style's piano).
pub const CH_PREPARED: u8 = 8;
/// The channels the sustain pedal goes to (every piano's).
pub const PEDAL_CHANNELS: [u8; 3] = [CH_PIANO, CH_HONKY, CH_PREPARED];
/// Sustain pedal controller (the piano's).
pub const CC_SUSTAIN: u8 = 64;
/// The harp (GM 47, orchestral harp).
pub const CH_HARP: u8 = 5;
/// The brass section (GM 62, brass section).
pub const CH_BRASS: u8 = 6;
/// The percussion section: General MIDI percussion keys (bongos 60/61, congas 62-64,
/// timbales 65/66, claves 75, cowbell 56, guiro 73/74, maracas 70, snare 38/40, wood block
/// 76) on channel 11 (0-based 10), its own channel so a DAW gets its own track; route it to a
/// drum kit (GM2 hosts: bank 120), or move it to channel 10 for a plain GM synth (as
/// `scripts/compare-gm.sh` does).
pub const CH_PERC: u8 = 10;
/// Drums on the General MIDI percussion channel (10, 0-based 9).
pub const CH_DRUMS: u8 = 9;
/// Mood controller lanes.
pub const CH_MOOD: u8 = 15;
/// Controller numbers for the mood lanes (general-purpose controllers 20-22).
pub const CC_VALENCE: u8 = 20;
/// Arousal lane.
pub const CC_AROUSAL: u8 = 21;
/// Tension lane.
pub const CC_TENSION: u8 = 22;

/// General MIDI programs (0-based) per channel: acoustic bass, electric piano 1, tenor sax,
/// string ensemble 1, acoustic grand piano, honky-tonk piano, acoustic grand (for the
/// prepared piano: GM has none; a sampler maps its own); and the GS/GM2 brush kit (40) on the
/// drum channel.
pub const PROGRAMS: [(u8, u8); 10] = [
    (CH_BASS, 32),
    (CH_KEYS, 4),
    (CH_LEAD, 66),
    (CH_PAD, 48),
    (CH_PIANO, 0),
    (CH_HONKY, 3),
    (CH_PREPARED, 0),
    (CH_DRUMS, 40),
    (CH_HARP, 46),
    (CH_BRASS, 61),
];

/// The channel a keyboard plays on.
pub fn keys_channel(k: Keyboard) -> u8 {
    match k {
        Keyboard::Rhodes => CH_KEYS,
        Keyboard::Grand => CH_PIANO,
        Keyboard::HonkyTonk => CH_HONKY,
        Keyboard::Prepared => CH_PREPARED,
    }
}

/// One MIDI message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MidiMsg {
    /// Note on (velocity 0..1).
    On { channel: u8, key: u8, velocity: f32 },
    /// Note off.
    Off { channel: u8, key: u8 },
    /// Control change (value 0..1).
    Cc { channel: u8, cc: u8, value: f32 },
}

/// General MIDI percussion key for a drum stroke.
pub fn drum_key(hit: DrumHit) -> u8 {
    match hit {
        DrumHit::Kick => 36,
        DrumHit::BrushTap => 38,
        DrumHit::BrushSweep { .. } => 40,
        DrumHit::Ride => 51,
        DrumHit::RideBell => 53,
        DrumHit::HatFoot => 44,
        DrumHit::CrossStick => 37,
        DrumHit::Crash => 49,
    }
}

/// The mood lanes as controller messages.
pub fn mood_ccs(m: Mood) -> [MidiMsg; 3] {
    [
        MidiMsg::Cc {
            channel: CH_MOOD,
            cc: CC_VALENCE,
            value: (m.valence + 1.0) * 0.5,
        },
        MidiMsg::Cc {
            channel: CH_MOOD,
            cc: CC_AROUSAL,
            value: m.arousal,
        },
        MidiMsg::Cc {
            channel: CH_MOOD,
            cc: CC_TENSION,
            value: m.tension,
        },
    ]
}

/// Tracks sounding notes so every note-on gets its note-off (monophonic bass and lead, the
/// pad's chord, the keys' held notes).
#[derive(Clone, Debug)]
pub struct MidiMapper {
    /// Sounding bass note.
    bass: Option<u8>,
    /// Sounding lead note.
    lead: Option<u8>,
    /// Sounding pad notes.
    pad: [u8; 6],
    /// Number of sounding pad notes.
    pad_len: usize,
    /// Sounding keys, by key number: 0 silent, else the channel + 1 (Rhodes or piano).
    keys: [u8; 128],
    /// The piano's sustain pedal is down.
    pedal: bool,
    /// Sounding harp strings, by key.
    harp: [bool; 128],
    /// Sounding brass notes, by key.
    brass: [bool; 128],
}

impl Default for MidiMapper {
    fn default() -> Self {
        Self {
            bass: None,
            lead: None,
            pad: [0; 6],
            pad_len: 0,
            keys: [0; 128],
            pedal: false,
            harp: [false; 128],
            brass: [false; 128],
        }
    }
}

impl MidiMapper {
    /// Forget every sounding note (after `all_off`, or a reset).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Note-offs for everything still sounding (on a jump, stop or the end of a file).
    pub fn all_off(&mut self, emit: &mut impl FnMut(MidiMsg)) {
        if let Some(k) = self.bass.take() {
            emit(MidiMsg::Off {
                channel: CH_BASS,
                key: k,
            });
        }
        if let Some(k) = self.lead.take() {
            emit(MidiMsg::Off {
                channel: CH_LEAD,
                key: k,
            });
        }
        for &k in &self.pad[..self.pad_len] {
            emit(MidiMsg::Off {
                channel: CH_PAD,
                key: k,
            });
        }
        self.pad_len = 0;
        self.keys_off(emit);
        for (channel, held) in [(CH_HARP, &mut self.harp), (CH_BRASS, &mut self.brass)] {
            for k in 0..128u8 {
                if std::mem::take(&mut held[k as usize]) {
                    emit(MidiMsg::Off { channel, key: k });
                }
            }
        }
    }

    /// Every sounding key ends and the pedal comes up.
    fn keys_off(&mut self, emit: &mut impl FnMut(MidiMsg)) {
        for k in 0..128u8 {
            let ch = std::mem::take(&mut self.keys[k as usize]);
            if ch != 0 {
                emit(MidiMsg::Off {
                    channel: ch - 1,
                    key: k,
                });
            }
        }
        if std::mem::take(&mut self.pedal) {
            for channel in PEDAL_CHANNELS {
                emit(MidiMsg::Cc {
                    channel,
                    cc: CC_SUSTAIN,
                    value: 0.0,
                });
            }
        }
    }

    /// The MIDI for one engine event.
    pub fn map(&mut self, kind: &EventKind, emit: &mut impl FnMut(MidiMsg)) {
        let key = |n: u8| n.min(127);
        match *kind {
            EventKind::BassOn { note, velocity } => {
                if let Some(k) = self.bass.take() {
                    emit(MidiMsg::Off {
                        channel: CH_BASS,
                        key: k,
                    });
                }
                emit(MidiMsg::On {
                    channel: CH_BASS,
                    key: key(note),
                    velocity,
                });
                self.bass = Some(key(note));
            }
            EventKind::BassOff => {
                if let Some(k) = self.bass.take() {
                    emit(MidiMsg::Off {
                        channel: CH_BASS,
                        key: k,
                    });
                }
            }
            EventKind::KeysOn {
                note,
                velocity,
                keyboard,
            } => {
                let k = key(note);
                let channel = keys_channel(keyboard);
                // The same key struck again (on either keyboard) ends the sounding note first.
                let old = self.keys[k as usize];
                if old != 0 {
                    emit(MidiMsg::Off {
                        channel: old - 1,
                        key: k,
                    });
                }
                emit(MidiMsg::On {
                    channel,
                    key: k,
                    velocity,
                });
                self.keys[k as usize] = channel + 1;
            }
            EventKind::KeysOff { note, keyboard } => {
                let k = key(note);
                let channel = keys_channel(keyboard);
                if self.keys[k as usize] == channel + 1 {
                    self.keys[k as usize] = 0;
                    emit(MidiMsg::Off { channel, key: k });
                }
            }
            EventKind::KeysPedal { down } => {
                if down != self.pedal {
                    self.pedal = down;
                    for channel in PEDAL_CHANNELS {
                        emit(MidiMsg::Cc {
                            channel,
                            cc: CC_SUSTAIN,
                            value: if down { 1.0 } else { 0.0 },
                        });
                    }
                }
            }
            EventKind::KeysAllOff => self.keys_off(emit),
            EventKind::Drum { hit, velocity } => {
                let k = drum_key(hit);
                emit(MidiMsg::On {
                    channel: CH_DRUMS,
                    key: k,
                    velocity,
                });
                emit(MidiMsg::Off {
                    channel: CH_DRUMS,
                    key: k,
                });
            }
            EventKind::Swirl { .. } => {}
            EventKind::LeadOn {
                note,
                velocity,
                legato,
            } => {
                let k = key(note);
                match self.lead {
                    // A legato step: the new note starts before the old one ends (overlapping
                    // notes are how MIDI says legato; mono patches glide instead of
                    // re-articulating). The same note again under a slur just holds.
                    Some(old) if legato => {
                        if old != k {
                            emit(MidiMsg::On {
                                channel: CH_LEAD,
                                key: k,
                                velocity,
                            });
                            emit(MidiMsg::Off {
                                channel: CH_LEAD,
                                key: old,
                            });
                        }
                    }
                    _ => {
                        if let Some(old) = self.lead {
                            emit(MidiMsg::Off {
                                channel: CH_LEAD,
                                key: old,
                            });
                        }
                        emit(MidiMsg::On {
                            channel: CH_LEAD,
                            key: k,
                            velocity,
                        });
                    }
                }
                self.lead = Some(k);
            }
            EventKind::LeadOff | EventKind::LeadFall { .. } => {
                if let Some(k) = self.lead.take() {
                    emit(MidiMsg::Off {
                        channel: CH_LEAD,
                        key: k,
                    });
                }
            }
            EventKind::HarpOn { note, velocity } => {
                let k = key(note);
                if std::mem::replace(&mut self.harp[k as usize], true) {
                    emit(MidiMsg::Off {
                        channel: CH_HARP,
                        key: k,
                    });
                }
                emit(MidiMsg::On {
                    channel: CH_HARP,
                    key: k,
                    velocity,
                });
            }
            EventKind::HarpOff { note } => {
                let k = key(note);
                if std::mem::take(&mut self.harp[k as usize]) {
                    emit(MidiMsg::Off {
                        channel: CH_HARP,
                        key: k,
                    });
                }
            }
            EventKind::BrassOn { note, velocity, .. } => {
                let k = key(note);
                if std::mem::replace(&mut self.brass[k as usize], true) {
                    emit(MidiMsg::Off {
                        channel: CH_BRASS,
                        key: k,
                    });
                }
                emit(MidiMsg::On {
                    channel: CH_BRASS,
                    key: k,
                    velocity,
                });
            }
            EventKind::BrassOff { note } | EventKind::BrassFall { note, .. } => {
                let k = key(note);
                if std::mem::take(&mut self.brass[k as usize]) {
                    emit(MidiMsg::Off {
                        channel: CH_BRASS,
                        key: k,
                    });
                }
            }
            EventKind::Perc { hit, velocity } => {
                let k = hit.gm_key();
                emit(MidiMsg::On {
                    channel: CH_PERC,
                    key: k,
                    velocity,
                });
                emit(MidiMsg::Off {
                    channel: CH_PERC,
                    key: k,
                });
            }
            EventKind::PadChord { notes, len } => {
                // Only what changes: notes that leave end, notes that arrive start, common
                // tones stay held (a re-sent chord sends nothing).
                let len = (len as usize).min(6);
                let mut new = [0u8; 6];
                let mut n_new = 0;
                for &n in &notes[..len] {
                    let k = key(n);
                    if !new[..n_new].contains(&k) {
                        new[n_new] = k;
                        n_new += 1;
                    }
                }
                let old = self.pad;
                let old = &old[..self.pad_len];
                for &k in old {
                    if !new[..n_new].contains(&k) {
                        emit(MidiMsg::Off {
                            channel: CH_PAD,
                            key: k,
                        });
                    }
                }
                for &k in &new[..n_new] {
                    if !old.contains(&k) {
                        emit(MidiMsg::On {
                            channel: CH_PAD,
                            key: k,
                            velocity: 0.55,
                        });
                    }
                }
                self.pad = new;
                self.pad_len = n_new;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(m: &mut MidiMapper, k: EventKind) -> Vec<MidiMsg> {
        let mut v = Vec::new();
        m.map(&k, &mut |x| v.push(x));
        v
    }

    #[test]
    fn monophonic_parts_close_their_notes() {
        let mut m = MidiMapper::default();
        assert_eq!(
            collect(
                &mut m,
                EventKind::BassOn {
                    note: 36,
                    velocity: 0.5
                }
            )
            .len(),
            1
        );
        let v = collect(
            &mut m,
            EventKind::BassOn {
                note: 38,
                velocity: 0.5,
            },
        );
        assert_eq!(
            v[0],
            MidiMsg::Off {
                channel: CH_BASS,
                key: 36
            }
        );
        assert_eq!(
            v[1],
            MidiMsg::On {
                channel: CH_BASS,
                key: 38,
                velocity: 0.5
            }
        );
        let v = collect(
            &mut m,
            EventKind::LeadOn {
                note: 70,
                velocity: 0.7,
                legato: true,
            },
        );
        assert_eq!(
            v,
            vec![MidiMsg::On {
                channel: CH_LEAD,
                key: 70,
                velocity: 0.7
            }]
        );
        assert_eq!(
            collect(&mut m, EventKind::LeadFall { time_s: 0.3 }),
            vec![MidiMsg::Off {
                channel: CH_LEAD,
                key: 70
            }]
        );
        let mut offs = Vec::new();
        m.all_off(&mut |x| offs.push(x));
        assert_eq!(
            offs,
            vec![MidiMsg::Off {
                channel: CH_BASS,
                key: 38
            }]
        );
    }

    #[test]
    fn pad_chords_replace_each_other_and_drums_are_short() {
        let mut m = MidiMapper::default();
        let v = collect(
            &mut m,
            EventKind::PadChord {
                notes: [48, 51, 55, 58, 0, 0],
                len: 4,
            },
        );
        assert_eq!(v.len(), 4);
        let v = collect(
            &mut m,
            EventKind::PadChord {
                notes: [50, 53, 0, 0, 0, 0],
                len: 2,
            },
        );
        assert_eq!(
            v.iter()
                .filter(|x| matches!(x, MidiMsg::Off { .. }))
                .count(),
            4
        );
        let v = collect(
            &mut m,
            EventKind::Drum {
                hit: DrumHit::Ride,
                velocity: 0.6,
            },
        );
        assert_eq!(
            v,
            vec![
                MidiMsg::On {
                    channel: CH_DRUMS,
                    key: 51,
                    velocity: 0.6
                },
                MidiMsg::Off {
                    channel: CH_DRUMS,
                    key: 51
                }
            ]
        );
    }

    #[test]
    fn legato_overlaps_and_an_unchanged_pad_sends_nothing() {
        let mut m = MidiMapper::default();
        let on = |note, legato| EventKind::LeadOn {
            note,
            velocity: 0.6,
            legato,
        };
        collect(&mut m, on(60, false));
        // Legato: the new note starts before the old one ends (no retrigger).
        assert_eq!(
            collect(&mut m, on(62, true)),
            vec![
                MidiMsg::On {
                    channel: CH_LEAD,
                    key: 62,
                    velocity: 0.6
                },
                MidiMsg::Off {
                    channel: CH_LEAD,
                    key: 60
                }
            ]
        );
        // Slurred onto the same note: it just holds.
        assert!(collect(&mut m, on(62, true)).is_empty());
        // Detached: off, then on.
        let v = collect(&mut m, on(64, false));
        assert!(matches!(v[0], MidiMsg::Off { key: 62, .. }));
        assert!(matches!(v[1], MidiMsg::On { key: 64, .. }));
        let chord = EventKind::PadChord {
            notes: [48, 51, 55, 58, 0, 0],
            len: 4,
        };
        assert_eq!(collect(&mut m, chord).len(), 4);
        assert!(collect(&mut m, chord).is_empty(), "a re-sent chord holds");
        // One voice moves: one off, one on; the common tones stay held.
        let moved = EventKind::PadChord {
            notes: [48, 51, 55, 57, 0, 0],
            len: 4,
        };
        assert_eq!(
            collect(&mut m, moved),
            vec![
                MidiMsg::Off {
                    channel: CH_PAD,
                    key: 58
                },
                MidiMsg::On {
                    channel: CH_PAD,
                    key: 57,
                    velocity: 0.55
                }
            ]
        );
    }

    #[test]
    fn the_piano_has_its_own_channel_and_pedal() {
        let mut m = MidiMapper::default();
        let on = |keyboard| EventKind::KeysOn {
            note: 60,
            velocity: 0.5,
            keyboard,
        };
        assert_eq!(
            collect(&mut m, on(Keyboard::Grand)),
            vec![MidiMsg::On {
                channel: CH_PIANO,
                key: 60,
                velocity: 0.5
            }]
        );
        // The Rhodes' release of the same key does not end the piano's note.
        assert!(collect(
            &mut m,
            EventKind::KeysOff {
                note: 60,
                keyboard: Keyboard::Rhodes
            }
        )
        .is_empty());
        let down = collect(&mut m, EventKind::KeysPedal { down: true });
        assert_eq!(
            down,
            PEDAL_CHANNELS
                .map(|channel| MidiMsg::Cc {
                    channel,
                    cc: CC_SUSTAIN,
                    value: 1.0
                })
                .to_vec()
        );
        // A repeated pedal-down sends nothing.
        assert!(collect(&mut m, EventKind::KeysPedal { down: true }).is_empty());
        // Everything off: the piano's note ends on its channel and the pedal comes up.
        let mut v = Vec::new();
        m.all_off(&mut |x| v.push(x));
        assert!(v.contains(&MidiMsg::Off {
            channel: CH_PIANO,
            key: 60
        }));
        assert!(v.contains(&MidiMsg::Cc {
            channel: CH_PIANO,
            cc: CC_SUSTAIN,
            value: 0.0
        }));
        assert!(PROGRAMS.contains(&(CH_PIANO, 0)));
        // The honky-tonk upright and the prepared grand have channels of their own.
        let mut m = MidiMapper::default();
        assert_eq!(
            collect(&mut m, on(Keyboard::HonkyTonk)),
            vec![MidiMsg::On {
                channel: CH_HONKY,
                key: 60,
                velocity: 0.5
            }]
        );
        assert!(PROGRAMS.contains(&(CH_HONKY, 3)));
        assert_eq!(keys_channel(Keyboard::Prepared), CH_PREPARED);
    }
}
