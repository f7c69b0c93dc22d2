-- wrk script: creates tickets, POST /api/v1/tickets.
--   wrk ... -s bench/load/create.lua http://127.0.0.1:PORT -- TOKEN [ORG]
-- Severities alternate P3/P4 (neither pages anyone). The two request strings are built once
-- per thread in init(), so wrk spends no Lua time formatting requests during the run.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local requests = {}
local n = 0

function init(args)
   local token = assert(args[1], "usage: -- TOKEN [ORG]")
   local org = args[2] or "acme"
   wrk.headers["Authorization"] = "Bearer " .. token
   wrk.headers["Content-Type"] = "application/json"
   for _, severity in ipairs({ "P3", "P4" }) do
      local body = string.format(
         '{"org":"%s","severity":"%s","subject":"load test","description":"Created by bench/load.sh to measure ticket creation throughput."}',
         org, severity)
      table.insert(requests, wrk.format("POST", "/api/v1/tickets", nil, body))
   end
end

function request()
   n = n + 1
   return requests[n % #requests + 1]
end
