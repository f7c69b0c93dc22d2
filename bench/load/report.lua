-- Shared by create.lua and read.lua: wrk calls done() once, in its main Lua state, after the
-- run. It prints one machine-readable line that bench/load.sh parses for its summary table:
--   RESULT requests=N duration_us=N rps=X p50_us=N p99_us=N non2xx=N connect=N read=N write=N timeout=N
-- `non2xx` is wrk's own count of bad statuses (the same number wrk prints as
-- "Non-2xx or 3xx responses"); latencies come from wrk's latency histogram (as --latency).

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99),
      e.status, e.connect, e.read, e.write, e.timeout))
end
