//! The thin plugin wrapper: nice-plug's `Plugin` for CLAP, VST3 and the standalone. It reads
//! parameters and transport, hands them to the engine and copies audio out. `activate()` (main
//! thread) allocates the engine; `process()` (audio thread) never allocates, locks or logs.

pub mod clap_entry;
pub mod params;
pub mod preset_state;
pub mod ui_state;

use crate::engine::mixer::{STEMS, STEM_NAMES};
use crate::engine::{Engine, HostTransport, Settings, StemOutputs};
use crate::midi::out::MidiOut;
use crate::midi::MidiMsg;
use crate::preset;
use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;
use params::{MoodNoirParams, SceneChoice, STATE_VERSION};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use ui_state::{UiState, UiWriter};

/// The name of the main input (the light sidechain) and the main output (the full mix): one
/// name for both, because nice-plug-core 0.4.2 names the main output after the main input.
pub const MAIN_PORT_NAME: &str = "Main: light in, mix out";

/// The Mood Noir plugin.
pub struct MoodNoir {
    /// Parameters shared with the host and the editor.
    params: Arc<MoodNoirParams>,
    /// The engine, built in `activate()` for the host's sample rate.
    engine: Option<Box<Engine>>,
    /// Factory scenes parsed once (main thread), indexed like `SceneChoice`.
    scenes: Vec<Option<Settings>>,
    /// The MIDI output: sounding notes, the latency delay and messages the host refused.
    midi: MidiOut,
    /// Audio → editor telemetry (atomics; written at the end of `process()`).
    ui: Arc<UiState>,
    /// The audio thread's writer for `ui` (meter integrators).
    ui_writer: UiWriter,
    /// The light input's OSC server and queues (started in `activate()`, stopped in
    /// `deactivate()` and on drop, so the port always belongs to a live instance).
    light: Option<crate::light::LightLink>,
    /// What the light input is doing, for the editor (atomics and a network/GUI mutex).
    light_monitor: Arc<crate::light::Monitor>,
}

impl Default for MoodNoir {
    fn default() -> Self {
        // Indexed like the Scene parameter's variants.
        let scenes = (0..SceneChoice::variants().len())
            .map(|i| {
                SceneChoice::from_index(i)
                    .preset_id()
                    .and_then(preset::factory)
                    .map(|p| p.settings)
            })
            .collect();
        Self {
            params: Arc::new(MoodNoirParams::default()),
            engine: None,
            scenes,
            midi: MidiOut::new(48_000.0, 0),
            ui: Arc::new(UiState::default()),
            ui_writer: UiWriter::default(),
            light: None,
            light_monitor: Arc::new(crate::light::Monitor::new()),
        }
    }
}

impl MoodNoir {
    fn current_settings(&self) -> Settings {
        let scene = self.params.music.scene.value();
        let idx = scene as usize;
        let scene = self.scenes.get(idx).and_then(|s| s.as_ref());
        self.params.settings(scene)
    }
}

impl Plugin for MoodNoir {
    const NAME: &'static str = "Mood Noir";
    const VENDOR: &'static str = "Mood Noir";
    const URL: &'static str = "https://example.invalid/mood-noir";
    const EMAIL: &'static str = "team@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    // The "Light sidechain" is the main input (stereo, unused by the band unless the mood
    // source is Sidechain), not an aux input: nice-plug 0.4.2's VST3 `setBusArrangements`
    // inverts `aux_input_start_idx` for layouts without a main input and reads one input
    // arrangement past the array a host passes (Ardour: two invalid reads under valgrind).
    // With a main input the first aux index is never needed. nice-plug copies the main input
    // into the output buffer before `process`, so the sidechain is read from there.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        // The full mix alone: the default, for hosts that do not set up aux buses.
        // (nice-plug 0.4.2's VST3 wrapper reads one aux output bus past what such a host
        // passes, `aux_output_idx > numOutputs` instead of `>=`, and crashes; pedalboard hit
        // it. Hosts that want the stems pick the second layout.)
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            aux_input_ports: &[],
            aux_output_ports: &[],
            names: PortNames {
                layout: Some("Stereo"),
                // nice-plug-core 0.4.2's `main_output_name()` reads `main_input`, so the main
                // input and output share one name, saying what each carries.
                main_input: Some(MAIN_PORT_NAME),
                main_output: Some("Main output"),
                aux_inputs: &[],
                aux_outputs: &[],
            },
        },
        // The full mix plus the stems (bass, drums, keys, lead, pad, ambience, room), which
        // sum to the main output: CLAP hosts select it through audio-ports-config, VST3 hosts
        // by asking for the eight stereo output buses.
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            aux_input_ports: &[],
            aux_output_ports: &[new_nonzero_u32(2); STEMS],
            names: PortNames {
                layout: Some("Stereo with stems"),
                main_input: Some(MAIN_PORT_NAME),
                main_output: Some("Main output"),
                aux_inputs: &[],
                aux_outputs: &STEM_NAMES,
            },
        },
    ];

    /// The generated notes go out as MIDI (one channel per instrument) with the mood as
    /// controllers, so composers can drive their own sample libraries.
    const MIDI_OUTPUT: MidiConfig = MidiConfig::MidiCCs;

    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = crate::editor::NoirEditor;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        crate::editor::create(
            self.params.clone(),
            self.ui.clone(),
            Arc::new(crate::editor::LightInput::new(
                self.light_monitor.clone(),
                self.params.light.cues.clone(),
            )),
        )
    }

    fn filter_state(state: &mut PluginState) {
        // Version 0 (no "state-version" field) and 1 share the parameter layout; a future
        // layout change migrates here, with the old blobs kept as test fixtures.
        let version = state
            .fields
            .get("state-version")
            .and_then(|v| serde_json::from_str::<u32>(v).ok())
            .unwrap_or(0);
        if version > STATE_VERSION {
            // A newer build's state: keep what we understand, drop nothing.
            return;
        }
        state
            .fields
            .insert("state-version".into(), STATE_VERSION.to_string());
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let settings = self.current_settings();
        let mut engine = Box::new(Engine::new(buffer_config.sample_rate, settings));
        // Light in: stop a previous server first so its port is free, then bind.
        self.light = None;
        let (link, sheet) = crate::light::LightLink::start(
            self.params.light.osc.clone(),
            self.params.light.cues.clone(),
            self.light_monitor.clone(),
        );
        engine.set_light_settings(self.params.light.settings());
        drop(engine.swap_cue_sheet(sheet));
        engine.reset();
        self.light = Some(link);
        context.set_latency_samples(engine.latency_samples() as u32);
        // Notes still sounding from before end in the first block; MIDI is delayed by the
        // latency so it lines up with the (host-compensated) audio.
        self.midi
            .configure(buffer_config.sample_rate, engine.latency_samples() as u32);
        self.ui_writer
            .set_sample_rate(&self.ui, buffer_config.sample_rate);
        self.engine = Some(engine);
        // A session saved by a newer build: what this build understands was loaded (unknown
        // parameters and fields are skipped by the wrapper). Say so where the user looks: the
        // editor's light panel lists it with the other errors, and the log.
        let loaded = self.params.state_version.load(Ordering::Relaxed);
        if loaded > STATE_VERSION {
            let msg = format!(
                "this session was saved by a newer Mood Noir (state version {loaded}, this build \
                 reads {STATE_VERSION}): the settings it knows were loaded, the rest left at \
                 their defaults"
            );
            nice_plug::nice_log!("{msg}");
            self.light_monitor.note_error(msg);
        }
        self.params
            .state_version
            .store(STATE_VERSION, Ordering::Relaxed);
        true
    }

    fn reset(&mut self) {
        if let Some(engine) = self.engine.as_mut() {
            engine.reset();
        }
        self.midi.panic();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let settings = self.current_settings();
        let Some(engine) = self.engine.as_mut() else {
            for ch in buffer.as_slice() {
                ch.fill(0.0);
            }
            return ProcessStatus::Normal;
        };
        let t = context.transport();
        let host = HostTransport {
            playing: t.playing,
            tempo_bpm: t.tempo,
            pos_beats: t.pos_beats(),
            pos_samples: t.pos_samples(),
        };
        engine.set_settings(&settings);
        engine.set_light_settings(self.params.light.settings());
        if let Some(light) = self.light.as_mut() {
            light.drain_into(engine);
        }
        // The sidechain arrives in the main buffer (the main input, copied in place).
        match buffer.as_slice_immutable() {
            [l, r, ..] => engine.process_sidechain(l, r),
            [m] => engine.process_sidechain(m, m),
            [] => {}
        }
        let channels = buffer.as_slice();
        match channels {
            [left, right, ..] => {
                let mut stems: StemOutputs = Default::default();
                for (slot, out) in stems.iter_mut().zip(aux.outputs.iter_mut()) {
                    if let [l, r, ..] = out.as_slice() {
                        *slot = Some((&mut **l, &mut **r));
                    }
                }
                engine.process_stems(&host, left, right, &mut stems)
            }
            [mono] => {
                // A mono host: render stereo into the one channel, left only.
                let n = mono.len();
                let mut scratch = [0.0f32; 64];
                let mut i = 0;
                while i < n {
                    let k = (n - i).min(64);
                    // Each chunk is told where it is on the timeline (not the block's start,
                    // which the engine would take for a jump back).
                    let at = host.advanced(i, engine.sample_rate());
                    engine.process(&at, &mut mono[i..i + k], &mut scratch[..k]);
                    i += k;
                }
            }
            [] => {}
        }
        send_midi(engine, &mut self.midi, buffer.samples(), context);
        self.ui_writer
            .publish(&self.ui, engine, buffer.as_slice_immutable());
        if let Some(light) = self.light.as_ref() {
            light.publish(engine);
        }
        ProcessStatus::KeepAlive
    }

    fn deactivate(&mut self) {
        self.light = None;
        self.engine = None;
        // No events can be sent outside `process`: the notes end in the first block after
        // the next activation.
        self.midi.panic();
    }
}

/// Sends what the engine played in this block as MIDI, sample-accurately and in time order:
/// notes on their instrument's channel and the mood as controllers at each beat, delayed by
/// the plugin's latency. Audio thread; no allocation.
fn send_midi<P: Plugin>(
    engine: &Engine,
    out: &mut MidiOut,
    block_len: usize,
    context: &mut impl ProcessContext<P>,
) {
    out.block(engine, block_len, |timing, m| {
        let event = match m {
            MidiMsg::On {
                channel,
                key,
                velocity,
            } => NoteEvent::NoteOn {
                timing,
                voice_id: VoiceID::Wildcard,
                channel: Channel::Number(channel),
                key: Key::Number(key),
                velocity,
            },
            MidiMsg::Off { channel, key } => NoteEvent::NoteOff {
                timing,
                voice_id: VoiceID::Wildcard,
                channel: Channel::Number(channel),
                key: Key::Number(key),
                velocity: 0.0,
            },
            MidiMsg::Cc { channel, cc, value } => NoteEvent::MidiCC {
                timing,
                channel,
                cc,
                value,
            },
        };
        // A full host queue refuses the event: it is retried in the next block.
        context.try_send_event(event).is_ok()
    });
}

impl ClapPlugin for MoodNoir {
    const CLAP_ID: &'static str = "com.mood-noir.mood-noir";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Scores a scene from its light: a live noir-jazz band driven by mood");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::Instrument,
        ClapFeature::Synthesizer,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for MoodNoir {
    const VST3_CLASS_ID: [u8; 16] = *b"MoodNoirLightJaz";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Instrument, Vst3SubCategory::Synth];
}
