-- wrk script for bench/run: replays a list of requests in turn, and prints
-- one machine-readable summary line when wrk is done.
--
--   wrk -t1 -c16 -d6s -s bench/wrk/requests.lua http://127.0.0.1:PORT -- FILE
--
-- FILE has one request per line, fields separated by tabs:
--   METHOD <tab> PATH <tab> BODY (or "-" for none) [<tab> Name: value]...
-- bench/bench.py writes these files (rotating users, bodies and sessions).
-- Every request is formatted once, in init(), so request() costs wrk only a
-- table lookup.

local requests = {}
local count = 0
local next_index = 0

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk ... -s requests.lua URL -- REQUEST_FILE")
  end
  for line in io.lines(file) do
    if line ~= "" then
      local fields = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do
        fields[#fields + 1] = field
      end
      local headers = {}
      for k = 4, #fields do
        local name, value = fields[k]:match("^([^:]+):%s*(.*)$")
        if name ~= nil then
          headers[name] = value
        end
      end
      local body = nil
      if fields[3] ~= "-" then
        body = fields[3]
      end
      count = count + 1
      requests[count] = wrk.format(fields[1], fields[2], headers, body)
    end
  end
  if count == 0 then
    error("no requests in " .. file)
  end
end

function request()
  next_index = next_index % count + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d "
      .. "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
