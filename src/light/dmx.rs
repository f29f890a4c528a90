//! DMX over OSC (QLC+'s `/<universe>/dmx/<channel>`, both counted from 0 in the address) and
//! the fixture profile that says which DMX addresses are dimmer, red, green, blue and colour
//! temperature. `FixtureProfile` is persisted with the plugin state; `DmxDesk` keeps the
//! fixture's channel values on the OSC network thread (QLC+ sends only changed channels) and
//! turns each change into a `LightEvent`. Network thread only.

use super::event::LightEvent;
use super::sidechain::{CCT_MAX_K, CCT_MIN_K};
use serde::{Deserialize, Serialize};

/// Where the fixture sits, counted the way lighting people count (from 1). Its five channels
/// follow each other from `address`: dimmer, red, green, blue, colour temperature
/// (0 = 2000 K .. 1 = 10000 K).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FixtureProfile {
    /// DMX universe, from 1.
    pub universe: u16,
    /// DMX start address (the dimmer), from 1; the fixture uses 5 addresses.
    pub address: u16,
}

impl Default for FixtureProfile {
    fn default() -> Self {
        Self {
            universe: 1,
            address: 1,
        }
    }
}

/// Channels of the fixture, in profile order.
pub const CHANNELS: [&str; 5] = ["dimmer", "red", "green", "blue", "cct"];

/// What a DMX message meant.
#[allow(clippy::large_enum_variant)] // carries a `LightEvent` by value (see event.rs)
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DmxOutcome {
    /// A channel of the fixture changed: this event carries it.
    Event(LightEvent),
    /// A valid channel outside the fixture (counted, nothing to do).
    NotOurs,
    /// Universe or channel outside DMX's range, or a value outside 0..255.
    OutOfRange,
}

/// The fixture's channel values as the desk last sent them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DmxDesk {
    /// The profile in use.
    pub profile: FixtureProfile,
    /// Dimmer, R, G, B, CCT, each 0..1.
    pub values: [f32; 5],
}

impl DmxDesk {
    /// A desk at full white (what a fixture shows before the desk changes a channel).
    pub fn new(profile: FixtureProfile) -> Self {
        Self {
            profile,
            values: [1.0, 1.0, 1.0, 1.0, 0.5],
        }
    }

    /// Parses `/<universe>/dmx/<channel>` (both from 0); `None` if the address has another
    /// shape.
    pub fn parse_address(addr: &str) -> Option<(u32, u32)> {
        let mut parts = addr.strip_prefix('/')?.split('/');
        let u = parts.next()?;
        if parts.next()? != "dmx" {
            return None;
        }
        let c = parts.next()?;
        if parts.next().is_some() || u.is_empty() || c.is_empty() {
            return None;
        }
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 6;
        if !digits(u) || !digits(c) {
            return None;
        }
        Some((u.parse().ok()?, c.parse().ok()?))
    }

    /// One channel value from the desk: `universe` and `channel` from 0. An `integer` value
    /// is a DMX level 0..255; a float is 0..1, or 0..255 when above 1.
    pub fn set(&mut self, universe: u32, channel: u32, value: f64, integer: bool) -> DmxOutcome {
        if universe > 32767
            || channel > 511
            || !value.is_finite()
            || !(0.0..=255.0).contains(&value)
        {
            return DmxOutcome::OutOfRange;
        }
        let v = if integer || value > 1.0 {
            value / 255.0
        } else {
            value
        } as f32;
        let first = self.profile.address.max(1) as u32 - 1;
        if universe + 1 != self.profile.universe.max(1) as u32
            || channel < first
            || channel >= first + CHANNELS.len() as u32
        {
            return DmxOutcome::NotOurs;
        }
        let k = (channel - first) as usize;
        self.values[k] = v;
        let [_, r, g, b, _] = self.values;
        DmxOutcome::Event(match k {
            0 => LightEvent::Intensity(v),
            1..=3 => LightEvent::Rgb([r, g, b]),
            _ => LightEvent::Cct(CCT_MIN_K + v * (CCT_MAX_K - CCT_MIN_K)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qlc_addresses_parse() {
        assert_eq!(DmxDesk::parse_address("/0/dmx/0"), Some((0, 0)));
        assert_eq!(DmxDesk::parse_address("/3/dmx/511"), Some((3, 511)));
        assert_eq!(DmxDesk::parse_address("/0/dmx/"), None);
        assert_eq!(DmxDesk::parse_address("/a/dmx/1"), None);
        assert_eq!(DmxDesk::parse_address("/0/dmx/1/2"), None);
        assert_eq!(DmxDesk::parse_address("/light/intensity"), None);
    }

    #[test]
    fn default_profile_reads_dimmer_rgb_cct() {
        let mut d = DmxDesk::new(FixtureProfile::default());
        // DMX address 1 of universe 1 arrives as /0/dmx/0.
        assert_eq!(
            d.set(0, 0, 0.5, false),
            DmxOutcome::Event(LightEvent::Intensity(0.5))
        );
        // 0..255 scale: 51 = 0.2.
        assert_eq!(
            d.set(0, 1, 51.0, false),
            DmxOutcome::Event(LightEvent::Rgb([0.2, 1.0, 1.0]))
        );
        assert_eq!(
            d.set(0, 4, 0.25, false),
            DmxOutcome::Event(LightEvent::Cct(4000.0))
        );
        assert_eq!(d.set(0, 5, 0.25, false), DmxOutcome::NotOurs);
        assert_eq!(d.set(1, 0, 0.25, false), DmxOutcome::NotOurs);
        assert_eq!(d.set(0, 0, 300.0, false), DmxOutcome::OutOfRange);
        assert_eq!(d.set(0, 0, -0.1, false), DmxOutcome::OutOfRange);
        assert_eq!(d.set(0, 600, 0.1, false), DmxOutcome::OutOfRange);
        // Integers are DMX levels: 1 is 1/255, not full; 255 is full.
        assert_eq!(
            d.set(0, 0, 1.0, true),
            DmxOutcome::Event(LightEvent::Intensity(1.0 / 255.0))
        );
        assert_eq!(
            d.set(0, 0, 255.0, true),
            DmxOutcome::Event(LightEvent::Intensity(1.0))
        );
        assert_eq!(
            d.set(0, 0, 0.0, true),
            DmxOutcome::Event(LightEvent::Intensity(0.0))
        );
    }

    #[test]
    fn moved_profile() {
        let mut d = DmxDesk::new(FixtureProfile {
            universe: 2,
            address: 101,
        });
        assert_eq!(d.set(0, 0, 0.5, false), DmxOutcome::NotOurs);
        assert_eq!(
            d.set(1, 100, 0.5, false),
            DmxOutcome::Event(LightEvent::Intensity(0.5))
        );
    }
}
