//! The editor: a noir control room in egui (nice-plug-egui). `NoirEditor` is the plugin's
//! `Editor`; the host's main thread asks it for its size and spawns it, and each spawn builds a
//! fresh egui window at the size persisted in the plugin state (`editor-state`), so a reopened
//! or reloaded session comes back at the size the user left. `NoirApp` is the per-window app;
//! egui-baseview runs it on the GUI (window) thread. It reads the audio thread's `UiState`
//! (atomics) and the light input's `LightView`, and changes the sound only through parameters.

mod controls;
mod feedback_row;
mod layout;
mod light_panel;
pub mod light_view;
pub mod loader;
mod meters;
mod mixer;
mod now_playing;
mod pad;
mod theme;

use crate::plugin::params::MoodNoirParams;
use crate::plugin::ui_state::{EditorSize, UiState, EDITOR_MAX_SIZE, EDITOR_MIN_SIZE};
use controls::Controls;
pub use light_view::{CueMark, LightInput, LightSnapshot, LightView, NotConnected};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::{LogicalSize, NativeSize, Size};
use nice_plug::editor::{HostMethods, ParentWindowHandle, SizeConstraints, SpawnedEditor};
use nice_plug::prelude::{Editor, ResizeHint};
use nice_plug_egui::{
    baseview, create_egui_editor, EguiEditor, EguiEditorHandle, EguiEditorState, EguiNiceSettings,
    NiceEguiApp, RepaintNotifier,
};
use std::error::Error;
use std::sync::{Arc, Mutex};

/// The plugin's editor. See the module docs.
pub struct NoirEditor {
    /// The parameters (also holds the persisted size).
    params: Arc<MoodNoirParams>,
    /// Telemetry from the audio thread.
    ui_state: Arc<UiState>,
    /// The light input's monitor.
    light: Arc<dyn LightView>,
    /// Wakes the window for a repaint (real-time safe).
    repaint: RepaintNotifier,
    /// The egui editor of the latest spawn (main thread only; never touched by audio).
    current: Mutex<Option<EguiEditor<NoirApp>>>,
}

/// Builds the editor for `editor()`. `light` is the light input's monitor (`NotConnected` until
/// the light module provides one).
pub fn create(
    params: Arc<MoodNoirParams>,
    ui_state: Arc<UiState>,
    light: Arc<dyn LightView>,
) -> Option<NoirEditor> {
    Some(NoirEditor {
        params,
        ui_state,
        light,
        repaint: RepaintNotifier::new(),
        current: Mutex::new(None),
    })
}

fn resize_hint() -> ResizeHint {
    ResizeHint {
        size_constraints: SizeConstraints::Logical {
            min_size: Some(LogicalSize::new(
                EDITOR_MIN_SIZE.0 as f32,
                EDITOR_MIN_SIZE.1 as f32,
            )),
            max_size: Some(LogicalSize::new(
                EDITOR_MAX_SIZE.0 as f32,
                EDITOR_MAX_SIZE.1 as f32,
            )),
        },
        ..ResizeHint::RESIZABLE
    }
}

impl Editor for NoirEditor {
    type Handle = EguiEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        let (w, h) = self.params.editor_state.get();
        let state = EguiEditorState::from_size(LogicalSize::new(w as f64, h as f64), 1.0);
        let settings = EguiNiceSettings::new()
            .with_tile("Mood Noir")
            .with_resize_hint(resize_hint());
        let app = NoirApp::new(
            self.params.clone(),
            self.ui_state.clone(),
            self.light.clone(),
            self.params.editor_state.clone(),
        );
        let editor = create_egui_editor(state, self.repaint.clone(), settings, app)
            .ok_or("could not create the egui editor")?;
        let spawned = editor.spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(editor);
        Ok(spawned)
    }

    fn size(&self) -> NativeSize<u32> {
        if let Some(e) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return e.size();
        }
        let (w, h) = self.params.editor_state.get();
        NativeSize::from_size(Size::Logical(LogicalSize::new(w as f64, h as f64)), 1.0)
    }

    fn resize_hint(&self) -> ResizeHint {
        resize_hint()
    }

    unsafe fn assume_standalone_in_process(&self) {
        // SAFETY: forwarded from the standalone wrapper, which upholds the same contract.
        unsafe { baseview::assume_standalone_in_process() }
    }
}

/// The per-window app state (GUI thread).
pub struct NoirApp {
    /// The plugin's parameters (typed access for the scene and mood notes).
    params: Arc<MoodNoirParams>,
    /// Telemetry from the audio thread.
    ui_state: Arc<UiState>,
    /// The light input's monitor.
    light: Arc<dyn LightView>,
    /// Where resizes are remembered (persisted with the plugin state).
    size: Arc<EditorSize>,
    /// Parameter access and gestures; built when the window opens.
    controls: Option<Controls>,
    /// The pad's trail.
    pad: pad::Pad,
    /// Meter ballistics.
    meters: meters::Meters,
    /// Chord and form texts.
    now_playing: now_playing::NowPlaying,
    /// The light snapshot, refilled each frame.
    light_snap: LightSnapshot,
    /// Audio sample counter at the previous frame, and when it last moved (seconds).
    audio_seen: (u64, f64),
    /// The cue panel's load-by-path field and its worker.
    load: loader::LoadField,
    /// The light panel's OSC feedback row.
    feedback: feedback_row::FeedbackRow,
}

impl NoirApp {
    fn new(
        params: Arc<MoodNoirParams>,
        ui_state: Arc<UiState>,
        light: Arc<dyn LightView>,
        size: Arc<EditorSize>,
    ) -> Self {
        Self {
            params,
            ui_state,
            light,
            size,
            controls: None,
            pad: pad::Pad::default(),
            meters: meters::Meters::default(),
            now_playing: now_playing::NowPlaying::default(),
            light_snap: LightSnapshot::default(),
            audio_seen: (0, f64::NEG_INFINITY),
            load: loader::LoadField::default(),
            feedback: feedback_row::FeedbackRow::default(),
        }
    }
}

impl NiceEguiApp for NoirApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), baseview::HandlerError> {
        theme::apply(&egui_ctx);
        self.controls = Some(Controls::new(self.params.clone(), nice_gui_ctx));
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        self.ui_state.mark_watched();
        layout::draw(self, ui);
        // Live telemetry: redraw at ~30 fps while open.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(33));
    }

    fn resized(&mut self, new_size: baseview::WindowSize) {
        self.size.set(
            new_size.logical.width.round() as u32,
            new_size.logical.height.round() as u32,
        );
    }
}
