-- wrk script: PagerDuty Events API v2 triggers, POST /v2/enqueue.
--   wrk ... -s bench/events/enqueue.lua http://127.0.0.1:PORT -- KEYS_FILE DEDUPS
-- KEYS_FILE holds one routing key per line; each key sends triggers for DEDUPS deduplication
-- keys in turn, so after the first round every event repeats an open alert (dedup). The
-- request strings are built once per thread in init().

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "../load/report.lua")

local requests = {}
local n = 0

function init(args)
   local keys_file = assert(args[1], "usage: -- KEYS_FILE DEDUPS")
   local dedups = tonumber(args[2] or "8")
   wrk.headers["Content-Type"] = "application/json"
   for key in io.lines(keys_file) do
      for d = 1, dedups do
         local body = string.format(
            '{"routing_key":"%s","event_action":"trigger","dedup_key":"bench/%d",' ..
            '"payload":{"summary":"bench alert %d","source":"bench-host-%d","severity":"warning",' ..
            '"custom_details":{"value":%d}}}', key, d, d, d, d)
         table.insert(requests, wrk.format("POST", "/v2/enqueue", nil, body))
      end
   end
   -- Each thread starts at its own place in the list.
   n = math.random(#requests)
end

function request()
   n = n + 1
   return requests[n % #requests + 1]
end

function response(status, headers, body)
   if status ~= 202 then
      io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
   end
end
