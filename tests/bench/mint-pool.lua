-- wrk script: mints tokens through POST /api/dev/token as fast as the server answers, writing
-- each access_token, one a line, to "$WRK_TOKEN_FILE.<thread id>". Used to fill the token pool of
-- refresh-pool.lua (a node or curl loop is ~15x slower than the server). Bounded by wrk's -d.

local thread_count = 0

function setup(thread)
  thread:set("id", thread_count) -- becomes the global `id` in that thread's Lua state
  thread_count = thread_count + 1
end

wrk.method = "POST"
wrk.body = '{"user_id":"bench-refresher","ttl_secs":14400}'
wrk.headers["Content-Type"] = "application/json"

function init(args)
  out = assert(io.open(os.getenv("WRK_TOKEN_FILE") .. "." .. id, "w"))
  out:setvbuf("line") -- wrk never closes a thread's Lua state: write through at once
end

function response(status, headers, body)
  local token = status == 200 and body:match('"access_token":"([^"]+)"')
  if token then out:write(token, "\n") end
end
