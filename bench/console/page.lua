-- wrk script: one page, over and over, with a session cookie.
--   wrk ... -s bench/console/page.lua http://127.0.0.1:PORT -- COOKIE PATH
-- Prints the RESULT line of bench/load/report.lua.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "../load/report.lua")

function init(args)
   wrk.headers["Cookie"] = assert(args[1], "usage: -- COOKIE PATH")
   wrk.path = assert(args[2], "usage: -- COOKIE PATH")
end
