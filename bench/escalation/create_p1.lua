-- wrk script: opens a fixed number of P1 tickets, POST /api/v1/tickets, then stops.
--   wrk -t T -c C -d LIMIT -s bench/escalation/create_p1.lua http://127.0.0.1:PORT -- TOKEN ORG TOTAL T [DONE_DIR [RPS C]]
-- TOTAL is split between the T threads (T repeats wrk's -t: a script cannot see it). Each
-- thread stops itself once its share has been answered 201 and, when DONE_DIR is given, then
-- creates the empty file DONE_DIR/done.N (N = its number): wrk's main thread waits out the
-- whole -d LIMIT before it reports, so the caller interrupts wrk once every thread is done.
-- A request still in flight on another connection of a stopping thread may land too, so the
-- server can hold slightly more than TOTAL tickets (bench/escalation_lag.sh counts them on the
-- server). Any other status is an error (wrk's non-2xx count) and does not count towards the
-- share. With RPS > 0 (C repeating wrk's -c) every connection waits C*1000/RPS ms before each
-- request, so that the tickets are opened at about RPS per second (0: as fast as possible).
-- The request is formatted once per thread in init(): no Lua string work per request.
-- done() prints one machine-readable line:
--   RESULT requests=N duration_us=N rps=X p50_us=N p99_us=N non2xx=N connect=N read=N write=N timeout=N

local request_string
local quota = 0
local done_dir
local pause_ms = 0
local created = 0
local threads_seen = 0

-- Runs in the main Lua state once per thread, before init(): numbers the threads.
function setup(thread)
   thread:set("thread_no", threads_seen)
   threads_seen = threads_seen + 1
end

function init(args)
   local token = assert(args[1], "usage: -- TOKEN ORG TOTAL THREADS [DONE_DIR [RPS CONNECTIONS]]")
   local org = assert(args[2], "usage: -- TOKEN ORG TOTAL THREADS [DONE_DIR [RPS CONNECTIONS]]")
   local total = assert(tonumber(args[3]), "usage: -- TOKEN ORG TOTAL THREADS [DONE_DIR [RPS CONNECTIONS]]")
   local threads = assert(tonumber(args[4]), "usage: -- TOKEN ORG TOTAL THREADS [DONE_DIR [RPS CONNECTIONS]]")
   done_dir = args[5] ~= "" and args[5] or nil
   local rps = tonumber(args[6] or "0") or 0
   if rps > 0 then
      pause_ms = math.floor((tonumber(args[7] or "1") or 1) * 1000 / rps)
   end
   quota = math.floor(total / threads)
   if (thread_no or 0) < total % threads then
      quota = quota + 1
   end
   wrk.headers["Authorization"] = "Bearer " .. token
   wrk.headers["Content-Type"] = "application/json"
   local body = string.format(
      '{"org":"%s","severity":"P1","subject":"escalation lag bench","description":"Opened by bench/escalation_lag.sh; left unacknowledged so that every escalation step fires."}',
      org)
   request_string = wrk.format("POST", "/api/v1/tickets", nil, body)
end

function request()
   return request_string
end

function delay()
   return pause_ms
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
      if created == quota then
         if done_dir then
            local f = assert(io.open(done_dir .. "/done." .. (thread_no or 0), "w"))
            f:close()
         end
         wrk.thread:stop()
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99),
      e.status, e.connect, e.read, e.write, e.timeout))
end
