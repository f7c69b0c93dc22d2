-- wrk script: reads tickets one by one, GET /api/v1/tickets/{id}, round-robin over a fixed
-- set of ids (one per line in IDS_FILE).
--   wrk ... -s bench/load/read.lua http://127.0.0.1:PORT -- TOKEN IDS_FILE
-- Each thread starts at a different offset so the threads do not read in lock-step. The
-- requests are pre-formatted in init(), so the run itself does no Lua string work.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local requests = {}
local n = 0
local threads_seen = 0

-- Runs in the main Lua state once per thread before the run: gives each thread a number.
function setup(thread)
   thread:set("thread_no", threads_seen)
   threads_seen = threads_seen + 1
end

function init(args)
   local token = assert(args[1], "usage: -- TOKEN IDS_FILE")
   local path = assert(args[2], "usage: -- TOKEN IDS_FILE")
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
