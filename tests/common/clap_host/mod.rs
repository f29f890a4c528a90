//! A minimal, in-process CLAP host for integration tests.
//!
//! It talks to a plugin through nothing but its `clap_plugin_entry` (for Mood Noir that is
//! `mood_noir::clap_entry`, exported by `nice_export_clap!`), exactly like a DAW that has
//! dlopen()ed the `.clap` file would: entry init, plugin factory, `clap_plugin` calls and the
//! `params`, `state`, `audio-ports` and `latency` extensions. The host itself offers the
//! `thread-check`, `params` and `latency` host extensions; everything else is null.
//!
//! Threading follows the CLAP rules: the thread that creates a [`Plugin`] is its main thread;
//! [`Plugin::run_audio_thread`] spawns a separate audio thread for `start_processing`,
//! `process`, `params.flush` (while active) and `stop_processing`, and meanwhile the main thread
//! services `request_callback` by calling `on_main_thread`. The host side of the audio thread
//! (event lists, buffers, output events) never allocates, so with nice-plug's
//! `assert_process_allocs` feature any allocation inside `process()` is the plugin's.
#![allow(dead_code)]

use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::entry::clap_plugin_entry;
use clap_sys::events::{
    clap_event_header, clap_event_note, clap_event_param_value, clap_event_transport,
    clap_input_events, clap_output_events, CLAP_CORE_EVENT_SPACE_ID, CLAP_EVENT_MIDI,
    CLAP_EVENT_NOTE_OFF, CLAP_EVENT_NOTE_ON, CLAP_EVENT_PARAM_VALUE, CLAP_EVENT_TRANSPORT,
};
use clap_sys::ext::audio_ports::{
    clap_audio_port_info, clap_plugin_audio_ports, CLAP_EXT_AUDIO_PORTS,
};
use clap_sys::ext::audio_ports_config::{
    clap_plugin_audio_ports_config, CLAP_EXT_AUDIO_PORTS_CONFIG,
};
use clap_sys::ext::latency::{clap_host_latency, clap_plugin_latency, CLAP_EXT_LATENCY};
use clap_sys::ext::params::{
    clap_host_params, clap_param_clear_flags, clap_param_info, clap_param_rescan_flags,
    clap_plugin_params, CLAP_EXT_PARAMS,
};
use clap_sys::ext::state::{clap_plugin_state, CLAP_EXT_STATE};
use clap_sys::ext::thread_check::{clap_host_thread_check, CLAP_EXT_THREAD_CHECK};
use clap_sys::factory::plugin_factory::{clap_plugin_factory, CLAP_PLUGIN_FACTORY_ID};
use clap_sys::host::clap_host;
use clap_sys::id::clap_id;
use clap_sys::plugin::{clap_plugin, clap_plugin_descriptor};
use clap_sys::process::{clap_process, clap_process_status};
use clap_sys::stream::{clap_istream, clap_ostream};
use clap_sys::version::CLAP_VERSION;
use std::cell::Cell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// A fixed-size, NUL-terminated C string buffer (as in `clap_param_info::name`) as a `String`.
/// Never reads past the array, even if the plugin forgot the terminator.
pub fn c_array_to_string(arr: &[c_char]) -> String {
    let bytes: Vec<u8> = arr
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A nullable C string pointer as a `String` (`None` for null).
///
/// # Safety
/// `ptr` must be null or point to a NUL-terminated string.
pub unsafe fn c_ptr_to_string(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        None
    } else {
        Some(
            unsafe { CStr::from_ptr(ptr) }
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// nice-plug's parameter-id hash (a Rabin fingerprint of the string id with the top bit cleared,
/// see `nice_plug::wrapper::util::hash_param_id`). CLAP parameter ids are these hashes, so they
/// are stable as long as the string ids are.
pub fn nice_param_hash(id: &str) -> u32 {
    let mut hash: u32 = 0;
    for b in id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(b as u32);
    }
    hash & !(1 << 31)
}

// ---------------------------------------------------------------------------------------------
// The host
// ---------------------------------------------------------------------------------------------

thread_local! {
    /// Set on threads started by [`Plugin::run_audio_thread`]. A const-initialized `Cell`, so
    /// reading it from inside `process()` never allocates.
    static IS_AUDIO_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// What the plugin asked of the host (counters only, so callbacks never allocate).
#[derive(Default)]
pub struct HostRequests {
    pub restart: AtomicU32,
    pub process: AtomicU32,
    pub callback: AtomicU32,
    /// Set by `request_callback`, cleared when the main thread calls `on_main_thread`.
    pub callback_pending: AtomicBool,
    pub params_rescan: AtomicU32,
    pub params_clear: AtomicU32,
    pub params_request_flush: AtomicU32,
    pub latency_changed: AtomicU32,
    /// Host callbacks made from the wrong thread (main-thread-only calls from the audio thread).
    pub thread_violations: AtomicU32,
}

/// The `clap_host` and its counters. Boxed by [`Plugin`] so the address handed to the plugin
/// stays valid until `destroy()`.
pub struct HostBox {
    clap: clap_host,
    pub requests: HostRequests,
}

const HOST_NAME: &CStr = c"mood-noir in-process test host";
const HOST_VENDOR: &CStr = c"Mood Noir tests";
const HOST_URL: &CStr = c"https://example.invalid/mood-noir/tests";
const HOST_VERSION: &CStr = c"0.1.0";

impl HostBox {
    fn new() -> Box<HostBox> {
        let mut b = Box::new(HostBox {
            clap: clap_host {
                clap_version: CLAP_VERSION,
                host_data: std::ptr::null_mut(),
                name: HOST_NAME.as_ptr(),
                vendor: HOST_VENDOR.as_ptr(),
                url: HOST_URL.as_ptr(),
                version: HOST_VERSION.as_ptr(),
                get_extension: Some(host_get_extension),
                request_restart: Some(host_request_restart),
                request_process: Some(host_request_process),
                request_callback: Some(host_request_callback),
            },
            requests: HostRequests::default(),
        });
        let self_ptr: *mut HostBox = &mut *b;
        b.clap.host_data = self_ptr as *mut c_void;
        b
    }

    /// # Safety
    /// `host` must be the `clap` field of a live `HostBox`.
    unsafe fn from_clap<'a>(host: *const clap_host) -> &'a HostBox {
        unsafe { &*((*host).host_data as *const HostBox) }
    }
}

fn on_audio_thread() -> bool {
    IS_AUDIO_THREAD.with(|c| c.get())
}

unsafe extern "C" fn host_get_extension(
    _host: *const clap_host,
    extension_id: *const c_char,
) -> *const c_void {
    if extension_id.is_null() {
        return std::ptr::null();
    }
    let id = unsafe { CStr::from_ptr(extension_id) };
    if id == CLAP_EXT_THREAD_CHECK {
        &HOST_THREAD_CHECK as *const _ as *const c_void
    } else if id == CLAP_EXT_PARAMS {
        &HOST_PARAMS as *const _ as *const c_void
    } else if id == CLAP_EXT_LATENCY {
        &HOST_LATENCY as *const _ as *const c_void
    } else {
        std::ptr::null()
    }
}

unsafe extern "C" fn host_request_restart(host: *const clap_host) {
    let h = unsafe { HostBox::from_clap(host) };
    h.requests.restart.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn host_request_process(host: *const clap_host) {
    let h = unsafe { HostBox::from_clap(host) };
    h.requests.process.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn host_request_callback(host: *const clap_host) {
    let h = unsafe { HostBox::from_clap(host) };
    h.requests.callback.fetch_add(1, Ordering::SeqCst);
    h.requests.callback_pending.store(true, Ordering::SeqCst);
}

static HOST_THREAD_CHECK: clap_host_thread_check = clap_host_thread_check {
    is_main_thread: Some(host_is_main_thread),
    is_audio_thread: Some(host_is_audio_thread),
};

unsafe extern "C" fn host_is_main_thread(_host: *const clap_host) -> bool {
    !on_audio_thread()
}

unsafe extern "C" fn host_is_audio_thread(_host: *const clap_host) -> bool {
    on_audio_thread()
}

static HOST_PARAMS: clap_host_params = clap_host_params {
    rescan: Some(host_params_rescan),
    clear: Some(host_params_clear),
    request_flush: Some(host_params_request_flush),
};

unsafe extern "C" fn host_params_rescan(host: *const clap_host, _flags: clap_param_rescan_flags) {
    let h = unsafe { HostBox::from_clap(host) };
    if on_audio_thread() {
        h.requests.thread_violations.fetch_add(1, Ordering::SeqCst);
    }
    h.requests.params_rescan.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn host_params_clear(
    host: *const clap_host,
    _param_id: clap_id,
    _flags: clap_param_clear_flags,
) {
    let h = unsafe { HostBox::from_clap(host) };
    if on_audio_thread() {
        h.requests.thread_violations.fetch_add(1, Ordering::SeqCst);
    }
    h.requests.params_clear.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn host_params_request_flush(host: *const clap_host) {
    let h = unsafe { HostBox::from_clap(host) };
    h.requests
        .params_request_flush
        .fetch_add(1, Ordering::SeqCst);
}

static HOST_LATENCY: clap_host_latency = clap_host_latency {
    changed: Some(host_latency_changed),
};

unsafe extern "C" fn host_latency_changed(host: *const clap_host) {
    let h = unsafe { HostBox::from_clap(host) };
    if on_audio_thread() {
        h.requests.thread_violations.fetch_add(1, Ordering::SeqCst);
    }
    h.requests.latency_changed.fetch_add(1, Ordering::SeqCst);
}

// ---------------------------------------------------------------------------------------------
// Entry (init/deinit reference counted across the tests of one binary)
// ---------------------------------------------------------------------------------------------

/// How many live [`EntryGuard`]s there are; the first calls `init`, the last `deinit`, as the
/// CLAP spec asks of a host (tests run in parallel threads of one process).
static ENTRY_USERS: Mutex<usize> = Mutex::new(0);

/// Keeps the plugin entry initialized.
pub struct EntryGuard {
    entry: &'static clap_plugin_entry,
}

impl EntryGuard {
    pub fn acquire(entry: &'static clap_plugin_entry) -> EntryGuard {
        let mut users = ENTRY_USERS.lock().unwrap_or_else(|e| e.into_inner());
        if *users == 0 {
            let path = std::env::current_exe()
                .ok()
                .and_then(|p| CString::new(p.to_string_lossy().into_owned()).ok())
                .unwrap_or_else(|| c"in-process".to_owned());
            let init = entry.init.expect("clap_plugin_entry.init is null");
            assert!(
                unsafe { init(path.as_ptr()) },
                "clap_plugin_entry.init failed"
            );
        }
        *users += 1;
        EntryGuard { entry }
    }

    /// Another factory of the entry by id (null if it has none).
    pub fn raw_factory(&self, id: &CStr) -> *const c_void {
        let get_factory = self.entry.get_factory.expect("get_factory is null");
        unsafe { get_factory(id.as_ptr()) }
    }

    /// The entry's plugin factory.
    pub fn factory(&self) -> &'static clap_plugin_factory {
        let get_factory = self.entry.get_factory.expect("get_factory is null");
        let f =
            unsafe { get_factory(CLAP_PLUGIN_FACTORY_ID.as_ptr()) } as *const clap_plugin_factory;
        assert!(!f.is_null(), "the entry has no clap.plugin-factory");
        // An unknown factory id must give null.
        assert!(unsafe { get_factory(c"clap.no-such-factory".as_ptr()) }.is_null());
        unsafe { &*f }
    }
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        let mut users = ENTRY_USERS.lock().unwrap_or_else(|e| e.into_inner());
        *users -= 1;
        if *users == 0 {
            if let Some(deinit) = self.entry.deinit {
                unsafe { deinit() };
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// One input event (the only kinds this host sends).
#[derive(Clone, Copy)]
pub enum InEvent {
    ParamValue(clap_event_param_value),
    Transport(clap_event_transport),
}

impl InEvent {
    fn header(&self) -> &clap_event_header {
        match self {
            InEvent::ParamValue(e) => &e.header,
            InEvent::Transport(e) => &e.header,
        }
    }

    /// A `CLAP_EVENT_PARAM_VALUE` for `param_id` at sample `time` of the block.
    pub fn param_value(time: u32, param_id: clap_id, value: f64) -> InEvent {
        InEvent::ParamValue(clap_event_param_value {
            header: clap_event_header {
                size: std::mem::size_of::<clap_event_param_value>() as u32,
                time,
                space_id: CLAP_CORE_EVENT_SPACE_ID,
                type_: CLAP_EVENT_PARAM_VALUE,
                flags: 0,
            },
            param_id,
            cookie: std::ptr::null_mut(),
            note_id: -1,
            port_index: -1,
            channel: -1,
            key: -1,
            value,
        })
    }

    /// A transport event (normally the host passes `clap_process.transport` instead).
    pub fn transport(time: u32, mut t: clap_event_transport) -> InEvent {
        t.header = clap_event_header {
            size: std::mem::size_of::<clap_event_transport>() as u32,
            time,
            space_id: CLAP_CORE_EVENT_SPACE_ID,
            type_: CLAP_EVENT_TRANSPORT,
            flags: 0,
        };
        InEvent::Transport(t)
    }
}

/// A sorted input event list. Capacity is reserved up front; filling it happens outside
/// `process()`, and the `size`/`get` callbacks the plugin calls never allocate.
pub struct EventQueue {
    events: Vec<InEvent>,
}

impl EventQueue {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            events: Vec::with_capacity(n),
        }
    }

    pub fn clear(&mut self) {
        self.events.clear();
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Appends `e`; events must be pushed in time order (as CLAP requires of the host).
    pub fn push(&mut self, e: InEvent) {
        if let Some(last) = self.events.last() {
            assert!(
                last.header().time <= e.header().time,
                "events must be pushed in time order"
            );
        }
        self.events.push(e);
    }

    fn as_clap(&self) -> clap_input_events {
        clap_input_events {
            ctx: self as *const EventQueue as *mut c_void,
            size: Some(in_events_size),
            get: Some(in_events_get),
        }
    }
}

unsafe extern "C" fn in_events_size(list: *const clap_input_events) -> u32 {
    let q = unsafe { &*((*list).ctx as *const EventQueue) };
    q.events.len() as u32
}

unsafe extern "C" fn in_events_get(
    list: *const clap_input_events,
    index: u32,
) -> *const clap_event_header {
    let q = unsafe { &*((*list).ctx as *const EventQueue) };
    match q.events.get(index as usize) {
        Some(e) => e.header(),
        None => std::ptr::null(),
    }
}

/// Counts what the plugin pushes to `out_events` (fixed storage, so no allocation).
#[derive(Clone, Copy, Debug)]
pub struct OutEventCounter {
    pub pushed: u32,
    pub param_values: u32,
    /// Note-on events (the plugin's MIDI output of the generated notes).
    pub note_ons: u32,
    /// Note-off events.
    pub note_offs: u32,
    /// Raw MIDI events (the mood controller lanes).
    pub midi: u32,
    /// Events whose time was at or past the block's end (must stay 0).
    pub late: u32,
    /// The current block's length, set by `process` before calling the plugin.
    pub block_frames: u32,
    /// Events whose time was earlier than the event before them in the same block (CLAP
    /// requires output events sorted by time; must stay 0).
    pub out_of_order: u32,
    /// The time of the last event pushed in the current block.
    pub last_time: u32,
    /// The worst out-of-order pair seen: (earlier time pushed later, the time before it).
    pub first_disorder: Option<(u32, u32)>,
    /// Sounding notes per channel and key (note-ons minus note-offs, never below 0).
    pub sounding: [[u16; 128]; 16],
}

impl Default for OutEventCounter {
    fn default() -> Self {
        Self {
            pushed: 0,
            param_values: 0,
            note_ons: 0,
            note_offs: 0,
            midi: 0,
            late: 0,
            block_frames: 0,
            out_of_order: 0,
            last_time: 0,
            first_disorder: None,
            sounding: [[0; 128]; 16],
        }
    }
}

impl OutEventCounter {
    /// Notes that got a note-on and no note-off yet.
    pub fn hanging(&self) -> u32 {
        self.sounding.iter().flatten().map(|&c| c as u32).sum()
    }
}

unsafe extern "C" fn out_events_try_push(
    list: *const clap_output_events,
    event: *const clap_event_header,
) -> bool {
    let counter = unsafe { &mut *((*list).ctx as *mut OutEventCounter) };
    counter.pushed += 1;
    if !event.is_null() {
        let h = unsafe { &*event };
        if h.space_id == CLAP_CORE_EVENT_SPACE_ID {
            if h.time < counter.last_time {
                counter.out_of_order += 1;
                counter
                    .first_disorder
                    .get_or_insert((h.time, counter.last_time));
            }
            counter.last_time = h.time;
            let note = || {
                let n = unsafe { &*(event as *const clap_event_note) };
                (n.channel, n.key)
            };
            match h.type_ {
                CLAP_EVENT_PARAM_VALUE => counter.param_values += 1,
                CLAP_EVENT_NOTE_ON => {
                    counter.note_ons += 1;
                    if let (c @ 0..=15, k @ 0..=127) = note() {
                        let s = &mut counter.sounding[c as usize][k as usize];
                        *s = s.saturating_add(1);
                    }
                }
                CLAP_EVENT_NOTE_OFF => {
                    counter.note_offs += 1;
                    if let (c @ 0..=15, k @ 0..=127) = note() {
                        let s = &mut counter.sounding[c as usize][k as usize];
                        *s = s.saturating_sub(1);
                    }
                }
                CLAP_EVENT_MIDI => counter.midi += 1,
                _ => {}
            }
            if counter.block_frames > 0 && h.time >= counter.block_frames {
                counter.late += 1;
            }
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Audio buffers
// ---------------------------------------------------------------------------------------------

/// Host-side audio buffers: one stereo output port (the main output) and one stereo input port
/// (the sidechain), each `max_frames` long.
pub struct AudioIo {
    pub max_frames: usize,
    /// Output channels (left, right). Before each block the host fills them with NaN so a
    /// sample the plugin forgets to write shows up in the checks.
    pub out: [Vec<f32>; 2],
    /// The stem outputs (left, right each), in the plugin's aux output port order; NaN-filled
    /// before each block like `out`.
    pub stems: Vec<[Vec<f32>; 2]>,
    /// Sidechain input channels (left, right); the caller fills `..frames` before a block.
    pub sidechain: [Vec<f32>; 2],
    /// The host connects no input at all (`audio_inputs_count` 0, a disconnected sidechain).
    pub no_input: bool,
}

/// Stem output ports the plugin's default layout has (bass, drums, keys, lead, pad,
/// ambience, room).
pub const STEM_PORTS: usize = 10;

impl AudioIo {
    /// Buffers for the main output and the sidechain and, for the "Stereo with stems" layout,
    /// `STEM_PORTS` stem outputs.
    pub fn with_stems(max_frames: usize) -> Self {
        let mut io = Self::new(max_frames);
        io.stems = (0..STEM_PORTS)
            .map(|_| [vec![0.0; max_frames], vec![0.0; max_frames]])
            .collect();
        io
    }

    pub fn new(max_frames: usize) -> Self {
        Self {
            max_frames,
            out: [vec![0.0; max_frames], vec![0.0; max_frames]],
            stems: Vec::new(),
            sidechain: [vec![0.0; max_frames], vec![0.0; max_frames]],
            no_input: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plugin instance
// ---------------------------------------------------------------------------------------------

/// A parameter as the host sees it through `clap.params`.
#[derive(Clone, Debug)]
pub struct ParamInfo {
    pub id: clap_id,
    pub flags: u32,
    pub name: String,
    pub module: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
}

/// An audio port as the host sees it through `clap.audio-ports`.
#[derive(Clone, Debug)]
pub struct PortInfo {
    pub id: clap_id,
    pub name: String,
    pub flags: u32,
    pub channel_count: u32,
    pub port_type: Option<String>,
    pub in_place_pair: clap_id,
}

/// A `clap_plugin` pointer that may cross to the audio thread. All audio-thread calls go through
/// this; the CLAP threading rules are the caller's (the test's) job.
#[derive(Clone, Copy)]
pub struct AudioSide {
    plugin: *const clap_plugin,
}

unsafe impl Send for AudioSide {}
unsafe impl Sync for AudioSide {}

impl AudioSide {
    fn p(&self) -> &clap_plugin {
        unsafe { &*self.plugin }
    }

    fn params(&self) -> &clap_plugin_params {
        let get_ext = self.p().get_extension.expect("get_extension is null");
        let ext = unsafe { get_ext(self.plugin, CLAP_EXT_PARAMS.as_ptr()) };
        assert!(!ext.is_null(), "plugin has no clap.params");
        unsafe { &*(ext as *const clap_plugin_params) }
    }

    /// `clap_plugin.process` for `frames` samples of `io`, with `transport` and `events`.
    /// Fills the outputs with NaN first. Does not allocate.
    pub fn process(
        &self,
        io: &mut AudioIo,
        frames: usize,
        steady_time: i64,
        transport: Option<&clap_event_transport>,
        events: &EventQueue,
        out_events: &mut OutEventCounter,
    ) -> clap_process_status {
        assert!(frames >= 1 && frames <= io.max_frames);
        for ch in io.out.iter_mut().chain(io.stems.iter_mut().flatten()) {
            ch[..frames].fill(f32::NAN);
        }
        let mut out_ptrs: [[*mut f32; 2]; 1 + STEM_PORTS] =
            [[std::ptr::null_mut(); 2]; 1 + STEM_PORTS];
        out_ptrs[0] = [io.out[0].as_mut_ptr(), io.out[1].as_mut_ptr()];
        for (p, s) in out_ptrs[1..].iter_mut().zip(io.stems.iter_mut()) {
            *p = [s[0].as_mut_ptr(), s[1].as_mut_ptr()];
        }
        let mut in_ptrs: [*mut f32; 2] =
            [io.sidechain[0].as_mut_ptr(), io.sidechain[1].as_mut_ptr()];
        let mut out_bufs: [clap_audio_buffer; 1 + STEM_PORTS] =
            std::array::from_fn(|_| clap_audio_buffer {
                data32: std::ptr::null_mut(),
                data64: std::ptr::null_mut(),
                channel_count: 2,
                latency: 0,
                constant_mask: 0,
            });
        for (b, p) in out_bufs.iter_mut().zip(out_ptrs.iter_mut()) {
            b.data32 = p.as_mut_ptr();
        }
        let in_buf = clap_audio_buffer {
            data32: in_ptrs.as_mut_ptr(),
            data64: std::ptr::null_mut(),
            channel_count: 2,
            latency: 0,
            constant_mask: 0,
        };
        let in_events = events.as_clap();
        out_events.block_frames = frames as u32;
        out_events.last_time = 0;
        let out_list = clap_output_events {
            ctx: out_events as *mut OutEventCounter as *mut c_void,
            try_push: Some(out_events_try_push),
        };
        let process = clap_process {
            steady_time,
            frames_count: frames as u32,
            transport: transport.map_or(std::ptr::null(), |t| t as *const _),
            audio_inputs: if io.no_input {
                std::ptr::null()
            } else {
                &in_buf
            },
            audio_outputs: out_bufs.as_mut_ptr(),
            audio_inputs_count: if io.no_input { 0 } else { 1 },
            audio_outputs_count: (1 + io.stems.len()) as u32,
            in_events: &in_events,
            out_events: &out_list,
        };
        let f = self.p().process.expect("process is null");
        unsafe { f(self.plugin, &process) }
    }

    /// `clap_plugin.reset` (audio thread: the host clears the plugin's buffers, e.g. after a
    /// transport jump it does not report).
    pub fn reset(&self) {
        let f = self.p().reset.expect("reset is null");
        unsafe { f(self.plugin) };
    }

    /// `clap_plugin_params.flush` (audio thread while the plugin is active, main thread
    /// otherwise).
    pub fn flush_params(&self, events: &EventQueue, out_events: &mut OutEventCounter) {
        let in_events = events.as_clap();
        let out_list = clap_output_events {
            ctx: out_events as *mut OutEventCounter as *mut c_void,
            try_push: Some(out_events_try_push),
        };
        let flush = self.params().flush.expect("params.flush is null");
        unsafe { flush(self.plugin, &in_events, &out_list) };
    }
}

/// A created and initialized plugin instance. Dropping it stops processing (if needed),
/// deactivates, destroys the plugin and releases the entry.
pub struct Plugin {
    plugin: *const clap_plugin,
    activated: bool,
    /// `request_restart`s this host has honoured (deactivate + activate).
    restarts_done: u32,
    /// Declared after `plugin` is destroyed in `Drop`; keeps the host alive until then.
    host: Box<HostBox>,
    _entry: EntryGuard,
}

impl Plugin {
    /// Initializes the entry, checks the factory lists exactly `expected_id`, creates that
    /// plugin with a fresh host and calls `init`.
    pub fn create(entry: &'static clap_plugin_entry, expected_id: &CStr) -> Plugin {
        let entry = EntryGuard::acquire(entry);
        let factory = entry.factory();
        let count = unsafe { factory.get_plugin_count.expect("get_plugin_count is null")(factory) };
        assert_eq!(count, 1, "the factory should list exactly one plugin");
        let desc = unsafe {
            factory
                .get_plugin_descriptor
                .expect("get_plugin_descriptor is null")(factory, 0)
        };
        assert!(!desc.is_null());
        let id = unsafe { CStr::from_ptr((*desc).id) };
        assert_eq!(id, expected_id, "descriptor id");

        let host = HostBox::new();
        let create = factory.create_plugin.expect("create_plugin is null");
        // An unknown id must give null, not a crash.
        assert!(unsafe { create(factory, &host.clap, c"com.example.nope".as_ptr()) }.is_null());
        let plugin = unsafe { create(factory, &host.clap, expected_id.as_ptr()) };
        assert!(!plugin.is_null(), "create_plugin returned null");
        let init = unsafe { (*plugin).init }.expect("clap_plugin.init is null");
        assert!(unsafe { init(plugin) }, "clap_plugin.init failed");
        Plugin {
            plugin,
            activated: false,
            restarts_done: 0,
            host,
            _entry: entry,
        }
    }

    fn p(&self) -> &clap_plugin {
        unsafe { &*self.plugin }
    }

    /// What the plugin asked of the host so far.
    pub fn requests(&self) -> &HostRequests {
        &self.host.requests
    }

    /// The plugin's descriptor (as attached to the `clap_plugin`).
    pub fn descriptor(&self) -> &clap_plugin_descriptor {
        let d = self.p().desc;
        assert!(!d.is_null());
        unsafe { &*d }
    }

    /// `get_extension(id)` as a typed reference, or `None`.
    /// The plugin as the host holds it (for extension calls).
    pub fn raw(&self) -> *const clap_plugin {
        self.plugin
    }

    pub fn extension<T>(&self, id: &CStr) -> Option<&T> {
        let get_ext = self.p().get_extension.expect("get_extension is null");
        let ext = unsafe { get_ext(self.plugin, id.as_ptr()) };
        if ext.is_null() {
            None
        } else {
            Some(unsafe { &*(ext as *const T) })
        }
    }

    fn params(&self) -> &clap_plugin_params {
        self.extension::<clap_plugin_params>(CLAP_EXT_PARAMS)
            .expect("plugin has no clap.params")
    }

    /// The audio-thread side of this instance.
    pub fn audio_side(&self) -> AudioSide {
        AudioSide {
            plugin: self.plugin,
        }
    }

    /// Every parameter, in the plugin's order.
    pub fn param_infos(&self) -> Vec<ParamInfo> {
        let params = self.params();
        let count = unsafe { params.count.expect("params.count is null")(self.plugin) };
        let get_info = params.get_info.expect("params.get_info is null");
        (0..count)
            .map(|i| {
                let mut info: clap_param_info = unsafe { std::mem::zeroed() };
                assert!(
                    unsafe { get_info(self.plugin, i, &mut info) },
                    "params.get_info({i}) failed"
                );
                ParamInfo {
                    id: info.id,
                    flags: info.flags,
                    name: c_array_to_string(&info.name),
                    module: c_array_to_string(&info.module),
                    min: info.min_value,
                    max: info.max_value,
                    default: info.default_value,
                }
            })
            .collect()
    }

    /// `params.get_value(id)`, or `None` if the plugin says no.
    pub fn param_value(&self, id: clap_id) -> Option<f64> {
        let mut v = f64::NAN;
        let ok = unsafe {
            self.params().get_value.expect("params.get_value is null")(self.plugin, id, &mut v)
        };
        ok.then_some(v)
    }

    /// `params.value_to_text(id, value)`.
    pub fn param_value_text(&self, id: clap_id, value: f64) -> Option<String> {
        let mut buf = [0 as c_char; 256];
        let ok = unsafe {
            self.params()
                .value_to_text
                .expect("params.value_to_text is null")(
                self.plugin,
                id,
                value,
                buf.as_mut_ptr(),
                buf.len() as u32,
            )
        };
        ok.then(|| c_array_to_string(&buf))
    }

    /// `params.flush` on the main thread (only while not active, per the CLAP spec).
    pub fn flush_params_main_thread(&self, events: &EventQueue) -> OutEventCounter {
        assert!(
            !self.activated,
            "flush on the main thread only while inactive"
        );
        let mut out = OutEventCounter::default();
        self.audio_side().flush_params(events, &mut out);
        out
    }

    /// Selects an audio port configuration through `clap.audio-ports-config` (plugin
    /// inactive); `false` when the plugin refuses.
    pub fn select_ports_config(&self, id: u32) -> bool {
        let ext = self
            .extension::<clap_plugin_audio_ports_config>(CLAP_EXT_AUDIO_PORTS_CONFIG)
            .expect("plugin has no clap.audio-ports-config");
        let count = unsafe { ext.count.expect("count is null")(self.plugin) };
        assert!(count >= 2, "the plugin offers {count} port configurations");
        unsafe { ext.select.expect("select is null")(self.plugin, id) }
    }

    /// The ports on one side (`is_input`).
    pub fn audio_ports(&self, is_input: bool) -> Vec<PortInfo> {
        let ports = self
            .extension::<clap_plugin_audio_ports>(CLAP_EXT_AUDIO_PORTS)
            .expect("plugin has no clap.audio-ports");
        let count =
            unsafe { ports.count.expect("audio_ports.count is null")(self.plugin, is_input) };
        let get = ports.get.expect("audio_ports.get is null");
        (0..count)
            .map(|i| {
                let mut info: clap_audio_port_info = unsafe { std::mem::zeroed() };
                assert!(unsafe { get(self.plugin, i, is_input, &mut info) });
                PortInfo {
                    id: info.id,
                    name: c_array_to_string(&info.name),
                    flags: info.flags,
                    channel_count: info.channel_count,
                    port_type: unsafe { c_ptr_to_string(info.port_type) },
                    in_place_pair: info.in_place_pair,
                }
            })
            .collect()
    }

    /// `clap.latency` get (only valid while active), or `None` without the extension.
    pub fn latency(&self) -> Option<u32> {
        let lat = self.extension::<clap_plugin_latency>(CLAP_EXT_LATENCY)?;
        Some(unsafe { lat.get.expect("latency.get is null")(self.plugin) })
    }

    /// `state.save` into a byte vector, or `None` if the plugin reports failure.
    pub fn save_state(&self) -> Option<Vec<u8>> {
        let state = self
            .extension::<clap_plugin_state>(CLAP_EXT_STATE)
            .expect("plugin has no clap.state");
        let mut data: Vec<u8> = Vec::new();
        let stream = clap_ostream {
            ctx: &mut data as *mut Vec<u8> as *mut c_void,
            write: Some(ostream_write),
        };
        let ok = unsafe { state.save.expect("state.save is null")(self.plugin, &stream) };
        ok.then_some(data)
    }

    /// `state.load` from `bytes`, delivered in chunks of at most `chunk` bytes per `read` call
    /// (real hosts' streams are often buffered). Returns the plugin's answer.
    pub fn load_state(&self, bytes: &[u8], chunk: usize) -> bool {
        let state = self
            .extension::<clap_plugin_state>(CLAP_EXT_STATE)
            .expect("plugin has no clap.state");
        let mut reader = StreamReader {
            data: bytes,
            pos: 0,
            chunk: chunk.max(1),
        };
        let stream = clap_istream {
            ctx: &mut reader as *mut StreamReader as *mut c_void,
            read: Some(istream_read),
        };
        unsafe { state.load.expect("state.load is null")(self.plugin, &stream) }
    }

    /// `activate(sample_rate, min, max)`, then, like a DAW, services pending main-thread
    /// callbacks and honours a `request_restart` (deactivate + activate with the same
    /// configuration; nice-plug requests one when the latency reported during the first
    /// activation changes, and reports it through `clap_host_latency.changed` on the next).
    pub fn activate(&mut self, sample_rate: f64, min_frames: u32, max_frames: u32) -> bool {
        assert!(!self.activated);
        let f = self.p().activate.expect("activate is null");
        let ok = unsafe { f(self.plugin, sample_rate, min_frames, max_frames) };
        self.activated = ok;
        for _ in 0..3 {
            if !self.activated {
                break;
            }
            self.service_main_thread();
            if self.host.requests.restart.load(Ordering::SeqCst) <= self.restarts_done {
                break;
            }
            self.restarts_done = self.host.requests.restart.load(Ordering::SeqCst);
            self.deactivate();
            let ok = unsafe { f(self.plugin, sample_rate, min_frames, max_frames) };
            self.activated = ok;
        }
        self.activated
    }

    /// How many `request_restart`s the host has honoured.
    pub fn restarts_done(&self) -> u32 {
        self.restarts_done
    }

    pub fn deactivate(&mut self) {
        if self.activated {
            let f = self.p().deactivate.expect("deactivate is null");
            unsafe { f(self.plugin) };
            self.activated = false;
        }
    }

    /// Services a pending `request_callback` with `on_main_thread` (main thread only).
    pub fn service_main_thread(&self) {
        assert!(!on_audio_thread());
        if self
            .host
            .requests
            .callback_pending
            .swap(false, Ordering::SeqCst)
        {
            let f = self.p().on_main_thread.expect("on_main_thread is null");
            unsafe { f(self.plugin) };
        }
    }

    /// Runs `body` on a fresh audio thread between `start_processing` and `stop_processing`,
    /// while this (main) thread services `request_callback`s. The plugin must be active.
    /// Returns what `body` returns; a panic in `body` is re-raised here after the audio thread
    /// has stopped processing.
    pub fn run_audio_thread<R: Send>(&self, body: impl FnOnce(AudioSide) -> R + Send) -> R {
        assert!(self.activated, "activate before processing");
        let audio = self.audio_side();
        let result = std::thread::scope(|s| {
            let handle = std::thread::Builder::new()
                .name("clap-audio".into())
                .spawn_scoped(s, move || {
                    IS_AUDIO_THREAD.with(|c| c.set(true));
                    let p = audio.p();
                    let start = p.start_processing.expect("start_processing is null");
                    assert!(unsafe { start(audio.plugin) }, "start_processing failed");
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(audio)));
                    let stop = p.stop_processing.expect("stop_processing is null");
                    unsafe { stop(audio.plugin) };
                    r
                })
                .expect("spawning the audio thread");
            while !handle.is_finished() {
                self.service_main_thread();
                std::thread::sleep(Duration::from_millis(2));
            }
            handle.join()
        });
        self.service_main_thread();
        match result {
            Ok(Ok(r)) => r,
            Ok(Err(panic)) | Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        self.deactivate();
        let destroy = self.p().destroy.expect("destroy is null");
        unsafe { destroy(self.plugin) };
        // `host` and `_entry` are dropped after this, in that order.
    }
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

unsafe extern "C" fn ostream_write(
    stream: *const clap_ostream,
    buffer: *const c_void,
    size: u64,
) -> i64 {
    let data = unsafe { &mut *((*stream).ctx as *mut Vec<u8>) };
    if buffer.is_null() {
        return -1;
    }
    let bytes = unsafe { std::slice::from_raw_parts(buffer as *const u8, size as usize) };
    data.extend_from_slice(bytes);
    size as i64
}

struct StreamReader<'a> {
    data: &'a [u8],
    pos: usize,
    chunk: usize,
}

unsafe extern "C" fn istream_read(
    stream: *const clap_istream,
    buffer: *mut c_void,
    size: u64,
) -> i64 {
    let r = unsafe { &mut *((*stream).ctx as *mut StreamReader) };
    if buffer.is_null() {
        return -1;
    }
    let n = (r.data.len() - r.pos).min(size as usize).min(r.chunk);
    unsafe {
        std::ptr::copy_nonoverlapping(r.data.as_ptr().add(r.pos), buffer as *mut u8, n);
    }
    r.pos += n;
    n as i64
}
