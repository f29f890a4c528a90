//! CLAP preset discovery and `preset-load` through the real entry: a host's preset browser
//! (this test plays the indexer and the metadata receiver) lists the eight factory scenes and
//! the user's preset folder, and loading each one sets the parameters it names.

#[path = "common/clap_host/mod.rs"]
mod clap_host;

use clap_host::{nice_param_hash, EntryGuard, Plugin};
use clap_sys::ext::preset_load::{clap_plugin_preset_load, CLAP_EXT_PRESET_LOAD};
use clap_sys::factory::preset_discovery::*;
use clap_sys::universal_plugin_id::clap_universal_plugin_id;
use clap_sys::version::CLAP_VERSION;
use std::ffi::{c_char, c_void, CStr, CString};

const PLUGIN_ID: &CStr = c"com.mood-noir.mood-noir";

#[derive(Default, Debug)]
struct Indexed {
    filetypes: Vec<String>,
    locations: Vec<(u32, u32, Option<String>)>,
    presets: Vec<Found>,
    errors: Vec<String>,
}

#[derive(Default, Debug, Clone)]
struct Found {
    name: String,
    load_key: Option<String>,
    plugin_ids: Vec<String>,
    flags: u32,
    description: String,
    location: Option<String>,
}

fn text(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

unsafe fn data(i: *const clap_preset_discovery_indexer) -> &'static mut Indexed {
    unsafe { &mut *((*i).indexer_data as *mut Indexed) }
}

unsafe extern "C" fn declare_filetype(
    i: *const clap_preset_discovery_indexer,
    f: *const clap_preset_discovery_filetype,
) -> bool {
    unsafe {
        data(i)
            .filetypes
            .push(text((*f).file_extension).unwrap_or_default())
    };
    true
}

unsafe extern "C" fn declare_location(
    i: *const clap_preset_discovery_indexer,
    l: *const clap_preset_discovery_location,
) -> bool {
    let l = unsafe { &*l };
    unsafe { data(i).locations.push((l.kind, l.flags, text(l.location))) };
    true
}

unsafe extern "C" fn declare_soundpack(
    _i: *const clap_preset_discovery_indexer,
    _s: *const clap_preset_discovery_soundpack,
) -> bool {
    true
}

unsafe extern "C" fn indexer_ext(
    _i: *const clap_preset_discovery_indexer,
    _id: *const c_char,
) -> *const c_void {
    std::ptr::null()
}

/// The metadata receiver's state: the presets found in one `get_metadata` call.
struct Receiving {
    found: Vec<Found>,
    errors: Vec<String>,
    location: Option<String>,
}

unsafe fn rx(r: *const clap_preset_discovery_metadata_receiver) -> &'static mut Receiving {
    unsafe { &mut *((*r).receiver_data as *mut Receiving) }
}

unsafe extern "C" fn on_error(
    r: *const clap_preset_discovery_metadata_receiver,
    _os: i32,
    msg: *const c_char,
) {
    unsafe { rx(r).errors.push(text(msg).unwrap_or_default()) };
}

unsafe extern "C" fn begin_preset(
    r: *const clap_preset_discovery_metadata_receiver,
    name: *const c_char,
    key: *const c_char,
) -> bool {
    let r = unsafe { rx(r) };
    let location = r.location.clone();
    r.found.push(Found {
        name: text(name).unwrap_or_default(),
        load_key: text(key),
        location,
        ..Found::default()
    });
    true
}

unsafe extern "C" fn add_plugin_id(
    r: *const clap_preset_discovery_metadata_receiver,
    id: *const clap_universal_plugin_id,
) {
    let id = unsafe { &*id };
    assert_eq!(text(id.abi).as_deref(), Some("clap"));
    if let Some(f) = unsafe { rx(r) }.found.last_mut() {
        f.plugin_ids.push(text(id.id).unwrap_or_default());
    }
}

unsafe extern "C" fn set_flags(r: *const clap_preset_discovery_metadata_receiver, flags: u32) {
    if let Some(f) = unsafe { rx(r) }.found.last_mut() {
        f.flags = flags;
    }
}

unsafe extern "C" fn set_description(
    r: *const clap_preset_discovery_metadata_receiver,
    d: *const c_char,
) {
    if let Some(f) = unsafe { rx(r) }.found.last_mut() {
        f.description = text(d).unwrap_or_default();
    }
}

unsafe extern "C" fn ignore_str(
    _r: *const clap_preset_discovery_metadata_receiver,
    _s: *const c_char,
) {
}
unsafe extern "C" fn ignore_kv(
    _r: *const clap_preset_discovery_metadata_receiver,
    _k: *const c_char,
    _v: *const c_char,
) {
}
unsafe extern "C" fn ignore_ts(
    _r: *const clap_preset_discovery_metadata_receiver,
    _a: u64,
    _b: u64,
) {
}

/// Crawls every location the provider declares, the way a host's browser does.
fn crawl(entry: &EntryGuard) -> Indexed {
    let f =
        entry.raw_factory(CLAP_PRESET_DISCOVERY_FACTORY_ID) as *const clap_preset_discovery_factory;
    assert!(!f.is_null(), "no preset discovery factory");
    let f = unsafe { &*f };
    assert_eq!(unsafe { f.count.unwrap()(f) }, 1);
    let desc = unsafe { &*f.get_descriptor.unwrap()(f, 0) };
    assert!(unsafe { f.get_descriptor.unwrap()(f, 1) }.is_null());
    let mut indexed = Box::new(Indexed::default());
    let indexer = clap_preset_discovery_indexer {
        clap_version: CLAP_VERSION,
        name: c"test host".as_ptr(),
        vendor: c"tests".as_ptr(),
        url: c"".as_ptr(),
        version: c"1".as_ptr(),
        indexer_data: &mut *indexed as *mut Indexed as *mut c_void,
        declare_filetype: Some(declare_filetype),
        declare_location: Some(declare_location),
        declare_soundpack: Some(declare_soundpack),
        get_extension: Some(indexer_ext),
    };
    let provider = unsafe { f.create.unwrap()(f, &indexer, desc.id) };
    assert!(!provider.is_null());
    let p = unsafe { &*provider };
    assert!(unsafe { p.init.unwrap()(provider) });
    let locations = indexed.locations.clone();
    for (kind, _flags, loc) in locations {
        let targets: Vec<Option<String>> = match (kind, &loc) {
            (CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN, _) => vec![None],
            (CLAP_PRESET_DISCOVERY_LOCATION_FILE, Some(dir)) => {
                let mut files: Vec<_> = std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .map(|p| Some(p.display().to_string()))
                    .collect();
                files.sort();
                files
            }
            other => panic!("unexpected location {other:?}"),
        };
        for target in targets {
            let mut r = Receiving {
                found: Vec::new(),
                errors: Vec::new(),
                location: target.clone(),
            };
            let receiver = clap_preset_discovery_metadata_receiver {
                receiver_data: &mut r as *mut Receiving as *mut c_void,
                on_error: Some(on_error),
                begin_preset: Some(begin_preset),
                add_plugin_id: Some(add_plugin_id),
                set_soundpack_id: Some(ignore_str),
                set_flags: Some(set_flags),
                add_creator: Some(ignore_str),
                set_description: Some(set_description),
                set_timestamps: Some(ignore_ts),
                add_feature: Some(ignore_str),
                add_extra_info: Some(ignore_kv),
            };
            let c = target.as_ref().map(|t| CString::new(t.as_str()).unwrap());
            let ok = unsafe {
                p.get_metadata.unwrap()(
                    provider,
                    kind,
                    c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                    &receiver,
                )
            };
            if !ok {
                indexed.errors.push(format!("{target:?}: {:?}", r.errors));
            }
            indexed.presets.extend(r.found);
        }
    }
    unsafe { p.destroy.unwrap()(provider) };
    *indexed
}

#[test]
fn a_hosts_browser_lists_and_loads_the_factory_scenes_and_user_presets() {
    let dir = std::env::temp_dir().join(format!("mood-noir-user-presets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("late-train.json"),
        r#"{"format": "mood-noir-preset", "version": 1, "name": "Late train",
            "description": "the last train out", "settings": {"mood": {"valence": 0.4,
            "arousal": 0.6, "tension": 0.2}, "seed": 77, "tempo_mode": "fixed",
            "fixed_tempo_bpm": 111}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("broken.json"), "{ not a preset").unwrap();
    let factory_dir = dir.with_file_name(format!("mood-noir-factory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&factory_dir);
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("MOOD_NOIR_PRESETS", &dir);
        std::env::set_var("MOOD_NOIR_FACTORY_PRESETS", &factory_dir);
    }

    let plugin = Plugin::create(&mood_noir::clap_entry, PLUGIN_ID);
    let entry = EntryGuard::acquire(&mood_noir::clap_entry);
    let idx = crawl(&entry);
    assert_eq!(idx.filetypes, vec!["json".to_string()]);
    assert_eq!(idx.locations.len(), 2, "{:?}", idx.locations);
    // The factory scenes arrive as files in a folder of the plugin's (written on discovery).
    let in_factory = |p: &&Found| {
        p.location
            .as_deref()
            .is_some_and(|l| l.starts_with(&factory_dir.display().to_string()))
    };
    let factory: Vec<_> = idx.presets.iter().filter(in_factory).collect();
    assert_eq!(factory.len(), 16, "{:?}", idx.presets);
    for p in &idx.presets {
        assert_eq!(p.plugin_ids, vec![PLUGIN_ID.to_str().unwrap().to_string()]);
        assert!(!p.name.is_empty() && !p.description.is_empty(), "{p:?}");
        assert!(p.load_key.is_none());
    }
    assert!(factory
        .iter()
        .all(|p| p.flags == CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT));
    let user: Vec<_> = idx
        .presets
        .iter()
        .filter(|p| p.flags == CLAP_PRESET_DISCOVERY_IS_USER_CONTENT)
        .collect();
    assert_eq!(user.len(), 1);
    assert_eq!(user[0].name, "Late train");
    // The broken file is reported, not listed.
    assert_eq!(idx.errors.len(), 1, "{:?}", idx.errors);
    assert!(idx.errors[0].contains("broken.json"), "{:?}", idx.errors);

    let load = plugin
        .extension::<clap_plugin_preset_load>(CLAP_EXT_PRESET_LOAD)
        .expect("preset-load extension");
    let from = load.from_location.unwrap();
    let scene = nice_param_hash("scene");
    for p in &factory {
        let loc = CString::new(p.location.clone().unwrap()).unwrap();
        assert!(unsafe {
            from(
                plugin.raw(),
                CLAP_PRESET_DISCOVERY_LOCATION_FILE,
                loc.as_ptr(),
                std::ptr::null(),
            )
        });
        let v = plugin.param_value(scene).unwrap();
        let shown = plugin.param_value_text(scene, v).unwrap();
        assert_eq!(shown, p.name, "loading {} shows {shown}", p.name);
    }
    let path = CString::new(user[0].location.clone().unwrap()).unwrap();
    assert!(unsafe {
        from(
            plugin.raw(),
            CLAP_PRESET_DISCOVERY_LOCATION_FILE,
            path.as_ptr(),
            std::ptr::null(),
        )
    });
    assert_eq!(
        plugin
            .param_value_text(scene, plugin.param_value(scene).unwrap())
            .unwrap(),
        "Custom"
    );
    // As the host shows them.
    let shown = |id: &str| {
        let h = nice_param_hash(id);
        plugin
            .param_value_text(h, plugin.param_value(h).unwrap())
            .unwrap()
    };
    assert_eq!(shown("valence"), "0.400");
    assert_eq!(shown("seed"), "77");
    assert!(shown("tempo").starts_with("111"), "{}", shown("tempo"));
    assert_eq!(shown("tempo_mode"), "Fixed");
    // The container form (a factory scene by load key) loads too; unknown keys and missing
    // files are refused.
    let key = CString::new("neon-chase").unwrap();
    assert!(unsafe {
        from(
            plugin.raw(),
            CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
            std::ptr::null(),
            key.as_ptr(),
        )
    });
    assert_eq!(shown("scene"), "Neon chase");
    let bad = CString::new("no-such-scene").unwrap();
    assert!(!unsafe {
        from(
            plugin.raw(),
            CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
            std::ptr::null(),
            bad.as_ptr(),
        )
    });
    let missing = CString::new(dir.join("gone.json").display().to_string()).unwrap();
    assert!(!unsafe {
        from(
            plugin.raw(),
            CLAP_PRESET_DISCOVERY_LOCATION_FILE,
            missing.as_ptr(),
            std::ptr::null(),
        )
    });
}
