-- wrk script: one path, over and over, anonymously, optionally with Accept-Encoding.
--   wrk ... -s bench/status/get.lua http://127.0.0.1:PORT -- PATH [ENCODING]
-- Prints the RESULT line of bench/load/report.lua.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "../load/report.lua")

function init(args)
   wrk.path = assert(args[1], "usage: -- PATH [ENCODING]")
   if args[2] and args[2] ~= "identity" then
      wrk.headers["Accept-Encoding"] = args[2]
   end
end
