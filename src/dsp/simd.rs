//! Which vector width the hot loops run at: AVX2 where the CPU has it (x86-64), else the
//! portable build (SSE2). Each kernel is one `#[inline(always)]` body compiled twice; both do
//! the same arithmetic in the same order (no fused multiply-adds), so they give the same
//! samples. Read on the audio thread (an atomic load); tests may force the portable path.

use std::sync::atomic::{AtomicBool, Ordering};

static PORTABLE: AtomicBool = AtomicBool::new(false);

/// The wide kernels may run: the CPU has AVX2 and no test forced the portable path.
#[inline]
pub fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !PORTABLE.load(Ordering::Relaxed) && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs every kernel on the portable path from now on (`true`) or lets AVX2 back (`false`).
/// For tests that hold the two paths to the same samples.
#[doc(hidden)]
pub fn force_portable(on: bool) {
    PORTABLE.store(on, Ordering::Relaxed);
}

/// Inside an `impl`: defines the method `$name` running the `#[inline(always)]` method
/// `$portable` (same arguments), compiled a second time as `$wide` for AVX2 and taken where
/// the CPU has it. `$portable`'s callees are compiled wide too where they are inlined.
macro_rules! wide_method {
    ($(#[$m:meta])* $vis:vis fn $name:ident(&mut self $(, $arg:ident : $ty:ty)* $(,)?)
        $(-> $ret:ty)? = $wide:ident / $portable:ident) => {
        $(#[$m])*
        $vis fn $name(&mut self $(, $arg: $ty)*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if $crate::dsp::simd::avx2() {
                // SAFETY: the CPU has AVX2 (checked just above).
                return unsafe { self.$wide($($arg),*) };
            }
            self.$portable($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $wide(&mut self $(, $arg: $ty)*) $(-> $ret)? {
            self.$portable($($arg),*)
        }
    };
}
pub(crate) use wide_method;
