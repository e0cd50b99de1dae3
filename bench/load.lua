-- wrk script for bench/load_test.py: plain and conditional GETs of the feeds, every response
-- checked as it arrives. Each thread remembers the last ETag per path and sends it back as
-- If-None-Match on every other request, as an aggregator does.
--
-- A 200 must carry a whole feed: Atom ending in </feed>, RSS in </rss>, JSON Feed in "}".
-- Every ETag seen is collected; load_test.py checks that each one belongs to a published version.

local paths = {}
for _, slug in ipairs({"all", "america", "europe", "middle-east", "asia", "diplomacy"}) do
  for _, fmt in ipairs({"atom", "rss", "json"}) do
    table.insert(paths, "/feeds/" .. slug .. "." .. fmt)
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  last_path = nil
  etag_for = {}
  etags = {}
  ok200, ok304, bad, wrong = 0, 0, 0, 0
  first_bad = ""
end

function request()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  last_path = path
  local headers = {}
  if counter % 2 == 0 then
    headers["Accept-Encoding"] = "identity"
  end
  if counter % 4 < 2 and etag_for[path] then
    headers["If-None-Match"] = etag_for[path]
  end
  return wrk.format("GET", path, headers)
end

local function complete(path, body)
  body = body:gsub("%s+$", "")
  if path:sub(-5) == ".atom" then
    return body:sub(1, 5) == "<?xml" and body:sub(-7) == "</feed>"
  elseif path:sub(-4) == ".rss" then
    return body:sub(1, 5) == "<?xml" and body:sub(-6) == "</rss>"
  end
  return body:sub(1, 1) == "{" and body:sub(-1) == "}"
end

function response(status, headers, body)
  local path = last_path
  local etag = headers["ETag"] or headers["etag"]
  if etag then
    etags[etag] = true
  end
  if status == 304 then
    ok304 = ok304 + 1
  elseif status == 200 and etag and complete(path, body) then
    ok200 = ok200 + 1
    etag_for[path] = etag
  elseif status == 200 then
    wrong = wrong + 1
    if first_bad == "" then first_bad = path .. " incomplete body" end
  else
    bad = bad + 1
    if first_bad == "" then first_bad = path .. " status " .. status end
  end
end

function done(summary, latency, requests)
  local t200, t304, tbad, twrong = 0, 0, 0, 0
  local all = {}
  local note = ""
  for _, thread in ipairs(threads) do
    t200 = t200 + thread:get("ok200")
    t304 = t304 + thread:get("ok304")
    tbad = tbad + thread:get("bad")
    twrong = twrong + thread:get("wrong")
    local first = thread:get("first_bad")
    if note == "" and first ~= "" then note = first end
    for etag, _ in pairs(thread:get("etags")) do
      all[#all + 1] = etag
    end
  end
  io.write(string.format(
    "LOAD {\"requests\": %d, \"seconds\": %.3f, \"ok200\": %d, \"ok304\": %d, " ..
    "\"errors\": %d, \"incomplete\": %d, \"socket_errors\": %d, \"first_problem\": \"%s\"}\n",
    summary.requests, summary.duration / 1e6, t200, t304, tbad, twrong,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout, note))
  for _, etag in ipairs(all) do
    io.write("ETAG " .. etag .. "\n")
  end
end
