//! `Watched<T>`: a value persisted with the plugin state and shared between the host's main
//! thread (which loads sessions and presets into it), the editor and the light service thread,
//! with a change counter so the service thread notices a state loaded while the plugin is
//! active and applies it live. Never touched by the audio thread (it takes a lock).

use nice_plug::params::persist::PersistentField;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LockResult, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// See the module docs. Cloning shares the value (like an `Arc`).
pub struct Watched<T> {
    /// The value and its generation.
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    /// The value.
    value: RwLock<T>,
    /// Bumped after every write (a host's state load, the editor, the service thread).
    generation: AtomicU64,
}

impl<T> Clone for Watched<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Default> Default for Watched<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Watched<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched")
            .field("value", &self.inner.value)
            .field("generation", &self.generation())
            .finish()
    }
}

/// A write in progress; the generation is bumped when it ends (so a reader that sees the new
/// generation also sees the new value).
pub struct WriteGuard<'a, T> {
    /// The lock held.
    guard: RwLockWriteGuard<'a, T>,
    /// The counter to bump on drop.
    generation: &'a AtomicU64,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        self.generation.fetch_add(1, Ordering::Release);
    }
}

/// The lock was poisoned by a panic elsewhere (the value is still handed out).
#[derive(Debug)]
pub struct Poisoned;

impl<T> Watched<T> {
    /// A new shared value (generation 0).
    pub fn new(value: T) -> Self {
        Self {
            inner: Arc::new(Inner {
                value: RwLock::new(value),
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// Reads the value.
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        self.inner.value.read()
    }

    /// Writes the value; the generation goes up when the guard is dropped.
    pub fn write(&self) -> Result<WriteGuard<'_, T>, Poisoned> {
        let guard = self.inner.value.write().unwrap_or_else(|e| e.into_inner());
        Ok(WriteGuard {
            guard,
            generation: &self.inner.generation,
        })
    }

    /// How many writes have completed.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }
}

impl<T: Clone> Watched<T> {
    /// A copy of the value with the generation it belongs to (the generation is read first:
    /// a write racing with this call shows up as a newer generation later, never lost).
    pub fn snapshot(&self) -> (T, u64) {
        let g = self.generation();
        let v = self
            .read()
            .map(|v| v.clone())
            .unwrap_or_else(|e| e.into_inner().clone());
        (v, g)
    }
}

impl<'a, T> PersistentField<'a, T> for Watched<T>
where
    T: serde::Serialize + serde::Deserialize<'a> + Send + Sync,
{
    fn set(&self, new_value: T) {
        if let Ok(mut w) = self.write() {
            *w = new_value;
        }
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&T) -> R,
    {
        match self.read() {
            Ok(v) => f(&v),
            Err(e) => f(&e.into_inner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_bump_the_generation_after_the_value_changes() {
        let w = Watched::new(1);
        let other = w.clone();
        assert_eq!(w.snapshot(), (1, 0));
        *other.write().unwrap() = 5;
        assert_eq!(w.snapshot(), (5, 1));
        PersistentField::set(&w, 9);
        assert_eq!(other.snapshot(), (9, 2));
        assert_eq!(PersistentField::map(&w, |v| v * 2), 18);
    }
}
