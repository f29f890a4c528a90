//! The score's note events and the fixed-capacity, time-sorted queue that carries them from
//! the composer to the voices. Audio thread; never allocates after construction.

pub use super::keys::Keyboard;
use crate::voices::percussion::PercHit;
use crate::voices::{BrassArt, DrumHit};

/// Which player an event belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Bass,
    Drums,
    Keys,
    Lead,
    Pad,
    /// The harpist (styles with a harp).
    Harp,
    /// The brass section.
    Brass,
    /// The percussion section (Latin percussion, the stick snare, colours).
    Percussion,
}

/// What happens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EventKind {
    /// Pluck a bass note (MIDI note, velocity 0..1).
    BassOn { note: u8, velocity: f32 },
    /// Lift the bass finger.
    BassOff,
    /// Strike a key on one of the keys player's keyboards.
    KeysOn {
        note: u8,
        velocity: f32,
        keyboard: Keyboard,
    },
    /// Release a key (on the keyboard its `KeysOn` went to).
    KeysOff { note: u8, keyboard: Keyboard },
    /// The piano's sustain pedal goes down or comes up.
    KeysPedal { down: bool },
    /// A drum stroke.
    Drum { hit: DrumHit, velocity: f32 },
    /// Set the continuous brush swirl (level 0..1, cycles per second).
    Swirl { level: f32, rate_hz: f32 },
    /// Release every key (blackout).
    KeysAllOff,
    /// A lead note; `legato` glides from the sounding note instead of re-articulating.
    LeadOn {
        note: u8,
        velocity: f32,
        legato: bool,
    },
    /// End the lead note.
    LeadOff,
    /// End the lead note with a fall-off lasting `time_s`.
    LeadFall { time_s: f32 },
    /// The pad moves to these notes (first `len` of `notes`; `len` 0 fades it out).
    PadChord { notes: [u8; 6], len: u8 },
    /// Pluck a harp string (MIDI note, velocity 0..1); a glissandus is a run of these.
    HarpOn { note: u8, velocity: f32 },
    /// Damp a harp string (the hand stops it).
    HarpOff { note: u8 },
    /// A brass section note with its articulation.
    BrassOn {
        note: u8,
        velocity: f32,
        art: BrassArt,
    },
    /// End a brass note.
    BrassOff { note: u8 },
    /// A brass note falls off (down a few semitones over `time_s`) and ends.
    BrassFall { note: u8, time_s: f32 },
    /// A stroke on the percussion section.
    Perc { hit: PercHit, velocity: f32 },
}

impl EventKind {
    /// The player this event is for.
    pub fn part(&self) -> Part {
        match self {
            EventKind::BassOn { .. } | EventKind::BassOff => Part::Bass,
            EventKind::KeysOn { .. }
            | EventKind::KeysOff { .. }
            | EventKind::KeysPedal { .. }
            | EventKind::KeysAllOff => Part::Keys,
            EventKind::Drum { .. } | EventKind::Swirl { .. } => Part::Drums,
            EventKind::LeadOn { .. } | EventKind::LeadOff | EventKind::LeadFall { .. } => {
                Part::Lead
            }
            EventKind::PadChord { .. } => Part::Pad,
            EventKind::HarpOn { .. } | EventKind::HarpOff { .. } => Part::Harp,
            EventKind::BrassOn { .. }
            | EventKind::BrassOff { .. }
            | EventKind::BrassFall { .. } => Part::Brass,
            EventKind::Perc { .. } => Part::Percussion,
        }
    }
}

/// An event at a position on the musical timeline (in beats from the song start).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// When, in beats (quarter notes) from the timeline origin.
    pub beat: f64,
    /// What.
    pub kind: EventKind,
}

/// How many pending events fit. A beat plans at most ~30; keys note-offs may wait up to a bar.
pub const QUEUE_CAPACITY: usize = 512;

/// A sorted ring of pending events (earliest first). Inserting into a full queue drops the
/// new event (and counts it) rather than allocating.
pub struct EventQueue {
    /// Storage, allocated once.
    events: Box<[Event; QUEUE_CAPACITY]>,
    /// Number of pending events at the front of `events`.
    len: usize,
    /// Events dropped because the queue was full (should stay 0; tests check it).
    pub dropped: u64,
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl EventQueue {
    /// An empty queue (allocates its storage).
    pub fn new() -> Self {
        let empty = Event {
            beat: 0.0,
            kind: EventKind::BassOff,
        };
        Self {
            events: Box::new([empty; QUEUE_CAPACITY]),
            len: 0,
            dropped: 0,
        }
    }

    /// Forget everything pending.
    pub fn clear(&mut self) {
        self.len = 0;
        self.dropped = 0;
    }

    /// Number pending.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Insert keeping time order; equal times keep insertion order.
    pub fn push(&mut self, e: Event) {
        if self.len == QUEUE_CAPACITY {
            self.dropped += 1;
            return;
        }
        let mut i = self.len;
        while i > 0 && self.events[i - 1].beat > e.beat {
            self.events[i] = self.events[i - 1];
            i -= 1;
        }
        self.events[i] = e;
        self.len += 1;
    }

    /// Time of the earliest pending event.
    pub fn peek_beat(&self) -> Option<f64> {
        (self.len > 0).then(|| self.events[0].beat)
    }

    /// Remove and return the earliest event if it is due at or before `beat`.
    pub fn pop_due(&mut self, beat: f64) -> Option<Event> {
        if self.len == 0 || self.events[0].beat > beat {
            return None;
        }
        let e = self.events[0];
        self.events.copy_within(1..self.len, 0);
        self.len -= 1;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(beat: f64) -> Event {
        Event {
            beat,
            kind: EventKind::BassOff,
        }
    }

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        for b in [3.0, 1.0, 2.0, 1.5] {
            q.push(ev(b));
        }
        assert_eq!(q.pop_due(0.5), None);
        let got: Vec<f64> = std::iter::from_fn(|| q.pop_due(10.0))
            .map(|e| e.beat)
            .collect();
        assert_eq!(got, vec![1.0, 1.5, 2.0, 3.0]);
    }

    #[test]
    fn full_queue_drops_and_counts() {
        let mut q = EventQueue::new();
        for i in 0..QUEUE_CAPACITY + 3 {
            q.push(ev(i as f64));
        }
        assert_eq!(q.len(), QUEUE_CAPACITY);
        assert_eq!(q.dropped, 3);
    }
}
