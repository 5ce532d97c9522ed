-- wrk script: POST the bytes of $BENCH_BODY_FILE as JSON with X-Jimu-Key: $BENCH_KEY.
-- Counts the requests sent, every response that is not a 200, and every 200 whose body holds "errors",
-- prints one machine-readable line (BENCH {...}) and exits 1 when any was seen.

local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_KEY")
if key ~= nil and key ~= "" then
  wrk.headers["X-Jimu-Key"] = key
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

non200 = 0
graphql_errors = 0
last_bad = ""
sent = 0

-- Counting what is sent (so the requests cut off when the run ends are known) makes
-- wrk build each request through Lua; the request is the same prebuilt one.
local prebuilt = nil
function request()
  sent = sent + 1
  if prebuilt == nil then
    prebuilt = wrk.format()
  end
  return prebuilt
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    last_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200)
  elseif body ~= nil and string.find(body, '"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
    last_bad = string.sub(body, 1, 200)
  end
end

function done(summary, latency, requests)
  -- wrk calls request() once on thread 1 before the run, to check the request parses
  local bad, errs, sample, issued = 0, 0, "", -1
  for _, t in ipairs(threads) do
    issued = issued + t:get("sent")
    bad = bad + t:get("non200")
    errs = errs + t:get("graphql_errors")
    local s = t:get("last_bad")
    if s ~= nil and s ~= "" then sample = s end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"sent":%d,"duration_us":%d,"bytes":%d,"non200":%d,"graphql_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, issued, summary.duration, summary.bytes, bad, errs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout))
  if bad > 0 or errs > 0 then
    io.write(string.format("BENCH FAILED: %d non-200 responses, %d with errors; last: %s\n", bad, errs, sample))
    io.flush()
    os.exit(1)
  end
  io.flush()
end
