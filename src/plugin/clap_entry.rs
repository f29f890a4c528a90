//! The CLAP entry point (`clap_entry`), written here instead of with `nice_export_clap!` so the
//! library also offers a preset discovery factory (a host's browser lists the factory scenes
//! and the user's preset folder) and each instance the `preset-load` extension. Plugin
//! creation, descriptors and every other extension are nice-plug's own (`Wrapper`); an
//! instance is handed to the host as a small `clap_plugin` of ours whose `get_extension` adds
//! `preset-load` and forwards everything else, and whose `destroy` frees it after nice-plug's.
//! Main thread (the host calls these from its main thread).

use super::preset_state::{is_preset_file, state_for, user_folder, PresetRef};
use super::MoodNoir;
use crate::preset;
use clap_sys::ext::preset_load::{
    clap_plugin_preset_load, CLAP_EXT_PRESET_LOAD, CLAP_EXT_PRESET_LOAD_COMPAT,
};
use clap_sys::factory::preset_discovery::*;
use clap_sys::universal_plugin_id::clap_universal_plugin_id;
use clap_sys::version::CLAP_VERSION;
use nice_plug::prelude::ClapPlugin;
use nice_plug::wrapper::clap::{
    clap_host, clap_plugin, clap_plugin_descriptor, clap_plugin_entry, clap_plugin_factory,
    PluginDescriptor, Wrapper, CLAP_PLUGIN_FACTORY_ID,
};
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The CLAP plugin's entry point.
#[unsafe(no_mangle)]
#[used]
pub static clap_entry: clap_plugin_entry = clap_plugin_entry {
    clap_version: CLAP_VERSION,
    init: Some(init),
    deinit: Some(deinit),
    get_factory: Some(get_factory),
};

extern "C" fn init(_plugin_path: *const c_char) -> bool {
    nice_plug::wrapper::setup_logger::<MoodNoir>();
    true
}

extern "C" fn deinit() {}

extern "C" fn get_factory(factory_id: *const c_char) -> *const c_void {
    if factory_id.is_null() {
        return std::ptr::null();
    }
    let id = unsafe { CStr::from_ptr(factory_id) };
    if id == CLAP_PLUGIN_FACTORY_ID {
        &PLUGIN_FACTORY as *const _ as *const c_void
    } else if id == CLAP_PRESET_DISCOVERY_FACTORY_ID
        || id == CLAP_PRESET_DISCOVERY_FACTORY_ID_COMPAT
    {
        &PRESET_FACTORY as *const _ as *const c_void
    } else {
        std::ptr::null()
    }
}

// ---------------------------------------------------------------------------------------------
// The plugin factory
// ---------------------------------------------------------------------------------------------

static PLUGIN_FACTORY: clap_plugin_factory = clap_plugin_factory {
    get_plugin_count: Some(get_plugin_count),
    get_plugin_descriptor: Some(get_plugin_descriptor),
    create_plugin: Some(create_plugin),
};

fn descriptor() -> &'static PluginDescriptor {
    static D: OnceLock<PluginDescriptor> = OnceLock::new();
    D.get_or_init(PluginDescriptor::for_plugin::<MoodNoir>)
}

unsafe extern "C" fn get_plugin_count(_f: *const clap_plugin_factory) -> u32 {
    1
}

unsafe extern "C" fn get_plugin_descriptor(
    _f: *const clap_plugin_factory,
    index: u32,
) -> *const clap_plugin_descriptor {
    if index == 0 {
        descriptor().clap_plugin_descriptor()
    } else {
        std::ptr::null()
    }
}

/// Our face of one instance: nice-plug's `clap_plugin` with two functions replaced. It must
/// stay the first field (the host's pointer is a pointer to it).
#[repr(C)]
struct Instance {
    /// What the host sees.
    plugin: clap_plugin,
    /// nice-plug's own `clap_plugin` (same `plugin_data`).
    inner: *const clap_plugin,
}

unsafe extern "C" fn create_plugin(
    _f: *const clap_plugin_factory,
    host: *const clap_host,
    plugin_id: *const c_char,
) -> *const clap_plugin {
    if plugin_id.is_null() || host.is_null() {
        return std::ptr::null();
    }
    if unsafe { CStr::from_ptr(plugin_id) } != descriptor().clap_id() {
        return std::ptr::null();
    }
    // nice-plug's `destroy` turns this back into an `Arc` and drops it.
    let wrapper = Arc::into_raw(Wrapper::<MoodNoir>::new(host));
    let inner = unsafe { (*wrapper).clap_plugin.as_ptr() } as *const clap_plugin;
    let mut plugin = unsafe { *inner };
    plugin.get_extension = Some(get_extension);
    plugin.destroy = Some(destroy);
    Box::into_raw(Box::new(Instance { plugin, inner })) as *const clap_plugin
}

unsafe extern "C" fn destroy(plugin: *const clap_plugin) {
    if plugin.is_null() {
        return;
    }
    let instance = unsafe { Box::from_raw(plugin as *mut Instance) };
    if let Some(f) = unsafe { (*instance.inner).destroy } {
        unsafe { f(instance.inner) };
    }
}

static PRESET_LOAD: clap_plugin_preset_load = clap_plugin_preset_load {
    from_location: Some(preset_load_from_location),
};

unsafe extern "C" fn get_extension(plugin: *const clap_plugin, id: *const c_char) -> *const c_void {
    if plugin.is_null() || id.is_null() {
        return std::ptr::null();
    }
    let name = unsafe { CStr::from_ptr(id) };
    if name == CLAP_EXT_PRESET_LOAD || name == CLAP_EXT_PRESET_LOAD_COMPAT {
        return &PRESET_LOAD as *const _ as *const c_void;
    }
    let instance = unsafe { &*(plugin as *const Instance) };
    match unsafe { (*instance.inner).get_extension } {
        Some(f) => unsafe { f(instance.inner, id) },
        None => std::ptr::null(),
    }
}

/// What a host's preset location and load key name.
fn preset_ref(kind: u32, location: *const c_char, load_key: *const c_char) -> Option<PresetRef> {
    let text = |p: *const c_char| {
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    match kind {
        CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN => text(load_key).map(PresetRef::Factory),
        CLAP_PRESET_DISCOVERY_LOCATION_FILE => text(location).map(|p| {
            let path = PathBuf::from(p);
            match preset::factory_id_of(&path) {
                Some(id) => PresetRef::Factory(id.to_string()),
                None => PresetRef::File(path),
            }
        }),
        _ => None,
    }
}

unsafe extern "C" fn preset_load_from_location(
    plugin: *const clap_plugin,
    location_kind: u32,
    location: *const c_char,
    load_key: *const c_char,
) -> bool {
    if plugin.is_null() {
        return false;
    }
    let Some(r) = preset_ref(location_kind, location, load_key) else {
        return false;
    };
    let mut state = match state_for(&r) {
        Ok(s) => s,
        Err(e) => {
            nice_plug::nice_log!("cannot load preset: {e}");
            return false;
        }
    };
    let wrapper = unsafe { &*((*plugin).plugin_data as *const Wrapper<MoodNoir>) };
    wrapper.set_state_inner(&mut state)
}

// ---------------------------------------------------------------------------------------------
// Preset discovery: one provider with the factory scenes and the user's preset folder
// ---------------------------------------------------------------------------------------------

static PRESET_FACTORY: clap_preset_discovery_factory = clap_preset_discovery_factory {
    count: Some(provider_count),
    get_descriptor: Some(provider_descriptor),
    create: Some(provider_create),
};

/// Static C strings and the provider descriptor (the pointers live as long as the library).
struct Names {
    descriptor: clap_preset_discovery_provider_descriptor,
}

unsafe impl Sync for Names {}
unsafe impl Send for Names {}

const PROVIDER_ID: &CStr = c"com.mood-noir.presets";

fn names() -> &'static Names {
    static N: OnceLock<Names> = OnceLock::new();
    N.get_or_init(|| Names {
        descriptor: clap_preset_discovery_provider_descriptor {
            clap_version: CLAP_VERSION,
            id: PROVIDER_ID.as_ptr(),
            name: c"Mood Noir scenes".as_ptr(),
            vendor: c"Mood Noir".as_ptr(),
        },
    })
}

unsafe extern "C" fn provider_count(_f: *const clap_preset_discovery_factory) -> u32 {
    1
}

unsafe extern "C" fn provider_descriptor(
    _f: *const clap_preset_discovery_factory,
    index: u32,
) -> *const clap_preset_discovery_provider_descriptor {
    if index == 0 {
        &names().descriptor
    } else {
        std::ptr::null()
    }
}

/// One provider instance (the host may create several).
#[repr(C)]
struct Provider {
    /// What the host sees (first field).
    provider: clap_preset_discovery_provider,
    /// The host's indexer.
    indexer: *const clap_preset_discovery_indexer,
    /// The user folder declared in `init`, kept alive for the host.
    user_folder: Option<CString>,
    /// The factory folder declared in `init`, kept alive for the host.
    factory_folder: Option<CString>,
}

unsafe extern "C" fn provider_create(
    _f: *const clap_preset_discovery_factory,
    indexer: *const clap_preset_discovery_indexer,
    provider_id: *const c_char,
) -> *const clap_preset_discovery_provider {
    if indexer.is_null() || provider_id.is_null() {
        return std::ptr::null();
    }
    if unsafe { CStr::from_ptr(provider_id) } != PROVIDER_ID {
        return std::ptr::null();
    }
    let p = Box::new(Provider {
        provider: clap_preset_discovery_provider {
            desc: &names().descriptor,
            provider_data: std::ptr::null_mut(),
            init: Some(provider_init),
            destroy: Some(provider_destroy),
            get_metadata: Some(provider_get_metadata),
            get_extension: Some(provider_get_extension),
        },
        indexer,
        user_folder: None,
        factory_folder: None,
    });
    Box::into_raw(p) as *const clap_preset_discovery_provider
}

unsafe extern "C" fn provider_destroy(provider: *const clap_preset_discovery_provider) {
    if !provider.is_null() {
        drop(unsafe { Box::from_raw(provider as *mut Provider) });
    }
}

unsafe extern "C" fn provider_get_extension(
    _p: *const clap_preset_discovery_provider,
    _id: *const c_char,
) -> *const c_void {
    std::ptr::null()
}

unsafe extern "C" fn provider_init(provider: *const clap_preset_discovery_provider) -> bool {
    if provider.is_null() {
        return false;
    }
    let p = unsafe { &mut *(provider as *mut Provider) };
    let indexer = unsafe { &*p.indexer };
    let filetype = clap_preset_discovery_filetype {
        name: c"Mood Noir preset".as_ptr(),
        description: c"A scene preset (format mood-noir-preset, JSON)".as_ptr(),
        file_extension: c"json".as_ptr(),
    };
    if let Some(f) = indexer.declare_filetype {
        if !unsafe { f(indexer, &filetype) } {
            return false;
        }
    }
    let Some(declare) = indexer.declare_location else {
        return false;
    };
    // The factory scenes as single-preset files in a folder of ours (every host's browser
    // reads those; the container form, presets inside the plugin with load keys, deadlocks
    // clap-validator 0.4.1's metadata receiver from the second preset on), or inside the
    // plugin when that folder cannot be written.
    let factory_dir = preset::materialize_factory()
        .and_then(|d| CString::new(d.to_string_lossy().as_bytes()).ok());
    let factory = clap_preset_discovery_location {
        flags: CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT,
        name: c"Factory scenes".as_ptr(),
        kind: if factory_dir.is_some() {
            CLAP_PRESET_DISCOVERY_LOCATION_FILE
        } else {
            CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN
        },
        location: factory_dir
            .as_ref()
            .map_or(std::ptr::null(), |d| d.as_ptr()),
    };
    let ok = unsafe { declare(indexer, &factory) };
    p.factory_folder = factory_dir;
    if !ok {
        return false;
    }
    if let Some(dir) = user_folder().and_then(|d| CString::new(d.to_string_lossy().as_bytes()).ok())
    {
        let user = clap_preset_discovery_location {
            flags: CLAP_PRESET_DISCOVERY_IS_USER_CONTENT,
            name: c"User presets".as_ptr(),
            kind: CLAP_PRESET_DISCOVERY_LOCATION_FILE,
            location: dir.as_ptr(),
        };
        let ok = unsafe { declare(indexer, &user) };
        p.user_folder = Some(dir);
        if !ok {
            return false;
        }
    }
    true
}

/// Sends one preset's metadata to the host.
fn announce(
    receiver: &clap_preset_discovery_metadata_receiver,
    name: &str,
    load_key: Option<&str>,
    description: &str,
    factory: bool,
) -> bool {
    let (Ok(name), Ok(desc)) = (CString::new(name), CString::new(description)) else {
        return false;
    };
    let key = load_key.and_then(|k| CString::new(k).ok());
    let Some(begin) = receiver.begin_preset else {
        return false;
    };
    let key_ptr = key.as_ref().map_or(std::ptr::null(), |k| k.as_ptr());
    if !unsafe { begin(receiver, name.as_ptr(), key_ptr) } {
        return false;
    }
    let id = clap_universal_plugin_id {
        abi: c"clap".as_ptr(),
        id: descriptor().clap_id().as_ptr(),
    };
    if let Some(f) = receiver.add_plugin_id {
        unsafe { f(receiver, &id) };
    }
    if let Some(f) = receiver.set_flags {
        let flags = if factory {
            CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT
        } else {
            CLAP_PRESET_DISCOVERY_IS_USER_CONTENT
        };
        unsafe { f(receiver, flags) };
    }
    if !desc.as_bytes().is_empty() {
        if let Some(f) = receiver.set_description {
            unsafe { f(receiver, desc.as_ptr()) };
        }
    }
    if let Some(f) = receiver.add_creator {
        unsafe { f(receiver, c"Mood Noir".as_ptr()) };
    }
    true
}

fn report(receiver: &clap_preset_discovery_metadata_receiver, msg: &str) {
    if let (Some(f), Ok(m)) = (receiver.on_error, CString::new(msg.replace('\0', " "))) {
        unsafe { f(receiver, 0, m.as_ptr()) };
    }
}

unsafe extern "C" fn provider_get_metadata(
    _provider: *const clap_preset_discovery_provider,
    location_kind: u32,
    location: *const c_char,
    receiver: *const clap_preset_discovery_metadata_receiver,
) -> bool {
    if receiver.is_null() {
        return false;
    }
    let receiver = unsafe { &*receiver };
    match location_kind {
        CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN => {
            for (id, _) in preset::FACTORY {
                let p = preset::factory(id).expect("factory presets parse");
                if !announce(receiver, &p.name, Some(id), &p.description, true) {
                    return false;
                }
            }
            true
        }
        CLAP_PRESET_DISCOVERY_LOCATION_FILE if !location.is_null() => {
            let path = PathBuf::from(
                unsafe { CStr::from_ptr(location) }
                    .to_string_lossy()
                    .into_owned(),
            );
            file_metadata(receiver, &path)
        }
        _ => false,
    }
}

/// Metadata for one preset file (the host crawls the declared folder and asks per file).
fn file_metadata(receiver: &clap_preset_discovery_metadata_receiver, path: &Path) -> bool {
    if !path.is_file() || !is_preset_file(path) {
        report(
            receiver,
            &format!("{} is not a Mood Noir preset file", path.display()),
        );
        return false;
    }
    let factory = preset::factory_id_of(path).is_some();
    match preset::Preset::load(path) {
        Ok(p) => announce(receiver, &p.name, None, &p.description, factory),
        Err(e) => {
            report(receiver, &format!("{}: {e}", path.display()));
            false
        }
    }
}

/// The plugin's CLAP id (for tests and the preset files a host writes).
pub fn clap_id() -> &'static str {
    MoodNoir::CLAP_ID
}
