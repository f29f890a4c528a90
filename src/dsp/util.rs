//! Numeric safety helpers shared by every unit: denormal flushing, MIDI pitch, soft clipping.
//! Audio thread; pure functions.

/// Below this magnitude a state variable is set to zero so that decaying filters never reach
/// subnormal numbers (which are slow and which our tests reject).
pub const DENORMAL_FLOOR: f32 = 1.0e-15;

/// Flushes tiny values to zero.
#[inline]
pub fn flush(x: f32) -> f32 {
    if x.abs() < DENORMAL_FLOOR {
        0.0
    } else {
        x
    }
}

/// Frequency in Hz of a MIDI note number (A4 = 69 = 440 Hz), fractional notes allowed.
#[inline]
pub fn midi_hz(note: f32) -> f32 {
    440.0 * libm_exp2((note - 69.0) / 12.0)
}

#[inline]
fn libm_exp2(x: f32) -> f32 {
    x.exp2()
}

/// Decibels to linear amplitude.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// A smooth saturator: linear near zero, approaching +-1.
#[inline]
pub fn soft_clip(x: f32) -> f32 {
    x / (1.0 + x.abs() * x.abs()).sqrt()
}

/// Coefficient of a one-pole smoother with time constant `tau_s` at `sample_rate`.
#[inline]
pub fn one_pole_coef(tau_s: f32, sample_rate: f32) -> f32 {
    if tau_s <= 0.0 {
        1.0
    } else {
        1.0 - (-1.0 / (tau_s * sample_rate)).exp()
    }
}
