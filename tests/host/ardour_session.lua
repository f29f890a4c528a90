-- Drives Ardour 7 headless (ardour7-lua / luasession) for tests/host/test_ardour.py.
--
-- Configured by environment variables (all set by the Python test):
--   MN_MODE          "create": new session with one MIDI track holding the plugin;
--                    "load": reopen a saved session
--   MN_SESSION_DIR   session folder; MN_SESSION_NAME: snapshot name
--   MN_PLUGIN        plugin name (e.g. "Mood Noir"); MN_PLUGIN_TYPE: "VST3" or "LV2"
--   MN_SET           (create) parameters to set, "Label=value;Label=value" (Ardour's values)
--   MN_EXPORTS       ";"-separated "bpm:name" exports, run in order; bpm 0 keeps the tempo
--   MN_SECONDS       length of each export, seconds from the session start
--   MN_EXPORT_DIR    where the WAV files go; MN_PRESET: export preset UUID
--   MN_SAVE          "1": save the session at the end
--   MN_PROBE         name of a Lua DSP script (written by the test into HOME's script
--                    folder) inserted right after the plugin for the exports and removed
--                    before saving: it checks the plugin's MIDI out order at the plugin
--                    boundary, before Ardour's ports touch it
-- Reports on stdout with lines starting "MN_" that the test parses: MN_PDESC (parameter
-- ranges), MN_PARAM before/after the exports, MN_TEMPO, MN_LATENCY, MN_ORDER (the probe's
-- counts after each export), MN_EXPORTED, MN_DONE.

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then return default end
	return v
end

local mode = env("MN_MODE", "create")
local dir = env("MN_SESSION_DIR")
local name = env("MN_SESSION_NAME", "moodnoir")
local rate = 48000

assert(AudioEngine:set_backend("None (Dummy)", "", ""), "no None (Dummy) backend")
print("MN_BACKEND " .. AudioEngine:current_backend_name())

-- All Lua references to Ardour objects (tracks, plugins, ports) live inside main() and are
-- garbage-collected before close_session(): a MidiTrack shared_ptr that Lua's GC releases after
-- the session is gone is destroyed on freed memory (valgrind: invalid reads in IO::~IO and
-- Stripable::~Stripable), the heap corruption behind Ardour's "double free or corruption"
-- aborts at exit.
local function main()
	local s
	if mode == "create" then
		s = create_session(dir, name, rate)
	else
		s = load_session(dir, name)
	end
	assert(s, mode .. " session failed: " .. dir)

	local function set_tempo(bpm)
		local tm = Temporal.TempoMap.fetch_writable()
		tm:set_tempo(Temporal.Tempo(bpm, bpm, 4), Temporal.timepos_t(0))
		Temporal.TempoMap.update(tm)
		local now = Temporal.TempoMap.read():quarters_per_minute_at(Temporal.timepos_t(0))
		print(string.format("MN_TEMPO %.3f", now))
	end

	local function find_track()
		for r in s:get_tracks():iter() do
			if r:name() == "Mood Noir" then return r end
		end
		return nil
	end

	local track
	if mode == "create" then
		local ptype = env("MN_PLUGIN_TYPE", "VST3") == "LV2" and ARDOUR.PluginType.LV2 or ARDOUR.PluginType.VST3
		local pi = ARDOUR.LuaAPI.new_plugin_info(env("MN_PLUGIN", "Mood Noir"), ptype)
		assert(not pi:isnil(), "plugin not found in Ardour's plugin cache: " .. env("MN_PLUGIN", "Mood Noir"))
		local tl = s:new_midi_track(
			ARDOUR.ChanCount(ARDOUR.DataType("midi"), 1),
			ARDOUR.ChanCount(ARDOUR.DataType("audio"), 2),
			false, pi, nil, nil, 1, "Mood Noir",
			ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
		assert(tl:size() == 1, "new_midi_track failed")
		for t in tl:iter() do track = t end
	else
		track = find_track()
		assert(track, "no 'Mood Noir' track in the reopened session")
	end

	-- The auto-connect thread connects the track to the master bus a moment later; an export
	-- before that is silent.
	local master_in = s:master_out():input():audio(0):name()
	local connected = false
	for i = 1, 100 do
		local p = track:output():audio(0)
		if not p:isnil() and p:connected_to(master_in) then connected = true break end
		ARDOUR.LuaAPI.usleep(50000)
	end
	assert(connected, "track output never got connected to the master bus")
	print(string.format("MN_PORTS out_audio=%d out_midi=%d",
		track:output():n_ports():n_audio(), track:output():n_ports():n_midi()))

	local proc = track:nth_plugin(0)
	assert(not proc:isnil(), "the track has no plugin")
	print("MN_PLUGIN_NAME " .. proc:name())
	local plug = proc:to_insert():plugin(0)

	-- Input control parameters: label -> control index (what LuaAPI's *_processor_param take).
	local controls = {}
	local labels = {}
	do
		local n = 0
		for j = 0, plug:parameter_count() - 1 do
			if plug:parameter_is_control(j) then
				-- nth_parameter() counts output controls too
				if plug:parameter_is_input(j) then
					local label = plug:parameter_label(j)
					controls[label] = n
					labels[#labels + 1] = label
				end
				n = n + 1
			end
		end
	end

	for _, label in ipairs(labels) do
		local ok, ac, _, pd = pcall(ARDOUR.LuaAPI.plugin_automation, proc, controls[label])
		if ok then
			print(string.format("MN_PDESC %s lower=%g upper=%g normal=%g enum=%s int=%s toggled=%s",
				label, pd.lower, pd.upper, pd.normal, tostring(pd.enumeration),
				tostring(pd.integer_step), tostring(pd.toggled)))
		else
			print(string.format("MN_PDESC %s (no descriptor: %s)", label, tostring(ac)))
		end
	end

	local function dump_params(tag)
		for _, label in ipairs(labels) do
			local v = ARDOUR.LuaAPI.get_processor_param(proc, controls[label], true)
			print(string.format("MN_PARAM %s %s=%.6f", tag, label, v))
		end
	end

	if mode == "create" then
		for item in string.gmatch(env("MN_SET", ""), "[^;]+") do
			local label, value = string.match(item, "^(.-)=(.*)$")
			assert(controls[label] ~= nil, "no parameter labelled '" .. tostring(label) .. "'")
			assert(ARDOUR.LuaAPI.set_processor_param(proc, controls[label], tonumber(value)),
				"set_processor_param failed for " .. label)
		end
	end
	dump_params("before")

	-- The MIDI order probe, right after the plugin (processor index 1: the plugin is 0).
	local probe = nil
	local probe_name = env("MN_PROBE", "")
	if probe_name ~= "" then
		probe = ARDOUR.LuaAPI.new_luaproc(s, probe_name)
		assert(not probe:isnil(), "Lua DSP script not found: " .. probe_name)
		assert(track:add_processor_by_index(probe, 1, nil, true) == 0, "adding the MIDI probe failed")
		probe:activate()
		local order = {}
		for i = 0, 3 do
			local p = track:nth_plugin(i)
			if p:isnil() then break end
			order[#order + 1] = p:name()
		end
		print("MN_CHAIN " .. table.concat(order, " | "))
		assert(order[1] == proc:name() and order[2] == probe:name(), "probe not right after the plugin")
	end
	local function probe_report(ename)
		if probe == nil then return end
		local c = probe:to_insert():plugin(0):to_luaproc():shmem():to_int(0):array()
		print(string.format("MN_ORDER %s calls=%d with_events=%d events=%d unsorted=%d "
			.. "out_of_block=%d max_per_call=%d first_bad=%d>%d", ename,
			c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]))
	end

	local seconds = tonumber(env("MN_SECONDS", "10"))
	for item in string.gmatch(env("MN_EXPORTS", ""), "[^;]+") do
		local bpm, ename = string.match(item, "^(.-):(.*)$")
		bpm = tonumber(bpm)
		if bpm > 0 then set_tempo(bpm) end
		-- The plugin reports its latency to Ardour.
		print(string.format("MN_LATENCY %d", proc:signal_latency()))
		local e = s:simple_export()
		e:set_name(ename)
		e:set_folder(env("MN_EXPORT_DIR"))
		e:set_range(0, math.floor(seconds * rate))
		assert(e:set_preset(env("MN_PRESET")), "export preset not found: " .. env("MN_PRESET"))
		assert(e:run_export(), "export failed: " .. ename)
		probe_report(ename)
		print("MN_EXPORTED " .. ename)
	end
	dump_params("after")

	if probe ~= nil then
		-- The saved session holds the plugin alone, as before.
		assert(track:remove_processor(probe, nil, true) == 0, "removing the MIDI probe failed")
		probe = nil
	end

	if env("MN_SAVE", "0") == "1" then
		assert(s:save_state("", false, false, false, false, false) == 0, "save_state failed")
		print("MN_SAVED")
	end
end

main()
collectgarbage("collect")
collectgarbage("collect")
print("MN_DONE")
close_session()
quit()
