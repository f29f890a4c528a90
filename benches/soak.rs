//! `cargo bench --bench soak`: one hour of music through the whole engine with automation,
//! scene changes, transport jumps, stingers and OSC traffic (`tests/common/soak.rs`); prints
//! NaN/Inf/subnormal counts, DC, peak, beat drift, resident memory and the worst block.
//!
//!     cargo bench --bench soak            # 3600 s of music
//!     cargo bench --bench soak -- 600     # ten minutes

#[path = "../tests/common/flood.rs"]
mod flood;
#[path = "../tests/common/soak.rs"]
mod soak;

fn main() {
    let seconds = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<f64>().ok())
        .unwrap_or(3600.0);
    println!("{}", soak::soak(seconds, 0x5eed));
}
