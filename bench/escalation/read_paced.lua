-- wrk script: reads tickets one by one, GET /api/v1/tickets/{id}, round-robin over the ids in
-- IDS_FILE (one per line), optionally paced to a total rate.
--   wrk -t T -c C ... -s bench/escalation/read_paced.lua http://127.0.0.1:PORT -- TOKEN IDS_FILE [RPS C]
-- With RPS > 0 (and C repeating wrk's -c: a script cannot see it) every connection waits
-- C*1000/RPS ms before each request, so the whole load stays near RPS requests/s however fast
-- the server answers; without it the connections read as fast as they can. Threads start at
-- different offsets so that they do not read in lock-step; requests are formatted in init().
-- done() prints one machine-readable line:
--   RESULT requests=N duration_us=N rps=X p50_us=N p99_us=N non2xx=N connect=N read=N write=N timeout=N

local requests = {}
local n = 0
local pause_ms = 0
local threads_seen = 0

function setup(thread)
   thread:set("thread_no", threads_seen)
   threads_seen = threads_seen + 1
end

function init(args)
   local token = assert(args[1], "usage: -- TOKEN IDS_FILE [RPS CONNECTIONS]")
   local path = assert(args[2], "usage: -- TOKEN IDS_FILE [RPS CONNECTIONS]")
   local rps = tonumber(args[3] or "0") or 0
   local connections = tonumber(args[4] or "1") or 1
   if rps > 0 then
      pause_ms = math.floor(connections * 1000 / rps)
   end
   wrk.headers["Authorization"] = "Bearer " .. token
   for id in io.lines(path) do
      if id ~= "" then
         table.insert(requests, wrk.format("GET", "/api/v1/tickets/" .. id))
      end
   end
   assert(#requests > 0, "no ticket ids in " .. path)
   n = ((thread_no or 0) * 997) % #requests
end

function request()
   n = n + 1
   return requests[n % #requests + 1]
end

function delay()
   return pause_ms
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99),
      e.status, e.connect, e.read, e.write, e.timeout))
end
