-- wrk script: POST /api/video/auth/refresh-token, each request with the next unused token of a
-- pool, so every request takes the "mint a new successor" path (verify + sign + record rotation).
--
-- The pool file (one token a line) is given with WRK_TOKEN_FILE. wrk runs one Lua state per
-- thread: thread k of n takes the tokens k, k+n, k+2n, ... so no two threads share a token.
-- If a thread runs out it starts over (those requests then take the "repeat" path); done()
-- prints how many requests had a fresh token, so the bench can tell whether the pool sufficed.

local thread_count = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_count) -- becomes the global `id` in that thread's Lua state
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(os.getenv("WRK_TOKEN_FILE"), "r"))
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  pool = {}
  local i = 0
  for line in file:lines() do
    if line ~= "" then
      if i % nthreads == id then table.insert(pool, line) end
      i = i + 1
    end
  end
  file:close()
  cursor = 0
  fresh = 0
  wrapped = 0
end

function request()
  cursor = cursor + 1
  if cursor > #pool then
    cursor = 1
    wrapped = wrapped + 1
  end
  if wrapped == 0 then fresh = fresh + 1 end
  return wrk.format("POST", nil, { ["Authorization"] = "Bearer " .. pool[cursor] }, "")
end

function done(summary, latency, requests)
  local fresh_total = 0
  for _, t in ipairs(threads) do
    fresh_total = fresh_total + (t:get("fresh") or 0)
  end
  -- fresh counts requests sent; a few still in flight at the end are not in summary.requests
  io.write(string.format("POOL fresh_requests=%d total_requests=%d\n",
    math.min(fresh_total, summary.requests), summary.requests))
end
