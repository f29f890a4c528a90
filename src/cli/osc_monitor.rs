//! `mood-noir osc-monitor`: listens like the plugin does (the same `OscServer`, decoding,
//! cue-sheet link and light model) and prints what arrives, the counters, the errors and the
//! light's derived mood, once a second. `/noir/cues/load`, `/cue/go` and `/noir/unmap` behave
//! exactly as in the plugin. Main thread plus the server's network thread; the light model
//! runs here at 10 Hz instead of on an audio thread.

use crate::engine::MoodSource;
use crate::light::link::take_sheets;
use crate::light::osc::{CueLink, OscConfig, OscServer, QUEUE_CAPACITY};
use crate::light::{LightEvent, LightModel, LightSettings, Monitor};
use crate::watched::Watched;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where and how the monitor listens.
#[derive(Clone, Debug, Default)]
pub struct MonitorOptions {
    /// UDP port.
    pub port: u16,
    /// Listen on all interfaces (default 127.0.0.1 only).
    pub all_interfaces: bool,
    /// The folder `/noir/cues/load` may read from (off without one, as in the plugin).
    pub cue_folder: Option<String>,
    /// Senders accepted (empty: any).
    pub allowed_senders: Vec<String>,
}

/// Runs the monitor for `seconds` (forever if `None`), calling `print` with a report every
/// `every`, and once more at the end. Returns the last report, or why it could not listen.
pub fn run(
    opts: &MonitorOptions,
    seconds: Option<f64>,
    every: Duration,
    mut print: impl FnMut(&str),
) -> Result<String, String> {
    let config = Watched::new(OscConfig {
        port: opts.port,
        all_interfaces: opts.all_interfaces,
        cue_folder: opts.cue_folder.clone(),
        allowed_senders: opts.allowed_senders.clone(),
        ..OscConfig::default()
    });
    let monitor = Arc::new(Monitor::new());
    let (tx, mut rx) = rtrb::RingBuffer::new(QUEUE_CAPACITY);
    let (sheet_tx, mut sheet_rx) = rtrb::RingBuffer::new(4);
    let (mut garbage_tx, garbage_rx) = rtrb::RingBuffer::new(8);
    let link = CueLink {
        sheets: sheet_tx,
        garbage: garbage_rx,
        store: Watched::new(None),
        cue_names: Vec::new(),
        generation: 0,
    };
    let server = OscServer::start(config, monitor.clone(), tx, Some(link))
        .map_err(|e| format!("cannot listen on port {}: {e}", opts.port))?;
    print(&format!("{} (Ctrl-C to stop)\n", monitor.snapshot().status));
    // 10 control ticks a second.
    let mut model = LightModel::new(1000.0, 100);
    model.set_settings(LightSettings::default());
    let start = Instant::now();
    let mut next_print = start + every;
    let end = seconds.map(|s| start + Duration::from_secs_f64(s.max(0.0)));
    loop {
        while let Ok(ev) = rx.pop() {
            match ev {
                LightEvent::SheetReady => {
                    take_sheets(&mut sheet_rx, &mut garbage_tx, |s| model.swap_sheet(s))
                }
                ev => model.apply(ev),
            }
        }
        let t = start.elapsed().as_secs_f64();
        let mood = model.tick(MoodSource::Light, t, 0.0);
        monitor.publish_mood(mood, model.intensity());
        let now = Instant::now();
        if end.is_some_and(|e| now >= e) {
            break;
        }
        if now >= next_print {
            next_print += every;
            print(&monitor.snapshot().report());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(server);
    let report = monitor.snapshot().report();
    print(&report);
    Ok(report)
}
