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

/// `x.floor()`, bit for bit (signed zeros, NaN and huge values included), without the libm
/// call `f32::floor` becomes on baseline x86-64 (no SSE4.1 `roundss`): a truncating
/// conversion and one correction. The per-sample phase wraps and delay reads use it.
#[inline(always)]
pub fn floor(x: f32) -> f32 {
    // From 2^23 up every float is an integer (and NaN fails the comparison): floor is x.
    if x.is_nan() || x.abs() >= 8_388_608.0 {
        return x;
    }
    let t = (x as i32) as f32;
    if t == x {
        x
    } else if t > x {
        t - 1.0
    } else {
        t
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

#[cfg(test)]
mod tests {
    use super::floor;

    #[test]
    fn floor_is_bit_exact() {
        let mut special = vec![
            0.0f32,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            0.999_999_94,
            -0.999_999_94,
            1e-30,
            -1e-30,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            8_388_607.5,
            -8_388_607.5,
            8_388_608.0,
            -8_388_609.0,
            3e9,
            -3e9,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        // A sweep across magnitudes and signs, by bit pattern.
        let mut bits = 0u32;
        while bits < u32::MAX - 40_009 {
            special.push(f32::from_bits(bits));
            bits += 40_009;
        }
        for x in special {
            let (a, b) = (floor(x), x.floor());
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "floor({x:e}) = {a:e}, libm {b:e}"
            );
        }
    }
}
