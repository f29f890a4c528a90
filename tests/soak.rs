//! Five minutes of the soak (`tests/common/soak.rs`; the hour is `cargo bench --bench soak`):
//! the whole engine under automation, scene changes, jumps, stingers and OSC traffic.

#[path = "common/flood.rs"]
mod flood;
#[path = "common/soak.rs"]
mod soak;

#[test]
fn five_minutes_of_everything_stay_clean_on_the_beat_and_flat_in_memory() {
    let seconds = std::env::var("MOOD_NOIR_SOAK_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300.0);
    let rep = soak::soak(seconds, 0x5eed);
    println!("{rep}");
    assert_eq!(rep.non_finite, 0);
    assert_eq!(rep.subnormal, 0);
    assert!(
        rep.dc[0].abs() < 1e-3 && rep.dc[1].abs() < 1e-3,
        "DC {:?}",
        rep.dc
    );
    assert!(rep.peak > 0.05 && rep.peak < 1.0, "peak {}", rep.peak);
    assert!(rep.beats as f64 > seconds, "only {} beats", rep.beats);
    assert_eq!(rep.worst_drift_samples, 0.0, "beats off the tempo map");
    assert!(
        rep.jumps >= 3 && rep.scenes >= 4 && rep.stingers >= 10,
        "{rep}"
    );
    assert!(
        rep.light_events_applied > 0,
        "the OSC traffic reached the engine"
    );
    // Everything is allocated up front: memory after five minutes is what it was after the
    // first block, give or take the allocator (4 MiB).
    assert!(
        rep.rss_end_kb < rep.rss_start_kb + 4096,
        "resident memory grew from {} to {} KiB",
        rep.rss_start_kb,
        rep.rss_end_kb
    );
}
