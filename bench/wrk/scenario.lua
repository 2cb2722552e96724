-- One wrk script for every scenario. The requests come from a data file written by
-- bench/prepare.py (path in BENCH_DATA): a Lua table
--   { nonce = bool, requests = { {method, path, token or false, body or false}, ... } }
-- Thread i sends requests i, i+T, i+2T, ... (T threads), so a write that must not repeat
-- (a new enrolment) is sent once in all. Every request looks as if a TLS proxy forwarded it
-- (X-Forwarded-Proto, and X-Forwarded-For with a random client address, so the per-IP
-- throttles see many clients as they would in production). done() prints one JSON line.

local data = dofile(os.getenv("BENCH_DATA"))
local requests = data.requests
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  index = id
  sent = 0
  non2xx = 0
  server_errors = 0
  created = 0
  wrapped = 0
  math.randomseed(os.time() + id * 7919)
end

function request()
  local entry = requests[(index % #requests) + 1]
  if index >= #requests then
    wrapped = 1
  end
  index = index + thread_count
  sent = sent + 1
  local headers = {
    ["X-Forwarded-Proto"] = "https",
    ["X-Forwarded-For"] = string.format(
      "10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254)
    ),
  }
  if entry[3] then
    headers["Authorization"] = "Bearer " .. entry[3]
  end
  local body = nil
  if entry[4] then
    body = entry[4]
    headers["Content-Type"] = "application/json"
  end
  local path = entry[2]
  if data.nonce then
    local separator = "?"
    if string.find(path, "?", 1, true) then
      separator = "&"
    end
    path = path .. separator .. "nonce=" .. id .. "-" .. sent
  end
  return wrk.format(entry[1], path, headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if status >= 500 then
    server_errors = server_errors + 1
  end
  if status == 201 then
    created = created + 1
  end
end

function done(summary, latency, requests_stats)
  local totals = { non2xx = 0, server_errors = 0, created = 0, wrapped = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + (thread:get(key) or 0)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "non2xx": %d, "server_errors": %d, "created": %d, '
      .. '"wrapped": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    totals.non2xx, totals.server_errors, totals.created, totals.wrapped,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
