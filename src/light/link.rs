//! `LightLink`: the plumbing between one plugin instance's OSC server and its audio thread.
//! `LightLink::start` (main thread, in `activate()`) makes the queues, parses the persisted
//! cue sheet and starts the server; `LightLink::drain_into` (audio thread, every block) moves
//! at most `MAX_EVENTS_PER_BLOCK` events and at most one new cue sheet into the engine,
//! without allocating, locking or dropping a heap object: the replaced sheet travels back to
//! the network thread to be dropped there. Dropping the link (main thread, `deactivate()` or
//! the instance's drop) stops the server and frees the port.

use super::cues::{CueSheet, CueSource};
use super::event::LightEvent;
use super::monitor::Monitor;
use super::osc::{CueLink, OscConfig, OscServer, QUEUE_CAPACITY};
use crate::engine::Engine;
use crate::watched::Watched;
use std::sync::Arc;

/// Most events the audio thread applies per block (the rest wait for the next block).
pub const MAX_EVENTS_PER_BLOCK: usize = 256;

/// See the module docs.
pub struct LightLink {
    /// The server (None when OSC is disabled or no port could be bound).
    server: Option<OscServer>,
    /// Events from the network thread.
    events: rtrb::Consumer<LightEvent>,
    /// New cue sheets from the network thread.
    sheets: rtrb::Consumer<Option<Box<CueSheet>>>,
    /// Replaced cue sheets back to the network thread.
    garbage: rtrb::Producer<Box<CueSheet>>,
    /// Shared monitor.
    monitor: Arc<Monitor>,
    /// The OSC feedback sender (always running; idle while feedback is off). None only if
    /// its thread could not be started.
    feedback: Option<super::feedback::FeedbackSender>,
}

impl LightLink {
    /// Makes the queues, starts the OSC service per `config` (a failure to bind is reported
    /// in the monitor, not fatal; the service still applies a configuration or cue sheet the
    /// host loads later) and the OSC feedback sender (idle while feedback is off; it follows
    /// changes to `config.feedback` live) and returns the link plus the persisted cue sheet parsed from `cues`
    /// (install it with `Engine::swap_cue_sheet` before processing starts).
    pub fn start(
        config: Watched<OscConfig>,
        cues: Watched<Option<CueSource>>,
        monitor: Arc<Monitor>,
    ) -> (LightLink, Option<Box<CueSheet>>) {
        let (ev_tx, ev_rx) = rtrb::RingBuffer::new(QUEUE_CAPACITY);
        let (sheet_tx, sheet_rx) = rtrb::RingBuffer::new(4);
        let (garbage_tx, garbage_rx) = rtrb::RingBuffer::new(8);
        let (source, generation) = cues.snapshot();
        let initial = source.and_then(|src| match src.parse() {
            Ok(s) => Some(Box::new(s)),
            Err(e) => {
                monitor.note_error(format!("saved cue sheet {}: {e}", src.path));
                None
            }
        });
        monitor.set_sheet(super::osc::describe_sheet(
            initial.as_ref().and(
                cues.read()
                    .ok()
                    .and_then(|s| s.as_ref().map(|s| s.path.clone())),
            ),
            initial.as_ref().map_or(0, |s| s.cues.len()),
        ));
        let link = CueLink {
            sheets: sheet_tx,
            garbage: garbage_rx,
            store: cues,
            cue_names: initial
                .as_ref()
                .map_or_else(Vec::new, |s| s.cues.iter().map(|c| c.name_hash).collect()),
            generation,
        };
        let feedback = super::feedback::FeedbackSender::start(
            config.clone(),
            link.store.clone(),
            monitor.clone(),
        )
        .ok();
        let server = OscServer::spawn(config, monitor.clone(), ev_tx, Some(link)).ok();
        (
            LightLink {
                server,
                events: ev_rx,
                sheets: sheet_rx,
                garbage: garbage_tx,
                monitor,
                feedback,
            },
            initial,
        )
    }

    /// Audio thread: applies waiting events (at most `MAX_EVENTS_PER_BLOCK`) to `engine`, and
    /// a new cue sheet where its `SheetReady` mark stands among them; nothing is allocated or
    /// freed here (the replaced sheet goes back to the network thread).
    pub fn drain_into(&mut self, engine: &mut Engine) {
        let mut n = 0u64;
        for _ in 0..MAX_EVENTS_PER_BLOCK {
            match self.events.pop() {
                Ok(LightEvent::SheetReady) => {
                    take_sheets(&mut self.sheets, &mut self.garbage, |s| {
                        engine.swap_cue_sheet(s)
                    });
                    n += 1;
                }
                Ok(ev) => {
                    engine.push_light_event(ev);
                    n += 1;
                }
                Err(_) => break,
            }
        }
        self.monitor.count_block(n);
    }

    /// Audio thread (atomics only): publishes the engine's light mood and intensity.
    pub fn publish(&self, engine: &Engine) {
        self.monitor
            .publish_mood(engine.light().mood(), engine.light_intensity());
        if let Some(f) = &self.feedback {
            f.state().publish(engine);
        }
    }

    /// Where OSC feedback goes now, while it is on (it follows the saved settings live).
    pub fn feedback_target(&self) -> Option<std::net::SocketAddr> {
        self.feedback.as_ref().and_then(|f| f.target())
    }

    /// The port the server holds, if any.
    pub fn port(&self) -> Option<u16> {
        self.server.as_ref().map(|s| s.port()).filter(|&p| p != 0)
    }
}

/// Installs every sheet waiting in `sheets` (the newest wins) through `swap`, handing each
/// replaced one back through `garbage`; stops while `garbage` has no room (the rest wait).
/// No allocation and no drop of a heap object: safe on the audio thread.
pub fn take_sheets(
    sheets: &mut rtrb::Consumer<Option<Box<CueSheet>>>,
    garbage: &mut rtrb::Producer<Box<CueSheet>>,
    mut swap: impl FnMut(Option<Box<CueSheet>>) -> Option<Box<CueSheet>>,
) {
    while garbage.slots() > 0 {
        let Ok(new) = sheets.pop() else {
            return;
        };
        if let Some(old) = swap(new) {
            if let Err(rtrb::PushError::Full(old)) = garbage.push(old) {
                // Cannot happen (a slot was free); leak rather than free here.
                std::mem::forget(old);
            }
        }
    }
}
