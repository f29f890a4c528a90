//! `mood-noir osc-monitor`: listens like the plugin does (same `OscServer`, same decoding) and
//! prints what arrives, the counters, the errors and the light's derived mood, once a second.
//! Main thread plus the server's network thread; the light model runs here at 10 Hz instead
//! of on an audio thread.

use crate::engine::MoodSource;
use crate::light::osc::{OscConfig, OscServer, QUEUE_CAPACITY};
use crate::light::{LightModel, LightSettings, Monitor};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Runs the monitor on `port` (all interfaces if asked) for `seconds` (forever if `None`),
/// calling `print` with a report every `every`, and once more at the end. Returns the last
/// report, or why it could not listen.
pub fn run(
    port: u16,
    all_interfaces: bool,
    seconds: Option<f64>,
    every: Duration,
    mut print: impl FnMut(&str),
) -> Result<String, String> {
    let config = Arc::new(RwLock::new(OscConfig {
        port,
        all_interfaces,
        ..OscConfig::default()
    }));
    let monitor = Arc::new(Monitor::new());
    let (tx, mut rx) = rtrb::RingBuffer::new(QUEUE_CAPACITY);
    let server = OscServer::start(config, monitor.clone(), tx, None)
        .map_err(|e| format!("cannot listen on port {port}: {e}"))?;
    print(&format!("{} (Ctrl-C to stop)\n", monitor.snapshot().status));
    // 10 control ticks a second.
    let mut model = LightModel::new(1000.0, 100);
    model.set_settings(LightSettings::default());
    let start = Instant::now();
    let mut next_print = start + every;
    let end = seconds.map(|s| start + Duration::from_secs_f64(s.max(0.0)));
    loop {
        while let Ok(ev) = rx.pop() {
            model.apply(ev);
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
